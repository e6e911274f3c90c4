package runner

import (
	"context"
	"errors"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/reports"
	"github.com/chaosdrill/chaosdrill/scenarios"
)

func parse(yaml string) *scenarios.Scenario {
	sc, err := scenarios.Parse("test.yaml", []byte(yaml))
	Expect(err).NotTo(HaveOccurred())
	return sc
}

const header = `
name: t
description: runner test
topology: ion
duration: 10s
`

var _ = Describe("Run", func() {
	var fake *fakePlatform
	BeforeEach(func() { fake = newFake() })

	It("issues rate x duration writes per workload, evenly spaced, and records each outcome", func() {
		sc := parse(header + `
workloads:
  - {service: mongo, rate: 100, arrival: constant}
  - {service: artifacts, rate: 2, arrival: constant}
`)
		fake.answer = func(service string, op uint64, now time.Duration) (platform.Outcome, time.Duration) {
			if service == "mongo" && now >= 5*time.Second && now < 6*time.Second {
				return platform.Failed, time.Millisecond
			}
			return platform.Acked, 3 * time.Millisecond
		}
		rep, err := Run(context.Background(), sc, fake.build, Options{Seed: 1})
		Expect(err).NotTo(HaveOccurred())
		Expect(rep.Services["mongo"].Acked).To(BeEquivalentTo(900))
		Expect(rep.Services["mongo"].Failed).To(BeEquivalentTo(100))
		Expect(rep.Services["artifacts"].Acked).To(BeEquivalentTo(20))
		Expect(rep.Services["mongo"].Lost).To(BeZero())
		Expect(fake.closed).To(Equal(1))
	})

	It("injects a region fault on every node of the region at its time and heals it after heal", func() {
		sc := parse(header + `
workloads: [{service: artifacts, rate: 1}]
faults:
  - {name: lose-west, kind: kill, target: region:us-west-1, at: 2s, heal: 3s}
`)
		rep, err := Run(context.Background(), sc, fake.build, Options{})
		Expect(err).NotTo(HaveOccurred())
		Expect(fake.callsMatching("kill")).To(Equal([]string{"2s kill mongo-west-1a", "2s kill s3-us-west-1"}))
		Expect(fake.callsMatching("start")).To(Equal([]string{"5s start mongo-west-1a", "5s start s3-us-west-1"}))
		Expect(rep.Faults).To(HaveLen(1))
		Expect(rep.Faults[0].Nodes).To(Equal([]string{"mongo-west-1a", "s3-us-west-1"}))
		Expect(rep.Faults[0].HealedAt).To(HaveValue(BeNumerically("==", 5)))
	})

	It("resolves a role when the fault fires, not when the scenario is loaded", func() {
		sc := parse(header + `
workloads: [{service: mongo, rate: 1}]
faults:
  - {name: kill-primary, kind: pause, target: role:mongo:primary, at: 4s, heal: 1s}
`)
		fake.At(time.Second, platform.HandlerFunc(func(time.Duration) { fake.primary = "mongo-east-1b" }))
		_, err := Run(context.Background(), sc, fake.build, Options{})
		Expect(err).NotTo(HaveOccurred())
		Expect(fake.callsMatching("pause")).To(Equal([]string{"4s pause mongo-east-1b"}))
		Expect(fake.callsMatching("resume")).To(Equal([]string{"5s resume mongo-east-1b"}))
	})

	It("partitions the two groups of a link fault", func() {
		sc := parse(header + `
workloads: [{service: mongo, rate: 1}]
faults:
  - {name: cut, kind: partition, between: [az:us-east-1a, region:us-west-1], at: 1s, heal: 2s}
`)
		_, err := Run(context.Background(), sc, fake.build, Options{})
		Expect(err).NotTo(HaveOccurred())
		Expect(fake.callsMatching("partition")).To(Equal([]string{"1s partition [mongo-east-1a es-east-1a] [mongo-west-1a s3-us-west-1]"}))
		Expect(fake.callsMatching("heal")).To(HaveLen(1))
	})

	It("starts runbook steps an operator delay after their trigger, chains them, and stops a chain at a failed step", func() {
		sc := parse(header + `
workloads: [{service: mongo, rate: 1}]
faults:
  - {name: lose-east, kind: kill, target: region:us-east-1, at: 1s}
runbook:
  - {name: promote, action: mongo.force-reconfigure, params: {promote: mongo-west-1a}, after: lose-east, operator_delay: 2s}
  - {name: add-b, action: mongo.add-member, params: {name: mongo-west-1b, zone: us-west-1b}, after: promote}
  - {name: add-c, action: mongo.add-member, params: {name: mongo-west-1c, zone: us-west-1c}, after: add-b}
  - {name: after-c, action: mongo.step-down, after: add-c}
`)
		fake.actionTakes = 500 * time.Millisecond
		fake.actionFails["add-c"] = true
		rep, err := Run(context.Background(), sc, fake.build, Options{})
		Expect(err).NotTo(HaveOccurred())
		Expect(fake.callsMatching("action")).To(Equal([]string{
			"3s action promote mongo.force-reconfigure",
			"3.5s action add-b mongo.add-member",
			"4s action add-c mongo.add-member",
		}))
		Expect(rep.Runbook).To(HaveLen(4), "every step of the file is reported")
		Expect(rep.Runbook[2].Status).To(Equal(reports.StatusFailed))
		Expect(rep.Runbook[2].Error).To(ContainSubstring("cannot mongo.add-member"))
		Expect(rep.Runbook[3].Status).To(Equal(reports.StatusNotRehearsed))
		Expect(rep.Runbook[3].StartedAt).To(BeNil())
		Expect(rep.Runbook[3].Reason).To(Equal("it waits on runbook step add-c, which failed"))
		Expect(rep.Verdict).To(Equal(reports.VerdictFail), "a broken runbook is a finding")
	})

	It("fires a fault a delay after a platform event", func() {
		sc := parse(header + `
workloads: [{service: logs, rate: 1}]
faults:
  - {name: after-green, kind: stop, target: node:es-east-1b, after_event: "logs:health-green", delay: 1500ms}
`)
		fake.emit(2*time.Second, "logs", platform.EventHealthGreen)
		fake.emit(4*time.Second, "logs", platform.EventHealthGreen)
		_, err := Run(context.Background(), sc, fake.build, Options{})
		Expect(err).NotTo(HaveOccurred())
		Expect(fake.callsMatching("stop")).To(Equal([]string{"3.5s stop es-east-1b"}))
	})

	It("with after and after_event, waits for the first such event after the named fault", func() {
		sc := parse(header + `
workloads: [{service: logs, rate: 1}]
faults:
  - {name: restart-a, kind: restart, target: node:es-east-1a, at: 3s}
  - {name: restart-b, kind: restart, target: node:es-east-1b, after: restart-a, after_event: "logs:health-green", delay: 1s}
`)
		fake.emit(2*time.Second, "logs", platform.EventHealthGreen) // before restart-a: does not count
		fake.emit(5*time.Second, "logs", platform.EventHealthGreen)
		fake.emit(7*time.Second, "logs", platform.EventHealthGreen)
		_, err := Run(context.Background(), sc, fake.build, Options{})
		Expect(err).NotTo(HaveOccurred())
		Expect(fake.callsMatching("stop")).To(Equal([]string{"3s stop es-east-1a", "6s stop es-east-1b"}))
	})

	It("does not pass a run whose fault cannot be carried out, and runs nothing that waits on it", func() {
		sc := parse(header + `
workloads: [{service: mongo, rate: 1}]
faults:
  - {name: kill-primary, kind: kill, target: role:mongo:primary, at: 2s}
runbook:
  - {name: step-down, action: mongo.step-down, after: kill-primary}
`)
		fake.primary = "" // mid-election: nobody holds the role
		rep, err := Run(context.Background(), sc, fake.build, Options{})
		Expect(err).NotTo(HaveOccurred())
		Expect(rep.Faults[0].Error).To(ContainSubstring("matches no node"))
		Expect(rep.Faults[0].Status).To(Equal(reports.StatusNotRehearsed))
		Expect(fake.callsMatching("action")).To(BeEmpty())
		Expect(rep.Runbook[0].Reason).To(Equal("it waits on fault kill-primary, which could not be injected"))
		Expect(rep.Verdict).To(Equal(reports.VerdictNotRehearsed))
	})

	It("counts an acknowledged write that the read-back cannot find as lost", func() {
		sc := parse(header + `
workloads: [{service: mongo, rate: 10}]
`)
		fake.present = func(_ string, op uint64) bool { return op%10 != 3 }
		rep, err := Run(context.Background(), sc, fake.build, Options{})
		Expect(err).NotTo(HaveOccurred())
		Expect(rep.Services["mongo"].Lost).To(BeEquivalentTo(10))
	})

	It("closes the platform when it cannot start, and says so", func() {
		sc := parse(header + `
workloads: [{service: mongo, rate: 1}]
`)
		fake.startErr = errors.Join(platform.ErrEnvironment, errors.New("docker is not reachable"))
		_, err := Run(context.Background(), sc, fake.build, Options{})
		Expect(err).To(MatchError(platform.ErrEnvironment))
		Expect(fake.closed).To(Equal(1))
	})

	It("stops and closes the platform when interrupted", func() {
		sc := parse(header + `
workloads: [{service: mongo, rate: 1}]
`)
		ctx, cancel := context.WithCancel(context.Background())
		fake.At(3*time.Second, platform.HandlerFunc(func(time.Duration) { cancel() }))
		_, err := Run(ctx, sc, fake.build, Options{})
		Expect(err).To(MatchError(context.Canceled))
		Expect(fake.closed).To(Equal(1))
	})
})
