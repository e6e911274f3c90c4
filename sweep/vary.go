package sweep

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/scenarios"
)

// Vary is a what-if: one field of the scenario and the values a sweep runs
// the same seeds with. Name is a model parameter (chaosdrill list
// --parameters, e.g. mongo.election_timeout), a workload field
// (workload.SERVICE.FIELD, e.g. workload.mongo.write_concern) or a field of
// the topology (topology.PATH, e.g. topology.latency.inter_region; a
// built-in topology is written out inline first).
type Vary struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

// MaxVaryValues bounds the values of one what-if (the columns of its
// table).
const MaxVaryValues = 20

// workloadFields are the workload fields a what-if or run --set may
// change: the scalar ones. Fields only a read workload has change the
// service's read workload; the others its write workload.
var workloadFields = []string{"rate", "arrival", "write_concern", "timeout", "read_preference", "read_concern"}

var readFields = []string{"read_preference", "read_concern"}

// Kinds of values a range can be made of.
const (
	kindDuration = "duration"
	kindInt      = "int"
	kindFloat    = "float"
	kindText     = ""
)

// Field is one field of a scenario that a what-if or run --set changes.
type Field struct {
	Name string
	kind string // the form of its values, for ranges
}

// ParseField checks a field name against what a scenario can vary.
func ParseField(name string, known []platform.Parameter) (Field, error) {
	switch {
	case strings.HasPrefix(name, "workload."):
		parts := strings.Split(name, ".")
		if len(parts) != 3 || parts[1] == "" {
			return Field{}, fmt.Errorf("%q: a workload field is workload.SERVICE.FIELD, e.g. workload.mongo.write_concern", name)
		}
		if !slices.Contains(workloadFields, parts[2]) {
			return Field{}, fmt.Errorf("%q: workload field %q cannot be varied%s", name, parts[2], scenarios.Suggestion(parts[2], workloadFields, "fields"))
		}
		kind := kindText
		switch parts[2] {
		case "rate":
			kind = kindFloat
		case "timeout":
			kind = kindDuration
		}
		return Field{Name: name, kind: kind}, nil
	case strings.HasPrefix(name, "topology."):
		path := strings.Split(strings.TrimPrefix(name, "topology."), ".")
		if slices.Contains(path, "") {
			return Field{}, fmt.Errorf("%q: a topology field is topology.KEY.KEY..., e.g. topology.latency.inter_region", name)
		}
		kind := kindText
		if path[0] == "latency" {
			kind = kindDuration
		}
		return Field{Name: name, kind: kind}, nil
	}
	names := make([]string, len(known))
	for i, p := range known {
		names[i] = p.Name
		if p.Name == name {
			return Field{Name: name, kind: p.ValueKind()}, nil
		}
	}
	hint := scenarios.Suggestion(name, names, "parameters")
	if strings.HasPrefix(hint, " (") {
		hint = "; chaosdrill list --parameters lists the parameters"
	}
	if strings.Contains(name, "latency") && !strings.HasPrefix(hint, ";") {
		hint += "; link latencies are the topology's: topology.latency.inter_region, topology.latency.inter_zone, topology.latency.intra_zone"
	}
	return Field{}, fmt.Errorf("%q is not a model parameter, a workload field (workload.SERVICE.FIELD) or a topology field (topology.latency.inter_region)%s", name, hint)
}

// ParseVary reads a what-if, NAME=V1,V2,... or NAME=LOW..HIGH/N (N values
// evenly spaced from LOW to HIGH, both included; numbers or durations).
func ParseVary(spec string, known []platform.Parameter) (*Vary, error) {
	name, list, ok := strings.Cut(spec, "=")
	if !ok || name == "" || list == "" {
		return nil, fmt.Errorf("%q: want NAME=V1,V2,... or NAME=LOW..HIGH/N, e.g. workload.mongo.write_concern=majority,multiRegion", spec)
	}
	field, err := ParseField(name, known)
	if err != nil {
		return nil, err
	}
	var values []string
	if strings.Contains(list, "..") {
		if values, err = expandRange(list, field.kind); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	} else {
		values = strings.Split(list, ",")
	}
	switch {
	case len(values) > MaxVaryValues:
		return nil, fmt.Errorf("%s: %d values; a what-if compares at most %d", name, len(values), MaxVaryValues)
	case len(values) < 2:
		return nil, fmt.Errorf("%s: one value compares nothing; give two or more, or set it in the scenario file", name)
	}
	for i, v := range values {
		if strings.TrimSpace(v) == "" {
			return nil, fmt.Errorf("%s: value %d is empty", name, i+1)
		}
		if slices.Contains(values[:i], v) {
			return nil, fmt.Errorf("%s: value %q is given twice", name, v)
		}
	}
	return &Vary{Name: name, Values: values}, nil
}

// expandRange turns LOW..HIGH/N into N values.
func expandRange(text, kind string) ([]string, error) {
	bounds, count, ok := strings.Cut(text, "/")
	low, high, ok2 := strings.Cut(bounds, "..")
	if !ok || !ok2 {
		return nil, fmt.Errorf("range %q: want LOW..HIGH/N, e.g. 20ms..200ms/10", text)
	}
	n, err := strconv.Atoi(count)
	if err != nil || n < 2 || n > MaxVaryValues {
		return nil, fmt.Errorf("range %q: N is how many values, from 2 to %d, got %q", text, MaxVaryValues, count)
	}
	at := func(i int) float64 { return float64(i) / float64(n-1) }
	values := make([]string, n)
	lo, errLo := time.ParseDuration(low)
	hi, errHi := time.ParseDuration(high)
	switch {
	case errLo == nil && errHi == nil && kind != kindInt && kind != kindFloat:
		if lo >= hi {
			return nil, fmt.Errorf("range %q: LOW must be below HIGH", text)
		}
		unit := time.Nanosecond
		for _, u := range []time.Duration{time.Second, time.Millisecond, time.Microsecond} {
			if lo%u == 0 && hi%u == 0 {
				unit = u
				break
			}
		}
		for i := range values {
			d := lo + time.Duration(math.Round(float64(hi-lo)*at(i)/float64(unit)))*unit
			values[i] = d.String()
		}
	case kind == kindDuration || kind == kindText && (errLo == nil || errHi == nil):
		return nil, fmt.Errorf("range %q: want two durations, e.g. 20ms..200ms/10", text)
	default:
		a, errA := strconv.ParseFloat(low, 64)
		b, errB := strconv.ParseFloat(high, 64)
		if errA != nil || errB != nil || math.IsInf(a, 0) || math.IsInf(b, 0) {
			return nil, fmt.Errorf("range %q: want two numbers or two durations", text)
		}
		if a >= b {
			return nil, fmt.Errorf("range %q: LOW must be below HIGH", text)
		}
		whole := kind == kindInt || kind == kindText && a == math.Trunc(a) && b == math.Trunc(b) && (b-a) >= float64(n-1)
		for i := range values {
			x := a + (b-a)*at(i)
			if whole {
				values[i] = strconv.FormatFloat(math.Round(x), 'f', -1, 64)
			} else {
				values[i] = strconv.FormatFloat(x, 'g', 12, 64)
			}
		}
	}
	for i := 1; i < n; i++ {
		if values[i] == values[i-1] {
			return nil, fmt.Errorf("range %q gives %s twice at this resolution; ask for fewer values", text, values[i])
		}
	}
	return values, nil
}

// Edit returns the loader edit (scenarios.WithEdit) that sets field to
// value in a scenario file, as if the file said so: the loader then checks
// the value like any other.
func Edit(field, value string) func(root *yaml.Node) error {
	return func(root *yaml.Node) error {
		switch {
		case strings.HasPrefix(field, "workload."):
			parts := strings.Split(field, ".")
			return setWorkload(root, parts[1], parts[2], value)
		case strings.HasPrefix(field, "topology."):
			return setTopology(root, strings.Split(strings.TrimPrefix(field, "topology."), "."), value)
		default:
			params := entry(root, "parameters")
			if params == nil || params.Kind != yaml.MappingNode {
				params = ensure(root, "parameters", root)
			}
			set(params, field, value, params)
			return nil
		}
	}
}

// entry returns the value of key in mapping m, nil when absent.
func entry(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// ensure makes key of mapping m an (empty) mapping if it is absent or
// null, and returns it; pos places new nodes.
func ensure(m *yaml.Node, key string, pos *yaml.Node) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			if v := m.Content[i+1]; v.Kind == yaml.MappingNode {
				return v
			}
			m.Content[i+1] = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: m.Content[i].Line, Column: m.Content[i].Column}
			return m.Content[i+1]
		}
	}
	k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key, Line: pos.Line, Column: pos.Column}
	v := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: pos.Line, Column: pos.Column}
	m.Content = append(m.Content, k, v)
	return v
}

// set sets key of mapping m to the scalar value, at the place of the value
// it replaces (or of pos).
func set(m *yaml.Node, key, value string, pos *yaml.Node) {
	scalar := func(at *yaml.Node) *yaml.Node {
		n := &yaml.Node{Kind: yaml.ScalarNode, Value: value, Line: at.Line, Column: at.Column}
		// The tag the parser would give the text written in the file
		// (a plain scalar: !!int, !!str, ...).
		n.Tag = n.ShortTag()
		return n
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content[i+1] = scalar(m.Content[i+1])
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key, Line: pos.Line, Column: pos.Column}, scalar(pos))
}

func setWorkload(root *yaml.Node, service, field, value string) error {
	workloads := entry(root, "workloads")
	read := slices.Contains(readFields, field)
	op := "write"
	if read {
		op = "read"
	}
	if workloads != nil && workloads.Kind == yaml.SequenceNode {
		for _, w := range workloads.Content {
			if w.Kind != yaml.MappingNode || entry(w, "service") == nil || entry(w, "service").Value != service {
				continue
			}
			isRead := entry(w, "op") != nil && entry(w, "op").Value == "read"
			if isRead == read {
				set(w, field, value, w)
				return nil
			}
		}
	}
	return fmt.Errorf("workload.%s.%s: the scenario has no %s workload of service %q", service, field, op, service)
}

func setTopology(root *yaml.Node, path []string, value string) error {
	var topology *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "topology" {
			continue
		}
		topology = root.Content[i+1]
		if topology.Kind == yaml.ScalarNode {
			inline, err := scenarios.BuiltinNode(topology.Value, topology)
			if err != nil {
				return fmt.Errorf("topology.%s: %w", strings.Join(path, "."), err)
			}
			root.Content[i+1], topology = inline, inline
		}
	}
	if topology == nil || topology.Kind != yaml.MappingNode {
		return fmt.Errorf("topology.%s: the scenario has no topology mapping to change", strings.Join(path, "."))
	}
	m := topology
	for _, key := range path[:len(path)-1] {
		if v := entry(m, key); v != nil && v.Kind != yaml.MappingNode && v.ShortTag() != "!!null" {
			return fmt.Errorf("topology.%s: %s is not a mapping of fields", strings.Join(path, "."), key)
		}
		m = ensure(m, key, m)
	}
	set(m, path[len(path)-1], value, m)
	return nil
}
