package simulator

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

// Snapshots and restores (issues 9.2 and 17.2).
//
// A snapshot copies each shard from the node holding its primary, every
// node uploading its shards' new data at max_snapshot_bytes_per_sec. A shard
// snapshot whose node crashes or leaves the cluster before it finished fails
// and is not retried elsewhere (so does every upload when the repository's
// endpoint is lost, and nothing is written); the snapshot then ends PARTIAL
// (elastic/elasticsearch#5792, "Fix snapshot status messages on node-left"
// #85021), and restoring an index from it is refused unless the restore asks
// for partial: true, which recreates the failed shards empty
// (https://www.elastic.co/guide/en/elasticsearch/reference/current/restore-snapshot-api.html).
// A master failover does not abort a snapshot: the next master finalises it.
//
// A restore builds a new cluster and recovers every primary from the
// repository through the per-node recovery throttle (elastic_recovery.go):
// shards restore in parallel across nodes; a node that dies mid-way hands
// its shards to another node, which starts them over; losing the
// repository fails the restore.

const esSnapshotStates = "https://www.elastic.co/guide/en/elasticsearch/reference/current/get-snapshot-api.html"

// esSnapshot is one snapshot in the repository: each shard's log as it was
// when the snapshot started, empty for a shard whose snapshot failed.
type esSnapshot struct {
	takenAt time.Duration
	logs    []idList
	failed  []bool
	events  int // events of the shards it holds
	// newEvents is what this snapshot uploaded: what a sync job copies.
	newEvents int
	partial   bool
}

// state is the snapshot's state as the get-snapshot API names it.
func (sn *esSnapshot) state() string {
	if sn.partial {
		return "PARTIAL"
	}
	return "SUCCESS"
}

// snapshotRun is a snapshot in progress.
type snapshotRun struct {
	snap     *esSnapshot
	endpoint *simNode
	shards   []shardSnapshot
	// finishAt is when the metadata is written once every shard settled.
	finishAt time.Duration
}

// shardUpload is the latest upload of a shard's data.
type shardUpload struct {
	upto   int
	doneAt time.Duration
}

// shardSnapshot is one shard's upload: by node, in the node's life lives,
// finishing at doneAt if nothing goes wrong.
type shardSnapshot struct {
	node    int
	lives   int
	upto    int
	doneAt  time.Duration
	settled bool
	ok      bool
}

func (m *elasticModel) snapshotTick(time.Duration) {
	m.s.after(m.spec.SnapshotInterval.D(), platform.HandlerFunc(m.snapshotTick))
	m.snapshot()
}

// snapshot starts a snapshot of the cluster the tier writes to.
func (m *elasticModel) snapshot() {
	c := m.cluster
	if c.master < 0 || c.restoring {
		return
	}
	endpoint := m.s3.snapshotEndpoint(c.region)
	if endpoint == nil || !m.s.reachable(c.nodes[c.master].sn, endpoint) {
		return
	}
	now := m.s.now
	run := &snapshotRun{snap: &esSnapshot{takenAt: now}, endpoint: endpoint, finishAt: never}
	// Each node uploads its shards' new data together at its rate: a
	// shard finishes once the node has sent, for every shard still
	// uploading, as much as it had (processor sharing).
	perNode := make([][]int, len(c.nodes))
	for s, sh := range c.shards {
		p := sh.primary()
		if p == nil {
			return // partial: false fails the snapshot when a primary is missing at the start
		}
		run.snap.logs = append(run.snap.logs, sh.log.prefix(sh.log.len()))
		run.shards = append(run.shards, shardSnapshot{node: p.node, lives: c.nodes[p.node].lives, upto: sh.log.len()})
		perNode[p.node] = append(perNode[p.node], s)
	}
	run.snap.failed = make([]bool, len(c.shards))
	if len(c.uploading) < len(c.shards) {
		c.uploading = make([]shardUpload, len(c.shards))
	}
	// A shard still uploading for an earlier snapshot is queued behind it
	// and then uploads only what that one did not (concurrent snapshots,
	// Elasticsearch 7.9+).
	for node, shards := range perNode {
		// A slow volume caps what the node reads for upload.
		rate := c.diskRate(node, m.snapshotRate)
		bytes := func(s int) float64 {
			return float64(run.shards[s].upto-max(c.snapped[s], c.uploading[s].upto)) * m.eventBytes
		}
		slices.SortStableFunc(shards, func(a, b int) int {
			return cmpFloat(bytes(a), bytes(b))
		})
		elapsed, sent := 0.0, 0.0
		for k, s := range shards {
			elapsed += (bytes(s) - sent) * float64(len(shards)-k) / rate
			sent = bytes(s)
			doneAt := now + time.Duration(elapsed*float64(time.Second))
			if prev := c.uploading[s]; prev.doneAt > now {
				doneAt = max(doneAt, prev.doneAt+time.Duration(bytes(s)/rate*float64(time.Second)))
			}
			run.shards[s].doneAt = doneAt
			c.uploading[s] = shardUpload{upto: run.shards[s].upto, doneAt: doneAt}
			m.at(doneAt)
		}
	}
	c.snapshotting = append(c.snapshotting, run)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// checkSnapshots settles the shard uploads whose time has come and writes
// the snapshots whose shards are all settled.
func (c *esCluster) checkSnapshots() {
	m, now := c.m, c.m.s.now
	kept := c.snapshotting[:0]
	for _, run := range c.snapshotting {
		if !c.settleSnapshot(run) {
			kept = append(kept, run)
			continue
		}
		if run.finishAt == never {
			run.finishAt = now + m.snapshotBase
			m.at(run.finishAt)
		}
		if run.endpoint.state == nodeDown {
			continue // nowhere to write it: the snapshot failed
		}
		if now < run.finishAt || c.master < 0 || !c.alive(c.master) || !m.s.reachable(c.nodes[c.master].sn, run.endpoint) {
			if !c.detached {
				kept = append(kept, run) // the next master finalises it
			}
			continue
		}
		c.finishSnapshot(run)
	}
	for i := len(kept); i < len(c.snapshotting); i++ {
		c.snapshotting[i] = nil
	}
	c.snapshotting = kept
}

// settleSnapshot decides the shard uploads due by now and reports whether
// every shard is settled. An upload fails if its node crashed or left the
// cluster since it began; one whose node is paused or cut off from the
// repository waits for it.
func (c *esCluster) settleSnapshot(run *snapshotRun) bool {
	now := c.m.s.now
	all := true
	for s := range run.shards {
		ss := &run.shards[s]
		if ss.settled {
			continue
		}
		en := c.nodes[ss.node]
		switch {
		case en.lives != ss.lives || run.endpoint.state == nodeDown:
			// Its node crashed or left, or the repository is gone: the
			// upload fails, and a later snapshot sends that data again.
			ss.settled = true
			if c.uploading[s].upto == ss.upto {
				c.uploading[s].upto = c.snapped[s]
			}
		case now >= ss.doneAt && c.alive(ss.node) && c.m.s.reachable(en.sn, run.endpoint):
			ss.settled, ss.ok = true, true
		default:
			all = false
		}
	}
	return all
}

// finishSnapshot writes the snapshot's metadata to the repository: SUCCESS
// when every shard was stored, PARTIAL otherwise.
func (c *esCluster) finishSnapshot(run *snapshotRun) {
	m, sn := c.m, run.snap
	var failed []string
	for s, ss := range run.shards {
		if !ss.ok {
			sn.failed[s], sn.partial = true, true
			sn.logs[s] = idList{}
			failed = append(failed, strconv.Itoa(s))
			continue
		}
		sn.events += ss.upto
		sn.newEvents += max(0, ss.upto-c.snapped[s])
		c.snapped[s] = max(c.snapped[s], ss.upto)
	}
	master := c.nodes[c.master].sn
	if !m.s3.putSnapshot(run.endpoint, master, sn) || c.detached {
		return
	}
	if sn.partial {
		m.s.emit(m.spec.Name, platform.EventSnapshotPartial, master.Name,
			fmt.Sprintf("PARTIAL: shards %s failed (their node crashed or left during the snapshot); %d events as of %s", strings.Join(failed, ","), sn.events, sn.takenAt))
		return
	}
	m.s.emit(m.spec.Name, platform.EventSnapshotCompleted, master.Name, fmt.Sprintf("%d events as of %s", sn.events, sn.takenAt))
}

// restoreRun is a restore in progress into a new cluster.
type restoreRun struct {
	name    string
	snap    *esSnapshot
	done    platform.ActionDone
	startAt time.Duration // nodes booted and the repository's metadata read
	recs    []*recovery   // per shard, once started
}

// restore builds a new cluster in a region from the newest snapshot in that
// region's bucket it may restore (complete, or any with partial: true); the
// log tier writes to it once its primaries are restored.
func (m *elasticModel) restore(a platform.Action, done platform.ActionDone) error {
	region := a.Params["region"]
	if !m.s.topo.HasRegion(region) {
		return fmt.Errorf("restore logs: no region %q in the topology", region)
	}
	if m.s3 == nil {
		return fmt.Errorf("restore logs: service %q has no snapshot repository", m.spec.Name)
	}
	count := len(m.cluster.nodes)
	if text := a.Params["nodes"]; text != "" {
		n, err := strconv.Atoi(text)
		if err != nil || n < 1 {
			return fmt.Errorf("restore logs: nodes %q: want a positive whole number", text)
		}
		count = n
	}
	partial := false
	if text := a.Params["partial"]; text != "" {
		b, err := strconv.ParseBool(text)
		if err != nil {
			return fmt.Errorf("restore logs: partial %q: want true or false", text)
		}
		partial = b
	}
	snaps, ok := m.s3.snapshots(region)
	if !ok {
		return fmt.Errorf("restore logs: the s3 endpoint of %s does not answer", region)
	}
	var snap, newest *esSnapshot
	for _, sn := range snaps {
		if newest == nil || sn.takenAt > newest.takenAt {
			newest = sn
		}
		if (!sn.partial || partial) && (snap == nil || sn.takenAt > snap.takenAt) {
			snap = sn
		}
	}
	if snap == nil {
		if newest != nil {
			return fmt.Errorf("restore logs: the only snapshots in the %s bucket are PARTIAL; restoring them needs partial: true", region)
		}
		return fmt.Errorf("restore logs: no snapshot in the %s bucket", region)
	}
	var zones []string
	for _, r := range m.s.topo.Regions {
		if r.Name == region {
			zones = r.Zones
		}
	}
	m.restores++
	var nodes []*simNode
	for k := 0; k < count; k++ {
		zone := zones[k%len(zones)]
		nodes = append(nodes, m.s.addNode(platform.Node{
			Name:    fmt.Sprintf("%s-restore%d-%d-%s", m.spec.Name, m.restores, k+1, zone),
			Service: m.spec.Name, Kind: platform.KindElastic, Region: region, Zone: zone,
		}))
	}
	c := m.newCluster(region, nodes, m.s.rand(fmt.Sprintf("elastic/placement/restore%d", m.restores)), true)
	c.restoring = true
	c.repository = m.s3.snapshotEndpoint(region)
	for i, sh := range c.shards {
		if i < len(snap.logs) {
			sh.log = snap.logs[i].prefix(snap.logs[i].len())
		}
	}
	for _, en := range c.nodes {
		en.bootedAt = m.s.now + m.bootTime
	}
	c.restore = &restoreRun{name: a.Name, snap: snap, done: done, startAt: m.s.now + m.bootTime + m.restoreBase}
	m.clusters = append(m.clusters, c)
	m.at(c.restore.startAt)
	return nil
}

// restoreProgress moves a restore on: it starts the shard restores once
// the nodes have booted, hands the shards of a node that died to another
// one, fails the restore if the repository is gone, and finishes it when
// every primary is restored.
func (c *esCluster) restoreProgress() {
	run, m, now := c.restore, c.m, c.m.s.now
	if run == nil || now < run.startAt {
		return
	}
	if c.repository == nil || c.repository.state == nodeDown {
		c.restore, c.detached = nil, true
		run.done.ActionDone(run.name, fmt.Errorf("restore logs: the snapshot repository in %s is gone", c.region), now)
		return
	}
	if run.recs == nil {
		for _, sh := range c.shards {
			run.recs = append(run.recs, c.startRecovery(sh, sh.copies[0].node, -1, float64(sh.log.len())*m.eventBytes))
		}
	}
	finished := true
	for s, r := range run.recs {
		if r.done && now >= r.readyAt {
			continue
		}
		finished = false
		if !r.done && c.nodes[r.target].sn.state == nodeDown {
			// The shard's restore failed with its node; the master
			// allocates it to another node, which starts over.
			if target := c.restoreTarget(run); target >= 0 {
				r.restart(target, -1)
				c.shards[s].copies[0].node = target
			}
		}
	}
	if !finished {
		return
	}
	c.restoring, c.restore = false, nil
	c.master = -1
	for i, en := range c.nodes {
		if en.voter && c.alive(i) && (c.master < 0 || en.order < c.nodes[c.master].order) {
			c.master = i
		}
	}
	old := m.cluster
	old.detached = true
	m.cluster = c
	name := m.spec.Name
	if c.master >= 0 {
		m.s.emit(name, platform.EventMasterElected, c.nodes[c.master].sn.Name, "")
	}
	master := ""
	if c.master >= 0 {
		master = c.nodes[c.master].sn.Name
	}
	m.s.emit(name, platform.EventRestoreCompleted, master, fmt.Sprintf("%s snapshot of %s, %d events", run.snap.state(), run.snap.takenAt.Round(time.Millisecond), run.snap.events))
	c.health, c.faulted = platform.EventHealthRed, true
	c.reconcile()
	m.tier.attach(c)
	m.tier.clusterChanged()
	run.done.ActionDone(run.name, nil, now)
}

// restoreTarget picks the alive node restoring the fewest shards.
func (c *esCluster) restoreTarget(run *restoreRun) int {
	load := make([]int, len(c.nodes))
	for _, r := range run.recs {
		if !r.done {
			load[r.target]++
		}
	}
	best := -1
	for i := range c.nodes {
		if c.alive(i) && (best < 0 || load[i] < load[best]) {
			best = i
		}
	}
	return best
}
