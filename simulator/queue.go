package simulator

import (
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

// event is one scheduled handler. seq breaks ties so that handlers scheduled
// for the same instant fire in the order they were scheduled. wakes marks a
// model's own timer (Sim.timer), after which every model is advanced.
type event struct {
	at    time.Duration
	seq   uint64
	h     platform.Handler
	wakes bool
}

// eventQueue is a typed binary min-heap on (at, seq). It avoids
// container/heap's interface boxing so that push and pop do not allocate once
// the backing slice has grown.
type eventQueue struct {
	items []event
	seq   uint64
}

func (q *eventQueue) len() int { return len(q.items) }

func (q *eventQueue) less(i, j int) bool {
	a, b := &q.items[i], &q.items[j]
	if a.at != b.at {
		return a.at < b.at
	}
	return a.seq < b.seq
}

func (q *eventQueue) push(at time.Duration, h platform.Handler, wakes bool) {
	q.seq++
	q.items = append(q.items, event{at: at, seq: q.seq, h: h, wakes: wakes})
	i := len(q.items) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if !q.less(i, parent) {
			break
		}
		q.items[i], q.items[parent] = q.items[parent], q.items[i]
		i = parent
	}
}

// peek returns the time of the earliest event; ok is false when empty.
func (q *eventQueue) peek() (time.Duration, bool) {
	if len(q.items) == 0 {
		return 0, false
	}
	return q.items[0].at, true
}

func (q *eventQueue) pop() event {
	top := q.items[0]
	last := len(q.items) - 1
	q.items[0] = q.items[last]
	q.items[last] = event{}
	q.items = q.items[:last]
	i := 0
	for {
		l, r := 2*i+1, 2*i+2
		smallest := i
		if l < last && q.less(l, smallest) {
			smallest = l
		}
		if r < last && q.less(r, smallest) {
			smallest = r
		}
		if smallest == i {
			break
		}
		q.items[i], q.items[smallest] = q.items[smallest], q.items[i]
		i = smallest
	}
	return top
}
