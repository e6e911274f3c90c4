package simulator

import "time"

// oplog is one branch of a replica set's history: the entries one primary
// appended during its term, on top of a prefix of the branch it was elected
// from. Entries [0, base) are the parent's; a member's data is always a
// prefix of some branch, so "what does member x hold" is (branch, count).
// Branches diverge when an old primary keeps accepting writes its
// successor never sees; the divergent suffix is what a rollback discards.
type oplog struct {
	parent *oplog
	base   int
	term   int
	owner  *mongoMember
	// The branch's own entries [base, len()): packed chunks (packed.go:
	// the op, at and applied-at of each, about 8 bytes an entry instead of
	// 24) and the last ones not yet packed.
	chunks []packedChunk
	tail   []oplogEntry

	// The apply batch the owner's secondaries would be building now, in
	// the owner's time (see appendEntry).
	batchStart, batchEnd time.Duration
}

// oplogEntry is one client write in the oplog.
type oplogEntry struct {
	op uint64
	// at is when the primary appended it.
	at time.Duration
	// applied is when a secondary at zero distance from the primary has
	// applied it; a member at one-way latency l applies it at applied+l.
	applied time.Duration
}

func newBranch(parent *oplog, base, term int, owner *mongoMember) *oplog {
	return &oplog{parent: parent, base: base, term: term, owner: owner, batchStart: -1}
}

func (l *oplog) len() int { return l.base + l.own() }

// own is how many entries the branch appended itself.
func (l *oplog) own() int { return len(l.chunks)<<packShift + len(l.tail) }

// entry returns entry i of the branch (an index below base lives in an
// ancestor).
func (l *oplog) entry(i int) oplogEntry {
	for i < l.base {
		l = l.parent
	}
	return l.ownEntry(i - l.base)
}

// ownEntry is the branch's own entry j.
func (l *oplog) ownEntry(j int) oplogEntry {
	if k := j >> packShift; k < len(l.chunks) {
		c := &l.chunks[k]
		r := j & (packChunk - 1)
		at := time.Duration(c.field(r, 1))
		return oplogEntry{op: c.field(r, 0), at: at, applied: at + time.Duration(c.field(r, 2))}
	}
	return l.tail[j-len(l.chunks)<<packShift]
}

// packTail packs a full tail into a chunk.
func (l *oplog) packTail() {
	var ops, ats, lags [packChunk]uint64
	for j, e := range l.tail {
		ops[j], ats[j], lags[j] = e.op, uint64(e.at), uint64(e.applied-e.at)
	}
	l.chunks = append(l.chunks, newPackedChunk(ops[:], ats[:], lags[:]))
	l.tail = l.tail[:0]
}

// truncate keeps the branch's first n own entries.
func (l *oplog) truncate(n int) {
	k, r := n>>packShift, n&(packChunk-1)
	if k < len(l.chunks) {
		tail := make([]oplogEntry, r, packChunk)
		for j := range tail {
			tail[j] = l.ownEntry(k<<packShift + j)
		}
		l.chunks, l.tail = l.chunks[:k:k], tail
		return
	}
	l.tail = l.tail[:n-len(l.chunks)<<packShift]
}

// termOf is the term of the primary that appended entry i; 0 for i < 0.
func (l *oplog) termOf(i int) int {
	if i < 0 {
		return 0
	}
	for i < l.base {
		l = l.parent
	}
	return l.term
}

// appendEntry adds a write arriving at the primary at `at` (never before
// the previous entry) and works out when secondaries apply it.
//
// Secondaries apply the oplog in batches
// (https://www.mongodb.com/docs/manual/core/replica-set-sync/#replication):
// a batch takes every entry that arrived before it started and costs
// overhead + count*perOp, and the next batch starts when it ends. With
// writes arriving at rate r the batch cycle settles at overhead/(1-r*perOp),
// so replication lag grows with the write rate and without bound past
// 1/perOp. The batch sequence depends only on arrival times, so it is
// computed once here in the primary's time and shifted by each member's
// link latency.
func (l *oplog) appendEntry(op uint64, at, overhead, perOp time.Duration) int {
	if n := l.own(); n > 0 {
		at = max(at, l.ownEntry(n-1).at)
	}
	if at <= l.batchStart {
		l.batchEnd += perOp
	} else {
		start := max(at, l.batchEnd)
		l.batchStart = start
		l.batchEnd = start + overhead + perOp
	}
	if l.tail == nil {
		l.tail = make([]oplogEntry, 0, packChunk)
	}
	l.tail = append(l.tail, oplogEntry{op: op, at: at, applied: l.batchEnd})
	i := l.len() - 1
	if len(l.tail) == packChunk {
		l.packTail()
	}
	return i
}

// truncateAfter drops the owner's entries appended after t: writes still
// on the wire when the primary died, froze or stepped down.
func (l *oplog) truncateAfter(t time.Duration) {
	n := l.own()
	for n > 0 && l.ownEntry(n-1).at > t {
		n--
	}
	l.truncate(n)
}

// countAtOrBefore is the number of entries appended at or before t.
func (l *oplog) countAtOrBefore(t time.Duration) int {
	lo, hi := 0, l.len()
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if l.entry(mid).at <= t {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// commonPrefix is how many leading entries a[:na] and b[:nb] share.
func commonPrefix(a *oplog, na int, b *oplog, nb int) int {
	limits := map[*oplog]int{}
	for l, n := a, na; l != nil; l, n = l.parent, l.base {
		limits[l] = min(n, l.len())
	}
	for l, n := b, nb; l != nil; l, n = l.parent, l.base {
		if la, ok := limits[l]; ok {
			return min(la, n, l.len())
		}
	}
	return 0
}

// ops collects the op ids of entries [0, n).
func (l *oplog) ops(n int) []uint64 {
	out := make([]uint64, 0, n)
	l.eachOp(n, func(op uint64) { out = append(out, op) })
	return out
}

// eachOp calls f with the op id of each entry [0, n), in order.
func (l *oplog) eachOp(n int, f func(uint64)) {
	if l == nil || n <= 0 {
		return
	}
	l.parent.eachOp(min(n, l.base), f)
	end := min(l.own(), n-l.base)
	for k := 0; k < len(l.chunks) && k<<packShift < end; k++ {
		c := &l.chunks[k]
		for r := 0; r < packChunk && k<<packShift+r < end; r++ {
			f(c.field(r, 0))
		}
	}
	for j := len(l.chunks) << packShift; j < end; j++ {
		f(l.tail[j-len(l.chunks)<<packShift].op)
	}
}
