package platform

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Shape is the form of a [Distribution].
type Shape uint8

const (
	// ShapeFixed is one value, every run.
	ShapeFixed Shape = iota
	// ShapeLogNormal is a log-normal given by its median and one tail
	// percentile: right-skewed, never negative, most runs near the median
	// and a few far above it. It is the usual model of how long a repair
	// or an operator's task takes (MIL-HDBK-338B 5.6.2.1, "the most
	// commonly used distribution in maintainability analysis",
	// http://www.bmpcoe.org/library/books/mil-hdbk-338b/7621.html) and of
	// network delay tails.
	ShapeLogNormal
	// ShapeUniform is every value between a minimum and a maximum alike.
	ShapeUniform
)

// Standard normal quantiles of the tail percentiles a log-normal is given
// by: sigma = ln(tail / median) / z.
const (
	zP90 = 1.2815515655446004
	zP99 = 2.3263478740408408
)

// Distribution is a quantity that varies from run to run the way it does
// in reality, written in a scenario file in one of three forms:
//
//	operator_delay: 2m                      # fixed: 2m on every run
//	operator_delay: {median: 2m, p90: 6m}   # log-normal: half the runs under 2m, one in ten over 6m
//	operator_delay: {median: 2m, p99: 15m}  # log-normal given by its 99th percentile instead
//	operator_delay: {min: 1m, max: 5m}      # uniform between 1m and 5m
//
// The values are durations ("2m"), or plain numbers (0.5) for a number
// parameter; one distribution does not mix the two. A run draws a value
// once, from a stream of its seed ([RandomStream]), so one seed always
// draws the same value. Durations are held in nanoseconds.
type Distribution struct {
	Shape Shape
	// Duration is true when the values are durations, false for plain
	// numbers.
	Duration bool
	// Value is the ShapeFixed value.
	Value float64
	// Median and Tail give a ShapeLogNormal: Tail is its value at the
	// TailQuantile (0.9 for p90, 0.99 for p99).
	Median, Tail, TailQuantile float64
	// Min and Max bound a ShapeUniform.
	Min, Max float64
}

// FixedDuration is the distribution that is always d.
func FixedDuration(d time.Duration) Distribution {
	return Distribution{Shape: ShapeFixed, Duration: true, Value: float64(d)}
}

// Fixed reports whether every run gets the same value.
func (d Distribution) Fixed() bool { return d.Shape == ShapeFixed }

// Lowest is the smallest value the distribution takes (0 for a
// log-normal, whose values are all above 0).
func (d Distribution) Lowest() float64 {
	switch d.Shape {
	case ShapeLogNormal:
		return 0
	case ShapeUniform:
		return d.Min
	}
	return d.Value
}

// Sample draws one value from r.
func (d Distribution) Sample(r *rand.Rand) float64 {
	switch d.Shape {
	case ShapeLogNormal:
		return d.Median * math.Exp(d.sigma()*r.NormFloat64())
	case ShapeUniform:
		return d.Min + (d.Max-d.Min)*r.Float64()
	}
	return d.Value
}

// SampleDuration draws one duration from r, rounded to the microsecond
// (the precision of every report time).
func (d Distribution) SampleDuration(r *rand.Rand) time.Duration {
	return time.Duration(math.Round(d.Sample(r))).Round(time.Microsecond)
}

// sigma is the log-normal's standard deviation in log space.
func (d Distribution) sigma() float64 {
	z := zP90
	if d.TailQuantile == 0.99 {
		z = zP99
	}
	return math.Log(d.Tail/d.Median) / z
}

// String writes the distribution in the form a scenario file gives it.
func (d Distribution) String() string {
	switch d.Shape {
	case ShapeLogNormal:
		return fmt.Sprintf("{median: %s, %s: %s}", d.format(d.Median), d.tailName(), d.format(d.Tail))
	case ShapeUniform:
		return fmt.Sprintf("{min: %s, max: %s}", d.format(d.Min), d.format(d.Max))
	}
	return d.format(d.Value)
}

// Format writes one value of the distribution: a duration string, or a
// number.
func (d Distribution) Format(v float64) string { return d.format(v) }

func (d Distribution) format(v float64) string {
	if d.Duration {
		return time.Duration(math.Round(v)).String()
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func (d Distribution) tailName() string {
	if d.TailQuantile == 0.99 {
		return "p99"
	}
	return "p90"
}

// distributionForms is how an error says what a distribution may be.
const distributionForms = "a value (2m), {median: 2m, p90: 6m} (or p99), or {min: 1m, max: 5m}"

// UnmarshalYAML reads any of the forms of [Distribution]. Errors say which
// form was meant and what is wrong with it.
func (d *Distribution) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.ScalarNode:
		v, isDuration, err := distributionValue(n)
		if err != nil {
			return fmt.Errorf("want %s; %v", distributionForms, err)
		}
		*d = Distribution{Shape: ShapeFixed, Duration: isDuration, Value: v}
		return nil
	case yaml.MappingNode:
		return d.unmarshalMapping(n)
	}
	return fmt.Errorf("want %s, got a list", distributionForms)
}

func (d *Distribution) unmarshalMapping(n *yaml.Node) error {
	values := map[string]float64{}
	var keys []string
	kinds := map[bool]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, value := n.Content[i].Value, n.Content[i+1]
		switch key {
		case "median", "p90", "p99", "min", "max":
		default:
			return fmt.Errorf("unknown field %q in a distribution; want %s", key, distributionForms)
		}
		if _, dup := values[key]; dup {
			return fmt.Errorf("%q is given twice", key)
		}
		v, isDuration, err := distributionValue(value)
		if err != nil {
			return fmt.Errorf("%s: %v", key, err)
		}
		values[key] = v
		keys = append(keys, key)
		kinds[isDuration] = key
	}
	if len(kinds) > 1 {
		return fmt.Errorf("%s is a duration and %s a plain number; give both the same way", kinds[true], kinds[false])
	}
	isDuration := kinds[true] != ""
	format := Distribution{Duration: isDuration}.format
	has := func(k string) bool { _, ok := values[k]; return ok }
	switch {
	case len(keys) == 2 && has("median") && (has("p90") || has("p99")):
		q, tail := 0.9, "p90"
		if has("p99") {
			q, tail = 0.99, "p99"
		}
		median := values["median"]
		if median <= 0 {
			return fmt.Errorf("median must be positive, got %s", format(median))
		}
		if values[tail] <= median {
			return fmt.Errorf("%s (%s) must be above the median (%s): it is the slow tail", tail, format(values[tail]), format(median))
		}
		*d = Distribution{Shape: ShapeLogNormal, Duration: isDuration, Median: median, Tail: values[tail], TailQuantile: q}
	case len(keys) == 2 && has("min") && has("max"):
		lo, hi := values["min"], values["max"]
		if lo < 0 {
			return fmt.Errorf("min must not be negative, got %s", format(lo))
		}
		if hi < lo {
			return fmt.Errorf("max (%s) is below min (%s)", format(hi), format(lo))
		}
		*d = Distribution{Shape: ShapeUniform, Duration: isDuration, Min: lo, Max: hi}
	default:
		got := "{" + strings.Join(keys, ", ") + "}"
		if len(keys) == 0 {
			got = "an empty mapping"
		}
		return fmt.Errorf("want %s, got %s", distributionForms, got)
	}
	return nil
}

// distributionValue reads a duration ("2m") or a number (0.5).
func distributionValue(n *yaml.Node) (v float64, isDuration bool, err error) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind != yaml.ScalarNode {
		return 0, false, fmt.Errorf("want a duration such as \"30s\" or a number, got a %s", kindName(n))
	}
	switch n.ShortTag() {
	case "!!int", "!!float":
		f, err := strconv.ParseFloat(n.Value, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return 0, false, fmt.Errorf("want a number, got %q", n.Value)
		}
		return f, false, nil
	case "!!str":
		d, err := ParseDuration(n.Value)
		if errors.Is(err, ErrDurationOverflow) {
			return 0, false, err
		}
		if err != nil {
			return 0, false, fmt.Errorf("want a duration such as \"30s\" or a number, got %q", n.Value)
		}
		return float64(d), true, nil
	}
	return 0, false, fmt.Errorf("want a duration such as \"30s\" or a number, got %q", n.Value)
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	}
	return "value"
}

// MarshalYAML writes the form UnmarshalYAML reads.
func (d Distribution) MarshalYAML() (any, error) {
	switch d.Shape {
	case ShapeLogNormal:
		return map[string]any{"median": d.plain(d.Median), d.tailName(): d.plain(d.Tail)}, nil
	case ShapeUniform:
		return map[string]any{"min": d.plain(d.Min), "max": d.plain(d.Max)}, nil
	}
	return d.plain(d.Value), nil
}

// plain is one value as a file writes it: a duration string or a number.
func (d Distribution) plain(v float64) any {
	if d.Duration {
		return d.format(v)
	}
	return v
}

// MarshalJSON writes the same form as JSON.
func (d Distribution) MarshalJSON() ([]byte, error) {
	v, _ := d.MarshalYAML()
	return json.Marshal(v)
}
