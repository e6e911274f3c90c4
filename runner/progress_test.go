package runner

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/simulator"
)

var _ = Describe("a run's progress", func() {
	It("is told every interval of scenario time: operations per service, the faults in force, the next runbook step", func() {
		sc := parse(`name: progress
topology: ion
duration: 2m
workloads:
  - {service: mongo, rate: 100, arrival: constant}
  - {service: logs, rate: 50, arrival: constant}
faults:
  - {name: cut, kind: kill, target: node:es-east-1a, at: 30s, heal: 40s}
runbook:
  - {name: step-down, action: mongo.step-down, after: cut, operator_delay: 20s}
`)
		var ticks []Progress
		opts := Options{Seed: 1, ProgressEvery: 10 * time.Second, Progress: func(p Progress) { ticks = append(ticks, p) }}
		_, err := Run(context.Background(), sc, func(cfg platform.Config) (platform.Platform, error) { return simulator.New(cfg) }, opts)
		Expect(err).NotTo(HaveOccurred())
		Expect(len(ticks)).To(BeNumerically(">=", 12))
		at := func(t time.Duration) Progress {
			for _, p := range ticks {
				if p.At == t {
					return p
				}
			}
			Fail("no tick at " + t.String())
			return Progress{}
		}
		early := at(20 * time.Second)
		Expect(early.Duration).To(Equal(2 * time.Minute))
		Expect(early.ActiveFaults).To(BeEmpty())
		Expect(early.NextStep).To(Equal("step-down"))
		Expect(early.NextStepAt).To(BeNil(), "its trigger, the fault, has not happened yet")
		// Constant arrivals: 100/s and 50/s from the first second.
		Expect(early.Ops).To(HaveLen(2))
		for _, s := range early.Ops {
			want := map[string]int64{"mongo": 2000, "logs": 1000}[s.Service]
			Expect(s.Ops).To(BeNumerically("~", want, want/50), s.Service)
		}
		during := at(40 * time.Second)
		Expect(during.ActiveFaults).To(Equal([]string{"cut"}))
		Expect(during.NextStepAt).NotTo(BeNil())
		Expect(*during.NextStepAt).To(Equal(50 * time.Second))
		after := at(80 * time.Second)
		Expect(after.ActiveFaults).To(BeEmpty(), "healed at 70s")
		Expect(after.NextStep).To(BeEmpty(), "the one step has started")
		for i := 1; i < len(ticks); i++ {
			Expect(ticks[i].At - ticks[i-1].At).To(Equal(10 * time.Second))
		}
	})

	It("changes nothing of the run", func() {
		sc := loadLibrary("mongo-primary-kill")
		build := func(cfg platform.Config) (platform.Platform, error) { return simulator.New(cfg) }
		quiet, err := Run(context.Background(), sc, build, Options{Seed: 5})
		Expect(err).NotTo(HaveOccurred())
		watched, err := Run(context.Background(), sc, build, Options{Seed: 5, Progress: func(Progress) {}})
		Expect(err).NotTo(HaveOccurred())
		Expect(watched).To(Equal(quiet))
	})
})
