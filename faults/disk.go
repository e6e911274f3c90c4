package faults

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/scenarios"
)

// ErrNoDiskFaults is returned when a disk fault is injected on a platform
// whose primitives cannot fault a disk: the fault is not rehearsed.
var ErrNoDiskFaults = errors.New("faults: the platform cannot fault disks")

// disk is a disk-slow, disk-error or disk-full fault on each node's data
// volume, undone by HealDisk.
type disk struct {
	kind     string
	nodes    []string
	spec     scenarios.Fault
	injected []string
}

func (f *disk) Nodes() []string { return f.nodes }

func (f *disk) Inject(ctx context.Context, p platform.Faults) error {
	d, ok := p.(platform.DiskFaults)
	if !ok {
		return fmt.Errorf("%s: %w", f.kind, ErrNoDiskFaults)
	}
	for _, n := range f.nodes {
		var err error
		switch f.kind {
		case scenarios.FaultDiskSlow:
			err = d.SlowDisk(ctx, n, f.spec.Latency.D(), f.spec.ThroughputMB*1e6)
		case scenarios.FaultDiskError:
			err = d.FailDisk(ctx, n)
		default:
			err = d.FillDisk(ctx, n)
		}
		if err != nil {
			return fmt.Errorf("%s on %s: %w", f.kind, n, err)
		}
		f.injected = append(f.injected, n)
	}
	return nil
}

func (f *disk) Recover(ctx context.Context, p platform.Faults) error {
	d, ok := p.(platform.DiskFaults)
	if !ok || len(f.injected) == 0 {
		return nil
	}
	var errs []error
	for _, n := range f.injected {
		if err := d.HealDisk(ctx, n); err != nil {
			errs = append(errs, fmt.Errorf("heal disk of %s: %w", n, err))
		}
	}
	f.injected = nil
	return errors.Join(errs...)
}

// DiskTargets lists, in topology order, the nodes the disk faults of a
// scenario may hit: the nodes a static selector names, and every node of a
// service a role selector names (a role is resolved only when the fault
// fires).
func DiskTargets(t *platform.Topology, specs []scenarios.Fault) []string {
	hit := map[string]bool{}
	for _, f := range specs {
		if f.Kind != scenarios.FaultDiskSlow && f.Kind != scenarios.FaultDiskError && f.Kind != scenarios.FaultDiskFull {
			continue
		}
		sel, err := platform.ParseSelector(t, f.Target)
		if err != nil {
			continue // the loader refused it, or a runbook step creates it
		}
		if sel.Kind == platform.SelectRole {
			service, _, _ := strings.Cut(sel.Value, ":")
			for _, n := range t.Nodes() {
				if n.Service == service {
					hit[n.Name] = true
				}
			}
			continue
		}
		for _, n := range sel.Static(t) {
			hit[n] = true
		}
	}
	var out []string
	for _, n := range t.Nodes() {
		if hit[n.Name] {
			out = append(out, n.Name)
		}
	}
	return out
}
