package platform_test

import (
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.yaml.in/yaml/v3"

	"github.com/chaosdrill/chaosdrill/platform"
)

func parseDistribution(text string) (platform.Distribution, error) {
	var d platform.Distribution
	err := yaml.Unmarshal([]byte(text), &d)
	return d, err
}

var _ = Describe("Distribution", func() {
	DescribeTable("reads the forms a scenario file writes",
		func(text string, want platform.Distribution) {
			d, err := parseDistribution(text)
			Expect(err).NotTo(HaveOccurred())
			Expect(d).To(Equal(want))
			// String writes it back in the same form.
			again, err := parseDistribution(d.String())
			Expect(err).NotTo(HaveOccurred())
			Expect(again).To(Equal(want))
		},
		Entry("a fixed duration", `2m`, platform.FixedDuration(2*time.Minute)),
		Entry("a fixed number", `0.5`, platform.Distribution{Shape: platform.ShapeFixed, Value: 0.5}),
		Entry("a log-normal by median and p90", `{median: 2m, p90: 6m}`,
			platform.Distribution{Shape: platform.ShapeLogNormal, Duration: true, Median: float64(2 * time.Minute), Tail: float64(6 * time.Minute), TailQuantile: 0.9}),
		Entry("a log-normal by median and p99", `{median: 32ms, p99: 40ms}`,
			platform.Distribution{Shape: platform.ShapeLogNormal, Duration: true, Median: float64(32 * time.Millisecond), Tail: float64(40 * time.Millisecond), TailQuantile: 0.99}),
		Entry("a uniform range", `{min: 1m, max: 5m}`,
			platform.Distribution{Shape: platform.ShapeUniform, Duration: true, Min: float64(time.Minute), Max: float64(5 * time.Minute)}),
		Entry("a uniform range of numbers", `{min: 1, max: 2.5}`,
			platform.Distribution{Shape: platform.ShapeUniform, Min: 1, Max: 2.5}),
	)

	DescribeTable("refuses what is not one of its forms, saying why",
		func(text, message string) {
			_, err := parseDistribution(text)
			Expect(err).To(MatchError(ContainSubstring(message)))
		},
		Entry("a tail below the median", `{median: 2m, p90: 1m}`, "p90 (1m0s) must be above the median (2m0s)"),
		Entry("a zero median", `{median: 0s, p99: 1m}`, "median must be positive"),
		Entry("max below min", `{min: 5m, max: 1m}`, "max (1m0s) is below min (5m0s)"),
		Entry("a negative min", `{min: -1m, max: 1m}`, "min must not be negative"),
		Entry("durations mixed with numbers", `{min: 1m, max: 5}`, "give both the same way"),
		Entry("an unknown field", `{median: 2m, p95: 4m}`, `unknown field "p95"`),
		Entry("half a log-normal", `{median: 2m}`, "want a value (2m), {median: 2m, p90: 6m} (or p99), or {min: 1m, max: 5m}, got {median}"),
		Entry("two forms at once", `{median: 2m, p90: 4m, min: 1m}`, "got {median, p90, min}"),
		Entry("a list", `[1m, 2m]`, "got a list"),
		Entry("a word", `soon`, `got "soon"`),
	)

	Describe("sampling", func() {
		draw := func(d platform.Distribution, n int) []float64 {
			r := platform.RandomStream(42, "test/distribution")
			out := make([]float64, n)
			for i := range out {
				out[i] = d.Sample(r)
			}
			slices.Sort(out)
			return out
		}

		It("puts half the log-normal's draws under the median and a tenth over p90", func() {
			d, err := parseDistribution(`{median: 2m, p90: 6m}`)
			Expect(err).NotTo(HaveOccurred())
			xs := draw(d, 20000)
			Expect(xs[0]).To(BeNumerically(">", 0))
			Expect(xs[len(xs)/2]).To(BeNumerically("~", float64(2*time.Minute), float64(10*time.Second)))
			Expect(xs[len(xs)*9/10]).To(BeNumerically("~", float64(6*time.Minute), float64(30*time.Second)))
		})

		It("puts the p99 form's 99th percentile at p99", func() {
			d, err := parseDistribution(`{median: 32ms, p99: 40ms}`)
			Expect(err).NotTo(HaveOccurred())
			xs := draw(d, 20000)
			Expect(xs[len(xs)*99/100]).To(BeNumerically("~", float64(40*time.Millisecond), float64(time.Millisecond)))
		})

		It("spreads a uniform range over the whole range and no further", func() {
			d, err := parseDistribution(`{min: 1m, max: 5m}`)
			Expect(err).NotTo(HaveOccurred())
			xs := draw(d, 10000)
			Expect(xs[0]).To(BeNumerically(">=", float64(time.Minute)))
			Expect(xs[len(xs)-1]).To(BeNumerically("<=", float64(5*time.Minute)))
			Expect(xs[len(xs)/2]).To(BeNumerically("~", float64(3*time.Minute), float64(10*time.Second)))
		})

		It("gives a fixed value every time", func() {
			xs := draw(platform.FixedDuration(time.Minute), 100)
			Expect(xs[0]).To(Equal(xs[99]))
			Expect(xs[0]).To(Equal(float64(time.Minute)))
		})

		It("draws the same value from the same seed and stream, another from another stream", func() {
			d, err := parseDistribution(`{median: 2m, p90: 6m}`)
			Expect(err).NotTo(HaveOccurred())
			same := func(seed uint64, name string) time.Duration {
				return d.SampleDuration(platform.RandomStream(seed, name))
			}
			Expect(same(7, "runner/operator-delay/promote")).To(Equal(same(7, "runner/operator-delay/promote")))
			Expect(same(7, "runner/operator-delay/promote")).NotTo(Equal(same(7, "runner/operator-delay/restore")))
			Expect(same(7, "runner/operator-delay/promote")).NotTo(Equal(same(8, "runner/operator-delay/promote")))
			Expect(same(7, "x")%time.Microsecond).To(BeZero(), "durations are drawn to the microsecond")
		})
	})
})

var _ = Describe("LinkDelay", func() {
	parse := func(text string) (platform.LinkDelay, error) {
		var l platform.LinkDelay
		err := yaml.Unmarshal([]byte(text), &l)
		return l, err
	}

	It("reads a plain latency as fixed and {median, p99} as a tail", func() {
		fixed, err := parse(`32ms`)
		Expect(err).NotTo(HaveOccurred())
		Expect(fixed).To(Equal(platform.LinkDelay{Median: platform.Duration(32 * time.Millisecond)}))
		Expect(fixed.HasTail()).To(BeFalse())
		Expect(fixed.Sample(platform.RandomStream(1, "x"))).To(Equal(32 * time.Millisecond))

		tail, err := parse(`{median: 32ms, p99: 40ms}`)
		Expect(err).NotTo(HaveOccurred())
		Expect(tail).To(Equal(platform.LinkDelay{Median: platform.Duration(32 * time.Millisecond), P99: platform.Duration(40 * time.Millisecond)}))
		Expect(tail.HasTail()).To(BeTrue())
		var draws []time.Duration
		for seed := range uint64(30) {
			draws = append(draws, tail.Sample(platform.RandomStream(seed, "x")))
		}
		slices.Sort(draws)
		draws = slices.Compact(draws)
		Expect(len(draws)).To(BeNumerically(">", 20), "each seed draws its own latency")
	})

	DescribeTable("refuses other forms",
		func(text, message string) {
			_, err := parse(text)
			Expect(err).To(MatchError(ContainSubstring(message)))
		},
		Entry("a bare number", `32`, "want a duration"),
		Entry("p90 instead of p99", `{median: 32ms, p90: 40ms}`, `unknown field "p90"`),
		Entry("no median", `{p99: 40ms}`, "needs its median"),
	)
})

var _ = Describe("random streams", func() {
	It("reseed a reused generator to draw exactly what a fresh stream of the same name draws", func() {
		fresh := platform.RandomStream(9, "net/latency/a|b")
		src := rand.NewPCG(0, 0)
		reused := rand.New(src)
		platform.Reseed(src, 9, "net/latency/", "a", "|", "b")
		for range 10 {
			Expect(reused.Uint64()).To(Equal(fresh.Uint64()))
		}
	})

	It("hash stream names as hash/fnv's FNV-1a does, so the simulator's streams keep their numbers", func() {
		h := fnv.New64a()
		h.Write([]byte("mongo/election/mongo"))
		want := rand.New(rand.NewPCG(3, h.Sum64()))
		got := platform.RandomStream(3, "mongo/election/mongo")
		Expect(got.Uint64()).To(Equal(want.Uint64()))
	})
})
