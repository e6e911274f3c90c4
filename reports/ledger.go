package reports

import (
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

// Op is one client write as the history records it (Jepsen's invoke/complete
// pair folded into one row). Present is filled by the read-back after
// recovery.
type Op struct {
	Service   uint16 // index into Ledger.Services
	Outcome   platform.Outcome
	Present   bool
	Invoked   time.Duration
	Completed time.Duration // zero while Pending
}

// Ledger is the history of a run: every write issued, by op id (the index in
// Ops), and every read, by read id (the index in Reads). Both are recorded
// as they are issued, so each service's writes and reads are in issue
// order.
type Ledger struct {
	Services []string
	Ops      []Op
	Reads    []ReadOp
	// Members names the members that served reads (ReadOp.Member - 1).
	Members []string
}

// ReadOp is one client read as the history records it: when it was issued,
// what came of it and, when it succeeded, its value (the op id of the
// newest write it saw, or platform.ReadNothing) and the member that served
// it. 24 bytes, so that a long run can keep one per read.
type ReadOp struct {
	Invoked time.Duration
	Value   uint64
	Service uint16 // index into Ledger.Services
	Outcome platform.Outcome
	Member  uint8 // 1 + index into Ledger.Members; 0 when not known
}

// ServiceIndex returns the index of a service, adding it if new.
func (l *Ledger) ServiceIndex(name string) uint16 {
	for i, s := range l.Services {
		if s == name {
			return uint16(i)
		}
	}
	l.Services = append(l.Services, name)
	return uint16(len(l.Services) - 1)
}

// Invoke records a new write and returns its op id. Calls come in the order
// the writes are issued.
func (l *Ledger) Invoke(service uint16, at time.Duration) uint64 {
	l.Ops = append(l.Ops, Op{Service: service, Invoked: at})
	return uint64(len(l.Ops) - 1)
}

// Complete records a write's outcome. A second completion of the same op is
// ignored: the first answer is what the client saw.
func (l *Ledger) Complete(id uint64, outcome platform.Outcome, at time.Duration) {
	op := &l.Ops[id]
	if op.Outcome != platform.Pending {
		return
	}
	op.Outcome = outcome
	op.Completed = at
}

// InvokeRead records a new read and returns its read id. Calls come in the
// order the reads are issued.
func (l *Ledger) InvokeRead(service uint16, at time.Duration) uint64 {
	l.Reads = append(l.Reads, ReadOp{Service: service, Invoked: at, Value: platform.ReadNothing})
	return uint64(len(l.Reads) - 1)
}

// maxMembers is how many distinct members a ledger names; reads served by
// others record no member.
const maxMembers = 255

// CompleteRead records a read's outcome, its value and the member that
// served it ("" when not known). A second completion is ignored.
func (l *Ledger) CompleteRead(id uint64, outcome platform.Outcome, value uint64, member string) {
	r := &l.Reads[id]
	if r.Outcome != platform.Pending {
		return
	}
	r.Outcome = outcome
	if outcome != platform.Acked {
		return
	}
	r.Value = value
	if member == "" {
		return
	}
	for i, name := range l.Members {
		if name == member {
			r.Member = uint8(i + 1)
			return
		}
	}
	if len(l.Members) < maxMembers {
		l.Members = append(l.Members, member)
		r.Member = uint8(len(l.Members))
	}
}
