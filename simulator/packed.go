package simulator

import (
	"iter"
	"math/bits"
)

// Per-write state the models keep for a whole run (the oplog's entries, the
// op ids each Elasticsearch shard acknowledged) is stored packed, so that a
// run's memory grows by a few bytes a write and without the copies of a
// slice grown by append: packChunk records at a time, each field of a record
// stored as its offset from the chunk's smallest value of that field, in the
// fewest bits that hold the chunk's largest offset (frame of reference). A
// record of a packed chunk is read in constant time; packed chunks are never
// changed, so a prefix of a list can be shared (a snapshot) while the list
// goes on.

// packChunk is how many records share a packed chunk: large enough that a
// chunk's header (about 56 bytes) costs under half a byte a record, small
// enough that the span of values within a chunk, and so the bits per
// record, stays small.
const (
	packShift = 7
	packChunk = 1 << packShift
)

// packedChunk holds packChunk records of up to 3 fields.
type packedChunk struct {
	bits   []uint64
	min    [3]uint64
	width  [3]uint8
	stride uint16 // bits per record, the sum of the widths
}

// newPackedChunk packs the records whose fields are the columns: field f
// of record j is cols[f][j]. Every column has the same length, the number
// of records; there are at most 3.
func newPackedChunk(cols ...[]uint64) packedChunk {
	var c packedChunk
	n := len(cols[0])
	for f, col := range cols {
		lo, hi := col[0], col[0]
		for _, v := range col[1:] {
			lo, hi = min(lo, v), max(hi, v)
		}
		c.min[f] = lo
		c.width[f] = uint8(bits.Len64(hi - lo))
		c.stride += uint16(c.width[f])
	}
	c.bits = make([]uint64, (n*int(c.stride)+63)/64)
	if c.stride > 64 {
		off := 0
		for j := range n {
			for f, col := range cols {
				w := int(c.width[f])
				putBits(c.bits, off, w, col[j]-c.min[f])
				off += w
			}
		}
		return c
	}
	// A record fits a word: its fields are joined first, so that each
	// record is one store (packing is a few percent of a run).
	var shift [3]uint
	for f := 1; f < len(cols); f++ {
		shift[f] = shift[f-1] + uint(c.width[f-1])
	}
	w := int(c.stride)
	for j, off := 0, 0; j < n; j, off = j+1, off+w {
		var record uint64
		for f, col := range cols {
			record |= (col[j] - c.min[f]) << shift[f]
		}
		putBits(c.bits, off, w, record)
	}
	return c
}

// field is field f of record j.
func (c *packedChunk) field(j, f int) uint64 {
	off := j * int(c.stride)
	for g := range f {
		off += int(c.width[g])
	}
	return c.min[f] + getBits(c.bits, off, int(c.width[f]))
}

// putBits stores the w low bits of v at bit offset off of words (zero
// there).
func putBits(words []uint64, off, w int, v uint64) {
	if w == 0 {
		return
	}
	i, s := off>>6, uint(off&63)
	words[i] |= v << s
	if int(s)+w > 64 {
		words[i+1] |= v >> (64 - s)
	}
}

// getBits reads w bits at bit offset off of words.
func getBits(words []uint64, off, w int) uint64 {
	if w == 0 {
		return 0
	}
	i, s := off>>6, uint(off&63)
	v := words[i] >> s
	if int(s)+w > 64 {
		v |= words[i+1] << (64 - s)
	}
	if w < 64 {
		v &= 1<<uint(w) - 1
	}
	return v
}

// idList is a list of op ids that only grows at its end, is cut back
// (truncate) and read in order: about 1-2 bytes an id when nearby ids are
// close, as the ids of one shard are.
type idList struct {
	chunks []packedChunk // full, never changed once packed
	tail   []uint64      // the last, not yet packed, ids; owned by this list
}

func (l *idList) len() int { return len(l.chunks)<<packShift + len(l.tail) }

// append adds id at the end. The usual case, room in the tail, is kept
// small enough to be inlined: a log event takes it once.
func (l *idList) append(id uint64) {
	if t := l.tail; len(t)+1 < cap(t) { // the tail's capacity is packChunk
		l.tail = append(t, id)
	} else {
		l.appendPacking(id)
	}
}

// appendPacking is append when the tail is yet to be made or id fills it.
func (l *idList) appendPacking(id uint64) {
	if l.tail == nil {
		l.tail = make([]uint64, 0, packChunk)
	}
	l.tail = append(l.tail, id)
	if len(l.tail) == packChunk {
		l.chunks = append(l.chunks, newPackedChunk(l.tail))
		l.tail = l.tail[:0]
	}
}

// prefix is a copy of the first n ids that shares the packed chunks: what a
// snapshot holds while the list goes on.
func (l *idList) prefix(n int) idList {
	out := *l
	out.truncate(n)
	out.chunks = out.chunks[:len(out.chunks):len(out.chunks)]
	out.tail = append(make([]uint64, 0, packChunk), out.tail...)
	return out
}

// truncate keeps the first n ids. The chunks are cut with their capacity,
// so the list's next chunk goes to new memory, never into a chunk a prefix
// taken before still holds.
func (l *idList) truncate(n int) {
	k, r := n>>packShift, n&(packChunk-1)
	if k < len(l.chunks) {
		c := &l.chunks[k]
		tail := make([]uint64, r, packChunk)
		for j := range tail {
			tail[j] = c.field(j, 0)
		}
		l.chunks, l.tail = l.chunks[:k:k], tail
		return
	}
	l.tail = l.tail[:n-len(l.chunks)<<packShift]
}

// all yields the ids in order.
func (l *idList) all() iter.Seq[uint64] {
	return func(yield func(uint64) bool) {
		for k := range l.chunks {
			c := &l.chunks[k]
			w, lo := int(c.width[0]), c.min[0]
			for j := range packChunk {
				if !yield(lo + getBits(c.bits, j*w, w)) {
					return
				}
			}
		}
		for _, id := range l.tail {
			if !yield(id) {
				return
			}
		}
	}
}
