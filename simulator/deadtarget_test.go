package simulator

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
)

// A runbook step aimed at something that is gone fails as it does on the
// live platform, and a read-back from something that cannot answer fails
// (its writes unverified) rather than reporting them lost or present.
// Each case mirrors what platform/containers does with real servers.
var _ = Describe("runbook steps and read-backs aimed at what is dead", func() {
	failover := func(region string) platform.Action {
		return platform.Action{Name: "failover", Action: platform.ActionArtifactsFailover, Params: map[string]string{"region": region}}
	}
	activeRegion := func(s *Sim) string { return s.byService["artifacts"].(*s3Model).active.region }

	It("fails artifacts.failover to a killed endpoint at once, naming it, and leaves the clients where they were", func() {
		s, rec := newTestSim(nil, 3, nil)
		w := drive(s, "artifacts", esArtifactOps, 100*time.Millisecond, 2*time.Minute)
		Expect(s.Run(esCtx, 30*time.Second)).To(Succeed())
		Expect(s.Faults().Kill(esCtx, "s3-us-west-1")).To(Succeed())
		Expect(s.Run(esCtx, time.Minute)).To(Succeed())
		done := &esActions{}
		Expect(s.StartAction(esCtx, failover("us-west-1"), done)).To(Succeed())
		Expect(s.Run(esCtx, 2*time.Minute)).To(Succeed())

		Expect(done.errs).To(HaveLen(1))
		Expect(done.errs[0]).To(MatchError(ContainSubstring("its endpoint s3-us-west-1 does not answer, so the clients stay on us-east-1")))
		Expect(done.at[0]).To(Equal(time.Minute), "a killed endpoint refuses the look at once")
		Expect(activeRegion(s)).To(Equal("us-east-1"))
		_, failedOver := esFirstEventAfter(rec, platform.EventEndpointFailedOver, 0)
		Expect(failedOver).To(BeFalse())
		// The clients still write to east, which answers: nothing lost.
		Expect(esLostAcked(s, rec, "artifacts", esOps(esArtifactOps, w))).To(BeEmpty())
	})

	It("gives a frozen target s3.failover_check_timeout to answer, and switches when it resumes within it", func() {
		run := func(resumeAfter time.Duration) (*esActions, *Sim) {
			s, _ := newTestSim(nil, 3, map[string]string{"s3.failover_check_timeout": "5s"})
			Expect(s.Faults().Pause(esCtx, "s3-us-west-1")).To(Succeed())
			Expect(s.Run(esCtx, 10*time.Second)).To(Succeed())
			done := &esActions{}
			Expect(s.StartAction(esCtx, failover("us-west-1"), done)).To(Succeed())
			Expect(s.Run(esCtx, 10*time.Second+resumeAfter)).To(Succeed())
			Expect(s.Faults().Resume(esCtx, "s3-us-west-1")).To(Succeed())
			Expect(s.Run(esCtx, time.Minute)).To(Succeed())
			return done, s
		}
		late, s := run(8 * time.Second)
		Expect(late.errs).To(HaveLen(1))
		Expect(late.errs[0]).To(MatchError(ContainSubstring("s3-us-west-1 does not answer")))
		Expect(late.at[0]).To(Equal(15 * time.Second))
		Expect(activeRegion(s)).To(Equal("us-east-1"))

		early, s := run(2 * time.Second)
		Expect(early.errs).To(Equal([]error{nil}))
		Expect(early.at[0]).To(Equal(12*time.Second), "the look is answered when the endpoint resumes")
		Expect(activeRegion(s)).To(Equal("us-west-1"))
	})

	It("fails the read-back of artifacts whose clients' endpoint is dead, naming it", func() {
		s, _ := newTestSim(nil, 3, nil)
		w := drive(s, "artifacts", esArtifactOps, 100*time.Millisecond, time.Minute)
		Expect(s.Run(esCtx, 30*time.Second)).To(Succeed())
		for _, n := range (platform.Selector{Kind: platform.SelectRegion, Value: "us-east-1"}).Static(s.topo) {
			Expect(s.Faults().Kill(esCtx, n)).To(Succeed())
		}
		done := &esActions{}
		Expect(s.StartAction(esCtx, failover("us-east-1"), done)).To(Succeed())
		Expect(s.Run(esCtx, time.Minute)).To(Succeed())
		Expect(done.errs[0]).To(MatchError(ContainSubstring("s3-us-east-1 does not answer")))
		client, err := s.Client("artifacts")
		Expect(err).NotTo(HaveOccurred())
		ops := esOps(esArtifactOps, w)
		Expect(client.ReadBack(esCtx, ops, make([]bool, len(ops)))).To(MatchError(And(
			ContainSubstring("s3-us-east-1 in us-east-1, does not answer"), ContainSubstring("fail over to a lost region"))))
	})

	It("refuses logs.restore-snapshot into a region whose snapshot bucket's endpoint is dead", func() {
		s, _ := newTestSim(nil, 3, nil)
		Expect(s.Run(esCtx, 6*time.Minute)).To(Succeed())
		Expect(s.Faults().Kill(esCtx, "s3-us-west-1")).To(Succeed())
		err := s.StartAction(esCtx, platform.Action{Name: "restore", Action: platform.ActionLogsRestoreSnapshot, Params: map[string]string{"region": "us-west-1"}}, &esActions{})
		Expect(err).To(MatchError(ContainSubstring("the s3 endpoint of us-west-1 does not answer")))
		Expect(s.AddedNodes()).To(BeEmpty(), "no cluster is built on a repository that cannot be read")
	})

	It("fails mongo.force-reconfigure promoting a member that is down", func() {
		s, _ := mongoSim(3, "majority", nil)
		mongoRunTo(s, 10*time.Second)
		for _, n := range []string{east1a, east1b, west1a} {
			mongoMust(s.Faults().Kill(mongoCtx, n))
		}
		actions := newMongoActions()
		mongoMust(s.StartAction(mongoCtx, platform.Action{Name: "promote", Action: platform.ActionMongoForceReconfigure, Params: map[string]string{"promote": west1a}}, actions))
		mongoRunTo(s, time.Minute)
		Expect(actions.errs).To(HaveKeyWithValue("promote", MatchError(ContainSubstring(`member "mongo-west-1a" is not running`))))
	})

	It("fails the read-back of a replica set left without a primary, listing its members, instead of reading a secondary", func() {
		s, rec := mongoSim(3, "majority", nil)
		drive(s, "mongo", 0, 10*time.Millisecond, 20*time.Second)
		mongoRunTo(s, 20*time.Second)
		mongoMust(s.Faults().Kill(mongoCtx, east1a))
		mongoMust(s.Faults().Kill(mongoCtx, east1b))
		mongoRunTo(s, time.Minute)
		ids := mongoAcked(rec)
		Expect(ids).NotTo(BeEmpty())
		client, err := s.Client("mongo")
		mongoMust(err)
		Expect(client.ReadBack(mongoCtx, ids, make([]bool, len(ids)))).To(MatchError(And(
			ContainSubstring("the replica set has no primary"),
			ContainSubstring(west1a+" SECONDARY"),
			ContainSubstring(east1a+" (not reachable/healthy)"),
		)))
	})

	It("fails roles.rebuild from a bucket whose endpoint is dead, naming the region", func() {
		s, _ := newTestSim(nil, 3, nil)
		Expect(s.Run(esCtx, 10*time.Second)).To(Succeed())
		Expect(s.Faults().Kill(esCtx, "s3-us-west-1")).To(Succeed())
		done := &esActions{}
		Expect(s.StartAction(esCtx, platform.Action{Name: "rebuild", Action: platform.ActionRolesRebuild, Params: map[string]string{"role": "console", "region": "us-west-1"}}, done)).To(Succeed())
		Expect(s.Run(esCtx, 5*time.Minute)).To(Succeed())
		Expect(done.errs).To(HaveLen(1))
		Expect(done.errs[0]).To(MatchError(ContainSubstring("the s3 endpoint of us-west-1 does not answer")))
	})
})
