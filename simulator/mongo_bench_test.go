package simulator

import (
	"testing"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

// mongoBenchSink counts completions without storing them, so the benchmark
// measures the simulator rather than a test recorder.
type mongoBenchSink struct{ completed int }

func (c *mongoBenchSink) Completed(uint64, platform.Outcome, time.Duration) { c.completed++ }
func (c *mongoBenchSink) Observed(platform.Event)                           {}

// startMajoritySim starts a simulation of topo whose Mongo writes are
// w: majority, its completions counted by the sink it returns.
func startMajoritySim(b interface{ Fatal(args ...any) }, topo *platform.Topology, seed uint64) (*Sim, *mongoBenchSink) {
	sink := &mongoBenchSink{}
	s, err := New(platform.Config{RunID: "bench", Topology: topo, Seed: seed,
		Workloads:   []platform.WorkloadConfig{{Service: "mongo", WriteConcern: "majority"}},
		Completions: sink, Events: sink})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(mongoCtx); err != nil {
		b.Fatal(err)
	}
	return s, sink
}

// benchmarkMongoWrites drives b.N majority writes, one per virtual
// millisecond, through the replica set of topo and reports wall-clock
// writes per second.
func benchmarkMongoWrites(b *testing.B, topo *platform.Topology) {
	s, sink := startMajoritySim(b, topo, 1)
	const interval = time.Millisecond
	end := time.Duration(b.N) * interval
	drive(s, "mongo", 0, interval, end)
	b.ReportAllocs()
	b.ResetTimer()
	if err := s.Run(mongoCtx, end+time.Second); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if sink.completed != b.N {
		b.Fatalf("%d of %d writes completed", sink.completed, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writes/s")
}

// BenchmarkMongoWrites measures the replica-set model alone.
func BenchmarkMongoWrites(b *testing.B) {
	topo := platform.Ion()
	topo.Services = topo.Services[:1]
	benchmarkMongoWrites(b, topo)
}

// BenchmarkIonMongoWrites measures Mongo writes through the whole ion
// simulation (every model is advanced on every event).
func BenchmarkIonMongoWrites(b *testing.B) {
	benchmarkMongoWrites(b, platform.Ion())
}

// readBenchSink counts read completions without storing them.
type readBenchSink struct{ completed int }

func (c *readBenchSink) ReadCompleted(uint64, platform.Outcome, uint64, string, time.Duration) {
	c.completed++
}

// BenchmarkMongoReads measures b.N reads, one per virtual millisecond
// beside one majority write per millisecond, through the ion replica set,
// for a read preference and concern; it reports wall-clock reads per
// second. Reads allocate nothing in the steady state.
func BenchmarkMongoReads(b *testing.B) {
	for _, cfg := range []platform.ReadConfig{
		{Preference: platform.ReadPrimary, Concern: platform.ReadConcernLocal},
		{Preference: platform.ReadPrimary, Concern: platform.ReadConcernMajority},
		{Preference: platform.ReadPrimary, Concern: platform.ReadConcernLinearizable},
		{Preference: platform.ReadNearest, Concern: platform.ReadConcernLocal},
	} {
		b.Run(cfg.Preference+"-"+cfg.Concern, func(b *testing.B) {
			s, _ := startMajoritySim(b, platform.Ion(), 1)
			reads := &readBenchSink{}
			cfg.Service = "mongo"
			reader, err := s.Reader(cfg, reads)
			if err != nil {
				b.Fatal(err)
			}
			const interval = time.Millisecond
			end := time.Duration(b.N) * interval
			drive(s, "mongo", 0, interval, end)
			s.At(0, &benchReader{s: s, reader: reader, interval: interval, stop: end})
			b.ReportAllocs()
			b.ResetTimer()
			if err := s.Run(mongoCtx, end+time.Second); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if reads.completed != b.N {
				b.Fatalf("%d of %d reads completed", reads.completed, b.N)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reads/s")
		})
	}
}

// benchReader issues one read every interval until stop, as a long-lived
// Handler.
type benchReader struct {
	s        *Sim
	reader   platform.Reader
	next     uint64
	interval time.Duration
	stop     time.Duration
}

func (r *benchReader) Fire(now time.Duration) {
	if now >= r.stop {
		return
	}
	r.reader.Read(r.next)
	r.next++
	r.s.At(now+r.interval, r)
}
