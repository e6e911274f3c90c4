package simulator

import (
	"fmt"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

// Disk faults on Elasticsearch nodes (see disk.go for the fault kinds).
//
//   - Full: the master reads every node's disk usage every
//     cluster.info.update.interval (es.disk_info_interval). At a read that
//     finds a node past the flood-stage watermark, every index with a shard
//     on it gets index.blocks.read_only_allow_delete and bulk items to it
//     are rejected (429 cluster_block_exception, "disk usage exceeded
//     flood-stage watermark"); at the first read that finds its usage below
//     the high watermark the block is released (Elasticsearch 7.4+, "Fix
//     watermark errors"). Between the fault and the first read, items whose
//     shard has a copy on the full node fail as the copy cannot write its
//     translog (modelled as rejected items; the model does not fail the
//     copy). No new copy is allocated to a node above the low watermark.
//     The model does not relocate shards off a node above the high
//     watermark: in the model's topologies every node holds shards of the
//     one index, so a relocation would not lift the block before the heal.
//   - Failing (EIO): a copy whose write hits an I/O error fails, its
//     replicas are promoted, and the node's file-system health check
//     (monitor.fs.health) keeps it out of the cluster until its disk works
//     again; modelled as the master removing the node at once and letting
//     it rejoin at the heal.
//   - Slow: the latency is added to every write of a copy on the node (the
//     translog fsync of index.translog.durability: request), and the
//     throughput cap bounds the node's peer recoveries, restores and
//     snapshot uploads.
//
// The model has one index, so a block on it stops every bulk item.

// esDisk is the disk-info side of an elasticsearch model.
type esDisk struct {
	interval         time.Duration
	flood, high, low float64
	phase            time.Duration
	armed            bool
	tick             platform.HandlerFunc
}

func (m *elasticModel) initDisk() {
	p := m.s.params
	d := &m.disk
	d.interval = max(time.Millisecond, p.duration("es.disk_info_interval"))
	d.flood, d.high, d.low = p.float("es.flood_stage_watermark"), p.float("es.high_watermark"), p.float("es.low_watermark")
	// The reads have been running long before the drill: the first one
	// comes at a point of the interval drawn from the seed.
	d.phase = time.Duration(m.s.rand("elastic/disk-info/" + m.spec.Name).Int64N(int64(d.interval)))
	d.tick = m.readDiskUsage
}

// diskChanged re-evaluates the clusters after a disk fault or its heal
// and makes sure the master reads disk usage from now on.
func (m *elasticModel) diskChanged() {
	d := &m.disk
	if !d.armed {
		d.armed = true
		next := d.phase
		if now := m.s.now; next <= now {
			next += (now - next + d.interval) / d.interval * d.interval
		}
		m.s.timer(next, d.tick)
	}
	m.changed(m.s.now)
}

// readDiskUsage is the master's periodic read of its nodes' disk usage:
// it puts on and releases the flood-stage block.
func (m *elasticModel) readDiskUsage(time.Duration) {
	m.s.after(m.disk.interval, m.disk.tick)
	changed := false
	for _, c := range m.clusters {
		if c.master < 0 || c.detached {
			continue
		}
		for i, en := range c.nodes {
			if !c.alive(i) {
				continue
			}
			usage := m.s.diskUsage(en.sn)
			switch {
			case !en.flooded && usage >= m.disk.flood:
				en.flooded, changed = true, true
				m.s.emit(m.spec.Name, platform.EventFloodStage, en.sn.Name,
					fmt.Sprintf("disk %.0f%% used, past the flood-stage watermark (%.0f%%): index.blocks.read_only_allow_delete on every index with a shard there", usage, m.disk.flood))
			case en.flooded && usage < m.disk.high:
				en.flooded, changed = false, true
				m.s.emit(m.spec.Name, platform.EventFloodStageReleased, en.sn.Name,
					fmt.Sprintf("disk %.0f%% used, below the high watermark (%.0f%%): block released", usage, m.disk.high))
			}
		}
	}
	if changed {
		m.changed(m.s.now)
	}
}

// diskFailed reports whether node i's disk fails every write.
func (c *esCluster) diskFailed(i int) bool { return c.nodes[i].sn.disk.mode == diskError }

// belowLowWatermark reports whether node i may take no new shard copy: its
// usage is past the low watermark.
func (c *esCluster) belowLowWatermark(i int) bool {
	return c.m.s.diskUsage(c.nodes[i].sn) > c.m.disk.low
}

// rejects reports whether bulk items to sh are rejected now: the index is
// read-only (readOnly, from indexReadOnly) or a started copy of sh is on a
// node whose disk cannot take the write.
func (c *esCluster) rejects(sh *esShard, readOnly bool) bool {
	if readOnly {
		return true
	}
	for _, cp := range sh.copies {
		if cp.status == copyStarted && c.nodes[cp.node].sn.disk.failing() {
			return true
		}
	}
	return false
}

// indexReadOnly reports whether the index is read-only because a node
// holding one of its shards is flooded. It looks at every copy only when a
// node is flooded, once per pass over the shards.
func (c *esCluster) indexReadOnly() bool {
	flooded := false
	for _, en := range c.nodes {
		flooded = flooded || en.flooded
	}
	if !flooded {
		return false
	}
	for _, sh := range c.shards {
		for _, cp := range sh.copies {
			if cp.status != copyStale && c.nodes[cp.node].flooded {
				return true
			}
		}
	}
	return false
}

// greenWith reports whether the cluster the tier writes to is green with
// node serving in it: what a rolling upgrade waits for before the next
// node.
func (m *elasticModel) greenWith(node string) bool {
	c := m.cluster
	if c.master < 0 || c.health != platform.EventHealthGreen {
		return false
	}
	for i, en := range c.nodes {
		if en.sn.Name == node {
			return en.inCluster && c.alive(i)
		}
	}
	return false
}

// diskRate caps a node's transfer rate (bytes per second) by its volume's
// throughput.
func (c *esCluster) diskRate(i int, rate float64) float64 {
	return c.nodes[i].sn.disk.capRate(rate)
}
