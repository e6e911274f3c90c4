package simulator

import (
	"fmt"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
)

// esSyncBound is the longest a sync pass can take carrying at most objects
// artifacts and snapshots of at most events new events.
func esSyncBound(s *Sim, objects, snapshots, events int) time.Duration {
	per := esParam(s, "s3.copy_per_object")
	conc := s.params.integer("s3.copy_concurrency")
	bytes := float64(events * s.params.integer("es.event_bytes"))
	return esParam(s, "s3.sync_base") + time.Duration((objects+snapshots+conc-1)/conc)*per +
		time.Duration(bytes/(s.params.float("s3.copy_bandwidth_mb")*1e6)*float64(time.Second))
}

var _ = Describe("regional S3 with the cross-region sync", func() {
	It("east-region-outage: restoring logs in west and failing artifacts over loses no more than the snapshot and sync intervals", func() {
		const logEvery, artifactEvery = 10 * time.Millisecond, 100 * time.Millisecond
		s, rec := newTestSim(nil, 11, nil)
		end := 20 * time.Minute
		logs := drive(s, "logs", 0, logEvery, end)
		artifacts := drive(s, "artifacts", esArtifactOps, artifactEvery, end)
		fault := 7*time.Minute + 30*time.Second
		Expect(s.Run(esCtx, fault)).To(Succeed())
		for _, n := range (platform.Selector{Kind: platform.SelectRegion, Value: "us-east-1"}).Static(s.topo) {
			Expect(s.Faults().Kill(esCtx, n)).To(Succeed())
		}
		operatorDelay := 5 * time.Minute
		Expect(s.Run(esCtx, fault+operatorDelay)).To(Succeed())
		done := &esActions{}
		west := map[string]string{"region": "us-west-1"}
		Expect(s.StartAction(esCtx, platform.Action{Name: "restore", Action: platform.ActionLogsRestoreSnapshot, Params: west}, done)).To(Succeed())
		Expect(s.StartAction(esCtx, platform.Action{Name: "failover", Action: platform.ActionArtifactsFailover, Params: west}, done)).To(Succeed())
		Expect(s.Run(esCtx, end)).To(Succeed())
		Expect(done.errs).To(Equal([]error{nil, nil}))

		spec, _ := s.topo.Service("logs")
		snapshotInterval := spec.SnapshotInterval.D()
		syncInterval := s.topo.Services[2].SyncInterval.D()
		eventsPerSnapshot := int(snapshotInterval / logEvery)
		snapshotTook := esParam(s, "es.snapshot_base") +
			time.Duration(float64(eventsPerSnapshot*s.params.integer("es.event_bytes"))/(s.params.float("es.snapshot_rate_mb")*1e6)*float64(time.Second))
		syncTook := esSyncBound(s, int(2*syncInterval/artifactEvery), 1, eventsPerSnapshot)

		// Logs: lost, and bounded by snapshot + sync intervals and durations.
		lostLogs := esLostAcked(s, rec, "logs", esOps(0, logs))
		Expect(lostLogs).NotTo(BeEmpty())
		rpo := time.Duration(0)
		for _, id := range lostLogs {
			rpo = max(rpo, fault-rec.completed[id])
		}
		Expect(rpo).To(BeNumerically("<=", snapshotInterval+syncInterval+snapshotTook+syncTook))
		restored, ok := esFirstEventAfter(rec, platform.EventRestoreCompleted, fault)
		Expect(ok).To(BeTrue())
		// The primaries came from the snapshot; the replicas are then
		// recovered from them, at worst all through one node's budget.
		green, ok := esFirstEventAfter(rec, platform.EventHealthGreen, restored.At)
		Expect(ok).To(BeTrue())
		Expect(green.At).To(BeNumerically(">", restored.At))
		restoredEvents := 0
		for _, sh := range esOf(s).cluster.shards {
			restoredEvents += sh.log.len()
		}
		Expect(green.At - restored.At).To(BeNumerically("<=", esOf(s).recoveryTime(restoredEvents)+slack(s)))
		// New events are acknowledged by the west cluster.
		Expect(esLongestAckGap(rec, esOps(0, logs), restored.At+time.Second, end-time.Second)).To(BeNumerically("<", time.Second))

		// Artifacts: everything acked before the start of the last sync
		// pass that completed before the fault is in west.
		var lastSync time.Duration
		for _, e := range rec.eventsOf(platform.EventSyncCompleted) {
			if e.At <= fault && e.Detail == "us-west-1" {
				lastSync = e.At
			}
		}
		Expect(lastSync).To(BeNumerically(">", 0))
		lostArtifacts := esLostAcked(s, rec, "artifacts", esOps(esArtifactOps, artifacts))
		Expect(lostArtifacts).NotTo(BeEmpty())
		for _, id := range lostArtifacts {
			Expect(rec.completed[id]).To(BeNumerically(">", lastSync-syncTook), "artifact %d acked before the last sync is missing in west", id)
			Expect(fault - rec.completed[id]).To(BeNumerically("<=", syncInterval+syncTook))
		}
		_, ok = esFirstEventAfter(rec, platform.EventEndpointFailedOver, fault)
		Expect(ok).To(BeTrue())
		Expect(esLongestAckGap(rec, esOps(esArtifactOps, artifacts), done.at[1]+time.Second, end-time.Second)).To(BeNumerically("<", time.Second))
	})

	It("fails PUTs to a killed endpoint and times out PUTs to a paused one", func() {
		s, rec := newTestSim(nil, 12, nil)
		a := drive(s, "artifacts", esArtifactOps, 100*time.Millisecond, 2*time.Minute)
		Expect(s.Run(esCtx, 30*time.Second)).To(Succeed())
		Expect(s.Faults().Pause(esCtx, "s3-us-east-1")).To(Succeed())
		Expect(s.Run(esCtx, time.Minute)).To(Succeed())
		Expect(s.Faults().Resume(esCtx, "s3-us-east-1")).To(Succeed())
		Expect(s.Faults().Kill(esCtx, "s3-us-east-1")).To(Succeed())
		Expect(s.Run(esCtx, 2*time.Minute)).To(Succeed())
		counts := map[platform.Outcome]int{}
		for _, id := range esOps(esArtifactOps, a) {
			counts[rec.outcomes[id]]++
		}
		Expect(counts[platform.Unknown]).To(BeNumerically(">", 0))
		Expect(counts[platform.Failed]).To(BeNumerically(">", 0))
		// Every acknowledged PUT was stored, though the endpoint that
		// holds them is down, so the clients cannot read them back.
		stored := map[uint64]bool{}
		for _, id := range s.byService["artifacts"].(*s3Model).primary.objects {
			stored[id] = true
		}
		for _, id := range esOps(esArtifactOps, a) {
			if rec.outcomes[id] == platform.Acked {
				Expect(stored).To(HaveKey(id))
			}
		}
		client, err := s.Client("artifacts")
		Expect(err).NotTo(HaveOccurred())
		ops := esOps(esArtifactOps, a)
		Expect(client.ReadBack(esCtx, ops, make([]bool, len(ops)))).To(MatchError(ContainSubstring("s3-us-east-1 in us-east-1, does not answer")))
	})

	It("is deterministic: the same seed gives the same history, another seed other timings", func() {
		run := func(seed uint64) string {
			s, rec := newTestSim(nil, seed, nil)
			drive(s, "logs", 0, 10*time.Millisecond, 3*time.Minute)
			drive(s, "artifacts", esArtifactOps, 50*time.Millisecond, 3*time.Minute)
			Expect(s.Run(esCtx, time.Minute)).To(Succeed())
			Expect(s.Faults().Pause(esCtx, "es-east-1c")).To(Succeed())
			Expect(s.Run(esCtx, 4*time.Minute)).To(Succeed())
			out := fmt.Sprint(rec.events)
			for id := uint64(0); id < 18000; id++ {
				out += fmt.Sprint(rec.outcomes[id], rec.completed[id])
			}
			return out
		}
		a := run(21)
		Expect(run(21)).To(Equal(a))
		Expect(run(22)).NotTo(Equal(a))
	})
})

// nullSink takes completions and events without keeping them.
type nullSink struct{ completions, events int }

func (n *nullSink) Completed(uint64, platform.Outcome, time.Duration) { n.completions++ }
func (n *nullSink) Observed(platform.Event)                           { n.events++ }

// BenchmarkLogAndArtifactWrites drives steady log events (three in four
// writes) and artifact PUTs through the log tier, the cluster and S3.
func BenchmarkLogAndArtifactWrites(b *testing.B) {
	sink := &nullSink{}
	s, err := New(platform.Config{RunID: "bench", Topology: platform.Ion(), Seed: 1, Completions: sink, Events: sink})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(esCtx); err != nil {
		b.Fatal(err)
	}
	const tick = time.Microsecond
	logs := drive(s, "logs", 0, tick, time.Duration(b.N)*tick*3/4)
	artifacts := drive(s, "artifacts", esArtifactOps, 3*tick, time.Duration(b.N)*tick*3/4)
	b.ReportAllocs()
	b.ResetTimer()
	if err := s.Run(esCtx, time.Duration(b.N)*tick+time.Second); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	writes := float64(logs.next + artifacts.next - esArtifactOps)
	b.ReportMetric(writes/b.Elapsed().Seconds(), "writes/s")
	if sink.completions == 0 {
		b.Fatal("no write completed")
	}
}
