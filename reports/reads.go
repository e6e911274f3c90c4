package reports

import (
	"cmp"
	"slices"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

// ReadsReport classifies a service's reads as Jepsen does. A read's value
// is the op id of the newest write it saw (see platform.ReadConfig); each
// read that succeeded is exactly one of:
//
//   - dirty: it returned a write that is missing after recovery (rolled
//     back, or lost with a node), so it showed the client data that never
//     became durable;
//   - stale: not dirty, but it missed a write that was acknowledged before
//     the read began and kept: a write with a larger op id, acknowledged at
//     or before the read's issue and found on read-back;
//   - ok: neither.
//
// So OK + Stale + Dirty + Failed + Unknown is every read issued; reads
// still pending at the end count as Unknown. Op ids grow in issue order
// and a member applies a service's writes in that order (the simulator
// always; a live client issuing writes concurrently can apply two of them
// out of order), so a larger op id that the read missed is a write it
// should have seen: stale never counts a read that saw everything, and
// with out-of-order writes it may miss one. When the service's read-back
// failed, nothing can say whether a write was kept: Stale and Dirty stay 0,
// every read that succeeded counts as OK, and bounds on reads are
// unverified. ServedBy counts the successful reads by the member that
// served them.
type ReadsReport struct {
	OK       int64            `json:"ok"`
	Failed   int64            `json:"failed"`
	Unknown  int64            `json:"unknown"`
	Stale    int64            `json:"stale"`
	Dirty    int64            `json:"dirty"`
	ServedBy map[string]int64 `json:"served_by"`
}

// succeeded is how many reads returned a value.
func (r *ReadsReport) succeeded() int64 { return r.OK + r.Stale + r.Dirty }

// classifyReads fills the reads report of every service that was read.
// It runs after the writes are counted and costs, per service read, one
// pass over the writes with a binary search over the reads, and 8 bytes per
// read; a run without reads costs nothing.
func classifyReads(ledger *Ledger, tallies []*serviceTally) {
	reads := ledger.Reads
	if len(reads) == 0 {
		return
	}
	read := make([]bool, len(tallies))
	for i := range reads {
		read[reads[i].Service] = true
	}
	// newest[j] is 1 + the largest op id of a kept write acknowledged after
	// read j-1 was issued and at or before read j was, among the service's
	// writes; the running maximum over j is what read j should have seen.
	newest := make([]uint64, len(reads))
	last := reads[len(reads)-1].Invoked
	for s, t := range tallies {
		if !read[s] {
			continue
		}
		service := uint16(s)
		r := &ReadsReport{ServedBy: map[string]int64{}}
		t.report.Reads = r
		if t.verified {
			clear(newest)
			for id, op := range ledger.All() {
				if op.Service != service || op.Outcome != platform.Acked || !op.Present || op.Completed > last {
					continue
				}
				j, _ := slices.BinarySearchFunc(reads, op.Completed, func(r ReadOp, at time.Duration) int { return cmp.Compare(r.Invoked, at) })
				newest[j] = max(newest[j], id+1)
			}
		}
		var servedBy [maxMembers + 1]int64
		var should uint64
		for j := range reads {
			should = max(should, newest[j])
			rd := &reads[j]
			if rd.Service != service {
				continue
			}
			switch rd.Outcome {
			case platform.Acked:
				servedBy[rd.Member]++
				switch {
				case !t.verified:
					r.OK++
				case rd.Value != platform.ReadNothing && !kept(ledger, service, rd.Value):
					r.Dirty++
				case should > 0 && (rd.Value == platform.ReadNothing || should-1 > rd.Value):
					r.Stale++
				default:
					r.OK++
				}
			case platform.Failed:
				r.Failed++
			default:
				r.Unknown++
			}
		}
		for i, name := range ledger.Members {
			if n := servedBy[i+1]; n > 0 {
				r.ServedBy[name] = n
			}
		}
	}
}

// kept reports whether op id is a write of service found on read-back.
func kept(ledger *Ledger, service uint16, id uint64) bool {
	return id < ledger.Len() && ledger.Service(id) == service && ledger.Present(id)
}
