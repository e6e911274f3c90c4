package simulator_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/reports"
	"github.com/chaosdrill/chaosdrill/runner"
	"github.com/chaosdrill/chaosdrill/scenarios"
	"github.com/chaosdrill/chaosdrill/simulator"
)

// The Mongo scenarios of the library that issues 9 and 17 added, run end to
// end (file, runner, simulator, report): each must show, in the report a
// user reads, what its description promises. Bounds come from the
// documented parameters, not from this run's output.

func runMongoScenario(name string, seed uint64) *reports.Report {
	GinkgoHelper()
	sc, err := scenarios.Load(filepath.Join("..", "scenarios", name+".yaml"), scenarios.WithParameters(simulator.Parameters()))
	Expect(err).NotTo(HaveOccurred())
	rep, err := runner.Run(context.Background(), sc, func(cfg platform.Config) (platform.Platform, error) { return simulator.New(cfg) }, runner.Options{Seed: seed})
	Expect(err).NotTo(HaveOccurred())
	Expect(rep.Verdict).To(Equal(reports.VerdictPass), "%s seed %d: %+v", name, seed, rep.Expectations)
	return rep
}

func defaultParameter(name string) time.Duration {
	GinkgoHelper()
	for _, p := range simulator.Parameters() {
		if p.Name == name {
			d, err := time.ParseDuration(p.Default)
			Expect(err).NotTo(HaveOccurred())
			return d
		}
	}
	Fail("no parameter " + name)
	return 0
}

func mongoEvents(rep *reports.Report, what string) []reports.EventReport {
	var out []reports.EventReport
	for _, e := range rep.Events {
		if e.Service == "mongo" && e.What == what {
			out = append(out, e)
		}
	}
	return out
}

func stepDone(rep *reports.Report, name string) float64 {
	GinkgoHelper()
	for _, s := range rep.Runbook {
		if s.Name == name {
			Expect(s.Error).To(BeEmpty(), name)
			Expect(s.DoneAt).NotTo(BeNil(), name)
			return *s.DoneAt
		}
	}
	Fail("no runbook step " + name)
	return 0
}

var _ = Describe("the Mongo fidelity scenarios of the library", func() {
	heartbeat := defaultParameter("mongo.heartbeat_interval").Seconds()

	It("mongo-psa-secondary-down: nothing acknowledged until the reconfig drops the secondary's vote, then everything", func() {
		for _, seed := range []uint64{1, 2, 3} {
			rep := runMongoScenario("mongo-psa-secondary-down", seed)
			mongo := rep.Services["mongo"]
			fault := *rep.Faults[0].At
			reconfigured := stepDone(rep, "drop-secondary-vote")
			Expect(reconfigured - fault).To(BeNumerically("==", (time.Minute + defaultParameter("mongo.reconfig_duration")).Seconds()))
			// The outage is the operators' minute plus the reconfig, to
			// the millisecond (one trip back to the client).
			Expect(*mongo.RTO).To(BeNumerically("~", reconfigured-fault, 0.005))
			Expect(mongo.Lost).To(BeZero())
			Expect(mongo.Unknown).To(BeNumerically(">", 0))
			Expect(mongoEvents(rep, platform.EventPrimaryElected)).To(BeEmpty(), "the primary kept the arbiter's vote")
			Expect(mongoEvents(rep, platform.EventReconfigured)).To(HaveLen(2))
			stepDone(rep, "restore-secondary-vote")
		}
	})

	It("mongo-step-down-under-lag: writes wait for the new primary, and not one w:1 write is lost", func() {
		rep := runMongoScenario("mongo-step-down-under-lag", 1)
		mongo := rep.Services["mongo"]
		Expect(mongo.Lost).To(BeZero())
		stepAt := *rep.Runbook[0].StartedAt
		elected := mongoEvents(rep, platform.EventPrimaryElected)
		Expect(elected).NotTo(BeEmpty())
		Expect(elected[0].Node).To(Equal("mongo-east-1b"))
		Expect(elected[0].At - stepAt).To(BeNumerically("<", defaultParameter("mongo.step_down_catch_up").Seconds()))
		// The longest write waited from the command to the new primary.
		Expect(mongo.WriteLatency.Max / 1000).To(BeNumerically("~", elected[0].At-stepAt, 0.05))
	})

	It("mongo-stale-member: the standby comes back stale, is no copy until resynced, and redundancy counts to its catch-up", func() {
		rep := runMongoScenario("mongo-stale-member", 1)
		mongo := rep.Services["mongo"]
		fault := rep.Faults[0]
		stale := mongoEvents(rep, platform.EventMemberStale)
		Expect(stale).To(HaveLen(1))
		Expect(stale[0].Node).To(Equal("mongo-west-1a"))
		Expect(stale[0].At).To(Equal(*fault.HealedAt))
		resynced := stepDone(rep, "resync-standby")
		caught := mongoEvents(rep, platform.EventMemberCaughtUp)
		Expect(caught).To(HaveLen(1))
		Expect(caught[0].At - resynced).To(BeNumerically("<=", heartbeat))
		Expect(*mongo.Redundancy).To(BeNumerically("~", caught[0].At-*fault.At, 1e-6))
		Expect(mongo.Lost).To(BeZero())
		Expect(*mongo.RTO).To(BeZero())
	})

	It("mongo-add-member-from-backup: one member catches up from the backup, the other falls back to an initial sync, and redundancy runs to the last caught up", func() {
		rep := runMongoScenario("mongo-add-member-from-backup", 2)
		mongo := rep.Services["mongo"]
		added := mongoEvents(rep, platform.EventMemberAdded)
		Expect(added).To(HaveLen(2))
		Expect(added[0].Node).To(Equal("mongo-west-1b"))
		Expect(added[0].Detail).To(ContainSubstring("restored the backup of 10m0s"))
		Expect(added[1].Node).To(Equal("mongo-west-1c"))
		Expect(added[1].Detail).To(HavePrefix("initial sync of"))
		stale := mongoEvents(rep, platform.EventMemberStale)
		Expect(stale).To(HaveLen(1))
		Expect(stale[0].Node).To(Equal("mongo-west-1c"))

		// West-1b's lag, sampled every heartbeat from the restore, falls
		// to within the normal lag.
		var samples []string
		for _, e := range mongoEvents(rep, platform.EventReplicationLag) {
			if e.Node == "mongo-west-1b" && e.At > added[0].At && e.At <= added[0].At+10*heartbeat {
				samples = append(samples, e.Detail)
			}
		}
		Expect(len(samples)).To(BeNumerically(">=", 2))
		first, err := time.ParseDuration(samples[0])
		Expect(err).NotTo(HaveOccurred())
		Expect(first).To(BeNumerically(">", time.Minute), "restored from the 10m backup, it starts minutes behind")
		caught := mongoEvents(rep, platform.EventMemberCaughtUp)
		Expect(caught).To(HaveLen(2))
		Expect(caught[0].Detail).To(Equal(samples[len(samples)-1]))
		Expect(*mongo.Redundancy).To(BeNumerically("~", caught[1].At-*rep.Faults[0].At, 1e-6))
		// The added member was a valid target for the fault after its step.
		Expect(rep.Faults[1].Error).To(BeEmpty())
		Expect(rep.Faults[1].Nodes).To(Equal([]string{"mongo-west-1b"}))
		// Added members did not exist at the fault: no lag is made up for
		// them, and the east members' lag is measured against east-1a.
		Expect(mongo.ReplicationLag).To(HaveLen(3))
		Expect(mongo.ReplicationLag).To(HaveKeyWithValue("mongo-east-1a", BeZero()))
	})

	It("mongo-partition-w1-reads: majority reads show none of the cut-off primary's doomed writes; local reads there are dirty", func() {
		offset := 0.0
		for _, p := range simulator.Parameters() {
			if p.Name == "mongo.election_offset_fraction" {
				var err error
				offset, err = strconv.ParseFloat(p.Default, 64)
				Expect(err).NotTo(HaveOccurred())
			}
		}
		election := defaultParameter("mongo.election_timeout").Seconds() * (1 + offset)
		const readRate = 100.0
		for _, seed := range []uint64{1, 2, 3} {
			rep := runMongoScenario("mongo-partition-w1-reads", seed)
			mongo := rep.Services["mongo"]
			Expect(mongo.Lost).To(BeNumerically(">", 0))
			Expect(mongo.Reads.Dirty).To(BeZero())
			Expect(mongo.Reads.Failed + mongo.Reads.Unknown).To(BeZero())
			// w:1 acknowledges before a majority holds the write; while the
			// cut lasts the new primary's majority waits on the west member.
			Expect(mongo.Reads.Stale).To(BeNumerically(">", 0))
			Expect(mongo.Reads.ServedBy).NotTo(HaveKey("mongo-west-1a"))

			sc, err := scenarios.Load(filepath.Join("..", "scenarios", "mongo-partition-w1-reads.yaml"), scenarios.WithParameters(simulator.Parameters()))
			Expect(err).NotTo(HaveOccurred())
			Expect(sc.Workloads[1].ReadConcern).To(Equal(platform.ReadConcernMajority))
			sc.Workloads[1].ReadConcern = platform.ReadConcernLocal
			local, err := runner.Run(context.Background(), sc, func(cfg platform.Config) (platform.Platform, error) { return simulator.New(cfg) }, runner.Options{Seed: seed})
			Expect(err).NotTo(HaveOccurred())
			reads := local.Services["mongo"].Reads
			// The cut-off primary answers local reads with its own w:1
			// writes until it steps down, an election timeout after the cut
			// (plus at most the offset): those reads returned writes that
			// were rolled back.
			Expect(reads.Dirty).To(BeNumerically(">", 0))
			Expect(float64(reads.Dirty)).To(BeNumerically("<=", election*readRate+1))
			Expect(local.Services["mongo"].Lost).To(Equal(mongo.Lost), "reads change nothing in the replica set")
			Expect(local.Verdict).To(Equal(reports.VerdictFail), "its dirty_reads_max: 0 catches them")
		}
	})

	It("mongo-secondary-reads: never reads the hidden west member; a secondary cut off from the primary serves stale reads until the heal, none dirty", func() {
		for _, seed := range []uint64{1, 2, 3} {
			rep := runMongoScenario("mongo-secondary-reads", seed)
			reads := rep.Services["mongo"].Reads
			Expect(reads.ServedBy).To(Equal(map[string]int64{"mongo-east-1b": reads.OK + reads.Stale}))
			Expect(reads.Dirty).To(BeZero())
			// 30 s of reads at 100/s hit a member that applies nothing new.
			Expect(reads.Stale).To(BeNumerically(">=", 2900))
			Expect(reads.Stale).To(BeNumerically("<=", 3100))
		}
	})

	It("gives a byte-identical report.json for the same seed", func() {
		for _, name := range []string{"mongo-psa-secondary-down", "mongo-stale-member", "mongo-partition-w1-reads", "mongo-secondary-reads"} {
			var a, b bytes.Buffer
			Expect(reports.WriteJSON(&a, runMongoScenario(name, 7))).To(Succeed())
			Expect(reports.WriteJSON(&b, runMongoScenario(name, 7))).To(Succeed())
			Expect(a.Len()).To(BeNumerically(">", 0))
			Expect(bytes.Equal(a.Bytes(), b.Bytes())).To(BeTrue(), name)
		}
	})
})
