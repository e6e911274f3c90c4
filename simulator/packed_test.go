package simulator

import (
	"math"
	"math/rand/v2"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("packed per-write state", func() {
	It("reads back every record of a chunk whatever the spread of its values, up to 64 bits", func() {
		r := rand.New(rand.NewPCG(1, 2))
		for _, spread := range []uint64{0, 1, 255, 1 << 31, 1 << 63, math.MaxUint64} {
			vals := make([][3]uint64, packChunk)
			for j := range vals {
				for f := range 3 {
					vals[j][f] = r.Uint64()
					if spread < math.MaxUint64 {
						vals[j][f] = 12345 + r.Uint64N(spread+1)
					}
				}
			}
			var cols [3][]uint64
			for f := range cols {
				for j := range vals {
					cols[f] = append(cols[f], vals[j][f])
				}
			}
			c := newPackedChunk(cols[:]...)
			for j := range vals {
				for f := range 3 {
					Expect(c.field(j, f)).To(Equal(vals[j][f]), "spread %d, record %d, field %d", spread, j, f)
				}
			}
		}
	})

	It("keeps an id list's ids through appends and truncations, in and across chunks", func() {
		var l idList
		var want []uint64
		r := rand.New(rand.NewPCG(3, 4))
		for range 20 {
			for range r.IntN(3 * packChunk) {
				id := r.Uint64N(1 << 40)
				l.append(id)
				want = append(want, id)
			}
			n := r.IntN(len(want) + 1)
			l.truncate(n)
			want = want[:n]
			Expect(l.len()).To(Equal(len(want)))
			Expect(slices.Collect(l.all())).To(Equal(want))
		}
	})

	It("leaves a snapshot's prefix as it was when the list is cut below it and grows again", func() {
		// A shard's stale in-sync copy that becomes primary cuts the log
		// back to what it held; a snapshot taken before must still hold
		// what it saw.
		var l idList
		for i := range 5*packChunk + 17 {
			l.append(uint64(i))
		}
		snap := l.prefix(l.len())
		saw := slices.Collect(snap.all())
		for _, cut := range []int{5*packChunk + 3, 3*packChunk + 5, 2 * packChunk} {
			l.truncate(cut)
			for i := range 4 * packChunk {
				l.append(uint64(1_000_000 + i))
			}
			Expect(slices.Collect(snap.all())).To(Equal(saw))
		}
		// A list restored from the snapshot grows without touching it
		// either.
		restored := snap.prefix(snap.len())
		for i := range 3 * packChunk {
			restored.append(uint64(2_000_000 + i))
		}
		Expect(slices.Collect(snap.all())).To(Equal(saw))
		Expect(slices.Collect(restored.all())[:len(saw)]).To(Equal(saw))
	})

	It("keeps an oplog's entries through appends and cuts at a time, in and across chunks", func() {
		l := newBranch(nil, 0, 1, nil)
		var want []oplogEntry
		r := rand.New(rand.NewPCG(5, 6))
		var at time.Duration
		op := uint64(0)
		for range 30 {
			for range r.IntN(3 * packChunk) {
				at += time.Duration(r.Int64N(int64(10 * time.Millisecond)))
				op += 1 + r.Uint64N(5)
				i := l.appendEntry(op, at, 2*time.Millisecond, 50*time.Microsecond)
				Expect(i).To(Equal(len(want)))
				want = append(want, l.entry(i))
			}
			if len(want) == 0 {
				continue
			}
			cut := want[r.IntN(len(want))].at
			l.truncateAfter(cut)
			for len(want) > 0 && want[len(want)-1].at > cut {
				want = want[:len(want)-1]
			}
			at = cut
			Expect(l.len()).To(Equal(len(want)))
			for i := range want {
				Expect(l.entry(i)).To(Equal(want[i]))
			}
			Expect(l.ops(l.len())).To(Equal(opsOf(want)))
		}
	})

	It("reads a child branch's entries through its parent", func() {
		parent := newBranch(nil, 0, 1, nil)
		for i := range 3*packChunk + 9 {
			parent.appendEntry(uint64(2*i), time.Duration(i)*time.Millisecond, time.Millisecond, time.Microsecond)
		}
		child := newBranch(parent, 2*packChunk+1, 2, nil)
		for i := range packChunk + 4 {
			child.appendEntry(uint64(10_000+i), time.Second+time.Duration(i)*time.Millisecond, time.Millisecond, time.Microsecond)
		}
		Expect(child.len()).To(Equal(3*packChunk + 5))
		Expect(child.entry(2 * packChunk).op).To(Equal(uint64(4 * packChunk)))
		Expect(child.entry(2*packChunk + 1).op).To(Equal(uint64(10_000)))
		ops := child.ops(child.len())
		Expect(ops).To(HaveLen(child.len()))
		Expect(ops[2*packChunk]).To(Equal(uint64(4 * packChunk)))
		Expect(ops[len(ops)-1]).To(Equal(uint64(10_000 + packChunk + 3)))
	})
})

func opsOf(es []oplogEntry) []uint64 {
	out := make([]uint64, len(es))
	for i, e := range es {
		out[i] = e.op
	}
	return out
}
