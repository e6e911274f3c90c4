package runner

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

// fakePlatform is a scripted platform for runner tests: a plain event loop,
// writes answered by a rule, and a log of every primitive and action call
// with its time. It lets the specs assert what the runner did and when,
// independent of any service model.
type fakePlatform struct {
	cfg     platform.Config
	now     time.Duration
	pending []fakeEvent
	seq     int
	calls   []string
	// answer decides a write's outcome and latency; nil: acked after 1ms.
	answer func(service string, op uint64, now time.Duration) (platform.Outcome, time.Duration)
	// present decides the read-back; nil: every acked write is present.
	present  func(service string, op uint64) bool
	outcomes map[uint64]platform.Outcome
	primary  string
	// actionTakes is how long runbook actions take; actionFails makes them fail.
	actionTakes time.Duration
	actionFails map[string]bool
	closed      int
	startErr    error
}

type fakeEvent struct {
	at  time.Duration
	seq int
	h   platform.Handler
}

func newFake() *fakePlatform {
	return &fakePlatform{outcomes: map[uint64]platform.Outcome{}, primary: "mongo-east-1a", actionFails: map[string]bool{}}
}

func (f *fakePlatform) build(cfg platform.Config) (platform.Platform, error) {
	f.cfg = cfg
	return f, nil
}

func (f *fakePlatform) Name() string                { return "fake" }
func (f *fakePlatform) Start(context.Context) error { return f.startErr }
func (f *fakePlatform) Loop() platform.Loop         { return f }
func (f *fakePlatform) Faults() platform.Faults     { return fakeFaults{f} }
func (f *fakePlatform) Close() error                { f.closed++; return nil }
func (f *fakePlatform) Now() time.Duration          { return f.now }
func (f *fakePlatform) Role(string) ([]string, error) {
	if f.primary == "" {
		return nil, nil
	}
	return []string{f.primary}, nil
}
func (f *fakePlatform) log(format string, args ...any) {
	f.calls = append(f.calls, fmt.Sprintf(format, args...))
}
func (f *fakePlatform) At(t time.Duration, h platform.Handler) {
	f.seq++
	f.pending = append(f.pending, fakeEvent{at: max(t, f.now), seq: f.seq, h: h})
}

func (f *fakePlatform) Run(ctx context.Context, until time.Duration) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		sort.Slice(f.pending, func(i, j int) bool {
			if f.pending[i].at != f.pending[j].at {
				return f.pending[i].at < f.pending[j].at
			}
			return f.pending[i].seq < f.pending[j].seq
		})
		if len(f.pending) == 0 || f.pending[0].at > until {
			f.now = until
			return nil
		}
		e := f.pending[0]
		f.pending = f.pending[1:]
		f.now = e.at
		e.h.Fire(e.at)
	}
}

func (f *fakePlatform) Client(service string) (platform.Client, error) {
	return fakeClient{f, service}, nil
}

type fakeClient struct {
	f       *fakePlatform
	service string
}

func (c fakeClient) Write(op uint64) {
	outcome, latency := platform.Acked, time.Millisecond
	if c.f.answer != nil {
		outcome, latency = c.f.answer(c.service, op, c.f.now)
	}
	c.f.At(c.f.now+latency, platform.HandlerFunc(func(at time.Duration) {
		c.f.outcomes[op] = outcome
		c.f.cfg.Completions.Completed(op, outcome, at)
	}))
}

func (c fakeClient) ReadBack(_ context.Context, ids []uint64, present []bool) error {
	for i, id := range ids {
		if c.f.present != nil {
			present[i] = c.f.present(c.service, id)
		} else {
			present[i] = c.f.outcomes[id] == platform.Acked
		}
	}
	return nil
}

func (f *fakePlatform) StartAction(_ context.Context, a platform.Action, done platform.ActionDone) error {
	f.log("%s action %s %s", f.now, a.Name, a.Action)
	if f.actionFails[a.Name] {
		return fmt.Errorf("cannot %s", a.Action)
	}
	f.At(f.now+f.actionTakes, platform.HandlerFunc(func(at time.Duration) { done.ActionDone(a.Name, nil, at) }))
	return nil
}

// emit sends a platform event at time t.
func (f *fakePlatform) emit(t time.Duration, service, what string) {
	f.At(t, platform.HandlerFunc(func(at time.Duration) {
		f.cfg.Events.Observed(platform.Event{At: at, Service: service, What: what})
	}))
}

// callsMatching returns the logged calls containing s.
func (f *fakePlatform) callsMatching(s string) []string {
	return slices.DeleteFunc(slices.Clone(f.calls), func(c string) bool { return !strings.Contains(c, s) })
}

type fakeFaults struct{ f *fakePlatform }

func (x fakeFaults) Kill(_ context.Context, n string) error {
	x.f.log("%s kill %s", x.f.now, n)
	return nil
}
func (x fakeFaults) Stop(_ context.Context, n string) error {
	x.f.log("%s stop %s", x.f.now, n)
	return nil
}
func (x fakeFaults) Start(_ context.Context, n string) error {
	x.f.log("%s start %s", x.f.now, n)
	return nil
}
func (x fakeFaults) Pause(_ context.Context, n string) error {
	x.f.log("%s pause %s", x.f.now, n)
	return nil
}
func (x fakeFaults) Resume(_ context.Context, n string) error {
	x.f.log("%s resume %s", x.f.now, n)
	return nil
}
func (x fakeFaults) Partition(_ context.Context, a, b []string) error {
	x.f.log("%s partition %v %v", x.f.now, a, b)
	return nil
}
func (x fakeFaults) Heal(_ context.Context, a, b []string) error {
	x.f.log("%s heal %v %v", x.f.now, a, b)
	return nil
}
func (x fakeFaults) AddLatency(_ context.Context, n string, d time.Duration) error {
	x.f.log("%s latency %s %s", x.f.now, n, d)
	return nil
}
func (x fakeFaults) RemoveLatency(_ context.Context, n string) error {
	x.f.log("%s unlatency %s", x.f.now, n)
	return nil
}
