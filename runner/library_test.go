package runner

import (
	"context"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/reports"
	"github.com/chaosdrill/chaosdrill/scenarios"
	"github.com/chaosdrill/chaosdrill/simulator"
)

// The scenario library, run end to end on the simulator: what each file
// promises in its description is checked here against the report a user
// reads, on several seeds. Bounds come from the documented defaults the
// simulator's parameters carry, not from this run's output.

func runLibrary(name string, seed uint64) *reports.Report {
	GinkgoHelper()
	sc, err := scenarios.Load(filepath.Join("..", "scenarios", name+".yaml"), scenarios.WithParameters(simulator.Parameters()))
	Expect(err).NotTo(HaveOccurred())
	rep, err := Run(context.Background(), sc, func(cfg platform.Config) (platform.Platform, error) { return simulator.New(cfg) }, Options{Seed: seed})
	Expect(err).NotTo(HaveOccurred())
	return rep
}

// parameter is a simulator default, as a duration in seconds.
func parameter(name string) float64 {
	GinkgoHelper()
	for _, p := range simulator.Parameters() {
		if p.Name == name {
			d, err := time.ParseDuration(p.Default)
			Expect(err).NotTo(HaveOccurred())
			return d.Seconds()
		}
	}
	Fail("no parameter " + name)
	return 0
}

func eventsOf(rep *reports.Report, service, what string) []reports.EventReport {
	var out []reports.EventReport
	for _, e := range rep.Events {
		if e.Service == service && e.What == what {
			out = append(out, e)
		}
	}
	return out
}

var seeds = []uint64{1, 2, 3}

var _ = Describe("the scenario library on the simulator", func() {
	files, _ := filepath.Glob(filepath.Join("..", "scenarios", "*.yaml"))
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		It("meets the expectations of "+name+" on seeds 1-3", func() {
			for _, seed := range seeds {
				rep := runLibrary(name, seed)
				Expect(rep.Verdict).To(Equal(reports.VerdictPass), "%s seed %d: %+v", name, seed, rep.Expectations)
			}
		})
	}
	It("has the eleven scenarios the issue names", func() {
		for _, name := range []string{"mongo-primary-kill", "mongo-partition-w1", "mongo-partition-majority", "es-node-kill", "az-outage",
			"two-az-outage", "es-rolling-restart", "east-west-partition", "east-region-outage", "east-region-outage-multiregion", "west-region-outage"} {
			Expect(filepath.Join("..", "scenarios", name+".yaml")).To(BeAnExistingFile())
		}
	})

	It("mongo-primary-kill: a new primary within the documented election time, nothing lost", func() {
		election := parameter("mongo.election_timeout")
		for _, seed := range seeds {
			mongo := runLibrary("mongo-primary-kill", seed).Services["mongo"]
			Expect(mongo.Lost).To(BeZero())
			// Detection takes the election timeout; "typically within 12 s"
			// (MongoDB docs) plus the driver's rediscovery (0.5 s polling).
			Expect(*mongo.RTO).To(BeNumerically(">=", election-parameter("mongo.heartbeat_interval")))
			Expect(*mongo.RTO).To(BeNumerically("<=", 12.5))
		}
	})

	It("mongo-partition-w1 loses acknowledged writes and lists them; with majority nothing is lost", func() {
		w1 := runLibrary("mongo-partition-w1", 1)
		Expect(w1.Services["mongo"].Lost).To(BeNumerically(">", 0))
		Expect(w1.Services["mongo"].LostWrites).NotTo(BeEmpty())
		Expect(eventsOf(w1, "mongo", platform.EventRollback)).NotTo(BeEmpty())
		majority := runLibrary("mongo-partition-majority", 1)
		Expect(majority.Services["mongo"].Lost).To(BeZero())
	})

	for _, name := range []string{"es-node-kill", "az-outage", "es-rolling-restart"} {
		It(name+": no log event lost, a write stall of seconds, yellow then green", func() {
			rep := runLibrary(name, 2)
			logs := rep.Services["logs"]
			Expect(logs.Lost).To(BeZero())
			Expect(*logs.RTO).To(BeNumerically("<", 30))
			yellow, green := eventsOf(rep, "logs", platform.EventHealthYellow), eventsOf(rep, "logs", platform.EventHealthGreen)
			Expect(yellow).NotTo(BeEmpty())
			Expect(green).NotTo(BeEmpty())
			Expect(green[len(green)-1].At).To(BeNumerically(">", yellow[0].At))
		})
	}

	It("es-node-kill: green again only after the delayed-allocation timeout", func() {
		rep := runLibrary("es-node-kill", 1)
		fault := *rep.Faults[0].At
		green := eventsOf(rep, "logs", platform.EventHealthGreen)
		Expect(green).NotTo(BeEmpty())
		Expect(green[len(green)-1].At - fault).To(BeNumerically(">=", parameter("es.delayed_timeout")))
		Expect(*rep.Services["logs"].Redundancy).To(BeNumerically(">=", parameter("es.delayed_timeout")))
	})

	It("east-region-outage answers the three questions in numbers", func() {
		rep := runLibrary("east-region-outage", 1)
		mongo := rep.Services["mongo"]
		// No primary until the runbook: RTO at least the operator delay
		// this run drew.
		delay, err := time.ParseDuration(rep.Sampled["runbook.promote-west.operator_delay"])
		Expect(err).NotTo(HaveOccurred(), "the report records the operator delay drawn")
		Expect(*mongo.RTO).To(BeNumerically(">=", delay.Seconds()))
		// w: majority lost acknowledged writes: those still on their way
		// west. A write the primary had longer ago than the east-west link
		// (as this run drew it) plus an apply batch was in the west, so
		// that bounds the RPO; the report says how far behind west was.
		Expect(mongo.Lost).To(BeNumerically(">", 0))
		Expect(mongo.RPO).To(BeNumerically(">", 0))
		lag, ok := mongo.ReplicationLag["mongo-west-1a"]
		Expect(ok).To(BeTrue(), "the report says how far behind the west standby was")
		Expect(lag).To(BeNumerically(">", 0))
		link, err := time.ParseDuration(rep.Sampled["latency.mongo-east-1a|mongo-west-1a"])
		Expect(err).NotTo(HaveOccurred())
		Expect(mongo.RPO).To(BeNumerically("<=", link.Seconds()+parameter("mongo.apply_batch_overhead")))
		// Three members again: redundancy is reported.
		Expect(mongo.Redundancy).NotTo(BeNil())
		Expect(eventsOf(rep, "mongo", platform.EventMemberAdded)).To(HaveLen(2))
		// Logs and artifacts: bounded by the snapshot and sync intervals.
		snapshot, sync := (5 * time.Minute).Seconds(), time.Minute.Seconds()
		Expect(rep.Services["logs"].RPO).To(BeNumerically("<=", snapshot+sync+30))
		Expect(rep.Services["artifacts"].RPO).To(BeNumerically("<=", sync+10))
		Expect(rep.Services["logs"].RTO).NotTo(BeNil())
	})

	It("east-region-outage-multiregion loses no Mongo write and shows the cross-region latency it costs", func() {
		majority := runLibrary("east-region-outage", 1).Services["mongo"]
		rep := runLibrary("east-region-outage-multiregion", 1)
		multi := rep.Services["mongo"]
		Expect(multi.Lost).To(BeZero())
		// Every multiRegion write before the fault (a quarter to a third of
		// the run's writes: the fault comes 10-15 minutes into 40) waits
		// for a west member: at least one cross-region round trip, over
		// the link as this run drew it; majority is answered inside the
		// east.
		link, err := time.ParseDuration(rep.Sampled["latency.mongo-east-1a|mongo-west-1a"])
		Expect(err).NotTo(HaveOccurred(), "the report records the east-west latency the run drew")
		roundTrip := float64(2*link) / float64(time.Millisecond)
		Expect(multi.WriteLatency.P90).To(BeNumerically(">=", roundTrip))
		Expect(majority.WriteLatency.P50).To(BeNumerically("<", roundTrip/4))
	})

	It("two-az-outage: red, rebuilt from the last snapshot, and the events after it lost", func() {
		rep := runLibrary("two-az-outage", 1)
		Expect(eventsOf(rep, "logs", platform.EventHealthRed)).NotTo(BeEmpty())
		restored := eventsOf(rep, "logs", platform.EventRestoreCompleted)
		Expect(restored).To(HaveLen(1))
		logs := rep.Services["logs"]
		Expect(logs.RTO).NotTo(BeNil())
		Expect(logs.Lost).To(BeNumerically(">", 0))
		// What was lost is what came after the snapshot: at most the
		// snapshot interval before the fault.
		Expect(logs.RPO).To(BeNumerically("<=", (5 * time.Minute).Seconds()))
		Expect(rep.Services["mongo"].Lost).To(BeZero())
	})
})
