package sweep_test

import (
	"math"
	"math/rand/v2"
	"slices"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/scenarios"
	"github.com/chaosdrill/chaosdrill/sweep"
)

var _ = Describe("the Wilson score interval", func() {
	// Reference values: Newcombe, "Two-sided confidence intervals for the
	// single proportion", Statistics in Medicine 17 (1998), table I,
	// method 3 (Wilson score without continuity correction).
	DescribeTable("matches the published intervals",
		func(k, n int, low, high float64) {
			l, h := sweep.Wilson(k, n)
			Expect(l).To(BeNumerically("~", low, 0.0001))
			Expect(h).To(BeNumerically("~", high, 0.0001))
		},
		Entry("81/263", 81, 263, 0.2553, 0.3662),
		Entry("15/148", 15, 148, 0.0624, 0.1605),
		Entry("0/20", 0, 20, 0.0, 0.1611),
		Entry("1/29", 1, 29, 0.0061, 0.1718),
	)

	It("does not collapse at 0 or n, and stays in [0, 1]", func() {
		l, h := sweep.Wilson(200, 200)
		Expect(h).To(Equal(1.0))
		Expect(l).To(BeNumerically("~", 0.9812, 0.0001))
		for n := 1; n <= 60; n++ {
			for k := 0; k <= n; k++ {
				l, h := sweep.Wilson(k, n)
				p := float64(k) / float64(n)
				Expect(l).To(BeNumerically("<=", p))
				Expect(h).To(BeNumerically(">=", p))
				Expect(l).To(BeNumerically(">=", 0))
				Expect(h).To(BeNumerically("<=", 1))
			}
		}
		l, h = sweep.Wilson(0, 0)
		Expect([]float64{l, h}).To(Equal([]float64{0, 1}), "no seed: nothing learned")
	})
})

var _ = Describe("a sweep's summary", func() {
	seeds := syntheticSeeds(1, 200, 1)
	result := sweep.Aggregate(about(1, 200, nil, nil), [][]sweep.Seed{seeds}, nil)
	v := result.Variants[0]

	It("gives each figure's quantiles as the figure of a real seed, without the seeds not measured", func() {
		d := v.Services["b"][sweep.MetricRTO]
		var measured []float64
		for _, s := range seeds {
			if x := s.Services[1].Figures[0]; !math.IsNaN(x) {
				measured = append(measured, x)
			}
		}
		slices.Sort(measured)
		Expect(d.Seeds).To(Equal(len(measured)))
		Expect(d.Unmeasured).To(Equal(200 - len(measured)))
		Expect(d.Unmeasured).To(BeNumerically(">", 0))
		Expect(*d.Min).To(Equal(measured[0]))
		Expect(*d.Max).To(Equal(measured[len(measured)-1]))
		// Empirical: the lowest value at least a share q of seeds do not exceed.
		for _, q := range []struct {
			q float64
			x *float64
		}{{0.5, d.P50}, {0.9, d.P90}, {0.95, d.P95}, {0.99, d.P99}} {
			k := int(math.Ceil(q.q*float64(len(measured)))) - 1
			Expect(*q.x).To(Equal(measured[k]), "p%v", q.q*100)
		}
		total := 0
		for _, c := range d.Histogram.Counts {
			total += c
		}
		Expect(total).To(Equal(len(measured)), "every measured seed is in one bin")
	})

	It("says a service that never recovered is unbounded at the quantiles it reaches", func() {
		d := v.Services["a"][sweep.MetricRTO]
		Expect(d.NeverRecovered).To(Equal(200 / 7))
		Expect(d.Max).To(BeNil())
		Expect(d.P99).To(BeNil())
		Expect(d.P50).NotTo(BeNil())
		Expect(v.Worst["a"][sweep.MetricRTO][0].Value).To(BeNil(), "the worst RTO is one that never came")
		Expect(v.Worst["a"][sweep.MetricRTO][0].Seed).To(Equal(uint64(7)), "ties go to the lowest seed")
	})

	It("counts each check's share with its interval, a check only some runs had as met where it did not arise", func() {
		names := []string{}
		for _, c := range v.Checks {
			names = append(names, c.Check)
		}
		Expect(names).To(Equal([]string{"a: recovers", "a: rto <= 1m30s", "fault f rehearsed"}))
		Expect(v.Checks[0].Met).To(Equal(200 - 200/7))
		Expect(v.Checks[1].Met).To(Equal(200))
		Expect(v.Checks[2].Met).To(Equal(200 - 200/11 + 200/77))
		l, h := sweep.Wilson(v.Checks[0].Met, 200)
		Expect(v.Checks[0].CI95).To(Equal([2]float64{l, h}))
		Expect(v.Checks[0].Share).To(BeNumerically("~", float64(v.Checks[0].Met)/200, 1e-6))
	})

	It("judges a gate by quantile and by share alike, and never lets an unmeasured seed keep one", func() {
		r := rand.New(rand.NewPCG(3, 4))
		for range 200 {
			bound := platformSeconds(10 + 100*r.Float64())
			q := []float64{0.5, 0.9, 0.95, 0.99, 1}[r.IntN(5)]
			byQuantile := scenarios.Gate{Service: "b", RTOMax: &bound, Quantile: &q}
			byShare := scenarios.Gate{Service: "b", RTOMax: &bound, AtLeast: &q}
			s := about(1, 200, nil, nil)
			s.Gates = []scenarios.Gate{byQuantile, byShare}
			g := sweep.Aggregate(s, [][]sweep.Seed{seeds}, nil).Variants[0].Gates
			Expect(g[0].Pass).To(Equal(g[1].Pass), "bound %s, q %v", bound, q)
			kept := 0
			for _, s := range seeds {
				if x := s.Services[1].Figures[0]; !math.IsNaN(x) && x <= bound.D().Seconds() {
					kept++
				}
			}
			Expect(g[1].Kept).To(Equal(kept))
		}
	})

	It("fails every gate of a variant no seed finished", func() {
		r := sweep.Aggregate(about(1, 10, nil, nil), [][]sweep.Seed{nil}, &sweep.Partial{Reason: "interrupted"})
		for _, g := range r.Variants[0].Gates {
			Expect(g.Pass).To(BeFalse(), g.Gate)
		}
		Expect(r.Passed()).To(BeFalse())
	})
})
