package scenarios_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/internal/files"
	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/platform/containers"
	"github.com/chaosdrill/chaosdrill/scenarios"
	"github.com/chaosdrill/chaosdrill/simulator"
)

// afterChain is a scenario of n runbook steps, each after the next one in
// the file (the order a cycle search that starts from each step walks
// furthest); with loop, the last runs after the first.
func afterChain(n int, loop bool) []byte {
	var b strings.Builder
	b.WriteString(base + "runbook:\n")
	for i := 0; i < n-1; i++ {
		fmt.Fprintf(&b, "  - {name: s%d, action: mongo.step-down, after: s%d}\n", i, i+1)
	}
	last := "at: 1m"
	if loop {
		last = "after: s0"
	}
	fmt.Fprintf(&b, "  - {name: s%d, action: mongo.step-down, %s}\n", n-1, last)
	return []byte(b.String())
}

var _ = Describe("files that are not scenario files", func() {
	It("refuses a FIFO, a device and a folder at once, without blocking on them", func() {
		dir := GinkgoT().TempDir()
		fifo := filepath.Join(dir, "pipe.yaml")
		Expect(syscall.Mkfifo(fifo, 0o644)).To(Succeed())
		for _, path := range []string{fifo, "/dev/zero", dir} {
			_, err := scenarios.Load(path)
			Expect(err).To(MatchError(files.ErrNotRegular), path)
		}
	})

	It("refuses a file over MaxFileBytes", func() {
		path := filepath.Join(GinkgoT().TempDir(), "big.yaml")
		Expect(os.WriteFile(path, []byte(base+"description: \""+strings.Repeat("x", scenarios.MaxFileBytes)+"\"\n"), 0o644)).To(Succeed())
		_, err := scenarios.Load(path)
		Expect(err).To(MatchError(files.ErrTooLarge))
	})

	It("stops with the context's error when it ends, not a bad-input error", func() {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := scenarios.Parse("s.yaml", []byte(base), scenarios.WithContext(ctx))
		Expect(err).To(MatchError(context.Canceled))
		var bad *scenarios.Error
		Expect(errors.As(err, &bad)).To(BeFalse())
	})
})

var _ = Describe("a long chain of afters", func() {
	It("validates 4,000 steps each after the next", func() {
		_, err := scenarios.Parse("chain.yaml", afterChain(4000, false))
		Expect(err).NotTo(HaveOccurred())
	})

	It("reports a loop through 4,000 steps once, at its first member", func() {
		_, err := scenarios.Parse("chain.yaml", afterChain(4000, true))
		problems := problemsOf(err)
		Expect(problems).To(HaveLen(1))
		Expect(problems[0].Path).To(Equal("runbook[0].after"))
		Expect(problems[0].Message).To(HavePrefix("after forms a loop: s0 -> s1 -> s2 -> "))
	})
})

// BenchmarkLoadAfterChain measures validating a chain of 4,000 afters (the
// issue's 56 s case); the loop search is linear in the chain.
func BenchmarkLoadAfterChain(b *testing.B) {
	data := afterChain(4000, true)
	for b.Loop() {
		_, _ = scenarios.Parse("chain.yaml", data)
	}
}

var _ = Describe("a file with many problems", func() {
	It("lists the first MaxProblems and counts the rest", func() {
		var b strings.Builder
		b.WriteString(base)
		for i := range 500 {
			fmt.Fprintf(&b, "unknown_%d: 1\n", i)
		}
		_, err := scenarios.Parse("many.yaml", []byte(b.String()))
		problems := problemsOf(err)
		Expect(problems).To(HaveLen(scenarios.MaxProblems + 1))
		Expect(problems[scenarios.MaxProblems].Message).To(Equal("and 400 more problems after these 100 (fix these first)"))
	})
})

var _ = Describe("YAML syntax errors", func() {
	It("point at the line and column", func() {
		_, err := scenarios.Parse("s.yaml", []byte("name: t\ntopology: ion: two\n"))
		problems := problemsOf(err)
		Expect(problems).To(ConsistOf(SatisfyAll(HaveField("Line", 2), HaveField("Column", 14),
			HaveField("Message", ContainSubstring("mapping values are not allowed")))))
		Expect(err.Error()).To(HavePrefix("s.yaml:2:14: "))
	})

	It("give the column where the line's content starts when the parser says no more", func() {
		_, err := scenarios.Parse("s.yaml", []byte("name: t\nworkloads:\n  - {service: mongo\n"))
		problems := problemsOf(err)
		Expect(problems).To(HaveLen(1))
		Expect(problems[0].Column).To(BeNumerically(">", 0))
	})
})

var _ = Describe("limits on the work a file asks for", func() {
	It("counts the members a runbook adds against MongoDB's 50", func() {
		var b strings.Builder
		b.WriteString(base + "runbook:\n")
		for i := range 48 {
			fmt.Fprintf(&b, "  - {name: add-%d, action: mongo.add-member, params: {name: m%d, zone: us-west-1b}, at: 1m}\n", i, i)
		}
		_, err := scenarios.Parse("s.yaml", []byte(b.String()))
		problems := problemsOf(err)
		Expect(problems).To(HaveLen(1))
		Expect(problems[0].Path).To(Equal("topology.services[0].members"))
		Expect(problems[0].Message).To(ContainSubstring("would have 51 members (with those the runbook adds); MongoDB allows at most 50"))
	})

	It("refuses the total of several workloads over MaxOperations", func() {
		// 300 writes/s for 48h are 51,840,000 writes each: fine alone, too many together.
		text := strings.Replace(base, "duration: 10m", "duration: 48h", 1) + "  - {service: logs, rate: 300}\n  - {service: artifacts, rate: 300}\n"
		text = strings.Replace(text, "rate: 10}", "rate: 300}", 1)
		_, err := scenarios.Parse("s.yaml", []byte(text))
		problems := problemsOf(err)
		Expect(problems).To(ConsistOf(HaveField("Path", "workloads")))
		Expect(problems[0].Message).To(ContainSubstring("a run issues at most 100,000,000"))
	})

	It("refuses a cluster that a restore step rebuilds past Elasticsearch's shard limit", func() {
		_, err := scenarios.Parse("s.yaml", []byte(base+"runbook:\n  - {name: r, action: logs.restore-snapshot, params: {region: us-west-1, nodes: 500}, at: 1m}\n"))
		problems := problemsOf(err)
		Expect(problems).To(ConsistOf(HaveField("Path", "runbook[0].params.nodes")))
		Expect(problems[0].Message).To(ContainSubstring("at most 100"))
	})

	It("gives a rate too low for a time.Duration interval the longest interval, and a rate over a write per nanosecond 1 ns", func() {
		Expect(scenarios.Workload{Rate: 1e-10}.Interval()).To(Equal(time.Duration(math.MaxInt64)))
		Expect(scenarios.Workload{Rate: 100}.Interval()).To(Equal(10 * time.Millisecond))
		Expect(scenarios.Workload{Rate: 3e9}.Interval()).To(Equal(time.Nanosecond))
	})
})

var _ = Describe("node names a platform derives", func() {
	lower := func(n string) string { return strings.ToLower(strings.ReplaceAll(n, "_", "-")) }

	It("refuses two nodes, one added by the runbook, that derive one name", func() {
		_, err := scenarios.Parse("s.yaml", []byte(base+"runbook:\n  - {name: add, action: mongo.add-member, params: {name: Mongo-East-1A, zone: us-west-1b}, at: 1m}\n"),
			scenarios.WithNodeNames(lower))
		problems := problemsOf(err)
		Expect(problems).To(ConsistOf(HaveField("Path", "runbook[0].params.name")))
		Expect(problems[0].Message).To(ContainSubstring(`node names "mongo-east-1a" and "Mongo-East-1A" both become "mongo-east-1a"`))
	})

	It("accepts the built-in topology", func() {
		_, err := scenarios.Parse("s.yaml", []byte(base), scenarios.WithNodeNames(lower))
		Expect(err).NotTo(HaveOccurred())
	})
})

var _ = Describe("the simulator's parameters", func() {
	It("each accept their default and refuse a value of the wrong kind or outside their range", func() {
		for _, p := range simulator.Parameters() {
			Expect(p.Check(p.Default)).To(Succeed(), p.Name)
			Expect(p.Kind).NotTo(BeEmpty(), p.Name)
			lowest, highest := p.Range()
			// A default outside its own range would be refused if written out.
			probe := platform.Parameter{Name: p.Name, Kind: p.Kind, Min: p.Min, Max: p.Max, Default: "unset"}
			Expect(probe.Check(p.Default)).To(Succeed(), "%s: default %s outside %s..%s", p.Name, p.Default, lowest, highest)
			switch p.Kind {
			case platform.ParamBool:
				Expect(p.Check("maybe")).NotTo(Succeed(), p.Name)
				Expect(p.Check("1")).NotTo(Succeed(), "%s: booleans are exactly true or false", p.Name)
			case platform.ParamFloat:
				Expect(p.Check("NaN")).NotTo(Succeed(), p.Name)
				Expect(p.Check("+Inf")).NotTo(Succeed(), p.Name)
				Expect(p.Check("-1")).NotTo(Succeed(), p.Name)
			case platform.ParamInt:
				Expect(p.Check("-1")).NotTo(Succeed(), p.Name)
				Expect(p.Check("1.5")).NotTo(Succeed(), p.Name)
			case platform.ParamDuration:
				Expect(p.Check("-1s")).NotTo(Succeed(), p.Name)
				Expect(p.Check("2562047h")).NotTo(Succeed(), p.Name)
			}
		}
	})

	It("take percentages from 0 to 100 only: every *_percent and *_watermark", func() {
		percents := 0
		for _, p := range append(simulator.Parameters(), containers.Parameters()...) {
			if !strings.HasSuffix(p.Name, "_percent") && !strings.HasSuffix(p.Name, "_watermark") {
				continue
			}
			percents++
			lowest, highest := p.Range()
			Expect([]string{lowest, highest}).To(Equal([]string{"0", "100"}), p.Name)
			Expect(p.Check("100")).To(Succeed(), p.Name)
			Expect(p.Check("101")).NotTo(Succeed(), p.Name)
			Expect(p.Check("1000000")).NotTo(Succeed(), p.Name)
		}
		Expect(percents).To(BeNumerically(">=", 4), "disk.usage_percent and the three Elasticsearch watermarks at least")
		Expect(simulator.CheckParameter("es.flood_stage_watermark", "150")).To(MatchError(ContainSubstring("from 0 to 100")))
	})

	It("refuse the values the issue found failing only at run time", func() {
		for name, value := range map[string]string{
			"logs.bulk_size": "-5", "es.recovery_rate_mb": "0", "logs.ack_on_receipt": "maybe",
			"mongo.election_offset_fraction": "NaN", "mongo.election_timeout": "0s", "mongo.heartbeat_interval": "0s",
		} {
			Expect(simulator.CheckParameter(name, value)).NotTo(Succeed(), name)
		}
	})
})
