package simulator

import (
	"fmt"
	"testing"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

// BenchmarkElasticAllocation builds a cluster of many shards (placing every
// copy), kills a node and runs past the delayed-allocation timeout until
// its replicas are rebuilt elsewhere: the allocator's work grows with the
// copies it places, and must stay about linear in the shard count (issue:
// 20,000 shards took 2.4 s when each new copy recounted every shard's
// copies). Compare the sub-benchmarks' ns/op with benchstat.
func BenchmarkElasticAllocation(b *testing.B) {
	for _, shards := range []int{256, 1024} {
		b.Run(fmt.Sprintf("shards=%d", shards), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				runElasticAllocation(b, shards)
			}
		})
	}
}

func runElasticAllocation(b *testing.B, shards int) {
	topo := platform.Ion()
	topo.Services = topo.Services[1:2]
	topo.Services[0].SnapshotTo, topo.Services[0].SnapshotInterval = "", 0
	topo.Services[0].Shards = shards
	sink := &mongoBenchSink{}
	s, err := New(platform.Config{RunID: "bench", Topology: topo, Seed: 1, Completions: sink, Events: sink})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Start(mongoCtx); err != nil {
		b.Fatal(err)
	}
	victim := topo.Services[0].Nodes[0].Name
	if err := s.Faults().Kill(mongoCtx, victim); err != nil {
		b.Fatal(err)
	}
	if err := s.Run(mongoCtx, 2*time.Minute); err != nil {
		b.Fatal(err)
	}
	m := s.byService[topo.Services[0].Name].(*elasticModel)
	for _, sh := range m.cluster.shards {
		for _, cp := range sh.copies {
			if cp.node == 0 && cp.status != copyStale {
				b.Fatalf("a copy is still on the killed node")
			}
		}
	}
}

// BenchmarkElasticPlacement builds the cluster only: placing every copy of
// every shard at start-up, the allocator's largest single pass.
func BenchmarkElasticPlacement(b *testing.B) {
	for _, shards := range []int{2000, 20000} {
		b.Run(fmt.Sprintf("shards=%d", shards), func(b *testing.B) {
			topo := platform.Ion()
			topo.Services = topo.Services[1:2]
			topo.Services[0].SnapshotTo, topo.Services[0].SnapshotInterval = "", 0
			topo.Services[0].Shards = shards
			sink := &mongoBenchSink{}
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := New(platform.Config{RunID: "bench", Topology: topo, Seed: 1, Completions: sink, Events: sink}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
