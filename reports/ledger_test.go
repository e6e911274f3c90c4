package reports_test

import (
	"math/rand/v2"
	"runtime"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/reports"
)

var _ = Describe("the ledger", func() {
	// A history written through the ledger must read back exactly as a
	// plain slice of records holds it, whatever order the writes complete
	// in, however long some stay pending, and whether or not their chunk
	// has been packed, and whether its records were a released ledger's.
	It("returns every write as recorded, packed or not", func() {
		for seed := range uint64(20) {
			rng := rand.New(rand.NewPCG(seed, 7))
			var l reports.Ledger
			// Packed as soon as complete, or the oldest packed once more
			// than two are complete, as a long run's are.
			reports.SetUnpackedChunks(&l, int(seed%2)*2)
			services := []uint16{l.ServiceIndex("mongo"), l.ServiceIndex("logs"), l.ServiceIndex("artifacts")}
			var want []reports.Op
			var pending []uint64
			at := time.Duration(0)
			n := 5000 + rng.IntN(20000)
			for range n {
				at += time.Duration(rng.Int64N(int64(3 * time.Millisecond)))
				if rng.IntN(1000) == 0 {
					at += time.Duration(rng.Int64N(int64(2 * time.Hour))) // a quiet spell
				}
				s := services[rng.IntN(len(services))]
				id := l.Invoke(s, at)
				Expect(id).To(Equal(uint64(len(want))))
				want = append(want, reports.Op{Service: s, Invoked: at})
				pending = append(pending, id)
				// Complete a random few of the pending writes, some of them
				// long after they were issued, some twice.
				for len(pending) > 0 && rng.IntN(3) > 0 {
					k := rng.IntN(len(pending))
					if rng.IntN(50) == 0 {
						k = 0 // the oldest: a write stuck for a long time
					}
					done := pending[k]
					pending[k] = pending[len(pending)-1]
					pending = pending[:len(pending)-1]
					outcome := platform.Outcome(1 + rng.IntN(3))
					completed := at + time.Duration(rng.Int64N(int64(time.Second)))
					l.Complete(done, outcome, completed)
					l.Complete(done, platform.Failed, completed+time.Second) // ignored: the first answer stands
					want[done].Outcome, want[done].Completed = outcome, completed
				}
			}
			for id := range want {
				present := rng.IntN(2) == 0
				l.SetPresent(uint64(id), present)
				want[id].Present = present
			}
			Expect(l.Len()).To(Equal(uint64(len(want))))
			got := make([]reports.Op, 0, len(want))
			for id, op := range l.All() {
				Expect(id).To(Equal(uint64(len(got))))
				got = append(got, op)
			}
			Expect(got).To(Equal(want), "seed %d", seed)
			var chunked []reports.Op
			for first, ops := range l.Chunks() {
				Expect(first).To(Equal(uint64(len(chunked))))
				chunked = append(chunked, ops...)
			}
			Expect(chunked).To(Equal(want), "chunk by chunk, seed %d", seed)
			for _, id := range []int{0, 1, 4095, 4096, len(want) / 2, len(want) - 1} {
				Expect(l.Op(uint64(id))).To(Equal(want[id]), "op %d, seed %d", id, seed)
				Expect(l.Service(uint64(id))).To(Equal(want[id].Service))
				Expect(l.Present(uint64(id))).To(Equal(want[id].Present))
			}
			for i, s := range services {
				var count int64
				for _, op := range want {
					if op.Service == s {
						count++
					}
				}
				Expect(l.Issued(s)).To(Equal(count), "service %d", i)
				// Its ids, asked for a few hundred at a time, and a few
				// chunks' worth at a time as a read-back does.
				var wantIDs []uint64
				for id, op := range want {
					if op.Service == s {
						wantIDs = append(wantIDs, uint64(id))
					}
				}
				for _, batch := range []int{300, 9000} {
					var gotIDs []uint64
					buf := make([]uint64, 0, batch)
					for next := uint64(0); next < l.Len(); {
						buf, next = l.AppendIDs(buf[:0], s, next)
						gotIDs = append(gotIDs, buf...)
					}
					Expect(gotIDs).To(Equal(wantIDs), "service %d, %d at a time", i, batch)
				}
			}
			// The next seed's ledger writes over these records.
			l.Release()
			Expect(l.Len()).To(BeZero())
			Expect(l.Issued(services[0])).To(BeZero())
		}
	})

	// The report's pass reads packed chunks by decoding them and open ones
	// in place: both must count alike.
	It("measures a packed history as the same history unpacked", func() {
		var packed, unpacked reports.Ledger
		reports.SetUnpackedChunks(&packed, 0)
		rng := rand.New(rand.NewPCG(3, 7))
		at := time.Duration(0)
		for _, l := range []*reports.Ledger{&packed, &unpacked} {
			l.ServiceIndex("mongo")
			l.ServiceIndex("logs")
		}
		for i := range 3*4096 + 100 {
			at += time.Duration(rng.Int64N(int64(2 * time.Millisecond)))
			s := uint16(rng.IntN(2))
			outcome := platform.Outcome(1 + rng.IntN(3))
			latency := time.Duration(rng.Int64N(int64(time.Second)))
			present := rng.IntN(4) > 0
			for _, l := range []*reports.Ledger{&packed, &unpacked} {
				id := l.Invoke(s, at)
				Expect(id).To(Equal(uint64(i)))
				l.Complete(id, outcome, at+latency)
				l.SetPresent(id, present)
			}
		}
		faults := []reports.FaultRecord{{Name: "kill", Kind: "kill", Target: "mongo-1", Injected: true, At: at / 2}}
		build := func(l *reports.Ledger) *reports.Report {
			return reports.Build(&reports.Run{Scenario: "packed", Duration: at + time.Second, Ledger: l, Faults: faults})
		}
		want := build(&unpacked)
		Expect(want.Services["mongo"].Lost).To(BeNumerically(">", 0))
		Expect(build(&packed)).To(Equal(want))
	})

	// The point of packing: a long run's history costs a few bytes a write,
	// not a record of 24, beyond the chunks kept unpacked (48 MiB).
	// Measured as the heap the ledger holds after four million completed
	// writes at the library's spacing.
	It("holds four million completed writes in 48 MiB and under 10 bytes a write beyond", func() {
		before := heapHeld()
		l := &reports.Ledger{}
		s := l.ServiceIndex("logs")
		at := time.Duration(0)
		const writes = 4_000_000
		for range writes {
			at = writeCompleted(l, s, at)
		}
		held := heapHeld() - before
		Expect(l.Len()).To(Equal(uint64(writes)))
		unpacked := int64(reports.UnpackedChunks * 4096 * 24)
		Expect(held).To(BeNumerically(">", unpacked), "the ledger keeps %d chunks as records", reports.UnpackedChunks)
		Expect(held-unpacked).To(BeNumerically("<", 10*writes), "the ledger holds %d bytes", held)
		runtime.KeepAlive(l)
	})
})
