package runner

import (
	"context"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/scenarios"
	"github.com/chaosdrill/chaosdrill/simulator"
)

// BenchmarkScenario runs library scenarios end to end on the simulator:
// workloads, faults, runbook, read-back and the report. ops/s is simulated
// client writes per wall second (DESIGN.md's target: 1,000,000+ on one core).
func BenchmarkScenario(b *testing.B) {
	for _, name := range []string{"east-region-outage", "mongo-primary-kill", "es-rolling-restart"} {
		b.Run(name, func(b *testing.B) {
			sc, err := scenarios.Load(filepath.Join("..", "scenarios", name+".yaml"), scenarios.WithParameters(simulator.Parameters()))
			if err != nil {
				b.Fatal(err)
			}
			build := func(cfg platform.Config) (platform.Platform, error) { return simulator.New(cfg) }
			var ops int64
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				rep, err := Run(context.Background(), sc, build, Options{Seed: uint64(i + 1)})
				if err != nil {
					b.Fatal(err)
				}
				for _, s := range rep.Services {
					ops += s.Acked + s.Failed + s.Unknown
				}
			}
			b.ReportMetric(float64(ops)/b.Elapsed().Seconds(), "ops/s")
		})
	}
}

// BenchmarkArrivals measures drawing a workload's next write time, the
// work the arrival process adds to each write (one loop event, about
// 250 ns, is the rest of the workload's share).
func BenchmarkArrivals(b *testing.B) {
	bursts := &scenarios.Bursts{Every: platform.Duration(10 * time.Second), Length: platform.Duration(time.Second), Factor: 3}
	for _, w := range []scenarios.Workload{
		{Service: "constant", Rate: 1000, Arrival: scenarios.ArrivalConstant},
		{Service: "poisson", Rate: 1000, Arrival: scenarios.ArrivalPoisson},
		{Service: "poisson-bursts", Rate: 1000, Arrival: scenarios.ArrivalPoisson, Bursts: bursts},
	} {
		b.Run(w.Service, func(b *testing.B) {
			a := newSampler(1).arrivals(w, math.MaxInt64)
			var t time.Duration
			b.ReportAllocs()
			for b.Loop() {
				t = a.after(t)
			}
		})
	}
}
