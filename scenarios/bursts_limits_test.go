package scenarios_test

import (
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.yaml.in/yaml/v3"

	"github.com/chaosdrill/chaosdrill/scenarios"
)

// burstFile is the breaker's file: a 1-hour majority workload with bursts
// of factor (YAML text) lasting all but a second of every 10 minutes.
func burstFile(rate, factor string) string {
	return "name: burst\ntopology: ion\nduration: 1h\nworkloads:\n" +
		"  - {service: mongo, rate: " + rate + ", write_concern: majority, bursts: {every: 10m, length: 9m59s, factor: " + factor + "}}\n"
}

// setRate is the loader edit run --set workload.mongo.rate=VALUE makes.
func setRate(value string) scenarios.Option {
	return scenarios.WithEdit(func(root *yaml.Node) error {
		for i := 0; i+1 < len(root.Content); i += 2 {
			if root.Content[i].Value != "workloads" {
				continue
			}
			w := root.Content[i+1].Content[0]
			for j := 0; j+1 < len(w.Content); j += 2 {
				if w.Content[j].Value == "rate" {
					w.Content[j+1].Value = value
				}
			}
		}
		return nil
	})
}

var _ = Describe("bursts against the limits on writes", func() {
	It("refuses a factor past the limit on the factor itself, at the factor's line", func() {
		for _, factor := range []string{"1000000", "1e300"} {
			_, err := scenarios.Parse("burst.yaml", []byte(burstFile("8000", factor)))
			Expect(err).To(HaveOccurred(), factor)
			Expect(err.Error()).To(ContainSubstring("burst.yaml:5:"))
			problems := problemsOf(err)
			Expect(problems).To(ContainElement(HaveField("Path", "workloads[0].bursts.factor")), factor)
			Expect(err.Error()).To(ContainSubstring("over the limit of 1,000"))
		}
	})

	It("refuses a factor within its own limit that takes the rate during a burst over MaxRate", func() {
		_, err := scenarios.Parse("burst.yaml", []byte(burstFile("8000", "200")))
		problems := problemsOf(err)
		Expect(problems).To(ConsistOf(HaveField("Path", "workloads[0].bursts.factor")))
		Expect(problems[0].Message).To(ContainSubstring("raises rate 8000 writes/s to 1.6e+06 writes/s, over the limit of 1,000,000 writes/s"))
	})

	It("counts the writes of the bursts against the writes a run issues", func() {
		// 8,000 writes/s for an hour are 28.8 million; bursting at 10x for
		// all but a second of every 10 minutes makes it about 288 million.
		_, err := scenarios.Parse("burst.yaml", []byte(burstFile("8000", "10")))
		problems := problemsOf(err)
		Expect(problems).To(ConsistOf(HaveField("Path", "workloads[0].bursts.factor")))
		Expect(problems[0].Message).To(ContainSubstring("is up to 287"))
		Expect(problems[0].Message).To(ContainSubstring("a run issues at most 100,000,000"))
	})

	It("accepts bursts whose writes fit, and a lull whatever its depth", func() {
		_, err := scenarios.Parse("burst.yaml", []byte(burstFile("8000", "3")))
		Expect(err).NotTo(HaveOccurred())
		_, err = scenarios.Parse("burst.yaml", []byte(burstFile("8000", "1e-300")))
		Expect(err).NotTo(HaveOccurred())
	})

	It("holds a rate changed by run --set or sweep --vary to the same limits", func() {
		_, err := scenarios.Parse("burst.yaml", []byte(burstFile("100", "10")))
		Expect(err).NotTo(HaveOccurred())
		_, err = scenarios.Parse("burst.yaml", []byte(burstFile("100", "10")), setRate("8000"))
		Expect(problemsOf(err)).To(ConsistOf(HaveField("Path", "workloads[0].bursts.factor")))
		_, err = scenarios.Parse("burst.yaml", []byte(burstFile("100", "10")), setRate("200000"))
		Expect(problemsOf(err)).To(ConsistOf(HaveField("Path", "workloads[0].bursts.factor")))
		Expect(err.Error()).To(ContainSubstring("writes/s, over the limit of 1,000,000"))
	})

	It("refuses bursts that repeat more often than a period may", func() {
		text := strings.Replace(burstFile("1", "3"), "every: 10m, length: 9m59s", "every: 2ns, length: 1ns", 1)
		_, err := scenarios.Parse("burst.yaml", []byte(text))
		problems := problemsOf(err)
		Expect(problems).To(ConsistOf(HaveField("Path", "workloads[0].bursts.every")))
		Expect(problems[0].Message).To(ContainSubstring("at most 10000000 repetitions"))
	})
})

var _ = Describe("messages at the limits of a file", func() {
	It("says a duration too large for the clock overflows, naming the longest", func() {
		_, err := scenarios.Parse("s.yaml", []byte(strings.Replace(base, "duration: 10m", "duration: 99999999h", 1)))
		problems := problemsOf(err)
		Expect(problems).To(ConsistOf(HaveField("Path", "duration")))
		Expect(problems[0].Message).To(Equal("99999999h overflows: the longest duration a scenario may hold is 168h0m0s"))
	})

	It("accepts a file of 9,000 plain faults, and counts values without speaking of aliases it has none of", func() {
		var b strings.Builder
		b.WriteString(base + "faults:\n")
		for i := 0; i < 9000; i++ {
			fmt.Fprintf(&b, "  - {name: f%d, kind: pause, target: node:mongo-east-1a, at: 1m, heal: 10s}\n", i)
		}
		_, err := scenarios.Parse("s.yaml", []byte(b.String()))
		Expect(err).NotTo(HaveOccurred())

		b.Reset()
		b.WriteString(base + "faults:\n  - {name: p, kind: partition, at: 1m, between: [")
		for i := 0; i < scenarios.MaxValues; i++ {
			b.WriteString("a,")
		}
		b.WriteString("a]}\n")
		_, err = scenarios.Parse("s.yaml", []byte(b.String()))
		Expect(err).To(MatchError(ContainSubstring("the file holds more than 250,000 values; a scenario holds at most 250,000")))
		Expect(err.Error()).NotTo(ContainSubstring("alias"))
	})
})
