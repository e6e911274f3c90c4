package simulator

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

const (
	esDiscoverySettings = "https://www.elastic.co/guide/en/elasticsearch/reference/current/modules-discovery-settings.html"
	esRecoverySettings  = "https://www.elastic.co/guide/en/elasticsearch/reference/current/recovery.html"
	esSnapshotRepo      = "https://www.elastic.co/guide/en/elasticsearch/reference/current/put-snapshot-repo-api.html"
)

var elasticParameters = []paramDef{
	duration("es.follower_check_interval", time.Second,
		"how often the elected master checks each node (cluster.fault_detection.follower_check.interval)", esDiscoverySettings),
	duration("es.follower_check_timeout", 10*time.Second,
		"how long the master waits for a follower check answer (cluster.fault_detection.follower_check.timeout)", esDiscoverySettings),
	integer("es.follower_check_retry_count", 3,
		"consecutive failed follower checks before the master removes a node that is paused or cut off (cluster.fault_detection.follower_check.retry_count); a closed connection removes it at once",
		"https://www.elastic.co/guide/en/elasticsearch/reference/current/cluster-fault-detection.html"),
	duration("es.leader_check_interval", time.Second,
		"how often each node checks the elected master (cluster.fault_detection.leader_check.interval)", esDiscoverySettings),
	duration("es.leader_check_timeout", 10*time.Second,
		"how long a node waits for a leader check answer (cluster.fault_detection.leader_check.timeout)", esDiscoverySettings),
	integer("es.leader_check_retry_count", 3,
		"consecutive failed leader checks before nodes give up on a paused or cut-off master (cluster.fault_detection.leader_check.retry_count)", esDiscoverySettings),
	duration("es.election_initial_timeout", 100*time.Millisecond,
		"upper bound of the random wait before a node first tries to win an election (cluster.election.initial_timeout)", esDiscoverySettings),
	duration("es.delayed_timeout", platform.DefaultDelayedTimeout,
		"how long the master waits for a departed node before rebuilding its replicas elsewhere (index.unassigned.node_left.delayed_timeout); promotion of replicas is not delayed",
		"https://www.elastic.co/guide/en/elasticsearch/reference/current/delayed-allocation.html"),
	duration("es.primary_wait_timeout", time.Minute,
		"how long a bulk item waits for an active primary (or for the no-master block to clear) before it fails (bulk `timeout`)",
		"https://www.elastic.co/guide/en/elasticsearch/reference/current/docs-bulk.html"),
	duration("es.index_latency", 5*time.Millisecond,
		"time a shard copy takes to index a bulk and fsync its translog before answering (index.translog.durability: request fsyncs on every request; EBS answers in single-digit ms)",
		"https://www.elastic.co/guide/en/elasticsearch/reference/current/index-modules-translog.html"),
	duration("es.node_boot_time", 20*time.Second,
		"time from starting an Elasticsearch process to it serving and joining (JVM start, plugin and data path loading); a reasoned default for a small node",
		"https://www.elastic.co/guide/en/elasticsearch/reference/current/starting-elasticsearch.html"),
	duration("es.recovery_base", 2*time.Second,
		"fixed cost of one peer recovery or shard restore (file comparison, translog replay, finalisation) on top of copying the data; a reasoned default",
		esRecoverySettings),
	float("es.recovery_rate_mb", 40,
		"MB/s of recovery traffic each node allows, in and out together, shared by every peer recovery and snapshot restore it takes part in (indices.recovery.max_bytes_per_sec: \"applies to each node separately\")", esRecoverySettings),
	float("es.restore_rate_mb", 0,
		"MB/s each node may read from the snapshot repository while restoring (the repository's max_restore_bytes_per_sec; 0: unlimited, the default, so indices.recovery.max_bytes_per_sec bounds restores)", esSnapshotRepo),
	integer("es.node_concurrent_recoveries", 2,
		"peer recoveries a node may receive, and send, at once (cluster.routing.allocation.node_concurrent_recoveries); more wait their turn",
		"https://www.elastic.co/guide/en/elasticsearch/reference/current/modules-cluster.html#cluster-shard-allocation-settings"),
	integer("es.node_initial_primaries_recoveries", 4,
		"primaries a node may restore from the snapshot repository at once (cluster.routing.allocation.node_initial_primaries_recoveries; ThrottlingAllocationDecider counts restores of unassigned primaries against it)",
		"https://github.com/elastic/elasticsearch/blob/main/server/src/main/java/org/elasticsearch/cluster/routing/allocation/decider/ThrottlingAllocationDecider.java"),
	integer("es.event_bytes", 500,
		"bytes one log event takes in a shard (source plus index overhead); a reasoned default for a one-line log event",
		"https://www.elastic.co/guide/en/elasticsearch/reference/current/size-your-shards.html"),
	duration("es.snapshot_base", 2*time.Second,
		"fixed cost of one snapshot (cluster-state updates, repository metadata writes); a reasoned default",
		"https://www.elastic.co/guide/en/elasticsearch/reference/current/snapshots-take-snapshot.html"),
	float("es.snapshot_rate_mb", 40,
		"MB/s each node uploads new segment data of the shards whose primaries it holds during a snapshot (the repository's max_snapshot_bytes_per_sec, per node)", esSnapshotRepo),
	duration("es.restore_base", 10*time.Second,
		"fixed cost of restoring a snapshot into a new cluster (registering the repository, reading its metadata, allocating the shards); a reasoned default",
		"https://www.elastic.co/guide/en/elasticsearch/reference/current/snapshots-restore-snapshot.html"),
}

// copyStatus is what a shard copy is doing.
type copyStatus uint8

const (
	copyStarted    copyStatus = iota // active and in sync: writes wait for it
	copyRecovering                   // being rebuilt from the primary; not in sync yet
	copyStale                        // its node left the cluster; it holds log[:upto]
)

type shardCopy struct {
	node    int
	primary bool
	status  copyStatus
	upto    int
	// rec is the recovery building a recovering copy.
	rec *recovery
	// keptInSync marks a stale copy the master kept in the in-sync set
	// because it was among the last copies: it may become primary again.
	keptInSync bool
	// until is the end of delayed allocation for a stale copy (a
	// recovering one's progress is in rec).
	until time.Duration
}

// shardGate is whether a write to a shard can complete now.
type shardGate uint8

const (
	gateOpen        shardGate = iota
	gateStalled               // an in-sync copy is unreachable and not yet failed: writes wait
	gateUnavailable           // no active primary or no master: writes wait up to the bulk timeout, then fail
	gateRejected              // the index is read-only (flood stage) or a copy's disk fails: items are rejected at once
)

// esShard is one primary shard with its copies. log is every event the
// shard acknowledged, in order; started copies hold all of it, stale ones a
// prefix.
type esShard struct {
	log     idList
	copies  []shardCopy
	gate    shardGate
	readyAt time.Duration // when the gate last opened
	path    time.Duration // tier -> primary -> replicas -> tier, indexing included
}

func (sh *esShard) primary() *shardCopy {
	for i := range sh.copies {
		if c := &sh.copies[i]; c.status == copyStarted && c.primary {
			return c
		}
	}
	return nil
}

func (sh *esShard) count(status copyStatus) int {
	n := 0
	for _, c := range sh.copies {
		if c.status == status {
			n++
		}
	}
	return n
}

type esNode struct {
	sn        *simNode
	inCluster bool
	voter     bool
	order     int           // seeded tie-break rank
	bootedAt  time.Duration // the process serves from here on (after a start)
	detectAt  time.Duration // when the master removes it; never if not suspected
	// lives counts the node's crashes and removals from the cluster: work
	// it had in progress (a shard snapshot) is lost when it changes.
	lives int
	// flooded is a node the master last read past the flood-stage
	// watermark (elastic_disk.go).
	flooded bool
}

// esCluster is one Elasticsearch cluster: the original, or one a restore
// built.
type esCluster struct {
	m        *elasticModel
	region   string
	nodes    []*esNode
	shards   []*esShard
	master   int // index into nodes; -1 while there is none
	lostAt   time.Duration
	electAt  time.Duration
	noQuorum bool // the last election found no quorum; wait for a change
	health   string
	faulted  bool // health left green since it was last green
	// restoring is true until a restore finishes; detached once another
	// cluster replaced this one (it keeps its state but reports nothing).
	restoring bool
	detached  bool

	// snapped is, per shard, the events the repository holds from this
	// cluster's successful shard snapshots: a snapshot uploads the rest.
	snapped []int
	// snapshotting are the snapshots in progress; uploading is, per shard,
	// the newest upload begun.
	snapshotting []*snapshotRun
	uploading    []shardUpload

	// Recoveries in progress (see elastic_recovery.go).
	recoveries   []*recovery
	recoveredAt  time.Duration
	recoveryWake time.Duration
	recoveryLoad []int
	// repository is the S3 endpoint a restoring cluster reads from.
	repository *simNode
	restore    *restoreRun
	// alloc holds the allocator's buffers between passes.
	alloc allocation
}

type elasticModel struct {
	s *Sim
	// presence is the read-back's bitset, shared by its batches.
	presence presenceBits
	spec     *platform.ServiceSpec
	s3       *s3Model

	cluster  *esCluster
	clusters []*esCluster
	tier     *logTier
	restores int

	election *rand.Rand
	checks   *rand.Rand
	wake     platform.HandlerFunc
	// changed re-evaluates every cluster after something that can end a
	// lost quorum: a node starting, resuming, finishing its boot, or the
	// network healing.
	changed platform.HandlerFunc

	followerInterval, followerTimeout time.Duration
	followerRetries                   int
	leaderInterval, leaderTimeout     time.Duration
	leaderRetries                     int
	electionTimeout                   time.Duration
	delayedTimeout                    time.Duration
	indexLatency                      time.Duration
	bootTime                          time.Duration
	recoveryBase                      time.Duration
	recoveryRate                      float64 // bytes per second
	eventBytes                        float64
	snapshotBase                      time.Duration
	snapshotRate                      float64
	restoreBase                       time.Duration
	restoreRate                       float64 // bytes per second; 0 unlimited
	concurrentRecoveries              int
	initialPrimariesRecoveries        int

	disk esDisk
}

func newElasticModel(s *Sim, spec *platform.ServiceSpec) (model, error) {
	p := s.params
	m := &elasticModel{
		s:                          s,
		spec:                       spec,
		election:                   s.rand("elastic/election"),
		checks:                     s.rand("elastic/fault-detection"),
		followerInterval:           p.duration("es.follower_check_interval"),
		followerTimeout:            p.duration("es.follower_check_timeout"),
		followerRetries:            p.integer("es.follower_check_retry_count"),
		leaderInterval:             p.duration("es.leader_check_interval"),
		leaderTimeout:              p.duration("es.leader_check_timeout"),
		leaderRetries:              p.integer("es.leader_check_retry_count"),
		electionTimeout:            p.duration("es.election_initial_timeout"),
		delayedTimeout:             p.duration("es.delayed_timeout"),
		indexLatency:               p.duration("es.index_latency"),
		bootTime:                   p.duration("es.node_boot_time"),
		recoveryBase:               p.duration("es.recovery_base"),
		recoveryRate:               p.float("es.recovery_rate_mb") * 1e6,
		eventBytes:                 float64(p.integer("es.event_bytes")),
		snapshotBase:               p.duration("es.snapshot_base"),
		snapshotRate:               p.float("es.snapshot_rate_mb") * 1e6,
		restoreBase:                p.duration("es.restore_base"),
		restoreRate:                p.float("es.restore_rate_mb") * 1e6,
		concurrentRecoveries:       max(1, p.integer("es.node_concurrent_recoveries")),
		initialPrimariesRecoveries: max(1, p.integer("es.node_initial_primaries_recoveries")),
	}
	if m.recoveryRate <= 0 || m.snapshotRate <= 0 {
		return nil, fmt.Errorf("build elasticsearch service %q: recovery and snapshot rates must be positive", spec.Name)
	}
	m.wake = func(time.Duration) { m.reconcileAll() }
	m.changed = func(time.Duration) {
		for _, cl := range m.clusters {
			cl.noQuorum = false
		}
		m.reconcileAll()
	}
	var nodes []*simNode
	region := ""
	for _, np := range spec.Nodes {
		n, err := s.node(np.Name)
		if err != nil {
			return nil, fmt.Errorf("build elasticsearch service %q: %w", spec.Name, err)
		}
		nodes = append(nodes, n)
		region = n.Region
	}
	m.initDisk()
	m.cluster = m.newCluster(region, nodes, s.rand("elastic/placement"), false)
	m.clusters = []*esCluster{m.cluster}
	m.tier = newLogTier(m)
	return m, nil
}

// newCluster places the shard copies on nodes (all up, all members) with
// zone awareness; ranks are drawn from r. A cluster built for a restore
// places the primaries only: the replicas are recovered from them after.
func (m *elasticModel) newCluster(region string, nodes []*simNode, r *rand.Rand, primariesOnly bool) *esCluster {
	c := &esCluster{m: m, region: region, master: -1, lostAt: never, electAt: never, health: platform.EventHealthGreen, recoveryWake: never}
	for i, rank := range r.Perm(len(nodes)) {
		c.nodes = append(c.nodes, &esNode{sn: nodes[i], inCluster: true, order: rank, detectAt: never})
	}
	c.updateVoters()
	c.snapped = make([]int, max(1, m.spec.Shards))
	a := c.newAllocation()
	for i := 0; i < max(1, m.spec.Shards); i++ {
		sh := &esShard{}
		c.shards = append(c.shards, sh)
		for j := 0; j <= m.spec.Replicas && (j == 0 || !primariesOnly); j++ {
			target := a.target(i, sh)
			if target < 0 {
				break
			}
			sh.copies = append(sh.copies, shardCopy{node: target, primary: j == 0, status: copyStarted})
			a.load[target]++
		}
	}
	return c
}

func (m *elasticModel) service() string { return m.spec.Name }

func (m *elasticModel) start() {
	if m.spec.SnapshotTo != "" {
		if s3, ok := m.s.byService[m.spec.SnapshotTo].(*s3Model); ok {
			m.s3 = s3
		}
	}
	c := m.cluster
	c.master = c.firstVoter()
	if c.master >= 0 {
		m.s.emit(m.spec.Name, platform.EventMasterElected, c.nodes[c.master].sn.Name, "")
	}
	c.reconcile()
	if m.s3 != nil && m.spec.SnapshotInterval > 0 {
		// A baseline is taken as the scenario starts, as the live platform
		// takes one before time 0; the schedule, which has been running
		// long before any drill, fires at its phase.
		interval := m.spec.SnapshotInterval.D()
		phase := jobPhase(m.s, m.spec.SnapshotPhase, interval, platform.SnapshotPhaseStream(m.spec.Name))
		if phase > 0 {
			m.s.after(0, platform.HandlerFunc(func(time.Duration) { m.snapshot() }))
		}
		m.s.after(phase, platform.HandlerFunc(m.snapshotTick))
	}
}

func (m *elasticModel) write(op uint64) time.Duration         { return m.tier.write(op) }
func (m *elasticModel) advance(t time.Duration) time.Duration { return m.tier.advance(t) }

func (m *elasticModel) nodeChanged(n *simNode, c nodeChange) {
	if n.Kind != platform.KindElastic || n.Service != m.spec.Name {
		// Another service's node: it may have taken the last of the
		// tier's region with it, or brought the region back.
		m.tier.clusterChanged()
		return
	}
	for _, cl := range m.clusters {
		for _, en := range cl.nodes {
			if en.sn != n {
				continue
			}
			if c == changeKilled || c == changeStopped {
				en.lives++
			}
			if c == changeDisk {
				m.diskChanged()
			}
			if c == changeStarted {
				// The node serves only once booted: an election that
				// found no quorum meanwhile is retried then.
				en.bootedAt = m.s.now + m.bootTime
				m.s.timer(en.bootedAt, m.changed)
			}
			m.changed(m.s.now)
			return
		}
	}
}

func (m *elasticModel) networkChanged() { m.changed(m.s.now) }

func (m *elasticModel) reconcileAll() {
	for _, c := range m.clusters {
		c.reconcile()
	}
	m.tier.clusterChanged()
}

// at schedules a reconcile at t.
func (m *elasticModel) at(t time.Duration) { m.s.timer(t, m.wake) }

// publishDelay is how long the master takes to act on something it noticed at
// once (a closed connection): one cluster-state publication round.
func (m *elasticModel) publishDelay() time.Duration {
	return 2 * m.s.topo.EffectiveLatency().InterZone.D()
}

// checkDelay is how long consecutive checks take to give up on a paused or
// cut-off peer: retries timeouts, starting at a random point of the check
// interval.
func (m *elasticModel) checkDelay(interval, timeout time.Duration, retries int) time.Duration {
	phase := time.Duration(0)
	if interval > 0 {
		phase = time.Duration(m.checks.Int64N(int64(interval)))
	}
	return phase + time.Duration(retries)*timeout + time.Duration(max(0, retries-1))*interval
}

// recoveryTime is how long rebuilding a copy of events takes alone on its
// nodes: the fastest a peer recovery can be.
func (m *elasticModel) recoveryTime(events int) time.Duration {
	return m.recoveryBase + time.Duration(float64(events)*m.eventBytes/m.recoveryRate*float64(time.Second))
}

// --- cluster coordination ---

// alive reports whether a node's process serves now.
func (c *esCluster) alive(i int) bool {
	n := c.nodes[i]
	return c.m.s.up(n.sn) && c.m.s.now >= n.bootedAt
}

func (c *esCluster) reach(a, b int) bool {
	return c.alive(a) && c.alive(b) && c.m.s.reachable(c.nodes[a].sn, c.nodes[b].sn)
}

func (c *esCluster) voters() int {
	n := 0
	for _, en := range c.nodes {
		if en.voter {
			n++
		}
	}
	return n
}

// quorumFrom reports whether node i reaches more than half of the voting
// configuration (itself included).
func (c *esCluster) quorumFrom(i int) bool {
	reached := 0
	for j, en := range c.nodes {
		if en.voter && c.reach(i, j) {
			reached++
		}
	}
	return reached*2 > c.voters()
}

func (c *esCluster) firstVoter() int {
	best := -1
	for i, en := range c.nodes {
		if en.voter && (best < 0 || en.order < c.nodes[best].order) {
			best = i
		}
	}
	return best
}

// updateVoters keeps the voting configuration odd-sized over the members, as
// Elasticsearch does: with an even count one node is left out; it never
// shrinks below three.
// https://www.elastic.co/guide/en/elasticsearch/reference/current/modules-discovery-voting.html
func (c *esCluster) updateVoters() {
	var members []int
	for i, en := range c.nodes {
		if en.inCluster {
			members = append(members, i)
		}
	}
	if len(members) < 3 && c.voters() >= 3 {
		return
	}
	leftOut := -1
	if len(members)%2 == 0 && len(members) > 0 {
		for _, i := range members {
			if i != c.master && (leftOut < 0 || c.nodes[i].order > c.nodes[leftOut].order) {
				leftOut = i
			}
		}
	}
	for i, en := range c.nodes {
		en.voter = en.inCluster && i != leftOut
	}
}

// reconcile moves the cluster to where the current node and network states
// lead it: master loss and election, fault detection, membership, shard
// promotion and allocation, write gates and health. Every timer it needs is
// scheduled as a wake-up that calls it again.
func (c *esCluster) reconcile() {
	c.accountRecoveries()
	if c.restoring {
		c.restoreProgress()
		c.scheduleRecoveries()
		c.updateGates()
		return
	}
	m, now := c.m, c.m.s.now
	membership := false

	// Leader checks: followers give up on a master that is gone or has lost
	// its quorum.
	if c.master >= 0 {
		mn := c.nodes[c.master]
		if c.alive(c.master) && c.quorumFrom(c.master) {
			c.lostAt = never
		} else {
			if c.lostAt == never {
				c.lostAt = now + m.publishDelay()
				if c.alive(c.master) || mn.sn.state != nodeDown {
					if !c.quorumLostToCrashes() {
						c.lostAt = now + m.checkDelay(m.leaderInterval, m.leaderTimeout, m.leaderRetries)
					}
				}
				m.at(c.lostAt)
			}
			if now >= c.lostAt {
				c.lostAt = never
				mn.detectAt = now // the next master drops it at once if it is still gone
				c.master = -1
			}
		}
	}
	if c.master < 0 && !c.noQuorum {
		if c.electAt == never {
			c.electAt = now
			if m.electionTimeout > 0 {
				c.electAt += time.Duration(m.election.Int64N(int64(m.electionTimeout)))
			}
			m.at(c.electAt)
		}
		if now >= c.electAt {
			c.electAt = never
			c.elect()
		}
	}

	if c.master >= 0 && c.alive(c.master) && c.quorumFrom(c.master) {
		// Follower checks; only a master that can publish acts on them.
		var removed []int
		for i, en := range c.nodes {
			if i == c.master || !en.inCluster {
				continue
			}
			if c.suspect(i) {
				if en.detectAt == never {
					en.detectAt = now + m.publishDelay()
					if en.sn.state != nodeDown && !c.diskFailed(i) {
						en.detectAt = now + m.checkDelay(m.followerInterval, m.followerTimeout, m.followerRetries)
					}
					m.at(en.detectAt)
				}
				if now >= en.detectAt {
					removed = append(removed, i)
				}
			} else {
				en.detectAt = never
			}
		}
		if len(removed) > 0 {
			c.remove(removed)
			membership = true
		}
		for i, en := range c.nodes {
			if !en.inCluster && c.reach(c.master, i) && !c.diskFailed(i) {
				en.inCluster, en.detectAt = true, never
				c.join(i)
				membership = true
			}
		}
		if membership {
			c.updateVoters()
		}
		c.allocate()
	}
	c.scheduleRecoveries()
	c.checkSnapshots()
	c.updateGates()
	c.updateHealth()
}

// quorumLostToCrashes reports whether every voter the master cannot reach is
// down (so the loss is seen at once, through closed connections).
func (c *esCluster) quorumLostToCrashes() bool {
	for i, en := range c.nodes {
		if en.voter && !c.reach(c.master, i) && en.sn.state != nodeDown {
			return false
		}
	}
	return true
}

// suspect reports whether the master's checks of node i fail: it is gone or
// cut off from the master, or cut off from a primary whose replica it holds
// (the primary fails the copy through the master; modelled as a node
// removal after the same checks).
func (c *esCluster) suspect(i int) bool {
	if !c.reach(c.master, i) || c.diskFailed(i) {
		return true
	}
	for _, sh := range c.shards {
		p := sh.primary()
		if p == nil || p.node == i || !c.reach(c.master, p.node) {
			continue // a primary the master cannot see is the suspect itself
		}
		for _, cp := range sh.copies {
			if cp.node == i && cp.status == copyStarted && !c.reach(p.node, i) {
				return true
			}
		}
	}
	return false
}

// elect picks the first node, in seeded order, that reaches a quorum of the
// voting configuration.
func (c *esCluster) elect() {
	best := -1
	for i, en := range c.nodes {
		if c.alive(i) && c.quorumFrom(i) && (best < 0 || en.order < c.nodes[best].order) {
			best = i
		}
	}
	if best < 0 {
		c.noQuorum = true
		c.setHealth(platform.EventHealthRed, fmt.Sprintf("no elected master: no node reaches a quorum of the %d voting nodes", c.voters()))
		return
	}
	c.master = best
	c.nodes[best].inCluster = true
	if !c.detached {
		c.m.s.emit(c.m.spec.Name, platform.EventMasterElected, c.nodes[best].sn.Name, "")
	}
}

// remove takes nodes out of the cluster in one cluster-state update: their
// copies go stale, replicas of lost primaries are promoted at once, and the
// last copies of a shard stay in its in-sync set.
func (c *esCluster) remove(nodes []int) {
	now := c.m.s.now
	gone := func(i int) bool {
		for _, n := range nodes {
			if n == i {
				return true
			}
		}
		return false
	}
	for _, i := range nodes {
		c.nodes[i].inCluster, c.nodes[i].detectAt = false, never
		c.nodes[i].lives++
	}
	for _, sh := range c.shards {
		kept := sh.copies[:0]
		lostPrimary := false
		for _, cp := range sh.copies {
			if !gone(cp.node) {
				kept = append(kept, cp)
				continue
			}
			switch cp.status {
			case copyRecovering:
				cp.rec.done = true // the recovery is abandoned
				continue
			case copyStarted:
				lostPrimary = lostPrimary || cp.primary
				cp.status, cp.primary, cp.upto = copyStale, false, sh.log.len()
				cp.until = now + c.m.delayedTimeout
				cp.keptInSync = true // settled below
				c.m.at(cp.until)
			}
			kept = append(kept, cp)
		}
		sh.copies = kept
		started := sh.count(copyStarted)
		for k := range sh.copies {
			cp := &sh.copies[k]
			if cp.status == copyStale && gone(cp.node) && started > 0 {
				cp.keptInSync = false
			}
		}
		if lostPrimary && started > 0 {
			for k := range sh.copies {
				if sh.copies[k].status == copyStarted {
					sh.copies[k].primary = true
					break
				}
			}
		}
	}
}

// join brings node i's stale copies back: as primary of a shard with no
// active copy if the master kept it in sync, else as a replica recovering
// the operations it missed, if its place was not yet given away.
func (c *esCluster) join(i int) {
	now := c.m.s.now
	for _, sh := range c.shards {
		for k := 0; k < len(sh.copies); k++ {
			cp := &sh.copies[k]
			if cp.node != i || cp.status != copyStale {
				continue
			}
			switch {
			case sh.primary() == nil && cp.keptInSync:
				cp.status, cp.primary = copyStarted, true
				sh.log.truncate(cp.upto)
			case sh.primary() != nil && (cp.until > now || cp.keptInSync):
				// Only the operations it missed are copied.
				cp.status = copyRecovering
				cp.rec = c.startRecovery(sh, i, sh.primary().node, float64(sh.log.len()-cp.upto)*c.m.eventBytes)
			case sh.primary() == nil:
				continue // stale and not in sync: useless while the shard is red
			default:
				sh.copies = append(sh.copies[:k], sh.copies[k+1:]...)
				k--
			}
		}
	}
}

// allocate finishes recoveries, gives up on departed copies whose delay
// expired and rebuilds missing replicas on other nodes.
func (c *esCluster) allocate() {
	now := c.m.s.now
	want := 1 + c.m.spec.Replicas
	a := c.newAllocation()
	for _, sh := range c.shards {
		for _, cp := range sh.copies {
			a.load[cp.node]++
		}
	}
	for s, sh := range c.shards {
		p := sh.primary()
		kept := sh.copies[:0]
		for _, cp := range sh.copies {
			switch cp.status {
			case copyRecovering:
				if p == nil || !c.nodes[cp.node].inCluster {
					cp.rec.done = true
					a.load[cp.node]--
					continue
				}
				if cp.rec.source != p.node && !cp.rec.done {
					// Its source failed and a replica was promoted: the
					// recovery fails and starts over from the new primary.
					cp.rec.restart(cp.node, p.node)
				}
				if now >= cp.rec.readyAt {
					cp.status, cp.rec = copyStarted, nil
				}
			case copyStale:
				if (p != nil || !cp.keptInSync) && now >= cp.until {
					a.load[cp.node]--
					continue
				}
			}
			kept = append(kept, cp)
		}
		sh.copies = kept
		if sh.primary() == nil {
			continue
		}
		for len(sh.copies) < want {
			target := a.target(s, sh)
			if target < 0 {
				break
			}
			rec := c.startRecovery(sh, target, p.node, float64(sh.log.len())*c.m.eventBytes)
			sh.copies = append(sh.copies, shardCopy{node: target, status: copyRecovering, rec: rec})
			a.load[target]++
		}
	}
}

// allocation is one pass of the allocator over the cluster: the nodes'
// shard copies (load, kept up to date by the caller as copies are dropped
// and placed, so that a pass costs time linear in the copies rather than a
// recount of every shard's copies for each new one) and the copies per zone
// that allocation awareness allows.
type allocation struct {
	c       *esCluster
	load    []int
	perZone int
	zones   []string // the zones of the nodes that can take a copy
}

// newAllocation starts a pass with no copies counted: the caller counts the
// copies that exist.
// It reuses the cluster's buffers: a pass allocates nothing.
func (c *esCluster) newAllocation() *allocation {
	a := &c.alloc
	a.c = c
	a.zones = a.zones[:0]
	for i, en := range c.nodes {
		if en.inCluster && c.alive(i) && !slices.Contains(a.zones, en.sn.Zone) {
			a.zones = append(a.zones, en.sn.Zone)
		}
	}
	want := 1 + c.m.spec.Replicas
	a.perZone = (want + len(a.zones) - 1) / max(1, len(a.zones))
	if cap(a.load) < len(c.nodes) {
		a.load = make([]int, len(c.nodes))
	}
	a.load = a.load[:len(c.nodes)]
	clear(a.load)
	return a
}

// target picks a member node for a new copy of shard s: not one holding a
// copy, in a zone below its share of the copies (allocation awareness),
// preferring emptier zones, then nodes with fewer copies.
// https://www.elastic.co/guide/en/elasticsearch/reference/current/shard-allocation-awareness.html
func (a *allocation) target(s int, sh *esShard) int {
	c := a.c
	// copiesIn counts the shard's active or recovering copies in a zone.
	copiesIn := func(zone string) int {
		n := 0
		for _, cp := range sh.copies {
			if cp.status != copyStale && c.nodes[cp.node].sn.Zone == zone {
				n++
			}
		}
		return n
	}
	best, bestRank := -1, [3]int{}
	for i, en := range c.nodes {
		if !en.inCluster || !c.alive(i) {
			continue
		}
		inZone := copiesIn(en.sn.Zone)
		if inZone >= a.perZone || c.belowLowWatermark(i) {
			continue
		}
		holds := false
		for _, cp := range sh.copies {
			holds = holds || cp.node == i
		}
		if holds {
			continue
		}
		rank := [3]int{inZone, a.load[i], (en.order - s%len(c.nodes) + len(c.nodes)) % len(c.nodes)}
		if best < 0 || less3(rank, bestRank) {
			best, bestRank = i, rank
		}
	}
	return best
}

func less3(a, b [3]int) bool {
	for k := range a {
		if a[k] != b[k] {
			return a[k] < b[k]
		}
	}
	return false
}

// updateGates decides for each shard whether a write completes now, waits
// for the master to fail a copy, or waits for a primary.
func (c *esCluster) updateGates() {
	m, now := c.m, c.m.s.now
	readOnly := c.indexReadOnly()
	for _, sh := range c.shards {
		gate := gateOpen
		var path time.Duration
		p := sh.primary()
		switch {
		case c.master < 0 || c.restoring || p == nil:
			gate = gateUnavailable
		case !c.alive(p.node):
			gate = gateStalled
		default:
			primary := c.nodes[p.node].sn
			path = 2*m.s.clientLatency(c.region, primary) + m.indexLatency + primary.disk.ioLatency()
			var replicas time.Duration
			for _, cp := range sh.copies {
				if cp.status != copyStarted || cp.primary {
					continue
				}
				if !c.reach(p.node, cp.node) {
					gate = gateStalled
					break
				}
				replicas = max(replicas, 2*m.s.latency(primary, c.nodes[cp.node].sn)+m.indexLatency+c.nodes[cp.node].sn.disk.ioLatency())
			}
			path += replicas
			if gate == gateOpen && c.rejects(sh, readOnly) {
				gate = gateRejected
			}
		}
		if gate == gateOpen && sh.gate != gateOpen {
			sh.readyAt = now
		}
		sh.gate, sh.path = gate, path
	}
}

func (c *esCluster) updateHealth() {
	if c.master < 0 {
		return // no master answers the health API; elect reports a lost quorum
	}
	want := 1 + c.m.spec.Replicas
	red, missing := 0, 0
	for _, sh := range c.shards {
		started := sh.count(copyStarted)
		if sh.primary() == nil {
			red++
		}
		missing += max(0, want-started)
	}
	switch {
	case red > 0:
		c.setHealth(platform.EventHealthRed, fmt.Sprintf("%d of %d shards have no active copy", red, len(c.shards)))
	case missing > 0:
		c.setHealth(platform.EventHealthYellow, fmt.Sprintf("%d of %d shard copies not active", missing, want*len(c.shards)))
	default:
		c.setHealth(platform.EventHealthGreen, "")
	}
}

func (c *esCluster) setHealth(health, detail string) {
	if health == c.health || c.detached {
		return
	}
	c.health = health
	name := c.m.spec.Name
	master := ""
	if c.master >= 0 {
		master = c.nodes[c.master].sn.Name
	}
	c.m.s.emit(name, health, master, detail)
	if health != platform.EventHealthGreen {
		c.faulted = true
	} else if c.faulted {
		c.faulted = false
		c.m.s.emit(name, platform.EventRedundancyRestored, master, "")
	}
}

// --- roles, actions and read-back ---

func (m *elasticModel) role(name string) ([]string, error) {
	if name != "master" {
		return nil, fmt.Errorf("%w: elasticsearch service %q has no role %q", platform.ErrUnknownRole, m.spec.Name, name)
	}
	c := m.cluster
	if c.master < 0 {
		return nil, nil
	}
	return []string{c.nodes[c.master].sn.Name}, nil
}

func (m *elasticModel) action(a platform.Action, done platform.ActionDone) error {
	if a.Action != platform.ActionLogsRestoreSnapshot {
		return fmt.Errorf("%w: %q on elasticsearch service %q", platform.ErrUnknownAction, a.Action, m.spec.Name)
	}
	return m.restore(a, done)
}

// readBack reports which events the cluster the tier writes to holds. As
// on the live platform, it fails when that cluster does not answer (no node
// of it is up), and when an event's shard has no active copy: a multi-get
// answers no_shard_available_action_exception for its documents, so their
// presence cannot be told, and the events are unverified, not lost.
func (m *elasticModel) readBack(ids []uint64, present []bool) error {
	c := m.cluster
	answers := false
	var names []string
	for i, en := range c.nodes {
		answers = answers || c.alive(i)
		names = append(names, en.sn.Name)
	}
	if !answers {
		return fmt.Errorf("read back %s: the cluster the log tier writes to (%s) does not answer (did a recovery step fail?)", m.spec.Name, strings.Join(names, ", "))
	}
	// One bit per op id held by a shard with an active primary, shared by
	// the read-back's batches (a map per shard cost a third of a run's
	// time and 40 bytes per event).
	var unavailable []int
	for s, sh := range c.shards {
		if p := sh.primary(); p == nil || !c.alive(p.node) {
			unavailable = append(unavailable, s)
		}
	}
	have := m.presence.get(m.s, func(have *presenceBits) {
		for _, sh := range c.shards {
			if p := sh.primary(); p != nil && c.alive(p.node) {
				have.addIDs(&sh.log)
			}
		}
	})
	for i, id := range ids {
		present[i] = have.has(id)
	}
	if len(unavailable) == 0 {
		return nil
	}
	// Only a shard that holds some of the events asked for makes the
	// read-back fail.
	asked := make([]bool, len(c.shards))
	for _, id := range ids {
		asked[shardOf(id, len(c.shards))] = true
	}
	unavailable = slices.DeleteFunc(unavailable, func(s int) bool { return !asked[s] })
	if len(unavailable) > 0 {
		slices.Sort(unavailable)
		return fmt.Errorf("read back %s: %d of %d shards have no active copy (shards %s: no_shard_available_action_exception), so their events cannot be read", m.spec.Name, len(unavailable), len(c.shards), joinInts(unavailable))
	}
	return nil
}

// joinInts writes numbers as "0,3,4".
func joinInts(xs []int) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = strconv.Itoa(x)
	}
	return strings.Join(parts, ",")
}

// shardOf routes an event to a shard by a hash of its id, as Elasticsearch
// routes by a hash of _id.
func shardOf(id uint64, shards int) int {
	x := id + 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	x ^= x >> 31
	return int(x % uint64(shards))
}
