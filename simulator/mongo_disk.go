package simulator

import "time"

// Disk faults on a replica-set member (see disk.go).
//
// A member whose volume fails a write (EIO) or is full (ENOSPC) aborts at
// its next journal write, at most mongo.journal_commit_interval later:
// WiredTiger panics and mongod stops ("aborting after fassert() failure",
// longhorn/longhorn#1909, RocketChat/Rocket.Chat#1858). It is down from
// then on, as after a crash; the fault's heal starts it again.
//
// A slow volume slows the member's oplog apply: each apply batch waits one
// journal write more (the added latency), and each document applied writes
// mongo.disk_bytes_per_write bytes, which a throughput cap bounds. So its
// lag behind the primary grows by the latency, and without bound once the
// write rate passes what the cap lets it apply; with w: majority, a write
// waits for it whenever it is part of the majority, and for the primary's
// own journal when the slow volume is the primary's.

// diskChanged applies a change of x's volume.
func (m *mongoModel) diskChanged(x *mongoMember) {
	if x.node.disk.failing() && m.s.up(x.node) && !x.arbiter {
		m.s.crashOnDisk(x.node, m.journalCommit(), "fassert on a failed journal write")
	}
	// Its apply pipeline restarts under the new costs.
	x.live = false
}

func (m *mongoModel) journalCommit() time.Duration {
	return m.s.params.duration("mongo.journal_commit_interval")
}

// diskCost is what x's volume adds to its oplog apply: a latency per batch
// and the per-document cost under its throughput cap.
func (m *mongoModel) diskCost(x *mongoMember) (extra, perOp time.Duration) {
	d := x.node.disk
	perOp = m.set.applyPerOp
	if d.mode != diskSlow {
		return 0, perOp
	}
	if d.bytesPerSecond > 0 {
		perOp += time.Duration(float64(m.diskBytesPerWrite) / d.bytesPerSecond * float64(time.Second))
	}
	return d.latency, perOp
}
