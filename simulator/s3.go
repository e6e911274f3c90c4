package simulator

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

var s3Parameters = []paramDef{
	duration("s3.put_latency", 100*time.Millisecond,
		"time an endpoint takes to store a small object once the request has arrived (first-byte latency of small S3 requests)",
		"https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance-guidelines.html"),
	duration("s3.sync_base", time.Second,
		"fixed cost of one cross-region sync pass: listing the source and destination buckets before copying (ListObjectsV2 pages of 1000 keys)",
		"https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html"),
	duration("s3.copy_per_object", 150*time.Millisecond,
		"time the sync job spends on one object: a GET from the source endpoint plus a PUT across regions (two put latencies and a cross-region round trip, rounded up)",
		"https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance-guidelines.html"),
	integer("s3.copy_concurrency", 10,
		"objects the sync job copies at once, like `aws s3 sync` (max_concurrent_requests)",
		"https://docs.aws.amazon.com/cli/latest/topic/s3-config.html"),
	float("s3.copy_bandwidth_mb", 100,
		"MB/s the sync job, or cross-region replication, moves across regions for snapshot data (a conservative share of an instance's inter-region bandwidth)",
		"https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-instance-network-bandwidth.html"),
	duration("s3.failover_check_timeout", 5*time.Second,
		"how long artifacts.failover waits for its target endpoint to answer a HeadBucket before the step fails and the clients stay where they were (a killed endpoint refuses at once); the live platform's bound on the same check (model assumption: an operator's look at the target, not an AWS number)",
		"https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html"),
	duration("s3.crr_lag_median", 5*time.Second,
		"median time cross-region replication (replication: crr) takes to copy an object after it is stored; each object's lag is drawn from a log-normal with this median. AWS: S3 Replication Time Control \"replicates most objects that you upload to Amazon S3 in seconds\"; 5 s is a reasoned reading of that",
		s3ReplicationTime),
	duration("s3.crr_lag_p9999", 15*time.Minute,
		"the 99.99th percentile of the cross-region replication lag: the long tail of a replication backlog (S3 RTC: \"99.99 percent of those objects within 15 minutes\"; without RTC AWS gives no bound)",
		s3ReplicationTime),
}

const s3ReplicationTime = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-time-control.html"

// z9999 is the standard normal quantile of 0.9999: a log-normal's p99.99
// is its median times exp(z9999 * sigma).
const z9999 = 3.719016485455709

// never is the time of something that will not happen unless the state
// changes.
const never = time.Duration(math.MaxInt64)

// s3Put is one artifact PUT in flight on an endpoint. It commits (the object
// exists) at commitAt and the client hears at replyAt; both are never while
// the endpoint is paused. committed means the commit step is settled: the
// object was stored, or it never will be (refused, or the endpoint died).
type s3Put struct {
	op        uint64
	issued    time.Duration
	arrival   time.Duration
	commitAt  time.Duration
	replyAt   time.Duration
	outcome   platform.Outcome
	committed bool
	replied   bool
}

// s3Endpoint is one region's S3. objects holds the ids of the artifacts
// stored on it directly, in commit order; the copies the sync job made from
// the primary region are the prefix synced of the primary's objects.
type s3Endpoint struct {
	node     *simNode
	region   string
	objects  []uint64
	snaps    []*esSnapshot
	puts     []s3Put // ring of PUTs not yet both committed and replied
	putsHead int
	commitAt int // index into puts of the next PUT to commit
	// lastCommit keeps commits in arrival order when jitter would reorder
	// them.
	lastCommit time.Duration

	// As a sync destination: how much of the primary it holds.
	synced      int
	syncedSnaps int
	pass        *syncPass

	// As a cross-region replication destination: the objects and
	// snapshots on their way here (a min-heap on due), those whose time
	// came while the source or this endpoint could not be reached, and
	// those that arrived.
	crr        []crrItem
	crrBlocked []crrItem
	replicated []uint64
	crrSnaps   []*esSnapshot
	// crrSnapAt keeps snapshots arriving in the order they were taken: a
	// snapshot refers to the files of the ones before it.
	crrSnapAt time.Duration

	// keys is the artifact bucket: the version of each key it holds
	// (artifacts.go); syncedPubs how much of the primary's publication
	// log the sync job copied here.
	keys       map[string]artifactCopy
	syncedPubs int
}

// crrItem is one object (op), snapshot or artifact publication
// replicating to an endpoint.
type crrItem struct {
	due  time.Duration
	seq  uint64
	op   uint64
	snap *esSnapshot
	pub  *publication
}

// syncPass is one copy from the primary to a destination endpoint.
type syncPass struct {
	dst        *s3Endpoint
	start      time.Duration
	objectsTo  int
	snapsTo    int
	pubsTo     int
	perBatch   time.Duration
	concurrent int
	base       time.Duration
}

type s3Model struct {
	s *Sim
	// presence is the read-back's bitset, shared by its batches.
	presence presenceBits
	spec     *platform.ServiceSpec
	timeout  time.Duration

	endpoints []*s3Endpoint
	primary   *s3Endpoint
	active    *s3Endpoint

	putLatency    time.Duration
	syncBase      time.Duration
	copyPerObject time.Duration
	concurrency   int
	bandwidth     float64 // bytes per second
	eventBytes    float64
	jitter        *jitter // each PUT's trip (net.jitter_max)
	lastReply     time.Duration
	syncTick      platform.HandlerFunc
	// failoverTimeout bounds a failover's look at a frozen target;
	// failovers are the looks under way.
	failoverTimeout time.Duration
	failovers       []*failoverCheck

	// Cross-region replication (replication: crr).
	crr      bool
	crrLag   *rand.Rand
	crrMu    float64 // log of the median lag in seconds
	crrSigma float64
	crrSeq   uint64

	artifacts artifactStore
}

func newS3Model(s *Sim, spec *platform.ServiceSpec) (model, error) {
	m := &s3Model{
		s:               s,
		spec:            spec,
		timeout:         s.workload(spec.Name).Timeout,
		putLatency:      s.params.duration("s3.put_latency"),
		syncBase:        s.params.duration("s3.sync_base"),
		copyPerObject:   s.params.duration("s3.copy_per_object"),
		concurrency:     max(1, s.params.integer("s3.copy_concurrency")),
		bandwidth:       s.params.float("s3.copy_bandwidth_mb") * 1e6,
		eventBytes:      float64(s.params.integer("es.event_bytes")),
		jitter:          s.newJitter("s3/jitter"),
		failoverTimeout: s.params.duration("s3.failover_check_timeout"),
		crr:             spec.Replication == platform.ReplicationCRR,
		crrLag:          s.rand("s3/crr/" + spec.Name),
	}
	if m.crr {
		median, p9999 := s.params.duration("s3.crr_lag_median"), s.params.duration("s3.crr_lag_p9999")
		if median <= 0 || p9999 < median {
			return nil, fmt.Errorf("build s3 service %q: s3.crr_lag_median must be positive and at most s3.crr_lag_p9999", spec.Name)
		}
		m.crrMu = math.Log(median.Seconds())
		m.crrSigma = math.Log(float64(p9999)/float64(median)) / z9999
	}
	for _, e := range spec.Endpoints {
		n, err := s.node(e.Name)
		if err != nil {
			return nil, fmt.Errorf("build s3 service %q: %w", spec.Name, err)
		}
		ep := &s3Endpoint{node: n, region: e.Region}
		m.endpoints = append(m.endpoints, ep)
		if e.Region == spec.PrimaryRegion {
			m.primary = ep
		}
	}
	if m.primary == nil {
		return nil, fmt.Errorf("build s3 service %q: primary region %q has no endpoint", spec.Name, spec.PrimaryRegion)
	}
	m.active = m.primary
	m.syncTick = m.syncAll
	m.initArtifacts()
	return m, nil
}

func (m *s3Model) service() string { return m.spec.Name }

func (m *s3Model) start() {
	if !m.crr && len(m.endpoints) > 1 && m.spec.SyncInterval > 0 {
		// A first pass runs as the scenario starts, as the live platform
		// syncs once before time 0; the cron schedule fires at its phase.
		interval := m.spec.SyncInterval.D()
		phase := jobPhase(m.s, m.spec.SyncPhase, interval, platform.SyncPhaseStream(m.spec.Name))
		if phase > 0 {
			m.s.after(0, platform.HandlerFunc(func(now time.Duration) { m.syncPasses(now) }))
		}
		m.s.after(phase, m.syncTick)
	}
}

// jobPhase is when a periodic job first fires: platform.JobPhase, shared
// with the live platform so that both draw the same phase for a seed.
func jobPhase(s *Sim, pinned *platform.Duration, interval time.Duration, stream string) time.Duration {
	return platform.JobPhase(s.cfg.Seed, pinned, interval, stream)
}

// endpoint returns the region's endpoint, or nil.
func (m *s3Model) endpoint(region string) *s3Endpoint {
	for _, e := range m.endpoints {
		if e.region == region {
			return e
		}
	}
	return nil
}

// write is an artifact PUT to the active endpoint, from a client in its
// region. due is the first of its commit, its answer and its timeout.
func (m *s3Model) write(op uint64) (due time.Duration) {
	e := m.active
	now := m.s.now
	one := m.s.clientLatency(e.region, e.node)
	one += m.jitter.draw()
	p := s3Put{op: op, issued: now, arrival: now + one}
	switch {
	case e.node.state == nodeDown:
		// Connection refused: the client knows it did not happen.
		p.outcome, p.committed = platform.Failed, true
		p.replyAt = m.monotone(now + 2*one)
	case e.node.state == nodePaused:
		p.outcome, p.commitAt, p.replyAt = platform.Acked, never, never
	case e.node.disk.failing():
		// The endpoint cannot store it and answers 500 InternalError: the
		// client knows it did not happen.
		p.outcome, p.committed = platform.Failed, true
		p.replyAt = m.monotone(now + 2*one + m.putLatency)
	default:
		p.outcome = platform.Acked
		p.commitAt = max(p.arrival+m.putLatency+e.node.disk.ioLatency(), e.lastCommit)
		e.lastCommit = p.commitAt
		p.replyAt = m.monotone(p.commitAt + one)
	}
	e.puts = append(e.puts, p)
	// A PUT settled at once has commitAt 0: the commit loop steps past it
	// at the next advance.
	return min(p.commitAt, p.replyAt, m.deadline(&p))
}

func (m *s3Model) monotone(t time.Duration) time.Duration {
	if t < m.lastReply {
		t = m.lastReply
	}
	m.lastReply = t
	return t
}

// deadline is when a PUT with no answer times out on the client.
func (m *s3Model) deadline(p *s3Put) time.Duration { return p.issued + m.timeout }

// advance commits, replicates and answers every PUT due by t. next is the
// first commit, replication or answer left.
func (m *s3Model) advance(t time.Duration) (next time.Duration) {
	next = never
	for _, e := range m.endpoints {
		next = min(next, m.commit(e, t))
	}
	if m.crr {
		next = min(next, m.replicate(t))
	}
	for {
		var best *s3Endpoint
		bestAt, bestIndex := never, 0
		for _, e := range m.endpoints {
			if i, at, ok := m.nextReply(e); ok && at < bestAt {
				best, bestAt, bestIndex = e, at, i
			}
		}
		if best == nil || bestAt > t {
			return min(next, bestAt)
		}
		p := &best.puts[bestIndex]
		if p.replyAt <= m.deadline(p) {
			m.s.complete(p.op, p.outcome, p.replyAt)
			if p.outcome == platform.Acked && len(m.s.watches) > 0 {
				m.s.acked(m.spec.Name, best.region, p.replyAt)
			}
		} else {
			m.s.complete(p.op, platform.Unknown, m.deadline(p))
		}
		p.replied = true
		m.trim(best)
	}
}

// commit stores every PUT of e whose commit time has come. next is the
// next commit's time (never if none waits).
func (m *s3Model) commit(e *s3Endpoint, t time.Duration) (next time.Duration) {
	for e.commitAt < len(e.puts) {
		p := &e.puts[e.commitAt]
		if !p.committed {
			if p.commitAt > t {
				return p.commitAt
			}
			e.objects = append(e.objects, p.op)
			p.committed = true
			if m.crr && e == m.primary {
				m.replicateLater(p.commitAt, p.op, nil, 0, nil)
			}
		}
		e.commitAt++
	}
	return never
}

// nextReply finds the oldest PUT of e still owed an answer.
func (m *s3Model) nextReply(e *s3Endpoint) (int, time.Duration, bool) {
	for i := e.putsHead; i < len(e.puts); i++ {
		p := &e.puts[i]
		if p.replied {
			continue
		}
		return i, min(p.replyAt, m.deadline(p)), true
	}
	return 0, 0, false
}

// trim drops PUTs that are both committed and answered from the ring's head,
// compacting the ring once most of it is dead.
func (m *s3Model) trim(e *s3Endpoint) {
	for e.putsHead < len(e.puts) && e.putsHead < e.commitAt && e.puts[e.putsHead].replied {
		e.putsHead++
	}
	if e.putsHead > 1024 && e.putsHead*2 > len(e.puts) {
		n := copy(e.puts, e.puts[e.putsHead:])
		e.puts = e.puts[:n]
		e.commitAt -= e.putsHead
		e.putsHead = 0
	}
}

func (m *s3Model) nodeChanged(n *simNode, c nodeChange) {
	e := m.byNode(n)
	if e == nil {
		return
	}
	m.failoversChanged(n)
	now := m.s.now
	switch c {
	case changeKilled, changeStopped:
		// PUTs not yet stored never happen; every open request breaks.
		for i := e.commitAt; i < len(e.puts); i++ {
			e.puts[i].committed = true
			e.puts[i].outcome = platform.Failed // never stored
		}
		e.commitAt = len(e.puts)
		for i := e.putsHead; i < len(e.puts); i++ {
			p := &e.puts[i]
			if !p.replied {
				m.s.complete(p.op, platform.Unknown, now)
				p.replied = true
			}
		}
		m.trim(e)
	case changePaused:
		for i := e.putsHead; i < len(e.puts); i++ {
			p := &e.puts[i]
			if !p.committed {
				p.commitAt = never
			}
			if !p.replied && p.outcome == platform.Acked {
				p.replyAt = never
			}
		}
	case changeResumed:
		last := time.Duration(0)
		for i := e.putsHead; i < len(e.puts); i++ {
			p := &e.puts[i]
			if !p.committed {
				p.commitAt = max(max(p.arrival, now)+m.putLatency, last)
				last = p.commitAt
				e.lastCommit = last
			}
			if !p.replied && p.replyAt == never {
				one := p.arrival - p.issued
				if p.committed {
					p.replyAt = now + one
				} else {
					p.replyAt = p.commitAt + one
				}
			}
		}
	}
	m.checkPasses()
	m.unblock()
}

func (m *s3Model) byNode(n *simNode) *s3Endpoint {
	for _, e := range m.endpoints {
		if e.node == n {
			return e
		}
	}
	return nil
}

func (m *s3Model) networkChanged() {
	m.checkPasses()
	m.unblock()
}

// --- the cross-region sync job ---

// syncAll starts a pass to every destination that has none running. It runs
// every SyncInterval, like a cron job.
func (m *s3Model) syncAll(now time.Duration) {
	m.syncPasses(now)
	m.s.after(m.spec.SyncInterval.D(), m.syncTick)
}

// syncPasses starts a pass to every destination that has none running.
func (m *s3Model) syncPasses(now time.Duration) {
	for _, dst := range m.endpoints {
		if dst == m.primary || dst.pass != nil || !m.s.reachable(m.primary.node, dst.node) {
			continue
		}
		objects := len(m.primary.objects) - dst.synced + len(m.artifacts.pubs) - dst.syncedPubs
		snaps := len(m.primary.snaps) - dst.syncedSnaps
		var snapBytes float64
		for _, sn := range m.primary.snaps[dst.syncedSnaps:] {
			snapBytes += float64(sn.newEvents) * m.eventBytes
		}
		batches := (objects + snaps + m.concurrency - 1) / m.concurrency
		took := m.syncBase + time.Duration(batches)*m.copyPerObject + time.Duration(snapBytes/m.bandwidth*float64(time.Second))
		pass := &syncPass{dst: dst, start: now, objectsTo: len(m.primary.objects), snapsTo: len(m.primary.snaps), pubsTo: len(m.artifacts.pubs),
			perBatch: m.copyPerObject, concurrent: m.concurrency, base: m.syncBase}
		dst.pass = pass
		m.s.after(took, platform.HandlerFunc(func(time.Duration) { m.finishPass(pass) }))
	}
}

func (m *s3Model) finishPass(p *syncPass) {
	if p.dst.pass != p {
		return // aborted
	}
	p.dst.pass = nil
	p.dst.synced = max(p.dst.synced, p.objectsTo)
	p.dst.syncedSnaps = max(p.dst.syncedSnaps, p.snapsTo)
	m.syncPubs(p.dst, p.pubsTo)
	m.s.emit(m.spec.Name, platform.EventSyncCompleted, p.dst.node.Name, p.dst.region)
}

// checkPasses aborts the passes whose source or destination is gone. The
// artifacts copied before that stay copied (the job copies object by object,
// artifact keys first, then the other objects); the snapshot objects, copied
// last, do not.
func (m *s3Model) checkPasses() {
	for _, dst := range m.endpoints {
		p := dst.pass
		if p == nil || m.s.reachable(m.primary.node, dst.node) {
			continue
		}
		dst.pass = nil
		if elapsed := m.s.now - p.start - p.base; elapsed > 0 {
			copied := int(elapsed/p.perBatch) * p.concurrent
			keys := min(copied, p.pubsTo-dst.syncedPubs)
			m.syncPubs(dst, dst.syncedPubs+keys)
			copied -= keys
			dst.synced = max(dst.synced, min(p.objectsTo, dst.synced+copied))
		}
	}
}

// --- runbook and read-back ---

func (m *s3Model) role(name string) ([]string, error) {
	return nil, fmt.Errorf("%w: s3 service %q has no role %q", platform.ErrUnknownRole, m.spec.Name, name)
}

func (m *s3Model) action(a platform.Action, done platform.ActionDone) error {
	if a.Action != platform.ActionArtifactsFailover {
		if a.Action != "" {
			return m.artifactAction(a, done)
		}
		return fmt.Errorf("%w: %q on s3 service %q", platform.ErrUnknownAction, a.Action, m.spec.Name)
	}
	e := m.endpoint(a.Params["region"])
	if e == nil {
		return fmt.Errorf("fail over artifacts: s3 service %q has no endpoint in region %q", m.spec.Name, a.Params["region"])
	}
	// The operator looks at the target (HeadBucket) before switching, as
	// the live platform does: a killed endpoint refuses at once; a frozen
	// one answers when it resumes, or the look gives up after
	// s3.failover_check_timeout.
	f := &failoverCheck{name: a.Name, target: e, done: done}
	if e.node.state == nodePaused {
		m.failovers = append(m.failovers, f)
		m.s.after(m.failoverTimeout, platform.HandlerFunc(func(time.Duration) { m.settleFailover(f) }))
		return nil
	}
	m.s.after(0, platform.HandlerFunc(func(time.Duration) { m.settleFailover(f) }))
	return nil
}

// failoverCheck is an artifacts.failover waiting for its target to answer.
type failoverCheck struct {
	name    string
	target  *s3Endpoint
	done    platform.ActionDone
	settled bool
}

// settleFailover ends a failover's look at its target now: the clients
// switch if it answers; otherwise the step fails, naming the endpoint, and
// the clients stay where they were.
func (m *s3Model) settleFailover(f *failoverCheck) {
	if f.settled {
		return
	}
	f.settled = true
	m.failovers = slices.DeleteFunc(m.failovers, func(g *failoverCheck) bool { return g == f })
	now, e := m.s.now, f.target
	if !m.s.up(e.node) {
		f.done.ActionDone(f.name, fmt.Errorf("fail over %s to %s: its endpoint %s does not answer, so the clients stay on %s (%s)",
			m.spec.Name, e.region, e.node.Name, m.active.region, m.endpointTrouble(e)), now)
		return
	}
	m.active = e
	m.s.emit(m.spec.Name, platform.EventEndpointFailedOver, e.node.Name, e.region)
	f.done.ActionDone(f.name, nil, now)
}

// failoversChanged settles the failovers waiting on n: it answers again,
// or it died and the look's connection broke.
func (m *s3Model) failoversChanged(n *simNode) {
	for _, f := range slices.Clone(m.failovers) {
		if f.target.node == n && n.state != nodePaused {
			m.settleFailover(f)
		}
	}
}

// readBack answers from the active endpoint: what was written to it and, if
// it is not the primary, what the sync job copied to it. An active endpoint
// that does not answer (the failover failed, or pointed at a lost region)
// fails the read-back, naming it.
func (m *s3Model) readBack(ids []uint64, present []bool) error {
	if !m.s.up(m.active.node) {
		return fmt.Errorf("read back %s: the endpoint its clients use, %s in %s, does not answer (did a recovery step fail, or fail over to a lost region?): %s",
			m.spec.Name, m.active.node.Name, m.active.region, m.endpointTrouble(m.active))
	}
	// One bit per object id, shared by the read-back's batches: a map
	// built on every batch cost minutes and gigabytes at 10^8 puts.
	have := m.presence.get(m.s, func(have *presenceBits) {
		for _, id := range m.active.objects {
			have.set(id)
		}
		for _, id := range m.active.replicated {
			have.set(id)
		}
		if m.active != m.primary {
			for _, id := range m.primary.objects[:m.active.synced] {
				have.set(id)
			}
		}
	})
	for i, id := range ids {
		present[i] = have.has(id)
	}
	return nil
}

// --- the snapshot repository, for the elasticsearch model ---

// putSnapshot stores a finished snapshot in the bucket of the endpoint
// node. It reports false when that endpoint does not answer from node.
func (m *s3Model) putSnapshot(endpoint, from *simNode, snap *esSnapshot) bool {
	e := m.byNode(endpoint)
	if e == nil || !m.s.reachable(from, e.node) {
		return false
	}
	e.snaps = append(e.snaps, snap)
	if m.crr && e == m.primary {
		m.replicateLater(m.s.now, 0, snap, float64(snap.newEvents)*m.eventBytes, nil)
	}
	return true
}

// snapshots lists the snapshots in region's bucket (written there, copied
// by the sync job or replicated); ok is false when the endpoint is gone.
func (m *s3Model) snapshots(region string) (snaps []*esSnapshot, ok bool) {
	e := m.endpoint(region)
	if e == nil || !m.s.up(e.node) {
		return nil, false
	}
	if e == m.primary {
		return e.snaps, true
	}
	snaps = append(append([]*esSnapshot(nil), m.primary.snaps[:e.syncedSnaps]...), e.snaps...)
	return append(snaps, e.crrSnaps...), true
}

// latestSnapshot is the newest snapshot in region's bucket, or nil; ok is
// false when the endpoint is gone.
func (m *s3Model) latestSnapshot(region string) (snap *esSnapshot, ok bool) {
	snaps, ok := m.snapshots(region)
	for _, sn := range snaps {
		if snap == nil || sn.takenAt > snap.takenAt {
			snap = sn
		}
	}
	return snap, ok
}

// snapshotEndpoint is the node of region's endpoint, or nil.
func (m *s3Model) snapshotEndpoint(region string) *simNode {
	if e := m.endpoint(region); e != nil {
		return e.node
	}
	return nil
}

// --- cross-region replication (replication: crr) ---
//
// Each object stored in the primary region is copied to every other
// region on its own, after a lag drawn from a log-normal (seconds usually,
// a tail of minutes: s3.crr_lag_median, s3.crr_lag_p9999). An object whose
// time comes while its source or destination cannot be reached waits, as
// S3 keeps it PENDING, and is copied once both answer again; so the loss of
// the primary region loses exactly the objects still pending.

// replicateLater queues an object (op), a snapshot (with its bytes) or an
// artifact publication for every other endpoint, stored at the given time.
func (m *s3Model) replicateLater(stored time.Duration, op uint64, snap *esSnapshot, bytes float64, pub *publication) {
	for _, dst := range m.endpoints {
		if dst == m.primary {
			continue
		}
		due := stored + m.drawLag()
		if snap != nil {
			due = max(due+time.Duration(bytes/m.bandwidth*float64(time.Second)), dst.crrSnapAt)
			dst.crrSnapAt = due
		}
		m.crrSeq++
		dst.pushCRR(crrItem{due: due, seq: m.crrSeq, op: op, snap: snap, pub: pub})
	}
}

// drawLag draws one object's replication lag.
func (m *s3Model) drawLag() time.Duration {
	lag := math.Exp(m.crrMu + m.crrSigma*m.crrLag.NormFloat64())
	// Clamped to a million seconds only so that a draw far out in the tail
	// cannot overflow a time.Duration; no parameter reaches it.
	return time.Duration(min(lag, 1e6) * float64(time.Second))
}

// replicate lands every replication due by t whose source and destination
// answer; the others wait for them. next is the next one's due time.
func (m *s3Model) replicate(t time.Duration) (next time.Duration) {
	next = never
	for _, dst := range m.endpoints {
		for len(dst.crr) > 0 && dst.crr[0].due <= t {
			it := dst.popCRR()
			if !m.s.reachable(m.primary.node, dst.node) {
				dst.crrBlocked = append(dst.crrBlocked, it)
				continue
			}
			switch {
			case it.pub != nil:
				dst.apply(*it.pub)
			case it.snap != nil:
				dst.crrSnaps = append(dst.crrSnaps, it.snap)
			default:
				dst.replicated = append(dst.replicated, it.op)
			}
		}
		if len(dst.crr) > 0 {
			next = min(next, dst.crr[0].due)
		}
	}
	return next
}

// unblock requeues, as due now, the replications that waited for an
// endpoint that answers again.
func (m *s3Model) unblock() {
	if !m.crr {
		return
	}
	for _, dst := range m.endpoints {
		if len(dst.crrBlocked) == 0 || !m.s.reachable(m.primary.node, dst.node) {
			continue
		}
		for _, it := range dst.crrBlocked {
			it.due = m.s.now
			dst.pushCRR(it)
		}
		dst.crrBlocked = dst.crrBlocked[:0]
	}
}

func (e *s3Endpoint) crrLess(i, j int) bool {
	a, b := &e.crr[i], &e.crr[j]
	if a.due != b.due {
		return a.due < b.due
	}
	return a.seq < b.seq
}

func (e *s3Endpoint) pushCRR(it crrItem) {
	e.crr = append(e.crr, it)
	for i := len(e.crr) - 1; i > 0; {
		parent := (i - 1) / 2
		if !e.crrLess(i, parent) {
			break
		}
		e.crr[i], e.crr[parent] = e.crr[parent], e.crr[i]
		i = parent
	}
}

func (e *s3Endpoint) popCRR() crrItem {
	top := e.crr[0]
	last := len(e.crr) - 1
	e.crr[0] = e.crr[last]
	e.crr = e.crr[:last]
	for i := 0; ; {
		l, r, small := 2*i+1, 2*i+2, i
		if l < last && e.crrLess(l, small) {
			small = l
		}
		if r < last && e.crrLess(r, small) {
			small = r
		}
		if small == i {
			break
		}
		e.crr[i], e.crr[small] = e.crr[small], e.crr[i]
		i = small
	}
	return top
}
