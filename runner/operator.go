package runner

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/reports"
)

// A rehearsal (Options.Performer set) hands each runbook step to a person
// instead of performing it after its operator_delay. When a step's trigger
// fires, the runner arms the platform's watch for the step's done state
// (platform.StepWatcher, from the action's platform.StepGuide) and tells
// the Performer. The person then begins it (Step.Begin), types its action
// for the platform to carry out (Rehearsal.Perform), hands it back to the
// harness (Step.HandBack: performed at once, as `run` would after the
// delay), or skips it (Step.Skip: not rehearsed). The step is done when the
// platform's state shows its effect, whoever brought it about. Faults,
// workloads and checks are as in a run, so the RTO and RPO are the ones
// the people achieved.

// Performer is told, on the loop, about the runbook steps of a rehearsal.
type Performer interface {
	// Started is called once, on the loop goroutine, when the platform is
	// up and before the loop runs.
	Started(r *Rehearsal)
	// Due is called when a step's trigger has fired: the person is needed.
	Due(s *Step)
	// Finished is called when a step is done (its state seen, or its
	// handed-back action ended), failed, or was skipped.
	Finished(s *Step)
	// Attempted is called when an action the person typed for a step
	// ended: err is nil when the platform carried it out, else why not.
	Attempted(s *Step, action platform.Action, err error)
}

// ErrStopped is what Options.Drive returns when the person aborted the
// rehearsal: the run ends at the loop's current time, what was still to
// happen is reported not rehearsed, and the report is written.
var ErrStopped = errors.New("the rehearsal was stopped")

// Rehearsal is the Performer's handle on the run. Its methods are called on
// the loop goroutine (between slices of Options.Drive, or from the
// Performer's callbacks).
type Rehearsal struct {
	r     *Runner
	steps []*Step // by index of the file's runbook
}

// Step is one runbook step of a rehearsal.
type Step struct {
	r      *Runner
	index  int
	due    bool
	closed bool // done, failed or skipped
	cancel func()
	typed  platform.Action // the last action the person typed for it
}

// rehearsing reports whether the run is a rehearsal.
func (r *Runner) rehearsing() bool { return r.opts.Performer != nil }

func (r *Runner) startRehearsal() {
	r.rehearsal = &Rehearsal{r: r}
	for i, s := range r.sc.Runbook {
		st := &Step{r: r, index: i}
		r.rehearsal.steps = append(r.rehearsal.steps, st)
		r.steps[i].Rehearsal = &reports.StepRehearsal{AssumedDelay: s.OperatorDelay}
		if g, ok := platform.Guide(s.Action); ok {
			r.steps[i].Rehearsal.Goal = g.Goal(r.action(i))
		}
	}
	r.opts.Performer.Started(r.rehearsal)
}

// action is the file's action of step i.
func (r *Runner) action(i int) platform.Action {
	s := r.sc.Runbook[i]
	return platform.Action{Name: s.Name, Action: s.Action, Params: maps.Clone(s.Params)}
}

// stepDue hands step p to the person at its trigger: no operator delay,
// the person is the delay. What is due at or after the end is not.
func (r *Runner) stepDue(p *plan, trigger time.Duration) {
	if trigger >= r.duration {
		p.late = true
		return
	}
	r.loop.At(trigger, platform.HandlerFunc(func(time.Duration) {
		p.fired = true
		st := r.rehearsal.steps[p.index]
		st.due = true
		h := r.steps[p.index].Rehearsal
		// The trigger's own time (on a wall-clock loop the handler fires
		// a little after it): the reaction counts from there.
		h.TriggeredAt = &trigger
		r.watch(st)
		r.opts.Performer.Due(st)
	}))
}

// watch arms the platform's watch for step st's done state.
func (r *Runner) watch(st *Step) {
	h := r.steps[st.index].Rehearsal
	a := r.action(st.index)
	g, ok := platform.Guide(a.Action)
	w, watches := r.p.(platform.StepWatcher)
	switch {
	case !ok:
		h.Unwatched = "the action has no guide"
		return
	case !watches:
		h.Unwatched = "the " + r.p.Name() + " platform cannot watch its state"
		return
	}
	cancel, err := w.WatchDone(g.Done(a), func(at time.Duration, seen string) { r.stateSeen(st, at, seen) })
	if err != nil {
		h.Unwatched = err.Error()
		return
	}
	st.cancel = cancel
}

// stateSeen records that the platform's state showed step st's effect. For
// a step the person performs, that is its end; a step handed back ends
// when its action does, as in a run.
func (r *Runner) stateSeen(st *Step, at time.Duration, seen string) {
	h := r.steps[st.index].Rehearsal
	if h.StateAt != nil {
		return
	}
	h.StateAt, h.Seen = &at, seen
	r.opts.Log("%8s  runbook %s: %s", fmtTime(at), r.sc.Runbook[st.index].Name, seen)
	if st.closed || h.By == reports.ByHarness {
		return
	}
	if h.By == "" {
		h.By = reports.ByEngineer
	}
	rec := &r.steps[st.index]
	rec.Started = true
	rec.StartedAt = at
	if h.BegunAt != nil {
		rec.StartedAt = *h.BegunAt
	}
	st.finish(at, nil)
}

// finish ends step st; err is a handed-back action that failed.
func (st *Step) finish(at time.Duration, err error) {
	if st.closed {
		return
	}
	st.closed = true
	if st.cancel != nil && err == nil && st.r.steps[st.index].Rehearsal.StateAt != nil {
		st.cancel()
	}
	rec := &st.r.steps[st.index]
	done := at
	rec.DoneAt = &done
	name := st.r.sc.Runbook[st.index].Name
	if err != nil {
		rec.Error = err.Error()
		st.r.opts.Log("%8s  runbook %s failed: %v", fmtTime(at), name, err)
	} else {
		st.r.opts.Log("%8s  runbook %s done", fmtTime(at), name)
	}
	st.r.opts.Performer.Finished(st)
	if err == nil {
		st.r.happened("done:"+name, at)
	}
}

// rehearsedActionDone takes the end of an action started for a rehearsal's
// step; false when the step is not a rehearsal's.
func (r *Runner) rehearsedActionDone(name string, err error, at time.Duration) bool {
	if !r.rehearsing() {
		return false
	}
	p, ok := r.plans[name]
	if !ok || p.what != "runbook step" {
		return true
	}
	st := r.rehearsal.steps[p.index]
	h := r.steps[p.index].Rehearsal
	switch {
	case st.closed:
	case h.By == reports.ByHarness:
		st.finish(at, err)
	default:
		// The person's own action: its end is an attempt; the step is
		// done when the state shows it (or, unwatched, when the action
		// says so).
		last := &h.Attempts[len(h.Attempts)-1]
		if err != nil {
			last.Error = err.Error()
		}
		r.opts.Performer.Attempted(st, platform.Action{Name: name, Action: st.typed.Action, Params: st.typed.Params}, err)
		if err == nil && h.Unwatched != "" {
			r.steps[p.index].Started = true
			st.finish(at, nil)
		}
	}
	return true
}

// Name is the step's name in the file.
func (st *Step) Name() string { return st.r.sc.Runbook[st.index].Name }

// Action is the step's action as the file writes it.
func (st *Step) Action() platform.Action { return st.r.action(st.index) }

// Service is the service the step acts on.
func (st *Step) Service() string { return st.r.steps[st.index].Service }

// Record is what the step has come to so far.
func (st *Step) Record() reports.StepRecord { return st.r.steps[st.index] }

// Due reports whether its trigger has fired.
func (st *Step) Due() bool { return st.due }

// Closed reports whether it is done, failed or skipped.
func (st *Step) Closed() bool { return st.closed }

// Waits says what a step not yet due waits for.
func (st *Step) Waits() string {
	s := st.r.sc.Runbook[st.index]
	p := st.r.plans[s.Name]
	switch {
	case p.late:
		return "its trigger came too late to start before the end"
	case p.at != nil:
		return "due at " + fmtTime(*p.at)
	case s.After != "" && s.AfterEvent != "":
		return "waits on " + s.After + ", then the event " + s.AfterEvent
	case s.After != "":
		return "waits on " + s.After
	case s.AfterEvent != "":
		return "waits on the event " + s.AfterEvent
	}
	return ""
}

// Instructions are what the person does for the step on the real systems,
// with this run's facts filled in, after the state to reach.
func (st *Step) Instructions() []string {
	a := st.Action()
	g, ok := platform.Guide(a.Action)
	if !ok {
		return []string{"No instructions for " + a.Action + "."}
	}
	var facts platform.Facts
	if w, ok := st.r.p.(platform.StepWatcher); ok {
		facts = w.Facts(a)
	}
	return g.Instructions(a, platform.ServiceOf(st.r.sc.Topology.Resolved, a), facts)
}

// Begin records that the person began the step now (the first time only).
func (st *Step) Begin() {
	h := st.r.steps[st.index].Rehearsal
	if st.closed || h.BegunAt != nil {
		return
	}
	now := st.r.loop.Now()
	h.BegunAt = &now
	if h.By == "" {
		h.By = reports.ByEngineer
	}
	st.r.opts.Log("%8s  runbook %s: the engineer began", fmtTime(now), st.Name())
}

// HandBack makes the harness perform the step now, as `run` does after the
// operator delay; it is done when its action ends.
func (st *Step) HandBack() error {
	if err := st.open(); err != nil {
		return err
	}
	h := st.r.steps[st.index].Rehearsal
	h.By = reports.ByHarness
	now := st.r.loop.Now()
	if h.BegunAt == nil {
		h.BegunAt = &now
	}
	st.r.opts.Log("%8s  runbook %s handed back to the harness", fmtTime(now), st.Name())
	st.r.startStep(st.index, now)
	return nil
}

// Skip gives the step up: it is reported not rehearsed, and what waits on
// it does not happen.
func (st *Step) Skip() error {
	if err := st.open(); err != nil {
		return err
	}
	now := st.r.loop.Now()
	rec := &st.r.steps[st.index]
	rec.Rehearsal.By = reports.BySkipped
	rec.NotRehearsed = "the engineer skipped it at " + fmtTime(now)
	st.closed = true
	if st.cancel != nil {
		st.cancel()
	}
	st.r.opts.Log("%8s  runbook %s skipped by the engineer", fmtTime(now), st.Name())
	st.r.opts.Performer.Finished(st)
	return nil
}

// open refuses what cannot be done to a step now.
func (st *Step) open() error {
	switch {
	case !st.due:
		return fmt.Errorf("%s is not due yet: it %s", st.Name(), st.Waits())
	case st.closed:
		return fmt.Errorf("%s is over", st.Name())
	case st.r.steps[st.index].Rehearsal.By == reports.ByHarness:
		return fmt.Errorf("%s is with the harness", st.Name())
	}
	return nil
}

// Now is the scenario time.
func (h *Rehearsal) Now() time.Duration { return h.r.loop.Now() }

// End is the end of the scenario's traffic: nothing becomes due after it.
func (h *Rehearsal) End() time.Duration { return h.r.duration }

// Steps are the runbook's steps in file order.
func (h *Rehearsal) Steps() []*Step { return h.steps }

// Step finds a step by name.
func (h *Rehearsal) Step(name string) (*Step, bool) {
	for _, st := range h.steps {
		if st.Name() == name {
			return st, true
		}
	}
	return nil, false
}

// State describes the platform now, a line per service.
func (h *Rehearsal) State() []string {
	if w, ok := h.r.p.(platform.StepWatcher); ok {
		return w.State()
	}
	return []string{"the " + h.r.p.Name() + " platform cannot describe its state"}
}

// Topology is the scenario's resolved topology.
func (h *Rehearsal) Topology() *platform.Topology { return h.r.sc.Topology.Resolved }

// Perform has the platform carry out an action the person typed, now, as
// their way of doing a due step with the same action: the one whose
// parameters it matches best (the first due one on a tie). The step is
// done when the platform's state shows its effect; the action's own end is
// reported to the Performer's Attempted. An action no due step uses is
// refused.
func (h *Rehearsal) Perform(a platform.Action) (*Step, error) {
	st, err := h.match(a)
	if err != nil {
		return nil, err
	}
	now := h.r.loop.Now()
	st.Begin()
	rec := h.r.steps[st.index].Rehearsal
	rec.Attempts = append(rec.Attempts, reports.Attempt{At: now, Action: describeAction(a)})
	st.typed = a
	a.Name = st.Name()
	h.r.opts.Log("%8s  runbook %s: the engineer ran %s", fmtTime(now), st.Name(), describeAction(a))
	if err := h.r.p.StartAction(context.Background(), a, h.r); err != nil {
		rec.Attempts[len(rec.Attempts)-1].Error = err.Error()
		h.r.opts.Performer.Attempted(st, a, err)
	}
	return st, nil
}

// match finds the due, open step an action typed is for.
func (h *Rehearsal) match(a platform.Action) (*Step, error) {
	var best *Step
	bestScore := -1
	var waiting []string
	for _, st := range h.steps {
		s := h.r.sc.Runbook[st.index]
		if s.Action != a.Action {
			continue
		}
		if !st.due || st.closed || h.r.steps[st.index].Rehearsal.By == reports.ByHarness {
			if !st.closed {
				waiting = append(waiting, st.Name()+" ("+st.Waits()+")")
			}
			continue
		}
		score := 0
		for k, v := range a.Params {
			if s.Params[k] == v {
				score++
			}
		}
		if score > bestScore {
			best, bestScore = st, score
		}
	}
	switch {
	case best != nil:
		return best, nil
	case len(waiting) > 0:
		return nil, fmt.Errorf("no step that uses %s is due now: %s", a.Action, strings.Join(waiting, ", "))
	default:
		return nil, fmt.Errorf("no open step of the runbook uses %s", a.Action)
	}
}

// describeAction writes an action as it is typed: "ACTION k=v ...".
func describeAction(a platform.Action) string {
	keys := make([]string, 0, len(a.Params))
	for k := range a.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := []string{a.Action}
	for _, k := range keys {
		parts = append(parts, k+"="+a.Params[k])
	}
	return strings.Join(parts, " ")
}

// drive runs the loop to end: through Options.Drive when set (a rehearsal
// paces it and takes the person's commands between slices). A stop by the
// person ends the run at the loop's time.
func (r *Runner) drive(ctx context.Context, end time.Duration) error {
	if r.opts.Drive == nil {
		return r.loop.Run(ctx, end)
	}
	err := r.opts.Drive(ctx, r.loop, end)
	if errors.Is(err, ErrStopped) {
		stopped := r.loop.Now()
		r.stoppedAt = &stopped
		return nil
	}
	return err
}

// settleRehearsed says why a rehearsal's step did not happen as written,
// when the rehearsal knows better than a run would: the person never began
// a due step, skipped it, or stopped the rehearsal first. It reports
// whether it settled the step.
func (r *Runner) settleRehearsed(p *plan, rec *reports.StepRecord) bool {
	if !r.rehearsing() {
		return false
	}
	st := r.rehearsal.steps[p.index]
	if st.cancel != nil {
		st.cancel()
	}
	h := rec.Rehearsal
	switch {
	case h.By == reports.BySkipped:
		return true
	case rec.DoneAt != nil:
		return true
	case r.stoppedAt != nil && (st.due || !p.late):
		what := "was not due before then"
		if st.due {
			what = "was not done by then"
		}
		rec.NotRehearsed = fmt.Sprintf("the engineer stopped the rehearsal at %s; it %s", fmtTime(*r.stoppedAt), what)
		return true
	case st.due && h.By == reports.ByHarness:
		rec.NotRehearsed = fmt.Sprintf("handed back to the harness at %s, not finished by the end of the run", fmtTime(*h.BegunAt))
		return true
	case st.due && h.BegunAt != nil:
		rec.NotRehearsed = fmt.Sprintf("due at %s; the engineer began at %s, and the platform had not shown %q by the end of the run", fmtTime(*h.TriggeredAt), fmtTime(*h.BegunAt), h.Goal)
		return true
	case st.due:
		rec.NotRehearsed = fmt.Sprintf("due at %s; nobody took it up before the end of the run", fmtTime(*h.TriggeredAt))
		return true
	}
	return false
}

// stoppedReason says why a fault did not happen when the person stopped
// the rehearsal first; "" otherwise.
func (r *Runner) stoppedReason() string {
	if r.stoppedAt == nil {
		return ""
	}
	return "the engineer stopped the rehearsal at " + fmtTime(*r.stoppedAt) + ", before it"
}

// rehearsalRun is the run's rehearsal record for the report.
func (r *Runner) rehearsalRun() *reports.RehearsalRun {
	if !r.rehearsing() {
		return nil
	}
	return &reports.RehearsalRun{StoppedAt: r.stoppedAt}
}
