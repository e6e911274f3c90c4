package simulator

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

// paramKind is how a parameter's text is parsed.
type paramKind uint8

const (
	paramDuration paramKind = iota
	paramInt
	paramFloat
	paramBool
)

// paramDef is a parameter's documentation plus how to parse it. Each model
// file declares its own table (mongoParameters, elasticParameters, ...);
// parameterTables lists them in the order `chaosdrill list` shows them.
type paramDef struct {
	platform.Parameter
	kind paramKind
}

func duration(name string, d time.Duration, description, source string) paramDef {
	return paramDef{Parameter: platform.Parameter{Name: name, Default: d.String(), Description: description, Source: source}, kind: paramDuration}
}

func integer(name string, n int, description, source string) paramDef {
	return paramDef{Parameter: platform.Parameter{Name: name, Default: strconv.Itoa(n), Description: description, Source: source}, kind: paramInt}
}

func float(name string, f float64, description, source string) paramDef {
	return paramDef{Parameter: platform.Parameter{Name: name, Default: strconv.FormatFloat(f, 'g', -1, 64), Description: description, Source: source}, kind: paramFloat}
}

func boolean(name string, b bool, description, source string) paramDef {
	return paramDef{Parameter: platform.Parameter{Name: name, Default: strconv.FormatBool(b), Description: description, Source: source}, kind: paramBool}
}

// parameterTables returns every model's parameter table.
func parameterTables() [][]paramDef {
	return [][]paramDef{networkParameters, clientParameters, mongoParameters, elasticParameters, logsParameters, s3Parameters}
}

// networkParameters and clientParameters belong to the engine itself.
var networkParameters = []paramDef{
	duration("net.jitter_max", 200*time.Microsecond,
		"largest random extra one-way delay added to a message on any link (uniform)",
		"https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-instance-network-bandwidth.html"),
}

var clientParameters = []paramDef{
	duration("client.server_selection_timeout", 30*time.Second,
		"how long a Mongo client waits for a writable primary before the write fails (serverSelectionTimeoutMS)",
		"https://www.mongodb.com/docs/drivers/go/current/fundamentals/connections/connection-options/"),
	duration("client.heartbeat_interval", 10*time.Second,
		"how often the Mongo driver re-checks servers in the background (heartbeatFrequencyMS); on a not-primary error it checks at once",
		"https://pkg.go.dev/go.mongodb.org/mongo-driver/v2/mongo/options#ClientOptions.SetHeartbeatInterval"),
	boolean("client.streaming_discovery", true,
		"the driver learns of a new primary as soon as it steps up (streaming hello, MongoDB 4.4+ servers) instead of at its next check",
		"https://github.com/mongodb/specifications/blob/master/source/server-discovery-and-monitoring/server-monitoring.md#streaming-protocol"),
	duration("client.min_heartbeat_interval", 500*time.Millisecond,
		"fastest re-check while no primary is known (minHeartbeatFrequencyMS)",
		"https://github.com/mongodb/specifications/blob/master/source/server-discovery-and-monitoring/server-monitoring.md"),
	duration("client.local_threshold", 15*time.Millisecond,
		"localThresholdMS: a read goes to a member picked at random among the suitable ones whose round trip is within this of the nearest's",
		"https://github.com/mongodb/specifications/blob/master/source/server-selection/server-selection.md#localthresholdms"),
}

// Parameters lists every model parameter of the simulator with its default
// and the documentation it comes from, sorted by name.
func Parameters() []platform.Parameter {
	var out []platform.Parameter
	for _, table := range parameterTables() {
		for _, d := range table {
			out = append(out, d.Parameter)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// params holds the effective values of a run: defaults overridden by the
// scenario.
type params struct {
	values map[string]string
	kinds  map[string]paramKind
}

func newParams(overrides map[string]string) (*params, error) {
	p := &params{values: map[string]string{}, kinds: map[string]paramKind{}}
	for _, table := range parameterTables() {
		for _, d := range table {
			p.values[d.Name] = d.Default
			p.kinds[d.Name] = d.kind
		}
	}
	var problems []string
	for _, name := range platform.SortedKeys(overrides) {
		kind, ok := p.kinds[name]
		if !ok {
			problems = append(problems, fmt.Sprintf("unknown parameter %q", name))
			continue
		}
		if err := checkParam(kind, overrides[name]); err != nil {
			problems = append(problems, fmt.Sprintf("parameter %q: %v", name, err))
			continue
		}
		p.values[name] = overrides[name]
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("simulator: %s", strings.Join(problems, "; "))
	}
	return p, nil
}

// CheckParameter reports whether value is acceptable for the named
// parameter; the scenario loader uses it to reject bad values with a line.
func CheckParameter(name, value string) error {
	for _, table := range parameterTables() {
		for _, d := range table {
			if d.Name == name {
				return checkParam(d.kind, value)
			}
		}
	}
	return fmt.Errorf("unknown parameter %q", name)
}

func checkParam(kind paramKind, text string) error {
	switch kind {
	case paramDuration:
		d, err := time.ParseDuration(text)
		if err != nil || d < 0 {
			return fmt.Errorf("want a non-negative duration such as \"10s\", got %q", text)
		}
	case paramInt:
		if n, err := strconv.Atoi(text); err != nil || n < 0 {
			return fmt.Errorf("want a non-negative whole number, got %q", text)
		}
	case paramFloat:
		if f, err := strconv.ParseFloat(text, 64); err != nil || f < 0 {
			return fmt.Errorf("want a non-negative number, got %q", text)
		}
	case paramBool:
		if _, err := strconv.ParseBool(text); err != nil {
			return fmt.Errorf("want true or false, got %q", text)
		}
	}
	return nil
}

// The accessors panic on a name no table declares: that is a bug in a model,
// not bad input (newParams already rejected unknown overrides).

func (p *params) duration(name string) time.Duration {
	d, err := time.ParseDuration(p.must(name, paramDuration))
	if err != nil {
		panic(err)
	}
	return d
}

func (p *params) integer(name string) int {
	n, err := strconv.Atoi(p.must(name, paramInt))
	if err != nil {
		panic(err)
	}
	return n
}

func (p *params) float(name string) float64 {
	f, err := strconv.ParseFloat(p.must(name, paramFloat), 64)
	if err != nil {
		panic(err)
	}
	return f
}

func (p *params) boolean(name string) bool {
	b, err := strconv.ParseBool(p.must(name, paramBool))
	if err != nil {
		panic(err)
	}
	return b
}

func (p *params) must(name string, kind paramKind) string {
	v, ok := p.values[name]
	if !ok || p.kinds[name] != kind {
		panic(fmt.Sprintf("simulator: parameter %q is not declared as that kind", name))
	}
	return v
}
