package docker

import (
	"context"
	"errors"
	"fmt"

	"github.com/moby/moby/client"
)

// Removed counts what Cleanup removed.
type Removed struct {
	Containers, Networks, Volumes int
	// Disks counts the data volumes (tmpfs and FUSE mounts on the host)
	// unmounted for disk faults.
	Disks int
}

// Cleanup removes every container, network and volume labelled with run
// runID (any chaosdrill run when runID is ""): what a killed harness left
// behind. Images are never removed.
func Cleanup(ctx context.Context, runID string) (Removed, error) {
	docker, err := connect(ctx)
	if err != nil {
		return Removed{}, err
	}
	defer docker.Close()
	removed, err := cleanup(ctx, docker, runID)
	disks, diskErr := cleanupDisks(runID)
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

// cleanup removes containers first (force: running and paused ones too, with
// their anonymous volumes), then the networks they were on, then labelled
// volumes. It carries on past a failure and reports all of them.
func cleanup(ctx context.Context, docker labelledResources, runID string) (Removed, error) {
	var removed Removed
	var failures []error
	filter := runFilter(runID)
	containers, err := docker.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: filter})
	if err != nil {
		return removed, fmt.Errorf("list containers of run %q: %w", runID, err)
	}
	for _, found := range containers.Items {
		if _, err := docker.ContainerRemove(ctx, found.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
			failures = append(failures, fmt.Errorf("remove container %s: %w", found.ID[:12], err))
			continue
		}
		removed.Containers++
	}
	networks, err := docker.NetworkList(ctx, client.NetworkListOptions{Filters: filter})
	if err != nil {
		failures = append(failures, fmt.Errorf("list networks of run %q: %w", runID, err))
	}
	for _, found := range networks.Items {
		if _, err := docker.NetworkRemove(ctx, found.ID, client.NetworkRemoveOptions{}); err != nil {
			failures = append(failures, fmt.Errorf("remove network %s: %w", found.Name, err))
			continue
		}
		removed.Networks++
	}
	volumes, err := docker.VolumeList(ctx, client.VolumeListOptions{Filters: filter})
	if err != nil {
		failures = append(failures, fmt.Errorf("list volumes of run %q: %w", runID, err))
	}
	for _, found := range volumes.Items {
		if _, err := docker.VolumeRemove(ctx, found.Name, client.VolumeRemoveOptions{Force: true}); err != nil {
			failures = append(failures, fmt.Errorf("remove volume %s: %w", found.Name, err))
			continue
		}
		removed.Volumes++
	}
	return removed, errors.Join(failures...)
}
