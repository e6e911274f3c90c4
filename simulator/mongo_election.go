package simulator

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

// settle brings the replica set to a consistent state after anything
// changed (a fault, an election, a reconfig): who is primary, who
// replicates from whom, rollbacks, election and step-down timers, the
// driver's view, and the outcome of every write still in flight.
func (m *mongoModel) settle() {
	now := m.s.now
	m.materializeAll()

	newest := m.newestPrimary()
	// An older primary that hears of a newer term steps down at once
	// ("Stepping down from primary, because a new term has begun").
	for _, x := range m.members {
		if x.isPrimary && x != newest && m.s.up(x.node) && m.hearsNewerTerm(x) {
			m.demote(x)
		}
	}
	prev := m.primary
	m.primary = newest

	// A primary that cannot see a majority of voters steps down once it has
	// heard from none for an election timeout (checkMemberTimeouts,
	// https://github.com/mongodb/mongo/blob/8f1f561d203201f9f19e832374813f46cfe0dc29/src/mongo/db/repl/topology_coordinator.cpp#L1361-L1378).
	for _, x := range m.members {
		if !x.isPrimary || !m.s.up(x.node) {
			continue
		}
		if m.seesMajority(x) {
			if x.majorityLost {
				x.majorityLost = false
				x.stepDownSeq++
			}
			continue
		}
		if !x.majorityLost {
			x.majorityLost = true
			x.stepDownSeq++
			seq, p := x.stepDownSeq, x
			m.s.after(m.set.electionTimeout, platform.HandlerFunc(func(time.Duration) {
				if p.stepDownSeq == seq && p.isPrimary && m.s.up(p.node) && !m.seesMajority(p) {
					m.materializeAll()
					m.demote(p)
					m.settle()
				}
			}))
		}
	}

	// Secondaries follow the newest primary they can reach, rolling back
	// what it does not have; one that comes back to find its newest write
	// gone from the primary's oplog is too stale to catch up. (A member in
	// initial sync buffered the oplog since its clone began.)
	for _, x := range m.members {
		wasLive := x.live
		if x.isPrimary || x.log == nil || !m.s.up(x.node) || !x.inConfig || x.stale {
			x.live = false
			continue
		}
		p := m.syncSource(x)
		if p == nil {
			if wasLive {
				x.lastHeard = m.lastHeard(x)
			}
			x.live = false
			continue
		}
		if !wasLive && !x.syncing && m.tooStale(x, p) {
			m.goStale(x, p)
			continue
		}
		if x.log != p.log {
			m.switchBranch(x, p.log)
			wasLive = false
		}
		lat := m.s.latency(p.node, x.node)
		if !wasLive || lat != x.lat {
			x.live, x.lat, x.epochAt, x.epochIdx = true, lat, now, x.applied
		}
		x.lastHeard = now
	}

	// Election timers: every electable member that hears from no primary.
	for _, x := range m.members {
		switch {
		case !m.electable(x) || x.live:
			if x.timerArmed {
				x.timerSeq++
				x.timerArmed = false
			}
		case !x.timerArmed:
			m.armTimer(x, x.lastHeard)
		}
	}
	m.schedulePriorityTakeover()
	m.trackCatchUp(newest)

	if newest != prev {
		switch {
		case newest == nil:
			name := ""
			if prev != nil {
				name = prev.name()
			}
			m.s.emit(m.spec.Name, platform.EventPrimaryLost, name, "")
		default:
			m.s.emit(m.spec.Name, platform.EventPrimaryElected, newest.name(), fmt.Sprintf("term %d", newest.log.term))
		}
	}
	m.scheduleStepDown()
	if newest != nil && m.clientPrimary != newest {
		m.scheduleDiscovery(newest)
	}
	m.checkRedundancy()
	m.replan()
	for _, r := range m.readers {
		r.replan()
	}
}

func (m *mongoModel) newestPrimary() *mongoMember {
	var newest *mongoMember
	for _, x := range m.members {
		if x.isPrimary && x.inConfig && m.s.up(x.node) && (newest == nil || x.log.term > newest.log.term) {
			newest = x
		}
	}
	return newest
}

func (m *mongoModel) hearsNewerTerm(x *mongoMember) bool {
	for _, y := range m.members {
		if y != x && y.log != nil && y.log.term > x.log.term && m.s.reachable(x.node, y.node) {
			return true
		}
	}
	return false
}

// seesMajority reports whether x reaches a majority of the voters.
func (m *mongoModel) seesMajority(x *mongoMember) bool {
	n := 0
	for _, y := range m.members {
		if m.votesNow(y) && m.s.reachable(x.node, y.node) {
			n++
		}
	}
	return n >= m.majority()
}

// syncSource is the newest-term running primary x can reach.
func (m *mongoModel) syncSource(x *mongoMember) *mongoMember {
	var best *mongoMember
	for _, p := range m.members {
		if p.isPrimary && p.inConfig && m.s.reachable(x.node, p.node) && (best == nil || p.log.term > best.log.term) {
			best = p
		}
	}
	return best
}

// switchBranch moves x onto branch l, rolling back the entries of x that l
// does not have (https://www.mongodb.com/docs/manual/core/replica-set-rollbacks/).
func (m *mongoModel) switchBranch(x *mongoMember, l *oplog) {
	c := commonPrefix(x.log, x.applied, l, l.len())
	if x.applied > c {
		m.s.emit(m.spec.Name, platform.EventRollback, x.name(), fmt.Sprintf("%d writes", x.applied-c))
	}
	x.log, x.applied = l, c
	x.ackLog, x.ackIdx = nil, 0
}

// demote makes a primary a secondary: it takes no more writes and the
// operations in progress are killed.
func (m *mongoModel) demote(x *mongoMember) {
	x.isPrimary = false
	x.majorityLost = false
	x.stepDownSeq++
	x.log.truncateAfter(m.s.now)
	if m.clientPrimary == x {
		m.startSelecting(m.s.now)
	}
}

// lastHeard is when x last heard from the primary it just lost: its last
// heartbeat response or its last oplog batch, whichever is later
// (_cancelAndRescheduleElectionTimeout_inlock,
// https://github.com/mongodb/mongo/blob/8f1f561d203201f9f19e832374813f46cfe0dc29/src/mongo/db/repl/replication_coordinator_impl_heartbeat.cpp#L1291-L1329).
func (m *mongoModel) lastHeard(x *mongoMember) time.Duration {
	now := m.s.now
	hb := m.set.heartbeatInterval
	last := x.epochAt
	if hb > 0 && now >= x.hbPhase {
		last = max(last, now-(now-x.hbPhase)%hb)
	}
	if x.applied > x.epochIdx {
		last = max(last, m.appliedAt(x, x.applied-1))
	}
	return min(last, now)
}

func (m *mongoModel) electable(x *mongoMember) bool {
	return x.inConfig && !x.syncing && !x.stale && !x.isPrimary && !x.arbiter && x.priority > 0 && x.votes > 0 && x.log != nil && m.s.up(x.node)
}

func (m *mongoModel) electionOffset() time.Duration {
	limit := int64(float64(m.set.electionTimeout) * m.set.offsetFraction)
	if limit <= 0 {
		return 0
	}
	return time.Duration(m.electionRand.Int64N(limit))
}

// armTimer starts x's election timer: election_timeout after it last heard
// from a primary, plus the random offset.
func (m *mongoModel) armTimer(x *mongoMember, from time.Duration) {
	x.timerSeq++
	x.timerArmed = true
	seq := x.timerSeq
	at := max(from+m.set.electionTimeout+m.electionOffset(), m.s.now, x.frozenUntil)
	m.s.timer(at, platform.HandlerFunc(func(time.Duration) {
		if x.timerSeq != seq {
			return
		}
		x.timerArmed = false
		if !m.electable(x) || x.live || x.frozenUntil > m.s.now {
			m.settle()
			return
		}
		m.runElection(x, "electionTimeout", false)
	}))
}

// schedulePriorityTakeover lets a caught-up secondary with a higher
// priority than the primary take over after (rank+1)*election_timeout plus
// the offset, rank 0 being the highest priority
// (https://github.com/mongodb/mongo/blob/8f1f561d203201f9f19e832374813f46cfe0dc29/src/mongo/db/repl/repl_set_config.cpp#L752-L756).
func (m *mongoModel) schedulePriorityTakeover() {
	p := m.primary
	if p == nil {
		return
	}
	for _, x := range m.members {
		if x.takeoverArmed || !m.electable(x) || !x.live || x.priority <= p.priority {
			continue
		}
		rank := 0
		for _, y := range m.members {
			if y.inConfig && y.priority > x.priority {
				rank++
			}
		}
		x.takeoverArmed = true
		delay := time.Duration(rank+1)*m.set.electionTimeout + m.electionOffset()
		m.s.after(max(delay, x.frozenUntil-m.s.now), platform.HandlerFunc(func(time.Duration) {
			x.takeoverArmed = false
			m.materializeAll()
			cur := m.primary
			if cur == nil || !m.electable(x) || !x.live || x.priority <= cur.priority || x.frozenUntil > m.s.now {
				m.settle()
				return
			}
			var newest, mine time.Duration
			if cur.applied > 0 {
				newest = cur.log.entry(cur.applied - 1).at
			}
			if x.applied > 0 {
				mine = x.log.entry(x.applied - 1).at
			}
			if newest-mine > m.set.takeoverFreshness {
				m.settle()
				return
			}
			m.runElection(x, "priorityTakeover", false)
		}))
	}
}

// runElection has x stand: it needs the votes of a majority of voters it
// can reach, and a voter grants only to a candidate at least as up to date
// as itself. The dry run and the real round each cost a round trip to the
// farthest voter it needs (skipped dry run for a hand-off).
func (m *mongoModel) runElection(x *mongoMember, reason string, skipDryRun bool) {
	m.materializeAll()
	need := m.majority()
	reachable, granted := 0, 0
	var lats []time.Duration
	for _, y := range m.members {
		if !m.votesNow(y) || !m.s.reachable(x.node, y.node) {
			continue
		}
		reachable++
		// An arbiter (or a member still cloning its data) holds no oplog
		// to compare: it grants any candidate of the current config.
		if y == x || y.log == nil || m.fresher(x, y) >= 0 {
			granted++
			if y != x {
				lats = append(lats, m.s.latency(x.node, y.node))
			}
		}
	}
	if reachable < need || granted < need || (x.votes > 0 && need-1 > len(lats)) {
		if reason == "electionTimeout" {
			m.armTimer(x, m.s.now)
		}
		m.settle()
		return
	}
	slices.Sort(lats)
	var rtt time.Duration
	if need >= 2 {
		rtt = 2 * lats[need-2]
	}
	rounds := time.Duration(2)
	if skipDryRun {
		rounds = 1
	}
	x.electSeq++
	seq := x.electSeq
	m.s.after(rounds*rtt+m.set.stepUp, platform.HandlerFunc(func(time.Duration) {
		if x.electSeq == seq {
			m.becomePrimary(x)
		}
	}))
}

// becomePrimary installs x as primary of a new term, after catching up
// from any reachable member that has more of the same history.
func (m *mongoModel) becomePrimary(x *mongoMember) {
	m.materializeAll()
	if !m.s.up(x.node) || !x.inConfig || x.isPrimary {
		m.settle()
		return
	}
	for _, y := range m.members {
		if y != x && y.log == x.log && y.applied > x.applied && m.s.reachable(x.node, y.node) {
			x.applied = y.applied
		}
	}
	m.term++
	x.log = newBranch(x.log, x.applied, m.term, x)
	x.isPrimary, x.live, x.frozenUntil = true, false, 0
	x.timerSeq++
	x.timerArmed = false
	m.settle()
	hooks := m.electedHooks
	m.electedHooks = nil
	for _, h := range hooks {
		h(x)
	}
}

// successor is the electable secondary a primary p stepping down (on
// request or at shutdown) hands over to, and when p learns it can: once the
// first n entries of p's log are majority-replicated and an electable
// secondary has applied them all, the highest-priority such secondary
// (TopologyCoordinator::isSafeToStepDown and chooseElectionHandoffCandidate,
// https://github.com/mongodb/mongo/blob/8f1f561d203201f9f19e832374813f46cfe0dc29/src/mongo/db/repl/topology_coordinator.cpp).
// It returns nil and mongoNever when no secondary can catch up under the
// current states; the time may lie in the future.
func (m *mongoModel) successor(p *mongoMember, n int) (*mongoMember, time.Duration) {
	now := m.s.now
	committed := now
	if n > 0 {
		committed = max(now, m.majorityKnownAt(p.log, n-1))
	}
	if committed == mongoNever {
		return nil, mongoNever
	}
	var best *mongoMember
	bestAt := mongoNever
	for _, c := range m.members {
		if c == p || !m.electable(c) || c.frozenUntil > now || !c.live || c.log != p.log {
			continue
		}
		at := committed
		if n > c.applied {
			at = max(at, m.appliedAt(c, n-1)+c.lat)
		}
		if at < bestAt || (at == bestAt && c.priority > best.priority) {
			best, bestAt = c, at
		}
	}
	return best, bestAt
}

// handOffTo steps primary p down now and has y stand once p learns, at
// caught, that y holds p's first n entries: p sends it replSetStepUp, and y
// wins in one voting round trip with no dry run (election hand-off,
// https://github.com/mongodb/mongo/blob/8f1f561d203201f9f19e832374813f46cfe0dc29/src/mongo/db/repl/replication_coordinator_impl.cpp#L3296-L3308).
func (m *mongoModel) handOffTo(p, y *mongoMember, n int, caught time.Duration) {
	m.demote(p)
	var rtt time.Duration
	var lats []time.Duration
	for _, v := range m.members {
		// The stepping-down primary still answers (even when shutting down).
		if v != y && m.votesNow(v) && (v == p || m.s.reachable(y.node, v.node)) {
			lats = append(lats, m.s.latency(y.node, v.node))
		}
	}
	slices.Sort(lats)
	if need := m.majority(); need >= 2 && len(lats) >= need-1 {
		rtt = 2 * lats[need-2]
	}
	y.electSeq++
	seq, from := y.electSeq, p.log
	m.s.timer(caught+m.s.latency(p.node, y.node)+rtt+m.set.stepUp, platform.HandlerFunc(func(time.Duration) {
		if y.electSeq != seq {
			return
		}
		if y.log == from && y.applied < n {
			y.applied = n
		}
		m.becomePrimary(y)
	}))
}

// replan recomputes the outcome of every write not yet delivered under the
// states settle just established.
func (m *mongoModel) replan() {
	now := m.s.now
	all := append(m.replanned[m.replannedHead:len(m.replanned):len(m.replanned)], m.sent.drain()...)
	kept := all[:0]
	var retry []mongoSelecting
	for _, w := range all {
		deadline := w.invoke + m.timeout
		switch {
		case w.outcome == platform.Acked && w.ackAt <= now:
			// The answer is already on its way to the client.
		case w.log == nil:
		case w.idx >= w.log.len():
			// Never reached the primary.
			switch o := w.log.owner; {
			case o.node.state == nodeDown:
				w.outcome, w.done = platform.Unknown, now
			case o.node.state == nodePaused:
				w.outcome, w.done = platform.Unknown, deadline
			default:
				retry = append(retry, mongoSelecting{op: w.op, invoke: w.invoke})
				continue
			}
		case w.log.owner.node.state == nodeDown:
			w.outcome, w.done = platform.Unknown, now
		case w.log.owner.node.state == nodePaused:
			w.outcome, w.done, w.ackAt = platform.Unknown, deadline, mongoNever
		case !w.log.owner.isPrimary, w.log.owner.steppingDown:
			// Step-down (also an attempt still waiting for a secondary)
			// kills the operations in progress
			// (https://www.mongodb.com/docs/manual/reference/command/replSetStepDown/#writes-during-stepdown).
			w.outcome, w.done, w.ackAt = platform.Unknown, now, mongoNever
		default:
			m.plan(&w)
		}
		kept = append(kept, w)
	}
	slices.SortStableFunc(kept, func(a, b mongoWrite) int {
		return cmp.Compare(a.done, b.done)
	})
	m.replanned, m.replannedHead = kept, 0
	if len(retry) > 0 {
		waiting := append(retry, m.selecting.drain()...)
		slices.SortStableFunc(waiting, func(a, b mongoSelecting) int {
			return cmp.Compare(a.invoke, b.invoke)
		})
		for _, w := range waiting {
			m.selecting.push(w)
		}
		if m.clientPrimary != nil {
			// A retry goes through server selection again.
			m.startSelecting(now)
		}
	}
}

// checkRedundancy emits redundancy-restored when the set again has as many
// healthy data-bearing members as it was built with: the primary, and
// secondaries replicating from it within mongo.caught_up_lag. The time to
// full redundancy thus runs to the last member caught up.
func (m *mongoModel) checkRedundancy() {
	healthy := 0
	for _, x := range m.members {
		if x.inConfig && !x.arbiter && !x.syncing && !x.stale && m.s.up(x.node) && (x.isPrimary || (x.live && x.caughtUp)) {
			healthy++
		}
	}
	switch {
	case healthy < m.fullCount:
		m.degraded = true
	case m.degraded:
		m.degraded = false
		m.s.emit(m.spec.Name, platform.EventRedundancyRestored, "", fmt.Sprintf("%d members", healthy))
	}
}
