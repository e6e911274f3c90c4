package runner

import (
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

// Progress is a run in progress, as a progress line shows it: scenario
// time (At, of Duration), the operations issued so far per service (writes
// and reads, in the order of the ledger's services), the faults in force
// now, and the next runbook step that has not started.
type Progress struct {
	At, Duration time.Duration
	Ops          []ServiceOps
	ActiveFaults []string
	// NextStep is the first runbook step of the file not yet started
	// ("" when all have); NextStepAt is when it is due, nil while its
	// trigger has not happened.
	NextStep   string
	NextStepAt *time.Duration
}

// ServiceOps counts one service's operations issued so far.
type ServiceOps struct {
	Service string
	Ops     int64
}

// progressTicker calls Options.Progress every Options.ProgressEvery of
// scenario time (wall time on the live platform), from the loop. It counts
// the ledger's new operations at each tick, so a tick costs what was
// issued since the last one.
type progressTicker struct {
	r                  *Runner
	every, until       time.Duration
	reads              int
	counts, readCounts []int64
}

func (t *progressTicker) Fire(now time.Duration) {
	l := &t.r.ledger
	for len(t.counts) < len(l.Services) {
		t.counts = append(t.counts, 0)
		t.readCounts = append(t.readCounts, 0)
	}
	for i := range t.counts {
		t.counts[i] = l.Issued(uint16(i))
	}
	for _, op := range l.Reads[t.reads:] {
		t.reads++
		t.readCounts[op.Service]++
	}
	for i := range t.counts {
		t.counts[i] += t.readCounts[i]
	}
	p := Progress{At: now, Duration: t.r.duration}
	for i, s := range l.Services {
		p.Ops = append(p.Ops, ServiceOps{Service: s, Ops: t.counts[i]})
	}
	for _, f := range t.r.faults {
		if f.Injected && f.HealedAt == nil {
			p.ActiveFaults = append(p.ActiveFaults, f.Name)
		}
	}
	for _, pl := range t.r.order {
		if pl.what != "runbook step" || t.r.steps[pl.index].Started {
			continue
		}
		p.NextStep = pl.name
		if pl.triggeredAt != nil {
			due := *pl.triggeredAt + pl.delay
			p.NextStepAt = &due
		}
		break
	}
	t.r.opts.Progress(p)
	if next := now + t.every; next < t.until {
		t.r.loop.At(next, t)
	}
}

// startProgress arms the ticker when the options ask for progress.
func (r *Runner) startProgress(until time.Duration) {
	if r.opts.Progress == nil {
		return
	}
	every := r.opts.ProgressEvery
	if every <= 0 {
		every = time.Second
	}
	r.loop.At(every, &progressTicker{r: r, every: every, until: until})
}

var _ platform.Handler = (*progressTicker)(nil)
