package containers

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/platform/containers/docker"
)

// injector is the platform's Faults: the Docker engine's primitives, plus
// the events the runner and reports rely on. Just before each fault it
// measures every replica set's replication lag (the RPO a region loss would
// cause), and it reports node-down / node-up itself, since it knows exactly
// when a node stopped or came back.
//
// Every primitive but Stop returns once the fault is in force. Stop is
// graceful and may take Docker's whole grace period, so it runs in the
// background (node-down is reported when the container has exited) and a
// later primitive on the same node waits for it.
type injector struct {
	p *Platform

	mu    sync.Mutex
	locks map[string]*sync.Mutex // per node: a fault waits for a Stop still in progress

	// Touched only on the loop.
	lagMeasured time.Duration // scenario time of the last lag measurement
	lagTaken    bool
}

// lagWindow: the runner injects a zone or region outage as one primitive
// per node, back to back; they share the lag measured before the first, which
// is the lag at the fault (later ones would measure a set already broken).
const lagWindow = time.Second

var _ platform.Faults = (*injector)(nil)

func (f *injector) node(name string) *sync.Mutex {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.locks == nil {
		f.locks = map[string]*sync.Mutex{}
	}
	if f.locks[name] == nil {
		f.locks[name] = &sync.Mutex{}
	}
	return f.locks[name]
}

// beforeFault reports replication lag at the moment of the fault.
func (f *injector) beforeFault(ctx context.Context) {
	now := f.p.loop.Now()
	if f.lagTaken && now-f.lagMeasured < lagWindow {
		return
	}
	f.lagTaken, f.lagMeasured = true, now
	for _, m := range f.p.mongos {
		m.reportLag(ctx)
	}
}

func (f *injector) event(what, node string) {
	f.p.emit(platform.Event{Service: f.serviceOf(node), What: what, Node: node})
}

// onNode runs one engine primitive on node, after any Stop still running on
// it, and reports the node's new state. A fault (as opposed to its undoing)
// first measures the replication lag it is about to cause.
func (f *injector) onNode(ctx context.Context, node string, fault bool, do func(*docker.Engine) error, what string) error {
	lock := f.node(node)
	lock.Lock()
	defer lock.Unlock()
	engine, err := f.p.engineNow()
	if err != nil {
		return err
	}
	if fault {
		f.beforeFault(ctx)
	}
	if err := do(engine); err != nil {
		return err
	}
	f.event(what, node)
	return nil
}

// Kill sends SIGKILL to node.
func (f *injector) Kill(ctx context.Context, node string) error {
	return f.onNode(ctx, node, true, func(e *docker.Engine) error { return e.Kill(ctx, node) }, platform.EventNodeDown)
}

// Stop shuts node down gracefully, in the background.
func (f *injector) Stop(ctx context.Context, node string) error {
	engine, err := f.p.engineNow()
	if err != nil {
		return err
	}
	if _, known := f.p.nodeOfAlias(dockerAlias(node)); !known {
		return fmt.Errorf("stop %s: %w", node, platform.ErrUnknownNode)
	}
	f.beforeFault(ctx)
	lock := f.node(node)
	lock.Lock()
	f.p.goBackground(func(background context.Context) {
		defer lock.Unlock()
		if err := engine.Stop(background, node); err != nil {
			f.p.emit(platform.Event{Service: f.serviceOf(node), What: EventFaultFailed, Node: node, Detail: "stop: " + err.Error()})
			return
		}
		f.event(platform.EventNodeDown, node)
	})
	return nil
}

// EventFaultFailed reports a fault primitive that failed after it had been
// accepted (only Stop, which runs in the background, can).
const EventFaultFailed = "fault-failed"

func (f *injector) serviceOf(node string) string {
	if n, ok := f.p.cfg.Topology.Node(node); ok {
		return n.Service
	}
	return f.p.serviceOfAddedNode(node)
}

// Start starts a killed or stopped node again, with its data.
func (f *injector) Start(ctx context.Context, node string) error {
	return f.onNode(ctx, node, false, func(e *docker.Engine) error {
		if err := e.Start(ctx, node); err != nil {
			return err
		}
		f.p.restarted(node)
		return nil
	}, platform.EventNodeUp)
}

// Pause freezes node.
func (f *injector) Pause(ctx context.Context, node string) error {
	return f.onNode(ctx, node, true, func(e *docker.Engine) error { return e.Pause(ctx, node) }, platform.EventNodeDown)
}

// Resume thaws node.
func (f *injector) Resume(ctx context.Context, node string) error {
	return f.onNode(ctx, node, false, func(e *docker.Engine) error { return e.Resume(ctx, node) }, platform.EventNodeUp)
}

// Partition cuts all traffic between the two groups.
func (f *injector) Partition(ctx context.Context, a, b []string) error {
	engine, err := f.p.engineNow()
	if err != nil {
		return err
	}
	f.beforeFault(ctx)
	return engine.Partition(ctx, a, b)
}

// Heal restores the traffic between the two groups.
func (f *injector) Heal(ctx context.Context, a, b []string) error {
	engine, err := f.p.engineNow()
	if err != nil {
		return err
	}
	return engine.Heal(ctx, a, b)
}

// AddLatency delays every packet node sends by extra.
func (f *injector) AddLatency(ctx context.Context, node string, extra time.Duration) error {
	engine, err := f.p.engineNow()
	if err != nil {
		return err
	}
	f.beforeFault(ctx)
	return engine.AddLatency(ctx, node, extra)
}

// RemoveLatency removes the added delay.
func (f *injector) RemoveLatency(ctx context.Context, node string) error {
	engine, err := f.p.engineNow()
	if err != nil {
		return err
	}
	return engine.RemoveLatency(ctx, node)
}
