package runner

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/chaosdrill/chaosdrill/faults"
	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/reports"
	"github.com/chaosdrill/chaosdrill/scenarios"
)

// Builder makes the platform a scenario runs on from the runner's config.
type Builder func(platform.Config) (platform.Platform, error)

// Options tune a run.
type Options struct {
	Seed  uint64
	RunID string // labels everything a live run creates; default "sim"
	// Log receives one line per fault, runbook step and notable event as it
	// happens (nil: quiet).
	Log func(format string, args ...any)
}

// drainMargin is how long the loop keeps running after the workloads stop
// and the longest write timeout has passed, so that late answers land.
const drainMargin = time.Second

// Runner is one run of a scenario. It is the platform's Completions and
// Events sink.
type Runner struct {
	sc   *scenarios.Scenario
	opts Options
	p    platform.Platform
	loop platform.Loop

	ledger   reports.Ledger
	events   []platform.Event
	faults   []reports.FaultRecord
	steps    []reports.StepRecord
	resolver faults.Resolver

	// waiting maps a trigger ("done:NAME" for a fault injected or a step
	// finished, "event:SERVICE:WHAT") to what fires after it; fired records
	// the triggers that have happened.
	waiting map[string][]trigger
	fired   map[string]bool
}

type trigger struct {
	delay time.Duration
	fire  func(now time.Duration)
}

// Run runs sc on the platform build returns and returns its report. The
// platform is always closed, also on error and interrupt.
func Run(ctx context.Context, sc *scenarios.Scenario, build Builder, opts Options) (rep *reports.Report, err error) {
	r := &Runner{sc: sc, opts: opts, waiting: map[string][]trigger{}, fired: map[string]bool{}}
	if r.opts.RunID == "" {
		r.opts.RunID = "sim"
	}
	if r.opts.Log == nil {
		r.opts.Log = func(string, ...any) {}
	}
	topo := sc.Topology.Resolved
	cfg := platform.Config{
		RunID:       r.opts.RunID,
		Topology:    topo,
		Seed:        opts.Seed,
		Parameters:  sc.Parameters,
		Images:      sc.Images,
		Completions: r,
		Events:      r,
	}
	for _, w := range sc.Workloads {
		cfg.Workloads = append(cfg.Workloads, platform.WorkloadConfig{Service: w.Service, WriteConcern: w.WriteConcern, Timeout: w.Timeout.D()})
	}
	p, err := build(cfg)
	if err != nil {
		return nil, fmt.Errorf("build %s platform: %w", sc.Name, err)
	}
	defer func() {
		if cerr := p.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close platform: %w", cerr)
		}
	}()
	r.p = p
	r.loop = p.Loop()
	r.resolver = faults.Resolver{Topology: topo, Platform: p}
	if err := p.Start(ctx); err != nil {
		return nil, fmt.Errorf("start %s platform: %w", p.Name(), err)
	}
	end, err := r.schedule()
	if err != nil {
		return nil, err
	}
	if err := r.loop.Run(ctx, end); err != nil {
		return nil, fmt.Errorf("run %s: %w", sc.Name, err)
	}
	if err := r.readBack(ctx); err != nil {
		return nil, err
	}
	run := &reports.Run{
		Scenario:    sc.Name,
		Description: sc.Description,
		Platform:    p.Name(),
		Seed:        opts.Seed,
		Duration:    sc.Duration.D(),
		Topology:    topo,
		Ledger:      &r.ledger,
		Faults:      r.faults,
		Steps:       r.steps,
		Events:      r.events,
		Expect:      sc.Expect,
	}
	return reports.Build(run), nil
}

// schedule arms workloads, faults and runbook steps, and returns when the
// loop must stop: the end of traffic plus the longest write timeout.
func (r *Runner) schedule() (time.Duration, error) {
	duration := r.sc.Duration.D()
	longest := time.Duration(0)
	for _, w := range r.sc.Workloads {
		client, err := r.p.Client(w.Service)
		if err != nil {
			return 0, err
		}
		interval := time.Duration(math.Round(float64(time.Second) / w.Rate))
		if interval <= 0 {
			interval = 1
		}
		wl := &workload{r: r, client: client, service: r.ledger.ServiceIndex(w.Service), interval: interval, stop: duration}
		r.loop.At(0, wl)
		longest = max(longest, w.Timeout.D())
	}
	for i := range r.sc.Faults {
		f := r.sc.Faults[i]
		r.arm(f.At, f.After, f.AfterEvent, f.Delay.D(), func(now time.Duration) { r.inject(f, now) })
	}
	for i := range r.sc.Runbook {
		s := r.sc.Runbook[i]
		r.arm(s.At, s.After, s.AfterEvent, s.OperatorDelay.D(), func(now time.Duration) { r.startStep(s, now) })
	}
	return duration + longest + drainMargin, nil
}

// arm schedules fire at a time, or after another fault or step, or after an
// event, plus delay.
func (r *Runner) arm(at *platform.Duration, after, afterEvent string, delay time.Duration, fire func(time.Duration)) {
	switch {
	case at != nil:
		r.loop.At(at.D()+delay, platform.HandlerFunc(fire))
	case after != "" && afterEvent != "":
		// The first such event once the named fault or step has happened.
		r.wait("done:"+after, trigger{fire: func(time.Duration) {
			r.waiting["event:"+afterEvent] = append(r.waiting["event:"+afterEvent], trigger{delay: delay, fire: fire})
		}})
	case after != "":
		r.wait("done:"+after, trigger{delay: delay, fire: fire})
	case afterEvent != "":
		r.wait("event:"+afterEvent, trigger{delay: delay, fire: fire})
	}
}

func (r *Runner) wait(key string, t trigger) {
	if r.fired[key] {
		r.loop.At(r.loop.Now()+t.delay, platform.HandlerFunc(t.fire))
		return
	}
	r.waiting[key] = append(r.waiting[key], t)
}

// happened fires everything waiting on key. Each waiter fires once; an
// event that happens again fires only the waiters armed since.
func (r *Runner) happened(key string, now time.Duration) {
	r.fired[key] = true
	for _, t := range r.waiting[key] {
		r.loop.At(now+t.delay, platform.HandlerFunc(t.fire))
	}
	delete(r.waiting, key)
}

func (r *Runner) inject(spec scenarios.Fault, now time.Duration) {
	target := spec.Target
	if spec.Kind == scenarios.FaultPartition {
		target = strings.Join(spec.Between, " | ")
	}
	rec := reports.FaultRecord{Name: spec.Name, Kind: spec.Kind, Target: target, At: now}
	ctx := context.Background()
	f, err := r.resolver.Bind(spec)
	if err == nil {
		rec.Nodes = f.Nodes()
		err = f.Inject(ctx, r.p.Faults())
	}
	if err != nil {
		rec.Error = err.Error()
		r.opts.Log("%8s  fault %s (%s %s) could not be injected: %v", fmtTime(now), spec.Name, spec.Kind, target, err)
	} else {
		r.opts.Log("%8s  fault %s: %s %s -> %s", fmtTime(now), spec.Name, spec.Kind, target, strings.Join(rec.Nodes, ","))
	}
	index := len(r.faults)
	r.faults = append(r.faults, rec)
	if err != nil {
		// Nothing happened, so nothing that waits on this fault follows.
		return
	}
	if spec.Heal > 0 {
		r.loop.At(now+spec.Heal.D(), platform.HandlerFunc(func(at time.Duration) {
			if err := f.Recover(ctx, r.p.Faults()); err != nil {
				r.faults[index].Error = "heal: " + err.Error()
				r.opts.Log("%8s  heal %s failed: %v", fmtTime(at), spec.Name, err)
				return
			}
			healed := at
			r.faults[index].HealedAt = &healed
			r.opts.Log("%8s  healed %s", fmtTime(at), spec.Name)
		}))
	}
	r.happened("done:"+spec.Name, now)
}

func (r *Runner) startStep(s scenarios.Step, now time.Duration) {
	r.opts.Log("%8s  runbook %s: %s %v", fmtTime(now), s.Name, s.Action, s.Params)
	r.steps = append(r.steps, reports.StepRecord{Name: s.Name, Action: s.Action, StartedAt: now})
	err := r.p.StartAction(context.Background(), platform.Action{Name: s.Name, Action: s.Action, Params: s.Params}, r)
	if err != nil {
		r.ActionDone(s.Name, err, now)
	}
}

// ActionDone records the end of a runbook step and fires what waits on it.
// A step that failed does not trigger its dependents: an operator would stop
// there too.
func (r *Runner) ActionDone(name string, err error, at time.Duration) {
	for i := range r.steps {
		if r.steps[i].Name != name || r.steps[i].DoneAt != nil || r.steps[i].Error != "" {
			continue
		}
		if err != nil {
			r.steps[i].Error = err.Error()
			r.opts.Log("%8s  runbook %s failed: %v", fmtTime(at), name, err)
			return
		}
		done := at
		r.steps[i].DoneAt = &done
		r.opts.Log("%8s  runbook %s done", fmtTime(at), name)
		r.happened("done:"+name, at)
		return
	}
}

// Completed records a write's outcome in the ledger.
func (r *Runner) Completed(op uint64, outcome platform.Outcome, at time.Duration) {
	r.ledger.Complete(op, outcome, at)
}

// Observed records a platform event and fires what waits on it.
func (r *Runner) Observed(e platform.Event) {
	r.events = append(r.events, e)
	switch e.What {
	case platform.EventPrimaryElected, platform.EventPrimaryLost, platform.EventMasterElected,
		platform.EventHealthRed, platform.EventHealthGreen, platform.EventRollback, platform.EventRestoreCompleted:
		r.opts.Log("%8s  %s: %s %s %s", fmtTime(e.At), e.Service, e.What, e.Node, e.Detail)
	}
	r.happened("event:"+e.Service+":"+e.What, e.At)
}

// readBack asks each service which writes are present after recovery.
func (r *Runner) readBack(ctx context.Context) error {
	for i, service := range r.ledger.Services {
		var ids []uint64
		for id := range r.ledger.Ops {
			if r.ledger.Ops[id].Service == uint16(i) {
				ids = append(ids, uint64(id))
			}
		}
		client, err := r.p.Client(service)
		if err != nil {
			return err
		}
		present := make([]bool, len(ids))
		if err := client.ReadBack(ctx, ids, present); err != nil {
			return fmt.Errorf("read back %s: %w", service, err)
		}
		for j, id := range ids {
			r.ledger.Ops[id].Present = present[j]
		}
	}
	return nil
}

// workload issues one write per interval until stop. It is a long-lived
// Handler so a write costs one loop event and no closure.
type workload struct {
	r        *Runner
	client   platform.Client
	service  uint16
	interval time.Duration
	stop     time.Duration
	next     time.Duration
}

func (w *workload) Fire(now time.Duration) {
	if w.next >= w.stop {
		return
	}
	id := w.r.ledger.Invoke(w.service, now)
	w.client.Write(id)
	w.next += w.interval
	w.r.loop.At(w.next, w)
}

func fmtTime(d time.Duration) string {
	return d.Truncate(time.Millisecond).String()
}
