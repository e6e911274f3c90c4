package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
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

// checkResults maps each check of a report to its result.
func checkResults(rep *reports.Report) map[string]string {
	out := map[string]string{}
	for _, e := range rep.Expectations {
		out[e.Name] = e.Result
	}
	return out
}

func faultNamed(rep *reports.Report, name string) reports.FaultReport {
	GinkgoHelper()
	for _, f := range rep.Faults {
		if f.Name == name {
			return f
		}
	}
	Fail("no fault " + name)
	return reports.FaultReport{}
}

func stepNamed(rep *reports.Report, name string) reports.StepReport {
	GinkgoHelper()
	for _, s := range rep.Runbook {
		if s.Name == name {
			return s
		}
	}
	Fail("no step " + name)
	return reports.StepReport{}
}

var _ = Describe("What did not happen", func() {
	var fake *fakePlatform
	BeforeEach(func() { fake = newFake() })

	run := func(yaml string) *reports.Report {
		GinkgoHelper()
		rep, err := Run(context.Background(), parse(yaml), fake.build, Options{})
		Expect(err).NotTo(HaveOccurred())
		return rep
	}

	It("passes a run in which everything happened", func() {
		rep := run(header + `
workloads: [{service: mongo, rate: 10}]
faults:
  - {name: kill-primary, kind: kill, target: role:mongo:primary, at: 2s, heal: 3s}
runbook:
  - {name: step-down, action: mongo.step-down, after: kill-primary, operator_delay: 1s}
`)
		Expect(rep.Verdict).To(Equal(reports.VerdictPass), "%+v", rep.Expectations)
		Expect(faultNamed(rep, "kill-primary").Status).To(Equal(reports.StatusRehearsed))
		Expect(stepNamed(rep, "step-down").Status).To(Equal(reports.StatusDone))
	})

	// The third example: "No runbook step ran.", PASS.
	It("is not rehearsed when a runbook step's trigger never comes, and says which event it waited for", func() {
		rep := run(header + `
workloads: [{service: mongo, rate: 10}]
faults:
  - {name: kill-primary, kind: kill, target: role:mongo:primary, at: 2s, heal: 3s}
runbook:
  - {name: promote, action: mongo.step-down, after_event: "mongo:primary-lost", operator_delay: 1s}
`)
		Expect(rep.Verdict).To(Equal(reports.VerdictNotRehearsed))
		step := stepNamed(rep, "promote")
		Expect(step.Status).To(Equal(reports.StatusNotRehearsed))
		Expect(step.StartedAt).To(BeNil())
		Expect(step.Reason).To(Equal("no mongo:primary-lost event before the end (10s)"))
		Expect(checkResults(rep)).To(HaveKeyWithValue("runbook promote rehearsed", "not-rehearsed"))
		Expect(checkResults(rep)).To(HaveKeyWithValue("mongo: recovers (baseline)", "not-rehearsed"))
	})

	It("is not rehearsed when a trigger comes too late for the fault to start before the end", func() {
		fake.emit(9*time.Second, "logs", platform.EventHealthGreen)
		rep := run(header + `
workloads: [{service: logs, rate: 10}]
faults:
  - {name: late, kind: kill, target: node:es-east-1a, after_event: "logs:health-green", delay: 2s}
`)
		Expect(fake.callsMatching("kill")).To(BeEmpty(), "nothing starts in the drain after the end")
		Expect(faultNamed(rep, "late").Reason).To(Equal("its trigger came at 9s; with its delay of 2s it was due at 11s, not before the scenario's end (10s)"))
		Expect(rep.Verdict).To(Equal(reports.VerdictNotRehearsed))
	})

	It("is not rehearsed when a heal falls after the end, though the fault happened", func() {
		fake.emit(3*time.Second, "logs", platform.EventHealthGreen)
		rep := run(header + `
workloads: [{service: logs, rate: 10}]
faults:
  - {name: pause-a, kind: pause, target: node:es-east-1a, after_event: "logs:health-green", heal: 8s}
`)
		Expect(fake.callsMatching("resume")).To(BeEmpty())
		fault := faultNamed(rep, "pause-a")
		Expect(fault.At).To(HaveValue(BeNumerically("==", 3)))
		Expect(fault.HealedAt).To(BeNil())
		Expect(fault.Reason).To(Equal("its heal was due at 11s, not before the scenario's end (10s)"))
		Expect(rep.Verdict).To(Equal(reports.VerdictNotRehearsed))
	})

	It("is not rehearsed when a heal fails", func() {
		fake.primitiveFails["resume es-east-1a"] = true
		rep := run(header + `
workloads: [{service: logs, rate: 10}]
faults:
  - {name: pause-a, kind: pause, target: node:es-east-1a, at: 2s, heal: 2s}
`)
		fault := faultNamed(rep, "pause-a")
		Expect(fault.HealedAt).To(BeNil())
		Expect(fault.Reason).To(HavePrefix("its heal failed: recover es-east-1a: resume es-east-1a: docker said no"))
		Expect(rep.Verdict).To(Equal(reports.VerdictNotRehearsed))
	})

	It("is not rehearsed when a fault hits fewer nodes than its target names, and heals the ones it hit", func() {
		fake.primitiveFails["kill s3-us-west-1"] = true
		rep := run(header + `
workloads: [{service: mongo, rate: 10}, {service: artifacts, rate: 1}]
faults:
  - {name: lose-west, kind: kill, target: region:us-west-1, at: 2s, heal: 3s}
runbook:
  - {name: after-west, action: artifacts.failover, params: {region: us-east-1}, after: lose-west}
`)
		Expect(fake.callsMatching("kill")).To(Equal([]string{"2s kill mongo-west-1a", "2s kill s3-us-west-1"}))
		Expect(fake.callsMatching("start")).To(Equal([]string{"5s start mongo-west-1a"}))
		fault := faultNamed(rep, "lose-west")
		Expect(fault.Status).To(Equal(reports.StatusNotRehearsed))
		Expect(fault.Reason).To(Equal("could not be injected: inject on s3-us-west-1: kill s3-us-west-1: docker said no"))
		Expect(fault.HealedAt).To(BeNil(), "the fault was never in force as a whole")
		Expect(stepNamed(rep, "after-west").Reason).To(Equal("it waits on fault lose-west, which could not be injected"))
		Expect(checkResults(rep)).To(HaveKeyWithValue("mongo: lost writes <= 0 (baseline)", "not-rehearsed"))
		Expect(checkResults(rep)).To(HaveKeyWithValue("artifacts: lost writes <= 0 (baseline)", "not-rehearsed"))
	})

	It("is not rehearsed when the platform reports that a fault it accepted failed later", func() {
		fake.emitEvent(platform.Event{At: 3 * time.Second, Service: "logs", What: platform.EventFaultFailed, Node: "es-east-1b", Detail: "stop: timeout"})
		rep := run(header + `
workloads: [{service: logs, rate: 10}]
faults:
  - {name: stop-b, kind: stop, target: node:es-east-1b, at: 2s}
`)
		Expect(faultNamed(rep, "stop-b").Reason).To(Equal("failed on es-east-1b after it was accepted: stop: timeout"))
		Expect(rep.Verdict).To(Equal(reports.VerdictNotRehearsed))
	})

	It("is not rehearsed when a partition the platform accepted failed later (its nodes named together)", func() {
		fake.emitEvent(platform.Event{At: 3 * time.Second, What: platform.EventFaultFailed, Node: "mongo-east-1a,mongo-west-1a", Detail: "partition: iptables-restore: exit status 1"})
		rep := run(header + `
workloads: [{service: mongo, rate: 10}]
faults:
  - {name: cut, kind: partition, between: [node:mongo-east-1a, node:mongo-west-1a], at: 2s, heal: 5s}
`)
		Expect(faultNamed(rep, "cut").Reason).To(Equal("failed on mongo-east-1a,mongo-west-1a after it was accepted: partition: iptables-restore: exit status 1"))
		Expect(rep.Verdict).To(Equal(reports.VerdictNotRehearsed))
	})

	It("is not rehearsed when a step started but had not finished by the end", func() {
		fake.actionHangs["promote"] = true
		rep := run(header + `
workloads: [{service: mongo, rate: 10}]
runbook:
  - {name: promote, action: mongo.step-down, at: 2s}
`)
		Expect(stepNamed(rep, "promote").Reason).To(Equal("started at 2s, not finished by the end of the run"))
		Expect(rep.Verdict).To(Equal(reports.VerdictNotRehearsed))
	})

	Describe("a restart", func() {
		It("heals when its node is reported back up", func() {
			rep := run(header + `
workloads: [{service: logs, rate: 10}]
faults:
  - {name: restart-a, kind: restart, target: node:es-east-1a, at: 3s}
`)
			fault := faultNamed(rep, "restart-a")
			Expect(fault.HealedAt).To(HaveValue(BeNumerically("==", 3)), "the fake starts it again at once")
			Expect(fault.Status).To(Equal(reports.StatusRehearsed))
			Expect(rep.Verdict).To(Equal(reports.VerdictPass))
		})

		It("heals when the node-up event comes later, as on the live platform", func() {
			fake.staysDown["es-east-1a"] = true
			fake.emitEvent(platform.Event{At: 4500 * time.Millisecond, Service: "logs", What: platform.EventNodeUp, Node: "es-east-1a"})
			rep := run(header + `
workloads: [{service: logs, rate: 10}]
faults:
  - {name: restart-a, kind: restart, target: node:es-east-1a, at: 3s}
`)
			Expect(faultNamed(rep, "restart-a").HealedAt).To(HaveValue(BeNumerically("==", 4.5)))
		})

		It("is not rehearsed when its node never comes back", func() {
			fake.staysDown["es-east-1a"] = true
			rep := run(header + `
workloads: [{service: logs, rate: 10}]
faults:
  - {name: restart-a, kind: restart, target: node:es-east-1a, at: 3s}
`)
			fault := faultNamed(rep, "restart-a")
			Expect(fault.HealedAt).To(BeNil())
			Expect(fault.Reason).To(Equal("es-east-1a did not come back up before the end (10s)"))
		})
	})

	Describe("an optional step", func() {
		const rebuild = header + `
workloads: [{service: logs, rate: 10}]
faults:
  - {name: lose-c, kind: kill, target: az:us-east-1c, at: 2s}
runbook:
  - {name: rebuild, action: logs.restore-snapshot, params: {region: us-east-1}, after: lose-c, after_event: "logs:health-red", operator_delay: 3s, optional: true}
  - {name: after-rebuild, action: artifacts.failover, params: {region: us-west-1}, after: rebuild}
`

		It("is not needed when its event never comes, and neither is what waits on it", func() {
			rep := run(rebuild)

			Expect(rep.Verdict).To(Equal(reports.VerdictPass), "%+v", rep.Expectations)
			Expect(stepNamed(rep, "rebuild")).To(SatisfyAll(HaveField("Status", reports.StatusSkipped),
				HaveField("Reason", "not needed: no logs:health-red event after lose-c (at 2s) before the end (10s)")))
			Expect(stepNamed(rep, "after-rebuild")).To(SatisfyAll(HaveField("Status", reports.StatusSkipped),
				HaveField("Reason", "not needed: it waits on runbook step rebuild, which was not needed")))
		})

		It("runs when its event comes", func() {
			fake.emit(4*time.Second, "logs", platform.EventHealthRed)
			rep := run(rebuild)

			Expect(stepNamed(rep, "rebuild").StartedAt).To(HaveValue(BeNumerically("==", 7)))
			Expect(rep.Verdict).To(Equal(reports.VerdictPass))
		})

		It("is not rehearsed when its event comes too late for it to start before the end", func() {
			fake.emit(8*time.Second, "logs", platform.EventHealthRed)
			rep := run(rebuild)

			Expect(stepNamed(rep, "rebuild").Status).To(Equal(reports.StatusNotRehearsed))
			Expect(rep.Verdict).To(Equal(reports.VerdictNotRehearsed))
		})
	})

	Describe("the read-back", func() {
		It("marks a service it cannot reach unverified, reads the others back, and still reports", func() {
			fake.readBackFails["logs"] = fmt.Errorf("%w: dial tcp 172.18.0.9:9200: connect: no route to host", platform.ErrEnvironment)
			first := true
			fake.present = func(service string, _ uint64) bool {
				if service == "mongo" && first {
					first = false
					return false // mongo's first write is lost
				}
				return service == "mongo"
			}
			rep, err := Run(context.Background(), parse(header+`
workloads: [{service: mongo, rate: 10}, {service: logs, rate: 10}]
`), fake.build, Options{})

			Expect(err).NotTo(HaveOccurred())
			// mongo's lost write is a finding, and it ranks first.
			Expect(rep.Verdict).To(Equal(reports.VerdictFail))
			Expect(reports.ExitCode(rep.Verdict)).To(Equal(1))
			Expect(rep.Services["logs"].ReadBack).To(Equal(reports.ReadBackFailed))
			Expect(rep.Services["logs"].ReadBackError).To(ContainSubstring("no route to host"))
			Expect(rep.Services["logs"].Lost).To(BeZero(), "half of its writes were looked up; none counts")
			Expect(rep.Services["mongo"].ReadBack).To(Equal(reports.ReadBackComplete))
			Expect(rep.Services["mongo"].Lost).To(BeNumerically("==", 1), "the other service was read back")
			Expect(checkResults(rep)).To(HaveKeyWithValue("logs: writes read back", "unverified"))
			Expect(fake.closed).To(Equal(1))

			dir := GinkgoT().TempDir()
			Expect(reports.WriteAll(dir, rep)).To(Succeed())
			for _, f := range []string{reports.FileJSON, reports.FileJUnit, reports.FileMarkdown, reports.FileHTML} {
				Expect(filepath.Join(dir, f)).To(BeAnExistingFile())
			}
			junit, err := os.ReadFile(filepath.Join(dir, reports.FileJUnit))
			Expect(err).NotTo(HaveOccurred())
			Expect(string(junit)).To(ContainSubstring(`type="unverified"`))
		})

		It("leaves the verdict unverified, not pass, when nothing else went wrong", func() {
			fake.readBackFails["artifacts"] = errors.New("dial tcp: lookup s3-us-east-1: no such host")
			rep := run(header + `
workloads: [{service: mongo, rate: 10}, {service: artifacts, rate: 1}]
`)
			Expect(rep.Verdict).To(Equal(reports.VerdictUnverified))
			Expect(checkResults(rep)).To(HaveKeyWithValue("artifacts: recovers (baseline)", "unverified"))
			Expect(checkResults(rep)).To(HaveKeyWithValue("mongo: recovers (baseline)", "pass"))
		})

		It("stops when interrupted, reporting nothing", func() {
			ctx, cancel := context.WithCancel(context.Background())
			fake.readBackFails["mongo"] = context.Canceled
			sc := parse(header + `
workloads: [{service: mongo, rate: 10}]
`)
			// Interrupt as the read-back starts.
			fake.readBackHook = cancel
			rep, err := Run(ctx, sc, fake.build, Options{})
			Expect(err).To(MatchError(context.Canceled))
			Expect(rep).To(BeNil())
		})

		It("stops when interrupted during a read-back that answers in full all the same, building no report", func() {
			ctx, cancel := context.WithCancel(context.Background())
			sc := parse(header + `
workloads: [{service: mongo, rate: 10}]
`)
			// The client ignores the interrupt and answers every write.
			fake.readBackHook = cancel
			rep, err := Run(ctx, sc, fake.build, Options{})
			Expect(err).To(MatchError(context.Canceled))
			Expect(rep).To(BeNil())
		})
	})

	It("checks that every member the runbook adds caught up within caught_up_max of its step's start", func() {
		fake.actionTakes = time.Second
		fake.emitEvent(platform.Event{At: 5 * time.Second, Service: "mongo", What: platform.EventMemberCaughtUp, Node: "mongo-west-1b", Detail: "12ms"})
		fake.emitEvent(platform.Event{At: 9 * time.Second, Service: "mongo", What: platform.EventMemberCaughtUp, Node: "mongo-west-1c", Detail: "12ms"})
		rep := run(header + `
workloads: [{service: mongo, rate: 10}]
faults:
  - {name: lose-east, kind: kill, target: region:us-east-1, at: 1s}
runbook:
  - {name: add-b, action: mongo.add-member, params: {name: mongo-west-1b, zone: us-west-1b}, at: 2s}
  - {name: add-c, action: mongo.add-member, params: {name: mongo-west-1c, zone: us-west-1c}, after: add-b}
expect:
  - {service: mongo, caught_up_max: 3s}
  - {service: mongo, caught_up_max: 6s}
`)
		Expect(rep.Services["mongo"].MembersCaughtUp).To(Equal(map[string]float64{"mongo-west-1b": 3, "mongo-west-1c": 6}))
		Expect(rep.Expectations[0]).To(SatisfyAll(HaveField("Result", "fail"), HaveField("Observed", "caught up: mongo-west-1b after 3s, mongo-west-1c after 6s")))
		Expect(rep.Expectations[1].Result).To(Equal("pass"))
	})

	Describe("a run that cannot complete", func() {
		It("names the bring-up phase when the platform cannot start", func() {
			fake.startErr = errors.Join(platform.ErrEnvironment, errors.New("image mongo:8.0 not found"))
			_, err := Run(context.Background(), parse(header+"workloads: [{service: mongo, rate: 1}]\n"), fake.build, Options{})
			var runErr *Error
			Expect(errors.As(err, &runErr)).To(BeTrue())
			Expect(runErr.Phase).To(Equal(reports.PhaseBringUp))
			Expect(err).To(MatchError(platform.ErrEnvironment))
		})

		It("returns the measured report with a tear-down error when only closing fails", func() {
			fake.closeErr = errors.New("remove network: in use")
			rep, err := Run(context.Background(), parse(header+"workloads: [{service: mongo, rate: 1, arrival: constant}]\n"), fake.build, Options{})
			var runErr *Error
			Expect(errors.As(err, &runErr)).To(BeTrue())
			Expect(runErr.Phase).To(Equal(reports.PhaseTearDown))
			Expect(rep).NotTo(BeNil())
			Expect(rep.Services["mongo"].Acked).To(BeNumerically("==", 10))
		})
	})
})

var _ = Describe("the issue's examples on the simulator", func() {
	// es-rolling-restart cut to 2m30s: two of four restarts fired, and the
	// run passed.
	It("does not pass es-rolling-restart cut to 2m30s, and names the restarts that never fired", func() {
		text, err := os.ReadFile(filepath.Join("..", "scenarios", "es-rolling-restart.yaml"))
		Expect(err).NotTo(HaveOccurred())
		short := strings.Replace(string(text), "duration: 6m", "duration: 2m30s", 1)
		Expect(short).NotTo(Equal(string(text)))
		sc, err := scenarios.Parse("es-rolling-restart-short.yaml", []byte(short), scenarios.WithParameters(simulator.Parameters()))
		Expect(err).NotTo(HaveOccurred())

		rep, err := Run(context.Background(), sc, func(cfg platform.Config) (platform.Platform, error) { return simulator.New(cfg) }, Options{Seed: 1})

		Expect(err).NotTo(HaveOccurred())
		Expect(rep.Verdict).To(Equal(reports.VerdictNotRehearsed))
		var rehearsed, not []string
		for _, f := range rep.Faults {
			if f.Status == reports.StatusRehearsed {
				rehearsed = append(rehearsed, f.Name)
			} else {
				not = append(not, f.Name)
			}
		}
		Expect(rehearsed).To(Equal([]string{"restart-a", "restart-b"}))
		Expect(not).To(Equal([]string{"restart-c", "restart-d"}))
		Expect(faultNamed(rep, "restart-d").Reason).To(Equal("it waits on fault restart-c, which never happened"))
		for _, e := range rep.Expectations {
			Expect(e.Result).NotTo(Equal(reports.VerdictPass), e.Name)
		}
		// Each restart was healed when its node was back, not at the end.
		for _, name := range rehearsed {
			f := faultNamed(rep, name)
			Expect(f.HealedAt).NotTo(BeNil(), name)
			Expect(*f.HealedAt-*f.At).To(BeNumerically("<", 60), name)
		}
	})
})
