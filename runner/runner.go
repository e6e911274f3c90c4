package runner

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
	// BeforeLoop, if set, is called once the platform is up, just before
	// the event loop runs; an error stops the run there (the CLI uses it to
	// stop promptly on an interrupt). The platform itself is never wrapped,
	// so the optional interfaces it implements (platform.Sampler,
	// platform.ImageReporter, faults.AddedNodes) stay visible.
	BeforeLoop func() error
	// Performer, if set, makes the run a rehearsal: each runbook step is
	// handed to it when its trigger fires, with no operator delay, and is
	// done when the platform's state shows its effect (see operator.go).
	Performer Performer
	// Drive, if set, runs the loop to end in its place (a rehearsal paces
	// it against a clock and takes the engineer's commands between
	// slices); ErrStopped ends the run early. Default: loop.Run(ctx, end).
	Drive func(ctx context.Context, loop platform.Loop, end time.Duration) error
	// Progress, if set, is called from the loop every ProgressEvery of
	// scenario time (default 1 s) with how far the run got (a live run's
	// progress line).
	Progress      func(Progress)
	ProgressEvery time.Duration
	// Sets are the NAME=VALUE changes run --set made to the file: the
	// report records them as overrides (source --set), beside the file's
	// own parameters.
	Sets []string
}

// overrides lists what the run changed from the defaults, by name: the
// file's parameters, then --set (which wins over the file).
func overrides(sc *scenarios.Scenario, sets []string) []reports.Override {
	byName := map[string]reports.Override{}
	for name, v := range sc.Parameters {
		value := v.Text
		if v.Distribution != nil {
			value = v.Distribution.String()
		}
		byName[name] = reports.Override{Name: name, Value: value, Source: reports.OverrideFile}
	}
	for _, set := range sets {
		if name, value, ok := strings.Cut(set, "="); ok {
			byName[name] = reports.Override{Name: name, Value: value, Source: reports.OverrideSet}
		}
	}
	out := make([]reports.Override, 0, len(byName))
	for _, name := range platform.SortedKeys(byName) {
		out = append(out, byName[name])
	}
	return out
}

// Error is a run that could not complete, with the phase it stopped in
// (one of the reports.Phase* names). The CLI writes an error report from it.
type Error struct {
	Phase string
	Err   error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

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
	// continuer is loop's Continuer, or At behind the same method for a
	// loop without one: workloads issue their next write through it.
	continuer platform.Continuer
	duration  time.Duration

	ledger   reports.Ledger
	events   []platform.Event
	resolver faults.Resolver

	// faults and steps hold what became of each fault and runbook step of
	// the file, in file order; plans how each is triggered.
	faults []reports.FaultRecord
	steps  []reports.StepRecord
	plans  map[string]*plan
	order  []*plan

	// waiting maps a trigger ("done:NAME" for a fault injected or a step
	// finished, "event:SERVICE:WHAT") to what fires after it; fired records
	// the triggers that have happened.
	waiting map[string][]func(time.Duration)
	fired   map[string]bool

	// restarting maps a node to the restart faults (indexes into faults)
	// waiting for it to be back up; pendingNodes counts, per restart, the
	// nodes still down.
	restarting   map[string][]int
	pendingNodes map[int]int

	readBackErrors map[string]string
	sampler        *sampler

	// rehearsal is set in a rehearsal; stoppedAt when its engineer
	// stopped it.
	rehearsal *Rehearsal
	stoppedAt *time.Duration
}

// plan is how one fault or runbook step of the file is triggered, and how
// far its trigger got.
type plan struct {
	what       string // "fault" or "runbook step"
	name       string
	index      int            // into Runner.faults or Runner.steps
	at         *time.Duration // drawn from the file's window, if a window
	after      string
	afterEvent string
	delay      time.Duration
	optional   bool
	fire       func(now time.Duration)

	afterHappened *time.Duration // when the named fault or step happened (after with after_event)
	triggeredAt   *time.Duration
	late          bool // triggered, but due at or after the end
	fired         bool
}

// Run runs sc on the platform build returns and returns its report. The
// platform is always closed, also on error and interrupt. An error is a
// run that could not complete (an *Error naming its phase), or an
// interrupt (ctx's error); a read-back that fails is not one: the
// service's writes are reported unverified. If only closing the platform
// fails, the report of the run is returned with the error.
func Run(ctx context.Context, sc *scenarios.Scenario, build Builder, opts Options) (rep *reports.Report, err error) {
	r := &Runner{
		sc: sc, opts: opts, duration: sc.Duration.D(),
		plans: map[string]*plan{}, waiting: map[string][]func(time.Duration){}, fired: map[string]bool{},
		restarting: map[string][]int{}, pendingNodes: map[int]int{}, readBackErrors: map[string]string{},
		sampler: newSampler(opts.Seed),
	}
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
		Parameters:  r.sampler.parameters(sc.Parameters),
		Images:      sc.Images,
		Completions: r,
		Events:      r,
	}
	for _, w := range sc.Workloads {
		if w.Reads() {
			continue // read workloads get a platform.Reader once the platform is up
		}
		cfg.Workloads = append(cfg.Workloads, platform.WorkloadConfig{Service: w.Service, WriteConcern: w.WriteConcern, Timeout: w.Timeout.D()})
	}
	for _, s := range sc.Runbook {
		cfg.Runbook = append(cfg.Runbook, platform.Action{Name: s.Name, Action: s.Action, Params: s.Params})
	}
	cfg.DiskNodes = faults.DiskTargets(topo, sc.Faults)
	p, err := build(cfg)
	if err != nil {
		return nil, &Error{reports.PhaseBringUp, fmt.Errorf("build %s platform: %w", sc.Name, err)}
	}
	defer func() {
		if cerr := p.Close(); cerr != nil && err == nil {
			err = &Error{reports.PhaseTearDown, fmt.Errorf("close platform: %w", cerr)}
		}
	}()
	r.p = p
	r.loop = p.Loop()
	r.continuer = continuerOf(r.loop)
	r.resolver = faults.Resolver{Topology: topo, Platform: p}
	if err := p.Start(ctx); err != nil {
		return nil, interruptedOr(ctx, reports.PhaseBringUp, fmt.Errorf("start %s platform: %w", p.Name(), err))
	}
	end, err := r.schedule()
	if err != nil {
		return nil, &Error{reports.PhaseBringUp, err}
	}
	if r.rehearsing() {
		r.startRehearsal()
	}
	r.startProgress(end)
	if opts.BeforeLoop != nil {
		if err := opts.BeforeLoop(); err != nil {
			return nil, interruptedOr(ctx, reports.PhaseRun, err)
		}
	}
	if err := r.drive(ctx, end); err != nil {
		return nil, interruptedOr(ctx, reports.PhaseRun, fmt.Errorf("run %s: %w", sc.Name, err))
	}
	r.settle()
	if err := r.readBack(ctx); err != nil {
		return nil, err
	}
	run := &reports.Run{
		Scenario:       sc.Name,
		Description:    sc.Description,
		Platform:       p.Name(),
		Seed:           opts.Seed,
		Duration:       r.duration,
		Topology:       topo,
		Ledger:         &r.ledger,
		Faults:         r.faults,
		Steps:          r.steps,
		Events:         r.events,
		Expect:         sc.Expect,
		ReadBackErrors: r.readBackErrors,
		Sampled:        r.sampled(),
		Overrides:      overrides(sc, opts.Sets),
		Rehearsal:      r.rehearsalRun(),
	}
	if images, ok := p.(platform.ImageReporter); ok {
		run.Images = images.RanImages()
	}
	if h, ok := p.(platform.RoleHistory); ok {
		run.VersionSkews, run.Upgrades = h.VersionSkews(), h.Upgrades()
	}
	rep, err = reports.BuildContext(ctx, run)
	// The report keeps no write records: the next run (a sweep's next
	// seed) can have them.
	r.ledger.Release()
	return rep, err
}

// sampled lists every value the run drew: the runner's, and the
// platform's own (the simulator's link latencies) when it says.
func (r *Runner) sampled() map[string]string {
	out := make(map[string]string, len(r.sampler.drawn))
	for k, v := range r.sampler.drawn {
		out[k] = v
	}
	if p, ok := r.p.(platform.Sampler); ok {
		for k, v := range p.Sampled() {
			out[k] = v
		}
	}
	return out
}

// interruptedOr returns ctx's error when the run was interrupted (nothing
// is reported then), else err in its phase.
func interruptedOr(ctx context.Context, phase string, err error) error {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return err
	}
	return &Error{phase, err}
}

// schedule arms workloads, faults and runbook steps, and returns when the
// loop must stop: the end of traffic plus the longest write timeout.
func (r *Runner) schedule() (time.Duration, error) {
	longest := time.Duration(0)
	for _, w := range r.sc.Workloads {
		if w.Reads() {
			if err := r.startReads(w); err != nil {
				return 0, err
			}
			longest = max(longest, w.Timeout.D())
			continue
		}
		client, err := r.p.Client(w.Service)
		if err != nil {
			return 0, err
		}
		wl := &workload{r: r, client: client, service: r.ledger.ServiceIndex(w.Service), arrivals: r.sampler.arrivals(w, r.duration), stop: r.duration}
		wl.next = wl.arrivals.first()
		r.loop.At(wl.next, wl)
		longest = max(longest, w.Timeout.D())
	}
	topo := r.sc.Topology.Resolved
	r.faults = make([]reports.FaultRecord, len(r.sc.Faults))
	for i, f := range r.sc.Faults {
		r.faults[i] = reports.FaultRecord{Name: f.Name, Kind: f.Kind, Target: faultTarget(f), Services: aimedAt(topo, f)}
		r.addPlan(&plan{what: "fault", name: f.Name, index: i, at: r.sampler.faultAt(f), after: f.After, afterEvent: f.AfterEvent, delay: f.Delay.D(),
			fire: func(now time.Duration) { r.inject(i, now) }})
	}
	r.steps = make([]reports.StepRecord, len(r.sc.Runbook))
	for i, s := range r.sc.Runbook {
		rec := reports.StepRecord{Name: s.Name, Action: s.Action, Service: s.Service(topo)}
		if s.Action == platform.ActionMongoAddMember {
			rec.Member = s.Params["name"]
		}
		r.steps[i] = rec
		r.addPlan(&plan{what: "runbook step", name: s.Name, index: i, at: r.sampler.stepAt(s), after: s.After, afterEvent: s.AfterEvent, delay: r.sampler.operatorDelay(s),
			optional: s.Optional, fire: func(now time.Duration) { r.startStep(i, now) }})
	}
	for _, p := range r.order {
		r.arm(p)
	}
	return r.duration + longest + drainMargin, nil
}

func (r *Runner) addPlan(p *plan) {
	r.plans[p.name] = p
	r.order = append(r.order, p)
}

func faultTarget(f scenarios.Fault) string {
	if f.Kind == scenarios.FaultPartition {
		return strings.Join(f.Between, " | ")
	}
	return f.Target
}

// aimedAt lists the services whose nodes a fault's selectors name, in
// topology order: a role's service, or the services of the nodes a static
// selector names. It is known before the fault fires, so a fault that never
// fires still says whose expectations it leaves unrehearsed.
func aimedAt(t *platform.Topology, f scenarios.Fault) []string {
	selectors := f.Between
	if f.Kind != scenarios.FaultPartition {
		selectors = []string{f.Target}
	}
	aimed := map[string]bool{}
	for _, text := range selectors {
		sel, err := platform.ParseSelector(t, text)
		if err != nil {
			continue // the loader has refused it already
		}
		if sel.Kind == platform.SelectRole {
			service, _, _ := strings.Cut(sel.Value, ":")
			aimed[service] = true
			continue
		}
		for _, name := range sel.Static(t) {
			if n, ok := t.Node(name); ok {
				aimed[n.Service] = true
			}
		}
	}
	var services []string
	for _, s := range t.Services {
		if aimed[s.Name] {
			services = append(services, s.Name)
		}
	}
	return services
}

// arm makes a plan due at its time, or once the named fault or step has
// happened, or on an event (the first such event after the named fault or
// step, with both).
func (r *Runner) arm(p *plan) {
	switch {
	case p.at != nil:
		r.due(p, *p.at)
	case p.after != "" && p.afterEvent != "":
		r.wait("done:"+p.after, func(now time.Duration) {
			p.afterHappened = &now
			// Only an event from now on counts.
			r.listen("event:"+p.afterEvent, func(now time.Duration) { r.due(p, now) })
		})
	case p.after != "":
		r.wait("done:"+p.after, func(now time.Duration) { r.due(p, now) })
	case p.afterEvent != "":
		r.wait("event:"+p.afterEvent, func(now time.Duration) { r.due(p, now) })
	}
}

// due schedules a triggered plan after its delay. What would start at or
// after the end of the scenario does not start: it is not rehearsed.
func (r *Runner) due(p *plan, trigger time.Duration) {
	p.triggeredAt = &trigger
	if p.what == "runbook step" && r.rehearsing() {
		r.stepDue(p, trigger)
		return
	}
	if trigger+p.delay >= r.duration {
		p.late = true
		return
	}
	r.loop.At(trigger+p.delay, platform.HandlerFunc(func(now time.Duration) {
		p.fired = true
		p.fire(now)
	}))
}

// wait calls fn once key happens, at once if it already has.
func (r *Runner) wait(key string, fn func(time.Duration)) {
	if r.fired[key] {
		fn(r.loop.Now())
		return
	}
	r.listen(key, fn)
}

// listen calls fn the next time key happens.
func (r *Runner) listen(key string, fn func(time.Duration)) {
	r.waiting[key] = append(r.waiting[key], fn)
}

// happened calls everything waiting on key. Each waiter is called once; an
// event that happens again calls only the waiters armed since.
func (r *Runner) happened(key string, now time.Duration) {
	r.fired[key] = true
	waiters := r.waiting[key]
	delete(r.waiting, key)
	for _, fn := range waiters {
		fn(now)
	}
}

func (r *Runner) inject(i int, now time.Duration) {
	spec := r.sc.Faults[i]
	rec := &r.faults[i]
	rec.At = now
	ctx := context.Background()
	f, err := r.resolver.Bind(spec)
	if err == nil {
		rec.Nodes = f.Nodes()
		if spec.Kind == scenarios.FaultRestart {
			// The simulator reports the node back up within Inject.
			r.awaitRestart(i, rec.Nodes)
		}
		err = f.Inject(ctx, r.p.Faults())
	}
	if err != nil {
		rec.Error = err.Error()
		rec.NotRehearsed = "could not be injected: " + err.Error()
		r.opts.Log("%8s  fault %s (%s %s) could not be injected: %v", fmtTime(now), spec.Name, spec.Kind, rec.Target, err)
	} else {
		rec.Injected = true
		r.opts.Log("%8s  fault %s: %s %s -> %s", fmtTime(now), spec.Name, spec.Kind, rec.Target, strings.Join(rec.Nodes, ","))
	}
	if f != nil && spec.Heal > 0 {
		// A fault that failed half-way is healed too (Recover undoes only
		// what was injected), so the rest of the run is as the file says.
		healAt := now + spec.Heal.D()
		if healAt >= r.duration {
			if rec.NotRehearsed == "" {
				rec.NotRehearsed = fmt.Sprintf("its heal was due at %s, not before the scenario's end (%s)", fmtTime(healAt), r.duration)
			}
		} else {
			r.loop.At(healAt, platform.HandlerFunc(func(at time.Duration) { r.heal(i, f, at) }))
		}
	}
	if err != nil {
		// Nothing happened, so nothing that waits on this fault follows.
		return
	}
	r.happened("done:"+spec.Name, now)
}

func (r *Runner) heal(i int, f faults.Fault, at time.Duration) {
	rec := &r.faults[i]
	if err := f.Recover(context.Background(), r.p.Faults()); err != nil {
		rec.Error = strings.TrimPrefix(rec.Error+"; heal: "+err.Error(), "; ")
		if rec.NotRehearsed == "" {
			rec.NotRehearsed = "its heal failed: " + err.Error()
		}
		r.opts.Log("%8s  heal %s failed: %v", fmtTime(at), rec.Name, err)
		return
	}
	if !rec.Injected {
		return // it undid a partial injection; the fault was never in force
	}
	healed := at
	rec.HealedAt = &healed
	r.opts.Log("%8s  healed %s", fmtTime(at), rec.Name)
}

// awaitRestart makes restart fault i heal when each of its nodes has been
// reported back up.
func (r *Runner) awaitRestart(i int, nodes []string) {
	r.pendingNodes[i] = len(nodes)
	for _, n := range nodes {
		r.restarting[n] = append(r.restarting[n], i)
	}
}

// nodeUp heals the restarts that waited for node.
func (r *Runner) nodeUp(node string, at time.Duration) {
	waiting := r.restarting[node]
	delete(r.restarting, node)
	for _, i := range waiting {
		r.pendingNodes[i]--
		if r.pendingNodes[i] == 0 && r.faults[i].HealedAt == nil {
			back := at
			r.faults[i].HealedAt = &back
		}
	}
}

func (r *Runner) startStep(i int, now time.Duration) {
	s := r.sc.Runbook[i]
	rec := &r.steps[i]
	rec.Started, rec.StartedAt = true, now
	r.opts.Log("%8s  runbook %s: %s %s", fmtTime(now), s.Name, s.Action, platform.FormatParams(s.Params))
	err := r.p.StartAction(context.Background(), platform.Action{Name: s.Name, Action: s.Action, Params: s.Params}, r)
	if err != nil {
		r.ActionDone(s.Name, err, now)
	}
}

// ActionDone records the end of a runbook step and fires what waits on it.
// A step that failed does not trigger its dependents: an operator would stop
// there too.
func (r *Runner) ActionDone(name string, err error, at time.Duration) {
	if r.rehearsedActionDone(name, err, at) {
		return
	}
	p, ok := r.plans[name]
	if !ok || p.what != "runbook step" {
		return
	}
	rec := &r.steps[p.index]
	if !rec.Started || rec.DoneAt != nil {
		return
	}
	done := at
	rec.DoneAt = &done
	if err != nil {
		rec.Error = err.Error()
		r.opts.Log("%8s  runbook %s failed: %v", fmtTime(at), name, err)
		return
	}
	r.opts.Log("%8s  runbook %s done", fmtTime(at), name)
	r.happened("done:"+name, at)
}

// Completed records a write's outcome in the ledger.
func (r *Runner) Completed(op uint64, outcome platform.Outcome, at time.Duration) {
	r.ledger.Complete(op, outcome, at)
}

// Observed records a platform event and fires what waits on it.
func (r *Runner) Observed(e platform.Event) {
	r.events = append(r.events, e)
	// The console shows the notable events the report's timeline lists:
	// all but the routine ones (and a failed fault, said below).
	if !platform.RoutineEvent(e.What) && e.What != platform.EventFaultFailed {
		r.opts.Log("%s", eventLine(e))
	}
	switch e.What {
	case platform.EventNodeUp:
		r.nodeUp(e.Node, e.At)
	case platform.EventFaultFailed:
		r.faultFailed(e)
	}
	r.happened("event:"+e.Service+":"+e.What, e.At)
}

// faultFailed marks the latest fault injected on one of the event's nodes
// (one, or several joined with commas) as not rehearsed: the platform took
// it, then could not carry it out.
func (r *Runner) faultFailed(e platform.Event) {
	for i := len(r.faults) - 1; i >= 0; i-- {
		rec := &r.faults[i]
		if rec.Injected && rec.At <= e.At && slices.ContainsFunc(strings.Split(e.Node, ","), func(n string) bool { return slices.Contains(rec.Nodes, n) }) {
			rec.NotRehearsed = fmt.Sprintf("failed on %s after it was accepted: %s", e.Node, e.Detail)
			r.opts.Log("%8s  fault %s failed on %s: %s", fmtTime(e.At), rec.Name, e.Node, e.Detail)
			return
		}
	}
}

// settle says, once the loop has stopped, why each fault and runbook step
// that did not happen as written did not: never triggered, triggered too
// late, a restart whose node never came back, a step that never finished.
func (r *Runner) settle() {
	settled := map[*plan]bool{}
	for _, p := range r.order {
		r.settlePlan(p, settled)
	}
}

func (r *Runner) settlePlan(p *plan, settled map[*plan]bool) {
	if settled[p] {
		return
	}
	settled[p] = true
	end := r.duration.String()
	if p.what == "fault" {
		rec := &r.faults[p.index]
		switch {
		case p.fired:
			if rec.Kind == scenarios.FaultRestart && rec.Injected && rec.HealedAt == nil && rec.NotRehearsed == "" {
				rec.NotRehearsed = fmt.Sprintf("%s did not come back up before the end (%s)", strings.Join(r.stillDown(p.index), ", "), end)
			}
		default:
			rec.NotRehearsed, _ = r.whyNot(p, settled)
			if rec.NotRehearsed == "" {
				rec.NotRehearsed = r.stoppedReason()
			}
			if rec.NotRehearsed == "" {
				rec.NotRehearsed = "never happened" // whyNot always answers; keep the verdict honest regardless
			}
		}
		return
	}
	rec := &r.steps[p.index]
	if r.settleRehearsed(p, rec) {
		return
	}
	switch {
	case rec.Started && rec.DoneAt == nil:
		rec.NotRehearsed = fmt.Sprintf("started at %s, not finished by the end of the run", fmtTime(rec.StartedAt))
	case !p.fired:
		reason, skipped := r.whyNot(p, settled)
		if skipped {
			rec.Skipped = reason
		} else {
			rec.NotRehearsed = reason
		}
	}
}

// stillDown lists the nodes of restart fault i not reported back up.
func (r *Runner) stillDown(i int) []string {
	var down []string
	for _, n := range r.faults[i].Nodes {
		if slices.Contains(r.restarting[n], i) {
			down = append(down, n)
		}
	}
	return down
}

// whyNot explains why plan p never fired, and whether it was merely not
// needed: an optional step whose event never came, or anything waiting on
// a step that was not needed.
func (r *Runner) whyNot(p *plan, settled map[*plan]bool) (reason string, skipped bool) {
	end := r.duration.String()
	if p.late {
		if p.delay == 0 {
			return fmt.Sprintf("its trigger came at %s, not before the scenario's end (%s)", fmtTime(*p.triggeredAt), end), false
		}
		return fmt.Sprintf("its trigger came at %s; with its delay of %s it was due at %s, not before the scenario's end (%s)",
			fmtTime(*p.triggeredAt), p.delay, fmtTime(*p.triggeredAt+p.delay), end), false
	}
	if p.after != "" && !r.fired["done:"+p.after] {
		before := r.plans[p.after]
		r.settlePlan(before, settled)
		state, skippedBefore := r.outcome(before)
		if skippedBefore {
			return fmt.Sprintf("not needed: it waits on %s %s, which was not needed", before.what, before.name), true
		}
		return fmt.Sprintf("it waits on %s %s, which %s", before.what, before.name, state), false
	}
	if p.afterEvent != "" {
		reason = fmt.Sprintf("no %s event before the end (%s)", p.afterEvent, end)
		if p.afterHappened != nil {
			reason = fmt.Sprintf("no %s event after %s (at %s) before the end (%s)", p.afterEvent, p.after, fmtTime(*p.afterHappened), end)
		}
		if p.optional {
			return "not needed: " + reason, true
		}
		return reason, false
	}
	return "", false
}

// outcome says what became of a fault or step that another waits on.
func (r *Runner) outcome(p *plan) (state string, skipped bool) {
	if p.what == "fault" {
		rec := r.faults[p.index]
		if rec.Error != "" && !rec.Injected {
			return "could not be injected", false
		}
		return "never happened", false
	}
	rec := r.steps[p.index]
	switch {
	case rec.Rehearsal != nil && rec.Rehearsal.By == reports.BySkipped:
		return "was skipped by the engineer", false
	case rec.Skipped != "":
		return "", true
	case rec.Error != "":
		return "failed", false
	case rec.Started:
		return "had not finished by the end", false
	}
	return "never started", false
}

// readBack asks each service which writes are present after recovery. A
// service whose read-back fails (unreachable, an error half-way) has its
// writes reported unverified, and the others are still read back: a broken
// runbook is exactly what a rehearsal must report on.
func (r *Runner) readBack(ctx context.Context) error {
	// Room for the writes of the busiest service: a batch never holds
	// another's.
	busiest := int64(0)
	for i := range r.ledger.Services {
		busiest = max(busiest, r.ledger.Issued(uint16(i)))
	}
	ids := make([]uint64, 0, min(busiest, readBackBatch))
	present := make([]bool, cap(ids))
	for i, service := range r.ledger.Services {
		client, err := r.p.Client(service)
		if err == nil {
			err = r.readBackService(ctx, client, uint16(i), ids, present)
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			r.readBackErrors[service] = err.Error()
			r.opts.Log("read-back of %s failed; its writes are unverified: %v", service, err)
		}
	}
	// A client that answered without looking at ctx (or the last batch's
	// answer) must not carry an interrupt on into the report.
	return ctx.Err()
}

// readBackBatch is how many writes one ReadBack call asks about: 32,768
// (288 KiB of ids and answers), so that the batch stays in the cache
// between the ledger filling it, the client answering and the ledger
// taking the answers, and the read-back's memory stays bounded however
// long the run.
const readBackBatch = 1 << 15

// readBackService asks a service about its writes, readBackBatch at a time,
// in id order, using ids and present as scratch.
func (r *Runner) readBackService(ctx context.Context, client platform.Client, service uint16, ids []uint64, present []bool) error {
	ask := func() error {
		if len(ids) == 0 {
			return nil
		}
		clear(present[:len(ids)])
		if err := client.ReadBack(ctx, ids, present[:len(ids)]); err != nil {
			return err
		}
		for j, id := range ids {
			r.ledger.SetPresent(id, present[j])
		}
		ids = ids[:0]
		return nil
	}
	for next := uint64(0); next < r.ledger.Len(); {
		ids, next = r.ledger.AppendIDs(ids, service, next)
		if len(ids) == cap(ids) {
			if err := ask(); err != nil {
				return err
			}
		}
	}
	return ask()
}

// continuerOf returns loop's Continuer, or one that always schedules.
func continuerOf(loop platform.Loop) platform.Continuer {
	if c, ok := loop.(platform.Continuer); ok {
		return c
	}
	return scheduleOnly{loop}
}

// scheduleOnly is the Continuer of a loop that has none: it always queues.
type scheduleOnly struct{ loop platform.Loop }

func (s scheduleOnly) Continue(t time.Duration, h platform.Handler) bool {
	s.loop.At(t, h)
	return false
}

// workload issues writes at the times its arrival process draws, until
// stop. It is a long-lived Handler so a write costs no closure or
// allocation, and goes on to its next write itself when the loop lets it
// (platform.Continuer) rather than through the loop's queue.
type workload struct {
	r        *Runner
	client   platform.Client
	service  uint16
	arrivals arrivals
	stop     time.Duration
	next     time.Duration
}

func (w *workload) Fire(now time.Duration) {
	for w.next < w.stop {
		id := w.r.ledger.Invoke(w.service, now)
		w.client.Write(id)
		w.next = w.arrivals.after(w.next)
		if !w.r.continuer.Continue(w.next, w) {
			return
		}
		now = w.next
	}
}

// eventLine is the console's line for an event: "  14m59.825s  logs:
// health-red (no elected master ...)", its times as the report writes them.
func eventLine(e platform.Event) string {
	line := fmt.Sprintf("%8s  %s: %s", fmtTime(e.At), e.Service, e.What)
	if e.Node != "" {
		line += " " + e.Node
	}
	if e.Detail != "" {
		line += " (" + reports.RoundDurations(e.Detail) + ")"
	}
	return line
}

func fmtTime(d time.Duration) string {
	return reports.FormatDuration(d)
}
