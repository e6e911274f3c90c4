package scenarios_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/scenarios"
)

func compileSchema() *jsonschema.Schema {
	GinkgoHelper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(scenarios.JSONSchema()))
	Expect(err).NotTo(HaveOccurred())
	compiler := jsonschema.NewCompiler()
	Expect(compiler.AddResource("schema.json", doc)).To(Succeed())
	schema, err := compiler.Compile("schema.json")
	Expect(err).NotTo(HaveOccurred())
	return schema
}

// instance reads a YAML file as the JSON value an editor's schema check
// sees.
func instance(path string) any {
	GinkgoHelper()
	data, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	var v any
	Expect(yaml.Unmarshal(data, &v)).To(Succeed())
	text, err := json.Marshal(v)
	Expect(err).NotTo(HaveOccurred())
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(text))
	Expect(err).NotTo(HaveOccurred())
	return inst
}

var _ = Describe("schema.json", func() {
	var schema *jsonschema.Schema
	BeforeEach(func() { schema = compileSchema() })

	It("accepts the good fixtures", func() {
		files, err := filepath.Glob("testdata/good/*.yaml")
		Expect(err).NotTo(HaveOccurred())
		Expect(files).NotTo(BeEmpty())
		for _, f := range files {
			Expect(schema.Validate(instance(f))).To(Succeed(), f)
		}
	})

	It("accepts every scenario of the library, which also loads", func() {
		files, err := filepath.Glob("*.yaml")
		Expect(err).NotTo(HaveOccurred())
		Expect(files).NotTo(BeEmpty(), "the scenario library lives beside this package")
		for _, f := range files {
			_, err := scenarios.Load(f)
			Expect(err).NotTo(HaveOccurred(), f)
			Expect(schema.Validate(instance(f))).To(Succeed(), f)
		}
	})

	DescribeTable("rejects broken files at the broken field",
		func(file, at string) {
			err := schema.Validate(instance(filepath.Join("testdata/bad", file)))
			Expect(err).To(MatchError(ContainSubstring("at '%s'", at)))
		},
		Entry(nil, "unknown-top-level-field.yaml", ""),
		Entry(nil, "unknown-nested-field.yaml", "/workloads/0"),
		Entry(nil, "wrong-type.yaml", "/workloads/0/rate"),
		Entry(nil, "bare-number-duration.yaml", "/duration"),
		Entry(nil, "negative-rate.yaml", "/workloads/0/rate"),
		Entry(nil, "unknown-action.yaml", "/runbook/0/action"),
		Entry(nil, "missing-runbook-param.yaml", "/runbook/0/params"),
		Entry(nil, "two-triggers.yaml", "/faults/0"),
		Entry(nil, "heal-for-restart.yaml", "/faults/0"),
		Entry(nil, "target-on-partition.yaml", "/faults/0"),
		Entry(nil, "unknown-builtin-topology.yaml", "/topology"),
		Entry(nil, "missing-workloads.yaml", ""),
		Entry(nil, "after-event-misspelled.yaml", "/faults/1/after_event"),
		Entry(nil, "optional-without-event.yaml", "/runbook/0"),
		Entry(nil, "operator-delay-half-distribution.yaml", "/runbook/0/operator_delay"),
		Entry(nil, "window-one-end.yaml", "/faults/0/at"),
		Entry(nil, "unknown-arrival.yaml", "/workloads/0/arrival"),
		Entry(nil, "bursts-without-factor.yaml", "/workloads/0/bursts"),
		Entry(nil, "read-concern-on-writes.yaml", "/workloads/0"),
		Entry(nil, "gate-without-share.yaml", "/sweep/gates/0"),
		Entry(nil, "gate-share-above-one.yaml", "/sweep/gates/0/at_least"),
		Entry(nil, "gate-two-bounds.yaml", "/sweep/gates/0"),
	)

	// The schema is written by hand; these keep it in step with the Go
	// types and catalogues the loader uses.
	Describe("is in step with the code", func() {
		var defs map[string]any
		var root map[string]any
		BeforeEach(func() {
			Expect(json.Unmarshal(scenarios.JSONSchema(), &root)).To(Succeed())
			defs = root["$defs"].(map[string]any)
		})

		DescribeTable("has the fields of each type",
			func(def string, value any) {
				schema := root
				if def != "" {
					schema = defs[def].(map[string]any)
				}
				Expect(schema["additionalProperties"]).To(BeFalse())
				Expect(keysOf(schema["properties"])).To(Equal(yamlFieldNames(reflect.TypeOf(value))))
			},
			Entry("scenario", "", scenarios.Scenario{}),
			Entry("topology", "topology", platform.Topology{}),
			Entry("region", "region", platform.Region{}),
			Entry("link latency", "linkLatency", platform.LinkLatency{}),
			Entry("service", "service", platform.ServiceSpec{}),
			Entry("mongo member", "mongoMember", platform.MongoMember{}),
			Entry("node placement", "nodePlacement", platform.NodePlacement{}),
			Entry("s3 endpoint", "s3Endpoint", platform.S3Endpoint{}),
			Entry("workload", "workload", scenarios.Workload{}),
			Entry("bursts", "bursts", scenarios.Bursts{}),
			Entry("fault", "fault", scenarios.Fault{}),
			Entry("step", "step", scenarios.Step{}),
			Entry("expectation", "expectation", scenarios.Expectation{}),
			Entry("sweep settings", "sweepSettings", scenarios.SweepSettings{}),
			Entry("gate", "gate", scenarios.Gate{}),
		)

		It("lists the built-in topologies, fault kinds and service kinds", func() {
			topology := root["properties"].(map[string]any)["topology"].(map[string]any)
			builtin := topology["oneOf"].([]any)[0].(map[string]any)
			Expect(stringList(builtin["enum"])).To(Equal(platform.SortedKeys(platform.BuiltinTopologies())))
			Expect(stringList(property(defs, "fault", "kind")["enum"])).To(Equal(scenarios.FaultKinds))
			Expect(stringList(property(defs, "service", "kind")["enum"])).To(Equal([]string{platform.KindMongo, platform.KindElastic, platform.KindS3}))
		})

		It("lists the workload ops, read preferences and read concerns", func() {
			Expect(stringList(property(defs, "workload", "op")["enum"])).To(Equal([]string{scenarios.OpWrite, scenarios.OpRead}))
			Expect(stringList(property(defs, "workload", "read_preference")["enum"])).To(Equal(platform.ReadPreferences))
			Expect(stringList(property(defs, "workload", "read_concern")["enum"])).To(Equal(platform.ReadConcerns))
		})

		It("accepts as after_event exactly the events some service kind emits", func() {
			pattern := defs["event"].(map[string]any)["pattern"].(string)
			alternatives := regexp.MustCompile(`^\^\[\^:\]\+:\((.*)\)\$$`).FindStringSubmatch(pattern)
			Expect(alternatives).NotTo(BeNil(), pattern)
			var emitted []string
			for _, kind := range []string{platform.KindMongo, platform.KindElastic, platform.KindS3} {
				for _, e := range platform.EventCatalog(kind) {
					if !slices.Contains(emitted, e.What) {
						emitted = append(emitted, e.What)
					}
				}
			}
			Expect(strings.Split(alternatives[1], "|")).To(ConsistOf(emitted))
		})

		It("lists every runbook action with its parameters", func() {
			var names []string
			for _, a := range platform.ActionCatalog() {
				names = append(names, a.Name)
			}
			Expect(stringList(property(defs, "step", "action")["enum"])).To(Equal(names))

			params := map[string]map[string]any{}
			for _, rule := range defs["step"].(map[string]any)["allOf"].([]any) {
				rule := rule.(map[string]any)
				condition, ok := rule["if"].(map[string]any)
				if !ok {
					continue
				}
				on, ok := condition["properties"].(map[string]any)["action"].(map[string]any)
				if !ok {
					continue // a rule about another field (optional)
				}
				action := on["const"].(string)
				params[action] = rule["then"].(map[string]any)
			}
			Expect(keysOf(params)).To(ConsistOf(names))
			for _, a := range platform.ActionCatalog() {
				then := params[a.Name]
				p := then["properties"].(map[string]any)["params"].(map[string]any)
				Expect(p["additionalProperties"]).To(BeFalse(), a.Name)
				described := map[string]string{}
				for name, property := range p["properties"].(map[string]any) {
					described[name], _ = property.(map[string]any)["description"].(string)
				}
				Expect(described).To(Equal(a.Params), a.Name)
				Expect(stringList(p["required"])).To(ConsistOf(a.Required), a.Name)
				Expect(slices.Contains(stringList(then["required"]), "params")).To(Equal(len(a.Required) > 0), a.Name)
			}
		})
	})
})

func property(defs map[string]any, def, name string) map[string]any {
	return defs[def].(map[string]any)["properties"].(map[string]any)[name].(map[string]any)
}

func keysOf(m any) []string {
	var keys []string
	for _, k := range reflect.ValueOf(m).MapKeys() {
		keys = append(keys, k.String())
	}
	slices.Sort(keys)
	return keys
}

func stringList(list any) []string {
	var out []string
	items, _ := list.([]any)
	for _, item := range items {
		out = append(out, item.(string))
	}
	return out
}

// yamlFieldNames lists the fields a type takes in YAML, sorted.
func yamlFieldNames(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name != "-" && name != "" {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}
