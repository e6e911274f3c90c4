package scenarios_test

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/scenarios"
	"github.com/chaosdrill/chaosdrill/simulator"
)

// knownParameters stands in for a platform's parameter list.
var knownParameters = []platform.Parameter{
	{Name: "mongo.election_timeout", Default: "10s"},
	{Name: "mongo.heartbeat_interval", Default: "2s"},
	{Name: "logs.follower_check_retries", Default: "3"},
}

func duration(d time.Duration) *platform.Duration {
	v := platform.Duration(d)
	return &v
}

// problemsOf returns the problems of a load that must have failed on bad
// input.
func problemsOf(err error) []scenarios.Problem {
	GinkgoHelper()
	var bad *scenarios.Error
	Expect(errors.As(err, &bad)).To(BeTrue(), "want a *scenarios.Error, got %v", err)
	return bad.Problems
}

var _ = Describe("Load", func() {
	It("loads a scenario on the built-in ion topology and fills in defaults", func() {
		s, err := scenarios.Load("testdata/good/ion-region-outage.yaml", scenarios.WithParameters(knownParameters))
		Expect(err).NotTo(HaveOccurred())

		Expect(s.Path).To(Equal("testdata/good/ion-region-outage.yaml"))
		Expect(s.Name).To(Equal("east-region-outage"))
		Expect(s.Duration).To(Equal(platform.Duration(15 * time.Minute)))
		Expect(s.Parameters).To(Equal(map[string]scenarios.ParameterValue{"mongo.election_timeout": {Text: "10s"}}))
		Expect(s.Topology.Builtin).To(Equal("ion"))
		Expect(s.Topology.Inline).To(BeNil())
		Expect(s.Topology.Resolved).To(Equal(platform.Ion()))

		Expect(s.Workloads).To(Equal([]scenarios.Workload{
			{Service: "mongo", Rate: 100, Arrival: scenarios.ArrivalPoisson, WriteConcern: "majority", Timeout: platform.Duration(scenarios.DefaultTimeout)},
			{Service: "logs", Rate: 200, Arrival: scenarios.ArrivalPoisson, Timeout: platform.Duration(scenarios.DefaultTimeout)},
			{Service: "artifacts", Rate: 5, Arrival: scenarios.ArrivalPoisson, Timeout: platform.Duration(30 * time.Second)},
		}))

		Expect(s.Faults).To(HaveLen(3))
		Expect(s.Faults[0]).To(Equal(scenarios.Fault{
			Name: "slow-link", Kind: "latency", Target: "role:mongo:primary",
			Latency: platform.Duration(200 * time.Millisecond), At: scenarios.At(time.Minute), Heal: platform.Duration(time.Minute),
		}))
		Expect(s.Faults[1].Name).To(Equal("fault-2"), "an unnamed fault is named by its 1-based position")
		Expect(s.Faults[1].Between).To(Equal([]string{"az:us-east-1a", "az:us-east-1b"}))
		Expect(s.Faults[2].Heal).To(BeZero(), "a fault without heal lasts to the end")

		Expect(s.Runbook).To(HaveLen(4))
		Expect(s.Runbook[0]).To(Equal(scenarios.Step{
			Name: "promote-west", Action: platform.ActionMongoForceReconfigure,
			Params: map[string]string{"promote": "mongo-west-1a"},
			After:  "lose-east", OperatorDelay: platform.FixedDuration(3 * time.Minute),
		}))
		Expect(s.Runbook[1].Params).To(Equal(map[string]string{"name": "mongo-west-1b", "zone": "us-west-1b", "priority": "1"}),
			"numbers in params are read as their text")
		Expect(s.Runbook[2].AfterEvent).To(Equal("mongo:primary-elected"))

		one := 1
		recovers := true
		Expect(s.Expect).To(Equal([]scenarios.Expectation{
			{Service: "mongo", RTOMax: duration(10 * time.Minute), MinLost: &one},
			{Service: "logs", RPOMax: duration(7 * time.Minute)},
			{Service: "artifacts", Recovers: &recovers},
		}))
	})

	It("gives each load its own copy of a built-in topology", func() {
		first, err := scenarios.Load("testdata/good/ion-region-outage.yaml")
		Expect(err).NotTo(HaveOccurred())
		first.Topology.Resolved.Services[0].Members[0].Priority = 99

		second, err := scenarios.Load("testdata/good/ion-region-outage.yaml")
		Expect(err).NotTo(HaveOccurred())
		Expect(second.Topology.Resolved).To(Equal(platform.Ion()))
	})

	It("loads a read workload beside the writes of its service, with MongoDB's defaults, and gives the service one baseline", func() {
		s, err := scenarios.Parse("reads.yaml", []byte(base+"  - {service: mongo, op: read, rate: 50}\n"))
		Expect(err).NotTo(HaveOccurred())
		Expect(s.Workloads).To(Equal([]scenarios.Workload{
			{Service: "mongo", Rate: 10, Arrival: scenarios.ArrivalPoisson, WriteConcern: "majority", Timeout: platform.Duration(scenarios.DefaultTimeout)},
			{Service: "mongo", Op: "read", Rate: 50, Arrival: scenarios.ArrivalPoisson, ReadPreference: "primary", ReadConcern: "local", Timeout: platform.Duration(scenarios.DefaultTimeout)},
		}))
		Expect(s.Workloads[1].Reads()).To(BeTrue())
		Expect(s.Workloads[0].Reads()).To(BeFalse())
		Expect(s.Expect).To(Equal([]scenarios.Expectation{scenarios.Baseline("mongo")}))

		s, err = scenarios.Parse("reads.yaml", []byte(base+
			"  - {service: mongo, op: read, rate: 5, read_preference: nearest, read_preference_tags: [{region: us-east-1}, {}], read_concern: majority, timeout: 2s}\n"+
			"expect:\n  - {service: mongo, stale_reads_max: 3, dirty_reads_max: 0}\n"))
		Expect(err).NotTo(HaveOccurred())
		Expect(s.Workloads[1]).To(Equal(scenarios.Workload{Service: "mongo", Op: "read", Rate: 5, Arrival: scenarios.ArrivalPoisson, ReadPreference: "nearest",
			ReadPreferenceTags: []map[string]string{{"region": "us-east-1"}, {}}, ReadConcern: "majority", Timeout: platform.Duration(2 * time.Second)}))
		three, zero := 3, 0
		Expect(s.Expect).To(Equal([]scenarios.Expectation{{Service: "mongo", StaleReadsMax: &three, DirtyReadsMax: &zero}}))
	})

	It("loads an inline topology", func() {
		s, err := scenarios.Load("testdata/good/inline-two-region.yaml")
		Expect(err).NotTo(HaveOccurred())

		t := s.Topology.Resolved
		Expect(s.Topology.Builtin).To(BeEmpty())
		Expect(s.Topology.Inline).To(BeIdenticalTo(t))
		Expect(t.Name).To(Equal("two-region"))
		Expect(t.Zones()).To(Equal([]string{"eu-west-1a", "eu-west-1b", "eu-central-1a"}))
		Expect(t.Latency.InterRegion).To(Equal(platform.LinkDelay{Median: platform.Duration(12 * time.Millisecond)}))
		db, ok := t.Service("db")
		Expect(ok).To(BeTrue())
		Expect(db.Members[2]).To(Equal(platform.MongoMember{Name: "db-c", Zone: "eu-central-1a", Priority: 1, Tags: map[string]string{"region": "eu-central-1"}}))
		Expect(db.WriteModes).To(Equal(map[string]map[string]int{"bothRegions": {"region": 2}}))
		blobs, _ := t.Service("blobs")
		Expect(blobs.SyncInterval).To(Equal(platform.Duration(time.Minute)))

		Expect(s.Workloads[0].WriteConcern).To(Equal("bothRegions"))
		Expect(s.Faults[1].After).To(Equal("fault-1"), "after may name a fault by its default name")
		Expect(s.Faults[1].Delay).To(Equal(platform.Duration(30 * time.Second)))
	})

	It("says a missing file is missing, not bad input", func() {
		_, err := scenarios.Load("testdata/no-such-file.yaml")
		Expect(err).To(MatchError(fs.ErrNotExist))
		var bad *scenarios.Error
		Expect(errors.As(err, &bad)).To(BeFalse())
	})
})

// wantLine reads the "# want: LINE: PATH" header of a bad fixture.
var wantLine = regexp.MustCompile(`^# want: (\d+):\s*(\S*)$`)

var _ = Describe("bad scenario files", func() {
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil {
		panic(err)
	}

	It("cover the problems users make", func() {
		Expect(len(files)).To(BeNumerically(">=", 12))
	})

	for _, file := range files {
		It("reports the one problem of "+filepath.Base(file)+" at its line and field", func() {
			f, err := os.Open(file)
			Expect(err).NotTo(HaveOccurred())
			header, err := bufio.NewReader(f).ReadString('\n')
			Expect(f.Close()).To(Succeed())
			Expect(err).NotTo(HaveOccurred())
			m := wantLine.FindStringSubmatch(strings.TrimSpace(header))
			Expect(m).NotTo(BeNil(), "the file must start with # want: LINE: PATH")
			line, _ := strconv.Atoi(m[1])

			s, err := scenarios.Load(file, scenarios.WithParameters(simulator.Parameters()))
			Expect(s).To(BeNil(), "a bad file is never half-accepted")
			var bad *scenarios.Error
			Expect(errors.As(err, &bad)).To(BeTrue(), "want a *scenarios.Error, got %v", err)
			Expect(bad.File).To(Equal(file))
			Expect(bad.Problems).To(HaveLen(1), "one problem, no follow-on complaints:\n%v", err)
			Expect(bad.Problems[0].Line).To(Equal(line), err.Error())
			Expect(bad.Problems[0].Path).To(Equal(m[2]), err.Error())
			Expect(err.Error()).To(HavePrefix(fmt.Sprintf("%s:%d:", file, line)))
		})
	}
})

var _ = Describe("Error", func() {
	It("prints FILE:LINE:COL: PATH: MESSAGE, one line per problem", func() {
		_, err := scenarios.Parse("drill.yaml", []byte(
			"name: x\ntopology: ion\nduration: 5m\nworkloads:\n  - {service: mongo, rate: -1}\n  - {service: nosuch, rate: 1}\n"))
		Expect(err).To(MatchError(
			"drill.yaml:5:28: workloads[0].rate: rate must be a positive number of writes per second, got -1\n" +
				"drill.yaml:6:15: workloads[1].service: no service \"nosuch\" in topology \"ion\" (services: mongo, logs, artifacts)"))
	})

	It("is found with errors.As through wrapping, as the CLI does", func() {
		_, err := scenarios.Parse("drill.yaml", []byte("name: [\n"))
		wrapped := fmt.Errorf("validate: %w", err)
		var bad *scenarios.Error
		Expect(errors.As(wrapped, &bad)).To(BeTrue())
		Expect(bad.Problems).To(ConsistOf(HaveField("Message", HavePrefix("YAML syntax: "))))
	})

	It("collects every problem of a file in line order", func() {
		_, err := scenarios.Parse("drill.yaml", []byte(`name: many
topology: ion
duration: 0s
colour: blue
workloads:
  - {service: logs, rate: fast}
faults:
  - {kind: explode, target: node:x, at: 1m}
  - {kind: kill, target: "node:nowhere", at: 1m}
runbook:
  - {name: r, action: logs.restore-snapshot, params: {region: mars}, at: 1m}
expect:
  - {service: logs, rto_max: -1s}
`))
		problems := problemsOf(err)
		var paths []string
		for _, p := range problems {
			paths = append(paths, fmt.Sprintf("%d %s", p.Line, p.Path))
		}
		Expect(paths).To(Equal([]string{
			"3 duration",
			"4 colour",
			"6 workloads[0].rate",
			"8 faults[0].kind",
			"9 faults[1].target",
			"11 runbook[0].params.region",
			"13 expect[0].rto_max",
		}))
	})
})

// base is a valid scenario that the checks below add one mistake to.
const base = `name: t
topology: ion
duration: 10m
workloads:
  - {service: mongo, rate: 10}
`

var _ = DescribeTable("problems found in a scenario",
	func(text, path, message string) {
		_, err := scenarios.Parse("s.yaml", []byte(text), scenarios.WithParameters(knownParameters))
		problems := problemsOf(err)
		Expect(problems).To(HaveLen(1), err.Error())
		Expect(problems[0].Path).To(Equal(path))
		Expect(problems[0].Message).To(ContainSubstring(message))
	},
	// the document
	Entry("an empty file", "", "", "the file is empty"),
	Entry("a list instead of a mapping", "- name: x\n", "", "a scenario is a mapping"),
	Entry("two documents", base+"---\nname: other\n", "", "one YAML document"),
	Entry("no name", strings.Replace(base, "name: t\n", "", 1), "name", "needs a name"),
	Entry("a zero duration", strings.Replace(base, "10m", "0s", 1), "duration", "must be positive"),
	Entry("a negative duration", strings.Replace(base, "10m", "-1m", 1), "duration", "must be positive"),
	Entry("no duration", strings.Replace(base, "duration: 10m\n", "", 1), "duration", "needs a duration"),
	Entry("no topology", strings.Replace(base, "topology: ion\n", "", 1), "topology", "needs a topology"),
	Entry("a topology that is a list", strings.Replace(base, "topology: ion", "topology: [ion]", 1), "topology", "want the name of a built-in topology (ion) or an inline topology, got a list"),
	Entry("an empty workload list", strings.Replace(base, "  - {service: mongo, rate: 10}\n", "", 1), "workloads", "at least one workload"),
	Entry("a key given twice", base+"name: again\n", "name", `"name" is given twice (first at line 1)`),
	Entry("a mapping that merges itself", base+"  - &w {<<: *w, service: logs, rate: 1}\n", "workloads[1]", "contains it"),

	// parameters
	Entry("a parameter typo", base+"parameters: {mongo.heartbeat_intervall: 1s}\n", "parameters.mongo.heartbeat_intervall", `did you mean "mongo.heartbeat_interval"?`),
	Entry("an unknown parameter", base+"parameters: {cosmic.rays: 1}\n", "parameters.cosmic.rays", "chaosdrill list --parameters"),
	Entry("a parameter of the wrong form", base+"parameters: {mongo.election_timeout: 5}\n", "parameters.mongo.election_timeout", `want a duration from 0s to 168h0m0s, got "5" (default 10s)`),
	Entry("a count that is not a number", base+"parameters: {logs.follower_check_retries: many}\n", "parameters.logs.follower_check_retries", "want a whole number from 0 to 1000000, got \"many\""),

	// workloads
	Entry("a workload without a service", base+"  - {rate: 1}\n", "workloads[1].service", "needs a service"),
	Entry("a workload without a rate", base+"  - {service: logs}\n", "workloads[1].rate", "needs a rate"),
	Entry("a zero rate", base+"  - {service: logs, rate: 0}\n", "workloads[1].rate", "positive"),
	Entry("an unknown service", base+"  - {service: log, rate: 1}\n", "workloads[1].service", `did you mean "logs"?`),
	Entry("a negative timeout", base+"  - {service: logs, rate: 1, timeout: -1s}\n", "workloads[1].timeout", "must not be negative"),
	Entry("a write concern of more members than the set has", strings.Replace(base, "rate: 10}", "rate: 10, write_concern: 4}", 1), "workloads[0].write_concern", "has 3 members, so want 1..3"),
	Entry("a write concern of 0", strings.Replace(base, "rate: 10}", "rate: 10, write_concern: 0}", 1), "workloads[0].write_concern", "want 1..3"),
	Entry("an unknown write mode", strings.Replace(base, "rate: 10}", "rate: 10, write_concern: bothRegions}", 1), "workloads[0].write_concern", "majority, 1..3, multiRegion"),

	// faults
	Entry("a fault without a kind", base+"faults:\n  - {target: node:es-east-1a, at: 1m}\n", "faults[0].kind", "needs a kind"),
	Entry("a fault without a target", base+"faults:\n  - {kind: kill, at: 1m}\n", "faults[0].target", "needs a target"),
	Entry("a malformed target", base+"faults:\n  - {kind: kill, target: mongo-east-1a, at: 1m}\n", "faults[0].target", "want KIND:VALUE"),
	Entry("an unknown zone target", base+"faults:\n  - {kind: kill, target: az:us-east-1z, at: 1m}\n", "faults[0].target", `no zone "us-east-1z"`),
	Entry("an unknown region target", base+"faults:\n  - {kind: kill, target: region:eu-west-1, at: 1m}\n", "faults[0].target", `no region "eu-west-1"`),
	Entry("an unknown service target", base+"faults:\n  - {kind: kill, target: service:cache, at: 1m}\n", "faults[0].target", `no service "cache"`),
	Entry("an unknown role", base+"faults:\n  - {kind: kill, target: role:mongo:arbiter, at: 1m}\n", "faults[0].target", "has roles [primary secondary]"),
	Entry("between on a kill", base+"faults:\n  - {kind: kill, target: node:es-east-1a, between: [az:us-east-1a, az:us-east-1b], at: 1m}\n", "faults[0].between", "between is for partition faults"),
	Entry("a partition with one side", base+"faults:\n  - {kind: partition, between: [region:us-east-1], at: 1m}\n", "faults[0].between", "exactly two sides"),
	Entry("a partition with an unknown side", base+"faults:\n  - {kind: partition, between: [region:us-east-1, region:us-east-2], at: 1m}\n", "faults[0].between[1]", `no region "us-east-2"`),
	Entry("a latency fault without latency", base+"faults:\n  - {kind: latency, target: node:es-east-1a, at: 1m}\n", "faults[0].latency", "positive latency"),
	Entry("latency on a kill", base+"faults:\n  - {kind: kill, target: node:es-east-1a, latency: 1s, at: 1m}\n", "faults[0].latency", "latency is for latency faults"),
	Entry("a negative heal", base+"faults:\n  - {kind: kill, target: node:es-east-1a, at: 1m, heal: -1m}\n", "faults[0].heal", "must not be negative"),
	Entry("a fault without a trigger", base+"faults:\n  - {kind: kill, target: node:es-east-1a}\n", "faults[0]", "one of at, after or after_event"),
	Entry("a fault at the end", base+"faults:\n  - {kind: kill, target: node:es-east-1a, at: 10m}\n", "faults[0].at", "after the scenario's end (duration 10m0s)"),
	Entry("a negative at", base+"faults:\n  - {kind: kill, target: node:es-east-1a, at: -1m}\n", "faults[0].at", "must not be negative"),
	Entry("a fault after itself", base+"faults:\n  - {name: a, kind: kill, target: node:es-east-1a, after: a}\n", "faults[0].after", "after itself"),
	Entry("a malformed after_event", base+"faults:\n  - {kind: kill, target: node:es-east-1a, after_event: primary-elected}\n", "faults[0].after_event", "want SERVICE:EVENT"),
	Entry("an after_event without the event", base+"faults:\n  - {kind: kill, target: node:es-east-1a, after_event: 'mongo:'}\n", "faults[0].after_event", "want SERVICE:EVENT"),
	Entry("delay with at", base+"faults:\n  - {kind: kill, target: node:es-east-1a, at: 1m, delay: 1m}\n", "faults[0].delay", "add it to at"),
	Entry("a negative delay", base+"faults:\n  - {kind: kill, target: node:es-east-1a, after_event: mongo:primary-lost, delay: -1s}\n", "faults[0].delay", "must not be negative"),
	Entry("a default name taken by an explicit one", base+"faults:\n  - {kind: kill, target: node:es-east-1a, at: 1m}\n  - {name: fault-1, kind: kill, target: node:es-east-1b, at: 2m}\n", "faults[0]", `default name "fault-1" is already used by faults[1]`),
	Entry("a misspelled event", base+"faults:\n  - {kind: kill, target: node:es-east-1a, after_event: 'logs:health_green'}\n", "faults[0].after_event", `emits no event "health_green", so this would wait forever; did you mean "health-green"?`),
	Entry("an event of another kind of service", base+"faults:\n  - {kind: kill, target: node:es-east-1a, after_event: 'mongo:health-green'}\n", "faults[0].after_event", `service "mongo" (mongo) emits no event "health-green"`),
	Entry("an event no kind emits", base+"runbook:\n  - {name: s, action: mongo.step-down, after_event: 'artifacts:exploded'}\n", "runbook[0].after_event", "(its events: node-down, node-up, disk-faulted, disk-healed, sync-completed, endpoint-failed-over, artifact-published"),
	Entry("a misspelled node", base+"faults:\n  - {kind: kill, target: node:es-east-1e, at: 1m}\n", "faults[0].target", `no node "es-east-1e" in topology "ion"; did you mean "es-east-1a"?`),
	Entry("a misspelled region", base+"faults:\n  - {kind: kill, target: region:us-west1, at: 1m}\n", "faults[0].target", `did you mean "us-west-1"?`),
	Entry("a misspelled partition side", base+"faults:\n  - {kind: partition, between: [region:us-east-1, 'service:artifact'], at: 1m}\n", "faults[0].between[1]", `did you mean "artifacts"?`),
	Entry("a heal after the end", base+"faults:\n  - {kind: kill, target: node:es-east-1a, at: 8m, heal: 2m}\n", "faults[0].heal", "not before the scenario's end (duration 10m0s)"),
	Entry("an optional step at a time", base+"runbook:\n  - {name: s, action: mongo.step-down, at: 1m, optional: true}\n", "runbook[0].optional", "optional is for a step that answers an event"),
	Entry("a loop of three afters", base+"faults:\n  - {name: a, kind: kill, target: node:es-east-1a, after: c}\nrunbook:\n  - {name: b, action: mongo.step-down, after: a}\n  - {name: c, action: mongo.step-down, after: b}\n", "faults[0].after", "a -> c -> b -> a"),

	// runbook
	Entry("a step without a name", base+"runbook:\n  - {action: mongo.step-down, at: 1m}\n", "runbook[0].name", "needs a name"),
	Entry("a step named like a fault", base+"faults:\n  - {name: x, kind: kill, target: node:es-east-1a, at: 1m}\nrunbook:\n  - {name: x, action: mongo.step-down, at: 2m}\n", "runbook[0].name", `"x" is already used by faults[0]`),
	Entry("a step without an action", base+"runbook:\n  - {name: s, at: 1m}\n", "runbook[0].action", "needs an action"),
	Entry("an action typo", base+"runbook:\n  - {name: s, action: mongo.step-dwn, at: 1m}\n", "runbook[0].action", `did you mean "mongo.step-down"?`),
	Entry("a parameter the action does not take", base+"runbook:\n  - {name: s, action: mongo.step-down, params: {force: true}, at: 1m}\n", "runbook[0].params.force", "takes no parameter"),
	Entry("an unknown zone", base+"runbook:\n  - {name: s, action: mongo.add-member, params: {name: m4, zone: us-west-1z}, at: 1m}\n", "runbook[0].params.zone", `no zone "us-west-1z"`),
	Entry("a new member with an old name", base+"runbook:\n  - {name: s, action: mongo.add-member, params: {name: mongo-east-1a, zone: us-west-1b}, at: 1m}\n", "runbook[0].params.name", "already exists"),
	Entry("a priority out of range", base+"runbook:\n  - {name: s, action: mongo.add-member, params: {name: m4, zone: us-west-1b, priority: 1001}, at: 1m}\n", "runbook[0].params.priority", "0 to 1000"),
	Entry("an unknown region", base+"runbook:\n  - {name: s, action: artifacts.failover, params: {region: us-east-2}, at: 1m}\n", "runbook[0].params.region", `no region "us-east-2"`),
	Entry("zero nodes", base+"runbook:\n  - {name: s, action: logs.restore-snapshot, params: {region: us-west-1, nodes: 0}, at: 1m}\n", "runbook[0].params.nodes", "positive whole number"),
	Entry("a service of the wrong kind", base+"runbook:\n  - {name: s, action: mongo.step-down, params: {service: logs}, at: 1m}\n", "runbook[0].params.service", "works on a mongo service"),
	Entry("a negative operator delay", base+"runbook:\n  - {name: s, action: mongo.step-down, at: 1m, operator_delay: -1m}\n", "runbook[0].operator_delay", "must not be negative"),
	Entry("a step after the end", base+"runbook:\n  - {name: s, action: mongo.step-down, at: 11m}\n", "runbook[0].at", "after the scenario's end"),
	Entry("a step with two triggers", base+"runbook:\n  - {name: s, action: mongo.step-down, at: 2m, after_event: mongo:primary-lost}\n", "runbook[0].after_event", "takes one of"),

	// read workloads
	Entry("an unknown op", base+"  - {service: mongo, op: raed, rate: 1}\n", "workloads[1].op", `unknown op "raed" (want write or read); did you mean "read"?`),
	Entry("a read of elasticsearch", strings.Replace(base, "rate: 10}", "rate: 10}\n  - {service: logs, rate: 1}\n  - {service: logs, op: read, rate: 1}", 1), "workloads[2].op", `op: read is supported for mongo services only; "logs" is elasticsearch`),
	Entry("a read of s3", strings.Replace(base, "rate: 10}", "rate: 10}\n  - {service: artifacts, rate: 1}\n  - {service: artifacts, op: read, rate: 1}", 1), "workloads[2].op", `"artifacts" is s3`),
	Entry("reads without writes", strings.Replace(base, "{service: mongo, rate: 10}", "{service: mongo, op: read, rate: 10}\n  - {service: logs, rate: 1}", 1), "workloads[0].op", "needs a write workload on it too"),
	Entry("two read workloads", base+"  - {service: mongo, op: read, rate: 1}\n  - {service: mongo, op: read, rate: 2}\n", "workloads[2].service", `already has a read workload (workloads[1])`),
	Entry("a read preference typo", base+"  - {service: mongo, op: read, rate: 1, read_preference: secondry}\n", "workloads[1].read_preference", `did you mean "secondary"?`),
	Entry("an unknown read concern", base+"  - {service: mongo, op: read, rate: 1, read_concern: snapshot}\n", "workloads[1].read_concern", "read concerns: local, majority, linearizable"),
	Entry("linearizable reads of a secondary", base+"  - {service: mongo, op: read, rate: 1, read_preference: secondary, read_concern: linearizable}\n", "workloads[1].read_concern", "linearizable reads go to the primary only"),
	Entry("tag sets with primary", base+"  - {service: mongo, op: read, rate: 1, read_preference_tags: [{region: us-east-1}]}\n", "workloads[1].read_preference_tags", "cannot be used with read_preference primary"),
	Entry("tag sets only the hidden member has", base+"  - {service: mongo, op: read, rate: 1, read_preference: secondary, read_preference_tags: [{region: us-west-1}, {}]}\n", "workloads[1].read_preference_tags[0]", "no member of \"mongo\" that a read can select (not hidden, not an arbiter) has the tags {region: us-west-1}"),
	Entry("a write concern on reads", base+"  - {service: mongo, op: read, rate: 1, write_concern: majority}\n", "workloads[1].write_concern", "write_concern is for writes"),
	Entry("a read concern on writes", strings.Replace(base, "rate: 10}", "rate: 10, read_concern: majority}", 1), "workloads[0].read_concern", "add op: read"),
	Entry("a bound on reads of a service nobody reads", base+"expect:\n  - {service: mongo, dirty_reads_max: 0}\n", "expect[0].dirty_reads_max", `bounds the reads of "mongo", which has no read workload`),
	Entry("a negative stale_reads_max", base+"  - {service: mongo, op: read, rate: 1}\nexpect:\n  - {service: mongo, stale_reads_max: -1}\n", "expect[0].stale_reads_max", "must not be negative"),

	// expectations
	Entry("an expectation without a service", base+"expect:\n  - {rto_max: 1m}\n", "expect[0].service", "needs a service"),
	Entry("an expectation on a service without a workload", base+"expect:\n  - {service: logs, recovers: true}\n", "expect[0].service", `"logs" has no workload`),
	Entry("an expectation on an unknown service", base+"expect:\n  - {service: cache}\n", "expect[0].service", `no service "cache"`),
	Entry("a negative bound", base+"expect:\n  - {service: mongo, lost_writes_max: -1}\n", "expect[0].lost_writes_max", "must not be negative"),
	Entry("rto_min above rto_max", base+"expect:\n  - {service: mongo, rto_min: 2m, rto_max: 1m}\n", "expect[0].rto_min", "more than rto_max"),
	Entry("a bool that is not one", base+"expect:\n  - {service: mongo, recovers: yes}\n", "expect[0].recovers", `want true or false, got "yes"`),
	Entry("a negative unknown_max", base+"expect:\n  - {service: mongo, unknown_max: -1}\n", "expect[0].unknown_max", "must not be negative"),
	Entry("a negative latency bound", base+"expect:\n  - {service: mongo, latency_p99_max: -1ms}\n", "expect[0].latency_p99_max", "must not be negative"),
	Entry("redundancy_max on s3", strings.Replace(base, "rate: 10}", "rate: 10}\n  - {service: artifacts, rate: 1}", 1)+"faults:\n  - {kind: kill, target: region:us-west-1, at: 1m}\nexpect:\n  - {service: artifacts, redundancy_max: 2m}\n",
		"expect[0].redundancy_max", "reports no redundancy-restored event"),
	Entry("redundancy_max without a fault", base+"expect:\n  - {service: mongo, redundancy_max: 2m}\n", "expect[0].redundancy_max", "the scenario has none"),
	Entry("caught_up_max on elasticsearch", strings.Replace(base, "mongo, rate: 10", "logs, rate: 10", 1)+"expect:\n  - {service: logs, caught_up_max: 2m}\n", "expect[0].caught_up_max", "for mongo services"),
	Entry("caught_up_max without a member added", base+"expect:\n  - {service: mongo, caught_up_max: 2m}\n", "expect[0].caught_up_max", "no runbook step adds a member"),
	Entry("opting out of the baseline with nothing in its place", base+"baseline_expectations: false\n", "baseline_expectations", "no run of this scenario could fail; add one, e.g. expect: [{service: mongo"),
	Entry("a count with a fraction", base+"expect:\n  - {service: mongo, lost_writes_max: 1.5}\n", "expect[0].lost_writes_max", "want a whole number, got the number 1.5"),

	// inline topologies
	Entry("an unknown field in an inline topology", strings.Replace(base, "topology: ion", "topology:\n  regions: [{name: r, zones: [r-a]}]\n  services: [{name: mongo, kind: mongo, members: [{name: m, zone: r-a, priority: 1, weight: 2}]}]", 1),
		"topology.services[0].members[0].weight", `unknown field "weight"`),
	Entry("a region listed twice in an inline topology", strings.Replace(base, "topology: ion", "topology:\n  regions: [{name: r, zones: [r-a]}, {name: r, zones: [r-b]}]\n  services: [{name: mongo, kind: mongo, members: [{name: m, zone: r-a, priority: 1}]}]", 1),
		"topology.regions[1].name", `region "r" is listed twice`),
)

var _ = Describe("baseline expectations", func() {
	twoWorkloads := base + "  - {service: logs, rate: 10}\n"

	It("gives every service with a workload and no expectation of its own the baseline, marked as such", func() {
		s, err := scenarios.Parse("s.yaml", []byte(twoWorkloads+"expect:\n  - {service: logs, rto_max: 1m}\n"))
		Expect(err).NotTo(HaveOccurred())
		none, recovers := 0, true
		Expect(s.Expect).To(Equal([]scenarios.Expectation{
			{Service: "logs", RTOMax: duration(time.Minute)},
			{Service: "mongo", LostWrites: &none, Recovers: &recovers, Baseline: true},
		}))
	})

	It("gives none with baseline_expectations: false", func() {
		s, err := scenarios.Parse("s.yaml", []byte(twoWorkloads+"baseline_expectations: false\nexpect:\n  - {service: logs, rto_max: 1m}\n"))
		Expect(err).NotTo(HaveOccurred())
		Expect(s.Expect).To(HaveLen(1))
		Expect(s.Expect[0].Baseline).To(BeFalse())
	})

	It("leaves the library's files as they state them: each states its own expectations for every workload", func() {
		files, err := filepath.Glob("*.yaml")
		Expect(err).NotTo(HaveOccurred())
		for _, f := range files {
			s, err := scenarios.Load(f)
			Expect(err).NotTo(HaveOccurred())
			for _, e := range s.Expect {
				Expect(e.Baseline).To(BeFalse(), "%s: %s", f, e.Service)
			}
		}
	})
})

var _ = Describe("YAML tabs", func() {
	It("names a tab that indents a line, at its line and column", func() {
		_, err := scenarios.Parse("s.yaml", []byte("name: t\ntopology: ion\nduration: 1m\nworkloads:\n  - service: mongo\n \t rate: 1\n"))
		problems := problemsOf(err)
		Expect(problems).To(ConsistOf(SatisfyAll(
			HaveField("Line", 6), HaveField("Column", 2), HaveField("Message", ContainSubstring("a tab indents this line")))))
	})

	It("leaves a tab inside a value alone", func() {
		_, err := scenarios.Parse("s.yaml", []byte(base+"description: \"tab\\tinside\"\n"))
		Expect(err).NotTo(HaveOccurred())
	})
})

var _ = Describe("YAML features", func() {
	It("accepts anchors and merge keys", func() {
		s, err := scenarios.Parse("s.yaml", []byte(`name: t
topology: ion
duration: 10m
workloads:
  - &w {service: mongo, rate: 10, timeout: 5s}
  - {<<: *w, service: logs}
`))
		Expect(err).NotTo(HaveOccurred())
		Expect(s.Workloads[1]).To(Equal(scenarios.Workload{Service: "logs", Rate: 10, Arrival: scenarios.ArrivalPoisson, Timeout: platform.Duration(5 * time.Second)}))
	})

	It("accepts any parameter name when no parameter list is given", func() {
		_, err := scenarios.Parse("s.yaml", []byte(base+"parameters: {anything.goes: 1}\n"))
		Expect(err).NotTo(HaveOccurred())
	})
})
