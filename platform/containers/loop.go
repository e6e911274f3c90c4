package containers

import (
	"container/heap"
	"context"
	"sync"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

// wallLoop is the containers platform's event loop on wall-clock time. One
// goroutine (the one calling Run) fires handlers in time order; goroutines
// doing blocking I/O hand their results back through post, so that
// everything above the seam stays single-threaded.
//
// At may be called before Run and from handlers (both on the loop
// goroutine). post may be called from any goroutine at any time and never
// blocks.
type wallLoop struct {
	started time.Time // scenario time 0; zero until begin
	timers  timerHeap
	seq     uint64

	// The handler firing now, for the fault injector: the primitives one
	// handler issues (a zone or region outage is one call per node) make
	// one fault, applied together, at the handler's time. Touched only on
	// the loop goroutine.
	firing      bool
	firings     uint64        // counts handlers fired
	firingAt    time.Duration // the time the firing handler was given
	afterFiring []func()

	mu     sync.Mutex
	posted []func(now time.Duration)
	wake   chan struct{} // capacity 1: "posted is not empty"
}

func newWallLoop() *wallLoop {
	return &wallLoop{wake: make(chan struct{}, 1)}
}

var _ platform.Loop = (*wallLoop)(nil)

// begin makes now scenario time 0.
func (l *wallLoop) begin() { l.started = time.Now() }

// Now is the wall time since begin (0 before it).
func (l *wallLoop) Now() time.Duration {
	if l.started.IsZero() {
		return 0
	}
	return time.Since(l.started)
}

// At schedules h for scenario time t. Handlers for the same time fire in
// the order they were scheduled.
func (l *wallLoop) At(t time.Duration, h platform.Handler) {
	l.seq++
	heap.Push(&l.timers, timer{at: t, seq: l.seq, h: h})
}

// post hands fn to the loop; it runs on the loop goroutine with the scenario
// time at which it is delivered. Safe from any goroutine.
func (l *wallLoop) post(fn func(now time.Duration)) {
	l.mu.Lock()
	l.posted = append(l.posted, fn)
	l.mu.Unlock()
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// Run fires due handlers and posted work until scenario time reaches until
// (handlers due at until still fire) or ctx ends.
func (l *wallLoop) Run(ctx context.Context, until time.Duration) error {
	if l.started.IsZero() {
		l.begin()
	}
	wait := time.NewTimer(time.Hour)
	defer wait.Stop()
	var batch []func(time.Duration)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		now := l.Now()
		l.mu.Lock()
		batch, l.posted = l.posted, batch[:0]
		l.mu.Unlock()
		for i, fn := range batch {
			fn(now)
			batch[i] = nil
		}
		fired := false
		for len(l.timers) > 0 && l.timers[0].at <= now && l.timers[0].at <= until {
			t := heap.Pop(&l.timers).(timer)
			l.fire(t.h)
			fired = true
		}
		dueByUntil := len(l.timers) > 0 && l.timers[0].at <= until
		if now >= until && !dueByUntil {
			// Work posted from now on waits for the next Run.
			return nil
		}
		if fired || len(batch) > 0 {
			// Handlers may have scheduled work that is already due.
			continue
		}
		next := until
		if len(l.timers) > 0 && l.timers[0].at < next {
			next = l.timers[0].at
		}
		wait.Reset(next - now)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-l.wake:
		case <-wait.C:
		}
	}
}

// fire runs one handler, then what it left to run once it returned.
func (l *wallLoop) fire(h platform.Handler) {
	l.firing, l.firingAt = true, l.Now()
	l.firings++
	h.Fire(l.firingAt)
	l.firing = false
	after := l.afterFiring
	l.afterFiring = nil
	for _, fn := range after {
		fn()
	}
}

// handler tells, on the loop, which handler is firing: its sequence number
// and the time it was given; ok is false outside a handler.
func (l *wallLoop) handler() (firing uint64, at time.Duration, ok bool) {
	return l.firings, l.firingAt, l.firing
}

// afterHandler runs fn on the loop once the firing handler has returned;
// outside a handler, at once.
func (l *wallLoop) afterHandler(fn func()) {
	if !l.firing {
		fn()
		return
	}
	l.afterFiring = append(l.afterFiring, fn)
}

// scenarioTime converts a wall-clock instant (e.g. one Docker recorded) to
// scenario time; 0 before begin.
func (l *wallLoop) scenarioTime(t time.Time) time.Duration {
	if l.started.IsZero() {
		return 0
	}
	return t.Sub(l.started)
}

type timer struct {
	at  time.Duration
	seq uint64
	h   platform.Handler
}

type timerHeap []timer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].seq < h[j].seq
}
func (h timerHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)   { *h = append(*h, x.(timer)) }
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = timer{}
	*h = old[:len(old)-1]
	return t
}
