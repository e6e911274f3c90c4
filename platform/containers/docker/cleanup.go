package docker

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/moby/moby/client"
)

// Removed counts what Cleanup removed, and says which runs it kept.
type Removed struct {
	Containers, Networks, Volumes int
	// Disks counts the data volumes (tmpfs and FUSE mounts on the host)
	// unmounted for disk faults.
	Disks int
	// Kept lists the runs Cleanup left alone, by run id, with why.
	Kept []KeptRun
}

// KeptRun is a run whose resources Cleanup did not remove.
type KeptRun struct {
	Run string
	Why string
}

// CleanupOptions say what Cleanup removes.
type CleanupOptions struct {
	// Run limits the cleanup to one run id; "" is every chaosdrill run.
	Run string
	// All removes runs whose owner still runs or cannot be told too: a
	// run still going loses its containers mid-way. Without it only runs
	// whose owner process has ended are removed.
	All bool
}

// Cleanup removes what runs whose harness has died left behind: every
// container, network and volume labelled chaosdrill.run, and every data
// volume mounted for disk faults, of a run whose owner process (the owner
// labels: host, PID and start time) has ended. A run whose owner still
// runs on this host, whose owner is on another host sharing the Docker
// daemon, or that carries no owner labels (an older chaosdrill) is kept
// and listed in Removed.Kept, unless opts.All. Images are never removed.
func Cleanup(ctx context.Context, opts CleanupOptions) (Removed, error) {
	docker, err := connect(ctx)
	if err != nil {
		return Removed{}, err
	}
	defer docker.Close()
	removed, err := cleanup(ctx, docker, opts)
	disks, diskErr := cleanupDisks(opts.Run, func(dir string) bool {
		if opts.All {
			return true
		}
		owner, ok := readOwnerFile(dir)
		if !ok {
			return false
		}
		state, _ := owner.state()
		return state == ownerGone
	})
	removed.Disks = disks
	return removed, errors.Join(err, diskErr)
}

type labelledResources interface {
	ContainerList(context.Context, client.ContainerListOptions) (client.ContainerListResult, error)
	ContainerRemove(context.Context, string, client.ContainerRemoveOptions) (client.ContainerRemoveResult, error)
	NetworkList(context.Context, client.NetworkListOptions) (client.NetworkListResult, error)
	NetworkRemove(context.Context, string, client.NetworkRemoveOptions) (client.NetworkRemoveResult, error)
	VolumeList(context.Context, client.VolumeListOptions) (client.VolumeListResult, error)
	VolumeRemove(context.Context, string, client.VolumeRemoveOptions) (client.VolumeRemoveResult, error)
}

func runFilter(runID string) client.Filters {
	if runID == "" {
		return make(client.Filters).Add("label", LabelRun)
	}
	return make(client.Filters).Add("label", LabelRun+"="+runID)
}

// runOwners decides, run by run, whether a run's resources may go: its
// owner is the one any of its resources names.
type runOwners struct {
	all    bool
	owners map[string]Owner
	kept   map[string]string // run -> why it is kept
	seen   map[string]bool
}

func (r *runOwners) note(labels map[string]string) {
	run := labels[LabelRun]
	if owner, ok := ownerOf(labels); ok {
		r.owners[run] = owner
	}
	r.seen[run] = true
}

// removable reports whether run's resources may be removed, remembering
// why a kept one is kept.
func (r *runOwners) removable(run string) bool {
	if r.all {
		return true
	}
	owner, ok := r.owners[run]
	if !ok {
		r.kept[run] = "it carries no owner labels (made by an older chaosdrill), so whether it is still going cannot be told"
		return false
	}
	state, why := owner.state()
	if state != ownerGone {
		r.kept[run] = why
		return false
	}
	return true
}

// cleanup removes containers first (force: running and paused ones too, with
// their anonymous volumes), then the networks they were on, then labelled
// volumes, of the runs whose owner has ended (every run with opts.All). It
// carries on past a failure and reports all of them.
func cleanup(ctx context.Context, docker labelledResources, opts CleanupOptions) (Removed, error) {
	var removed Removed
	var failures []error
	filter := runFilter(opts.Run)
	containers, err := docker.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: filter})
	if err != nil {
		return removed, fmt.Errorf("list containers of run %q: %w", opts.Run, err)
	}
	networks, err := docker.NetworkList(ctx, client.NetworkListOptions{Filters: filter})
	if err != nil {
		failures = append(failures, fmt.Errorf("list networks of run %q: %w", opts.Run, err))
	}
	volumes, err := docker.VolumeList(ctx, client.VolumeListOptions{Filters: filter})
	if err != nil {
		failures = append(failures, fmt.Errorf("list volumes of run %q: %w", opts.Run, err))
	}
	owners := &runOwners{all: opts.All, owners: map[string]Owner{}, kept: map[string]string{}, seen: map[string]bool{}}
	for _, found := range containers.Items {
		owners.note(found.Labels)
	}
	for _, found := range networks.Items {
		owners.note(found.Labels)
	}
	for _, found := range volumes.Items {
		owners.note(found.Labels)
	}
	decided := map[string]bool{}
	for run := range owners.seen {
		decided[run] = owners.removable(run)
	}
	for _, found := range containers.Items {
		if !decided[found.Labels[LabelRun]] {
			continue
		}
		if _, err := docker.ContainerRemove(ctx, found.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
			failures = append(failures, fmt.Errorf("remove container %s: %w", found.ID[:12], err))
			continue
		}
		removed.Containers++
	}
	for _, found := range networks.Items {
		if !decided[found.Labels[LabelRun]] {
			continue
		}
		if _, err := docker.NetworkRemove(ctx, found.ID, client.NetworkRemoveOptions{}); err != nil {
			failures = append(failures, fmt.Errorf("remove network %s: %w", found.Name, err))
			continue
		}
		removed.Networks++
	}
	for _, found := range volumes.Items {
		if !decided[found.Labels[LabelRun]] {
			continue
		}
		if _, err := docker.VolumeRemove(ctx, found.Name, client.VolumeRemoveOptions{Force: true}); err != nil {
			failures = append(failures, fmt.Errorf("remove volume %s: %w", found.Name, err))
			continue
		}
		removed.Volumes++
	}
	for run, why := range owners.kept {
		removed.Kept = append(removed.Kept, KeptRun{Run: run, Why: why})
	}
	sort.Slice(removed.Kept, func(i, j int) bool { return removed.Kept[i].Run < removed.Kept[j].Run })
	return removed, errors.Join(failures...)
}
