package reports_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/reports"
)

// BenchmarkBuild measures a report over a million writes on three services
// with a region outage, lost and unknown writes: the size of a long
// simulated run.
func BenchmarkBuild(b *testing.B) {
	const writes = 1_000_000
	ledger := &reports.Ledger{}
	services := []uint16{ledger.ServiceIndex("mongo"), ledger.ServiceIndex("logs"), ledger.ServiceIndex("artifacts")}
	spacing := time.Hour / writes
	for i := 0; i < writes; i++ {
		at := time.Duration(i) * spacing
		id := ledger.Invoke(services[i%len(services)], at)
		switch {
		case at < 20*time.Minute:
			ledger.Complete(id, platform.Acked, at+time.Duration(1+i%97)*100*time.Microsecond)
			ledger.SetPresent(uint64(id), at < 19*time.Minute || i%3 != 0)
		case at < 30*time.Minute:
			ledger.Complete(id, platform.Unknown, at+10*time.Second)
			ledger.SetPresent(uint64(id), i%2 == 0)
		default:
			ledger.Complete(id, platform.Acked, at+time.Duration(1+i%89)*150*time.Microsecond)
			ledger.SetPresent(uint64(id), true)
		}
	}
	healed := 40 * time.Minute
	run := &reports.Run{
		Scenario: "bench", Platform: "sim", Duration: time.Hour, Ledger: ledger,
		Faults: []reports.FaultRecord{{Name: "east", Kind: "kill", Target: "region:us-east-1", At: 20 * time.Minute, HealedAt: &healed}},
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		reports.Build(run)
	}
	b.ReportMetric(float64(writes)*float64(b.N)/b.Elapsed().Seconds(), "writes/s")
}

// BenchmarkLedgerWrites records b.N writes at the library's spacing, each
// completed 35 ms after it was issued, and reports the heap the ledger
// keeps per write (retained-B/write) beside the time a write costs.
func BenchmarkLedgerWrites(b *testing.B) {
	before := heapHeld()
	l := &reports.Ledger{}
	reports.SetUnpackedChunks(l, 0) // what a long run's writes cost
	s := l.ServiceIndex("logs")
	at := time.Duration(0)
	b.ReportAllocs()
	for b.Loop() {
		at = writeCompleted(l, s, at)
	}
	b.StopTimer()
	b.ReportMetric(float64(heapHeld()-before)/float64(l.Len()), "retained-B/write")
	runtime.KeepAlive(l)
}
