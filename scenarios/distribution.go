package scenarios

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
	"go.yaml.in/yaml/v3"
)

// This file holds what a scenario leaves to chance, and the loader's checks
// of it: fault and step times drawn from a window, operator delays and
// model parameters drawn from a distribution, and how a workload's writes
// arrive. A run draws every such value from its seed, each from a stream of
// its own (see runner), so one seed always gives the same run.

// Arrival processes of a workload.
const (
	// ArrivalPoisson issues writes at random, independent times at the
	// workload's mean rate (exponential gaps): how requests from many
	// independent clients arrive. The default.
	ArrivalPoisson = "poisson"
	// ArrivalConstant issues writes evenly spaced, 1/rate apart.
	ArrivalConstant = "constant"
)

// Arrivals lists the arrival processes, the default first.
var Arrivals = []string{ArrivalPoisson, ArrivalConstant}

// Bursts change a workload's rate for a while, periodically: from Start,
// every Every, for Length, writes arrive at Factor times the workload's
// rate (a factor under 1 is a lull).
type Bursts struct {
	Every  platform.Duration `yaml:"every" json:"every"`
	Length platform.Duration `yaml:"length" json:"length"`
	Factor float64           `yaml:"factor" json:"factor"`
	// Start is when the first burst begins. Left out, each run draws it
	// from its seed, uniformly within [0, Every): a traffic peak does not
	// line up with the faults of a file.
	Start *platform.Duration `yaml:"start,omitempty" json:"start,omitempty"`
}

// Time is when a fault or runbook step is due: a fixed scenario time
// (`at: 12m`) or a window (`at: {between: [10m, 20m]}`) from which each run
// draws its time uniformly, from its seed. Latest equals Earliest for a
// fixed time.
type Time struct {
	Earliest, Latest platform.Duration
}

// At is the fixed time d.
func At(d time.Duration) *Time {
	return &Time{Earliest: platform.Duration(d), Latest: platform.Duration(d)}
}

// Fixed reports whether the time is the same on every run.
func (t Time) Fixed() bool { return t.Earliest == t.Latest }

// Sample draws the time of one run from r (the fixed time itself when
// fixed), to the microsecond.
func (t Time) Sample(r *rand.Rand) time.Duration {
	if t.Fixed() {
		return t.Earliest.D()
	}
	window := platform.Distribution{Shape: platform.ShapeUniform, Duration: true, Min: float64(t.Earliest), Max: float64(t.Latest)}
	return window.SampleDuration(r)
}

func (t Time) String() string {
	if t.Fixed() {
		return t.Earliest.String()
	}
	return fmt.Sprintf("between %s and %s", t.Earliest, t.Latest)
}

// UnmarshalYAML reads `12m` or `{between: [10m, 20m]}`.
func (t *Time) UnmarshalYAML(n *yaml.Node) error {
	const forms = "want a time such as \"12m\", or a window {between: [10m, 20m]}"
	switch n.Kind {
	case yaml.ScalarNode:
		var d platform.Duration
		if err := n.Decode(&d); err != nil {
			return fmt.Errorf("%s, got %q", forms, n.Value)
		}
		*t = Time{Earliest: d, Latest: d}
		return nil
	case yaml.MappingNode:
		if len(n.Content) != 2 || n.Content[0].Value != "between" {
			return fmt.Errorf("%s; a window has one field, between", forms)
		}
		ends := n.Content[1]
		if ends.Kind != yaml.SequenceNode || len(ends.Content) != 2 {
			return fmt.Errorf("between wants two times, the window's start and end, e.g. [10m, 20m]")
		}
		var lo, hi platform.Duration
		if err := ends.Content[0].Decode(&lo); err != nil {
			return fmt.Errorf("between: %v", err)
		}
		if err := ends.Content[1].Decode(&hi); err != nil {
			return fmt.Errorf("between: %v", err)
		}
		if hi < lo {
			return fmt.Errorf("between: the window ends (%s) before it starts (%s)", hi, lo)
		}
		*t = Time{Earliest: lo, Latest: hi}
		return nil
	}
	return fmt.Errorf("%s, got a list", forms)
}

// MarshalYAML writes the form UnmarshalYAML reads.
func (t Time) MarshalYAML() (any, error) {
	if t.Fixed() {
		return t.Earliest.String(), nil
	}
	return map[string][]string{"between": {t.Earliest.String(), t.Latest.String()}}, nil
}

// MarshalJSON writes the same form as JSON.
func (t Time) MarshalJSON() ([]byte, error) {
	v, _ := t.MarshalYAML()
	return json.Marshal(v)
}

// ParameterValue is the value of one model parameter under `parameters:`:
// fixed text in the parameter's own form (10s, 0.5, true), or a
// [platform.Distribution] each run draws once from its seed
// (`mongo.election_timeout: {min: 10s, max: 12s}`).
type ParameterValue struct {
	// Text is the fixed value, when Distribution is nil.
	Text string
	// Distribution, when set, is drawn once per run instead.
	Distribution *platform.Distribution
	// Whole is set by the loader for a parameter that takes whole numbers:
	// draws are rounded to one.
	Whole bool
	// Bounded, Low and High are set by the loader from the parameter's
	// range (durations in nanoseconds): a draw from a tail past the range
	// is clamped into it, so that a drawn value is always one the model
	// accepts.
	Bounded   bool
	Low, High float64
}

// Fixed reports whether every run gets Text.
func (v ParameterValue) Fixed() bool { return v.Distribution == nil }

// Sample returns the value of one run, drawn from r when not fixed, as the
// parameter's text.
func (v ParameterValue) Sample(r *rand.Rand) string {
	if v.Distribution == nil {
		return v.Text
	}
	x := v.Distribution.Sample(r)
	if v.Bounded {
		x = min(max(x, v.Low), v.High)
	}
	switch {
	case v.Distribution.Duration:
		return time.Duration(math.Round(x)).Round(time.Microsecond).String()
	case v.Whole:
		return strconv.FormatInt(int64(math.Round(x)), 10)
	}
	return strconv.FormatFloat(x, 'g', -1, 64)
}

func (v ParameterValue) String() string {
	if v.Distribution == nil {
		return v.Text
	}
	return v.Distribution.String()
}

// UnmarshalYAML reads any scalar as fixed text (`write_concern`-style: 3
// means "3"), and a mapping as a distribution.
func (v *ParameterValue) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*v = ParameterValue{Text: n.Value}
		return nil
	case yaml.MappingNode:
		var d platform.Distribution
		if err := n.Decode(&d); err != nil {
			return err
		}
		*v = ParameterValue{Distribution: &d}
		return nil
	}
	return fmt.Errorf("want a value such as 10s, or a distribution {median: 10s, p90: 20s} or {min: 10s, max: 12s}, got a list")
}

// MarshalYAML writes the form UnmarshalYAML reads.
func (v ParameterValue) MarshalYAML() (any, error) {
	if v.Distribution == nil {
		return v.Text, nil
	}
	return v.Distribution.MarshalYAML()
}

// MarshalJSON writes the same form as JSON.
func (v ParameterValue) MarshalJSON() ([]byte, error) {
	if v.Distribution == nil {
		return json.Marshal(v.Text)
	}
	return v.Distribution.MarshalJSON()
}

// checkParameterDistribution checks a parameter drawn from a distribution
// against the form of its default, and marks whole-number parameters so
// that draws are rounded.
func (c *checker) checkParameterDistribution(path, name string, p platform.Parameter, v ParameterValue) {
	d := v.Distribution
	if _, err := time.ParseDuration(p.Default); err == nil && p.Default != "0" {
		if !d.Duration {
			c.add(path, "%s takes durations such as %q; give the distribution in durations, got %s", name, p.Default, d)
			return
		}
	} else {
		if _, err := strconv.ParseFloat(p.Default, 64); err != nil {
			c.add(path, "%s takes values such as %q, which cannot be drawn from a distribution; give it a fixed value", name, p.Default)
			return
		}
		if d.Duration {
			c.add(path, "%s takes numbers such as %s; give the distribution in numbers, got %s", name, p.Default, d)
			return
		}
		if _, err := strconv.Atoi(p.Default); err == nil {
			v.Whole = true
		}
	}
	// The distribution must lie in the parameter's range where it is
	// bounded (a uniform's ends, a log-normal's median); a log-normal's
	// tails past the range are clamped when drawn.
	if lo, hi, ok := numericRange(p); ok {
		bottom, top := d.Lowest(), d.Max
		if d.Shape == platform.ShapeLogNormal {
			bottom, top = d.Median, d.Median
		}
		if bottom < lo || top > hi {
			c.add(path, "%s: %s reaches outside the parameter's range %s to %s", name, d, d.Format(lo), d.Format(hi))
			return
		}
		v.Bounded, v.Low, v.High = true, lo, hi
	}
	c.scenario.Parameters[name] = v
}

// numericRange is a numeric parameter's range as numbers (durations in
// nanoseconds), as platform.Parameter.Range gives it.
func numericRange(p platform.Parameter) (lo, hi float64, ok bool) {
	lowest, highest := p.Range()
	switch p.ValueKind() {
	case platform.ParamDuration:
		l, err1 := time.ParseDuration(lowest)
		h, err2 := time.ParseDuration(highest)
		return float64(l), float64(h), err1 == nil && err2 == nil
	case platform.ParamInt, platform.ParamFloat:
		l, err1 := strconv.ParseFloat(lowest, 64)
		h, err2 := strconv.ParseFloat(highest, 64)
		return l, h, err1 == nil && err2 == nil
	}
	return 0, 0, false
}

// checkArrivals checks how workload i's writes arrive.
func (c *checker) checkArrivals(i int) {
	w := c.scenario.Workloads[i]
	p := indexPath("workloads", i)
	if w.Arrival != "" && !slices.Contains(Arrivals, w.Arrival) {
		c.add(p+".arrival", "unknown arrival %q (want %s)%s", w.Arrival, strings.Join(Arrivals, " or "), suggestion(w.Arrival, Arrivals, "arrivals"))
	}
	b := w.Bursts
	if b == nil {
		return
	}
	bp := p + ".bursts"
	switch {
	case b.Every <= 0:
		c.add(bp+".every", "bursts need every: how often a burst starts, e.g. 10m")
	case b.Length <= 0:
		c.add(bp+".length", "bursts need a positive length: how long each lasts, e.g. 1m")
	case b.Length >= b.Every:
		c.add(bp+".length", "a burst of %s every %s never ends; give a length shorter than every, or raise the workload's rate instead", b.Length, b.Every)
	}
	switch {
	case !(b.Factor > 0) || math.IsInf(b.Factor, 0):
		c.add(bp+".factor", "bursts need a positive factor: the rate during a burst over the workload's rate (3 triples it, 0.5 halves it); got %v", b.Factor)
	case b.Factor > MaxBurstFactor:
		c.add(bp+".factor", "factor %g is over the limit of %s: a burst multiplies the rate by at most that much", b.Factor, thousands(MaxBurstFactor))
	}
	if b.Every > 0 && b.Length > 0 && b.Length < b.Every {
		c.checkPeriod(bp+".every", b.Every.D())
	}
	if b.Start != nil {
		d := c.scenario.Duration
		switch {
		case *b.Start < 0:
			c.add(bp+".start", "start must not be negative, got %s", *b.Start)
		case d > 0 && *b.Start >= d:
			c.add(bp+".start", "the first burst would start at %s, after the scenario's end (duration %s)", *b.Start, d)
		}
	}
}

// checkWindow checks a fault or step whose time is drawn from a window:
// every time the window allows must be one the scenario can reach.
func (c *checker) checkWindow(t *trigger) {
	w, d := *t.at, c.scenario.Duration
	switch {
	case w.Earliest < 0:
		c.add(t.path+".at", "the window must not start before 0, got %s", w)
	case d > 0 && w.Latest >= d:
		c.add(t.path+".at", "a %s drawn from %s could come after the scenario's end (duration %s); end the window before it", t.what, w, d)
	}
}
