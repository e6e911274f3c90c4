package sweep

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/gonum/stat"

	"github.com/chaosdrill/chaosdrill/reports"
	"github.com/chaosdrill/chaosdrill/scenarios"
)

// GateResult is one gate judged over one variant's seeds. Kept counts the
// seeds that kept the bound (a seed whose figure was not measured did
// not), Share is Kept/Seeds with its 95% Wilson interval. For a quantile
// gate Observed is the quantile of the figure over the seeds (null when it
// is unbounded: too many seeds never recovered or were not measured).
type GateResult struct {
	Gate     string     `json:"gate"`
	Service  string     `json:"service,omitempty"`
	Metric   string     `json:"metric"`
	Bound    float64    `json:"bound"`
	Quantile *float64   `json:"quantile,omitempty"`
	AtLeast  *float64   `json:"at_least,omitempty"`
	Observed *float64   `json:"observed,omitempty"`
	Kept     int        `json:"kept"`
	Seeds    int        `json:"seeds"`
	Share    float64    `json:"share"`
	CI95     [2]float64 `json:"ci95"`
	Pass     bool       `json:"pass"`
}

// GateText says what a gate asks, e.g. "mongo: rto <= 3m0s at p95" or
// "mongo: lost writes <= 0 in at least 99% of seeds".
func GateText(g scenarios.Gate) string {
	metric, _, _ := g.Bound()
	var what string
	switch metric {
	case "verdict":
		what = "verdict pass"
	case "lost_writes":
		what = fmt.Sprintf("%s: lost writes <= %d", g.Service, *g.LostWritesMax)
	case "unknown_writes":
		what = fmt.Sprintf("%s: unknown writes <= %d", g.Service, *g.UnknownMax)
	case "rto_seconds":
		what = fmt.Sprintf("%s: rto <= %s", g.Service, g.RTOMax)
	case "rpo_seconds":
		what = fmt.Sprintf("%s: rpo <= %s", g.Service, g.RPOMax)
	case "write_latency_p99_ms":
		what = fmt.Sprintf("%s: write latency p99 <= %s", g.Service, g.LatencyP99Max)
	}
	if g.Quantile != nil {
		return what + " at p" + percent(*g.Quantile)
	}
	if g.AtLeast != nil {
		if *g.AtLeast == 1 {
			return what + " in every seed"
		}
		return what + " in at least " + percent(*g.AtLeast) + "% of seeds"
	}
	return what
}

// percent writes a share as a percentage without float noise (0.95 -> 95,
// 0.999 -> 99.9).
func percent(q float64) string {
	return strconv.FormatFloat(math.Round(q*1e6)/1e4, 'f', -1, 64)
}

// judge judges each gate over one variant's seeds.
func judge(gates []scenarios.Gate, services []string, seeds []Seed) []GateResult {
	out := make([]GateResult, 0, len(gates))
	for _, g := range gates {
		out = append(out, judgeOne(g, services, seeds))
	}
	return out
}

func judgeOne(g scenarios.Gate, services []string, seeds []Seed) GateResult {
	metric, bound, _ := g.Bound()
	r := GateResult{Gate: GateText(g), Service: g.Service, Metric: metric, Bound: bound, Quantile: g.Quantile, AtLeast: g.AtLeast, Seeds: len(seeds)}
	// values holds each seed's figure, +Inf where it was not measured (a
	// seed that was not measured does not keep any bound).
	values := make([]float64, len(seeds))
	service := slices.Index(services, g.Service)
	m := metricIndex(metric)
	for k, s := range seeds {
		switch {
		case metric == "verdict":
			values[k] = 1
			if s.Verdict == reports.VerdictPass {
				values[k] = 0
			}
		case service < 0 || m < 0:
			values[k] = math.Inf(1)
		default:
			values[k] = s.Services[service].Figures[m]
			if math.IsNaN(values[k]) {
				values[k] = math.Inf(1)
			}
		}
		if values[k] <= bound {
			r.Kept++
		}
	}
	if len(seeds) > 0 {
		r.Share = round6(float64(r.Kept) / float64(len(seeds)))
	}
	r.CI95[0], r.CI95[1] = Wilson(r.Kept, len(seeds))
	switch {
	case len(seeds) == 0:
		r.Pass = false // nothing was measured: never a pass
	case g.Quantile != nil:
		slices.Sort(values)
		q := stat.Quantile(*g.Quantile, stat.Empirical, values, nil)
		if !math.IsInf(q, 1) {
			r.Observed = &q
		}
		r.Pass = q <= bound
	case g.AtLeast != nil:
		r.Pass = float64(r.Kept)/float64(len(seeds)) >= *g.AtLeast
	}
	return r
}
