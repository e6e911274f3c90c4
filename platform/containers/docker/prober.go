package docker

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"
)

// Probe asks a node once whether it answers; nil means it did. It must give
// up when ctx ends.
type Probe func(ctx context.Context) error

// Transition is a change of a probed node's state, as the prober saw it.
type Transition struct {
	At  time.Time // wall clock
	Up  bool
	Err error // why the probe failed, for a transition to down
}

// Outage is one span during which the node did not answer. End is zero if
// it had not come back when probing stopped.
type Outage struct {
	Start, End time.Time
}

// Duration is End - Start, or 0 for an outage that had not ended.
func (o Outage) Duration() time.Duration {
	if o.End.IsZero() {
		return 0
	}
	return o.End.Sub(o.Start)
}

// Prober probes one node every interval and records when it stops and
// starts answering. The timestamps are chosen to bracket the truth tightly:
//
//   - down is the moment the first unanswered probe was sent: the node
//     answered the probe before it, so it failed within one interval
//     before this time (or during the probe's own round trip);
//   - up is the moment the first answer arrived: a probe sent while a
//     paused node was frozen is answered as soon as it thaws, so up lags
//     the truth by one round trip, not by an interval.
//
// A probe that gets no answer ends after timeout and the next one is sent
// at once; the timeout only bounds how long a down is noticed late, not the
// recorded time.
type Prober struct {
	probe    Probe
	interval time.Duration
	timeout  time.Duration

	mu          sync.Mutex
	transitions []Transition
	up          *bool

	cancel context.CancelFunc
	done   chan struct{}
}

// NewProber returns a prober that calls probe every interval, each call
// bounded by timeout. Call Start, then Stop.
func NewProber(probe Probe, interval, timeout time.Duration) *Prober {
	return &Prober{probe: probe, interval: interval, timeout: timeout}
}

// Start probes in the background until Stop or ctx ends.
func (p *Prober) Start(ctx context.Context) {
	ctx, p.cancel = context.WithCancel(ctx)
	p.done = make(chan struct{})
	go func() {
		defer close(p.done)
		p.run(ctx)
	}()
}

// Stop ends probing and waits for the last probe.
func (p *Prober) Stop() {
	if p.cancel == nil {
		return
	}
	p.cancel()
	<-p.done
}

func (p *Prober) run(ctx context.Context) {
	ticker := time.NewTicker(p.interval)
	defer ticker.Stop()
	for {
		sent := time.Now()
		probeCtx, cancel := context.WithTimeout(ctx, p.timeout)
		err := p.probe(probeCtx)
		cancel()
		answered := time.Now()
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			p.record(Transition{At: answered, Up: true})
		} else {
			p.record(Transition{At: sent, Up: false, Err: err})
		}
		if err != nil && answered.Sub(sent) >= p.interval {
			continue // a timed-out probe already waited an interval or more
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

func (p *Prober) record(t Transition) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.up != nil && *p.up == t.Up {
		return
	}
	p.up = &t.Up
	p.transitions = append(p.transitions, t)
}

// Transitions are the recorded state changes, oldest first; the first one is
// the state the first probe found.
func (p *Prober) Transitions() []Transition {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Transition(nil), p.transitions...)
}

// Outages are the spans between a transition to down and the next one to
// up. A node that was down at the first probe starts with an outage whose
// Start is that probe.
func (p *Prober) Outages() []Outage {
	var outages []Outage
	for _, t := range p.Transitions() {
		switch {
		case !t.Up:
			outages = append(outages, Outage{Start: t.At})
		case len(outages) > 0 && outages[len(outages)-1].End.IsZero():
			outages[len(outages)-1].End = t.At
		}
	}
	return outages
}

// EchoProbe probes a stand-in's echo port: connect, send a line, expect a
// pong. The address is looked up on every probe, since a restarted node has
// a new host port. A TCP connect alone proves nothing against a paused
// container (Docker's proxy and the frozen container's kernel still accept),
// hence the round trip.
func EchoProbe(address func(ctx context.Context) (string, error)) Probe {
	return func(ctx context.Context) error {
		target, err := address(ctx)
		if err != nil {
			return err
		}
		var dialer net.Dialer
		conn, err := dialer.DialContext(ctx, "tcp", target)
		if err != nil {
			return err
		}
		defer conn.Close()
		if deadline, ok := ctx.Deadline(); ok {
			if err := conn.SetDeadline(deadline); err != nil {
				return err
			}
		}
		if _, err := conn.Write([]byte("ping\n")); err != nil {
			return fmt.Errorf("send ping: %w", err)
		}
		reply, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil {
			return fmt.Errorf("read pong: %w", err)
		}
		if !strings.HasPrefix(reply, "pong") {
			return fmt.Errorf("unexpected reply %q", strings.TrimSpace(reply))
		}
		return nil
	}
}
