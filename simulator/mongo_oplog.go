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
	ents   []oplogEntry

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

func (l *oplog) len() int { return l.base + len(l.ents) }

// entry returns entry i of the branch (an index below base lives in an
// ancestor).
func (l *oplog) entry(i int) *oplogEntry {
	for i < l.base {
		l = l.parent
	}
	return &l.ents[i-l.base]
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
	if n := len(l.ents); n > 0 && at < l.ents[n-1].at {
		at = l.ents[n-1].at
	}
	if at <= l.batchStart {
		l.batchEnd += perOp
	} else {
		start := max(at, l.batchEnd)
		l.batchStart = start
		l.batchEnd = start + overhead + perOp
	}
	l.ents = append(l.ents, oplogEntry{op: op, at: at, applied: l.batchEnd})
	return l.len() - 1
}

// truncateAfter drops the owner's entries appended after t: writes still
// on the wire when the primary died, froze or stepped down.
func (l *oplog) truncateAfter(t time.Duration) {
	n := len(l.ents)
	for n > 0 && l.ents[n-1].at > t {
		n--
	}
	l.ents = l.ents[:n]
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
	var walk func(b *oplog, limit int)
	walk = func(b *oplog, limit int) {
		if b == nil || limit <= 0 {
			return
		}
		walk(b.parent, min(limit, b.base))
		for i := 0; i < len(b.ents) && b.base+i < limit; i++ {
			out = append(out, b.ents[i].op)
		}
	}
	walk(l, n)
	return out
}
