package simulator

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
)

// The specs below replay the published behaviours that issues 9 and 17 found
// the model getting wrong, each with its source.

var _ = Describe("mongo: added latency", func() {
	// Issue 17.6. A write crosses the link to the primary twice (the request
	// and the answer), so one-way latency added on the primary is paid
	// twice by w:1 writes, and four times by w:majority ones (the oplog
	// leaves the primary and the secondary's acknowledgement comes back
	// through it too). Latency is a property of the link at the moment a
	// message crosses it, not of the moment the driver found the primary.
	const interval = 10 * time.Millisecond
	const fault, extra = 30 * time.Second, 2 * time.Second
	meanAfter := func(concern string) time.Duration {
		s, rec := mongoSim(3, concern, nil)
		drive(s, "mongo", 0, interval, 60*time.Second)
		mongoRunTo(s, fault)
		mongoMust(s.Faults().AddLatency(mongoCtx, east1a, extra))
		mongoRunTo(s, 80*time.Second)
		return mongoMeanLatency(rec, 0, interval, fault+time.Second, 50*time.Second)
	}

	It("applies to the request leg too: 2 s one way on the primary makes w:1 writes take about 4 s", func() {
		link := platform.DefaultLinkLatency.InterZone.D()
		Expect(meanAfter("1")).To(BeNumerically("~", 2*(extra+link), 10*time.Millisecond))
	})

	It("applies to every leg of a w:majority write: about 8 s", func() {
		Expect(meanAfter("majority")).To(BeNumerically("~", 4*extra, 50*time.Millisecond))
	})
})

var _ = Describe("mongo: replSetStepDown", func() {
	// Issue 17.1, with its numbers: three members, 5,000 w:1 writes/s, 11 s
	// of added latency on both secondaries from 30 s, step-down at 1 m.
	// MongoDB: the primary refuses writes from the moment the command
	// arrives; with no electable secondary caught up within
	// secondaryCatchUpPeriodSecs it gives up and stays primary, and "all
	// writes to the primary fail during the period starting when the
	// replSetStepDown command is received until either a new primary is
	// elected, or if there are no electable secondaries, the original
	// primary resumes normal operation"
	// (https://www.mongodb.com/docs/manual/reference/command/replSetStepDown/#writes-during-stepdown).
	set := defaultMongoSettings()
	const interval = 200 * time.Microsecond // 5,000 writes/s
	const lagFrom, stepAt, end = 30 * time.Second, 60 * time.Second, 100 * time.Second
	stepDownUnderLag := func(seed uint64, heal time.Duration) (*Sim, *recorder, *mongoActions) {
		s, rec := mongoSim(seed, "1", nil)
		drive(s, "mongo", 0, interval, end)
		mongoRunTo(s, lagFrom)
		for _, n := range []string{east1b, west1a} {
			mongoMust(s.Faults().AddLatency(mongoCtx, n, 11*time.Second))
		}
		mongoRunTo(s, stepAt)
		actions := newMongoActions()
		mongoMust(s.StartAction(mongoCtx, platform.Action{Name: "step", Action: platform.ActionMongoStepDown}, actions))
		if heal > 0 {
			mongoRunTo(s, heal)
			for _, n := range []string{east1b, west1a} {
				mongoMust(s.Faults().RemoveLatency(mongoCtx, n))
			}
		}
		mongoRunTo(s, end+20*time.Second)
		return s, rec, actions
	}
	invokedAt := func(id uint64) time.Duration { return time.Duration(id) * interval }

	It("that finds no caught-up secondary loses nothing: the primary stays, refuses writes while it waits, and takes them again", func() {
		for _, seed := range []uint64{1, 2, 3} {
			s, rec, actions := stepDownUnderLag(seed, 0)
			giveUp := stepAt + set.stepDownCatchUp
			Expect(actions.errs["step"]).To(MatchError(ContainSubstring("ExceededTimeLimit")))
			Expect(actions.done["step"]).To(Equal(giveUp))
			Expect(mongoEventsAfter(rec, platform.EventPrimaryElected, lagFrom)).To(BeEmpty())
			Expect(mongoEventsAfter(rec, platform.EventPrimaryLost, lagFrom)).To(BeEmpty())
			Expect(s.Role("mongo:primary")).To(Equal([]string{east1a}))
			Expect(mongoLost(s, rec)).To(BeEmpty())

			var refused, waited, after int
			for id, o := range rec.outcomes {
				invoke, done := invokedAt(id), rec.completed[id]
				// No write is acknowledged while the primary waits.
				if o == platform.Acked && done > stepAt+time.Millisecond {
					Expect(done).To(BeNumerically(">=", giveUp), "write %d acknowledged during the step-down attempt", id)
				}
				switch {
				case invoke < stepAt || invoke >= end:
				case invoke < giveUp && o != platform.Acked:
					refused++
				case invoke < giveUp:
					waited++
				case o == platform.Acked:
					after++
				}
			}
			// The driver retries a refused write once a primary takes writes
			// again: those issued in the first instants of the attempt run
			// out of time, the others are answered late.
			GinkgoWriter.Printf("seed %d: %d refused, %d answered late, %d after\n", seed, refused, waited, after)
			Expect(refused).To(BeNumerically(">", 0))
			Expect(waited).To(BeNumerically(">", 40000))
			Expect(after).To(BeNumerically("==", int((end-giveUp)/interval)))
		}
	})

	It("that finds a secondary caught up within the period hands over, and the successor has every acknowledged write", func() {
		s, rec, actions := stepDownUnderLag(4, stepAt+2*time.Second)
		Expect(actions.errs).To(HaveKeyWithValue("step", BeNil()))
		Expect(actions.done["step"]).To(BeNumerically("<", stepAt+set.stepDownCatchUp))
		elected := mongoEventsAfter(rec, platform.EventPrimaryElected, stepAt)
		Expect(elected).NotTo(BeEmpty())
		Expect(elected[0].Node).To(Equal(east1b))
		Expect(mongoLost(s, rec)).To(BeEmpty())
		// Writes are refused from the command until the new primary.
		for id, o := range rec.outcomes {
			if o == platform.Acked && rec.completed[id] > stepAt+time.Millisecond {
				Expect(rec.completed[id]).To(BeNumerically(">=", elected[0].At), "write %d", id)
			}
		}
	})
})

// psaTopology is ion with its Mongo set turned into primary (east-1a),
// secondary (east-1b) and an arbiter in a third zone.
func psaTopology() *platform.Topology {
	t := platform.Ion()
	t.Services[0].Members[2] = platform.MongoMember{Name: "mongo-arbiter", Zone: "us-east-1c", Arbiter: true}
	t.Services[0].WriteModes = nil
	return t
}

var _ = Describe("mongo: arbiters", func() {
	// Issue 9.4. "If one data-bearing node goes down, the other node becomes
	// the primary. Writes with w:1 continue to succeed in this state but
	// writes with write concern "majority" cannot succeed"; the documented
	// workaround is a reconfig giving the unavailable secondary votes: 0
	// and priority: 0
	// (https://www.mongodb.com/docs/manual/tutorial/mitigate-psa-performance-issues/).
	// The write majority is the smaller of the voting majority and the
	// data-bearing voters
	// (https://www.mongodb.com/docs/manual/reference/write-concern/#calculating-majority-for-write-concern).
	const interval = 10 * time.Millisecond
	const fault, heal, end = 20 * time.Second, 80 * time.Second, 120 * time.Second
	set := defaultMongoSettings()
	secondaryDown := func(concern string, workaroundAt time.Duration) (*Sim, *recorder, *mongoActions) {
		s, rec := newTestSim(psaTopology(), 5, nil, platform.WorkloadConfig{Service: "mongo", WriteConcern: concern, Timeout: 10 * time.Second})
		drive(s, "mongo", 0, interval, end)
		mongoRunTo(s, fault)
		mongoMust(s.Faults().Kill(mongoCtx, east1b))
		actions := newMongoActions()
		if workaroundAt > 0 {
			mongoRunTo(s, workaroundAt)
			mongoMust(s.StartAction(mongoCtx, platform.Action{Name: "drop-votes", Action: platform.ActionMongoReconfigMember,
				Params: map[string]string{"member": east1b, "votes": "0", "priority": "0"}}, actions))
		}
		mongoRunTo(s, heal)
		mongoMust(s.Faults().Start(mongoCtx, east1b))
		mongoRunTo(s, end+20*time.Second)
		return s, rec, actions
	}
	ackedBetween := func(rec *recorder, from, to time.Duration) int {
		n := 0
		for id, o := range rec.outcomes {
			if o == platform.Acked && rec.completed[id] >= from && rec.completed[id] < to {
				n++
			}
		}
		return n
	}

	It("keep the primary in office with the secondary down, but w:majority acknowledges nothing until the secondary returns", func() {
		s, rec, _ := secondaryDown("majority", 0)
		Expect(mongoEventsAfter(rec, platform.EventPrimaryLost, fault)).To(BeEmpty())
		Expect(s.Role("mongo:primary")).To(Equal([]string{east1a}))
		// Writes already on the secondary when it died are answered at
		// once; nothing after.
		Expect(ackedBetween(rec, fault+10*time.Millisecond, heal)).To(BeZero())
		Expect(ackedBetween(rec, heal, end)).To(BeNumerically(">", 0))
		Expect(mongoLost(s, rec)).To(BeEmpty())
	})

	It("do not stop w:1 writes", func() {
		_, rec, _ := secondaryDown("1", 0)
		Expect(ackedBetween(rec, fault+time.Second, heal)).To(BeNumerically("~", int((heal-fault-time.Second)/interval), 2))
	})

	It("with the documented reconfig (votes 0, priority 0 on the secondary), acknowledge w:majority writes again on the primary alone", func() {
		workaround := fault + 30*time.Second
		s, rec, actions := secondaryDown("majority", workaround)
		Expect(actions.errs).To(HaveKeyWithValue("drop-votes", BeNil()))
		Expect(actions.done["drop-votes"]).To(Equal(workaround + set.reconfig))
		Expect(rec.eventsOf(platform.EventReconfigured)).To(HaveLen(1))
		Expect(ackedBetween(rec, fault+10*time.Millisecond, workaround+set.reconfig)).To(BeZero())
		// Every write issued after the reconfig is acknowledged, without
		// the secondary.
		for id, o := range rec.outcomes {
			if invoke := time.Duration(id) * interval; invoke > workaround+set.reconfig && invoke < heal {
				Expect(o).To(Equal(platform.Acked), "write %d at %v", id, invoke)
			}
		}
		Expect(mongoLost(s, rec)).To(BeEmpty())
	})

	It("vote but never become primary: with the primary killed, the secondary wins with the arbiter's vote", func() {
		for seed := uint64(1); seed <= 20; seed++ {
			s, rec := newTestSim(psaTopology(), seed, nil, platform.WorkloadConfig{Service: "mongo", WriteConcern: "majority", Timeout: 10 * time.Second})
			drive(s, "mongo", 0, interval, 60*time.Second)
			mongoRunTo(s, fault)
			mongoMust(s.Faults().Kill(mongoCtx, east1a))
			mongoRunTo(s, 80*time.Second)
			elected := mongoEventsAfter(rec, platform.EventPrimaryElected, fault)
			Expect(elected).To(HaveLen(1), "seed %d", seed)
			Expect(elected[0].Node).To(Equal(east1b))
			Expect(s.Role("mongo:secondary")).To(BeEmpty(), "the arbiter is no secondary")
			Expect(mongoLost(s, rec)).To(BeEmpty())
			// Now the set has one data-bearing member of two: w:majority
			// stalls again (the PSA trap from the other side).
			Expect(ackedBetween(rec, 40*time.Second, 60*time.Second)).To(BeZero())
		}
	})

	It("refuse to be made primary or reconfigured", func() {
		s, _ := newTestSim(psaTopology(), 1, nil, platform.WorkloadConfig{Service: "mongo"})
		Expect(s.StartAction(mongoCtx, platform.Action{Name: "p", Action: platform.ActionMongoForceReconfigure, Params: map[string]string{"promote": "mongo-arbiter"}}, newMongoActions())).
			To(MatchError(ContainSubstring("arbiter")))
		Expect(s.StartAction(mongoCtx, platform.Action{Name: "r", Action: platform.ActionMongoReconfigMember, Params: map[string]string{"member": "mongo-arbiter", "votes": "0"}}, newMongoActions())).
			To(MatchError(ContainSubstring("arbiter")))
	})
})

var _ = Describe("mongo: the oplog window", func() {
	// Issue 17.3. A member away longer than the primary's oplog covers
	// comes back too stale to catch up (RS102), stays RECOVERING and needs
	// a resync (https://www.mongodb.com/docs/manual/tutorial/resync-replica-set-member/);
	// the oplog keeps mongo.oplog_size_mb of entries, so the window follows
	// the write rate (https://www.mongodb.com/docs/manual/core/replica-set-oplog/#oplog-size).
	// A 10 MB oplog of 1 KB entries holds 10,240 writes: 51.2 s at 200
	// writes/s, 25.6 s at 400.
	const fault = 20 * time.Second
	small := map[string]string{"mongo.oplog_size_mb": "10", "mongo.oplog_entry_bytes": "1024"}
	set := defaultMongoSettings()
	away := func(interval, gone time.Duration, params map[string]string) (*Sim, *recorder) {
		s, rec := mongoSim(9, "majority", params)
		drive(s, "mongo", 0, interval, 400*time.Second)
		mongoRunTo(s, fault)
		mongoMust(s.Faults().Kill(mongoCtx, west1a))
		mongoRunTo(s, fault+gone)
		mongoMust(s.Faults().Start(mongoCtx, west1a))
		mongoRunTo(s, fault+gone+30*time.Second)
		return s, rec
	}

	It("lets a member away for less than the window catch up, and counts redundancy restored once it has", func() {
		s, rec := away(5*time.Millisecond, 30*time.Second, small)
		Expect(rec.eventsOf(platform.EventMemberStale)).To(BeEmpty())
		Expect(s.Role("mongo:secondary")).To(ConsistOf(east1b, west1a))
		restored := mongoEventsAfter(rec, platform.EventRedundancyRestored, fault)
		Expect(restored).To(HaveLen(1))
		Expect(restored[0].At - (fault + 30*time.Second)).To(BeNumerically("<=", set.heartbeatInterval))
	})

	It("leaves a member away for longer stale: RECOVERING, no redundancy, until it is resynced", func() {
		s, rec := away(5*time.Millisecond, 60*time.Second, small)
		stale := rec.eventsOf(platform.EventMemberStale)
		Expect(stale).To(HaveLen(1))
		Expect(stale[0].Node).To(Equal(west1a))
		Expect(stale[0].At).To(Equal(fault + 60*time.Second))
		Expect(s.Role("mongo:secondary")).To(ConsistOf(east1b))
		Expect(mongoEventsAfter(rec, platform.EventRedundancyRestored, fault)).To(BeEmpty())
		// Still a voter: the east pair keeps its majority either way, and
		// nothing acknowledged is lost.
		Expect(mongoLost(s, rec)).To(BeEmpty())

		actions := newMongoActions()
		resyncAt := s.Now()
		mongoMust(s.StartAction(mongoCtx, platform.Action{Name: "resync", Action: platform.ActionMongoResyncMember, Params: map[string]string{"member": west1a}}, actions))
		mongoRunTo(s, resyncAt+2*time.Minute)
		Expect(actions.errs).To(HaveKeyWithValue("resync", BeNil()))
		Expect(actions.done["resync"] - resyncAt).To(BeNumerically(">=", set.initialSyncBase))
		added := mongoEventsAfter(rec, platform.EventMemberAdded, resyncAt)
		Expect(added).To(HaveLen(1))
		Expect(added[0].Node).To(Equal(west1a))
		caught := mongoEventsAfter(rec, platform.EventMemberCaughtUp, resyncAt)
		Expect(caught).To(HaveLen(1))
		restored := mongoEventsAfter(rec, platform.EventRedundancyRestored, fault)
		Expect(restored).To(HaveLen(1))
		Expect(restored[0].At).To(Equal(caught[0].At))
		Expect(s.Role("mongo:secondary")).To(ConsistOf(east1b, west1a))
		Expect(mongoLost(s, rec)).To(BeEmpty())
	})

	It("follows the write rate: the same 30 s away is too long at twice the rate", func() {
		_, rec := away(2500*time.Microsecond, 30*time.Second, small)
		Expect(rec.eventsOf(platform.EventMemberStale)).To(HaveLen(1))
	})

	It("keeps entries younger than oplogMinRetentionHours whatever the size", func() {
		params := map[string]string{"mongo.oplog_size_mb": "10", "mongo.oplog_min_retention": "5m"}
		_, rec := away(5*time.Millisecond, 60*time.Second, params)
		Expect(rec.eventsOf(platform.EventMemberStale)).To(BeEmpty())
	})

	It("never drops the majority commit point: a PSA set's secondary comes back from any absence", func() {
		// With the secondary down nothing is majority-committed, so the
		// oplog grows past its size ("MongoDB allows the oplog to grow past
		// its configured size limit to avoid deleting the majority commit
		// point", https://www.mongodb.com/docs/manual/tutorial/mitigate-psa-performance-issues/).
		s, rec := newTestSim(psaTopology(), 3, small, platform.WorkloadConfig{Service: "mongo", WriteConcern: "1", Timeout: 10 * time.Second})
		drive(s, "mongo", 0, 5*time.Millisecond, 300*time.Second)
		mongoRunTo(s, fault)
		mongoMust(s.Faults().Kill(mongoCtx, east1b))
		mongoRunTo(s, fault+3*time.Minute)
		mongoMust(s.Faults().Start(mongoCtx, east1b))
		mongoRunTo(s, fault+4*time.Minute)
		Expect(rec.eventsOf(platform.EventMemberStale)).To(BeEmpty())
		Expect(mongoEventsAfter(rec, platform.EventRedundancyRestored, fault)).To(HaveLen(1))
	})
})

var _ = Describe("mongo: a member added after a region loss", func() {
	// Issue 9.3: the seed's reader asks whether a member added after the
	// failover is "revived from backup" and "up to speed". Each added member
	// reports its lag every heartbeat until it is within
	// mongo.caught_up_lag (member-caught-up). With source: backup it is
	// seeded from the last backup and catches up from the oplog, which must
	// still hold every write since the backup, or it falls back to a full
	// initial sync (https://www.mongodb.com/docs/manual/tutorial/restore-replica-set-from-backup/).
	const interval = time.Millisecond // 1,000 writes/s
	const fault, addAt = 90 * time.Second, 100 * time.Second
	set := defaultMongoSettings()
	rebuild := func(params map[string]string) (*Sim, *recorder, *mongoActions) {
		base := map[string]string{"mongo.apply_cost_per_op": "200us", "mongo.backup_interval": "1m"}
		for k, v := range params {
			base[k] = v
		}
		s, rec := mongoSim(6, "majority", base)
		drive(s, "mongo", 0, interval, 300*time.Second)
		mongoRunTo(s, fault)
		mongoMust(s.Faults().Kill(mongoCtx, east1a))
		mongoMust(s.Faults().Kill(mongoCtx, east1b))
		actions := newMongoActions()
		mongoMust(s.StartAction(mongoCtx, platform.Action{Name: "promote", Action: platform.ActionMongoForceReconfigure, Params: map[string]string{"promote": west1a}}, actions))
		mongoRunTo(s, addAt)
		mongoMust(s.StartAction(mongoCtx, platform.Action{Name: "add", Action: platform.ActionMongoAddMember,
			Params: map[string]string{"name": "mongo-west-1b", "zone": "us-west-1b", "source": "backup"}}, actions))
		mongoRunTo(s, 320*time.Second)
		Expect(actions.errs).To(HaveKeyWithValue("add", BeNil()))
		Expect(mongoLost(s, rec)[0]).To(BeNumerically("<", uint64(fault/interval)), "only writes the east alone had are lost")
		return s, rec, actions
	}
	lagSamples := func(rec *recorder) []time.Duration {
		var out []time.Duration
		for _, e := range mongoEventsAfter(rec, platform.EventReplicationLag, addAt) {
			if e.Node == "mongo-west-1b" {
				d, err := time.ParseDuration(e.Detail)
				mongoMust(err)
				out = append(out, d)
			}
		}
		return out
	}

	It("restores the last backup, catches up from the oplog, and reports its lag every heartbeat until caught up", func() {
		_, rec, actions := rebuild(nil)
		added := mongoEventsAfter(rec, platform.EventMemberAdded, addAt)
		Expect(added).To(HaveLen(1))
		Expect(added[0].Detail).To(ContainSubstring("restored the backup of 1m0s"))
		Expect(actions.done["add"]).To(Equal(added[0].At))
		Expect(rec.eventsOf(platform.EventMemberStale)).To(BeEmpty())
		// The backup of 1m0s holds the 60,000 writes that had arrived by
		// then (give or take the one on the wire), and the restore takes
		// its fixed part plus 5 µs each.
		Expect(added[0].At - addAt).To(BeNumerically("~", set.restoreBase+60000*set.restorePerDoc, 2*set.restorePerDoc))

		samples := lagSamples(rec)
		Expect(len(samples)).To(BeNumerically(">=", 3), "catching up on 100 s of writes takes several heartbeats")
		for i := 1; i < len(samples); i++ {
			Expect(samples[i]).To(BeNumerically("<", samples[i-1]))
		}
		Expect(samples[0]).To(BeNumerically(">", time.Minute))
		caught := mongoEventsAfter(rec, platform.EventMemberCaughtUp, addAt)
		Expect(caught).To(HaveLen(1))
		Expect(caught[0].Detail).To(Equal(samples[len(samples)-1].String()))
		Expect(samples[len(samples)-1]).To(BeNumerically("<=", set.caughtUpLag))
	})

	It("falls back to a full initial sync when the oplog no longer covers the time since the backup", func() {
		// 50 MB of 1 KB entries: 51,200 writes, about 51 s at 1,000/s.
		_, rec, _ := rebuild(map[string]string{"mongo.oplog_size_mb": "50"})
		stale := mongoEventsAfter(rec, platform.EventMemberStale, addAt)
		Expect(stale).To(HaveLen(1))
		Expect(stale[0].Detail).To(ContainSubstring("full initial sync"))
		restored := addAt + set.restoreBase + 60000*set.restorePerDoc
		Expect(stale[0].At).To(BeNumerically("~", restored, 2*set.restorePerDoc))
		added := mongoEventsAfter(rec, platform.EventMemberAdded, addAt)
		Expect(added).To(HaveLen(1))
		Expect(added[0].Detail).To(ContainSubstring("initial sync of"))
		Expect(added[0].At - restored).To(BeNumerically(">", set.initialSyncBase))
		Expect(mongoEventsAfter(rec, platform.EventMemberCaughtUp, addAt)).To(HaveLen(1))
	})
})
