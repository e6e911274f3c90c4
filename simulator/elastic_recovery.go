package simulator

import (
	"math"
	"time"
)

// Shard recoveries (issue 9.2): building a shard copy, from the primary on
// another node (peer recovery) or from the snapshot repository (restore),
// is throttled per node, not per cluster. Each node has one budget of
// indices.recovery.max_bytes_per_sec for all recovery traffic in and out of
// it ("This limit applies to each node separately"), restores are further
// limited by the repository's max_restore_bytes_per_sec per node, and the
// allocator lets a node take part in at most
// cluster.routing.allocation.node_concurrent_{incoming,outgoing}_recoveries
// peer recoveries and node_initial_primaries_recoveries restores at once
// (ThrottlingAllocationDecider). So shards restore in parallel across nodes,
// and several copies rebuilding onto one node share its budget.
//
// The model is a fluid one: an admitted recovery copies at its node's budget
// divided by the recoveries sharing the busier of its two ends; rates are
// recomputed whenever the set changes, and a wake-up is scheduled for the
// next completion. A recovery holds no event of its own.

// recovery is one shard copy being built.
type recovery struct {
	shard  *esShard
	target int // node index of the copy being built
	// source is the node of the primary it copies from, or -1 for a
	// restore from the snapshot repository.
	source  int
	size    float64 // bytes in all
	left    float64 // bytes still to copy
	active  bool    // admitted by the throttle
	rate    float64 // bytes per second while active
	done    bool    // copied, or abandoned: dropped at the next pass
	readyAt time.Duration
}

func (r *recovery) restore() bool { return r.source < 0 }

// startRecovery queues the building of a copy of sh on target; its data is
// ready once size bytes are copied and es.recovery_base has passed.
func (c *esCluster) startRecovery(sh *esShard, target, source int, size float64) *recovery {
	r := &recovery{shard: sh, target: target, source: source, size: size, left: size, readyAt: never}
	c.recoveries = append(c.recoveries, r)
	return r
}

// restartRecovery starts a recovery over from a new source (its primary
// moved, or a restore target died): the copied files are thrown away.
func (r *recovery) restart(target, source int) {
	r.target, r.source, r.left, r.active, r.rate = target, source, r.size, false, 0
}

// accountRecoveries charges the time since the last pass to every active
// recovery at the rate it had, and finishes those whose data is copied.
func (c *esCluster) accountRecoveries() {
	now := c.m.s.now
	elapsed := (now - c.recoveredAt).Seconds()
	c.recoveredAt = now
	live := c.recoveries[:0]
	for _, r := range c.recoveries {
		if r.done {
			continue
		}
		if r.active {
			r.left -= r.rate * elapsed
		}
		// A microsecond of copying left is rounding, not work.
		if r.active && r.left <= r.rate*1e-6 {
			r.left, r.active, r.done = 0, false, true
			r.readyAt = now + c.m.recoveryBase
			c.m.at(r.readyAt)
			continue
		}
		live = append(live, r)
	}
	for i := len(live); i < len(c.recoveries); i++ {
		c.recoveries[i] = nil
	}
	c.recoveries = live
}

// scheduleRecoveries admits queued recoveries within the per-node limits,
// sets every active recovery's rate and asks for a wake-up at the next
// completion.
func (c *esCluster) scheduleRecoveries() {
	m := c.m
	if len(c.recoveries) == 0 {
		return
	}
	n := len(c.nodes)
	if len(c.recoveryLoad) < 3*n {
		c.recoveryLoad = make([]int, 3*n)
	}
	incoming, outgoing, restoring := c.recoveryLoad[:n], c.recoveryLoad[n:2*n], c.recoveryLoad[2*n:3*n]
	clear(c.recoveryLoad)
	for _, r := range c.recoveries {
		if !r.active {
			continue
		}
		if r.restore() {
			restoring[r.target]++
		} else {
			incoming[r.target]++
			outgoing[r.source]++
		}
	}
	for _, r := range c.recoveries {
		if r.active || !c.alive(r.target) {
			continue
		}
		if r.restore() {
			if restoring[r.target] < m.initialPrimariesRecoveries {
				r.active = true
				restoring[r.target]++
			}
			continue
		}
		if incoming[r.target] < m.concurrentRecoveries && outgoing[r.source] < m.concurrentRecoveries {
			r.active = true
			incoming[r.target]++
			outgoing[r.source]++
		}
	}
	// Every recovery in or out of a node shares its budget.
	sharing := c.recoveryLoad[:n]
	clear(sharing)
	for _, r := range c.recoveries {
		if r.active {
			sharing[r.target]++
			if !r.restore() {
				sharing[r.source]++
			}
		}
	}
	next := never
	for _, r := range c.recoveries {
		if !r.active {
			continue
		}
		r.rate = 0
		switch {
		case r.restore():
			if c.alive(r.target) && c.repositoryReachable(r.target) {
				rate := m.recoveryRate
				if m.restoreRate > 0 {
					rate = min(rate, m.restoreRate)
				}
				r.rate = rate / float64(sharing[r.target])
			}
		case c.reach(r.source, r.target):
			r.rate = m.recoveryRate / float64(max(sharing[r.target], sharing[r.source]))
		}
		if r.rate > 0 {
			next = min(next, m.s.now+time.Duration(math.Ceil(r.left/r.rate*float64(time.Second))))
		}
	}
	if next != never && (c.recoveryWake <= m.s.now || next < c.recoveryWake) {
		c.recoveryWake = next
		m.at(next)
	}
}

// repositoryReachable reports whether node i reaches the snapshot
// repository the cluster restores from.
func (c *esCluster) repositoryReachable(i int) bool {
	if c.repository == nil {
		return false
	}
	return c.m.s.reachable(c.nodes[i].sn, c.repository)
}
