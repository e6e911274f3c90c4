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
	return ranged(paramDef{Parameter: platform.Parameter{Name: name, Default: d.String(), Description: description, Source: source, Kind: platform.ParamDuration}, kind: paramDuration})
}

func integer(name string, n int, description, source string) paramDef {
	return ranged(paramDef{Parameter: platform.Parameter{Name: name, Default: strconv.Itoa(n), Description: description, Source: source, Kind: platform.ParamInt}, kind: paramInt})
}

func float(name string, f float64, description, source string) paramDef {
	return ranged(paramDef{Parameter: platform.Parameter{Name: name, Default: strconv.FormatFloat(f, 'g', -1, 64), Description: description, Source: source, Kind: platform.ParamFloat}, kind: paramFloat})
}

func boolean(name string, b bool, description, source string) paramDef {
	return ranged(paramDef{Parameter: platform.Parameter{Name: name, Default: strconv.FormatBool(b), Description: description, Source: source, Kind: platform.ParamBool}, kind: paramBool})
}

// ranged gives a parameter its entry of parameterRanges, if any.
func ranged(d paramDef) paramDef {
	if r, ok := parameterRanges[d.Name]; ok {
		d.Min, d.Max = r[0], r[1]
	}
	return d
}

// parameterRanges narrows the default range of a parameter's kind (see
// platform.Parameter.Range: durations 0 to a week, periods from 1 ms,
// numbers 0 to a million) where a value inside it would mean nothing or
// stall a model: {min, max}, "" keeping the kind's bound. A parameter added
// to a table gets its kind's range; add a row here when that is wrong.
var parameterRanges = map[string][2]string{
	// MongoDB refuses a replica set config whose electionTimeoutMillis is
	// not greater than 0 ("election timeout must be greater than 0",
	// src/mongo/db/repl/repl_set_config.cpp); at 0 the model would call
	// elections at one instant forever.
	"mongo.election_timeout": {"1ms", ""},
	// A fraction of the election timeout.
	"mongo.election_offset_fraction": {"0", "1"},
	// Counts of things that must be at least one: a bulk request of no
	// events, a copy of no bytes, no worker, no check before giving up.
	"logs.bulk_size":                {"1", ""},
	"s3.copy_concurrency":           {"1", ""},
	"es.follower_check_retry_count": {"1", ""},
	"es.leader_check_retry_count":   {"1", ""},
	// One log event is one document of an index request, which the HTTP
	// layer caps at http.max_content_length, 100mb by default
	// (https://www.elastic.co/guide/en/elasticsearch/reference/current/modules-network.html#http-settings).
	"es.event_bytes": {"1", "104857600"},
	// Transfer rates: at 0 a recovery, snapshot or copy would never end.
	// 1 KB/s is far below any disk or link these systems run on.
	"es.recovery_rate_mb":  {"0.001", ""},
	"es.snapshot_rate_mb":  {"0.001", ""},
	"s3.copy_bandwidth_mb": {"0.001", ""},
}

// parameterTables returns every model's parameter table.
func parameterTables() [][]paramDef {
	return [][]paramDef{networkParameters, clientParameters, mongoParameters, elasticParameters, logsParameters, s3Parameters, rolesParameters, diskParameters}
}

// networkParameters and clientParameters belong to the engine itself.
var networkParameters = []paramDef{
	duration("net.jitter_max", 200*time.Microsecond,
		"largest random extra one-way delay added to a message on any link (uniform)",
		"https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-instance-network-bandwidth.html"),
}

var clientParameters = []paramDef{
	duration("client.server_selection_timeout", platform.DefaultServerSelectionTimeout,
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
		if _, ok := p.kinds[name]; !ok {
			problems = append(problems, fmt.Sprintf("unknown parameter %q", name))
			continue
		}
		if err := CheckParameter(name, overrides[name]); err != nil {
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
// parameter: of its kind and inside its range (platform.Parameter.Check).
func CheckParameter(name, value string) error {
	for _, table := range parameterTables() {
		for _, d := range table {
			if d.Name == name {
				return d.Check(value)
			}
		}
	}
	return fmt.Errorf("unknown parameter %q", name)
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
