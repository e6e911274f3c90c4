package simulator

import (
	"context"
	"fmt"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
)

// The specs below follow the statements of issue 3 about the replica set
// on the built-in ion topology: mongo-east-1a (priority 2), mongo-east-1b
// (priority 1), mongo-west-1a (priority 0, hidden), all voting.

const (
	east1a = "mongo-east-1a"
	east1b = "mongo-east-1b"
	west1a = "mongo-west-1a"
)

var mongoCtx = context.Background()

func mongoSim(seed uint64, concern string, params map[string]string) (*Sim, *recorder) {
	return newTestSim(nil, seed, params, platform.WorkloadConfig{Service: "mongo", WriteConcern: concern, Timeout: 10 * time.Second})
}

func mongoMust(err error) {
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
}

func mongoRunTo(s *Sim, t time.Duration) { mongoMust(s.Run(mongoCtx, t)) }

// ackedIDs lists the acknowledged writes in op order.
func mongoAcked(rec *recorder) []uint64 {
	var ids []uint64
	for id, o := range rec.outcomes {
		if o == platform.Acked {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// lostWrites reads every acknowledged write back and returns those absent.
func mongoLost(s *Sim, rec *recorder) []uint64 {
	ids := mongoAcked(rec)
	present := make([]bool, len(ids))
	c, err := s.Client("mongo")
	mongoMust(err)
	mongoMust(c.ReadBack(mongoCtx, ids, present))
	var lost []uint64
	for i, ok := range present {
		if !ok {
			lost = append(lost, ids[i])
		}
	}
	return lost
}

func mongoEventsAfter(rec *recorder, what string, t time.Duration) []platform.Event {
	var out []platform.Event
	for _, e := range rec.eventsOf(what) {
		if e.At >= t {
			out = append(out, e)
		}
	}
	return out
}

// meanLatency is the mean completion-invoke of acked writes issued in
// [from, to) by a writer with the given first op and interval.
func mongoMeanLatency(rec *recorder, first uint64, interval, from, to time.Duration) time.Duration {
	var sum time.Duration
	n := 0
	for id, o := range rec.outcomes {
		invoke := time.Duration(id-first) * interval
		if o != platform.Acked || invoke < from || invoke >= to {
			continue
		}
		sum += rec.completed[id] - invoke
		n++
	}
	Expect(n).To(BeNumerically(">", 0))
	return sum / time.Duration(n)
}

type mongoActions struct {
	done map[string]time.Duration
	errs map[string]error
}

func newMongoActions() *mongoActions {
	return &mongoActions{done: map[string]time.Duration{}, errs: map[string]error{}}
}

func (a *mongoActions) ActionDone(name string, err error, at time.Duration) {
	a.done[name] = at
	a.errs[name] = err
}

func defaultMongoSettings() mongoSettings {
	p, err := newParams(nil)
	mongoMust(err)
	return readMongoSettings(p)
}

var _ = Describe("mongo replica set", func() {
	set := defaultMongoSettings()
	const interval = 10 * time.Millisecond

	It("starts with the highest-priority member as primary and the others as secondaries", func() {
		s, _ := mongoSim(1, "majority", nil)
		Expect(s.Role("mongo:primary")).To(Equal([]string{east1a}))
		Expect(s.Role("mongo:secondary")).To(Equal([]string{east1b, west1a}))
	})

	Describe("primary kill", func() {
		It("elects a new primary within the documented election time and loses no majority-acknowledged write", func() {
			for seed := uint64(1); seed <= 20; seed++ {
				s, rec := mongoSim(seed, "majority", nil)
				drive(s, "mongo", 0, interval, 90*time.Second)
				fault := 20 * time.Second
				mongoRunTo(s, fault)
				mongoMust(s.Faults().Kill(mongoCtx, east1a))
				Expect(s.Role("mongo:primary")).To(BeEmpty())
				mongoRunTo(s, 100*time.Second)

				elected := mongoEventsAfter(rec, platform.EventPrimaryElected, fault)
				Expect(elected).NotTo(BeEmpty())
				Expect(elected[0].Node).To(Equal(east1b))
				// Detection is the election timeout counted from the last
				// news from the primary (at most a heartbeat before the
				// kill), plus the random offset, the vote and the step-up.
				took := elected[0].At - fault
				Expect(took).To(BeNumerically(">=", set.electionTimeout-set.heartbeatInterval))
				Expect(took).To(BeNumerically("<=", time.Duration(float64(set.electionTimeout)*(1+set.offsetFraction))+set.stepUp+100*time.Millisecond))
				Expect(mongoLost(s, rec)).To(BeEmpty())
				// Writes come back once the driver found the new primary.
				recovered := false
				for id, o := range rec.outcomes {
					if o == platform.Acked && time.Duration(id)*interval > elected[0].At {
						recovered = true
						break
					}
				}
				Expect(recovered).To(BeTrue())
			}
		})

		It("detects an idle primary's death from heartbeats alone", func() {
			for seed := uint64(1); seed <= 20; seed++ {
				s, rec := mongoSim(seed, "majority", nil)
				mongoRunTo(s, 20*time.Second)
				mongoMust(s.Faults().Kill(mongoCtx, east1a))
				mongoRunTo(s, 40*time.Second)
				elected := mongoEventsAfter(rec, platform.EventPrimaryElected, 20*time.Second)
				Expect(elected).To(HaveLen(1))
				took := elected[0].At - 20*time.Second
				Expect(took).To(BeNumerically(">=", set.electionTimeout-set.heartbeatInterval))
				Expect(took).To(BeNumerically("<=", time.Duration(float64(set.electionTimeout)*(1+set.offsetFraction))+set.stepUp+100*time.Millisecond))
				// A restarted higher-priority member takes over again.
				mongoMust(s.Faults().Start(mongoCtx, east1a))
				mongoRunTo(s, 80*time.Second)
				Expect(s.Role("mongo:primary")).To(Equal([]string{east1a}))
			}
		})

		It("hands over within milliseconds when the primary is stopped gracefully", func() {
			s, rec := mongoSim(3, "majority", nil)
			drive(s, "mongo", 0, interval, 30*time.Second)
			mongoRunTo(s, 10*time.Second)
			mongoMust(s.Faults().Stop(mongoCtx, east1a))
			mongoRunTo(s, 40*time.Second)
			elected := mongoEventsAfter(rec, platform.EventPrimaryElected, 10*time.Second)
			Expect(elected).NotTo(BeEmpty())
			Expect(elected[0].Node).To(Equal(east1b))
			Expect(elected[0].At - 10*time.Second).To(BeNumerically("<", time.Second))
			Expect(mongoLost(s, rec)).To(BeEmpty())
		})
	})

	Describe("partition of the primary from both secondaries", func() {
		partition := func(concern string) (*Sim, *recorder) {
			s, rec := mongoSim(7, concern, nil)
			drive(s, "mongo", 0, interval, 80*time.Second)
			mongoRunTo(s, 20*time.Second)
			mongoMust(s.Faults().Partition(mongoCtx, []string{east1a}, []string{east1b, west1a}))
			mongoRunTo(s, 45*time.Second)
			mongoMust(s.Faults().Heal(mongoCtx, []string{east1a}, []string{east1b, west1a}))
			mongoRunTo(s, 100*time.Second)
			return s, rec
		}

		It("with w:1, loses acknowledged writes: the old primary rolls them back and they read back absent", func() {
			s, rec := partition("1")
			lost := mongoLost(s, rec)
			Expect(lost).NotTo(BeEmpty())
			for _, id := range lost {
				// Only writes the cut-off primary took while it still
				// thought it was primary.
				invoke := time.Duration(id) * interval
				Expect(invoke).To(BeNumerically(">=", 20*time.Second-time.Second))
				Expect(invoke).To(BeNumerically("<=", 20*time.Second+set.electionTimeout+time.Second))
			}
			rollbacks := rec.eventsOf(platform.EventRollback)
			Expect(rollbacks).NotTo(BeEmpty())
			Expect(rollbacks[0].Node).To(Equal(east1a))
			Expect(rollbacks[0].Detail).To(Equal(fmt.Sprintf("%d writes", len(lost))))
		})

		It("with w:majority, loses nothing", func() {
			s, rec := partition("majority")
			Expect(mongoAcked(rec)).NotTo(BeEmpty())
			Expect(mongoLost(s, rec)).To(BeEmpty())
		})
	})

	Describe("east region loss", func() {
		const fault = 30 * time.Second
		const reconfigAt = 90 * time.Second
		outage := func(concern string) (*Sim, *recorder, *mongoActions) {
			s, rec := mongoSim(11, concern, nil)
			drive(s, "mongo", 0, interval, 150*time.Second)
			mongoRunTo(s, fault)
			mongoMust(s.Faults().Kill(mongoCtx, east1a))
			mongoMust(s.Faults().Kill(mongoCtx, east1b))
			mongoRunTo(s, reconfigAt)
			Expect(s.Role("mongo:primary")).To(BeEmpty())
			Expect(mongoEventsAfter(rec, platform.EventPrimaryElected, fault)).To(BeEmpty())
			actions := newMongoActions()
			mongoMust(s.StartAction(mongoCtx, platform.Action{Name: "promote", Action: platform.ActionMongoForceReconfigure, Params: map[string]string{"promote": west1a}}, actions))
			mongoRunTo(s, 160*time.Second)
			Expect(actions.errs).To(HaveKeyWithValue("promote", BeNil()))
			elected := mongoEventsAfter(rec, platform.EventPrimaryElected, fault)
			Expect(elected).To(HaveLen(1))
			Expect(elected[0].Node).To(Equal(west1a))
			Expect(elected[0].At).To(BeNumerically(">=", reconfigAt+set.forceReconfig))
			Expect(rec.eventsOf(platform.EventReconfigured)).To(HaveLen(1))
			Expect(s.Role("mongo:primary")).To(Equal([]string{west1a}))
			return s, rec, actions
		}

		It("with w:majority, has no primary until the forced reconfig, then loses the writes west had not applied: the RPO is west's lag", func() {
			s, rec, _ := outage("majority")
			lost := mongoLost(s, rec)
			Expect(lost).NotTo(BeEmpty())
			oldestAck := time.Duration(-1)
			for _, id := range lost {
				Expect(time.Duration(id) * interval).To(BeNumerically("<", fault))
				if at := rec.completed[id]; oldestAck < 0 || at < oldestAck {
					oldestAck = at
				}
			}
			rpo := fault - oldestAck
			var lag time.Duration
			found := false
			for _, e := range rec.eventsOf(platform.EventReplicationLag) {
				if e.Node == west1a && e.At == fault {
					d, err := time.ParseDuration(e.Detail)
					mongoMust(err)
					lag, found = d, true
					break
				}
			}
			Expect(found).To(BeTrue())
			// The lost span is the lag, give or take one write interval and
			// the time an acknowledgement takes to reach the client.
			ackDelay := mongoMeanLatency(rec, 0, interval, 0, fault)
			Expect(rpo - lag).To(BeNumerically("~", 0, interval+ackDelay))
			// West is at least a cross-region hop behind (less the
			// granularity of one write interval): the hop this run drew.
			eastNode, err := s.node(east1a)
			mongoMust(err)
			westNode, err := s.node(west1a)
			mongoMust(err)
			Expect(lag).To(BeNumerically(">=", s.latency(eastNode, westNode)-interval))
		})

		It("with the multiRegion write mode, loses nothing and pays cross-region write latency", func() {
			s, rec, _ := outage("multiRegion")
			Expect(mongoLost(s, rec)).To(BeEmpty())
			multi := mongoMeanLatency(rec, 0, interval, 0, fault)

			s2, rec2 := mongoSim(11, "majority", nil)
			drive(s2, "mongo", 0, interval, fault)
			mongoRunTo(s2, fault)
			majority := mongoMeanLatency(rec2, 0, interval, 0, fault)
			Expect(multi).To(BeNumerically(">", majority+platform.DefaultLinkLatency.InterRegion.D()))
		})
	})

	Describe("the driver's discovery of a new primary", func() {
		// firstAckAfter is the completion of the first acknowledged write
		// invoked after t.
		firstAckAfter := func(rec *recorder, t time.Duration) time.Duration {
			best := time.Duration(-1)
			for id, o := range rec.outcomes {
				if o == platform.Acked && time.Duration(id)*interval > t && (best < 0 || rec.completed[id] < best) {
					best = rec.completed[id]
				}
			}
			return best
		}
		pausePrimary := func(streaming string) time.Duration {
			s, rec := mongoSim(3, "majority", map[string]string{"client.streaming_discovery": streaming})
			drive(s, "mongo", 0, interval, 90*time.Second)
			mongoRunTo(s, 20*time.Second)
			mongoMust(s.Faults().Pause(mongoCtx, east1a))
			mongoRunTo(s, 100*time.Second)
			elected := mongoEventsAfter(rec, platform.EventPrimaryElected, 20*time.Second)
			Expect(elected).NotTo(BeEmpty())
			return firstAckAfter(rec, elected[0].At) - elected[0].At
		}

		It("takes a round trip with the streaming protocol, and up to a monitoring interval without it", func() {
			streaming, polling := pausePrimary("true"), pausePrimary("false")
			Expect(streaming).To(BeNumerically("<", 100*time.Millisecond))
			Expect(polling).To(BeNumerically(">", streaming))
			Expect(polling).To(BeNumerically("<=", set.clientHeartbeat+time.Second))
		})
	})

	Describe("a write mode the configuration can no longer meet", func() {
		It("answers every write at once as unknown (UnsatisfiableWriteConcern) until the clients switch to majority", func() {
			const fault, promoteAt, relaxAt, end = 30 * time.Second, 60 * time.Second, 90 * time.Second, 120 * time.Second
			s, rec := mongoSim(5, "multiRegion", nil)
			drive(s, "mongo", 0, interval, end)
			mongoRunTo(s, fault)
			mongoMust(s.Faults().Kill(mongoCtx, east1a))
			mongoMust(s.Faults().Kill(mongoCtx, east1b))
			mongoRunTo(s, promoteAt)
			actions := newMongoActions()
			mongoMust(s.StartAction(mongoCtx, platform.Action{Name: "promote", Action: platform.ActionMongoForceReconfigure, Params: map[string]string{"promote": west1a}}, actions))
			mongoRunTo(s, relaxAt)
			Expect(actions.errs).To(HaveKeyWithValue("promote", BeNil()))
			mongoMust(s.StartAction(mongoCtx, platform.Action{Name: "relax", Action: platform.ActionMongoSetWriteConcern, Params: map[string]string{"write_concern": "majority"}}, actions))
			mongoRunTo(s, end+20*time.Second)
			Expect(actions.errs).To(HaveKeyWithValue("relax", BeNil()))

			roundTrip := 2 * (platform.DefaultLinkLatency.InterZone.D() + time.Millisecond)
			var unsatisfied, ackedAfter int
			for id := uint64(0); id < uint64(end/interval); id++ {
				invoke := time.Duration(id) * interval
				switch {
				case invoke > promoteAt+set.forceReconfig+time.Second && invoke < relaxAt:
					// West alone cannot cover two regions: an immediate error.
					Expect(rec.outcomes[id]).To(Equal(platform.Unknown), "write %d at %v", id, invoke)
					Expect(rec.completed[id] - invoke).To(BeNumerically("<=", roundTrip))
					unsatisfied++
				case invoke > relaxAt+time.Second:
					Expect(rec.outcomes[id]).To(Equal(platform.Acked), "write %d at %v", id, invoke)
					ackedAfter++
				}
			}
			Expect(unsatisfied).To(BeNumerically(">", 0))
			Expect(ackedAfter).To(BeNumerically(">", 0))
			Expect(mongoLost(s, rec)).To(BeEmpty())
		})

		It("refuses a write concern the replica set does not know", func() {
			s, _ := mongoSim(5, "majority", nil)
			err := s.StartAction(mongoCtx, platform.Action{Name: "x", Action: platform.ActionMongoSetWriteConcern, Params: map[string]string{"write_concern": "everywhere"}}, newMongoActions())
			Expect(err).To(MatchError(ContainSubstring("everywhere")))
		})
	})

	Describe("hidden and priority-0 members", func() {
		It("never become primary on their own, whatever the faults", func() {
			for seed := uint64(1); seed <= 200; seed++ {
				s, rec := mongoSim(seed, "majority", nil)
				drive(s, "mongo", 0, 20*time.Millisecond, 150*time.Second)
				r := s.rand("test/faults")
				nodes := []string{east1a, east1b, west1a}
				for step := 0; step < 6; step++ {
					mongoRunTo(s, s.Now()+time.Duration(1+r.IntN(25))*time.Second)
					target := nodes[r.IntN(len(nodes))]
					switch r.IntN(5) {
					case 0:
						mongoMust(s.Faults().Kill(mongoCtx, target))
					case 1:
						mongoMust(s.Faults().Stop(mongoCtx, target))
					case 2:
						mongoMust(s.Faults().Pause(mongoCtx, target))
					case 3:
						mongoMust(s.Faults().Partition(mongoCtx, []string{target}, mongoWithout(nodes, target)))
						mongoRunTo(s, s.Now()+time.Duration(1+r.IntN(20))*time.Second)
						mongoMust(s.Faults().Heal(mongoCtx, []string{target}, mongoWithout(nodes, target)))
					case 4:
						for _, n := range nodes {
							mongoMust(s.Faults().Start(mongoCtx, n))
							mongoMust(s.Faults().Resume(mongoCtx, n))
						}
					}
				}
				mongoRunTo(s, 200*time.Second)
				for _, e := range rec.eventsOf(platform.EventPrimaryElected) {
					Expect(e.Node).NotTo(Equal(west1a), "seed %d", seed)
				}
			}
		})
	})

	Describe("single-node and single-AZ faults", func() {
		It("never lose an acknowledged write with write concern majority (200 seeds)", func() {
			for seed := uint64(1); seed <= 200; seed++ {
				acked, lost := mongoSingleFault(seed, "majority")
				Expect(acked).To(BeNumerically(">", 0), "seed %d", seed)
				Expect(lost).To(BeEmpty(), "seed %d", seed)
			}
		})

		It("do lose acknowledged writes with w:1 in some runs (the faults above are not harmless)", func() {
			losing := 0
			for seed := uint64(1); seed <= 200; seed++ {
				if _, lost := mongoSingleFault(seed, "1"); len(lost) > 0 {
					losing++
				}
			}
			Expect(losing).To(BeNumerically(">", 0))
		})
	})

	Describe("add-member", func() {
		rebuild := func(writeFor time.Duration) (took [2]time.Duration, rec *recorder) {
			s, rec := mongoSim(5, "majority", nil)
			drive(s, "mongo", 0, interval, writeFor)
			mongoRunTo(s, writeFor)
			mongoMust(s.Faults().Kill(mongoCtx, east1a))
			mongoMust(s.Faults().Kill(mongoCtx, east1b))
			actions := newMongoActions()
			mongoMust(s.StartAction(mongoCtx, platform.Action{Name: "promote", Action: platform.ActionMongoForceReconfigure, Params: map[string]string{"promote": west1a}}, actions))
			mongoRunTo(s, writeFor+5*time.Second)
			Expect(actions.done).To(HaveKey("promote"))
			for i, name := range []string{"mongo-west-1b", "mongo-west-1c"} {
				start := s.Now()
				mongoMust(s.StartAction(mongoCtx, platform.Action{Name: name, Action: platform.ActionMongoAddMember, Params: map[string]string{"name": name, "zone": "us-west-" + name[len(name)-2:]}}, actions))
				mongoRunTo(s, start+10*time.Minute)
				Expect(actions.errs).To(HaveKeyWithValue(name, BeNil()))
				took[i] = actions.done[name] - start
			}
			Expect(s.Role("mongo:secondary")).To(Equal([]string{"mongo-west-1b", "mongo-west-1c"}))
			return took, rec
		}

		It("takes initial-sync time that grows with the data size, then restores redundancy once the last member is caught up", func() {
			small, rec := rebuild(20 * time.Second)
			large, _ := rebuild(200 * time.Second)
			Expect(large[0]).To(BeNumerically(">", small[0]))
			Expect(large[0] - small[0]).To(BeNumerically("~", time.Duration(180*time.Second/interval)*set.initialSyncPerDoc, 100*time.Millisecond))
			added := rec.eventsOf(platform.EventMemberAdded)
			Expect(added).To(HaveLen(2))
			caughtUp := rec.eventsOf(platform.EventMemberCaughtUp)
			Expect(caughtUp).To(HaveLen(2))
			Expect(caughtUp[1].Node).To(Equal("mongo-west-1c"))
			// Lag is sampled every heartbeat, so caught up within one of
			// the end of the initial sync (no writes meanwhile).
			Expect(caughtUp[1].At - added[1].At).To(BeNumerically("~", set.heartbeatInterval/2, set.heartbeatInterval/2))
			restored := rec.eventsOf(platform.EventRedundancyRestored)
			Expect(restored).NotTo(BeEmpty())
			Expect(restored[len(restored)-1].At).To(Equal(caughtUp[1].At))
		})
	})

	It("reports replication lag at a fault, growing with the write rate", func() {
		westLag := func(interval time.Duration) time.Duration {
			s, rec := mongoSim(2, "majority", nil)
			drive(s, "mongo", 0, interval, 10*time.Second)
			mongoRunTo(s, 5*time.Second)
			mongoMust(s.Faults().Pause(mongoCtx, east1b))
			for _, e := range rec.eventsOf(platform.EventReplicationLag) {
				if e.Node == west1a {
					d, err := time.ParseDuration(e.Detail)
					mongoMust(err)
					return d
				}
			}
			Fail("no replication-lag event for " + west1a)
			return 0
		}
		slow, fast := westLag(time.Millisecond), westLag(25*time.Microsecond)
		// At 40,000 writes/s each apply batch takes 80% of its own cycle,
		// so the cycle (and the lag) is several times the idle one.
		Expect(slow).To(BeNumerically(">=", platform.DefaultLinkLatency.InterRegion.D()-time.Millisecond))
		Expect(fast).To(BeNumerically(">", slow+2*set.applyOverhead))
	})

	It("steps down on request: a caught-up secondary takes over at once, and the old primary is frozen", func() {
		s, rec := mongoSim(4, "majority", nil)
		drive(s, "mongo", 0, interval, 30*time.Second)
		mongoRunTo(s, 10*time.Second)
		actions := newMongoActions()
		mongoMust(s.StartAction(mongoCtx, platform.Action{Name: "down", Action: platform.ActionMongoStepDown}, actions))
		mongoRunTo(s, 11*time.Second)
		Expect(actions.errs).To(HaveKeyWithValue("down", BeNil()))
		Expect(actions.done["down"] - 10*time.Second).To(BeNumerically("<", 100*time.Millisecond))
		Expect(s.Role("mongo:primary")).To(Equal([]string{east1b}))
		// No priority takeover by the higher-priority old primary while it
		// is frozen.
		mongoRunTo(s, 10*time.Second+set.stepDownFreeze-time.Second)
		Expect(s.Role("mongo:primary")).To(Equal([]string{east1b}))
		mongoRunTo(s, 40*time.Second)
		Expect(mongoLost(s, rec)).To(BeEmpty())
	})

	It("is deterministic: the same seed gives the same history, another seed other timings", func() {
		history := func(seed uint64) (map[uint64]time.Duration, []platform.Event) {
			s, rec := mongoSim(seed, "majority", nil)
			drive(s, "mongo", 0, interval, 60*time.Second)
			mongoRunTo(s, 10*time.Second)
			mongoMust(s.Faults().Kill(mongoCtx, east1a))
			mongoRunTo(s, 40*time.Second)
			mongoMust(s.Faults().Start(mongoCtx, east1a))
			mongoRunTo(s, 90*time.Second)
			return rec.completed, rec.events
		}
		c1, e1 := history(42)
		c2, e2 := history(42)
		Expect(c2).To(Equal(c1))
		Expect(e2).To(Equal(e1))
		_, e3 := history(43)
		Expect(e3).NotTo(Equal(e1))
	})
})

func mongoWithout(names []string, drop string) []string {
	return mongoWithoutAll(names, []string{drop})
}

func mongoWithoutAll(names, drop []string) []string {
	var out []string
	for _, n := range names {
		if !slices.Contains(drop, n) {
			out = append(out, n)
		}
	}
	return out
}

func mongoAllNodes(s *Sim) []string {
	var out []string
	for _, n := range s.nodes {
		out = append(out, n.Name)
	}
	return out
}

// mongoSingleFault runs a steady workload through two rounds of one fault
// (kill, stop, pause or partition) on one member or one whole AZ, each
// healed after a random while, and reads everything back.
func mongoSingleFault(seed uint64, concern string) (acked int, lost []uint64) {
	members := []string{east1a, east1b, west1a}
	s, rec := mongoSim(seed, concern, nil)
	r := s.rand("test/faults")
	interval := time.Duration(2+r.IntN(20)) * time.Millisecond
	drive(s, "mongo", 0, interval, 100*time.Second)
	for step := 0; step < 2; step++ {
		mongoRunTo(s, s.Now()+time.Duration(1+r.IntN(20000))*time.Millisecond)
		var targets []string
		if r.IntN(2) == 0 {
			targets = []string{members[r.IntN(len(members))]}
		} else {
			zones := s.topo.Zones()
			zone := zones[r.IntN(len(zones))]
			for _, n := range s.topo.Nodes() {
				if n.Zone == zone {
					targets = append(targets, n.Name)
				}
			}
		}
		if len(targets) == 0 {
			continue
		}
		kind := r.IntN(4)
		rest := mongoWithoutAll(mongoAllNodes(s), targets)
		for _, n := range targets {
			switch kind {
			case 0:
				mongoMust(s.Faults().Kill(mongoCtx, n))
			case 1:
				mongoMust(s.Faults().Stop(mongoCtx, n))
			case 2:
				mongoMust(s.Faults().Pause(mongoCtx, n))
			}
		}
		if kind == 3 {
			mongoMust(s.Faults().Partition(mongoCtx, targets, rest))
		}
		mongoRunTo(s, s.Now()+time.Duration(1+r.IntN(40000))*time.Millisecond)
		for _, n := range targets {
			switch kind {
			case 0, 1:
				mongoMust(s.Faults().Start(mongoCtx, n))
			case 2:
				mongoMust(s.Faults().Resume(mongoCtx, n))
			}
		}
		if kind == 3 {
			mongoMust(s.Faults().Heal(mongoCtx, targets, rest))
		}
	}
	mongoRunTo(s, 160*time.Second)
	return len(mongoAcked(rec)), mongoLost(s, rec)
}
