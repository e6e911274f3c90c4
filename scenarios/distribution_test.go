package scenarios_test

import (
	"encoding/json"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.yaml.in/yaml/v3"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/scenarios"
)

// The forms issue 9 adds so that a sweep of seeds shows the spread real
// outages have: operator delays and parameters as distributions, fault
// and step times as windows, Poisson arrivals with bursts, link latency
// tails in an inline topology.
var _ = Describe("what a scenario leaves to chance", func() {
	It("loads operator delays, windows, drawn parameters, arrivals and bursts", func() {
		s, err := scenarios.Parse("s.yaml", []byte(`name: t
topology: ion
duration: 30m
parameters:
  mongo.election_timeout: {min: 10s, max: 12s}
  logs.follower_check_retries: {median: 3, p90: 6}
  mongo.heartbeat_interval: 2s
workloads:
  - {service: mongo, rate: 100}
  - {service: logs, rate: 10, arrival: constant, bursts: {every: 10m, length: 1m, factor: 3}}
  - {service: artifacts, rate: 1, bursts: {every: 5m, length: 30s, factor: 0.5, start: 2m}}
faults:
  - {name: lose-east, kind: kill, target: region:us-east-1, at: {between: [10m, 20m]}}
runbook:
  - {name: fixed, action: artifacts.failover, params: {region: us-west-1}, after: lose-east, operator_delay: 1m}
  - {name: skewed, action: mongo.force-reconfigure, params: {promote: mongo-west-1a}, after: lose-east, operator_delay: {median: 2m, p90: 6m}}
  - {name: even, action: logs.restore-snapshot, params: {region: us-west-1}, after: lose-east, operator_delay: {min: 1m, max: 5m}}
  - {name: windowed, action: mongo.step-down, at: {between: [1m, 2m]}}
`), scenarios.WithParameters(knownParameters))
		Expect(err).NotTo(HaveOccurred())

		Expect(s.Workloads[0].Arrival).To(Equal(scenarios.ArrivalPoisson), "Poisson is the default")
		Expect(s.Workloads[1].Arrival).To(Equal(scenarios.ArrivalConstant))
		Expect(s.Workloads[1].Bursts).To(Equal(&scenarios.Bursts{Every: platform.Duration(10 * time.Minute), Length: platform.Duration(time.Minute), Factor: 3}))
		start := platform.Duration(2 * time.Minute)
		Expect(s.Workloads[2].Bursts.Start).To(Equal(&start))

		Expect(*s.Faults[0].At).To(Equal(scenarios.Time{Earliest: platform.Duration(10 * time.Minute), Latest: platform.Duration(20 * time.Minute)}))
		Expect(s.Faults[0].At.Fixed()).To(BeFalse())
		Expect(s.Runbook[3].At.String()).To(Equal("between 1m0s and 2m0s"))

		Expect(s.Runbook[0].OperatorDelay).To(Equal(platform.FixedDuration(time.Minute)))
		Expect(s.Runbook[1].OperatorDelay.String()).To(Equal("{median: 2m0s, p90: 6m0s}"))
		Expect(s.Runbook[2].OperatorDelay.String()).To(Equal("{min: 1m0s, max: 5m0s}"))

		Expect(s.Parameters["mongo.heartbeat_interval"]).To(Equal(scenarios.ParameterValue{Text: "2s"}))
		Expect(s.Parameters["mongo.election_timeout"].Fixed()).To(BeFalse())
		Expect(s.Parameters["logs.follower_check_retries"].Whole).To(BeTrue(), "a count parameter draws whole numbers")
	})

	It("draws a parameter in the parameter's own form", func() {
		s, err := scenarios.Parse("s.yaml", []byte(base+`parameters:
  mongo.election_timeout: {median: 10s, p99: 20s}
  logs.follower_check_retries: {min: 1, max: 9}
`), scenarios.WithParameters(knownParameters))
		Expect(err).NotTo(HaveOccurred())
		for seed := range uint64(20) {
			timeout := s.Parameters["mongo.election_timeout"].Sample(platform.RandomStream(seed, "p"))
			d, err := time.ParseDuration(timeout)
			Expect(err).NotTo(HaveOccurred(), timeout)
			Expect(d).To(BeNumerically(">", 0))
			retries := s.Parameters["logs.follower_check_retries"].Sample(platform.RandomStream(seed, "p"))
			Expect(retries).To(MatchRegexp(`^[1-9]$`))
		}
	})

	It("draws a window's time within it, the same for the same stream", func() {
		w := scenarios.Time{Earliest: platform.Duration(10 * time.Minute), Latest: platform.Duration(20 * time.Minute)}
		seen := map[time.Duration]bool{}
		for seed := range uint64(50) {
			at := w.Sample(platform.RandomStream(seed, "w"))
			Expect(at).To(BeNumerically(">=", 10*time.Minute))
			Expect(at).To(BeNumerically("<=", 20*time.Minute))
			Expect(w.Sample(platform.RandomStream(seed, "w"))).To(Equal(at))
			seen[at] = true
		}
		Expect(len(seen)).To(BeNumerically(">", 45))
		Expect(scenarios.At(time.Minute).Sample(platform.RandomStream(1, "w"))).To(Equal(time.Minute))
	})

	It("writes back the forms it reads, as YAML and as JSON", func() {
		window := scenarios.Time{Earliest: platform.Duration(10 * time.Minute), Latest: platform.Duration(20 * time.Minute)}
		text, err := yaml.Marshal(map[string]any{"at": window, "fixed": scenarios.At(time.Minute), "p": scenarios.ParameterValue{Text: "10s"}})
		Expect(err).NotTo(HaveOccurred())
		Expect(string(text)).To(Equal("at:\n    between:\n        - 10m0s\n        - 20m0s\nfixed: 1m0s\np: 10s\n"))
		var back struct {
			At    scenarios.Time           `yaml:"at"`
			Fixed scenarios.Time           `yaml:"fixed"`
			P     scenarios.ParameterValue `yaml:"p"`
		}
		Expect(yaml.Unmarshal(text, &back)).To(Succeed())
		Expect(back.At).To(Equal(window))
		Expect(*scenarios.At(time.Minute)).To(Equal(back.Fixed))

		d := platform.Distribution{Shape: platform.ShapeUniform, Duration: true, Min: float64(time.Minute), Max: float64(5 * time.Minute)}
		js, err := json.Marshal(map[string]any{"at": window, "p": scenarios.ParameterValue{Distribution: &d}, "n": scenarios.ParameterValue{Text: "3"}})
		Expect(err).NotTo(HaveOccurred())
		Expect(string(js)).To(Equal(`{"at":{"between":["10m0s","20m0s"]},"n":"3","p":{"max":"5m0s","min":"1m0s"}}`))
	})

	It("reads a link latency tail in an inline topology and keeps the plain form fixed", func() {
		topology := `topology:
  regions: [{name: r1, zones: [r1-a, r1-b]}, {name: r2, zones: [r2-a]}]
  latency: {inter_zone: 2ms, inter_region: {median: 40ms, p99: 90ms}}
  services: [{name: mongo, kind: mongo, members: [{name: m1, zone: r1-a, priority: 1}, {name: m2, zone: r1-b, priority: 1}, {name: m3, zone: r2-a, priority: 0}]}]`
		s, err := scenarios.Parse("s.yaml", []byte(strings.Replace(base, "topology: ion", topology, 1)))
		Expect(err).NotTo(HaveOccurred())
		l := s.Topology.Resolved.Latency
		Expect(l.InterRegion).To(Equal(platform.LinkDelay{Median: platform.Duration(40 * time.Millisecond), P99: platform.Duration(90 * time.Millisecond)}))
		Expect(l.InterZone.HasTail()).To(BeFalse())
		Expect(s.Topology.Resolved.EffectiveLatency().IntraZone).To(Equal(platform.DefaultLinkLatency.IntraZone), "a class left out takes the default, tail and all")
	})
})

var _ = DescribeTable("problems with what a scenario leaves to chance",
	func(text, path, message string) {
		_, err := scenarios.Parse("s.yaml", []byte(text), scenarios.WithParameters(knownParameters))
		problems := problemsOf(err)
		Expect(problems).To(HaveLen(1), err.Error())
		Expect(problems[0].Path).To(Equal(path))
		Expect(problems[0].Message).To(ContainSubstring(message))
	},
	Entry("a parameter drawn in numbers where it takes durations", base+"parameters: {mongo.election_timeout: {min: 10, max: 12}}\n",
		"parameters.mongo.election_timeout", `takes durations such as "10s"; give the distribution in durations`),
	Entry("a count parameter drawn in durations", base+"parameters: {logs.follower_check_retries: {min: 1s, max: 2s}}\n",
		"parameters.logs.follower_check_retries", "takes numbers such as 3"),
	Entry("a malformed parameter distribution", base+"parameters: {mongo.election_timeout: {median: 10s}}\n",
		"parameters.mongo.election_timeout", "{median: 2m, p90: 6m} (or p99)"),
	Entry("a window that may end after the scenario", base+"faults:\n  - {kind: kill, target: node:es-east-1a, at: {between: [5m, 10m]}}\n",
		"faults[0].at", "a fault drawn from between 5m0s and 10m0s could come after the scenario's end (duration 10m0s)"),
	Entry("a window backwards", base+"faults:\n  - {kind: kill, target: node:es-east-1a, at: {between: [5m, 1m]}}\n",
		"faults[0].at", "the window ends (1m0s) before it starts (5m0s)"),
	Entry("a window starting before 0", base+"runbook:\n  - {name: s, action: mongo.step-down, at: {between: [-1m, 1m]}}\n",
		"runbook[0].at", "must not start before 0"),
	Entry("a window's heal after the end", base+"faults:\n  - {kind: kill, target: node:es-east-1a, at: {between: [1m, 8m]}, heal: 2m}\n",
		"faults[0].heal", "the heal would come at 10m0s (at 8m0s + heal 2m0s)"),
	Entry("an operator delay as a bare number, whose unit would be a guess", base+"runbook:\n  - {name: s, action: mongo.step-down, at: 1m, operator_delay: 0}\n",
		"runbook[0].operator_delay", `want a duration such as "2m"`),
	Entry("an operator delay in plain numbers", base+"runbook:\n  - {name: s, action: mongo.step-down, at: 1m, operator_delay: {min: 1, max: 5}}\n",
		"runbook[0].operator_delay", "want a duration"),
	Entry("an operator delay with its tail below the median", base+"runbook:\n  - {name: s, action: mongo.step-down, at: 1m, operator_delay: {median: 5m, p90: 1m}}\n",
		"runbook[0].operator_delay", "p90 (1m0s) must be above the median (5m0s)"),
	Entry("an unknown arrival", strings.Replace(base, "rate: 10}", "rate: 10, arrival: poison}", 1),
		"workloads[0].arrival", `did you mean "poisson"?`),
	Entry("bursts as long as their period", strings.Replace(base, "rate: 10}", "rate: 10, bursts: {every: 1m, length: 1m, factor: 2}}", 1),
		"workloads[0].bursts.length", "never ends"),
	Entry("bursts without every", strings.Replace(base, "rate: 10}", "rate: 10, bursts: {length: 1m, factor: 2}}", 1),
		"workloads[0].bursts.every", "how often a burst starts"),
	Entry("bursts with a zero factor", strings.Replace(base, "rate: 10}", "rate: 10, bursts: {every: 5m, length: 1m, factor: 0}}", 1),
		"workloads[0].bursts.factor", "positive factor"),
	Entry("bursts starting after the end", strings.Replace(base, "rate: 10}", "rate: 10, bursts: {every: 5m, length: 1m, factor: 2, start: 10m}}", 1),
		"workloads[0].bursts.start", "after the scenario's end"),
	Entry("a link latency tail below its median", strings.Replace(base, "topology: ion",
		"topology:\n  regions: [{name: r1, zones: [r1-a]}]\n  latency: {inter_zone: {median: 2ms, p99: 1ms}}\n  services: [{name: mongo, kind: mongo, members: [{name: m1, zone: r1-a, priority: 1}]}]", 1),
		"topology.latency.inter_zone", "p99 (1ms) must be above the median (2ms)"),
	Entry("a link latency in a form it does not take", strings.Replace(base, "topology: ion",
		"topology:\n  regions: [{name: r1, zones: [r1-a]}]\n  latency: {inter_zone: {median: 2ms, p90: 3ms}}\n  services: [{name: mongo, kind: mongo, members: [{name: m1, zone: r1-a, priority: 1}]}]", 1),
		"topology.latency.inter_zone", `unknown field "p90"`),
)
