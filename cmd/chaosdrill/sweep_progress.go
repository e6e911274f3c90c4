package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
)

// plainEvery is how often, at most, a sweep on a pipe or in a CI log says
// how far it got, besides at each tenth of the runs.
const plainEvery = 30 * time.Second

// sweepProgress shows how far a sweep got: a progress bar on a terminal
// (runs done, rate, time left), plain lines otherwise.
type sweepProgress struct {
	mu      sync.Mutex
	bar     *progressbar.ProgressBar
	plain   io.Writer
	name    string
	total   int
	done    int
	started time.Time
	last    time.Time
	tenth   int
}

func newSweepProgress(ctx context.Context, cmd *cobra.Command, name string, total int) *sweepProgress {
	rawStderr, _ := ctx.Value(rawStderrKey{}).(io.Writer)
	if rawStderr == nil {
		rawStderr = cmd.ErrOrStderr()
	}
	p := &sweepProgress{name: name, total: total, started: time.Now()}
	p.last = p.started
	if isTerminal(rawStderr) {
		p.bar = progressbar.NewOptions64(int64(total),
			progressbar.OptionSetWriter(rawStderr),
			progressbar.OptionSetDescription(name),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("runs"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish())
	} else {
		p.plain = cmd.ErrOrStderr()
	}
	return p
}

func (p *sweepProgress) add(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	if p.bar != nil {
		_ = p.bar.Add(n)
		return
	}
	now := time.Now()
	tenth := p.done * 10 / max(p.total, 1)
	if tenth > p.tenth || now.Sub(p.last) >= plainEvery {
		if p.done < p.total {
			p.line(now)
		}
		p.tenth, p.last = tenth, now
	}
}

// line writes one plain progress line.
func (p *sweepProgress) line(now time.Time) {
	elapsed := now.Sub(p.started).Seconds()
	rate := float64(p.done) / max(elapsed, 1e-9)
	left := time.Duration(float64(p.total-p.done)/max(rate, 1e-9)) * time.Second
	fmt.Fprintf(p.plain, "sweep %s: %d/%d runs (%d%%), %.1f runs/s, about %s left\n",
		p.name, p.done, p.total, p.done*100/max(p.total, 1), rate, left.Round(time.Second))
}

// finish ends the bar, or writes the last plain line.
func (p *sweepProgress) finish(complete bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		if complete {
			_ = p.bar.Finish()
		} else {
			_ = p.bar.Exit()
		}
		return
	}
	elapsed := time.Since(p.started)
	if complete {
		fmt.Fprintf(p.plain, "sweep %s: %d runs done in %s\n", p.name, p.done, elapsed.Round(time.Millisecond))
	} else {
		fmt.Fprintf(p.plain, "sweep %s: stopped after %d of %d runs (%s)\n", p.name, p.done, p.total, elapsed.Round(time.Millisecond))
	}
}
