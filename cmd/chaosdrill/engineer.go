package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/reports"
	"github.com/chaosdrill/chaosdrill/runner"
)

// engineer is the person at the keyboard of a rehearsal, as the runner
// sees them (runner.Performer) and as the loop is driven for them
// (runner.Options.Drive): the loop runs in slices, paced against the wall
// clock, and between slices the engineer's commands take effect at the
// loop's time. Everything here runs on the goroutine that drives the loop,
// except the console's reader.
type engineer struct {
	c        console
	speed    float64 // scenario seconds per wall second (sim); 1 on containers
	platform string
	h        *runner.Rehearsal

	queue []inputLine // lines typed, not yet carried out
	// inputErr is why the input could not be read to its end: the
	// rehearsal stops there and its report is an error report.
	inputErr error
	// ref is when the last command took effect (for sleep); waiting and
	// sleepUntil hold the queue for a script.
	ref        time.Duration
	waiting    *runner.Step
	sleepUntil *time.Duration
	inputOver  bool
	endSaid    bool // sayInputEnded has spoken
	stop       bool
	loop       platform.Loop
	// sleepArmed is the time a handler is scheduled at to end a sleep.
	sleepArmed *time.Duration
}

func newEngineer(c console, speed float64, platformName string) *engineer {
	e := &engineer{c: c, speed: speed, platform: platformName}
	c.SetCompleter(e.complete)
	return e
}

// sliceWall is how often, in wall time, the engineer's commands are taken
// and the clock redrawn while the loop runs.
const sliceWall = 20 * time.Millisecond

// statusEvery is how often the prompt's clock is redrawn.
const statusEvery = 250 * time.Millisecond

// drive runs the loop to end in slices. On the simulator, scenario time
// follows the wall clock times speed (catching up after a stall); on
// containers the loop keeps wall time itself. Lines typed are carried out
// between slices; a script's wait and sleep end inside the loop, in a
// handler at the step's trigger or the sleep's end, so the command after
// them takes effect at exactly that time whatever the slices.
//
// A script (input that is not a terminal) on the simulator is exact: the
// clock never runs ahead of it. It runs only while a wait or a sleep holds
// the script, and after the input ends; a line read late can then never
// find its time already past.
func (e *engineer) drive(ctx context.Context, loop platform.Loop, end time.Duration) error {
	e.loop = loop
	wallStart, virtualStart := time.Now(), loop.Now()
	tick := time.NewTicker(sliceWall)
	defer tick.Stop()
	lastStatus := time.Time{}
	for {
		e.take()
		e.process(loop.Now(), false)
		if e.stop {
			return runner.ErrStopped
		}
		now := loop.Now()
		if time.Since(lastStatus) >= statusEvery {
			e.c.SetStatus(e.status(now, end))
			lastStatus = time.Now()
		}
		if e.platform == "sim" && e.c.Scripted() && !e.inputOver && len(e.queue) == 0 && e.waiting == nil && e.sleepUntil == nil {
			// The script's next line has not been read: the clock
			// waits for it (and does not catch up afterwards).
			select {
			case <-ctx.Done():
				return ctx.Err()
			case line, ok := <-e.c.Lines():
				if ok {
					e.queue = append(e.queue, line)
					if line.fatal {
						e.endInput()
					}
				} else {
					e.endInput()
				}
			}
			wallStart, virtualStart = time.Now(), loop.Now()
			continue
		}
		var target time.Duration
		if e.platform == "sim" {
			target = virtualStart + time.Duration(float64(time.Since(wallStart))*e.speed)
		} else {
			target = now + 100*time.Millisecond
		}
		if e.sleepUntil != nil && target > *e.sleepUntil {
			// The slice ends where the sleep does, so that a command
			// carried out between slices (an abort) comes at its time.
			target = *e.sleepUntil
		}
		target = min(target, end)
		if target > now {
			if err := loop.Run(ctx, target); err != nil {
				return err
			}
			if loop.Now() < target {
				continue // a script's handler ended the slice early: take over at once
			}
		}
		if target == end {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// take moves the lines typed so far into the queue.
func (e *engineer) take() {
	for {
		select {
		case line, ok := <-e.c.Lines():
			if !ok {
				e.endInput()
				return
			}
			e.queue = append(e.queue, line)
			if line.fatal {
				e.endInput()
				return
			}
		default:
			return
		}
	}
}

// endInput notes that nothing more will be typed; process says so once
// the commands read before have been carried out.
func (e *engineer) endInput() { e.inputOver = true }

// sayInputEnded says, once, that the input has ended and every command it
// gave has been carried out: from here on nobody takes up a step.
func (e *engineer) sayInputEnded(now time.Duration) {
	if e.inputOver && !e.endSaid {
		e.endSaid = true
		e.c.Printf("[%s] no more commands: steps nobody takes up will be reported not rehearsed; the harness's own steps and the scenario run on to its end", fmtScenario(now))
	}
}

// process carries out the queued commands at now, until one holds the
// queue (a script's wait or sleep) or the rehearsal stops. Inside a loop
// handler an abort waits for the slice's end, where the loop can stop:
// the rehearsal ends at the time the loop reached, never later than it
// says.
func (e *engineer) process(now time.Duration, inHandler bool) {
	for !e.stop {
		if e.waiting != nil {
			if !e.waiting.Due() {
				return
			}
			e.ref = *e.waiting.Record().Rehearsal.TriggeredAt
			e.waiting = nil
		}
		if e.sleepUntil != nil {
			if now < *e.sleepUntil {
				e.armSleep(*e.sleepUntil)
				return
			}
			e.ref = *e.sleepUntil
			e.sleepUntil = nil
		}
		if len(e.queue) == 0 {
			e.sayInputEnded(now)
			return
		}
		line := e.queue[0]
		if inHandler && (line.fatal || line.err == nil && strings.TrimSpace(line.text) == "abort") {
			return
		}
		e.queue = e.queue[1:]
		switch {
		case line.fatal:
			e.c.Printf("[%s] %v: the rehearsal stops here; its report is an error report", fmtScenario(now), line.err)
			e.inputErr, e.stop = line.err, true
		case line.err != nil:
			e.c.Printf("[%s] %v", fmtScenario(now), line.err)
		default:
			e.command(line.text, now)
		}
	}
}

// yielder is a loop whose Run can return early, right after the handler
// firing now (the simulator's).
type yielder interface{ Yield() }

// scriptHandler carries out the queued commands in a handler of the loop
// at now, then ends the slice there when the loop can: a sleep the
// commands began, or an abort they reached, then takes effect at exactly
// its time, not at the end of a slice that had already been given its
// target (at --speed 3000 a slice is a minute of scenario time or more).
func (e *engineer) scriptHandler(now time.Duration) {
	e.take()
	e.process(now, true)
	if y, ok := e.loop.(yielder); ok {
		y.Yield()
	}
}

// armSleep schedules the end of a sleep on the loop, once.
func (e *engineer) armSleep(at time.Duration) {
	if e.loop == nil || (e.sleepArmed != nil && *e.sleepArmed == at) {
		return
	}
	e.sleepArmed = &at
	e.loop.At(at, platform.HandlerFunc(e.scriptHandler))
}

// command carries out one line at now.
func (e *engineer) command(line string, now time.Duration) {
	line = strings.TrimSpace(line)
	if line == "" || strings.HasPrefix(line, "#") {
		return
	}
	words := strings.Fields(line)
	stepArg := func() (*runner.Step, bool) {
		if len(words) != 2 {
			e.c.Printf("%s needs one step: %s STEP (steps: %s)", words[0], words[0], strings.Join(e.stepNames(), ", "))
			return nil, false
		}
		st, ok := e.h.Step(words[1])
		if !ok {
			e.c.Printf("no step %q (steps: %s)", words[1], strings.Join(e.stepNames(), ", "))
		}
		return st, ok
	}
	// A sleep counts from when the previous command took effect (or a
	// wait's step was triggered); every other command takes effect now.
	prev := e.ref
	e.ref = now
	switch words[0] {
	case "help", "?":
		e.help()
	case "status":
		e.showStatus(now)
	case "show":
		if st, ok := stepArg(); ok {
			e.showStep(st)
		}
	case "begin", "start":
		if st, ok := stepArg(); ok {
			if !st.Due() || st.Closed() {
				e.c.Printf("%s is not open: %s", st.Name(), e.stepState(st))
				return
			}
			st.Begin()
			e.c.Printf("[%s] %s: begun; the harness watches for: %s", fmtScenario(now), st.Name(), st.Record().Rehearsal.Goal)
		}
	case "handback":
		if st, ok := stepArg(); ok {
			if err := st.HandBack(); err != nil {
				e.c.Printf("cannot hand back: %v", err)
			}
		}
	case "skip":
		if st, ok := stepArg(); ok {
			if err := st.Skip(); err != nil {
				e.c.Printf("cannot skip: %v", err)
			}
		}
	case "abort":
		e.c.Printf("[%s] aborting: the report is written with everything not done by now not rehearsed", fmtScenario(now))
		e.stop = true
	case "wait":
		if st, ok := stepArg(); ok {
			e.waiting = st
		}
	case "sleep":
		if len(words) != 2 {
			e.c.Printf("sleep needs a duration of scenario time: sleep 90s")
			return
		}
		d, err := time.ParseDuration(words[1])
		if err != nil || d < 0 {
			e.c.Printf("sleep %s: want a duration such as 90s or 2m", words[1])
			return
		}
		until := prev + d
		e.ref, e.sleepUntil = prev, &until
	default:
		e.action(words, now)
	}
}

// action carries out a typed runbook action.
func (e *engineer) action(words []string, now time.Duration) {
	info, ok := actionInfo(words[0])
	if !ok {
		e.c.Printf("%q is neither a command nor a runbook action (help lists them; Tab completes)", words[0])
		return
	}
	a := platform.Action{Action: info.Name, Params: map[string]string{}}
	for _, w := range words[1:] {
		k, v, ok := strings.Cut(w, "=")
		if _, known := info.Params[k]; !ok || !known {
			e.c.Printf("%s: %q: want key=value with a key of %s", info.Name, w, strings.Join(slices.Sorted(maps.Keys(info.Params)), ", "))
			return
		}
		a.Params[k] = v
	}
	for _, k := range info.Required {
		if a.Params[k] == "" {
			e.c.Printf("%s needs %s=...", info.Name, k)
			return
		}
	}
	if _, err := e.h.Perform(a); err != nil {
		e.c.Printf("[%s] not carried out: %v", fmtScenario(now), err)
	}
}

func actionInfo(name string) (platform.ActionInfo, bool) {
	for _, info := range platform.ActionCatalog() {
		if info.Name == name {
			return info, true
		}
	}
	return platform.ActionInfo{}, false
}

// --- runner.Performer ---

// Started greets the engineer with the runbook.
func (e *engineer) Started(h *runner.Rehearsal) {
	e.h = h
	e.c.Printf("The platform is up. Scenario time runs from 0 to %s. The runbook:", fmtScenario(h.End()))
	for _, st := range h.Steps() {
		r := st.Record()
		e.c.Printf("  %-22s %s  (%s; assumed operator_delay %s)", st.Name(), describe(st.Action()), st.Waits(), r.Rehearsal.AssumedDelay)
	}
	e.c.Printf("You will be told when each step is due. Type help for the commands.")
}

// Due tells the engineer a step is needed, and how.
func (e *engineer) Due(st *runner.Step) {
	r := st.Record()
	e.c.Printf("")
	e.c.Printf("[%s] DUE %s: %s", fmtScenario(*r.Rehearsal.TriggeredAt), st.Name(), describe(st.Action()))
	e.showStep(st)
	if e.waiting == st && e.loop != nil {
		// A script waits for this step: go on at its trigger, in a
		// handler of its own.
		e.loop.At(e.loop.Now(), platform.HandlerFunc(e.scriptHandler))
	}
}

// Finished says how a step ended.
func (e *engineer) Finished(st *runner.Step) {
	r := st.Record()
	h := r.Rehearsal
	switch {
	case h.By == reports.BySkipped:
		e.c.Printf("[%s] %s skipped: it will be reported not rehearsed", fmtScenario(e.h.Now()), st.Name())
	case r.Error != "":
		e.c.Printf("[%s] %s FAILED: %s", fmtScenario(*r.DoneAt), st.Name(), r.Error)
	default:
		line := fmt.Sprintf("[%s] %s DONE (%s)", fmtScenario(*r.DoneAt), st.Name(), h.By)
		if h.TriggeredAt != nil {
			if h.BegunAt != nil {
				line += fmt.Sprintf("; reaction %s", fmtScenario(*h.BegunAt-*h.TriggeredAt))
			}
			line += fmt.Sprintf(", trigger to done %s (assumed operator_delay %s)", fmtScenario(*r.DoneAt-*h.TriggeredAt), h.AssumedDelay)
		}
		e.c.Printf("%s", line)
	}
}

// Attempted says how the platform took an action the engineer typed.
func (e *engineer) Attempted(st *runner.Step, a platform.Action, err error) {
	if err != nil {
		e.c.Printf("[%s] %s: %s was not carried out: %v", fmtScenario(e.h.Now()), st.Name(), describe(a), err)
		return
	}
	if !st.Closed() {
		e.c.Printf("[%s] %s: %s finished; still watching for: %s", fmtScenario(e.h.Now()), st.Name(), describe(a), st.Record().Rehearsal.Goal)
	}
}

// log prints the runner's narration (faults, events, steps).
func (e *engineer) log(format string, args ...any) {
	e.c.Printf(format, args...)
}

// --- what the engineer sees ---

func (e *engineer) showStep(st *runner.Step) {
	r := st.Record()
	e.c.Printf("  goal: %s", r.Rehearsal.Goal)
	e.c.Printf("  assumed operator_delay: %s", r.Rehearsal.AssumedDelay)
	e.c.Printf("  on the real systems:")
	for _, line := range st.Instructions() {
		e.c.Printf("    %s", line)
	}
	if r.Rehearsal.Unwatched != "" {
		e.c.Printf("  the harness cannot watch for it here (%s): it is done when an action you type here ends", r.Rehearsal.Unwatched)
	}
	here := fmt.Sprintf("type `%s` when you do it", describe(st.Action()))
	if e.platform != "sim" {
		here = fmt.Sprintf("`begin %s` when you start, then do it on the run's containers (the addresses above); or type `%s` for the harness to do it now", st.Name(), describe(st.Action()))
	}
	e.c.Printf("  here: %s; `handback %s` to leave it to the harness; `skip %s` to give it up", here, st.Name(), st.Name())
}

func (e *engineer) help() {
	for _, line := range []string{
		"ACTION key=value ...   carry out a runbook action now, for the due step that uses it",
		"begin STEP             you began STEP (its reaction time stops here)",
		"handback STEP          the harness performs STEP now, as run does",
		"skip STEP              give STEP up: it is reported not rehearsed",
		"show STEP              the instructions for STEP again",
		"status                 the clock, the steps and the platform's state",
		"abort                  stop here and write the report (exit 1)",
		"wait STEP / sleep D    (scripts) hold the next commands until STEP is due / D after the last command",
		"actions: " + strings.Join(actionNames(), ", "),
	} {
		e.c.Printf("  %s", line)
	}
}

func (e *engineer) showStatus(now time.Duration) {
	e.c.Printf("[%s of %s]", fmtScenario(now), fmtScenario(e.h.End()))
	for _, st := range e.h.Steps() {
		e.c.Printf("  %-22s %s", st.Name(), e.stepState(st))
	}
	for _, line := range e.h.State() {
		e.c.Printf("  %s", line)
	}
}

// stepState says where a step stands.
func (e *engineer) stepState(st *runner.Step) string {
	r := st.Record()
	h := r.Rehearsal
	switch {
	case !st.Due():
		return "not due: " + st.Waits()
	case h.By == reports.BySkipped:
		return "skipped"
	case r.Error != "":
		return "failed: " + r.Error
	case st.Closed():
		return fmt.Sprintf("done at %s (%s)", fmtScenario(*r.DoneAt), h.By)
	case h.By == reports.ByHarness:
		return "with the harness since " + fmtScenario(*h.BegunAt)
	case h.BegunAt != nil:
		return fmt.Sprintf("DUE since %s, begun at %s; watching for: %s", fmtScenario(*h.TriggeredAt), fmtScenario(*h.BegunAt), h.Goal)
	}
	return fmt.Sprintf("DUE since %s; waiting for you", fmtScenario(*h.TriggeredAt))
}

// status is the prompt: the clock and how many steps wait for the
// engineer.
func (e *engineer) status(now, end time.Duration) string {
	due := 0
	if e.h != nil {
		for _, st := range e.h.Steps() {
			if st.Due() && !st.Closed() && st.Record().Rehearsal.By != reports.ByHarness {
				due++
			}
		}
	}
	return fmt.Sprintf("[%s/%s, %d due] > ", fmtScenario(now), fmtScenario(end), due)
}

func (e *engineer) stepNames() []string {
	var names []string
	if e.h != nil {
		for _, st := range e.h.Steps() {
			names = append(names, st.Name())
		}
	}
	return names
}

func actionNames() []string {
	var names []string
	for _, info := range platform.ActionCatalog() {
		names = append(names, info.Name)
	}
	return names
}

// describe writes an action as it is typed.
func describe(a platform.Action) string {
	keys := slices.Sorted(maps.Keys(a.Params))
	parts := []string{a.Action}
	for _, k := range keys {
		parts = append(parts, k+"="+a.Params[k])
	}
	return strings.Join(parts, " ")
}

// fmtScenario writes a scenario time to the tenth of a second.
func fmtScenario(d time.Duration) string {
	return d.Round(100 * time.Millisecond).String()
}

// --- completion ---

var commandWords = []string{"abort", "begin", "handback", "help", "show", "skip", "sleep", "status", "wait"}

// complete completes the word before pos: a command or action name first,
// then a step name, an action's parameter names, or a parameter's values.
// ok is false when there is nothing to add; candidates, when the word has
// several, are listed for the engineer.
func (e *engineer) complete(line string, pos int) (string, int, bool) {
	head, tail := line[:pos], line[pos:]
	start := strings.LastIndexByte(head, ' ') + 1
	word := head[start:]
	before := strings.Fields(head[:start])
	var candidates []string
	switch {
	case len(before) == 0:
		candidates = append(append([]string{}, commandWords...), actionNames()...)
	case slices.Contains([]string{"begin", "handback", "skip", "show", "wait"}, before[0]) && len(before) == 1:
		candidates = e.stepNames()
	default:
		info, ok := actionInfo(before[0])
		if !ok {
			return "", 0, false
		}
		if k, _, isValue := strings.Cut(word, "="); isValue {
			for _, v := range e.valuesOf(k) {
				candidates = append(candidates, k+"="+v)
			}
		} else {
			given := map[string]bool{}
			for _, w := range before[1:] {
				k, _, _ := strings.Cut(w, "=")
				given[k] = true
			}
			for _, k := range slices.Sorted(maps.Keys(info.Params)) {
				if !given[k] {
					candidates = append(candidates, k+"=")
				}
			}
		}
	}
	var matches []string
	for _, c := range candidates {
		if strings.HasPrefix(c, word) {
			matches = append(matches, c)
		}
	}
	if len(matches) == 0 {
		return "", 0, false
	}
	common := matches[0]
	for _, m := range matches[1:] {
		for !strings.HasPrefix(m, common) {
			common = common[:len(common)-1]
		}
	}
	if len(matches) == 1 && !strings.HasSuffix(common, "=") {
		common += " "
	}
	if common == word {
		sort.Strings(matches)
		e.c.Printf("%s", strings.Join(matches, "  "))
		return "", 0, false
	}
	newHead := head[:start] + common
	return newHead + tail, len(newHead), true
}

// valuesOf lists the values a parameter may take in this topology.
func (e *engineer) valuesOf(param string) []string {
	if e.h == nil {
		return nil
	}
	t := e.h.Topology()
	var out []string
	switch param {
	case "promote", "member":
		for _, n := range t.Nodes() {
			if n.Kind == platform.KindMongo {
				out = append(out, n.Name)
			}
		}
	case "region":
		for _, r := range t.Regions {
			out = append(out, r.Name)
		}
	case "zone":
		for _, r := range t.Regions {
			out = append(out, r.Zones...)
		}
	case "service":
		for _, s := range t.Services {
			out = append(out, s.Name)
		}
	case "source":
		out = []string{"initial-sync", "backup"}
	case "partial":
		out = []string{"true", "false"}
	case "write_concern":
		out = []string{"majority", "1"}
		for _, s := range t.Services {
			out = append(out, slices.Sorted(maps.Keys(s.WriteModes))...)
		}
	case "role", "key":
		// The s3 services' roles and artifact keys.
		for _, s := range t.Services {
			if param == "role" {
				for _, r := range s.Roles {
					out = append(out, r.Name)
				}
				continue
			}
			for _, a := range s.Artifacts {
				out = append(out, a.Key)
			}
		}
	case "name":
		// A new member's name: the ones the runbook gives.
		for _, st := range e.h.Steps() {
			if n := st.Action().Params["name"]; n != "" {
				out = append(out, n)
			}
		}
	}
	return out
}
