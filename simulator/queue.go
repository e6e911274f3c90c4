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

// eventKey is an event's place in the heap: its order, and the slot of
// eventQueue.handlers holding its handler. Keeping the handler out of the
// heap leaves the heap free of pointers, so the sifts move small plain
// values (no write barriers).
type eventKey struct {
	at    time.Duration
	seq   uint64
	slot  int32
	wakes bool
}

func (a *eventKey) before(b *eventKey) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	return a.seq < b.seq
}

// eventQueue is a typed binary min-heap on (at, seq). It avoids
// container/heap's interface boxing so that push and pop do not allocate once
// the backing slices have grown.
//
// pop leaves the root's place empty (rootFree) rather than refilling it at
// once: the handler it returns usually schedules one event as it fires (a
// workload its next write), and push then puts that event in the empty root
// and sifts it down, one sift where refilling and pushing would take two.
// The order is the heap's either way: (at, seq) is unique per event.
type eventQueue struct {
	keys     []eventKey
	rootFree bool               // keys[0] was popped and its place is empty
	handlers []platform.Handler // by slot; nil when free
	free     []int32            // free slots of handlers
	seq      uint64
}

func (q *eventQueue) len() int {
	if q.rootFree {
		return len(q.keys) - 1
	}
	return len(q.keys)
}

func (q *eventQueue) push(at time.Duration, h platform.Handler, wakes bool) {
	q.seq++
	q.pushSeq(at, q.seq, h, wakes)
}

// reserve takes the sequence number a push now would have been given, for an
// event that may be pushed later with pushSeq (Sim.Continue).
func (q *eventQueue) reserve() uint64 {
	q.seq++
	return q.seq
}

// pushSeq pushes h at at with sequence number seq, from reserve.
func (q *eventQueue) pushSeq(at time.Duration, seq uint64, h platform.Handler, wakes bool) {
	var slot int32
	if n := len(q.free); n > 0 {
		slot = q.free[n-1]
		q.free = q.free[:n-1]
		q.handlers[slot] = h
	} else {
		slot = int32(len(q.handlers))
		q.handlers = append(q.handlers, h)
	}
	k := eventKey{at: at, seq: seq, slot: slot, wakes: wakes}
	if q.rootFree {
		q.rootFree = false
		q.siftDown(k)
		return
	}
	// Sift up: move parents down into the hole until k fits.
	q.keys = append(q.keys, k)
	i := len(q.keys) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if !k.before(&q.keys[parent]) {
			break
		}
		q.keys[i] = q.keys[parent]
		i = parent
	}
	q.keys[i] = k
}

// siftDown places k in the empty root: it moves the smaller child up into
// the hole until k fits.
func (q *eventQueue) siftDown(k eventKey) {
	n := len(q.keys)
	i := 0
	for {
		child := 2*i + 1
		if child >= n {
			break
		}
		if r := child + 1; r < n && q.keys[r].before(&q.keys[child]) {
			child = r
		}
		if !q.keys[child].before(&k) {
			break
		}
		q.keys[i] = q.keys[child]
		i = child
	}
	q.keys[i] = k
}

// fillRoot refills an empty root with the last key.
func (q *eventQueue) fillRoot() {
	if !q.rootFree {
		return
	}
	q.rootFree = false
	last := len(q.keys) - 1
	k := q.keys[last]
	q.keys = q.keys[:last]
	if last > 0 {
		q.siftDown(k)
	}
}

// peek returns the time of the earliest event; ok is false when empty.
func (q *eventQueue) peek() (time.Duration, bool) {
	q.fillRoot()
	if len(q.keys) == 0 {
		return 0, false
	}
	return q.keys[0].at, true
}

func (q *eventQueue) pop() event {
	q.fillRoot()
	top := q.keys[0]
	h := q.handlers[top.slot]
	q.handlers[top.slot] = nil
	q.free = append(q.free, top.slot)
	q.rootFree = true
	return event{at: top.at, seq: top.seq, h: h, wakes: top.wakes}
}
