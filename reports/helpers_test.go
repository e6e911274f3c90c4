package reports_test

import (
	"runtime"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/reports"
)

// outcome decides what happened to a write invoked at a time.
type outcome struct {
	result  platform.Outcome
	present bool
	latency time.Duration
}

// writeSteadily issues one write of service every spacing in [from, to),
// completing each as decide says. Pending writes are left open.
func writeSteadily(l *reports.Ledger, service string, from, to, spacing time.Duration, decide func(at time.Duration) outcome) {
	s := l.ServiceIndex(service)
	for at := from; at < to; at += spacing {
		id := l.Invoke(s, at)
		o := decide(at)
		if o.result != platform.Pending {
			l.Complete(id, o.result, at+o.latency)
		}
		l.SetPresent(uint64(id), o.present)
	}
}

// ackedFor acknowledges every write (found on read-back) with a latency.
func ackedFor(latency time.Duration) func(time.Duration) outcome {
	return func(time.Duration) outcome { return outcome{platform.Acked, true, latency} }
}

func durationPointer(d time.Duration) *time.Duration { return &d }

func pd(d time.Duration) *platform.Duration {
	v := platform.Duration(d)
	return &v
}

func intPointer(n int) *int { return &n }

func boolPointer(b bool) *bool { return &b }

// writeCompleted issues the write that follows one invoked at prev, at the
// library's logs spacing (1.4 ms, 700 a second), completed 35 ms later,
// and returns when it was invoked.
func writeCompleted(l *reports.Ledger, service uint16, prev time.Duration) time.Duration {
	at := prev + 1400*time.Microsecond
	id := l.Invoke(service, at)
	l.Complete(id, platform.Acked, at+35*time.Millisecond)
	return at
}

// heapHeld is the heap still allocated after a GC, in bytes.
func heapHeld() int64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
