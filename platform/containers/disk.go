package containers

import (
	"context"
	"slices"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/platform/containers/docker"
)

// Disk faults live (see "Disk faults" in the package doc). The nodes a
// disk fault of the scenario may hit (platform.Config.DiskNodes) get a data
// volume of the harness's at their server's data directory; the injector's
// disk primitives act on it.

// dataDirs is where each image keeps its data.
var dataDirs = map[string]string{
	platform.KindMongo:   "/data/db",                      // the official image's dbPath (https://hub.docker.com/_/mongo)
	platform.KindElastic: "/usr/share/elasticsearch/data", // path.data of the official image (https://www.elastic.co/docs/deploy-manage/deploy/self-managed/install-elasticsearch-docker-basic)
	// LocalStack's community image keeps S3 objects in memory
	// (persistence is a Pro feature), so a disk fault on an s3 endpoint
	// has nothing to act on: it is refused, and not rehearsed.
}

// standinDataDir is the stand-in's data directory.
const standinDataDir = "/data"

// giveDataVolumes sets the data directory of each planned node a disk
// fault may hit.
func giveDataVolumes(nodes []plannedNode, diskNodes []string, standin bool) {
	for i := range nodes {
		n := &nodes[i]
		if !slices.Contains(diskNodes, n.Node.Name) {
			continue
		}
		switch dir, ok := dataDirs[n.Node.Kind]; {
		case standin:
			n.Spec.DataDir = standinDataDir
		case ok:
			n.Spec.DataDir = dir
		}
	}
}

// needsDataVolumes reports whether a planned node has a data volume.
func needsDataVolumes(nodes []plannedNode) bool {
	return slices.ContainsFunc(nodes, func(n plannedNode) bool { return n.Spec.DataDir != "" })
}

var _ platform.DiskFaults = (*injector)(nil)

// Events of the disk primitives.
const (
	EventDiskFaulted = platform.EventDiskFaulted
	EventDiskHealed  = platform.EventDiskHealed
)

// SlowDisk adds latency to every I/O of node's data volume and caps its
// throughput.
func (f *injector) SlowDisk(_ context.Context, node string, latency time.Duration, bytesPerSecond float64) error {
	return f.onNode(node, "slow disk", true, func(ctx context.Context, e *docker.Engine) (time.Time, error) {
		return e.SlowDisk(ctx, node, latency, bytesPerSecond)
	}, EventDiskFaulted)
}

// FailDisk makes every write of node's data volume fail with EIO.
func (f *injector) FailDisk(_ context.Context, node string) error {
	return f.onNode(node, "fail disk", true, func(ctx context.Context, e *docker.Engine) (time.Time, error) {
		return e.FailDisk(ctx, node)
	}, EventDiskFaulted)
}

// FillDisk fills node's data volume for real.
func (f *injector) FillDisk(_ context.Context, node string) error {
	return f.onNode(node, "fill disk", true, func(ctx context.Context, e *docker.Engine) (time.Time, error) {
		return e.FillDisk(ctx, node)
	}, EventDiskFaulted)
}

// HealDisk repairs node's data volume and starts its container again if
// the fault crashed the server (mongod aborts on a failed write).
func (f *injector) HealDisk(_ context.Context, node string) error {
	return f.onNode(node, "heal disk", false, func(ctx context.Context, e *docker.Engine) (time.Time, error) {
		at, err := e.HealDisk(ctx, node)
		if err != nil {
			return at, err
		}
		running, err := e.Running(ctx, node)
		if err != nil || running {
			return at, err
		}
		started, err := e.Start(ctx, node)
		if err == nil {
			f.p.restarted(node)
			f.p.emitAt(platform.Event{Service: f.serviceOf(node), What: platform.EventNodeUp, Node: node, Detail: "started after its disk was healed"}, f.p.loop.scenarioTime(started))
		}
		return at, err
	}, EventDiskHealed)
}
