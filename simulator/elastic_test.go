package simulator

import (
	"context"
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
)

// Log events are numbered from 0, artifacts from esArtifactOps, so the two
// workloads never share an op id.
const esArtifactOps = 1 << 40

var esCtx = context.Background()

// esOf returns the simulator's elasticsearch model.
func esOf(s *Sim) *elasticModel { return s.byService["logs"].(*elasticModel) }

// esParam reads a duration parameter as the run sees it.
func esParam(s *Sim, name string) time.Duration { return s.params.duration(name) }

// esOps lists the ops a writer issued.
func esOps(first uint64, w *writer) []uint64 {
	var out []uint64
	for id := first; id < w.next; id++ {
		out = append(out, id)
	}
	return out
}

// esLostAcked returns the acknowledged ops that the service no longer has.
func esLostAcked(s *Sim, rec *recorder, service string, ops []uint64) []uint64 {
	c, err := s.Client(service)
	Expect(err).NotTo(HaveOccurred())
	present := make([]bool, len(ops))
	Expect(c.ReadBack(esCtx, ops, present)).To(Succeed())
	var lost []uint64
	for i, id := range ops {
		if rec.outcomes[id] == platform.Acked && !present[i] {
			lost = append(lost, id)
		}
	}
	return lost
}

// esLongestAckGap is the longest stretch after from during which no op of
// the list was acknowledged: the write outage the apps saw.
func esLongestAckGap(rec *recorder, ops []uint64, from, until time.Duration) time.Duration {
	var times []time.Duration
	for _, id := range ops {
		if at, ok := rec.completed[id]; ok && rec.outcomes[id] == platform.Acked && at >= from && at <= until {
			times = append(times, at)
		}
	}
	if len(times) == 0 {
		return until - from
	}
	esSortDurations(times)
	gap := times[0] - from
	for i := 1; i < len(times); i++ {
		gap = max(gap, times[i]-times[i-1])
	}
	return max(gap, until-times[len(times)-1])
}

func esSortDurations(d []time.Duration) {
	for i := 1; i < len(d); i++ {
		for j := i; j > 0 && d[j] < d[j-1]; j-- {
			d[j], d[j-1] = d[j-1], d[j]
		}
	}
}

// esFirstEventAfter returns the first event of a kind at or after t.
func esFirstEventAfter(rec *recorder, what string, t time.Duration) (platform.Event, bool) {
	for _, e := range rec.events {
		if e.What == what && e.At >= t {
			return e, true
		}
	}
	return platform.Event{}, false
}

// esLargestShard is the event count of the fullest shard: what a recovery
// copies at most.
func esLargestShard(s *Sim) int {
	n := 0
	for _, sh := range esOf(s).cluster.shards {
		n = max(n, sh.log.len())
	}
	return n
}

// esNodesSharingAShard returns two ES nodes that hold both copies of some
// shard and whose loss leaves a voting quorum, if the seed's placement has
// such a pair.
func esNodesSharingAShard(s *Sim) (a, b string, ok bool) {
	c := esOf(s).cluster
	for _, sh := range c.shards {
		if len(sh.copies) != 2 {
			continue
		}
		x, y := c.nodes[sh.copies[0].node], c.nodes[sh.copies[1].node]
		if x.voter && y.voter {
			continue
		}
		return x.sn.Name, y.sn.Name, true
	}
	return "", "", false
}

// esZoneNodes lists the nodes of a zone, as an az: fault selects them.
func esZoneNodes(s *Sim, zone string) []string {
	return platform.Selector{Kind: platform.SelectZone, Value: zone}.Static(s.topo)
}

var _ = Describe("the elasticsearch cluster behind the log tier", func() {
	const every = 10 * time.Millisecond

	It("es-node-kill: loses no acknowledged event, stalls writes for well under a second, goes yellow and back to green after delayed_timeout plus recovery", func() {
		s, rec := newTestSim(nil, 1, nil)
		w := drive(s, "logs", 0, every, 5*time.Minute)
		fault := time.Minute
		Expect(s.Run(esCtx, fault)).To(Succeed())
		master, err := s.Role("logs:master")
		Expect(err).NotTo(HaveOccurred())
		Expect(master).To(HaveLen(1))
		Expect(s.Faults().Kill(esCtx, master[0])).To(Succeed())
		Expect(s.Run(esCtx, 5*time.Minute)).To(Succeed())

		ops := esOps(0, w)
		Expect(esLostAcked(s, rec, "logs", ops)).To(BeEmpty())
		// The master's loss is noticed at once; the outage is an election.
		Expect(esLongestAckGap(rec, ops, fault-time.Second, 4*time.Minute)).To(BeNumerically("<", esParam(s, "es.election_initial_timeout")+slack(s)))
		elected, ok := esFirstEventAfter(rec, platform.EventMasterElected, fault)
		Expect(ok).To(BeTrue())
		Expect(elected.Node).NotTo(Equal(master[0]))

		green := expectYellowThenGreenAfterDelayedAllocation(s, rec, fault)
		_, ok = esFirstEventAfter(rec, platform.EventRedundancyRestored, green.At)
		Expect(ok).To(BeTrue())
	})

	It("az-outage: losing us-east-1b loses no acknowledged event and heals after delayed_timeout plus recovery", func() {
		s, rec := newTestSim(nil, 2, nil)
		w := drive(s, "logs", 0, every, 5*time.Minute)
		fault := time.Minute
		Expect(s.Run(esCtx, fault)).To(Succeed())
		for _, n := range esZoneNodes(s, "us-east-1b") {
			Expect(s.Faults().Kill(esCtx, n)).To(Succeed())
		}
		Expect(s.Run(esCtx, 5*time.Minute)).To(Succeed())

		ops := esOps(0, w)
		Expect(esLostAcked(s, rec, "logs", ops)).To(BeEmpty())
		Expect(esLongestAckGap(rec, ops, fault-time.Second, 4*time.Minute)).To(BeNumerically("<", esParam(s, "es.election_initial_timeout")+slack(s)))
		expectYellowThenGreenAfterDelayedAllocation(s, rec, fault)
	})

	It("es-rolling-restart: restarting each node in turn, waiting for green between, loses nothing and never stalls writes for long", func() {
		s, rec := newTestSim(nil, 3, nil)
		end := 15 * time.Minute
		w := drive(s, "logs", 0, every, end)
		Expect(s.Run(esCtx, 30*time.Second)).To(Succeed())
		down := 10 * time.Second
		for _, np := range s.topo.Services[1].Nodes {
			stopAt := s.Now()
			Expect(s.Faults().Stop(esCtx, np.Name)).To(Succeed())
			Expect(s.Run(esCtx, stopAt+down)).To(Succeed())
			Expect(s.Faults().Start(esCtx, np.Name)).To(Succeed())
			_, yellow := esFirstEventAfter(rec, platform.EventHealthYellow, stopAt)
			Expect(yellow).To(BeTrue())
			// Wait for green, as the upgrade procedure says.
			for {
				if _, green := esFirstEventAfter(rec, platform.EventHealthGreen, stopAt); green {
					break
				}
				Expect(s.Now()).To(BeNumerically("<", end), "no green after restarting %s", np.Name)
				Expect(s.Run(esCtx, s.Now()+time.Second)).To(Succeed())
			}
			// Back within the delayed timeout: only the missed operations are
			// recovered, so green comes well before the timeout.
			green, _ := esFirstEventAfter(rec, platform.EventHealthGreen, stopAt)
			Expect(green.At - stopAt).To(BeNumerically("<", down+esParam(s, "es.node_boot_time")+esParam(s, "es.delayed_timeout")))
		}
		Expect(s.Run(esCtx, end)).To(Succeed())
		ops := esOps(0, w)
		Expect(esLostAcked(s, rec, "logs", ops)).To(BeEmpty())
		Expect(esLongestAckGap(rec, ops, 0, end-time.Second)).To(BeNumerically("<", esParam(s, "es.election_initial_timeout")+slack(s)))
	})

	It("notices a killed node at once but a paused one only after the follower checks give up (about 30 s)", func() {
		detection := func(fault func(*Sim, string) error) time.Duration {
			s, rec := newTestSim(nil, 4, nil)
			drive(s, "logs", 0, every, 3*time.Minute)
			Expect(s.Run(esCtx, time.Minute)).To(Succeed())
			master, _ := s.Role("logs:master")
			var victim string
			for _, np := range s.topo.Services[1].Nodes {
				if np.Name != master[0] {
					victim = np.Name
					break
				}
			}
			Expect(fault(s, victim)).To(Succeed())
			Expect(s.Run(esCtx, 3*time.Minute)).To(Succeed())
			yellow, ok := esFirstEventAfter(rec, platform.EventHealthYellow, time.Minute)
			Expect(ok).To(BeTrue())
			return yellow.At - time.Minute
		}
		killed := detection(func(s *Sim, n string) error { return s.Faults().Kill(esCtx, n) })
		paused := detection(func(s *Sim, n string) error { return s.Faults().Pause(esCtx, n) })

		s, _ := newTestSim(nil, 4, nil)
		interval := esParam(s, "es.follower_check_interval")
		retries := time.Duration(s.params.integer("es.follower_check_retry_count"))
		checks := retries*esParam(s, "es.follower_check_timeout") + (retries-1)*interval
		Expect(killed).To(BeNumerically("<", slack(s)))
		Expect(paused).To(BeNumerically(">=", checks))
		Expect(paused).To(BeNumerically("<=", checks+interval))
	})

	It("does not elect a master, nor acknowledge writes, without a quorum of the voting configuration", func() {
		s, rec := newTestSim(nil, 5, nil)
		w := drive(s, "logs", 0, every, 3*time.Minute)
		Expect(s.Run(esCtx, time.Minute)).To(Succeed())
		c := esOf(s).cluster
		killed := 0
		for _, n := range c.nodes {
			if n.voter && killed < 2 {
				Expect(s.Faults().Kill(esCtx, n.sn.Name)).To(Succeed())
				killed++
			}
		}
		Expect(s.Run(esCtx, 3*time.Minute)).To(Succeed())
		Expect(rec.eventsOf(platform.EventHealthRed)).NotTo(BeEmpty())
		Expect(esLongestAckGap(rec, esOps(0, w), time.Minute, 3*time.Minute)).To(BeNumerically(">", time.Minute))
		master, _ := s.Role("logs:master")
		Expect(master).To(BeEmpty())
	})

	Describe("two-az-outage", func() {
		// two AZs holding both copies of a shard, with a quorum left.
		setup := func(params map[string]string) (*Sim, *recorder, *writer, []string, time.Duration) {
			for seed := uint64(1); ; seed++ {
				s, rec := newTestSim(nil, seed, params)
				a, b, ok := esNodesSharingAShard(s)
				if !ok {
					continue
				}
				w := drive(s, "logs", 0, every, 20*time.Minute)
				// After the first snapshot reached the bucket.
				fault := esFirstSnapshotSettled(s) + time.Minute
				Expect(s.Run(esCtx, fault)).To(Succeed())
				Expect(s.Faults().Kill(esCtx, a)).To(Succeed())
				Expect(s.Faults().Kill(esCtx, b)).To(Succeed())
				return s, rec, w, []string{a, b}, fault
			}
		}

		It("turns red, and its read-back fails naming the shards whose copies were both lost: their events are unverified, not lost", func() {
			s, rec, w, _, fault := setup(nil)
			Expect(s.Run(esCtx, fault+3*time.Minute)).To(Succeed())
			red, ok := esFirstEventAfter(rec, platform.EventHealthRed, fault)
			Expect(ok).To(BeTrue())
			Expect(red.Detail).To(ContainSubstring("of 5 shards have no active copy"))
			c := esOf(s).cluster
			var dead []string
			for i, sh := range c.shards {
				if sh.primary() == nil {
					dead = append(dead, fmt.Sprint(i))
				}
			}
			Expect(dead).NotTo(BeEmpty())
			// The live read-back's multi-get answers
			// no_shard_available_action_exception for those documents,
			// and the live adapter fails on it; so does the model.
			client, err := s.Client("logs")
			Expect(err).NotTo(HaveOccurred())
			ops := esOps(0, w)
			err = client.ReadBack(esCtx, ops, make([]bool, len(ops)))
			Expect(err).To(MatchError(ContainSubstring(fmt.Sprintf("shards %s: no_shard_available_action_exception", strings.Join(dead, ",")))))
		})

		It("gets everything back when the nodes return", func() {
			s, rec, w, nodes, fault := setup(nil)
			Expect(s.Run(esCtx, fault+2*time.Minute)).To(Succeed())
			for _, n := range nodes {
				Expect(s.Faults().Start(esCtx, n)).To(Succeed())
			}
			Expect(s.Run(esCtx, fault+8*time.Minute)).To(Succeed())
			Expect(esLostAcked(s, rec, "logs", esOps(0, w))).To(BeEmpty())
			_, ok := esFirstEventAfter(rec, platform.EventRedundancyRestored, fault)
			Expect(ok).To(BeTrue())
		})

		It("gets back everything up to the snapshot when restored from it", func() {
			s, rec, w, _, fault := setup(nil)
			Expect(s.Run(esCtx, fault+2*time.Minute)).To(Succeed())
			snap, ok := esOf(s).s3.latestSnapshot("us-east-1")
			Expect(ok).To(BeTrue())
			Expect(snap).NotTo(BeNil())
			done := &esActions{}
			Expect(s.StartAction(esCtx, platform.Action{Name: "restore", Action: platform.ActionLogsRestoreSnapshot, Params: map[string]string{"region": "us-east-1"}}, done)).To(Succeed())
			Expect(s.Run(esCtx, fault+8*time.Minute)).To(Succeed())
			Expect(done.errs).To(Equal([]error{nil}))
			_, ok = esFirstEventAfter(rec, platform.EventRestoreCompleted, fault)
			Expect(ok).To(BeTrue())

			ops := esOps(0, w)
			lost := esLostAcked(s, rec, "logs", ops)
			Expect(lost).NotTo(BeEmpty())
			for _, id := range lost {
				Expect(rec.completed[id]).To(BeNumerically(">", snap.takenAt), "event %d acked before the snapshot is missing", id)
			}
			// Writes go to the restored cluster.
			Expect(esLongestAckGap(rec, ops, done.at[0]+time.Second, fault+8*time.Minute)).To(BeNumerically("<", time.Second))
		})

		It("logs.ack_on_receipt=true loses acknowledged events where false loses none", func() {
			lose := func(ackOnReceipt string) int {
				s, rec, w, nodes, fault := setup(map[string]string{"logs.ack_on_receipt": ackOnReceipt})
				// Longer than the tier keeps retrying: the bulk timeout per
				// attempt plus the backoff.
				outage := 2*esParam(s, "es.primary_wait_timeout") + 3*esParam(s, "logs.retry_wait") + time.Minute
				Expect(s.Run(esCtx, fault+outage)).To(Succeed())
				for _, n := range nodes {
					Expect(s.Faults().Start(esCtx, n)).To(Succeed())
				}
				Expect(s.Run(esCtx, fault+outage+5*time.Minute)).To(Succeed())
				return len(esLostAcked(s, rec, "logs", esOps(0, w)))
			}
			Expect(lose("false")).To(BeZero())
			Expect(lose("true")).To(BeNumerically(">", 0))
		})
	})

	It("property: no single node or single AZ loss loses an acknowledged event (200 seeds)", func() {
		zones := platform.Ion().Regions[0].Zones
		for seed := uint64(1); seed <= 200; seed++ {
			s, rec := newTestSim(nil, seed, nil)
			r := s.rand("test/property")
			w := drive(s, "logs", 0, 20*time.Millisecond, 3*time.Minute)
			fault := 10*time.Second + time.Duration(r.Int64N(int64(time.Minute)))
			Expect(s.Run(esCtx, fault)).To(Succeed())
			var victims []string
			if r.IntN(2) == 0 {
				victims = esZoneNodes(s, zones[r.IntN(len(zones))])
			} else {
				victims = []string{s.topo.Services[1].Nodes[r.IntN(4)].Name}
			}
			kind := r.IntN(3)
			for _, v := range victims {
				switch kind {
				case 0:
					Expect(s.Faults().Kill(esCtx, v)).To(Succeed())
				case 1:
					Expect(s.Faults().Stop(esCtx, v)).To(Succeed())
				default:
					Expect(s.Faults().Pause(esCtx, v)).To(Succeed())
				}
			}
			if r.IntN(2) == 0 {
				Expect(s.Run(esCtx, fault+time.Duration(r.Int64N(int64(2*time.Minute))))).To(Succeed())
				for _, v := range victims {
					if kind == 2 {
						Expect(s.Faults().Resume(esCtx, v)).To(Succeed())
					} else {
						Expect(s.Faults().Start(esCtx, v)).To(Succeed())
					}
				}
			}
			Expect(s.Run(esCtx, 4*time.Minute)).To(Succeed())
			Expect(esLostAcked(s, rec, "logs", esOps(0, w))).To(BeEmpty(), "seed %d, victims %v, fault kind %d", seed, victims, kind)
		}
	})
})

func esFirstSnapshotSettled(s *Sim) time.Duration {
	spec, _ := s.topo.Service("logs")
	return spec.SnapshotInterval.D() + esParam(s, "es.snapshot_base") + 10*time.Second
}

// esActions records runbook completions.
type esActions struct {
	names []string
	errs  []error
	at    []time.Duration
}

func (l *esActions) ActionDone(name string, err error, at time.Duration) {
	l.names = append(l.names, name)
	l.errs = append(l.errs, err)
	l.at = append(l.at, at)
}

// expectYellowThenGreenAfterDelayedAllocation checks the health story of a
// lost node: yellow at once, green no sooner than delayed_timeout and no
// later than that plus rebuilding the largest shard. It returns the green
// event.
func expectYellowThenGreenAfterDelayedAllocation(s *Sim, rec *recorder, fault time.Duration) platform.Event {
	GinkgoHelper()
	yellow, ok := esFirstEventAfter(rec, platform.EventHealthYellow, fault)
	Expect(ok).To(BeTrue())
	Expect(yellow.At - fault).To(BeNumerically("<", slack(s)))
	green, ok := esFirstEventAfter(rec, platform.EventHealthGreen, fault)
	Expect(ok).To(BeTrue())
	delayed := esParam(s, "es.delayed_timeout")
	Expect(green.At - fault).To(BeNumerically(">=", delayed))
	Expect(green.At - fault).To(BeNumerically("<=", delayed+esOf(s).recoveryTime(esLargestShard(s))+slack(s)))
	return green
}

// slack is what a bound allows on top of the modelled delays: network round
// trips and bulk batching, far below the follower-check time (about 30 s)
// and the delayed-allocation timeout (1 min).
func slack(s *Sim) time.Duration {
	return esParam(s, "logs.flush_interval") + 4*esParam(s, "es.index_latency") + 100*time.Millisecond
}
