package runner

import (
	"context"
	"encoding/json"
	"path/filepath"
	"regexp"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/reports"
	"github.com/chaosdrill/chaosdrill/scenarios"
	"github.com/chaosdrill/chaosdrill/simulator"
)

// The rest of the seed (issue 13): roles rebuilt in the west from the
// artifact bucket, upgrades shipped through it, and disk faults. Each spec
// checks what a file's description promises on the report a user reads.

// loadLibrary loads a scenario of the library to change it before a run.
func loadLibrary(name string) *scenarios.Scenario {
	GinkgoHelper()
	sc, err := scenarios.Load(filepath.Join("..", "scenarios", name+".yaml"), scenarios.WithParameters(simulator.Parameters()))
	Expect(err).NotTo(HaveOccurred())
	return sc
}

func runScenario(sc *scenarios.Scenario, seed uint64) *reports.Report {
	GinkgoHelper()
	rep, err := Run(context.Background(), sc, func(cfg platform.Config) (platform.Platform, error) { return simulator.New(cfg) }, Options{Seed: seed})
	Expect(err).NotTo(HaveOccurred())
	return rep
}

var _ = Describe("roles rebuilt from the artifact bucket", func() {
	It("east-region-outage-version-skew: the west rebuild succeeds on the previous elasticsearch and the report says how old the newest is", func() {
		for _, seed := range seeds {
			rep := runLibrary("east-region-outage-version-skew", seed)
			Expect(rep.Verdict).To(Equal(reports.VerdictPass))
			published := *stepNamed(rep, "publish-elasticsearch").DoneAt
			lost := *faultNamed(rep, "lose-east").At
			Expect(lost).To(BeNumerically(">", published), "the newest version is published before the east is lost")
			rebuilt := stepNamed(rep, "rebuild-elasticsearch")
			Expect(rebuilt.Status).To(Equal(reports.StatusDone))
			Expect(rep.VersionSkew).To(HaveLen(1), "seed %d: only the elasticsearch key was published after the last sync", seed)
			skew := rep.VersionSkew[0]
			Expect(skew.Role).To(Equal("elasticsearch"))
			Expect(skew.Key).To(Equal("elasticsearch"))
			Expect(skew.Region).To(Equal("us-west-1"))
			Expect(skew.Version).To(Equal("1"))
			Expect(skew.Newest).To(Equal("2"))
			// The newest was put into the east bucket when the publish step
			// finished, and the role came back when its step did.
			Expect(skew.AtSeconds).To(Equal(*rebuilt.DoneAt))
			Expect(skew.NewestAgeSeconds).To(BeNumerically("~", *rebuilt.DoneAt-published, 0.2))
			// The recipes published at 5m were synced before the loss: the
			// console came back on them, with no skew.
			roles := eventsOf(rep, "artifacts", platform.EventRoleRebuilt)
			Expect(roles).To(HaveLen(2))
			for _, e := range roles {
				if e.Node == "console" {
					Expect(e.Detail).To(ContainSubstring("chef-configuration@2"))
				}
			}
		}
	})

	It("a key deleted from the west bucket fails the rebuild, names the key, and the verdict is fail", func() {
		sc := loadLibrary("east-region-outage-version-skew")
		sc.Runbook = append(sc.Runbook, scenarios.Step{Name: "lose-recipes-in-west", Action: platform.ActionArtifactsDelete,
			Params: map[string]string{"key": "chef-configuration", "region": "us-west-1"}, After: "publish-elasticsearch"})
		for _, seed := range seeds {
			rep := runScenario(sc, seed)
			Expect(rep.Verdict).To(Equal(reports.VerdictFail))
			for _, role := range []string{"rebuild-console", "rebuild-elasticsearch"} {
				step := stepNamed(rep, role)
				Expect(step.Status).To(Equal(reports.StatusFailed))
				Expect(step.Error).To(ContainSubstring(`key "chef-configuration" is not in the us-west-1 bucket`))
			}
			failed := 0
			for _, e := range rep.Expectations {
				if e.Result == reports.VerdictFail {
					failed++
					Expect(e.Name).To(HavePrefix("runbook rebuild-"))
				}
			}
			Expect(failed).To(Equal(2))
		}
	})

	It("east-region-outage: every role is rebuilt in the west before the logs are restored there, on the versions published", func() {
		converge := parameter("roles.converge_duration")
		for _, seed := range seeds {
			rep := runLibrary("east-region-outage", seed)
			Expect(rep.VersionSkew).To(BeEmpty())
			es := stepNamed(rep, "rebuild-elasticsearch")
			Expect(*es.DoneAt - *es.StartedAt).To(BeNumerically(">=", converge))
			Expect(*stepNamed(rep, "restore-logs").StartedAt).To(BeNumerically(">=", *es.DoneAt))
			Expect(eventsOf(rep, "artifacts", platform.EventRoleRebuilt)).To(HaveLen(2))
		}
	})
})

var _ = Describe("rolling upgrades shipped through the bucket", func() {
	It("es-rolling-upgrade: four nodes one at a time, no acknowledged event lost, no write failed, the mixed-version window reported", func() {
		for _, seed := range seeds {
			rep := runLibrary("es-rolling-upgrade", seed)
			logs := rep.Services["logs"]
			Expect(logs.Lost).To(BeZero())
			Expect(logs.Failed).To(BeZero())
			Expect(logs.Unknown).To(BeZero())
			Expect(rep.Upgrades).To(HaveLen(1))
			u := rep.Upgrades[0]
			Expect(u.Done).To(BeTrue())
			Expect(u.From).To(Equal("1"))
			Expect(u.To).To(Equal("2"))
			Expect(u.WritesFailed + u.WritesUnknown + u.WritesLost).To(BeZero())
			Expect(u.Nodes).To(HaveLen(4))
			// One at a time: each node stops only once the one before is
			// back and the cluster green.
			for i, n := range u.Nodes {
				Expect(n.StartedAt).NotTo(BeNil())
				Expect(n.HealthyAt).NotTo(BeNil())
				Expect(*n.HealthyAt).To(BeNumerically(">=", *n.StartedAt))
				if i > 0 {
					Expect(n.StoppedAt).To(BeNumerically(">=", *u.Nodes[i-1].HealthyAt))
				}
			}
			Expect(*u.MixedFrom).To(Equal(*u.Nodes[0].StartedAt))
			Expect(*u.MixedUntil).To(Equal(*u.Nodes[3].StartedAt))
			Expect(*u.MixedWindowSeconds).To(BeNumerically("~", *u.MixedUntil-*u.MixedFrom, 1e-6))
			Expect(eventsOf(rep, "artifacts", platform.EventNodeUpgraded)).To(HaveLen(4))
		}
	})

	It("es-upgrade-node-failure: the upgrade waits for the crashed node, finishes, loses nothing acknowledged, and its window is longer", func() {
		for _, seed := range seeds {
			plain := runLibrary("es-rolling-upgrade", seed).Upgrades[0]
			rep := runLibrary("es-upgrade-node-failure", seed)
			Expect(faultNamed(rep, "crash-c").Status).To(Equal(reports.StatusRehearsed))
			Expect(rep.Services["logs"].Lost).To(BeZero())
			u := rep.Upgrades[0]
			Expect(u.Done).To(BeTrue())
			Expect(*u.MixedWindowSeconds).To(BeNumerically(">", *plain.MixedWindowSeconds))
			// With two of four nodes out, writes stalled: the report counts
			// them against the upgrade.
			Expect(u.WritesFailed + u.WritesUnknown).To(BeNumerically(">", 0))
			Expect(u.WritesLost).To(BeZero())
		}
	})

	It("fails an upgrade whose node is down when its turn comes, naming it", func() {
		sc := loadLibrary("es-rolling-upgrade")
		sc.Faults = append(sc.Faults, scenarios.Fault{Name: "lose-d", Kind: scenarios.FaultKill, Target: "node:es-east-1d", At: scenarios.At(30 * time.Second)})
		rep := runScenario(sc, 1)
		step := stepNamed(rep, "upgrade-elasticsearch")
		Expect(step.Status).To(Equal(reports.StatusFailed))
		Expect(step.Error).To(Or(ContainSubstring("node es-east-1d is not running"), ContainSubstring("was not green")))
		Expect(rep.Verdict).To(Equal(reports.VerdictFail))
		Expect(rep.Upgrades[0].Done).To(BeFalse())
	})
})

var _ = Describe("disk faults", func() {
	It("es-disk-full: the index is read-only from the master's next disk read until the one after the heal, nothing acknowledged lost", func() {
		interval := parameter("es.disk_info_interval")
		for _, seed := range seeds {
			rep := runLibrary("es-disk-full", seed)
			fault := faultNamed(rep, "fill-b")
			flood := eventsOf(rep, "logs", platform.EventFloodStage)
			released := eventsOf(rep, "logs", platform.EventFloodStageReleased)
			Expect(flood).To(HaveLen(1))
			Expect(released).To(HaveLen(1))
			Expect(flood[0].Node).To(Equal("es-east-1b"))
			Expect(flood[0].At).To(BeNumerically(">=", *fault.At))
			Expect(flood[0].At).To(BeNumerically("<", *fault.At+interval))
			Expect(released[0].At).To(BeNumerically(">=", *fault.HealedAt))
			Expect(released[0].At).To(BeNumerically("<", *fault.HealedAt+interval))
			logs := rep.Services["logs"]
			Expect(logs.Lost).To(BeZero())
			// No event invoked while the block held was acknowledged (but
			// those whose retry came after the release, within the apps'
			// timeout), and events are acknowledged again after it.
			timeout := (10 * time.Second).Seconds()
			t := logs.Timeline
			for i := range t.Acked {
				start, end := float64(i)*t.BucketSeconds, float64(i+1)*t.BucketSeconds
				if start >= flood[0].At && end <= released[0].At-timeout {
					Expect(t.Acked[i]).To(BeZero(), "seed %d: bucket at %vs", seed, start)
					Expect(t.Unknown[i] + t.Failed[i]).To(BeNumerically(">", 0))
				}
				if start >= released[0].At+1 && end <= rep.DurationSeconds {
					Expect(t.Acked[i]).To(BeNumerically(">", 0))
				}
			}
		}
	})

	It("mongo-disk-error: the primary aborts at its next journal write, a secondary takes over, the heal brings it back; nothing lost", func() {
		journal := parameter("mongo.journal_commit_interval")
		for _, seed := range seeds {
			rep := runLibrary("mongo-disk-error", seed)
			fault := faultNamed(rep, "failing-disk")
			var crashed *reports.EventReport
			for _, e := range eventsOf(rep, "mongo", platform.EventNodeDown) {
				if regexp.MustCompile(`^crashed: fassert`).MatchString(e.Detail) {
					crashed = &e
				}
			}
			Expect(crashed).NotTo(BeNil())
			Expect(crashed.Node).To(Equal(fault.Nodes[0]))
			Expect(crashed.At - *fault.At).To(BeNumerically("~", journal, 1e-6))
			elected := eventsOf(rep, "mongo", platform.EventPrimaryElected)
			Expect(elected[0].Node).NotTo(Equal(crashed.Node))
			up := eventsOf(rep, "mongo", platform.EventNodeUp)
			Expect(up).To(HaveLen(1))
			Expect(up[0].At).To(Equal(*fault.HealedAt))
			Expect(rep.Services["mongo"].Lost).To(BeZero())
		}
	})

	It("a slow disk on the west member raises its lag, and so the writes lost and the RPO of a region outage", func() {
		for _, seed := range seeds {
			slow := runLibrary("east-region-outage-slow-west-disk", seed)
			sc := loadLibrary("east-region-outage-slow-west-disk")
			sc.Faults = sc.Faults[1:]
			Expect(sc.Faults[0].Name).To(Equal("lose-east"))
			base := runScenario(sc, seed)
			s, b := slow.Services["mongo"], base.Services["mongo"]
			Expect(s.Fault).To(Equal("lose-east"), "the slowed disk degrades; the outage is measured from the region loss")
			latency := 0.25
			Expect(s.ReplicationLag["mongo-west-1a"]).To(BeNumerically(">=", b.ReplicationLag["mongo-west-1a"]+latency*0.9))
			Expect(s.Lost).To(BeNumerically(">", b.Lost))
			Expect(s.RPO).To(BeNumerically(">=", b.RPO+latency*0.9))
			// The RPO is still the west member's lag at the fault, within
			// the spacing of Poisson arrivals at 200/s (a few ms on
			// average; 50 ms is ten mean gaps).
			Expect(s.RPO).To(BeNumerically("~", s.ReplicationLag["mongo-west-1a"], 0.05))
		}
	})

	It("a slow disk slows peer recovery: green again later after a node is lost", func() {
		capped := func(mb float64) float64 {
			sc := loadLibrary("es-node-kill")
			at := platform.Duration(10 * time.Second)
			if mb > 0 {
				for _, n := range []string{"es-east-1a", "es-east-1b", "es-east-1c", "es-east-1d"} {
					sc.Faults = append(sc.Faults, scenarios.Fault{Name: "slow-" + n, Kind: scenarios.FaultDiskSlow, Target: "node:" + n, ThroughputMB: mb, At: scenarios.At(at.D())})
				}
			}
			rep := runScenario(sc, 1)
			Expect(rep.Services["logs"].Redundancy).NotTo(BeNil())
			return *rep.Services["logs"].Redundancy
		}
		fast, slow := capped(0), capped(1)
		Expect(slow).To(BeNumerically(">", fast+5))
	})

	It("a slow disk slows snapshots: uploads take longer under a throughput cap", func() {
		took := func(mb float64) float64 {
			sc := loadLibrary("es-node-kill")
			sc.Faults = nil
			at, phase := platform.Duration(time.Second), platform.Duration(2*time.Minute)
			if mb > 0 {
				for _, n := range []string{"es-east-1a", "es-east-1b", "es-east-1c", "es-east-1d"} {
					sc.Faults = append(sc.Faults, scenarios.Fault{Name: "slow-" + n, Kind: scenarios.FaultDiskSlow, Target: "node:" + n, ThroughputMB: mb, At: scenarios.At(at.D())})
				}
			}
			sc.Topology.Resolved.Services[1].SnapshotPhase = &phase
			rep := runScenario(sc, 1)
			// The first periodic snapshot after the cap: its detail says
			// when it was taken.
			asOf := regexp.MustCompile(`as of ([0-9.hms]+)$`)
			for _, e := range eventsOf(rep, "logs", platform.EventSnapshotCompleted) {
				m := asOf.FindStringSubmatch(e.Detail)
				Expect(m).NotTo(BeNil(), e.Detail)
				taken, err := time.ParseDuration(m[1])
				Expect(err).NotTo(HaveOccurred())
				if taken.Seconds() >= phase.D().Seconds() {
					return e.At - taken.Seconds()
				}
			}
			Fail("no periodic snapshot")
			return 0
		}
		Expect(took(1)).To(BeNumerically(">", took(0)*2))
	})
})

var _ = Describe("a disk fault the platform cannot carry out", func() {
	It("is not rehearsed, and neither are the expectations of the service it aims at", func() {
		fake := newFake() // its primitives have no disk faults
		rep, err := Run(context.Background(), parse(header+`
workloads: [{service: mongo, rate: 10}]
faults:
  - {name: slow-west, kind: disk-slow, target: node:mongo-west-1a, latency: 100ms, at: 2s, heal: 2s}
`), fake.build, Options{})
		Expect(err).NotTo(HaveOccurred())
		fault := faultNamed(rep, "slow-west")
		Expect(fault.Status).To(Equal(reports.StatusNotRehearsed))
		Expect(fault.Reason).To(ContainSubstring("cannot fault disks"))
		Expect(rep.Verdict).To(Equal(reports.VerdictNotRehearsed))
	})
})

var _ = Describe("the new scenarios on the simulator", func() {
	It("give the same report for the same seed", func() {
		for _, name := range []string{"east-region-outage-version-skew", "es-rolling-upgrade", "es-upgrade-node-failure", "es-disk-full", "mongo-disk-error", "east-region-outage-slow-west-disk"} {
			a, err := json.Marshal(runLibrary(name, 7))
			Expect(err).NotTo(HaveOccurred())
			b, err := json.Marshal(runLibrary(name, 7))
			Expect(err).NotTo(HaveOccurred())
			Expect(a).To(Equal(b), name)
		}
	})
})
