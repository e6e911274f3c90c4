package faults

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/scenarios"
)

// Fault is one injected fault, bound to the nodes it hit.
type Fault interface {
	// Inject applies the fault through the platform's primitives.
	Inject(ctx context.Context, p platform.Faults) error
	// Recover undoes it. Recovering a fault that was never injected, or
	// twice, does nothing.
	Recover(ctx context.Context, p platform.Faults) error
	// Nodes are the nodes it hit (both sides for a partition).
	Nodes() []string
}

// ErrNoTarget is returned when a selector resolves to no node at the moment
// the fault fires (e.g. role:mongo:primary while there is no primary).
var ErrNoTarget = errors.New("faults: selector matches no node")

// Resolver turns a selector into node names now.
type Resolver struct {
	Topology *platform.Topology
	Platform platform.Platform
}

// AddedNodes is implemented by platforms on which runbook steps create
// nodes (mongo.add-member, logs.restore-snapshot): a fault that fires after
// such a step can aim at them by name, zone or region.
type AddedNodes interface {
	// AddedNodes lists the nodes created since Start, in creation order.
	AddedNodes() []platform.Node
}

// Resolve returns the nodes a selector matches now: static selectors from
// the topology and the nodes runbook steps added, roles from the platform.
func (r Resolver) Resolve(text string) ([]string, error) {
	topology := r.Topology
	if a, ok := r.Platform.(AddedNodes); ok {
		topology = withNodes(topology, a.AddedNodes())
	}
	sel, err := platform.ParseSelector(topology, text)
	if err != nil {
		return nil, err
	}
	var nodes []string
	if sel.Kind == platform.SelectRole {
		nodes, err = r.Platform.Role(sel.Value)
		if err != nil {
			return nil, fmt.Errorf("resolve %s: %w", text, err)
		}
	} else {
		nodes = sel.Static(topology)
	}
	if len(nodes) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNoTarget, text)
	}
	return nodes, nil
}

// withNodes is t with the added mongo members and Elasticsearch nodes
// placed in their services; t itself is shared by the run and not changed.
func withNodes(t *platform.Topology, added []platform.Node) *platform.Topology {
	if len(added) == 0 {
		return t
	}
	grown := *t
	grown.Services = slices.Clone(t.Services)
	for _, n := range added {
		for i := range grown.Services {
			s := &grown.Services[i]
			switch {
			case s.Name != n.Service:
			case n.Kind == platform.KindMongo:
				s.Members = append(slices.Clip(s.Members), platform.MongoMember{Name: n.Name, Zone: n.Zone})
			case n.Kind == platform.KindElastic:
				s.Nodes = append(slices.Clip(s.Nodes), platform.NodePlacement{Name: n.Name, Zone: n.Zone})
			}
		}
	}
	return &grown
}

// Bind resolves a scenario fault's targets now and returns the fault to
// inject.
func (r Resolver) Bind(spec scenarios.Fault) (Fault, error) {
	if spec.Kind == scenarios.FaultPartition {
		if len(spec.Between) != 2 {
			return nil, fmt.Errorf("partition needs two groups, got %d", len(spec.Between))
		}
		a, err := r.Resolve(spec.Between[0])
		if err != nil {
			return nil, err
		}
		b, err := r.Resolve(spec.Between[1])
		if err != nil {
			return nil, err
		}
		return &partition{a: a, b: b}, nil
	}
	nodes, err := r.Resolve(spec.Target)
	if err != nil {
		return nil, err
	}
	switch spec.Kind {
	case scenarios.FaultKill:
		return &perNode{nodes: nodes, inject: platform.Faults.Kill, recover: platform.Faults.Start}, nil
	case scenarios.FaultStop:
		return &perNode{nodes: nodes, inject: platform.Faults.Stop, recover: platform.Faults.Start}, nil
	case scenarios.FaultPause:
		return &perNode{nodes: nodes, inject: platform.Faults.Pause, recover: platform.Faults.Resume}, nil
	case scenarios.FaultRestart:
		return &restart{nodes: nodes}, nil
	case scenarios.FaultLatency:
		return &latency{nodes: nodes, extra: spec.Latency.D()}, nil
	case scenarios.FaultDiskSlow, scenarios.FaultDiskError, scenarios.FaultDiskFull:
		return &disk{kind: spec.Kind, nodes: nodes, spec: spec}, nil
	}
	return nil, fmt.Errorf("faults: unknown fault kind %q", spec.Kind)
}

// perNode applies one primitive to each node and its inverse on recovery:
// kill/start, stop/start, pause/resume.
type perNode struct {
	nodes    []string
	inject   func(platform.Faults, context.Context, string) error
	recover  func(platform.Faults, context.Context, string) error
	injected []string
}

func (f *perNode) Nodes() []string { return f.nodes }

func (f *perNode) Inject(ctx context.Context, p platform.Faults) error {
	for _, n := range f.nodes {
		if err := f.inject(p, ctx, n); err != nil {
			return fmt.Errorf("inject on %s: %w", n, err)
		}
		f.injected = append(f.injected, n)
	}
	return nil
}

func (f *perNode) Recover(ctx context.Context, p platform.Faults) error {
	var errs []error
	for _, n := range f.injected {
		if err := f.recover(p, ctx, n); err != nil {
			errs = append(errs, fmt.Errorf("recover %s: %w", n, err))
		}
	}
	f.injected = nil
	return errors.Join(errs...)
}

// restart stops each node and starts it again at once (one step of a
// rolling restart); there is nothing to recover.
type restart struct{ nodes []string }

func (f *restart) Nodes() []string { return f.nodes }

func (f *restart) Inject(ctx context.Context, p platform.Faults) error {
	for _, n := range f.nodes {
		if err := p.Stop(ctx, n); err != nil {
			return fmt.Errorf("stop %s: %w", n, err)
		}
		if err := p.Start(ctx, n); err != nil {
			return fmt.Errorf("start %s: %w", n, err)
		}
	}
	return nil
}

func (f *restart) Recover(context.Context, platform.Faults) error { return nil }

// partition cuts the links between two groups.
type partition struct {
	a, b     []string
	injected bool
}

func (f *partition) Nodes() []string { return append(append([]string{}, f.a...), f.b...) }

func (f *partition) Inject(ctx context.Context, p platform.Faults) error {
	if err := p.Partition(ctx, f.a, f.b); err != nil {
		return fmt.Errorf("partition %v from %v: %w", f.a, f.b, err)
	}
	f.injected = true
	return nil
}

func (f *partition) Recover(ctx context.Context, p platform.Faults) error {
	if !f.injected {
		return nil
	}
	f.injected = false
	return p.Heal(ctx, f.a, f.b)
}

// latency adds one-way latency to every link of each node.
type latency struct {
	nodes    []string
	extra    time.Duration
	injected []string
}

func (f *latency) Nodes() []string { return f.nodes }

func (f *latency) Inject(ctx context.Context, p platform.Faults) error {
	for _, n := range f.nodes {
		if err := p.AddLatency(ctx, n, f.extra); err != nil {
			return fmt.Errorf("add latency to %s: %w", n, err)
		}
		f.injected = append(f.injected, n)
	}
	return nil
}

func (f *latency) Recover(ctx context.Context, p platform.Faults) error {
	var errs []error
	for _, n := range f.injected {
		if err := p.RemoveLatency(ctx, n); err != nil {
			errs = append(errs, err)
		}
	}
	f.injected = nil
	return errors.Join(errs...)
}

// Describe is the one-line description `chaosdrill list` prints per kind.
func Describe(kind string) string {
	return map[string]string{
		scenarios.FaultKill:      "SIGKILL every targeted node; heal starts them again with their data",
		scenarios.FaultStop:      "graceful shutdown (a primary hands over first); heal starts them again",
		scenarios.FaultPause:     "freeze the nodes: connections stay open, nothing answers; heal resumes",
		scenarios.FaultRestart:   "stop and start at once (one step of a rolling restart)",
		scenarios.FaultPartition: "cut every link between two groups, both ways; heal reconnects",
		scenarios.FaultLatency:   "add one-way latency to every link of the nodes; heal removes it",
		scenarios.FaultDiskSlow:  "slow each node's data volume: latency added to every I/O and/or a throughput cap (throughput_mb); heal removes it",
		scenarios.FaultDiskError: "make every write of each node's data volume fail with an I/O error (EIO); heal repairs it and starts a process it crashed",
		scenarios.FaultDiskFull:  "fill each node's data volume up (writes fail with ENOSPC, usage 100%); heal frees it and starts a process it crashed",
	}[kind]
}
