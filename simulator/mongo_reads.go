package simulator

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

// A read asks one member for the newest write of the run it can return
// under the read concern, and returns that write's op id. A member's data
// is a prefix of an oplog branch, and op ids grow along every branch (the
// driver sends a service's writes to a primary in the order they were
// issued, and retries go back through server selection in that order
// too), so the last entry of the prefix a read may see is also the largest
// op id it saw: finding it is a binary search over the member's apply
// times, with no allocation. The checker (reports) calls a read stale when
// a write acknowledged before it began has a larger op id, and dirty when
// the entry it returned is missing after recovery.
//
// What each read concern may see on member x at the moment the read
// reaches it (https://www.mongodb.com/docs/manual/reference/read-concern/):
//   - local: every entry x has applied; on a primary, every entry it took,
//     including w:1 writes a rollback will later discard;
//   - majority: the entries x knows a majority of the voting data-bearing
//     members applied (the commit point): on the primary when it learns
//     it, on a secondary one hop later, with the oplog batch that carries
//     it; a secondary cut off from its primary keeps the commit point it
//     last heard, which is never ahead of what a majority holds;
//   - linearizable (primary only): local data, answered only once a
//     majority has applied a no-op the primary writes after the read, which
//     proves it is still primary
//     (https://www.mongodb.com/docs/manual/reference/read-concern-linearizable/);
//     a primary cut off from the majority never gets that answer, one in
//     replSetStepDown writes no no-op until the step-down ends, and a
//     step-down kills the read (InterruptedDueToReplStateChange, SERVER-38755).
//
// The read workload's driver shares the write workload's view of the set
// (one application process): the same primary, discovered at the same
// time. It sees as secondaries the members in SECONDARY state that are not
// hidden (hidden members are never selected by read preference,
// https://www.mongodb.com/docs/manual/core/replica-set-hidden-members/),
// and drops a member at once when it goes down; a paused member is still
// selected, and reads sent to it time out.

// readPreference is a parsed platform.Read* preference.
type readPreference uint8

const (
	preferPrimary readPreference = iota
	preferPrimaryPreferred
	preferSecondary
	preferSecondaryPreferred
	preferNearest
)

// readConcern is a parsed platform.ReadConcern* level.
type readConcern uint8

const (
	concernLocal readConcern = iota
	concernMajorityRead
	concernLinearizable
)

// mongoReader is one read workload on a mongo service.
type mongoReader struct {
	m          *mongoModel
	done       platform.ReadCompletions
	preference readPreference
	tagSets    []map[string]string
	concern    readConcern
	timeout    time.Duration
	selectWait time.Duration
	// choice picks among the members in the latency window, and jitters
	// each read's trip; its own stream, so that reads never shift the
	// random numbers of the writes.
	choice *rand.Rand

	pending readHeap                   // sent, by completion time
	waiting mongoQueue[mongoSelecting] // waiting for a suitable member, by issue time
	// Scratch for server selection, reused so that a read allocates
	// nothing.
	scratch, tagged, window []*mongoMember
}

// mongoRead is a read sent to a member whose outcome is not delivered yet.
type mongoRead struct {
	read    uint64
	invoke  time.Duration
	arrive  time.Duration // at the member
	served  time.Duration // when the member sends the answer (mongoNever: not yet known)
	done    time.Duration // when the client learns the outcome
	value   uint64
	member  *mongoMember
	outcome platform.Outcome
}

// newReader makes the reader of a read workload on this service.
func (m *mongoModel) newReader(cfg platform.ReadConfig, done platform.ReadCompletions) (*mongoReader, error) {
	r := &mongoReader{m: m, done: done, tagSets: cfg.TagSets, timeout: cfg.Timeout,
		choice: m.s.rand("mongo/reads/" + m.spec.Name + "/" + strconv.Itoa(len(m.readers)))}
	if r.timeout <= 0 {
		r.timeout = 10 * time.Second
	}
	r.selectWait = min(m.set.serverSelection, r.timeout)
	switch cfg.Preference {
	case "", platform.ReadPrimary:
		r.preference = preferPrimary
	case platform.ReadPrimaryPreferred:
		r.preference = preferPrimaryPreferred
	case platform.ReadSecondary:
		r.preference = preferSecondary
	case platform.ReadSecondaryPreferred:
		r.preference = preferSecondaryPreferred
	case platform.ReadNearest:
		r.preference = preferNearest
	default:
		return nil, fmt.Errorf("read %s: unknown read preference %q", m.spec.Name, cfg.Preference)
	}
	switch cfg.Concern {
	case "", platform.ReadConcernLocal:
		r.concern = concernLocal
	case platform.ReadConcernMajority:
		r.concern = concernMajorityRead
	case platform.ReadConcernLinearizable:
		if r.preference != preferPrimary {
			return nil, fmt.Errorf("read %s: linearizable reads go to the primary only, not with read preference %q", m.spec.Name, cfg.Preference)
		}
		r.concern = concernLinearizable
	default:
		return nil, fmt.Errorf("read %s: unknown read concern %q", m.spec.Name, cfg.Concern)
	}
	if r.preference == preferPrimary && len(r.tagSets) > 0 {
		return nil, fmt.Errorf("read %s: tag sets cannot be used with read preference primary", m.spec.Name)
	}
	m.readers = append(m.readers, r)
	return r, nil
}

// Read issues read id now: to the member the read preference selects, or
// into the wait for one.
func (r *mongoReader) Read(id uint64) {
	r.m.s.wakeModels()
	now := r.m.s.now
	if x := r.selectMember(); x != nil {
		r.send(id, now, x)
		return
	}
	r.waiting.push(mongoSelecting{op: id, invoke: now})
}

// send hands read id, issued at invoke, to member x now.
func (r *mongoReader) send(id uint64, invoke time.Duration, x *mongoMember) {
	m := r.m
	arrive := m.s.now + m.clientLatency(x.node)
	if m.jitter.max > 0 {
		// From the read's own stream: reads draw nothing from the writes'.
		arrive += time.Duration(r.choice.Int64N(int64(m.jitter.max)))
	}
	rd := mongoRead{read: id, invoke: invoke, arrive: arrive, member: x}
	r.plan(&rd)
	r.pending.push(rd)
}

// plan works out a read's answer from the member's state as it stands:
// what it holds when the read arrives under the read concern, and when the
// answer reaches the client (unknown at the timeout when it would not).
func (r *mongoReader) plan(rd *mongoRead) {
	m := r.m
	x := rd.member
	now := m.s.now
	deadline := rd.invoke + r.timeout
	rd.served, rd.value = mongoNever, platform.ReadNothing
	switch {
	case x.node.state == nodeDown:
		// Connection reset.
		rd.outcome, rd.done = platform.Unknown, now
		return
	case x.node.state == nodePaused, x.log == nil:
		rd.outcome, rd.done = platform.Unknown, deadline
		return
	}
	at := max(rd.arrive, now)
	var n int
	switch r.concern {
	case concernLocal:
		n = m.localVisible(x, at)
		rd.served = at
	case concernMajorityRead:
		n = m.majorityVisible(x, at)
		rd.served = at
	case concernLinearizable:
		if !x.isPrimary {
			// Killed by the step-down, or sent to a member that is no
			// longer primary: an error answer, sent once the read is there.
			rd.outcome, rd.served = platform.Failed, at
			rd.done = at + m.clientLatency(x.node)
			return
		}
		n = m.localVisible(x, at)
		if !x.steppingDown {
			// A primary waiting in replSetStepDown writes no no-op: the
			// read waits for the step-down to end either way.
			rd.served = m.noopMajorityAt(x, at, n)
		}
	}
	if rd.served == mongoNever {
		rd.outcome, rd.done = platform.Unknown, deadline
		return
	}
	back := rd.served + m.clientLatency(x.node)
	if back > deadline {
		rd.outcome, rd.done, rd.served = platform.Unknown, deadline, mongoNever
		return
	}
	if n > 0 {
		rd.value = x.log.entry(n - 1).op
	}
	rd.outcome, rd.done = platform.Acked, back
}

// selectMember is server selection for the reader's read preference, from
// the driver's view: nil while no member suits.
func (r *mongoReader) selectMember() *mongoMember {
	m := r.m
	primary := m.clientPrimary
	if primary != nil && (!primary.isPrimary || primary.node.state == nodeDown) {
		primary = nil
	}
	switch r.preference {
	case preferPrimary:
		return primary
	case preferPrimaryPreferred:
		if primary != nil {
			return primary
		}
		return r.pick(r.secondaries(nil))
	case preferSecondary:
		return r.pick(r.secondaries(nil))
	case preferSecondaryPreferred:
		if x := r.pick(r.secondaries(nil)); x != nil {
			return x
		}
		return primary
	default: // nearest
		return r.pick(r.secondaries(primary))
	}
}

// secondaries lists the members the driver sees as secondaries, plus also
// when it is not nil, into the reader's scratch slice.
func (r *mongoReader) secondaries(also *mongoMember) []*mongoMember {
	out := r.scratch[:0]
	if also != nil {
		out = append(out, also)
	}
	for _, x := range r.m.members {
		if x.inConfig && !x.hidden && !x.arbiter && x.log != nil && !x.syncing && !x.stale && !x.isPrimary && x.node.state != nodeDown {
			out = append(out, x)
		}
	}
	r.scratch = out
	return out
}

// pick narrows candidates by the first tag set some of them match (an
// empty set matches all; no tag sets at all is one empty set), then to the
// latency window (client.local_threshold above the nearest), and picks one
// of those at random, as the server selection spec says
// (https://github.com/mongodb/specifications/blob/master/source/server-selection/server-selection.md#selecting-suitable-servers).
func (r *mongoReader) pick(candidates []*mongoMember) *mongoMember {
	matched := candidates
	if len(r.tagSets) > 0 {
		matched = nil
		for _, set := range r.tagSets {
			tagged := r.tagged[:0]
			for _, x := range candidates {
				if hasTags(x, set) {
					tagged = append(tagged, x)
				}
			}
			r.tagged = tagged
			if len(tagged) > 0 {
				matched = tagged
				break
			}
		}
	}
	if len(matched) == 0 {
		return nil
	}
	m := r.m
	nearest := mongoNever
	for _, x := range matched {
		nearest = min(nearest, m.clientLatency(x.node))
	}
	// A round trip is two one-way trips.
	window := r.window[:0]
	for _, x := range matched {
		if 2*(m.clientLatency(x.node)-nearest) <= m.set.localThreshold {
			window = append(window, x)
		}
	}
	r.window = window
	if len(window) == 1 {
		return window[0]
	}
	return window[r.choice.IntN(len(window))]
}

func hasTags(x *mongoMember, set map[string]string) bool {
	for k, v := range set {
		if x.tags[k] != v {
			return false
		}
	}
	return true
}

// localVisible is how many entries of x's branch a local read that reaches
// x at t sees: what x has applied by then.
func (m *mongoModel) localVisible(x *mongoMember, t time.Duration) int {
	l := x.log
	switch {
	case l == nil:
		return 0
	case x.isPrimary && l.owner == x:
		return l.countAtOrBefore(t)
	case !x.live:
		return x.applied
	}
	lo, hi := x.applied, l.len()
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if m.appliedAt(x, mid) <= t {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// majorityVisible is how many entries of x's branch a majority read that
// reaches x at t sees: the commit point x knows by then, capped by what x
// has applied.
func (m *mongoModel) majorityVisible(x *mongoMember, t time.Duration) int {
	n := m.localVisible(x, t)
	l := x.log
	if n == 0 {
		return 0
	}
	// A live secondary learns the commit point one hop after its primary.
	var hop time.Duration
	if x.live && l.owner != x {
		hop = x.lat
	}
	lo, hi := 0, n
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if k := m.majorityKnownAt(l, mid); k != mongoNever && k+hop <= t {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// noopMajorityAt is when primary x learns that a write majority applied
// the no-op it writes at t after its first n entries (mongoNever if it
// cannot now): the confirmation a linearizable read waits for.
func (m *mongoModel) noopMajorityAt(x *mongoMember, t time.Duration, n int) time.Duration {
	ts := m.times[:0]
	for _, y := range m.members {
		if !y.inConfig || y.syncing || y.votes == 0 || y.arbiter {
			continue
		}
		switch {
		case y == x:
			ts = append(ts, t)
		case !y.live || y.log != x.log:
			ts = append(ts, mongoNever)
		default:
			// The no-op follows entry n-1 in y's apply order.
			applied := t + y.lat + m.set.applyOverhead + m.set.applyPerOp
			if n > 0 {
				applied = max(applied, m.appliedAt(y, n-1)+m.set.applyPerOp)
			}
			ts = append(ts, applied+y.lat)
		}
	}
	m.times = ts
	return kth(ts, m.writeMajority())
}

// advanceReads delivers every read outcome due by t, in time order: reads
// sent, and reads that waited for a suitable member in vain
// (server selection timed out: failed). next is the time of the first
// outcome left.
func (r *mongoReader) advance(t time.Duration) (next time.Duration) {
	for {
		sent, waited := mongoNever, mongoNever
		if r.pending.len() > 0 {
			sent = r.pending.top().done
		}
		if r.waiting.n > 0 {
			waited = r.waiting.front().invoke + r.selectWait
		}
		switch {
		case sent <= t && sent <= waited:
			rd := r.pending.pop()
			name := ""
			if rd.outcome == platform.Acked {
				name = rd.member.name()
			}
			r.done.ReadCompleted(rd.read, rd.outcome, rd.value, name, rd.done)
		case waited <= t:
			w := r.waiting.pop()
			r.done.ReadCompleted(w.op, platform.Failed, platform.ReadNothing, "", waited)
		default:
			return min(sent, waited)
		}
	}
}

// replan re-plans, after a change settle established, the reads whose
// answer is not on its way yet, and sends the reads that waited for a
// member if one suits now.
func (r *mongoReader) replan() {
	now := r.m.s.now
	for i := range r.pending.items {
		rd := &r.pending.items[i]
		if rd.served <= now {
			continue // answered; the answer is on its way
		}
		r.plan(rd)
	}
	r.pending.init()
	r.dispatch()
}

// dispatch sends the waiting reads, oldest first, while a member suits.
func (r *mongoReader) dispatch() {
	for r.waiting.n > 0 {
		x := r.selectMember()
		if x == nil {
			return
		}
		w := r.waiting.pop()
		r.send(w.op, w.invoke, x)
	}
}

// readHeap is a binary min-heap of reads on (done, read): reads to members
// at different distances complete out of issue order. It reuses its
// backing array, so a steady stream of reads does not allocate.
type readHeap struct{ items []mongoRead }

func (h *readHeap) len() int        { return len(h.items) }
func (h *readHeap) top() *mongoRead { return &h.items[0] }
func (h *readHeap) less(i, j int) bool {
	a, b := &h.items[i], &h.items[j]
	if a.done != b.done {
		return a.done < b.done
	}
	return a.read < b.read
}

func (h *readHeap) push(rd mongoRead) {
	h.items = append(h.items, rd)
	h.up(len(h.items) - 1)
}

func (h *readHeap) pop() mongoRead {
	top := h.items[0]
	last := len(h.items) - 1
	h.items[0] = h.items[last]
	h.items[last] = mongoRead{}
	h.items = h.items[:last]
	h.down(0)
	return top
}

// init restores the heap order after items changed in place.
func (h *readHeap) init() {
	for i := len(h.items)/2 - 1; i >= 0; i-- {
		h.down(i)
	}
}

func (h *readHeap) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !h.less(i, parent) {
			return
		}
		h.items[i], h.items[parent] = h.items[parent], h.items[i]
		i = parent
	}
}

func (h *readHeap) down(i int) {
	n := len(h.items)
	for {
		smallest, l, r := i, 2*i+1, 2*i+2
		if l < n && h.less(l, smallest) {
			smallest = l
		}
		if r < n && h.less(r, smallest) {
			smallest = r
		}
		if smallest == i {
			return
		}
		h.items[i], h.items[smallest] = h.items[smallest], h.items[i]
		i = smallest
	}
}
