package simulator

import (
	"context"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

// recorder collects what a Sim reports, for tests.
type recorder struct {
	outcomes  map[uint64]platform.Outcome
	completed map[uint64]time.Duration
	events    []platform.Event
}

func newRecorder() *recorder {
	return &recorder{outcomes: map[uint64]platform.Outcome{}, completed: map[uint64]time.Duration{}}
}

func (r *recorder) Completed(op uint64, o platform.Outcome, at time.Duration) {
	if _, dup := r.outcomes[op]; dup {
		panic("op completed twice")
	}
	r.outcomes[op] = o
	r.completed[op] = at
}

func (r *recorder) Observed(e platform.Event) { r.events = append(r.events, e) }

// eventsOf returns the events with the given What, in order.
func (r *recorder) eventsOf(what string) []platform.Event {
	var out []platform.Event
	for _, e := range r.events {
		if e.What == what {
			out = append(out, e)
		}
	}
	return out
}

// newTestSim builds and starts a simulator on topology t (ion if nil).
func newTestSim(t *platform.Topology, seed uint64, params map[string]string, workloads ...platform.WorkloadConfig) (*Sim, *recorder) {
	if t == nil {
		t = platform.Ion()
	}
	rec := newRecorder()
	s, err := New(platform.Config{RunID: "test", Topology: t, Seed: seed, Parameters: params, Workloads: workloads, Completions: rec, Events: rec})
	if err != nil {
		panic(err)
	}
	if err := s.Start(context.Background()); err != nil {
		panic(err)
	}
	return s, rec
}

// writer issues one write to a client every interval from start until stop;
// ops are numbered from first. It is a platform.Handler so it costs no
// closure per write.
type writer struct {
	s        *Sim
	client   platform.Client
	next     uint64
	interval time.Duration
	stop     time.Duration
}

func (w *writer) Fire(now time.Duration) {
	if now >= w.stop {
		return
	}
	w.client.Write(w.next)
	w.next++
	w.s.At(now+w.interval, w)
}

// drive starts a writer for service from now, ops numbered from first.
func drive(s *Sim, service string, first uint64, interval, stop time.Duration) *writer {
	c, err := s.Client(service)
	if err != nil {
		panic(err)
	}
	w := &writer{s: s, client: c, next: first, interval: interval, stop: stop}
	s.At(s.Now(), w)
	return w
}
