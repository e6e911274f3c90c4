package simulator

import (
	"fmt"
	"testing"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

// BenchmarkLogTierOutage runs the log tier through an outage of the whole
// Elasticsearch cluster (every node paused, so no master and every bulk
// fails after the bulk timeout) with retries that never give up, then two
// hours after it. Issue 17.7: the cost must grow with the work (events and
// the retries the capped backoff allows), so 48h should cost about 12 times
// 4h. Compare the sub-benchmarks' ns/op.
func BenchmarkLogTierOutage(b *testing.B) {
	for _, outage := range []time.Duration{4 * time.Hour, 48 * time.Hour} {
		b.Run(fmt.Sprintf("outage=%s", outage), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				runLogTierOutage(b, outage)
			}
		})
	}
}

func runLogTierOutage(b *testing.B, outage time.Duration) {
	topo := platform.Ion()
	topo.Services = topo.Services[1:2]
	topo.Services[0].SnapshotTo, topo.Services[0].SnapshotInterval = "", 0
	sink := &mongoBenchSink{}
	s, err := New(platform.Config{RunID: "bench", Topology: topo, Seed: 1, Completions: sink, Events: sink,
		Parameters: map[string]string{"logs.retry_limit": "100000"}})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(mongoCtx); err != nil {
		b.Fatal(err)
	}
	const interval = 10 * time.Millisecond
	fault := time.Minute
	end := fault + outage + 2*time.Hour
	drive(s, "logs", 0, interval, end)
	if err := s.Run(mongoCtx, fault); err != nil {
		b.Fatal(err)
	}
	for _, n := range topo.Services[0].Nodes {
		if err := s.Faults().Pause(mongoCtx, n.Name); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Run(mongoCtx, fault+outage); err != nil {
		b.Fatal(err)
	}
	for _, n := range topo.Services[0].Nodes {
		if err := s.Faults().Resume(mongoCtx, n.Name); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Run(mongoCtx, end+time.Minute); err != nil {
		b.Fatal(err)
	}
	if want := int(end / interval); sink.completed != want {
		b.Fatalf("%d of %d events answered", sink.completed, want)
	}
}
