package simulator

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
)

// seenAt records when a watch reported its state.
type seenAt struct {
	at   *time.Duration
	seen string
}

func (s *seenAt) done(at time.Duration, seen string) { s.at, s.seen = &at, seen }

// watchFor arms a watch on s and returns what it will record.
func watchFor(s *Sim, state platform.DoneState) *seenAt {
	GinkgoHelper()
	got := &seenAt{}
	_, err := s.WatchDone(state, got.done)
	Expect(err).NotTo(HaveOccurred())
	return got
}

var _ = Describe("a rehearsal's watches of the artifact and role done states", func() {
	It("watches every done state a runbook action's guide names", func() {
		s, _ := newTestSim(nil, 1, nil)
		for _, info := range platform.ActionCatalog() {
			g, ok := platform.Guide(info.Name)
			Expect(ok).To(BeTrue(), info.Name)
			// Parameters that name what the ion topology has.
			params := map[string]string{"promote": "mongo-west-1a", "name": "mongo-east-1b", "member": "mongo-east-1b",
				"write_concern": "majority", "region": "us-west-1", "key": "elasticsearch", "version": "1", "role": "elasticsearch"}
			_, err := s.WatchDone(g.Done(platform.Action{Action: info.Name, Params: params}), func(time.Duration, string) {})
			Expect(err).NotTo(HaveOccurred(), "%s: the simulator cannot watch its done state", info.Name)
		}
	})

	It("sees a publication in its bucket when the action ends, and in the other region's when a sync pass carries it", func() {
		s, rec := newTestSim(nil, 3, nil)
		Expect(s.Run(esCtx, 90*time.Second)).To(Succeed())
		east := watchFor(s, platform.DoneState{What: platform.DoneArtifactIn, Key: "elasticsearch", Value: "2"})
		west := watchFor(s, platform.DoneState{What: platform.DoneArtifactIn, Region: "us-west-1", Key: "elasticsearch", Value: "2"})
		Expect(s.Run(esCtx, 100*time.Second)).To(Succeed())
		Expect(east.at).To(BeNil(), "nothing is published yet")
		done := &esActions{}
		Expect(s.StartAction(esCtx, platform.Action{Name: "publish", Action: platform.ActionArtifactsPublish,
			Params: map[string]string{"key": "elasticsearch", "version": "2"}}, done)).To(Succeed())
		Expect(s.Run(esCtx, 5*time.Minute)).To(Succeed())
		Expect(done.errs).To(Equal([]error{nil}))
		Expect(east.at).To(HaveValue(Equal(done.at[0])))
		Expect(east.seen).To(Equal("the us-east-1 bucket holds elasticsearch@2"))
		Expect(west.at).NotTo(BeNil())
		Expect(*west.at).To(BeNumerically(">", done.at[0]), "the sync carries it later")
		var passes []time.Duration
		for _, e := range rec.eventsOf(platform.EventSyncCompleted) {
			if e.Detail == "us-west-1" {
				passes = append(passes, e.At)
			}
		}
		Expect(passes).To(ContainElement(*west.at), "seen at the end of the pass that copied it")
	})

	It("sees a key deleted, and a role rebuilt in a region exactly when the rebuild ends", func() {
		s, _ := newTestSim(nil, 5, nil)
		Expect(s.Run(esCtx, time.Minute)).To(Succeed())
		gone := watchFor(s, platform.DoneState{What: platform.DoneArtifactGone, Region: "us-west-1", Key: "ion-console"})
		built := watchFor(s, platform.DoneState{What: platform.DoneRoleBuilt, Role: "elasticsearch", Region: "us-west-1"})
		elsewhere := watchFor(s, platform.DoneState{What: platform.DoneRoleBuilt, Role: "console", Region: "us-west-1"})
		done := &esActions{}
		Expect(s.StartAction(esCtx, platform.Action{Name: "delete", Action: platform.ActionArtifactsDelete,
			Params: map[string]string{"key": "ion-console", "region": "us-west-1"}}, done)).To(Succeed())
		Expect(s.StartAction(esCtx, platform.Action{Name: "rebuild", Action: platform.ActionRolesRebuild,
			Params: map[string]string{"role": "elasticsearch", "region": "us-west-1"}}, done)).To(Succeed())
		Expect(s.Run(esCtx, 10*time.Minute)).To(Succeed())
		Expect(done.names).To(Equal([]string{"delete", "rebuild"}))
		Expect(done.errs).To(Equal([]error{nil, nil}))
		Expect(gone.at).To(HaveValue(Equal(done.at[0])))
		Expect(built.at).To(HaveValue(Equal(done.at[1])))
		Expect(*built.at).To(BeNumerically(">=", time.Minute+esParam(s, "roles.converge_duration")), "after the recipe run")
		Expect(built.seen).To(Equal("role elasticsearch is built in us-west-1 (elasticsearch@1, chef-configuration@1)"))
		Expect(elsewhere.at).To(BeNil(), "another role was not rebuilt")
	})

	It("sees a rolling upgrade done when every node runs the new version and the cluster is green with all of them", func() {
		s, _ := newTestSim(nil, 7, nil)
		Expect(s.Run(esCtx, time.Minute)).To(Succeed())
		upgraded := watchFor(s, platform.DoneState{What: platform.DoneRoleUpgraded, Role: "elasticsearch", Key: "elasticsearch", Value: "2"})
		done := &esActions{}
		Expect(s.StartAction(esCtx, platform.Action{Name: "upgrade", Action: platform.ActionRolesUpgrade,
			Params: map[string]string{"role": "elasticsearch", "key": "elasticsearch", "version": "2"}}, done)).To(Succeed())
		Expect(s.Run(esCtx, 30*time.Minute)).To(Succeed())
		Expect(done.errs).To(Equal([]error{nil}))
		upgrades := s.Upgrades()
		Expect(upgrades).To(HaveLen(1))
		last := upgrades[0].NodesRestarted[len(upgrades[0].Nodes)-1]
		Expect(upgrades[0].NodesRestarted).To(HaveLen(4))
		// Not before the last node is back on the new version; at the
		// latest when the upgrade's own health poll finds it green.
		Expect(upgraded.at).NotTo(BeNil())
		Expect(*upgraded.at).To(BeNumerically(">=", *last.StartedAt))
		Expect(*upgraded.at).To(BeNumerically("<=", *last.HealthyAt))
		Expect(*last.HealthyAt - *upgraded.at).To(BeNumerically("<", esParam(s, "roles.health_poll_interval")))
		Expect(upgraded.seen).To(Equal("every node of elasticsearch runs elasticsearch@2 and logs is green with all 4"))
	})
})
