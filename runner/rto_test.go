package runner

import (
	"context"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/simulator"
)

// RTO measures the outage, not the time since the fault (issue 17, item
// 5), run end to end on the simulator.
var _ = Describe("RTO on the simulator", func() {
	sim := func(cfg platform.Config) (platform.Platform, error) { return simulator.New(cfg) }

	It("is the 10 s a failed step-down refused writes for, not the 40 s since the latency fault that preceded it", func() {
		// Both secondaries lag 11 s from 30 s until 90 s, so the step-down
		// at 1 m finds no caught-up secondary: the primary refuses writes
		// for secondaryCatchUpPeriodSecs, then stays primary (replSetStepDown,
		// "Writes During Stepdown").
		sc := parse(`
name: failed-step-down
topology: ion
duration: 3m
workloads:
  - {service: mongo, rate: 1000, write_concern: "1"}
faults:
  - {name: slow-east-b, kind: latency, target: node:mongo-east-1b, latency: 11s, at: 30s, heal: 60s}
  - {name: slow-west, kind: latency, target: node:mongo-west-1a, latency: 11s, at: 30s, heal: 60s}
runbook:
  - {name: step-down, action: mongo.step-down, at: 1m}
expect:
  - {service: mongo, lost_writes_max: 0}
`)
		catchUp := parameter("mongo.step_down_catch_up")
		for _, seed := range seeds {
			rep, err := Run(context.Background(), sc, sim, Options{Seed: seed})
			Expect(err).NotTo(HaveOccurred())
			mongo := rep.Services["mongo"]
			Expect(*mongo.FaultAt).To(BeNumerically("==", 30))
			Expect(mongo.Failed + mongo.Unknown).To(BeNumerically(">", 0))
			Expect(mongo.OutageWindowsTotal).To(BeNumerically("==", 1))
			Expect(*mongo.OutageStart).To(BeNumerically("~", 60, 0.01))
			Expect(*mongo.RTO).To(BeNumerically(">=", catchUp))
			Expect(*mongo.RTO).To(BeNumerically("<", catchUp+0.1))
		}
	})

	It("is 0 when 2 s of latency on the primary slows every write but fails none", func() {
		sc := parse(`
name: slow-primary
topology: ion
duration: 2m
workloads:
  - {service: mongo, rate: 200}
faults:
  - {name: slow, kind: latency, target: role:mongo:primary, latency: 2s, at: 30s, heal: 30s}
`)
		for _, seed := range seeds {
			rep, err := Run(context.Background(), sc, sim, Options{Seed: seed})
			Expect(err).NotTo(HaveOccurred())
			mongo := rep.Services["mongo"]
			Expect(mongo.Failed + mongo.Unknown + mongo.Lost).To(BeZero())
			// Both legs of the client's round trip cross the slowed link.
			Expect(mongo.WriteLatency.Max).To(BeNumerically(">=", 4000))
			Expect(mongo.RTO).To(HaveValue(BeZero()))
			Expect(mongo.OutageWindows).To(BeEmpty())
		}
	})
})
