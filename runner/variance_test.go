package runner

import (
	"bytes"
	"context"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/reports"
	"github.com/chaosdrill/chaosdrill/scenarios"
	"github.com/chaosdrill/chaosdrill/simulator"
)

// Issue 9, "real variance": what reality varies, a run draws from its seed
// (fault times from windows, operator delays and parameters from
// distributions, Poisson arrivals with bursts), each purpose from its own
// stream, so a sweep of seeds shows a spread while each seed reproduces
// byte for byte. These specs run on the scripted fake platform (the runner
// draws, not the platform) and, for the sweep, on the simulator.

// invocations runs sc on a fresh fake platform with seed and returns, per
// service, the times writes were issued, and the report.
func invocations(sc *scenarios.Scenario, seed uint64) (map[string][]time.Duration, *reports.Report) {
	GinkgoHelper()
	fake := newFake()
	times := map[string][]time.Duration{}
	fake.answer = func(service string, _ uint64, now time.Duration) (platform.Outcome, time.Duration) {
		times[service] = append(times[service], now)
		return platform.Acked, time.Millisecond
	}
	rep, err := Run(context.Background(), sc, fake.build, Options{Seed: seed})
	Expect(err).NotTo(HaveOccurred())
	return times, rep
}

// gapStats is the mean and coefficient of variation of the gaps between
// successive times.
func gapStats(ts []time.Duration) (mean time.Duration, cv float64) {
	var sum, sumSq float64
	for i := 1; i < len(ts); i++ {
		g := float64(ts[i] - ts[i-1])
		sum += g
		sumSq += g * g
	}
	n := float64(len(ts) - 1)
	m := sum / n
	return time.Duration(m), math.Sqrt(sumSq/n-m*m) / m
}

func countIn(ts []time.Duration, from, to time.Duration) int {
	n := 0
	for _, t := range ts {
		if t >= from && t < to {
			n++
		}
	}
	return n
}

var _ = Describe("what a run draws from its seed", func() {
	Describe("workload arrivals", func() {
		It("are a Poisson process by default: the workload's mean rate, exponential gaps", func() {
			times, _ := invocations(parse(header+"workloads: [{service: mongo, rate: 200}]\n"), 3)
			ts := times["mongo"]
			// 2,000 writes expected over 10 s; a Poisson count's standard
			// deviation is its square root (about 45).
			Expect(len(ts)).To(BeNumerically("~", 2000, 5*45))
			mean, cv := gapStats(ts)
			Expect(mean).To(BeNumerically("~", 5*time.Millisecond, 500*time.Microsecond))
			// An exponential's standard deviation equals its mean.
			Expect(cv).To(BeNumerically("~", 1, 0.1))
			Expect(ts[0]).To(BeNumerically(">", 0), "a Poisson process has no write at time 0")
		})

		It("are evenly spaced with arrival: constant", func() {
			times, _ := invocations(parse(header+"workloads: [{service: mongo, rate: 200, arrival: constant}]\n"), 3)
			ts := times["mongo"]
			Expect(ts).To(HaveLen(2000))
			mean, cv := gapStats(ts)
			Expect(mean).To(Equal(5 * time.Millisecond))
			Expect(cv).To(BeNumerically("<", 1e-9))
		})

		It("differ between seeds, repeat on one, and draw from a stream of their own", func() {
			sc := parse(header + "workloads: [{service: mongo, rate: 50}]\n")
			a, _ := invocations(sc, 1)
			again, _ := invocations(sc, 1)
			other, _ := invocations(sc, 2)
			Expect(again["mongo"]).To(Equal(a["mongo"]))
			Expect(other["mongo"]).NotTo(Equal(a["mongo"]))
			// Another workload, a fault and a runbook step draw from other
			// streams: mongo's arrivals do not move.
			busier, _ := invocations(parse(header+`workloads:
  - {service: artifacts, rate: 20}
  - {service: mongo, rate: 50}
faults:
  - {name: f, kind: kill, target: node:es-east-1a, at: {between: [1s, 2s]}}
runbook:
  - {name: s, action: mongo.step-down, after: f, operator_delay: {min: 1s, max: 2s}}
`), 1)
			Expect(busier["mongo"]).To(Equal(a["mongo"]))
		})

		DescribeTable("come factor times as fast during a burst",
			func(arrival string) {
				sc := parse(strings.Replace(header, "10s", "60s", 1) + `workloads:
  - {service: mongo, rate: 100, arrival: ` + arrival + `, bursts: {every: 20s, length: 5s, factor: 4, start: 10s}}
`)
				times, _ := invocations(sc, 5)
				ts := times["mongo"]
				// Bursts at 10-15 s and 30-35 s (and 50-55 s): 400/s.
				inBurst := countIn(ts, 10*time.Second, 15*time.Second) + countIn(ts, 30*time.Second, 35*time.Second)
				between := countIn(ts, 15*time.Second, 30*time.Second)
				Expect(inBurst).To(BeNumerically("~", 4000, 5*math.Sqrt(4000)))
				Expect(between).To(BeNumerically("~", 1500, 5*math.Sqrt(1500)))
				Expect(countIn(ts, 0, 10*time.Second)).To(BeNumerically("~", 1000, 5*math.Sqrt(1000)), "before the first burst")
			},
			Entry("Poisson", scenarios.ArrivalPoisson),
			Entry("constant", scenarios.ArrivalConstant),
		)

		It("start their bursts at a phase drawn from the seed when the file gives none, and record it", func() {
			sc := parse(strings.Replace(header, "10s", "60s", 1) + `workloads:
  - {service: mongo, rate: 100, arrival: constant, bursts: {every: 20s, length: 5s, factor: 10}}
`)
			phases := map[string]bool{}
			for seed := uint64(1); seed <= 5; seed++ {
				times, rep := invocations(sc, seed)
				start, err := time.ParseDuration(rep.Sampled["workloads.mongo.bursts.start"])
				Expect(err).NotTo(HaveOccurred())
				Expect(start).To(BeNumerically("<", 20*time.Second))
				phases[start.String()] = true
				// The first burst's second holds ten times the writes of
				// the second before it.
				Expect(countIn(times["mongo"], start, start+time.Second)).To(BeNumerically("~", 1000, 2))
			}
			Expect(len(phases)).To(Equal(5))
		})

		It("cost no allocation to draw", func() {
			s := newSampler(1)
			plain := s.arrivals(scenarios.Workload{Service: "a", Rate: 200, Arrival: scenarios.ArrivalPoisson}, math.MaxInt64)
			bursty := s.arrivals(scenarios.Workload{Service: "b", Rate: 200, Arrival: scenarios.ArrivalPoisson,
				Bursts: &scenarios.Bursts{Every: platform.Duration(time.Second), Length: platform.Duration(100 * time.Millisecond), Factor: 3}}, math.MaxInt64)
			var t time.Duration
			Expect(testing.AllocsPerRun(1000, func() { t = plain.after(t) })).To(BeZero())
			Expect(testing.AllocsPerRun(1000, func() { t = bursty.after(t) })).To(BeZero())
		})
	})

	It("draws a fault's time from its window, fires it then, and records it", func() {
		sc := parse(header + `workloads: [{service: artifacts, rate: 1}]
faults:
  - {name: lose-west, kind: kill, target: region:us-west-1, at: {between: [2s, 8s]}}
`)
		seen := map[float64]bool{}
		for seed := uint64(1); seed <= 10; seed++ {
			fake := newFake()
			rep, err := Run(context.Background(), sc, fake.build, Options{Seed: seed})
			Expect(err).NotTo(HaveOccurred())
			at := *rep.Faults[0].At
			Expect(at).To(BeNumerically(">=", 2))
			Expect(at).To(BeNumerically("<=", 8))
			drawn, err := time.ParseDuration(rep.Sampled["faults.lose-west.at"])
			Expect(err).NotTo(HaveOccurred())
			Expect(drawn.Seconds()).To(BeNumerically("~", at, 1e-9))
			Expect(fake.callsMatching("kill")[0]).To(HavePrefix(drawn.String() + " kill"))
			seen[at] = true
		}
		Expect(len(seen)).To(Equal(10))
	})

	It("draws each step's operator delay, starts the step that long after its trigger, and records it", func() {
		sc := parse(strings.Replace(header, "10s", "30m", 1) + `workloads: [{service: mongo, rate: 1}]
faults:
  - {name: lose-east, kind: kill, target: region:us-east-1, at: 1m}
runbook:
  - {name: promote, action: mongo.force-reconfigure, params: {promote: mongo-west-1a}, after: lose-east, operator_delay: {median: 2m, p90: 6m}}
  - {name: failover, action: artifacts.failover, params: {region: us-west-1}, after: lose-east, operator_delay: {min: 1m, max: 5m}}
  - {name: fixed, action: mongo.step-down, after: lose-east, operator_delay: 30s}
`)
		var promote []float64
		for seed := uint64(1); seed <= 20; seed++ {
			rep, err := Run(context.Background(), sc, newFake().build, Options{Seed: seed})
			Expect(err).NotTo(HaveOccurred())
			for _, step := range rep.Runbook {
				started := *step.StartedAt - 60
				drawn, ok := rep.Sampled["runbook."+step.Name+".operator_delay"]
				if step.Name == "fixed" {
					Expect(ok).To(BeFalse(), "a fixed delay is not drawn")
					Expect(started).To(Equal(30.0))
					continue
				}
				d, err := time.ParseDuration(drawn)
				Expect(err).NotTo(HaveOccurred())
				Expect(started).To(BeNumerically("~", d.Seconds(), 1e-6), step.Name)
				if step.Name == "failover" {
					Expect(d).To(BeNumerically(">=", time.Minute))
					Expect(d).To(BeNumerically("<=", 5*time.Minute))
				} else {
					promote = append(promote, d.Seconds())
				}
			}
		}
		slices.Sort(promote)
		Expect(promote[0]).To(BeNumerically("<", 120))
		Expect(promote[len(promote)-1]).To(BeNumerically(">", 120))
	})

	It("draws a parameter once per seed and hands the platform the drawn value", func() {
		sc, err := scenarios.Parse("t.yaml", []byte(header+`workloads: [{service: mongo, rate: 1}]
parameters:
  mongo.election_timeout: {min: 8s, max: 12s}
  mongo.heartbeat_interval: 2s
`), scenarios.WithParameters(simulator.Parameters()))
		Expect(err).NotTo(HaveOccurred())
		values := map[string]bool{}
		for seed := uint64(1); seed <= 5; seed++ {
			fake := newFake()
			rep, err := Run(context.Background(), sc, fake.build, Options{Seed: seed})
			Expect(err).NotTo(HaveOccurred())
			given := fake.cfg.Parameters["mongo.election_timeout"]
			Expect(rep.Sampled).To(HaveKeyWithValue("parameters.mongo.election_timeout", given))
			Expect(rep.Sampled).NotTo(HaveKey("parameters.mongo.heartbeat_interval"))
			Expect(fake.cfg.Parameters).To(HaveKeyWithValue("mongo.heartbeat_interval", "2s"))
			d, err := time.ParseDuration(given)
			Expect(err).NotTo(HaveOccurred())
			Expect(d).To(BeNumerically(">=", 8*time.Second))
			Expect(d).To(BeNumerically("<=", 12*time.Second))
			values[given] = true
		}
		Expect(len(values)).To(Equal(5))
	})
})

var _ = Describe("a sweep of east-region-outage on the simulator", func() {
	run := func(seed uint64) *reports.Report {
		GinkgoHelper()
		sc, err := scenarios.Load(filepath.Join("..", "scenarios", "east-region-outage.yaml"), scenarios.WithParameters(simulator.Parameters()))
		Expect(err).NotTo(HaveOccurred())
		rep, err := Run(context.Background(), sc, func(cfg platform.Config) (platform.Platform, error) { return simulator.New(cfg) }, Options{Seed: seed})
		Expect(err).NotTo(HaveOccurred())
		return rep
	}

	It("gives a seed the same report.json byte for byte", func() {
		var first, second bytes.Buffer
		Expect(reports.WriteJSON(&first, run(7))).To(Succeed())
		Expect(reports.WriteJSON(&second, run(7))).To(Succeed())
		Expect(first.Bytes()).To(Equal(second.Bytes()))
		Expect(first.String()).To(ContainSubstring(`"runbook.promote-west.operator_delay"`))
	})

	It("shows over 30 seeds the spread a real region loss has", func() {
		lost := map[int64]bool{}
		var mongoRTO, logsRPO, promote, lags []float64
		for seed := uint64(1); seed <= 30; seed++ {
			rep := run(seed)
			mongo, logs := rep.Services["mongo"], rep.Services["logs"]
			lost[mongo.Lost] = true
			Expect(mongo.RTO).NotTo(BeNil())
			mongoRTO = append(mongoRTO, *mongo.RTO)
			logsRPO = append(logsRPO, logs.RPO)
			lags = append(lags, mongo.ReplicationLag["mongo-west-1a"])
			d, err := time.ParseDuration(rep.Sampled["runbook.promote-west.operator_delay"])
			Expect(err).NotTo(HaveOccurred())
			promote = append(promote, d.Seconds())
			// The Mongo RTO is the promoting operator's delay plus the
			// reconfig and an election, on every seed.
			Expect(*mongo.RTO).To(BeNumerically(">=", d.Seconds()))
			Expect(*mongo.RTO).To(BeNumerically("<", d.Seconds()+30))
		}
		spread := func(xs []float64) float64 { return slices.Max(xs) - slices.Min(xs) }
		Expect(len(lost)).To(BeNumerically(">=", 3), "distinct counts of lost Mongo writes: %v", lost)
		Expect(spread(mongoRTO)).To(BeNumerically(">", 60), "the Mongo RTO follows the operator")
		Expect(spread(logsRPO)).To(BeNumerically(">", 60), "the logs RPO follows when the region went relative to the snapshots")
		Expect(spread(lags)).To(BeNumerically(">", 0.005), "the west standby's lag follows the east-west link's draw")
		Expect(len(slices.Compact(slices.Sorted(slices.Values(promote))))).To(Equal(30))
	})
})
