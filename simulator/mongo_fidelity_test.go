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
