package simulator

import (
	"math"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
)

// crrIon is the ion topology with cross-region replication instead of the
// sync job.
func crrIon() *platform.Topology {
	t := platform.Ion()
	t.Services[2].Replication = platform.ReplicationCRR
	t.Services[2].SyncInterval = 0
	return t
}

var _ = Describe("S3 cross-region replication (issue 9.7)", func() {
	It("draws each object's lag with the documented median and a tail to S3 RTC's 15 minutes at the 99.99th percentile", func() {
		s, _ := newTestSim(crrIon(), 1, nil)
		m := s.byService["artifacts"].(*s3Model)
		var lags []float64
		for range 200_000 {
			lags = append(lags, m.drawLag().Seconds())
		}
		slices.Sort(lags)
		quantile := func(q float64) float64 { return lags[int(q*float64(len(lags)))] }
		Expect(quantile(0.5)).To(BeNumerically("~", esParam(s, "s3.crr_lag_median").Seconds(), 0.25))
		Expect(quantile(0.9999)).To(BeNumerically("~", esParam(s, "s3.crr_lag_p9999").Seconds(), 0.3*esParam(s, "s3.crr_lag_p9999").Seconds()))
		Expect(lags[0]).To(BeNumerically(">", 0))
	})

	regionLoss := func(seed uint64) (*Sim, *recorder, []uint64, time.Duration) {
		s, rec := newTestSim(crrIon(), seed, nil)
		w := drive(s, "artifacts", esArtifactOps, 20*time.Millisecond, 15*time.Minute)
		fault := 12 * time.Minute
		Expect(s.Run(esCtx, fault)).To(Succeed())
		for _, n := range (platform.Selector{Kind: platform.SelectRegion, Value: "us-east-1"}).Static(s.topo) {
			Expect(s.Faults().Kill(esCtx, n)).To(Succeed())
		}
		done := &esActions{}
		Expect(s.StartAction(esCtx, platform.Action{Name: "failover", Action: platform.ActionArtifactsFailover, Params: map[string]string{"region": "us-west-1"}}, done)).To(Succeed())
		Expect(s.Run(esCtx, 16*time.Minute)).To(Succeed())
		return s, rec, esOps(esArtifactOps, w), fault
	}

	It("loses on a region loss exactly the objects still pending replication", func() {
		s, rec, ops, fault := regionLoss(1)
		m := s.byService["artifacts"].(*s3Model)
		west := m.endpoint("us-west-1")
		pending := map[uint64]bool{}
		for _, it := range append(slices.Clone(west.crr), west.crrBlocked...) {
			if it.snap == nil {
				pending[it.op] = true
			}
		}
		lost := esLostAcked(s, rec, "artifacts", ops)
		Expect(lost).NotTo(BeEmpty())
		for _, id := range lost {
			Expect(pending[id]).To(BeTrue(), "object %d lost but not pending", id)
			Expect(rec.completed[id]).To(BeNumerically("<=", fault))
		}
		// Every object the east stored and that is pending was
		// acknowledged: nothing pending is missing from the count.
		stored := map[uint64]bool{}
		for _, id := range m.primary.objects {
			stored[id] = true
		}
		for id := range pending {
			Expect(stored[id]).To(BeTrue())
		}
		Expect(len(lost)).To(Equal(len(pending)))
		// About the writes of one mean lag: rate x median x exp(sigma^2/2).
		sigma := math.Log(float64(esParam(s, "s3.crr_lag_p9999"))/float64(esParam(s, "s3.crr_lag_median"))) / z9999
		expected := 50 * esParam(s, "s3.crr_lag_median").Seconds() * math.Exp(sigma*sigma/2)
		Expect(float64(len(lost))).To(BeNumerically("~", expected, expected/2))
	})

	It("loses a different number of objects on each seed", func() {
		counts := map[int]bool{}
		for seed := uint64(1); seed <= 5; seed++ {
			s, rec, ops, _ := regionLoss(seed)
			counts[len(esLostAcked(s, rec, "artifacts", ops))] = true
		}
		Expect(len(counts)).To(BeNumerically(">=", 3))
	})

	It("holds objects while the destination is down and copies them when it returns: nothing lost", func() {
		s, rec := newTestSim(crrIon(), 2, nil)
		w := drive(s, "artifacts", esArtifactOps, 20*time.Millisecond, 10*time.Minute)
		Expect(s.Run(esCtx, 2*time.Minute)).To(Succeed())
		Expect(s.Faults().Kill(esCtx, "s3-us-west-1")).To(Succeed())
		Expect(s.Run(esCtx, 6*time.Minute)).To(Succeed())
		Expect(s.Faults().Start(esCtx, "s3-us-west-1")).To(Succeed())
		// Past the end of the tail: everything has had its lag.
		Expect(s.Run(esCtx, 10*time.Minute+2*esParam(s, "s3.crr_lag_p9999"))).To(Succeed())
		m := s.byService["artifacts"].(*s3Model)
		west := m.endpoint("us-west-1")
		have := map[uint64]bool{}
		for _, id := range west.replicated {
			have[id] = true
		}
		onTheWay := map[uint64]bool{}
		for _, it := range west.crr {
			onTheWay[it.op] = true
		}
		late := 0
		for _, id := range esOps(esArtifactOps, w) {
			if rec.outcomes[id] == platform.Acked && !have[id] {
				// Only a lag far in the tail leaves an object still on
				// its way: none was dropped.
				Expect(onTheWay[id]).To(BeTrue(), "object %d neither replicated nor pending", id)
				late++
			}
		}
		Expect(late).To(BeNumerically("<=", 5), "lags beyond twice the 99.99th percentile are rare")
		Expect(west.crrBlocked).To(BeEmpty())
	})

	It("replicates the Elasticsearch snapshots too, in order, so a west restore finds them", func() {
		s, rec := newTestSim(crrIon(), 3, nil)
		drive(s, "logs", 0, 10*time.Millisecond, 12*time.Minute)
		Expect(s.Run(esCtx, 12*time.Minute)).To(Succeed())
		west := s.byService["artifacts"].(*s3Model).endpoint("us-west-1")
		Expect(west.crrSnaps).NotTo(BeEmpty())
		for i := 1; i < len(west.crrSnaps); i++ {
			Expect(west.crrSnaps[i].takenAt).To(BeNumerically(">", west.crrSnaps[i-1].takenAt))
		}
		Expect(rec.eventsOf(platform.EventSyncCompleted)).To(BeEmpty(), "no sync job runs with replication: crr")
		snap, ok := esOf(s).s3.latestSnapshot("us-west-1")
		Expect(ok).To(BeTrue())
		Expect(snap).NotTo(BeNil())
	})
})
