package sweep

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// z95 is the standard normal quantile of 0.975, for a two-sided 95%
// interval (1.959964...).
var z95 = distuv.UnitNormal.Quantile(0.975)

// Wilson returns the 95% Wilson score interval of a share: k of n seeds met
// a check. Unlike the normal ("Wald") interval it stays inside [0, 1] and
// does not collapse to a point at 0 or n successes: 200 of 200 seeds gives
// [0.981, 1], not [1, 1]. Wilson, E. B. (1927), "Probable inference, the law
// of succession, and statistical inference", JASA 22(158); the formula is
// the one in NIST/SEMATECH e-Handbook of Statistical Methods, 7.2.4.1
// (https://www.itl.nist.gov/div898/handbook/prc/section2/prc241.htm).
// n 0 gives [0, 1]: nothing was learned.
func Wilson(k, n int) (low, high float64) {
	if n <= 0 {
		return 0, 1
	}
	p := float64(k) / float64(n)
	z2 := z95 * z95
	nf := float64(n)
	denominator := 1 + z2/nf
	center := (p + z2/(2*nf)) / denominator
	half := z95 / denominator * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	low, high = math.Max(0, center-half), math.Min(1, center+half)
	if k == 0 {
		low = 0
	}
	if k == n {
		high = 1
	}
	return round6(low), round6(high)
}

// round6 rounds a share to 6 decimals: sweep.json shows what a reader can
// use, not float noise.
func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }

// Quantiles a distribution reports.
var Quantiles = []float64{0.5, 0.9, 0.95, 0.99}

// Distribution is one figure of one service over the seeds that measured
// it. Quantiles are empirical (gonum stat.Empirical: the lowest value that
// at least a share q of those seeds do not exceed), so each is the figure
// of a real seed. A nil quantile is unbounded: a share of the seeds never
// recovered (RTO only). Unmeasured counts the seeds whose figure could not
// be measured (see ServiceSeed.Unmeasured); they are in no quantile.
type Distribution struct {
	Seeds          int        `json:"seeds"`
	Unmeasured     int        `json:"unmeasured"`
	NeverRecovered int        `json:"never_recovered,omitempty"`
	Min            *float64   `json:"min"`
	P50            *float64   `json:"p50"`
	P90            *float64   `json:"p90"`
	P95            *float64   `json:"p95"`
	P99            *float64   `json:"p99"`
	Max            *float64   `json:"max"`
	Histogram      *Histogram `json:"histogram"`
}

// Histogram counts the finite values of a distribution in bins: bin i
// holds the values from Edges[i] up to (not including) Edges[i+1], the last
// bin its upper edge too. Whole-number figures (writes) get bins of whole
// numbers.
type Histogram struct {
	Edges  []float64 `json:"edges"`
	Counts []int     `json:"counts"`
}

// histogramBins is how many bins a histogram has at most.
const histogramBins = 20

// distribute computes the distribution of values (NaN: unmeasured, +Inf:
// never recovered); whole says the figure counts writes.
func distribute(values []float64, whole bool) Distribution {
	sorted := make([]float64, 0, len(values))
	d := Distribution{}
	for _, v := range values {
		switch {
		case math.IsNaN(v):
			d.Unmeasured++
		default:
			if math.IsInf(v, 1) {
				d.NeverRecovered++
			}
			sorted = append(sorted, v)
		}
	}
	d.Seeds = len(sorted)
	if len(sorted) == 0 {
		return d
	}
	slices.Sort(sorted)
	at := func(q float64) *float64 {
		x := stat.Quantile(q, stat.Empirical, sorted, nil)
		if math.IsInf(x, 1) {
			return nil
		}
		return &x
	}
	d.Min, d.P50, d.P90, d.P95, d.P99, d.Max = at(0), at(0.5), at(0.9), at(0.95), at(0.99), at(1)
	finite := sorted[:len(sorted)-d.NeverRecovered]
	if len(finite) > 0 {
		d.Histogram = histogram(finite, whole)
	}
	return d
}

// quantile returns the q-quantile of a distribution as a number (+Inf
// when unbounded).
func (d Distribution) quantile(q float64) float64 {
	var p *float64
	switch q {
	case 0.5:
		p = d.P50
	case 0.9:
		p = d.P90
	case 0.95:
		p = d.P95
	case 0.99:
		p = d.P99
	}
	if p == nil {
		return math.Inf(1)
	}
	return *p
}

// histogram bins sorted finite values.
func histogram(sorted []float64, whole bool) *Histogram {
	lo, hi := sorted[0], sorted[len(sorted)-1]
	var edges []float64
	switch {
	case whole:
		width := math.Max(1, math.Ceil((hi-lo+1)/histogramBins))
		for e := lo; len(edges) <= histogramBins+1; e += width {
			edges = append(edges, e)
			if e > hi {
				break
			}
		}
	case lo == hi:
		edges = []float64{lo, hi}
	default:
		edges = make([]float64, histogramBins+1)
		for i := range edges {
			edges[i] = lo + (hi-lo)*float64(i)/histogramBins
		}
		edges[histogramBins] = hi
	}
	dividers := slices.Clone(edges)
	// gonum counts x in [dividers[j], dividers[j+1]); the last bin takes
	// its upper edge too.
	dividers[len(dividers)-1] = math.Nextafter(math.Max(dividers[len(dividers)-1], hi), math.Inf(1))
	counts := stat.Histogram(nil, dividers, sorted, nil)
	h := &Histogram{Edges: edges, Counts: make([]int, len(counts))}
	for i, c := range counts {
		h.Counts[i] = int(c)
	}
	return h
}
