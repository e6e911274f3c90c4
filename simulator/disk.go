package simulator

import (
	"context"
	"fmt"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

// Disk faults (issue 13, the seed's EBS lesson: "a higher risk of I/O
// failures when writing data to EBS"). A node's data volume can be slowed
// (latency added to every I/O, and/or a throughput cap), fail every write
// with an I/O error, or be full. Each model reads its nodes' disk state and
// is told of a change with changeDisk; the effects, with their sources, are
// documented where each model applies them:
//
//   - mongo (mongoDiskChanged): a member whose disk writes fail, or that
//     finds its disk full, aborts (fassert) at its next journal write; a slow
//     disk slows its oplog apply (lag grows) and, on the primary, the
//     acknowledgement of writes that wait for the journal.
//   - elasticsearch (elastic_disk.go): a node past the flood-stage watermark
//     puts every index with a shard on it in read-only mode until its usage
//     falls below the high watermark; a failing disk fails the node's shard
//     copies; a slow disk slows indexing on its copies, peer recoveries and
//     snapshots.
//   - s3: an endpoint whose disk fails or is full refuses PUTs; a slow one
//     answers them later.

const (
	esDiskAllocator   = "https://www.elastic.co/guide/en/elasticsearch/reference/current/modules-cluster.html#disk-based-shard-allocation"
	esWatermarkErrors = "https://www.elastic.co/guide/en/elasticsearch/reference/current/fix-watermark-errors.html"
)

var diskParameters = []paramDef{
	float("disk.usage_percent", 50,
		"share of a data volume in use when no disk fault is in force, compared with Elasticsearch's disk watermarks (model assumption: a volume sized at twice its data)",
		esDiskAllocator),
	duration("mongo.journal_commit_interval", 100*time.Millisecond,
		"storage.journal.commitIntervalMs: the longest a member goes between journal writes. A member whose disk fails a write (EIO) or is full (ENOSPC) aborts at its next one: WiredTiger panics and mongod stops with \"aborting after fassert() failure\" (seen in longhorn/longhorn#1909, RocketChat/Rocket.Chat#1858)",
		"https://www.mongodb.com/docs/manual/reference/configuration-options/#mongodb-setting-storage.journal.commitIntervalMs"),
	integer("mongo.disk_bytes_per_write", 3072,
		"bytes a member writes to its volume per document applied: the oplog entry, its journal record and the document itself (model assumption: three times mongo.oplog_entry_bytes); with a disk-slow fault's throughput cap it bounds how fast the member applies",
		"https://www.mongodb.com/docs/manual/core/journaling/"),
	duration("es.disk_info_interval", 30*time.Second,
		"cluster.info.update.interval: how often the master reads every node's disk usage; the flood-stage block is put on, and released, at these reads",
		esDiskAllocator),
	float("es.flood_stage_watermark", 95,
		"cluster.routing.allocation.disk.watermark.flood_stage, percent used: a node past it makes every index with a shard on it read-only (index.blocks.read_only_allow_delete), so bulk writes to those indices are rejected",
		esDiskAllocator),
	float("es.high_watermark", 90,
		"cluster.routing.allocation.disk.watermark.high, percent used: the flood-stage block is released automatically once the node's usage falls below it (Elasticsearch 7.4+)",
		esWatermarkErrors),
	float("es.low_watermark", 85,
		"cluster.routing.allocation.disk.watermark.low, percent used: no new shard copy is allocated to a node above it",
		esDiskAllocator),
}

type diskMode uint8

const (
	diskOK diskMode = iota
	diskSlow
	diskError
	diskFull
)

func (d diskMode) String() string {
	return [...]string{"ok", "slow", "failing", "full"}[d]
}

// diskState is what a disk fault did to a node's data volume.
type diskState struct {
	mode           diskMode
	latency        time.Duration // added to every I/O (disk-slow)
	bytesPerSecond float64       // throughput cap (disk-slow); 0: none
	since          time.Duration
}

// describe says what the fault does, for the disk-faulted event.
func (d diskState) describe() string {
	if d.mode != diskSlow {
		return d.mode.String()
	}
	return fmt.Sprintf("slow: +%s per I/O, cap %.3g MB/s (0: none)", d.latency, d.bytesPerSecond/1e6)
}

// failing reports whether writes to the volume fail (I/O error or full).
func (d diskState) failing() bool { return d.mode == diskError || d.mode == diskFull }

// capRate caps a transfer rate (bytes per second) by the volume's
// throughput.
func (d diskState) capRate(rate float64) float64 {
	if d.mode == diskSlow && d.bytesPerSecond > 0 && d.bytesPerSecond < rate {
		return d.bytesPerSecond
	}
	return rate
}

// ioLatency is the latency a slow volume adds to one synchronous write.
func (d diskState) ioLatency() time.Duration {
	if d.mode == diskSlow {
		return d.latency
	}
	return 0
}

// usage is the volume's usage in percent.
func (s *Sim) diskUsage(n *simNode) float64 {
	if n.disk.mode == diskFull {
		return 100
	}
	return s.params.float("disk.usage_percent")
}

var _ platform.DiskFaults = simFaults{}

// SlowDisk adds latency to every I/O of the node's volume and/or caps its
// throughput.
func (f simFaults) SlowDisk(ctx context.Context, node string, latency time.Duration, bytesPerSecond float64) error {
	return f.s.setDisk(ctx, node, diskState{mode: diskSlow, latency: latency, bytesPerSecond: bytesPerSecond})
}

// FailDisk makes every write of the node's volume fail.
func (f simFaults) FailDisk(ctx context.Context, node string) error {
	return f.s.setDisk(ctx, node, diskState{mode: diskError})
}

// FillDisk fills the node's volume.
func (f simFaults) FillDisk(ctx context.Context, node string) error {
	return f.s.setDisk(ctx, node, diskState{mode: diskFull})
}

// HealDisk repairs the node's volume; a process the fault crashed is
// started again, as its supervisor would.
func (f simFaults) HealDisk(ctx context.Context, node string) error {
	f.s.changed()
	n, err := f.s.node(node)
	if err != nil {
		return err
	}
	crashed := n.crashedByDisk
	if err := f.s.setDisk(ctx, node, diskState{}); err != nil {
		return err
	}
	if crashed && n.state == nodeDown {
		return f.s.setState(ctx, node, nodeRunning, changeStarted)
	}
	return nil
}

func (s *Sim) setDisk(ctx context.Context, name string, d diskState) error {
	s.changed()
	n, err := s.node(name)
	if err != nil {
		return err
	}
	// The replica set's apply times so far are settled under the old
	// state before the new one applies.
	for _, m := range s.models {
		if mm, ok := m.(*mongoModel); ok {
			mm.materializeAll()
		}
	}
	d.since = s.now
	n.disk = d
	n.crashedByDisk = false
	n.diskSeq++
	if d.mode == diskOK {
		s.emit(n.Service, platform.EventDiskHealed, n.Name, "")
	} else {
		s.emit(n.Service, platform.EventDiskFaulted, n.Name, d.describe())
	}
	for _, m := range s.models {
		m.nodeChanged(n, changeDisk)
	}
	return ctx.Err()
}

// crashOnDisk makes node n's process abort after delay, unless its disk
// has been repaired or changed since: a process that cannot write its
// journal stops. why is the node-down event's detail.
func (s *Sim) crashOnDisk(n *simNode, delay time.Duration, why string) {
	seq := n.diskSeq
	s.after(delay, platform.HandlerFunc(func(time.Duration) {
		if n.diskSeq != seq || !n.disk.failing() || n.state == nodeDown {
			return
		}
		n.crashedByDisk = true
		n.state = nodeDown
		s.emit(n.Service, platform.EventNodeDown, n.Name, fmt.Sprintf("crashed: %s (disk %s)", why, n.disk.mode))
		for _, m := range s.models {
			m.nodeChanged(n, changeKilled)
		}
	}))
}
