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
	// actionTakes is how long runbook actions take; actionFails makes them
	// fail; actionHangs makes them never finish.
	actionTakes time.Duration
	actionFails map[string]bool
	actionHangs map[string]bool
	// primitiveFails makes a fault primitive fail on a node ("kill
	// s3-us-west-1"); staysDown keeps a started node from being reported
	// up; readBackFails makes a service's read-back fail after it has
	// looked up half of the writes.
	primitiveFails map[string]bool
	staysDown      map[string]bool
	readBackFails  map[string]error
	readBackHook   func() // called as each read-back starts
	closed         int
	startErr       error
	closeErr       error
}

type fakeEvent struct {
	at  time.Duration
	seq int
	h   platform.Handler
}

func newFake() *fakePlatform {
	return &fakePlatform{outcomes: map[uint64]platform.Outcome{}, primary: "mongo-east-1a", actionFails: map[string]bool{}, actionHangs: map[string]bool{},
		primitiveFails: map[string]bool{}, staysDown: map[string]bool{}, readBackFails: map[string]error{}}
}

func (f *fakePlatform) build(cfg platform.Config) (platform.Platform, error) {
	f.cfg = cfg
	return f, nil
}

func (f *fakePlatform) Name() string                { return "fake" }
func (f *fakePlatform) Start(context.Context) error { return f.startErr }
func (f *fakePlatform) Loop() platform.Loop         { return f }
func (f *fakePlatform) Faults() platform.Faults     { return fakeFaults{f} }
func (f *fakePlatform) Close() error                { f.closed++; return f.closeErr }
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

// Reader: the fake platform cannot read (readingFake can).
func (f *fakePlatform) Reader(cfg platform.ReadConfig, _ platform.ReadCompletions) (platform.Reader, error) {
	return nil, fmt.Errorf("the fake platform cannot read %s: %w", cfg.Service, platform.ErrUnknownService)
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
	if c.f.readBackHook != nil {
		c.f.readBackHook()
	}
	for i, id := range ids {
		if err := c.f.readBackFails[c.service]; err != nil && i == len(ids)/2 {
			return err
		}
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
	if f.actionHangs[a.Name] {
		return nil
	}
	f.At(f.now+f.actionTakes, platform.HandlerFunc(func(at time.Duration) { done.ActionDone(a.Name, nil, at) }))
	return nil
}

// emit sends a platform event at time t.
func (f *fakePlatform) emit(t time.Duration, service, what string) {
	f.emitEvent(platform.Event{At: t, Service: service, What: what})
}

// emitEvent sends e at e.At.
func (f *fakePlatform) emitEvent(e platform.Event) {
	f.At(e.At, platform.HandlerFunc(func(at time.Duration) {
		e.At = at
		f.cfg.Events.Observed(e)
	}))
}

// callsMatching returns the logged calls containing s.
func (f *fakePlatform) callsMatching(s string) []string {
	return slices.DeleteFunc(slices.Clone(f.calls), func(c string) bool { return !strings.Contains(c, s) })
}

// emitNow sends a platform event at once, as both real platforms report a
// node's state change from within the primitive or just after it.
func (f *fakePlatform) emitNow(service, what, node string) {
	f.cfg.Events.Observed(platform.Event{At: f.now, Service: service, What: what, Node: node})
}

type fakeFaults struct{ f *fakePlatform }

// primitive logs a fault primitive on a node, fails it if told to, and
// reports the node's new state (what: "" for none).
func (x fakeFaults) primitive(verb, node, what string) error {
	x.f.log("%s %s %s", x.f.now, verb, node)
	if x.f.primitiveFails[verb+" "+node] {
		return fmt.Errorf("%s %s: docker said no", verb, node)
	}
	if what == platform.EventNodeUp && x.f.staysDown[node] {
		return nil
	}
	if what != "" {
		service := ""
		if n, ok := x.f.cfg.Topology.Node(node); ok {
			service = n.Service
		}
		x.f.emitNow(service, what, node)
	}
	return nil
}

func (x fakeFaults) Kill(_ context.Context, n string) error {
	return x.primitive("kill", n, platform.EventNodeDown)
}
func (x fakeFaults) Stop(_ context.Context, n string) error {
	return x.primitive("stop", n, platform.EventNodeDown)
}
func (x fakeFaults) Start(_ context.Context, n string) error {
	return x.primitive("start", n, platform.EventNodeUp)
}
func (x fakeFaults) Pause(_ context.Context, n string) error {
	return x.primitive("pause", n, platform.EventNodeDown)
}
func (x fakeFaults) Resume(_ context.Context, n string) error {
	return x.primitive("resume", n, platform.EventNodeUp)
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
