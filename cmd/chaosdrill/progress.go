package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/chaosdrill/chaosdrill/runner"
)

// liveProgress shows a live run's progress line: the wall time since it
// started, how far the scenario got, operations per service, the faults in
// force and the next runbook step. On a terminal it is one line kept up to
// date (the progress library's spinner, as the sweep's bar); otherwise a
// plain line every plainEvery.
type liveProgress struct {
	mu      sync.Mutex
	bar     *progressbar.ProgressBar
	plain   io.Writer
	started time.Time
	last    time.Time
	printed bool
	now     func() time.Time
}

func newLiveProgress(ctx context.Context, stderr io.Writer) *liveProgress {
	raw, _ := ctx.Value(rawStderrKey{}).(io.Writer)
	if raw == nil {
		raw = stderr
	}
	p := &liveProgress{started: time.Now(), now: time.Now}
	if isTerminal(raw) {
		p.bar = progressbar.NewOptions64(-1,
			progressbar.OptionSetWriter(raw),
			progressbar.OptionSpinnerType(14),
			progressbar.OptionSetElapsedTime(false),
			progressbar.OptionShowDescriptionAtLineEnd(),
			progressbar.OptionClearOnFinish())
	} else {
		p.plain = stderr
	}
	return p
}

// update takes a snapshot from the run's loop.
func (p *liveProgress) update(s runner.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	line := progressLine(s, now.Sub(p.started))
	if p.bar != nil {
		p.bar.Describe(line)
		_ = p.bar.Add(1)
		return
	}
	if !p.printed || now.Sub(p.last) >= plainEvery {
		fmt.Fprintln(p.plain, line)
		p.printed, p.last = true, now
	}
}

// log prints one of the run's log lines without tearing the progress line.
func (p *liveProgress) log(w io.Writer, format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Clear()
	}
	fmt.Fprintf(w, format+"\n", args...)
}

func (p *liveProgress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

// progressLine words a snapshot of a run, e.g. "2m10s elapsed · scenario
// 2m0s of 25m0s · ops: mongo 24000, logs 60000 · faults: lose-east · next:
// promote-west at 14m2s".
func progressLine(s runner.Progress, elapsed time.Duration) string {
	parts := []string{
		elapsed.Round(time.Second).String() + " elapsed",
		// Whole seconds reached, never past the end: the loop's clock can
		// stand a moment past the duration as the run ends, and rounding
		// up would claim 1m31s of 1m30s.
		fmt.Sprintf("scenario %s of %s", min(s.At, s.Duration).Truncate(time.Second), s.Duration),
	}
	var ops []string
	for _, o := range s.Ops {
		ops = append(ops, o.Service+" "+strconv.FormatInt(o.Ops, 10))
	}
	if len(ops) > 0 {
		parts = append(parts, "ops: "+strings.Join(ops, ", "))
	}
	faults := "none"
	if len(s.ActiveFaults) > 0 {
		faults = strings.Join(s.ActiveFaults, ", ")
	}
	parts = append(parts, "faults: "+faults)
	switch {
	case s.NextStep == "":
		parts = append(parts, "runbook: all steps started")
	case s.NextStepAt == nil:
		parts = append(parts, "next: "+s.NextStep+" (waiting for its trigger)")
	default:
		parts = append(parts, "next: "+s.NextStep+" at "+s.NextStepAt.Round(time.Second).String())
	}
	return strings.Join(parts, " · ")
}
