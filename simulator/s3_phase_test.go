package simulator

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
)

// snapshotTimes lists when the snapshots in the primary bucket were taken.
func snapshotTimes(s *Sim) []time.Duration {
	var out []time.Duration
	for _, sn := range esOf(s).s3.primary.snaps {
		out = append(out, sn.takenAt)
	}
	return out
}

// syncTimes lists when sync passes finished (sync-completed events).
func syncTimes(rec *recorder) []time.Duration {
	var out []time.Duration
	for _, e := range rec.eventsOf(platform.EventSyncCompleted) {
		out = append(out, e.At)
	}
	return out
}

var _ = Describe("the phase of the periodic snapshot and sync jobs (issue 9, real variance)", func() {
	run := func(seed uint64, topo *platform.Topology) (*Sim, *recorder) {
		s, rec := newTestSim(topo, seed, nil)
		drive(s, "logs", 0, 100*time.Millisecond, 12*time.Minute)
		Expect(s.Run(esCtx, 12*time.Minute)).To(Succeed())
		return s, rec
	}

	It("is drawn from the seed: a baseline at 0, then the schedule at a phase in [0, interval) that differs between seeds", func() {
		interval := platform.Ion().Services[1].SnapshotInterval.D()
		syncInterval := platform.Ion().Services[2].SyncInterval.D()
		snapPhases, syncPhases := map[time.Duration]bool{}, map[time.Duration]bool{}
		for seed := uint64(1); seed <= 20; seed++ {
			s, rec := run(seed, nil)
			times := snapshotTimes(s)
			Expect(times[0]).To(BeZero(), "the baseline")
			phase := times[1]
			if phase == interval {
				phase = 0 // a phase of 0 has no separate baseline
			}
			Expect(phase).To(BeNumerically("<", interval))
			for k, at := range times[1:] {
				Expect(at).To(Equal(times[1]+time.Duration(k)*interval), "seed %d", seed)
			}
			snapPhases[phase] = true
			syncs := syncTimes(rec)
			Expect(len(syncs)).To(BeNumerically(">=", 2))
			syncPhases[syncs[1]%syncInterval] = true
		}
		Expect(len(snapPhases)).To(BeNumerically(">=", 15))
		Expect(len(syncPhases)).To(BeNumerically(">=", 15))
	})

	It("is the phase the containers platform draws for the same seed (platform.JobPhase), so a twin run sees the same schedule", func() {
		topo := platform.Ion()
		interval := topo.Services[1].SnapshotInterval.D()
		for seed := uint64(1); seed <= 5; seed++ {
			s, _ := run(seed, nil)
			want := platform.JobPhase(seed, nil, interval, platform.SnapshotPhaseStream("logs"))
			if want == 0 {
				want = interval // a phase of 0 has no separate baseline
			}
			Expect(snapshotTimes(s)[1]).To(Equal(want), "seed %d", seed)
		}
	})

	It("is the same for the same seed", func() {
		a, ra := run(5, nil)
		b, rb := run(5, nil)
		Expect(snapshotTimes(a)).To(Equal(snapshotTimes(b)))
		Expect(syncTimes(ra)).To(Equal(syncTimes(rb)))
	})

	It("is pinned by snapshot_phase and sync_phase", func() {
		for seed := uint64(1); seed <= 3; seed++ {
			topo := platform.Ion()
			zero, thirty := platform.Duration(0), platform.Duration(30*time.Second)
			topo.Services[1].SnapshotPhase = &zero
			topo.Services[2].SyncPhase = &thirty
			s, rec := run(seed, topo)
			Expect(snapshotTimes(s)[:3]).To(Equal([]time.Duration{0, 5 * time.Minute, 10 * time.Minute}))
			syncs := syncTimes(rec)
			// The baseline pass at 0, then passes starting at 30s, 1m30s, ...
			Expect(syncs[0]).To(BeNumerically("<", 10*time.Second))
			for k, at := range syncs[1:4] {
				start := 30*time.Second + time.Duration(k)*time.Minute
				Expect(at).To(BeNumerically(">=", start))
				Expect(at).To(BeNumerically("<", start+10*time.Second))
			}
		}
	})
})
