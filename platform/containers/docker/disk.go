package docker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

// DefaultDiskBytes is the size of a node's data volume when its spec gives
// none: room for a drill's data (a few hundred MB of log events, an oplog,
// LocalStack's objects), small enough to fill in well under a second (a
// model assumption; a tmpfs is held in the host's memory, and only as far as
// it is written).
const DefaultDiskBytes = 1 << 30

// ErrNoDisk is returned by a disk fault on a node that has no data volume
// of the harness's (its spec named no DataDir).
var ErrNoDisk = errors.New("the node has no data volume the harness can fault")

// diskFor returns node's volume.
func (e *Engine) diskFor(ctx context.Context, node string) (*diskVolume, error) {
	if _, err := e.owned(ctx, node); err != nil {
		return nil, err
	}
	e.mu.Lock()
	v := e.disks[node]
	e.mu.Unlock()
	if v == nil {
		return nil, fmt.Errorf("node %s: %w", node, ErrNoDisk)
	}
	return v, nil
}

// attachDisk mounts node's data volume before its container is created.
func (e *Engine) attachDisk(spec NodeSpec) (*diskVolume, error) {
	e.mu.Lock()
	v := e.disks[spec.Name]
	e.mu.Unlock()
	if v != nil {
		return v, nil
	}
	size := spec.DiskBytes
	if size <= 0 {
		size = DefaultDiskBytes
	}
	v, err := newDiskVolume(e.runID, spec.Name, size)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", platform.ErrEnvironment, err)
	}
	e.mu.Lock()
	if e.disks == nil {
		e.disks = map[string]*diskVolume{}
	}
	e.disks[spec.Name] = v
	e.mu.Unlock()
	return v, nil
}

// closeDisks unmounts every data volume of the run; the containers using
// them must be gone.
func (e *Engine) closeDisks() error {
	e.mu.Lock()
	disks := e.disks
	e.disks = nil
	e.mu.Unlock()
	var errs []error
	for _, v := range disks {
		if err := v.close(); err != nil {
			errs = append(errs, err)
		}
	}
	if _, err := cleanupDisks(e.runID, func(string) bool { return true }); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// SlowDisk adds latency to every read, write and fsync of node's data
// volume and, with bytesPerSecond > 0, caps its throughput. It returns the
// time the change took effect.
func (e *Engine) SlowDisk(ctx context.Context, node string, latency time.Duration, bytesPerSecond float64) (time.Time, error) {
	v, err := e.diskFor(ctx, node)
	if err != nil {
		return time.Time{}, fmt.Errorf("slow disk: %w", err)
	}
	v.set(diskSlowed, latency, bytesPerSecond)
	return time.Now(), nil
}

// FailDisk makes every write, fsync and file creation on node's data volume
// fail with EIO.
func (e *Engine) FailDisk(ctx context.Context, node string) (time.Time, error) {
	v, err := e.diskFor(ctx, node)
	if err != nil {
		return time.Time{}, fmt.Errorf("fail disk: %w", err)
	}
	v.set(diskFailing, 0, 0)
	return time.Now(), nil
}

// FillDisk fills node's data volume: its size-limited store gets a ballast
// file until it refuses with ENOSPC. It returns when the volume is full.
func (e *Engine) FillDisk(ctx context.Context, node string) (time.Time, error) {
	v, err := e.diskFor(ctx, node)
	if err != nil {
		return time.Time{}, fmt.Errorf("fill disk: %w", err)
	}
	if err := v.fill(); err != nil {
		return time.Time{}, fmt.Errorf("%w: fill disk of %s: %v", platform.ErrEnvironment, node, err)
	}
	return time.Now(), nil
}

// HealDisk undoes any disk fault on node: the ballast is removed and every
// I/O goes through again at once.
func (e *Engine) HealDisk(ctx context.Context, node string) (time.Time, error) {
	v, err := e.diskFor(ctx, node)
	if err != nil {
		return time.Time{}, fmt.Errorf("heal disk: %w", err)
	}
	if err := v.heal(); err != nil {
		return time.Time{}, fmt.Errorf("%w: heal disk of %s: %v", platform.ErrEnvironment, node, err)
	}
	return time.Now(), nil
}

// DiskUsage is the share of node's data volume in use, in percent.
func (e *Engine) DiskUsage(ctx context.Context, node string) (float64, error) {
	v, err := e.diskFor(ctx, node)
	if err != nil {
		return 0, err
	}
	return v.usage()
}

// Running reports whether node's container is running now.
func (e *Engine) Running(ctx context.Context, node string) (bool, error) {
	found, err := e.owned(ctx, node)
	if err != nil {
		return false, err
	}
	return found.State != nil && found.State.Running, nil
}
