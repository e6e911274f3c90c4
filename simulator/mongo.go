package simulator

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

// mongoNever is the time of something that will not happen under the
// current network and node states.
const mongoNever = time.Duration(math.MaxInt64)

// mongoMember is one replica-set member: its configuration, what data it
// holds (a prefix of an oplog branch) and, while it replicates from a
// primary, the parameters that say when it applies each new entry.
//
// The fields a write-concern check reads of every member for every write
// (knownAt) come first, so that they share a line or two of cache rather
// than four: the check is a sizeable part of a w: majority write's cost,
// and much of it was cache misses.
type mongoMember struct {
	node  *simNode
	votes int

	// Replication from the primary owning log, valid while live: entry i
	// (i >= epochIdx) is applied at max(applied_i + lat, epochAt + lat +
	// overhead + (i-epochIdx+1)*perOp), the second term being the catch-up
	// of a backlog that arrived at once when the stream (re)started.
	log      *oplog
	lat      time.Duration
	epochAt  time.Duration
	epochIdx int
	// What the primary owning ackLog knows this member has applied.
	ackLog *oplog
	ackIdx int

	live     bool
	arbiter  bool // votes, holds no data, never primary
	inConfig bool // false once a forced reconfig removed it
	// syncing is initial sync in progress (STARTUP2): it acknowledges no
	// write and cannot be elected. While it clones, log is nil; then it
	// applies the oplog it buffered and leaves STARTUP2 once it has
	// applied minValid entries. A newlyAdded member (add-member, MongoDB
	// 5.0+) does not vote until then either; a resynced one does.
	syncing    bool
	newlyAdded bool
	minValid   int
	syncSeq    int         // invalidates the sync steps scheduled for an earlier sync
	syncCheck  int         // invalidates the STARTUP2 check scheduled before the last change
	syncDone   func(error) // the runbook step waiting for the sync
	syncDetail string      // how the member got its data, for member-added
	// stale is RECOVERING after finding its newest write gone from the
	// primary's oplog (RS102): it votes but neither replicates nor
	// acknowledges until it is resynced.
	stale bool
	// caughtUp is a secondary within mongo.caught_up_lag of the primary
	// (the primary itself is); reportCatchUp marks a member the runbook
	// added or resynced, whose lag is reported until it is caught up.
	caughtUp      bool
	reportCatchUp bool
	isPrimary     bool
	frozenUntil   time.Duration // not electable before (after replSetStepDown)
	// steppingDown is a primary in replSetStepDown waiting for a secondary
	// to catch up: still PRIMARY, but it refuses writes.
	steppingDown bool

	priority float64
	hidden   bool
	tags     map[string]string
	tagValue []int // per write-mode constraint: index of this member's tag value, -1 if untagged

	applied   int           // entries of log applied, as of the last materialize
	lastHeard time.Duration // last news from a primary (heartbeat or oplog batch)

	hbPhase       time.Duration
	timerSeq      int
	timerArmed    bool
	takeoverArmed bool
	electSeq      int
	stepDownSeq   int
	majorityLost  bool
}

func (x *mongoMember) name() string { return x.node.Name }

// memberState names what a member is now, in replSetGetStatus's words
// (stateStr), or why it does not answer.
func (m *mongoModel) memberState(x *mongoMember) string {
	switch {
	case x.node.state == nodeDown:
		return "(not reachable/healthy)"
	case x.node.state == nodePaused:
		return "(not answering)"
	case x.arbiter:
		return "ARBITER"
	case x.isPrimary:
		return "PRIMARY"
	case x.stale:
		return "RECOVERING"
	case x.syncing:
		return "STARTUP2"
	}
	return "SECONDARY"
}

// mongoWrite is a write a primary took (or that vanished into a frozen one)
// whose outcome has not been delivered.
type mongoWrite struct {
	op      uint64
	invoke  time.Duration
	done    time.Duration // when the client learns outcome
	ackAt   time.Duration // when the primary sent the acknowledgement
	log     *oplog        // nil: never reached a primary
	idx     int
	outcome platform.Outcome
}

// mongoSelecting is a write waiting for server selection to find a primary.
type mongoSelecting struct {
	op     uint64
	invoke time.Duration
}

// mongoQueue is a growable ring buffer, so a steady stream of pending
// writes reuses its memory instead of sliding along an ever-growing slice.
type mongoQueue[T any] struct {
	buf     []T
	head, n int
}

func (q *mongoQueue[T]) push(v T) {
	if q.n == len(q.buf) {
		nb := make([]T, max(16, 2*len(q.buf)))
		for i := 0; i < q.n; i++ {
			nb[i] = q.buf[(q.head+i)&(len(q.buf)-1)]
		}
		q.buf, q.head = nb, 0
	}
	q.buf[(q.head+q.n)&(len(q.buf)-1)] = v
	q.n++
}

func (q *mongoQueue[T]) front() *T { return &q.buf[q.head] }
func (q *mongoQueue[T]) back() *T  { return &q.buf[(q.head+q.n-1)&(len(q.buf)-1)] }

// pop takes the oldest value out. Its slot keeps a stale copy until a push
// reuses it (clearing it cost a write barrier per write during GC): what it
// may point to, an oplog branch, lives on for that while at most.
func (q *mongoQueue[T]) pop() T {
	v := q.buf[q.head]
	q.head = (q.head + 1) & (len(q.buf) - 1)
	q.n--
	return v
}

// drain empties the queue into a new slice, oldest first.
func (q *mongoQueue[T]) drain() []T {
	out := make([]T, 0, q.n)
	for q.n > 0 {
		out = append(out, q.pop())
	}
	return out
}

type concernKind uint8

const (
	concernCount concernKind = iota // w: <n>
	concernMajority
	concernMode // a settings.getLastErrorModes entry
)

// mongoConcern is the workload's write concern.
type mongoConcern struct {
	kind        concernKind
	n           int
	constraints []tagConstraint
}

// tagConstraint asks for members covering count distinct values of tag.
type tagConstraint struct {
	tag    string
	count  int
	values int // distinct values among the members
}

// mongoModel is a simulated MongoDB replica set and the driver its workload
// writes through.
type mongoModel struct {
	s *Sim
	// presence is the read-back's bitset, shared by its batches.
	presence presenceBits
	spec     *platform.ServiceSpec
	set      mongoSettings

	members []*mongoMember
	byNode  map[int]*mongoMember
	// primary is the newest-term primary that is running; nil while the set
	// has none that can take writes.
	primary       *mongoMember
	term          int
	configVersion int
	voters        int
	dataVoters    int // voting members that hold data (not arbiters)
	fullCount     int
	degraded      bool
	electionRand  *rand.Rand
	electedHooks  []func(*mongoMember)
	netSig        []time.Duration
	stepDown      *mongoStepDown // the replSetStepDown in progress, if any
	// oplogEntries is how many entries the oplog holds by size
	// (mongo.oplog_size_mb / mongo.oplog_entry_bytes).
	oplogEntries int
	samplerArmed bool
	sampleLag    platform.HandlerFunc

	concern mongoConcern
	// unsatisfiable is set while the configuration cannot meet the
	// concern at all (a multi-region mode after the set shrank to one
	// region, or w: n above the member count).
	unsatisfiable bool
	timeout       time.Duration
	selectWait    time.Duration

	// The driver: the primary it writes to (nil while selecting a server),
	// and the monitor's schedule.
	clientRegion  int // the clients' region: its index in the topology (Sim.regionIndex)
	clientPrimary *mongoMember
	clientLat     time.Duration
	// jitter varies each write's trip to the primary (net.jitter_max,
	// jitter.max), so latencies have a spread and seeds differ.
	jitter         *jitter
	selectingSince time.Duration
	clientPhase    time.Duration
	discoverSeq    int

	// Outcomes not yet delivered. sent is in completion order as long as
	// nothing changes; a fault re-plans everything into replanned (sorted).
	sent          mongoQueue[mongoWrite]
	replanned     []mongoWrite
	replannedHead int
	selecting     mongoQueue[mongoSelecting]

	times, values []time.Duration // scratch for commit-point computation

	diskBytesPerWrite int
	readers           []*mongoReader // the read workloads
}

func newMongoModel(s *Sim, spec *platform.ServiceSpec) (model, error) {
	m := &mongoModel{
		s:            s,
		spec:         spec,
		set:          readMongoSettings(s.params),
		byNode:       map[int]*mongoMember{},
		electionRand: s.rand("mongo/election/" + spec.Name),
	}
	// The catch-up sampler runs every heartbeat and backups are taken
	// every interval: neither can be zero.
	if m.set.heartbeatInterval <= 0 || m.set.backupInterval <= 0 || m.set.oplogEntryBytes <= 0 {
		return nil, fmt.Errorf("build mongo service %q: mongo.heartbeat_interval, mongo.backup_interval and mongo.oplog_entry_bytes must be positive", spec.Name)
	}
	heartbeats := s.rand("mongo/heartbeat/" + spec.Name)
	for _, mm := range spec.Members {
		n, err := s.node(mm.Name)
		if err != nil {
			return nil, fmt.Errorf("build mongo service %q: %w", spec.Name, err)
		}
		x := &mongoMember{node: n, priority: mm.Priority, votes: mm.VoteCount(), hidden: mm.Hidden, arbiter: mm.Arbiter, tags: mm.Tags, inConfig: true, caughtUp: true,
			hbPhase: time.Duration(heartbeats.Int64N(int64(m.set.heartbeatInterval) + 1))}
		if !x.arbiter {
			// Full redundancy counts the copies of the data.
			m.fullCount++
		}
		m.members = append(m.members, x)
		m.byNode[n.index] = x
	}
	w := s.workload(spec.Name)
	m.timeout = w.Timeout
	m.selectWait = min(m.set.serverSelection, w.Timeout)
	concern, err := parseConcern(spec, w.WriteConcern)
	if err != nil {
		return nil, err
	}
	m.concern = concern
	m.clientPhase = time.Duration(s.rand("mongo/client/" + spec.Name).Int64N(int64(m.set.clientHeartbeat) + 1))
	m.jitter = s.newJitter("mongo/jitter/" + spec.Name)
	m.configVersion = 1
	m.oplogEntries = max(1, int(int64(m.set.oplogSizeMB)<<20/int64(m.set.oplogEntryBytes)))
	m.sampleLag = m.sampleCatchUp
	m.diskBytesPerWrite = s.params.integer("mongo.disk_bytes_per_write")
	m.recount()
	return m, nil
}

// parseConcern reads a workload's w: "1", a member count, "majority" (the
// default since MongoDB 5.0) or a write mode of the replica set
// (https://www.mongodb.com/docs/manual/reference/write-concern/#w-option).
func parseConcern(spec *platform.ServiceSpec, w string) (mongoConcern, error) {
	switch {
	case w == "" || w == "majority":
		return mongoConcern{kind: concernMajority}, nil
	case spec.WriteModes[w] != nil:
		c := mongoConcern{kind: concernMode}
		for _, tag := range platform.SortedKeys(spec.WriteModes[w]) {
			c.constraints = append(c.constraints, tagConstraint{tag: tag, count: spec.WriteModes[w][tag]})
		}
		return c, nil
	}
	n, err := strconv.Atoi(w)
	if err != nil || n < 1 {
		return mongoConcern{}, fmt.Errorf("mongo service %q: unknown write concern %q", spec.Name, w)
	}
	return mongoConcern{kind: concernCount, n: n}, nil
}

// recount recomputes what depends on the configuration: the number of
// voters and each member's tag-value index for the write mode.
func (m *mongoModel) recount() {
	m.voters, m.dataVoters = 0, 0
	for _, x := range m.members {
		if m.votesNow(x) {
			m.voters++
			if !x.arbiter {
				m.dataVoters++
			}
		}
	}
	for ci := range m.concern.constraints {
		c := &m.concern.constraints[ci]
		var seen []string
		for _, x := range m.members {
			for len(x.tagValue) < len(m.concern.constraints) {
				x.tagValue = append(x.tagValue, -1)
			}
			v, ok := x.tags[c.tag]
			if !ok || !x.inConfig || x.arbiter {
				x.tagValue[ci] = -1
				continue
			}
			i := slices.Index(seen, v)
			if i < 0 {
				i = len(seen)
				seen = append(seen, v)
			}
			x.tagValue[ci] = i
		}
		c.values = len(seen)
	}
	m.unsatisfiable = false
	switch m.concern.kind {
	case concernMode:
		for _, c := range m.concern.constraints {
			m.unsatisfiable = m.unsatisfiable || c.values < c.count
		}
	case concernCount:
		// Arbiters cannot acknowledge writes.
		dataBearing := 0
		for _, x := range m.members {
			if x.inConfig && !x.arbiter {
				dataBearing++
			}
		}
		m.unsatisfiable = dataBearing < m.concern.n
	}
}

// votesNow reports whether x counts as a voter of the current config.
func (m *mongoModel) votesNow(x *mongoMember) bool {
	return x.inConfig && x.votes > 0 && !(x.syncing && x.newlyAdded)
}

// majority is the vote count that elects a primary.
func (m *mongoModel) majority() int { return m.voters/2 + 1 }

// writeMajority is how many voting members a w:"majority" write waits for:
// the voting majority, or every data-bearing voting member when arbiters
// leave fewer than that
// (https://www.mongodb.com/docs/manual/reference/write-concern/#calculating-majority-for-write-concern).
// A primary-secondary-arbiter set thus needs both data-bearing members.
func (m *mongoModel) writeMajority() int { return min(m.majority(), m.dataVoters) }

func (m *mongoModel) service() string { return m.spec.Name }

// start makes the highest-priority electable member primary, everyone
// caught up, and points the client at it from its region.
func (m *mongoModel) start() {
	var first *mongoMember
	for _, x := range m.members {
		if x.priority > 0 && x.votes > 0 && !x.arbiter && (first == nil || x.priority > first.priority) {
			first = x
		}
	}
	if first == nil {
		m.setClientRegion(m.members[0].node.Region)
		m.settle()
		return
	}
	m.term = 1
	l := newBranch(nil, 0, m.term, first)
	for _, x := range m.members {
		if !x.arbiter {
			x.log = l
		}
	}
	first.isPrimary = true
	m.primary = first
	m.setClientRegion(first.node.Region)
	m.clientPrimary = first
	m.clientLat = m.clientLatency(first.node)
	m.netSig = m.networkSignature()
	m.settle()
}

// setClientRegion places the driver's clients in region.
func (m *mongoModel) setClientRegion(region string) {
	m.clientRegion = m.s.regionIndex(region)
}

// clientLatency is the one-way latency from the driver's clients to node n.
func (m *mongoModel) clientLatency(n *simNode) time.Duration {
	return m.s.clientLatencyFrom(m.clientRegion, n)
}

// --- the write path (one call per client write; no allocation) ---

func (m *mongoModel) write(op uint64) (due time.Duration) {
	now := m.s.now
	if m.clientPrimary == nil {
		m.selecting.push(mongoSelecting{op: op, invoke: now})
		return now + m.selectWait
	}
	return m.send(op, now, now)
}

// send hands a write to the primary the driver believes in. due is when
// its outcome is delivered, or now if that depends on what comes next.
func (m *mongoModel) send(op uint64, invoke, now time.Duration) (due time.Duration) {
	x := m.clientPrimary
	w := mongoWrite{op: op, invoke: invoke, ackAt: mongoNever, idx: -1}
	switch {
	case x.node.state == nodePaused:
		// Nothing answers; the driver times out.
		w.outcome, w.done = platform.Unknown, invoke+m.timeout
	case !x.isPrimary || x.steppingDown || x.node.state != nodeRunning:
		// NotWritablePrimary: a retryable error, so the driver selects a
		// server again and retries.
		m.startSelecting(now)
		m.selecting.push(mongoSelecting{op: op, invoke: invoke})
		return now
	default:
		w.log = x.log
		arrive := now + m.clientLat + m.jitter.draw()
		w.idx = x.log.appendEntry(op, arrive, m.set.applyOverhead, m.set.applyPerOp)
		m.plan(&w)
	}
	m.enqueue(w)
	return w.done
}

// plan works out a write's outcome from the write concern under the
// current states: acknowledged when the concern is met and the answer has
// travelled back, unknown at the timeout otherwise.
func (m *mongoModel) plan(w *mongoWrite) {
	deadline := w.invoke + m.timeout
	if m.unsatisfiable {
		// The primary applies the write and answers at once with a
		// writeConcernError UnsatisfiableWriteConcern (code 100): the client
		// cannot tell whether the write will survive
		// (https://github.com/mongodb/specifications/blob/master/source/read-write-concern/read-write-concern.md#writeconcernerror-examples).
		w.ackAt = mongoNever
		w.outcome, w.done = platform.Unknown, max(w.invoke, m.s.now)+2*m.clientLatency(w.log.owner.node)
		return
	}
	ack := m.concernTime(w.log, w.idx)
	if ack < m.s.now {
		// Met only now (a reconfig, a member back): a write not yet
		// acknowledged cannot be acknowledged in the past.
		ack = m.s.now
	}
	w.ackAt = ack
	if ack == mongoNever {
		w.outcome, w.done = platform.Unknown, deadline
		return
	}
	back := ack + m.clientLatency(w.log.owner.node)
	if back > deadline {
		w.outcome, w.done = platform.Unknown, deadline
		return
	}
	w.outcome, w.done = platform.Acked, back
}

func (m *mongoModel) enqueue(w mongoWrite) {
	if m.sent.n > 0 && w.done < m.sent.back().done {
		m.spill()
	}
	m.sent.push(w)
}

// spill merges sent into replanned so that sent can start a new monotone
// run (a client that switched primaries gets fast answers while writes to
// the old one still wait for their timeouts).
func (m *mongoModel) spill() {
	a := m.replanned[m.replannedHead:]
	b := m.sent.drain()
	merged := make([]mongoWrite, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		if j == len(b) || (i < len(a) && a[i].done <= b[j].done) {
			merged = append(merged, a[i])
			i++
		} else {
			merged = append(merged, b[j])
			j++
		}
	}
	m.replanned, m.replannedHead = merged, 0
}

// advanceWrites delivers every write outcome due by t, in time order, from
// the three queues: sent writes, re-planned writes, and writes that waited
// for server selection in vain. next is the time of the first outcome left.
func (m *mongoModel) advanceWrites(t time.Duration) (next time.Duration) {
	for {
		best, src := mongoNever, 0
		if m.sent.n > 0 {
			best, src = m.sent.front().done, 1
		}
		if m.replannedHead < len(m.replanned) {
			if d := m.replanned[m.replannedHead].done; d < best {
				best, src = d, 2
			}
		}
		if m.selecting.n > 0 {
			if d := m.selecting.front().invoke + m.selectWait; d < best {
				best, src = d, 3
			}
		}
		if best > t {
			return best
		}
		switch src {
		case 1:
			w := m.sent.pop()
			m.s.complete(w.op, w.outcome, w.done)
		case 2:
			w := m.replanned[m.replannedHead]
			m.replannedHead++
			if m.replannedHead == len(m.replanned) {
				m.replanned, m.replannedHead = m.replanned[:0], 0
			}
			m.s.complete(w.op, w.outcome, w.done)
		case 3:
			w := m.selecting.pop()
			m.s.complete(w.op, platform.Failed, w.invoke+m.selectWait)
		}
	}
}

// advance delivers the writes' and then the reads' outcomes due by t.
func (m *mongoModel) advance(t time.Duration) (next time.Duration) {
	next = m.advanceWrites(t)
	for _, r := range m.readers {
		next = min(next, r.advance(t))
	}
	return next
}

// concernTime is when the primary owning l knows entry i satisfies the
// write concern (mongoNever if it cannot now).
func (m *mongoModel) concernTime(l *oplog, i int) time.Duration {
	c := &m.concern
	if c.kind == concernCount && c.n == 1 {
		return l.entry(i).at
	}
	e := entryRef{l: l, i: i}
	if c.kind == concernMode {
		var worst time.Duration
		for ci := range c.constraints {
			con := &c.constraints[ci]
			vals := m.values[:0]
			for v := 0; v < con.values; v++ {
				vals = append(vals, mongoNever)
			}
			for _, x := range m.members {
				if !x.inConfig || x.syncing || x.arbiter || x.tagValue[ci] < 0 {
					continue
				}
				if t := m.knownAt(x, &e); t < vals[x.tagValue[ci]] {
					vals[x.tagValue[ci]] = t
				}
			}
			m.values = vals
			worst = max(worst, kth(vals, con.count))
		}
		return worst
	}
	if c.kind == concernMajority {
		return m.majorityKnownAt(l, i)
	}
	ts := m.times[:0]
	for _, x := range m.members {
		if x.inConfig && !x.syncing && !x.arbiter {
			ts = append(ts, m.knownAt(x, &e))
		}
	}
	m.times = ts
	return kth(ts, c.n)
}

// majorityKnownAt is when the primary owning l knows that entry i is on
// writeMajority voting members (mongoNever if it cannot now).
func (m *mongoModel) majorityKnownAt(l *oplog, i int) time.Duration {
	e := entryRef{l: l, i: i}
	ts := m.times[:0]
	for _, x := range m.members {
		if x.inConfig && !x.syncing && x.votes > 0 && !x.arbiter {
			ts = append(ts, m.knownAt(x, &e))
		}
	}
	m.times = ts
	return kth(ts, m.writeMajority())
}

// kth is the k-th smallest of ts (mongoNever if there are fewer); it sorts
// ts in place (a handful of members: insertion sort).
func kth(ts []time.Duration, k int) time.Duration {
	if k > len(ts) || k < 1 {
		return mongoNever
	}
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && ts[j] < ts[j-1]; j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
	return ts[k-1]
}

// entryRef is entry i of branch l, read at most once and only when a
// member's answer needs it: a write-concern check asks every member about
// the same entry, and members that already acknowledged it or are cut off
// never read it (on a branch a rollback cut back, i may lie past the end
// for exactly those).
type entryRef struct {
	l      *oplog
	i      int
	e      oplogEntry
	loaded bool
}

func (r *entryRef) entry() oplogEntry {
	if !r.loaded {
		r.e, r.loaded = r.l.entry(r.i), true
	}
	return r.e
}

// knownAt is when the primary owning e's branch learns that member x
// applied entry e: at once for itself, after the member's apply time plus
// the way back for a replicating secondary, never for a member cut off
// from it.
func (m *mongoModel) knownAt(x *mongoMember, e *entryRef) time.Duration {
	l, i := e.l, e.i
	if x == l.owner {
		// A write that waits for more than the primary itself waits for
		// its journal too (writeConcernMajorityJournalDefault).
		return e.entry().at + x.node.disk.ioLatency()
	}
	if x.ackLog == l && i < x.ackIdx {
		return 0
	}
	if !x.live || x.log != l {
		return mongoNever
	}
	if i < x.epochIdx {
		return x.epochAt + x.lat
	}
	return m.streamedAt(x, i, e.entry().applied) + x.lat
}

// appliedAt is when live member x applies entry i of its branch.
func (m *mongoModel) appliedAt(x *mongoMember, i int) time.Duration {
	if i < x.epochIdx {
		return x.epochAt
	}
	return m.streamedAt(x, i, x.log.entry(i).applied)
}

// streamedAt is when live member x applies entry i (i >= x.epochIdx) of its
// branch, which a member at zero distance from the primary applies at
// applied: the stream's pace, or the catch-up of the backlog the stream
// (re)started with.
func (m *mongoModel) streamedAt(x *mongoMember, i int, applied time.Duration) time.Duration {
	extra, perOp := m.diskCost(x)
	stream := applied + x.lat + extra
	backlog := x.epochAt + x.lat + m.set.applyOverhead + extra + time.Duration(i-x.epochIdx+1)*perOp
	return max(stream, backlog)
}

// materialize brings x.applied and x.ackIdx up to time t under the
// parameters in force until now; call it before changing them.
func (m *mongoModel) materialize(x *mongoMember, t time.Duration) {
	l := x.log
	if l == nil {
		return
	}
	if x.isPrimary && l.owner == x {
		// A frozen or dead primary's log was cut at the fault, so this
		// also holds for it.
		x.applied = l.countAtOrBefore(t)
		return
	}
	if !x.live {
		return
	}
	n := l.len()
	lo, hi := x.applied, n
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if m.appliedAt(x, mid) <= t {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	x.applied = lo
	lo, hi = 0, x.applied
	if x.ackLog == l {
		lo = min(x.ackIdx, hi)
	}
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if m.appliedAt(x, mid)+x.lat <= t {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	x.ackLog, x.ackIdx = l, lo
}

func (m *mongoModel) materializeAll() {
	for _, x := range m.members {
		m.materialize(x, m.s.now)
	}
}

// --- the driver's view of the set ---

// startSelecting is the driver losing its primary (connection reset,
// NotWritablePrimary): from now on it checks the servers every
// client.min_heartbeat_interval until one is primary.
func (m *mongoModel) startSelecting(now time.Duration) {
	if m.clientPrimary == nil {
		return
	}
	m.clientPrimary = nil
	m.selectingSince = now
	if m.primary != nil {
		m.scheduleDiscovery(m.primary)
	}
}

// scheduleDiscovery makes the driver find primary p: at once with the
// streaming protocol (client.streaming_discovery), otherwise at its next
// server check: the fast re-check while it is selecting, else the regular
// monitoring round (client.heartbeat_interval), which sees p's newer term
// (https://github.com/mongodb/specifications/blob/master/source/server-discovery-and-monitoring/server-monitoring.md).
func (m *mongoModel) scheduleDiscovery(p *mongoMember) {
	now := m.s.now
	var tick time.Duration
	switch {
	case m.set.clientStreaming:
		// The monitor's awaitable hello on p answers as soon as p's
		// topology version changes: one trip back to the client.
		m.discoverAt(p, now+m.clientLatency(p.node))
		return
	case m.clientPrimary == nil:
		step := m.set.clientMinHeartbeat
		tick = m.selectingSince + ceilDiv(now-m.selectingSince, step)*step
	default:
		step := m.set.clientHeartbeat
		tick = m.clientPhase
		if now > tick {
			tick += ceilDiv(now-tick, step) * step
		}
	}
	m.discoverAt(p, tick+2*m.clientLatency(p.node))
}

// discoverAt makes the driver find primary p at time at, unless something
// newer was scheduled or p is no longer primary by then.
func (m *mongoModel) discoverAt(p *mongoMember, at time.Duration) {
	m.discoverSeq++
	seq := m.discoverSeq
	m.s.timer(at, platform.HandlerFunc(func(now time.Duration) {
		if seq == m.discoverSeq && p == m.primary && p.isPrimary && !p.steppingDown && m.s.up(p.node) {
			m.discovered(p)
		}
	}))
}

func ceilDiv(a, b time.Duration) time.Duration {
	if b <= 0 || a <= 0 {
		return 0
	}
	return (a + b - 1) / b
}

// discovered points the driver at p and sends the writes that waited.
func (m *mongoModel) discovered(p *mongoMember) {
	m.clientPrimary = p
	m.clientLat = m.clientLatency(p.node)
	for _, w := range m.selecting.drain() {
		m.send(w.op, w.invoke, m.s.now)
	}
	for _, r := range m.readers {
		r.dispatch()
	}
}

// --- faults ---

func (m *mongoModel) nodeChanged(n *simNode, c nodeChange) {
	x := m.byNode[n.index]
	if x == nil {
		return
	}
	m.emitLag()
	m.materializeAll()
	now := m.s.now
	switch c {
	case changeKilled:
		m.crash(x)
	case changeStopped:
		// A clean shutdown of a primary steps down and hands the election
		// to a secondary that catches up within the step-down period;
		// without one it goes down like a crash.
		if !x.isPrimary {
			m.crash(x)
			break
		}
		x.log.truncateAfter(now)
		if y, caught := m.successor(x, x.log.len()); y != nil && caught-now <= m.set.stepDownCatchUp {
			m.handOffTo(x, y, x.log.len(), caught)
		} else {
			m.crash(x)
		}
	case changePaused:
		if x.isPrimary {
			x.log.truncateAfter(now)
		}
		x.live = false
	case changeStarted, changeResumed:
		x.lastHeard = now
	case changeDisk:
		m.diskChanged(x)
	}
	m.netSig = m.networkSignature()
	m.settle()
}

// crash is a member going away at once: connections reset, in-flight
// writes to it lost.
func (m *mongoModel) crash(x *mongoMember) {
	x.live = false
	if x.isPrimary {
		x.isPrimary = false
		x.log.truncateAfter(m.s.now)
	}
	if m.clientPrimary == x {
		m.startSelecting(m.s.now)
	}
}

func (m *mongoModel) networkChanged() {
	// The request leg of every write from now on crosses the link as it is
	// now: added latency on the primary slows the way there as much as the
	// way back.
	if m.clientPrimary != nil {
		m.clientLat = m.clientLatency(m.clientPrimary.node)
	}
	sig := m.networkSignature()
	if slices.Equal(sig, m.netSig) {
		return
	}
	m.emitLag()
	m.materializeAll()
	m.netSig = sig
	m.settle()
}

// networkSignature is the latency (-1: cut) between every pair of members.
func (m *mongoModel) networkSignature() []time.Duration {
	var sig []time.Duration
	for i, a := range m.members {
		for _, b := range m.members[i+1:] {
			if m.s.reachable(a.node, b.node) {
				sig = append(sig, m.s.latency(a.node, b.node))
			} else {
				sig = append(sig, -1)
			}
		}
	}
	return sig
}

// emitLag reports, at a fault and against the primary of that moment, how
// far each member is behind it (lagBehind); the primary itself is 0s
// behind. Members without data of their own (arbiters, members still
// cloning) have no sample.
func (m *mongoModel) emitLag() {
	p := m.primary
	if p == nil {
		return
	}
	m.materializeAll()
	m.s.emit(m.spec.Name, platform.EventReplicationLag, p.name(), "0s")
	for _, x := range m.members {
		if x == p || !x.inConfig || x.log == nil {
			continue
		}
		m.s.emit(m.spec.Name, platform.EventReplicationLag, x.name(), m.lagBehind(x, p).String())
	}
}

// lagBehind is how far member x is behind primary p now: the time of p's
// newest write minus that of the newest one x applied of p's history (what
// rs.printSecondaryReplicationInfo() shows). Call materializeAll first.
func (m *mongoModel) lagBehind(x, p *mongoMember) time.Duration {
	last := p.applied
	if last == 0 {
		return 0
	}
	lastAt := p.log.entry(last - 1).at
	pos := x.applied
	if x.log != p.log {
		pos = commonPrefix(x.log, x.applied, p.log, last)
	}
	switch pos = min(pos, last); {
	case pos == 0:
		return lastAt
	case pos < last:
		return lastAt - p.log.entry(pos-1).at
	}
	return 0
}

// --- reading back ---

// readBack reads the documents back from the primary, as the live
// platform does (read preference primary, read concern majority): a set
// without a primary cannot be read, and its writes are unverified rather
// than lost, whatever a secondary holds.
func (m *mongoModel) readBack(ids []uint64, present []bool) error {
	m.materializeAll()
	src := m.primary
	if src == nil || !m.s.up(src.node) {
		var members []string
		for _, x := range m.members {
			if x.inConfig {
				members = append(members, x.name()+" "+m.memberState(x))
			}
		}
		return fmt.Errorf("read back %s: the replica set has no primary (%s; did a recovery step fail?): its writes cannot be verified", m.spec.Name, strings.Join(members, ", "))
	}
	// One bit per op id the primary's oplog holds, shared by the
	// read-back's batches.
	have := m.presence.get(m.s, func(have *presenceBits) { src.log.eachOp(src.applied, have.set) })
	for i, id := range ids {
		present[i] = have.has(id)
	}
	return nil
}

// fresher compares the newest applied entries of x and y by (term, index),
// as a voter compares a candidate's lastWritten optime with its own.
func (m *mongoModel) fresher(x, y *mongoMember) int {
	tx, ty := x.log.termOf(x.applied-1), y.log.termOf(y.applied-1)
	if tx != ty {
		if tx > ty {
			return 1
		}
		return -1
	}
	switch {
	case x.applied > y.applied:
		return 1
	case x.applied < y.applied:
		return -1
	}
	return 0
}

func (m *mongoModel) role(name string) ([]string, error) {
	switch name {
	case "primary":
		if m.primary == nil {
			return []string{}, nil
		}
		return []string{m.primary.name()}, nil
	case "secondary", "secondaries":
		out := []string{}
		for _, x := range m.members {
			if x.inConfig && !x.syncing && !x.stale && !x.isPrimary && !x.arbiter && m.s.up(x.node) {
				out = append(out, x.name())
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: %s:%s (mongo has primary, secondary)", platform.ErrUnknownRole, m.spec.Name, name)
}
