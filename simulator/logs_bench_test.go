package simulator

import (
	"testing"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

// BenchmarkLogWrites drives b.N log events, one per virtual millisecond,
// through the log tier into the ion Elasticsearch cluster (no S3, so no
// snapshots), and reports wall-clock events per second.
func BenchmarkLogWrites(b *testing.B) {
	topo := platform.Ion()
	topo.Services = topo.Services[1:2]
	topo.Services[0].SnapshotTo, topo.Services[0].SnapshotInterval = "", 0
	sink := &mongoBenchSink{}
	s, err := New(platform.Config{RunID: "bench", Topology: topo, Seed: 1, Completions: sink, Events: sink})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(mongoCtx); err != nil {
		b.Fatal(err)
	}
	const interval = time.Millisecond
	end := time.Duration(b.N) * interval
	drive(s, "logs", 0, interval, end)
	b.ReportAllocs()
	b.ResetTimer()
	if err := s.Run(mongoCtx, end+time.Second); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if sink.completed != b.N {
		b.Fatalf("%d of %d events completed", sink.completed, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
