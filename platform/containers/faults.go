package containers

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/platform/containers/docker"
)

// injector is the platform's Faults: the Docker engine's primitives, plus
// the events the runner and reports rely on.
//
// Every primitive returns at once and is carried out off the loop, so the
// loop (workload ticks, other faults) never waits on Docker. The primitives
// one loop handler issues make one fault: the runner injects a zone or
// region outage as one call per node, back to back, and all of them start
// together, in parallel, so the nodes go down within a few milliseconds of
// each other rather than one container exit after another. When they have
// all taken effect, a fault-applied event says when the last node went down
// and the spread between the first and the last, by Docker's own
// timestamps.
//
// node-down and node-up carry the time Docker recorded for the act (the
// container's exit, start, freeze or thaw). A primitive that failed is
// reported as fault-failed with the reason. Primitives on one node are
// carried out in the order they were issued.
//
// At the instant of a fault (the handler's time) every replica set's
// replication lag is measured, in parallel with the primitives, and
// reported as of that instant.
type injector struct {
	p *Platform

	mu    sync.Mutex
	tails map[string]chan struct{} // per node, and networkChain: closed when the last queued primitive is done

	// Touched only on the loop.
	batches    map[string]*faultBatch // the current handler's faults, by primitive
	batchOf    uint64                 // the handler the batches belong to
	lagTakenAt uint64                 // the handler that measured replication lag last
}

// networkChain orders the primitives that change the network state as a
// whole (partition, heal).
const networkChain = "\x00network"

// primitiveTimeout bounds one primitive off the loop: a graceful stop takes
// Docker's grace period (10 s) at most, an iptables change well under a
// second.
const primitiveTimeout = 2 * time.Minute

// Events of the fault injector, shared with the runner (platform/events.go).
const (
	EventFaultFailed  = platform.EventFaultFailed
	EventFaultSkipped = platform.EventFaultSkipped
	EventFaultApplied = platform.EventFaultApplied
)

var _ platform.Faults = (*injector)(nil)

// faultBatch is the primitives of one kind one loop handler issued.
type faultBatch struct {
	f    *injector
	verb string        // "kill", "pause", ...
	at   time.Duration // the handler's time: the fault instant

	mu      sync.Mutex
	pending int
	sealed  bool
	results []primitiveResult
	skipped []string // nodes of services the platform did not start
}

type primitiveResult struct {
	node string
	at   time.Time // as Docker recorded it
	err  error
}

// batch returns the batch of verb for the handler firing now (a new one
// outside a handler). fault primitives (as opposed to their undoing) also
// start the replication-lag measurement of the fault instant, once per
// handler.
func (f *injector) batch(verb string, fault bool) *faultBatch {
	firing, at, inHandler := f.p.loop.handler()
	if !inHandler {
		at = f.p.loop.Now()
	}
	if fault && (!inHandler || f.lagTakenAt != firing) {
		f.lagTakenAt = firing
		for _, m := range f.p.mongos {
			f.p.goBackground(func(ctx context.Context) { m.reportLag(ctx, at) })
		}
	}
	if inHandler && f.batchOf == firing {
		if b := f.batches[verb]; b != nil {
			return b
		}
	} else {
		f.batches, f.batchOf = map[string]*faultBatch{}, firing
	}
	b := &faultBatch{f: f, verb: verb, at: at}
	if inHandler {
		f.batches[verb] = b
	}
	// Sealed once the handler returns: no primitive joins it after that.
	f.p.loop.afterHandler(b.seal)
	return b
}

func (b *faultBatch) add() {
	b.mu.Lock()
	b.pending++
	b.mu.Unlock()
}

func (b *faultBatch) done(r primitiveResult) {
	b.mu.Lock()
	b.pending--
	b.results = append(b.results, r)
	finished := b.sealed && b.pending == 0
	b.mu.Unlock()
	if finished {
		b.report()
	}
}

func (b *faultBatch) seal() {
	b.mu.Lock()
	b.sealed = true
	finished := b.pending == 0 && len(b.results) > 0
	nothing := b.pending == 0 && len(b.results) == 0 && len(b.skipped) > 0
	skipped := b.skipped
	b.mu.Unlock()
	if finished {
		b.report()
	}
	if nothing {
		b.f.p.emitAt(platform.Event{What: EventFaultFailed, Node: strings.Join(skipped, ","),
			Detail: b.verb + ": nothing to do: every node it targets belongs to a service this run did not start (no workload on it)"}, b.at)
	}
}

// skip records that node, of a service the platform did not start, is left
// out of the fault, and says so.
func (b *faultBatch) skip(node, service string) {
	b.mu.Lock()
	b.skipped = append(b.skipped, node)
	b.mu.Unlock()
	b.f.p.emitAt(platform.Event{Service: service, What: EventFaultSkipped, Node: node,
		Detail: b.verb + ": service " + service + " is not started (the scenario has no workload on it)"}, b.at)
}

// report emits fault-applied for a fault on more than one node.
func (b *faultBatch) report() {
	b.mu.Lock()
	results := append([]primitiveResult(nil), b.results...)
	b.mu.Unlock()
	if len(results) < 2 {
		return
	}
	detail, last := summarize(b.verb, results, b.f.p.loop.scenarioTime)
	b.f.p.emitAt(platform.Event{What: EventFaultApplied, Detail: detail}, last)
}

// summarize describes a multi-node fault: how many nodes it took, when the
// first and the last did, and the spread; last is the scenario time the last
// one did.
func summarize(verb string, results []primitiveResult, scenarioTime func(time.Time) time.Duration) (detail string, last time.Duration) {
	var ok []primitiveResult
	var failed []string
	for _, r := range results {
		if r.err != nil {
			failed = append(failed, r.node)
			continue
		}
		ok = append(ok, r)
	}
	sort.Slice(ok, func(i, j int) bool { return ok[i].at.Before(ok[j].at) })
	var text strings.Builder
	fmt.Fprintf(&text, "%s of %d nodes", verb, len(results))
	if len(ok) > 0 {
		first, final := ok[0], ok[len(ok)-1]
		last = scenarioTime(final.at)
		fmt.Fprintf(&text, ": %d took effect within %v (first %s at %v, last %s at %v)",
			len(ok), final.at.Sub(first.at), first.node, scenarioTime(first.at), final.node, last)
	}
	if len(failed) > 0 {
		sort.Strings(failed)
		fmt.Fprintf(&text, "; failed on %s", strings.Join(failed, ", "))
	}
	return text.String(), last
}

// queue runs op off the loop after every primitive issued earlier on the
// same chain (a node, or networkChain).
func (f *injector) queue(chain string, op func(ctx context.Context)) {
	f.mu.Lock()
	if f.tails == nil {
		f.tails = map[string]chan struct{}{}
	}
	previous := f.tails[chain]
	done := make(chan struct{})
	f.tails[chain] = done
	f.mu.Unlock()
	f.p.goBackground(func(ctx context.Context) {
		defer close(done)
		if previous != nil {
			select {
			case <-previous:
			case <-ctx.Done():
				return
			}
		}
		ctx, cancel := context.WithTimeout(ctx, primitiveTimeout)
		defer cancel()
		op(ctx)
	})
}

// onNode issues one engine primitive on node: it checks the node is part of
// the run now, then carries the primitive out off the loop and reports the
// node's new state at the time Docker recorded.
func (f *injector) onNode(node, verb string, fault bool, do func(context.Context, *docker.Engine) (time.Time, error), what string) error {
	engine, err := f.p.engineNow()
	if err != nil {
		return err
	}
	if service, idle := f.p.idle[node]; idle {
		f.batch(verb, fault).skip(node, service)
		return nil
	}
	if _, known := f.p.nodeOfAlias(dockerAlias(node)); !known {
		return fmt.Errorf("%s %s: %w", verb, node, platform.ErrUnknownNode)
	}
	b := f.batch(verb, fault)
	b.add()
	if fault {
		// The node's jobs stop at the fault instant, not when Docker
		// has carried the fault out.
		f.p.jobs.nodeDown(node)
	}
	f.queue(node, func(ctx context.Context) {
		at, err := do(ctx, engine)
		if err == nil && !fault {
			f.p.jobs.nodeUp(node)
		}
		if err != nil {
			if f.p.background.Err() == nil {
				f.p.emit(platform.Event{Service: f.serviceOf(node), What: EventFaultFailed, Node: node, Detail: verb + ": " + err.Error()})
			}
		} else {
			f.p.emitAt(platform.Event{Service: f.serviceOf(node), What: what, Node: node}, f.p.loop.scenarioTime(at))
		}
		b.done(primitiveResult{node: node, at: at, err: err})
	})
	return nil
}

func (f *injector) serviceOf(node string) string {
	if n, ok := f.p.cfg.Topology.Node(node); ok {
		return n.Service
	}
	return f.p.serviceOfAddedNode(node)
}

// Kill sends SIGKILL to node; node-down comes when the container exited.
func (f *injector) Kill(_ context.Context, node string) error {
	return f.onNode(node, "kill", true, func(ctx context.Context, e *docker.Engine) (time.Time, error) { return e.Kill(ctx, node) }, platform.EventNodeDown)
}

// Stop shuts node down gracefully; node-down comes when it has exited,
// which may take Docker's whole grace period.
func (f *injector) Stop(_ context.Context, node string) error {
	return f.onNode(node, "stop", true, func(ctx context.Context, e *docker.Engine) (time.Time, error) { return e.Stop(ctx, node) }, platform.EventNodeDown)
}

// Start starts a killed or stopped node again, with its data.
func (f *injector) Start(_ context.Context, node string) error {
	return f.onNode(node, "start", false, func(ctx context.Context, e *docker.Engine) (time.Time, error) {
		at, err := e.Start(ctx, node)
		if err == nil {
			f.p.restarted(node)
		}
		return at, err
	}, platform.EventNodeUp)
}

// Pause freezes node.
func (f *injector) Pause(_ context.Context, node string) error {
	return f.onNode(node, "pause", true, func(ctx context.Context, e *docker.Engine) (time.Time, error) { return e.Pause(ctx, node) }, platform.EventNodeDown)
}

// Resume thaws node.
func (f *injector) Resume(_ context.Context, node string) error {
	return f.onNode(node, "resume", false, func(ctx context.Context, e *docker.Engine) (time.Time, error) { return e.Resume(ctx, node) }, platform.EventNodeUp)
}

// onNetwork issues a change of the network state off the loop; it is in
// force on every node of nodes when it is done.
func (f *injector) onNetwork(verb string, fault bool, nodes []string, do func(context.Context, *docker.Engine) error) error {
	engine, err := f.p.engineNow()
	if err != nil {
		return err
	}
	for _, node := range nodes {
		if _, known := f.p.nodeOfAlias(dockerAlias(node)); !known {
			return fmt.Errorf("%s %s: %w", verb, node, platform.ErrUnknownNode)
		}
	}
	b := f.batch(verb, fault)
	if len(nodes) == 0 {
		return nil // every node was skipped; the batch says so
	}
	b.add()
	f.queue(networkChain, func(ctx context.Context) {
		err := do(ctx, engine)
		at := time.Now()
		if err != nil && f.p.background.Err() == nil {
			f.p.emit(platform.Event{What: EventFaultFailed, Node: strings.Join(nodes, ","), Detail: verb + ": " + err.Error()})
		}
		b.done(primitiveResult{node: strings.Join(nodes, ","), at: at, err: err})
	})
	return nil
}

// started keeps the nodes of group whose service runs, and says the others
// are left out of the fault.
func (f *injector) started(verb string, fault bool, group []string) []string {
	var out []string
	for _, node := range group {
		if service, idle := f.p.idle[node]; idle {
			f.batch(verb, fault).skip(node, service)
			continue
		}
		out = append(out, node)
	}
	return out
}

// Partition cuts all traffic between the two groups.
func (f *injector) Partition(_ context.Context, a, b []string) error {
	a, b = f.started("partition", true, a), f.started("partition", true, b)
	if len(a) == 0 || len(b) == 0 {
		return f.onNetwork("partition", true, nil, nil)
	}
	f.p.jobs.partition(a, b, true)
	return f.onNetwork("partition", true, append(append([]string{}, a...), b...), func(ctx context.Context, e *docker.Engine) error {
		return e.Partition(ctx, a, b)
	})
}

// Heal restores the traffic between the two groups.
func (f *injector) Heal(_ context.Context, a, b []string) error {
	a, b = f.started("heal", false, a), f.started("heal", false, b)
	if len(a) == 0 || len(b) == 0 {
		return f.onNetwork("heal", false, nil, nil)
	}
	return f.onNetwork("heal", false, append(append([]string{}, a...), b...), func(ctx context.Context, e *docker.Engine) error {
		if err := e.Heal(ctx, a, b); err != nil {
			return err
		}
		f.p.jobs.partition(a, b, false)
		return nil
	})
}

// AddLatency delays every packet node sends by extra.
func (f *injector) AddLatency(_ context.Context, node string, extra time.Duration) error {
	return f.onNetwork("add latency", true, f.started("add latency", true, []string{node}), func(ctx context.Context, e *docker.Engine) error {
		return e.AddLatency(ctx, node, extra)
	})
}

// RemoveLatency removes the added delay.
func (f *injector) RemoveLatency(_ context.Context, node string) error {
	return f.onNetwork("remove latency", false, f.started("remove latency", false, []string{node}), func(ctx context.Context, e *docker.Engine) error {
		return e.RemoveLatency(ctx, node)
	})
}
