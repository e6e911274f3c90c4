package simulator

import (
	"fmt"
	"slices"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

// How a member gets its data (the `source` of add-member and
// resync-member).
const (
	sourceInitialSync = "initial-sync"
	sourceBackup      = "backup"
)

// --- the oplog window ---

// oplogStart is the index of the oldest entry p's oplog still holds now.
// The oplog keeps its newest mongo.oplog_size_mb worth of entries, and
// also every entry younger than mongo.oplog_min_retention, and it never
// drops the majority commit point ("MongoDB allows the oplog to grow past
// its configured size limit to avoid deleting the majority commit point",
// https://www.mongodb.com/docs/manual/core/replica-set-oplog/#oplog-size).
// So how long a member may be away follows the write rate, and a set that
// cannot commit (a PSA set with its secondary down) keeps everything.
func (m *mongoModel) oplogStart(p *mongoMember) int {
	now := m.s.now
	start := p.log.countAtOrBefore(now) - m.oplogEntries
	if start <= 0 {
		return 0
	}
	if r := m.set.oplogMinRetention; r > 0 {
		start = min(start, p.log.countAtOrBefore(now-r))
	}
	return min(start, m.commitPoint(p))
}

// commitPoint is how many entries of p's log a write majority of the
// voting data-bearing members have applied.
func (m *mongoModel) commitPoint(p *mongoMember) int {
	var positions []int
	for _, x := range m.members {
		if !x.inConfig || x.syncing || x.votes == 0 || x.arbiter || x.log == nil {
			continue
		}
		pos := x.applied
		if x.log != p.log {
			pos = commonPrefix(x.log, x.applied, p.log, p.log.len())
		}
		positions = append(positions, pos)
	}
	k := m.writeMajority()
	if k < 1 || k > len(positions) {
		return 0
	}
	slices.Sort(positions)
	return positions[len(positions)-k]
}

// tooStale reports whether x, about to replicate from p again, finds its
// newest write (or, on another branch, its common point with p) gone from
// p's oplog: MongoDB's RS102, "too stale to catch up"
// (https://www.mongodb.com/docs/manual/tutorial/resync-replica-set-member/).
func (m *mongoModel) tooStale(x, p *mongoMember) bool {
	pos := x.applied
	if x.log != p.log {
		pos = commonPrefix(x.log, x.applied, p.log, p.log.len())
	}
	return pos < m.oplogStart(p)
}

// goStale puts x in RECOVERING for good: it votes, but it neither
// replicates nor acknowledges nor can be elected until a resync.
func (m *mongoModel) goStale(x, p *mongoMember) {
	x.stale, x.live, x.caughtUp = true, false, false
	last := "none"
	if x.applied > 0 {
		last = x.log.entry(x.applied - 1).at.Round(time.Millisecond).String()
	}
	oldest := p.log.entry(m.oplogStart(p)).at.Round(time.Millisecond)
	m.s.emit(m.spec.Name, platform.EventMemberStale, x.name(),
		fmt.Sprintf("its newest write is from %s; %s's oplog starts at %v", last, p.name(), oldest))
}

// --- initial sync and restore from backup ---

// wipe empties x's data for an initial sync or a restore: it is in STARTUP2
// (syncing) with no log, and its catch-up is reported once it has data.
func (m *mongoModel) wipe(x *mongoMember) {
	x.log, x.applied, x.ackLog, x.ackIdx = nil, 0, nil, 0
	x.live, x.stale, x.caughtUp = false, false, false
	x.syncing, x.minValid, x.reportCatchUp = true, 0, true
	x.syncSeq++
	m.recount()
}

// seed gives x its data from source (sourceInitialSync or sourceBackup);
// done is told when x leaves STARTUP2 (member-added) or the sync failed.
func (m *mongoModel) seed(x *mongoMember, source string, done func(error)) {
	if source == sourceBackup {
		m.restoreBackup(x, done)
		return
	}
	m.initialSync(x, done, "")
}

// initialSync clones the primary's data onto x, mongo.initial_sync_base
// plus mongo.initial_sync_per_document for each document the primary holds
// when the clone starts, while the oplog written meanwhile is buffered; x
// then applies that oplog and leaves STARTUP2 once it has applied what the
// primary held at the end of the clone (minValid)
// (https://www.mongodb.com/docs/manual/core/replica-set-sync/#initial-sync).
// why, if not empty, says why this sync replaced another way of seeding.
func (m *mongoModel) initialSync(x *mongoMember, done func(error), why string) {
	p := m.primary
	if p == nil {
		done(fmt.Errorf("sync member %q of %s: no primary to sync from", x.name(), m.spec.Name))
		return
	}
	m.materializeAll()
	m.wipe(x)
	seq := x.syncSeq
	from, docs := p.log, p.log.countAtOrBefore(m.s.now)
	m.s.after(m.set.initialSyncBase+time.Duration(docs)*m.set.initialSyncPerDoc, platform.HandlerFunc(func(time.Duration) {
		if x.syncSeq != seq {
			return
		}
		detail := fmt.Sprintf("initial sync of %d documents", docs)
		if why != "" {
			detail += " (" + why + ")"
		}
		m.cloned(x, from, docs, detail, done)
	}))
	m.settle()
}

// cloned is the end of the copy part of a sync: x holds the first docs
// entries of branch from and catches up from the primary's oplog.
func (m *mongoModel) cloned(x *mongoMember, from *oplog, docs int, detail string, done func(error)) {
	m.materializeAll()
	src := m.primary
	switch {
	case !m.s.up(x.node):
		done(fmt.Errorf("sync member %q of %s: it went down during the sync", x.name(), m.spec.Name))
		return
	case src == nil:
		done(fmt.Errorf("sync member %q of %s: no primary to sync from", x.name(), m.spec.Name))
		return
	}
	x.log, x.applied = src.log, docs
	if src.log != from {
		x.applied = commonPrefix(from, docs, src.log, src.log.len())
	}
	x.minValid = src.log.countAtOrBefore(m.s.now)
	x.syncDone, x.syncDetail = done, detail
	m.settle()
}

// scheduleSyncEnd plans the moment x, applying the oplog it buffered while
// it cloned, reaches minValid and leaves STARTUP2.
func (m *mongoModel) scheduleSyncEnd(x *mongoMember) {
	x.syncCheck++
	check := x.syncCheck
	at := m.s.now
	if x.minValid > x.applied {
		at = m.appliedAt(x, x.minValid-1)
	}
	m.s.timer(at, platform.HandlerFunc(func(time.Duration) {
		if x.syncCheck != check || !x.syncing || !x.live {
			return
		}
		m.materializeAll()
		if x.applied < x.minValid {
			m.settle()
			return
		}
		m.synced(x)
	}))
}

// synced is x leaving STARTUP2: a voting secondary from now on.
func (m *mongoModel) synced(x *mongoMember) {
	x.syncing, x.newlyAdded = false, false
	done := x.syncDone
	x.syncDone = nil
	m.recount()
	m.s.emit(m.spec.Name, platform.EventMemberAdded, x.name(), x.syncDetail)
	m.settle()
	if done != nil {
		done(nil)
	}
}

// lastBackup is the scenario time of the newest backup at now: backups are
// taken every mongo.backup_interval from time 0.
func (m *mongoModel) lastBackup(now time.Duration) time.Duration {
	return now / m.set.backupInterval * m.set.backupInterval
}

// restoreBackup seeds x from the last backup of the surviving data (the
// primary's history up to the backup's time), mongo.backup_restore_base
// plus mongo.backup_restore_per_document for each document in it; x then
// catches up from the primary's oplog, which must still hold every write
// since the backup, or x falls back to a full initial sync
// (https://www.mongodb.com/docs/manual/tutorial/restore-replica-set-from-backup/).
// A restored member is consistent at once: SECONDARY, voting, catching up.
func (m *mongoModel) restoreBackup(x *mongoMember, done func(error)) {
	p := m.primary
	if p == nil {
		done(fmt.Errorf("sync member %q of %s: no primary to catch up from", x.name(), m.spec.Name))
		return
	}
	m.materializeAll()
	m.wipe(x)
	seq := x.syncSeq
	taken := m.lastBackup(m.s.now)
	from, docs := p.log, p.log.countAtOrBefore(taken)
	m.s.after(m.set.restoreBase+time.Duration(docs)*m.set.restorePerDoc, platform.HandlerFunc(func(time.Duration) {
		if x.syncSeq != seq {
			return
		}
		m.materializeAll()
		src := m.primary
		switch {
		case !m.s.up(x.node):
			done(fmt.Errorf("sync member %q of %s: it went down during the restore", x.name(), m.spec.Name))
			return
		case src == nil:
			done(fmt.Errorf("sync member %q of %s: no primary to catch up from", x.name(), m.spec.Name))
			return
		}
		pos := docs
		if src.log != from {
			pos = commonPrefix(from, docs, src.log, src.log.len())
		}
		if start := m.oplogStart(src); pos < start {
			why := fmt.Sprintf("the backup of %v is older than %s's oplog, which starts at %v", taken, src.name(), src.log.entry(start).at.Round(time.Millisecond))
			m.s.emit(m.spec.Name, platform.EventMemberStale, x.name(), why+": full initial sync")
			m.initialSync(x, done, why)
			return
		}
		x.log, x.applied = src.log, pos
		x.syncDetail = fmt.Sprintf("restored the backup of %v (%d documents), catching up from the oplog", taken, docs)
		x.syncDone = done
		m.synced(x)
	}))
	m.settle()
}

// resyncMember is mongo.resync-member: the operator wipes a member (one
// that went stale, typically) and syncs it again
// (https://www.mongodb.com/docs/manual/tutorial/resync-replica-set-member/).
func (m *mongoModel) resyncMember(params map[string]string, finish func(error)) error {
	name := params["member"]
	x := m.member(name)
	source, err := syncSource(params)
	switch {
	case err != nil:
		return fmt.Errorf("resync %s: %w", m.spec.Name, err)
	case x == nil || !x.inConfig:
		return fmt.Errorf("resync %s: %w: %q is not a member", m.spec.Name, platform.ErrUnknownNode, name)
	case x.arbiter:
		return fmt.Errorf("resync %s: %q is an arbiter: it holds no data", m.spec.Name, name)
	}
	m.s.after(0, platform.HandlerFunc(func(time.Duration) {
		switch {
		case x.isPrimary:
			finish(fmt.Errorf("resync %s: %q is the primary; step it down first", m.spec.Name, name))
		case !m.s.up(x.node):
			finish(fmt.Errorf("resync %s: %q is not running", m.spec.Name, name))
		default:
			m.seed(x, source, finish)
		}
	}))
	return nil
}

// syncSource reads the `source` parameter of add-member and resync-member.
func syncSource(params map[string]string) (string, error) {
	switch s := params["source"]; s {
	case "", sourceInitialSync:
		return sourceInitialSync, nil
	case sourceBackup:
		return sourceBackup, nil
	default:
		return "", fmt.Errorf("source %q is not %s or %s", s, sourceInitialSync, sourceBackup)
	}
}

// --- catching up ---

// trackCatchUp keeps each member's caughtUp under the states settle just
// established: the primary is; a member that is down, stale, syncing, or
// cut off from an existing primary is not, and is sampled again once it
// replicates. Without a primary nobody's lag can change, so it is kept.
func (m *mongoModel) trackCatchUp(primary *mongoMember) {
	pending := false
	for _, x := range m.members {
		switch {
		case x.arbiter || !x.inConfig:
		case x.isPrimary:
			x.caughtUp = true
		case x.live:
			pending = pending || !x.caughtUp
			if x.syncing && x.log != nil {
				m.scheduleSyncEnd(x)
			}
		case !m.s.up(x.node) || x.stale || x.syncing || primary != nil:
			x.caughtUp = false
		}
	}
	if pending && !m.samplerArmed {
		m.samplerArmed = true
		m.s.after(m.set.heartbeatInterval, m.sampleLag)
	}
}

// sampleCatchUp runs every mongo.heartbeat_interval while a member
// replicates without being caught up (the primary learns its members'
// positions from their heartbeats): members the runbook added or resynced
// report their lag (replication-lag) and, once it is within
// mongo.caught_up_lag, member-caught-up.
func (m *mongoModel) sampleCatchUp(time.Duration) {
	m.samplerArmed = false
	p := m.primary
	if p == nil {
		return // trackCatchUp arms it again once there is a primary
	}
	m.materializeAll()
	for _, x := range m.members {
		if x.caughtUp || !x.live {
			continue
		}
		lag := m.lagBehind(x, p)
		if x.reportCatchUp {
			m.s.emit(m.spec.Name, platform.EventReplicationLag, x.name(), lag.String())
		}
		if x.syncing || lag > m.set.caughtUpLag {
			continue
		}
		x.caughtUp = true
		if x.reportCatchUp {
			x.reportCatchUp = false
			m.s.emit(m.spec.Name, platform.EventMemberCaughtUp, x.name(), lag.String())
		}
	}
	m.trackCatchUp(p)
	m.checkRedundancy()
}
