package containers

import (
	"context"
	"net/http/httptest"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/platform/adapters/s3"
)

// The live artifact and rebuild steps against two in-process S3 endpoints
// (gofakes3), one per region, with the harness's own sync between them.
var _ = Describe("artifact keys and role rebuilds against in-process S3", func() {
	var (
		p          *Platform
		s          *s3Service
		east, west *s3.Client
	)
	BeforeEach(func(ctx SpecContext) {
		bucket := func(region string) *s3.Client {
			server := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
			DeferCleanup(server.Close)
			c, err := s3.New(ctx, "run1", s3.Options{Endpoint: server.URL, Region: region, Bucket: "artifacts", AccessKey: "test", SecretKey: "test", Timeout: 5 * time.Second})
			Expect(err).NotTo(HaveOccurred())
			Expect(c.EnsureBucket(ctx)).To(Succeed())
			return c
		}
		east, west = bucket("us-east-1"), bucket("us-west-1")
		topology := platform.Ion()
		spec, _ := topology.Service("artifacts")
		p = &Platform{cfg: platform.Config{Topology: topology, Parameters: map[string]string{ParamConvergeDuration: "0s"}, Events: &recorder{}}, loop: newWallLoop(),
			buckets: map[string]*s3Service{}}
		s = &s3Service{p: p, spec: spec, artifacts: map[string]*s3.Client{"us-east-1": east, "us-west-1": west}}
		p.buckets["artifacts"] = s
		Expect(s.putInitialArtifacts(ctx)).To(Succeed())
	})

	step := func(ctx context.Context, action string, params map[string]string) error {
		GinkgoHelper()
		run, err := p.roleAction(platform.Action{Name: "step", Action: action, Params: params})
		Expect(err).NotTo(HaveOccurred())
		return run(ctx)
	}

	It("rebuilds on what the region's bucket holds and reports the skew of a version published after the last sync", func(ctx SpecContext) {
		Expect(step(ctx, platform.ActionArtifactsPublish, map[string]string{"key": "chef-configuration", "version": "2"})).To(Succeed())
		_, err := s3.Sync(ctx, east, west, "")
		Expect(err).NotTo(HaveOccurred())
		Expect(step(ctx, platform.ActionArtifactsPublish, map[string]string{"key": "elasticsearch", "version": "2"})).To(Succeed())
		Expect(step(ctx, platform.ActionRolesRebuild, map[string]string{"role": "elasticsearch", "region": "us-west-1"})).To(Succeed())
		skews := p.VersionSkews()
		Expect(skews).To(HaveLen(1))
		Expect(skews[0].Role).To(Equal("elasticsearch"))
		Expect(skews[0].Key).To(Equal("elasticsearch"))
		Expect(skews[0].Region).To(Equal("us-west-1"))
		Expect(skews[0].Version).To(Equal("1"))
		Expect(skews[0].Newest).To(Equal("2"))
	})

	It("fails a rebuild naming the key missing from the region's bucket", func(ctx SpecContext) {
		Expect(step(ctx, platform.ActionArtifactsDelete, map[string]string{"key": "chef-configuration", "region": "us-west-1"})).To(Succeed())
		err := step(ctx, platform.ActionRolesRebuild, map[string]string{"role": "console", "region": "us-west-1"})
		Expect(err).To(MatchError(ContainSubstring(`key "chef-configuration" is not in the us-west-1 bucket`)))
		Expect(step(ctx, platform.ActionRolesRebuild, map[string]string{"role": "console", "region": "us-east-1"})).To(Succeed())
	})

	// watched runs the poller of an artifact done state until it reports
	// or the spec's context ends.
	watched := func(ctx context.Context, state platform.DoneState) <-chan string {
		GinkgoHelper()
		watch, err := s.watchArtifact(state)
		Expect(err).NotTo(HaveOccurred())
		seen := make(chan string, 1)
		watchCtx, stop := context.WithCancel(ctx)
		DeferCleanup(stop)
		go watch(watchCtx, func(_ time.Duration, what string) { seen <- what })
		return seen
	}

	It("sees a key put into a region's bucket by hand, by the sync, and one deleted by hand", func(ctx SpecContext) {
		inEast := watched(ctx, platform.DoneState{What: platform.DoneArtifactIn, Key: "elasticsearch", Value: "2"})
		inWest := watched(ctx, platform.DoneState{What: platform.DoneArtifactIn, Region: "us-west-1", Key: "elasticsearch", Value: "2"})
		goneWest := watched(ctx, platform.DoneState{What: platform.DoneArtifactGone, Region: "us-west-1", Key: "ion-console"})
		Consistently(inEast, 3*watchPoll).ShouldNot(Receive(), "version 1 is not version 2")
		Expect(goneWest).NotTo(Receive())

		// The engineer's own PUT into the primary's bucket (the AWS CLI's
		// put-object, here through the same S3 API).
		Expect(east.PutArtifact(ctx, "elasticsearch", "2")).To(Succeed())
		Eventually(inEast, 10*time.Second).Should(Receive(Equal("the us-east-1 bucket holds elasticsearch@2")))
		Consistently(inWest, 3*watchPoll).ShouldNot(Receive(), "not synced yet")
		_, err := s3.Sync(ctx, east, west, "")
		Expect(err).NotTo(HaveOccurred())
		Eventually(inWest, 10*time.Second).Should(Receive(Equal("the us-west-1 bucket holds elasticsearch@2")))

		Expect(west.DeleteArtifact(ctx, "ion-console")).To(Succeed())
		Eventually(goneWest, 10*time.Second).Should(Receive(Equal("the us-west-1 bucket holds no ion-console")))
	}, SpecTimeout(time.Minute))

	It("says why it cannot watch a role rebuilt or upgraded, and so leaves the step to the end of the typed action", func() {
		p.background = context.Background()
		for _, state := range []platform.DoneState{
			{What: platform.DoneRoleBuilt, Role: "console", Region: "us-west-1"},
			{What: platform.DoneRoleUpgraded, Role: "elasticsearch", Key: "elasticsearch", Value: "2"},
		} {
			_, err := p.WatchDone(state, func(time.Duration, string) { Fail("no watch was armed") })
			Expect(err).To(MatchError(ContainSubstring("the containers platform")), state.What)
		}
		_, err := p.WatchDone(platform.DoneState{What: platform.DoneArtifactIn, Key: "no-such-key", Value: "2"}, func(time.Duration, string) {})
		Expect(err).To(MatchError(ContainSubstring(`no artifact key "no-such-key"`)))
	})

	It("refuses an upgrade of a role whose service the run did not start", func() {
		_, err := p.roleAction(platform.Action{Name: "u", Action: platform.ActionRolesUpgrade, Params: map[string]string{"role": "elasticsearch", "key": "elasticsearch", "version": "2"}})
		Expect(err).To(MatchError(ContainSubstring("not one")))
	})
})
