package runner

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
)

// Library scenarios of the Elasticsearch, log-tier and S3 models (issues 9
// and 17): what each file's description promises, checked on the report.

var _ = Describe("the Elasticsearch and S3 scenarios of the library", func() {
	It("es-quorum-loss: no master while two of three voters are down; elected as soon as they have booted, nothing lost", func() {
		// Elasticsearch elects a master once a quorum of the voting
		// configuration is back (https://www.elastic.co/guide/en/elasticsearch/reference/current/modules-discovery-quorums.html).
		boot, election := parameter("es.node_boot_time"), parameter("es.election_initial_timeout")
		for _, seed := range seeds {
			rep := runLibrary("es-quorum-loss", seed)
			fault, healed := *rep.Faults[0].At, *rep.Faults[0].HealedAt
			logs := rep.Services["logs"]
			Expect(logs.Lost).To(BeZero())
			Expect(logs.RTO).NotTo(BeNil(), "seed %d: never recovered", seed)
			down := healed - fault
			Expect(*logs.RTO).To(BeNumerically(">=", down+boot))
			Expect(*logs.RTO).To(BeNumerically("<=", down+boot+election+1))
			elected := eventsOf(rep, "logs", platform.EventMasterElected)
			Expect(elected[len(elected)-1].At).To(BeNumerically("~", healed+boot, election+0.01))
		}
	})

	It("es-cluster-restart: the whole cluster killed and started again elects a master after the boot and loses nothing", func() {
		boot, election := parameter("es.node_boot_time"), parameter("es.election_initial_timeout")
		for _, seed := range seeds {
			rep := runLibrary("es-cluster-restart", seed)
			healed := *rep.Faults[0].HealedAt
			logs := rep.Services["logs"]
			Expect(logs.Lost).To(BeZero())
			Expect(logs.RTO).NotTo(BeNil())
			Expect(*rep.Faults[0].At + *logs.RTO).To(BeNumerically("<=", healed+boot+election+1))
			green := eventsOf(rep, "logs", platform.EventHealthGreen)
			Expect(green).NotTo(BeEmpty())
			Expect(green[len(green)-1].At).To(BeNumerically(">=", healed+boot))
		}
	})

	It("east-region-outage-heal: a region that comes back brings every service back, nothing lost", func() {
		boot := parameter("es.node_boot_time")
		for _, seed := range seeds {
			rep := runLibrary("east-region-outage-heal", seed)
			healed := *rep.Faults[0].HealedAt
			for _, name := range []string{"mongo", "logs", "artifacts"} {
				s := rep.Services[name]
				Expect(s.Lost).To(BeZero(), "%s seed %d", name, seed)
				Expect(s.RTO).NotTo(BeNil(), "%s seed %d never recovered", name, seed)
				// Back within the slowest path: a boot, an election and the
				// driver's rediscovery (see recoveryBound).
				Expect(*rep.Faults[0].At+*s.RTO).To(BeNumerically("<=", healed+recoveryBound.Seconds()), "%s seed %d", name, seed)
			}
			Expect(*rep.Faults[0].At + *rep.Services["logs"].RTO).To(BeNumerically(">=", healed+boot))
			Expect(eventsOf(rep, "mongo", platform.EventPrimaryElected)).NotTo(BeEmpty())
		}
	})

	It("es-partial-snapshot: the snapshot a node died in is PARTIAL; the restore takes the one before, about 9 minutes lost (issue 17.2)", func() {
		for _, seed := range seeds {
			rep := runLibrary("es-partial-snapshot", seed)
			partial := eventsOf(rep, "logs", platform.EventSnapshotPartial)
			Expect(partial).To(HaveLen(1))
			Expect(partial[0].Detail).To(ContainSubstring("as of 10m0s"))
			restored := eventsOf(rep, "logs", platform.EventRestoreCompleted)
			Expect(restored).To(HaveLen(1))
			Expect(restored[0].Detail).To(HavePrefix("SUCCESS snapshot of 5m0s"))
			logs := rep.Services["logs"]
			// The lost span runs from the 5m snapshot to the cluster loss
			// at 14m.
			Expect(logs.RPO).To(BeNumerically("~", 9*60, 20))
		}
	})

	It("logs-shipper-retry-limit and logs-shipper-no-loss: Retry_Limit 1 loses events the shipper acknowledged, a high limit none (issue 9.6)", func() {
		for _, seed := range seeds {
			limited := runLibrary("logs-shipper-retry-limit", seed).Services["logs"]
			Expect(limited.Lost).To(BeNumerically(">", 100))
			Expect(limited.Failed).To(BeZero(), "the shipper kept taking events")
			patient := runLibrary("logs-shipper-no-loss", seed).Services["logs"]
			Expect(patient.Lost).To(BeZero())
			Expect(patient.Failed).To(BeZero())
		}
	})

	It("s3-crr-region-outage: cross-region replication loses only the objects still pending at the region loss (issue 9.7)", func() {
		lostCounts := map[int64]bool{}
		for _, seed := range seeds {
			rep := runLibrary("s3-crr-region-outage", seed)
			artifacts := rep.Services["artifacts"]
			Expect(artifacts.Lost).To(BeNumerically(">", 0))
			Expect(artifacts.LostAfterFault).To(BeZero())
			// A 15-minute tail at the 99.99th percentile: nothing older.
			Expect(artifacts.RPO).To(BeNumerically("<=", 15*60))
			Expect(eventsOf(rep, "artifacts", platform.EventSyncCompleted)).To(BeEmpty())
			Expect(eventsOf(rep, "logs", platform.EventRestoreCompleted)).To(HaveLen(1))
			lostCounts[artifacts.Lost] = true
		}
		Expect(len(lostCounts)).To(BeNumerically(">", 1), "the lags are drawn from the seed")
	})

	It("gives the same report for the same seed on every scenario of this batch (determinism)", func() {
		for _, name := range []string{"es-quorum-loss", "es-cluster-restart", "east-region-outage-heal", "logs-shipper-retry-limit",
			"logs-shipper-no-loss", "es-partial-snapshot", "es-restore-parallel", "s3-crr-region-outage"} {
			Expect(runLibrary(name, 7)).To(Equal(runLibrary(name, 7)), name)
		}
	})
})
