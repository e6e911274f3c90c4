package simulator

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// BenchmarkRunMemory measures what the simulator keeps per write over a
// long run (issue 11): the ion topology with Mongo at 200 writes/s (w:
// majority) and logs at 500 events/s, the rates of east-region-outage,
// for one and four simulated hours; it reports the live heap the run
// added, in bytes per write (heap-B/write, the completions are counted,
// not kept). The oplog and the shards' logs are packed (packed.go), so it
// stays near 3 bytes a write and does not grow with the duration; the
// ledger the runner keeps (reports.Ledger) is apart from it.
func BenchmarkRunMemory(b *testing.B) {
	for _, d := range []time.Duration{time.Hour, 4 * time.Hour} {
		b.Run(fmt.Sprintf("duration=%s", d), func(b *testing.B) {
			var perWrite float64
			for i := 0; i < b.N; i++ {
				perWrite = runMemory(b, d)
			}
			b.ReportMetric(perWrite, "heap-B/write")
		})
	}
}

// memoryRun is what runMemory needs of a benchmark (or a spec).
type memoryRun interface {
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	StartTimer()
	StopTimer()
}

// specRun is a memoryRun for a spec: no timer, and a failure fails the
// spec.
type specRun struct{}

func (specRun) Fatal(args ...any)                 { Fail(fmt.Sprint(args...)) }
func (specRun) Fatalf(format string, args ...any) { Fail(fmt.Sprintf(format, args...)) }
func (specRun) StartTimer()                       {}
func (specRun) StopTimer()                        {}

// runMemory runs the mix for d and returns the live heap the simulator
// holds at the end, per write.
func runMemory(b memoryRun, d time.Duration) float64 {
	b.StopTimer()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	s, sink := startMajoritySim(b, platform.Ion(), 1)
	mix := &mixWriter{s: s, interval: time.Second / 700, stop: d}
	for i, service := range []string{"mongo", "logs"} {
		var err error
		if mix.clients[i], err = s.Client(service); err != nil {
			b.Fatal(err)
		}
	}
	s.At(0, mix)
	b.StartTimer()
	if err := s.Run(mongoCtx, d+time.Minute); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if sink.completed != int(mix.next) {
		b.Fatalf("%d of %d writes completed", sink.completed, mix.next)
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(s)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(mix.next)
}

// mixWriter issues writes at a constant interval, ids in issue order, two
// in seven to Mongo and the rest to logs, interleaved as a run's workloads
// interleave their ids.
type mixWriter struct {
	s        *Sim
	clients  [2]platform.Client
	next     uint64
	interval time.Duration
	stop     time.Duration
}

func (w *mixWriter) Fire(now time.Duration) {
	if now >= w.stop {
		return
	}
	c := w.clients[1]
	if w.next%7 < 2 {
		c = w.clients[0]
	}
	c.Write(w.next)
	w.next++
	w.s.At(now+w.interval, w)
}

var _ = Describe("a long run's memory", func() {
	It("keeps under 8 bytes of simulator state per write at east-region-outage's rates", func() {
		// Packed (packed.go), the oplog and the shards' logs take about 3.7
		// bytes a write; a 24-byte oplog entry and an 8-byte shard log id
		// grown by append took about 13 and more.
		perWrite := runMemory(specRun{}, 30*time.Minute)
		Expect(perWrite).To(BeNumerically("<", 8))
	})
})
