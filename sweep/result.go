package sweep

import (
	"fmt"
	"math"
	"slices"

	"github.com/chaosdrill/chaosdrill/reports"
	"github.com/chaosdrill/chaosdrill/scenarios"
)

// Schema names the layout of sweep.json (and of a shard's sweep.json).
const Schema = "chaosdrill.sweep/v2"

// Result is a sweep as sweep.json holds it: what was swept (scenario,
// seeds, the what-if, the gates), and per value of the what-if the
// summary and every seed. It holds no wall-clock figure: the same sweep
// gives the same bytes, sharded or not, on any number of workers.
type Result struct {
	Schema   string `json:"schema"`
	Scenario string `json:"scenario"`
	// ScenarioSHA256 is the hash of the scenario file's bytes: shards of
	// one sweep ran the same file.
	ScenarioSHA256 string `json:"scenario_sha256"`
	// ScenarioFile is the scenario file's path as the sweep was given it
	// (relative to the folder it ran in, when it was given so): where
	// sweep merge looks for it, to write replay commands. Absent when not
	// known.
	ScenarioFile string `json:"scenario_file,omitempty"`
	Platform     string `json:"platform"`
	Version      string `json:"chaosdrill_version"`
	// From and Seeds are the sweep's seeds: From, From+1, ...,
	// From+Seeds-1 (a shard runs some of them, see Shard).
	From  uint64 `json:"from"`
	Seeds uint64 `json:"seeds"`
	// Shard is set in a shard's result: shard Index (1-based) of Count
	// runs the seeds From+k with k % Count == Index-1.
	Shard *Shard `json:"shard,omitempty"`
	// Partial is set when the sweep was interrupted: only the seeds
	// listed ran, and the summary is of them alone.
	Partial *Partial `json:"partial,omitempty"`
	Vary    *Vary    `json:"vary"`
	// Gates are the gates the sweep was judged by: the scenario's, or the
	// default one (every seed passes).
	Gates []scenarios.Gate `json:"gates"`
	// Services are the services with a write workload, in name order;
	// Checks the expectation checks every run has, in the file's order
	// (a check only some runs have, such as a fault that did not happen,
	// is listed in the variants' checks after these).
	Services []string  `json:"services"`
	Checks   []string  `json:"checks"`
	Variants []Variant `json:"variants"`
}

// Shard is one part of a sweep spread over machines.
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

func (s *Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// Partial says why a result covers fewer seeds than it should.
type Partial struct {
	Reason string `json:"reason"`
}

// Variant is the sweep of one value of the what-if (the only one when
// nothing is varied): how its seeds went.
type Variant struct {
	// Value is the varied field's value; null when nothing is varied.
	Value    *string        `json:"value"`
	SeedsRun int            `json:"seeds_run"`
	Verdicts map[string]int `json:"verdicts"`
	Checks   []CheckShare   `json:"checks"`
	Gates    []GateResult   `json:"gates"`
	// Services holds, per service and figure, its distribution over the
	// seeds.
	Services map[string]map[string]Distribution `json:"services"`
	// Worst holds, per service and figure, the seeds with the worst
	// values (highest first, then by seed), to replay with run --seed:
	// only seeds worse than the best, so none when every seed measured
	// the same.
	Worst map[string]map[string][]WorstSeed `json:"worst"`
	// PerSeed is every seed's result, in seed order: what Merge needs.
	PerSeed []Seed `json:"per_seed"`
}

// CheckShare is the share of seeds that met one check, with its 95%
// Wilson interval.
type CheckShare struct {
	Check string     `json:"check"`
	Met   int        `json:"met"`
	Seeds int        `json:"seeds"`
	Share float64    `json:"share"`
	CI95  [2]float64 `json:"ci95"`
}

// WorstSeed is one of the worst seeds of a figure; Value is null for a
// service that never recovered.
type WorstSeed struct {
	Seed  uint64   `json:"seed"`
	Value *float64 `json:"value"`
}

// worstListed is how many worst seeds are kept per figure.
const worstListed = 5

// Sweep says what a result is a sweep of; Aggregate fills the rest.
type Sweep struct {
	Scenario, ScenarioSHA256, ScenarioFile string
	Platform, Version                      string
	From, Seeds                            uint64
	Shard                                  *Shard
	Vary                                   *Vary
	Gates                                  []scenarios.Gate
	Services, Checks                       []string
}

// DefaultGates are the gates of a scenario that states none: every seed's
// verdict is pass.
func DefaultGates() []scenarios.Gate {
	one := 1.0
	return []scenarios.Gate{{Verdict: scenarios.GateVerdictPass, AtLeast: &one}}
}

// Aggregate builds the result of a sweep from its seeds, one slice per
// variant (per value of s.Vary, in order; one when nothing is varied).
// The seeds may come in any order; partial marks an interrupted sweep.
func Aggregate(s Sweep, seeds [][]Seed, partial *Partial) *Result {
	r := &Result{Schema: Schema, Scenario: s.Scenario, ScenarioSHA256: s.ScenarioSHA256, ScenarioFile: s.ScenarioFile, Platform: s.Platform,
		Version: s.Version, From: s.From, Seeds: s.Seeds, Shard: s.Shard, Partial: partial, Vary: s.Vary,
		Gates: s.Gates, Services: s.Services, Checks: s.Checks}
	if r.Gates == nil {
		r.Gates = DefaultGates()
	}
	if r.Checks == nil {
		r.Checks = []string{}
	}
	for i, vs := range seeds {
		var value *string
		if s.Vary != nil {
			value = &s.Vary.Values[i]
		}
		r.Variants = append(r.Variants, variant(r, value, vs))
	}
	return r
}

func variant(r *Result, value *string, seeds []Seed) Variant {
	seeds = slices.Clone(seeds)
	slices.SortFunc(seeds, func(a, b Seed) int { return cmpUint(a.Seed, b.Seed) })
	v := Variant{Value: value, SeedsRun: len(seeds), Verdicts: map[string]int{}, PerSeed: seeds,
		Services: map[string]map[string]Distribution{}, Worst: map[string]map[string][]WorstSeed{}}
	for _, s := range seeds {
		v.Verdicts[s.Verdict]++
	}
	v.Checks = checkShares(r.Checks, seeds)
	for i, service := range r.Services {
		v.Services[service] = map[string]Distribution{}
		v.Worst[service] = map[string][]WorstSeed{}
		for m, metric := range Metrics {
			values := make([]float64, len(seeds))
			for k, s := range seeds {
				values[k] = s.Services[i].Figures[m]
			}
			v.Services[service][metric] = distribute(values, m == iLost || m == iUnknown)
			if m != iP50 {
				v.Worst[service][metric] = worst(seeds, values)
			}
		}
	}
	v.Gates = judge(r.Gates, r.Services, seeds)
	return v
}

// checkShares counts the seeds that met each check: the expectation
// checks every run has, then those only some runs had (always unmet
// there), by name.
func checkShares(expectations []string, seeds []Seed) []CheckShare {
	unmet := map[string]int{}
	for _, s := range seeds {
		for name := range s.Unmet {
			unmet[name]++
		}
	}
	names := slices.Clone(expectations)
	var others []string
	for name := range unmet {
		if !slices.Contains(expectations, name) {
			others = append(others, name)
		}
	}
	slices.Sort(others)
	names = append(names, others...)
	shares := make([]CheckShare, 0, len(names))
	for _, name := range names {
		met := len(seeds) - unmet[name]
		shares = append(shares, share(name, met, len(seeds)))
	}
	return shares
}

func share(name string, met, n int) CheckShare {
	c := CheckShare{Check: name, Met: met, Seeds: n}
	if n > 0 {
		c.Share = round6(float64(met) / float64(n))
	}
	c.CI95[0], c.CI95[1] = Wilson(met, n)
	return c
}

// worst lists the seeds with the highest measured values, those worse
// than the best seed's only: when every seed measured the same there is no
// worst seed to replay.
func worst(seeds []Seed, values []float64) []WorstSeed {
	best := math.Inf(1)
	for _, x := range values {
		if !math.IsNaN(x) && x < best {
			best = x
		}
	}
	idx := make([]int, 0, len(seeds))
	for k, x := range values {
		if !math.IsNaN(x) && x > best {
			idx = append(idx, k)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case values[a] > values[b]:
			return -1
		case values[a] < values[b]:
			return 1
		}
		return cmpUint(seeds[a].Seed, seeds[b].Seed)
	})
	out := []WorstSeed{}
	for _, k := range idx[:min(worstListed, len(idx))] {
		w := WorstSeed{Seed: seeds[k].Seed}
		if x := values[k]; !math.IsInf(x, 1) {
			w.Value = &x
		}
		out = append(out, w)
	}
	return out
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Passed reports whether every gate of every variant held.
func (r *Result) Passed() bool {
	for _, v := range r.Variants {
		for _, g := range v.Gates {
			if !g.Pass {
				return false
			}
		}
	}
	return true
}

// NotPassing counts the seeds of all variants whose verdict was not pass.
func (r *Result) NotPassing() int {
	n := 0
	for _, v := range r.Variants {
		n += v.SeedsRun - v.Verdicts[reports.VerdictPass]
	}
	return n
}

// Label names a variant for tables: its value, or the scenario's name
// when nothing is varied.
func (r *Result) Label(v Variant) string {
	if v.Value == nil {
		return r.Scenario
	}
	return *v.Value
}
