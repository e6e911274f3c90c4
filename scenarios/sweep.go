package scenarios

import (
	"fmt"
	"slices"

	"go.yaml.in/yaml/v3"

	"github.com/chaosdrill/chaosdrill/platform"
)

// SweepSettings is the `sweep:` section: what a sweep of the scenario over
// many seeds (chaosdrill sweep) must show. `run` ignores it.
type SweepSettings struct {
	// Gates set a sweep's exit code: 0 when every gate holds, 1 when one
	// does not. A sweep of a scenario without gates has one: every seed's
	// verdict is pass.
	Gates []Gate `yaml:"gates,omitempty" json:"gates,omitempty"`
}

// Gate is a bound on a sweep: a figure of one service (exactly one of the
// *_max fields) that enough seeds must keep, or the share of seeds whose
// verdict is pass (Verdict "pass"). Enough is said one of two ways, which
// mean the same over the seeds: Quantile q (the q-quantile of the figure
// over the seeds, the lowest value at least a share q of seeds keep, is
// within the bound) or AtLeast s (at least a share s of the seeds keep the
// bound). A seed whose figure could not be measured (the fault did not
// happen, the read-back failed, the service never recovered for rto_max)
// does not keep it.
type Gate struct {
	Service       string             `yaml:"service,omitempty" json:"service,omitempty"`
	Verdict       string             `yaml:"verdict,omitempty" json:"verdict,omitempty"`
	LostWritesMax *int               `yaml:"lost_writes_max,omitempty" json:"lost_writes_max,omitempty"`
	UnknownMax    *int               `yaml:"unknown_max,omitempty" json:"unknown_max,omitempty"`
	RTOMax        *platform.Duration `yaml:"rto_max,omitempty" json:"rto_max,omitempty"`
	RPOMax        *platform.Duration `yaml:"rpo_max,omitempty" json:"rpo_max,omitempty"`
	LatencyP99Max *platform.Duration `yaml:"latency_p99_max,omitempty" json:"latency_p99_max,omitempty"`
	Quantile      *float64           `yaml:"quantile,omitempty" json:"quantile,omitempty"`
	AtLeast       *float64           `yaml:"at_least,omitempty" json:"at_least,omitempty"`
}

// GateVerdictPass is the one value a gate's verdict takes.
const GateVerdictPass = "pass"

// MaxGates bounds the gates of one scenario.
const MaxGates = 100

// Bound returns the gate's metric ("lost_writes", "unknown_writes",
// "rto_seconds", "rpo_seconds", "write_latency_p99_ms" or "verdict") and
// its bound in the metric's unit (writes, seconds or milliseconds; 0 for
// the verdict). ok is false when the gate sets no bound or more than one.
func (g Gate) Bound() (metric string, bound float64, ok bool) {
	n := 0
	if g.Verdict != "" {
		metric, n = "verdict", n+1
	}
	if g.LostWritesMax != nil {
		metric, bound, n = "lost_writes", float64(*g.LostWritesMax), n+1
	}
	if g.UnknownMax != nil {
		metric, bound, n = "unknown_writes", float64(*g.UnknownMax), n+1
	}
	if g.RTOMax != nil {
		metric, bound, n = "rto_seconds", g.RTOMax.D().Seconds(), n+1
	}
	if g.RPOMax != nil {
		metric, bound, n = "rpo_seconds", g.RPOMax.D().Seconds(), n+1
	}
	if g.LatencyP99Max != nil {
		metric, bound, n = "write_latency_p99_ms", float64(g.LatencyP99Max.D().Microseconds())/1e3, n+1
	}
	return metric, bound, n == 1
}

// boundFields are a gate's bounds as the file spells them.
var boundFields = []string{"verdict", "lost_writes_max", "unknown_max", "rto_max", "rpo_max", "latency_p99_max"}

func (g Gate) boundsSet() []string {
	set := []bool{g.Verdict != "", g.LostWritesMax != nil, g.UnknownMax != nil, g.RTOMax != nil, g.RPOMax != nil, g.LatencyP99Max != nil}
	var out []string
	for i, s := range set {
		if s {
			out = append(out, boundFields[i])
		}
	}
	return out
}

// checkSweep checks the sweep section's gates.
func (c *checker) checkSweep() {
	s := c.scenario.Sweep
	if s == nil {
		return
	}
	if len(s.Gates) > MaxGates {
		c.add("sweep.gates", "%d gates; a scenario holds at most %d", len(s.Gates), MaxGates)
		return
	}
	for i, g := range s.Gates {
		p := indexPath("sweep.gates", i)
		bounds := g.boundsSet()
		switch {
		case len(bounds) == 0:
			c.add(p, "a gate needs one bound: verdict: pass, or for a service one of lost_writes_max, unknown_max, rto_max, rpo_max, latency_p99_max")
		case len(bounds) > 1:
			c.add(p+"."+bounds[1], "a gate holds one bound, this one has %v; write one gate per bound", bounds)
		}
		switch {
		case g.Verdict != "" && g.Verdict != GateVerdictPass:
			c.add(p+".verdict", "a verdict gate counts the seeds whose verdict is pass: want verdict: pass, got %q", g.Verdict)
		case g.Verdict != "" && g.Service != "":
			c.add(p+".service", "a verdict gate is about whole seeds, not a service; drop service, or gate one of its figures (rto_max, lost_writes_max, ...)")
		case g.Verdict != "" && g.Quantile != nil:
			c.add(p+".quantile", "a verdict has no quantile; say how many seeds must pass with at_least, e.g. at_least: 0.99")
		case g.Verdict == "" && g.Service == "":
			c.add(p+".service", "a gate on a figure needs the service it measures")
		case g.Verdict == "" && !c.hasWriteWorkload(g.Service):
			if _, ok := c.service(p+".service", g.Service); ok {
				c.add(p+".service", "service %q has no write workload, so a sweep has nothing to measure; add one under workloads", g.Service)
			}
		}
		for _, b := range []struct {
			field string
			value *int
		}{{"lost_writes_max", g.LostWritesMax}, {"unknown_max", g.UnknownMax}} {
			if b.value != nil && *b.value < 0 {
				c.add(p+"."+b.field, "%s must not be negative, got %d", b.field, *b.value)
			}
		}
		for _, b := range []struct {
			field string
			value *platform.Duration
		}{{"rto_max", g.RTOMax}, {"rpo_max", g.RPOMax}, {"latency_p99_max", g.LatencyP99Max}} {
			if b.value != nil && *b.value < 0 {
				c.add(p+"."+b.field, "%s must not be negative, got %s", b.field, *b.value)
			}
		}
		switch {
		case g.Quantile == nil && g.AtLeast == nil:
			c.add(p, "a gate says how many seeds must keep its bound: quantile: 0.95 (the bound holds at the 95th percentile) or at_least: 0.99 (the share of seeds)")
		case g.Quantile != nil && g.AtLeast != nil:
			c.add(p+".at_least", "quantile and at_least say the same thing two ways; give one")
		}
		for _, f := range []struct {
			field string
			value *float64
		}{{"quantile", g.Quantile}, {"at_least", g.AtLeast}} {
			if f.value != nil && !(*f.value > 0 && *f.value <= 1) {
				c.add(p+"."+f.field, "%s is a share of the seeds, above 0 and at most 1, got %g", f.field, *f.value)
			}
		}
	}
}

func (c *checker) hasWriteWorkload(service string) bool {
	return slices.ContainsFunc(c.scenario.Workloads, func(w Workload) bool { return w.Service == service && !w.Reads() })
}

// WithEdit makes the loader apply edit to the file's root mapping after
// parsing it and before decoding it: the what-if sweep (sweep --vary) and
// run --set change one field this way, and whatever is wrong with the
// changed value is reported like any other problem of the file, at the line
// of the field it replaced. An error from edit is reported as a problem of
// the file at its first line.
func WithEdit(edit func(root *yaml.Node) error) Option {
	return func(o *options) { o.edits = append(o.edits, edit) }
}

// applyEdits runs the loader's edits on the root mapping.
func (o options) applyEdits(path string, root *yaml.Node) error {
	for _, edit := range o.edits {
		if err := edit(root); err != nil {
			return &Error{File: path, Problems: []Problem{{Line: 1, Column: 1, Message: err.Error()}}}
		}
	}
	return nil
}

// BuiltinNode returns the built-in topology name as the YAML of an inline
// topology, so that an edit can change one of its fields (sweep --vary
// topology.latency.inter_region=...). Its nodes carry pos's line and
// column.
func BuiltinNode(name string, pos *yaml.Node) (*yaml.Node, error) {
	build, ok := platform.BuiltinTopologies()[name]
	if !ok {
		return nil, fmt.Errorf("no built-in topology %q", name)
	}
	var n yaml.Node
	if err := n.Encode(build()); err != nil {
		return nil, fmt.Errorf("built-in topology %s: %w", name, err)
	}
	place(&n, pos.Line, pos.Column)
	return &n, nil
}

func place(n *yaml.Node, line, column int) {
	n.Line, n.Column = line, column
	for _, c := range n.Content {
		place(c, line, column)
	}
}

// Suggestion completes an "unknown X" message as the loader's own do:
// "; did you mean "Y"?" for a likely typo, else the list of choices.
func Suggestion(word string, candidates []string, what string) string {
	return suggestion(word, candidates, what)
}
