package runner

import (
	"fmt"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/scenarios"
)

// startReads arms a read workload: reads arriving as its arrival process
// says (Poisson by default, from a stream of its own) until the end of
// traffic, through the platform's reader for the workload's settings.
func (r *Runner) startReads(w scenarios.Workload) error {
	reader, err := r.p.Reader(platform.ReadConfig{
		Service:    w.Service,
		Preference: w.ReadPreference,
		TagSets:    w.ReadPreferenceTags,
		Concern:    w.ReadConcern,
		Timeout:    w.Timeout.D(),
	}, r)
	if err != nil {
		return fmt.Errorf("read workload on %s: %w", w.Service, err)
	}
	rw := &readWorkload{r: r, reader: reader, service: r.ledger.ServiceIndex(w.Service), arrivals: r.sampler.arrivals(w, r.duration), stop: r.duration}
	rw.next = rw.arrivals.first()
	r.loop.At(rw.next, rw)
	return nil
}

// ReadCompleted records a read's outcome, value and serving member in the
// ledger.
func (r *Runner) ReadCompleted(read uint64, outcome platform.Outcome, value uint64, member string, _ time.Duration) {
	r.ledger.CompleteRead(read, outcome, value, member)
}

// readWorkload issues reads at its arrival times until stop; like the
// write workload, a long-lived Handler, so a read costs one loop event and
// no allocation.
type readWorkload struct {
	r        *Runner
	reader   platform.Reader
	service  uint16
	arrivals arrivals
	stop     time.Duration
	next     time.Duration
}

func (w *readWorkload) Fire(now time.Duration) {
	for w.next < w.stop {
		w.reader.Read(w.r.ledger.InvokeRead(w.service, now))
		w.next = w.arrivals.after(w.next)
		if !w.r.continuer.Continue(w.next, w) {
			return
		}
		now = w.next
	}
}
