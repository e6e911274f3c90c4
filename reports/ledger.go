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
// Ops), plus what the platform said about itself.
type Ledger struct {
	Services []string
	Ops      []Op
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

// Invoke records a new write and returns its op id.
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
