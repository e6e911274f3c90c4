package runner

import (
	"fmt"
	"math"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/scenarios"
)

// startReads arms a read workload: one read per interval until the end of
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
	interval := time.Duration(math.Round(float64(time.Second) / w.Rate))
	if interval <= 0 {
		interval = 1
	}
	r.loop.At(0, &readWorkload{r: r, reader: reader, service: r.ledger.ServiceIndex(w.Service), interval: interval, stop: r.duration})
	return nil
}

// ReadCompleted records a read's outcome, value and serving member in the
// ledger.
func (r *Runner) ReadCompleted(read uint64, outcome platform.Outcome, value uint64, member string, _ time.Duration) {
	r.ledger.CompleteRead(read, outcome, value, member)
}

// readWorkload issues one read per interval until stop; like the write
// workload, a long-lived Handler, so a read costs one loop event and no
// allocation.
type readWorkload struct {
	r        *Runner
	reader   platform.Reader
	service  uint16
	interval time.Duration
	stop     time.Duration
	next     time.Duration
}

func (w *readWorkload) Fire(now time.Duration) {
	if w.next >= w.stop {
		return
	}
	w.reader.Read(w.r.ledger.InvokeRead(w.service, now))
	w.next += w.interval
	w.r.loop.At(w.next, w)
}
