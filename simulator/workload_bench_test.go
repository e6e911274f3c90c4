package simulator

import (
	"testing"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

// BenchmarkIonWorkloadMix runs the east-region-outage scenario's write mix
// through the whole ion simulation with no fault: Mongo majority writes at
// 200/s, log events at 500/s and artifact PUTs at 5/s, for ten virtual
// minutes an op (about 423,000 writes). It measures the simulator alone
// (completions are only counted), the share of a sweep seed this package
// owns; writes/s is simulated writes per wall second.
func BenchmarkIonWorkloadMix(b *testing.B) {
	const span = 10 * time.Minute
	b.ReportAllocs()
	writes := 0
	for i := 0; i < b.N; i++ {
		s, sink := startMajoritySim(b, platform.Ion(), uint64(i+1))
		drive(s, "mongo", 0, 5*time.Millisecond, span)
		drive(s, "logs", 1<<40, 2*time.Millisecond, span)
		drive(s, "artifacts", 2<<40, 200*time.Millisecond, span)
		if err := s.Run(mongoCtx, span+time.Minute); err != nil {
			b.Fatal(err)
		}
		if want := int(span/(5*time.Millisecond) + span/(2*time.Millisecond) + span/(200*time.Millisecond)); sink.completed != want {
			b.Fatalf("%d of %d writes completed", sink.completed, want)
		}
		writes += sink.completed
	}
	b.ReportMetric(float64(writes)/b.Elapsed().Seconds(), "writes/s")
}
