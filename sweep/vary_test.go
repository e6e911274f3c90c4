package sweep_test

import (
	"context"
	"math"
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/runner"
	"github.com/chaosdrill/chaosdrill/scenarios"
	"github.com/chaosdrill/chaosdrill/simulator"
	"github.com/chaosdrill/chaosdrill/sweep"
)

func library(name string) string { return filepath.Join("..", "scenarios", name+".yaml") }

// loadWith loads a library scenario with field set to value.
func loadWith(name, field, value string) (*scenarios.Scenario, error) {
	data, err := os.ReadFile(library(name))
	Expect(err).NotTo(HaveOccurred())
	return scenarios.Parse(library(name), data, scenarios.WithParameters(simulator.Parameters()), scenarios.WithEdit(sweep.Edit(field, value)))
}

var _ = Describe("a what-if", func() {
	known := simulator.Parameters()

	DescribeTable("expands ranges into evenly spaced values, both ends included",
		func(spec string, want []string) {
			v, err := sweep.ParseVary(spec, known)
			Expect(err).NotTo(HaveOccurred())
			Expect(v.Values).To(Equal(want))
		},
		Entry("durations", "topology.latency.inter_region=20ms..200ms/10",
			[]string{"20ms", "40ms", "60ms", "80ms", "100ms", "120ms", "140ms", "160ms", "180ms", "200ms"}),
		Entry("durations to the coarsest unit of the ends", "mongo.election_timeout=10s..1m/4", []string{"10s", "27s", "43s", "1m0s"}),
		Entry("numbers", "workload.mongo.rate=100..400/4", []string{"100", "200", "300", "400"}),
		Entry("fractions", "workload.mongo.rate=0.5..1/3", []string{"0.5", "0.75", "1"}),
		Entry("a list", "workload.mongo.write_concern=majority,multiRegion", []string{"majority", "multiRegion"}),
	)

	DescribeTable("refuses what cannot be swept, saying why",
		func(spec, want string) {
			_, err := sweep.ParseVary(spec, known)
			Expect(err).To(MatchError(ContainSubstring(want)))
		},
		Entry(nil, "net.cross_region_latency=20ms..200ms/10", "topology.latency.inter_region"),
		Entry(nil, "mongo.election_timeuot=5s,10s", `did you mean "mongo.election_timeout"`),
		Entry(nil, "workload.mongo.write_concern=majority", "one value compares nothing"),
		Entry(nil, "workload.mongo.write_concern=1,1", "given twice"),
		Entry(nil, "workload.mongo.bursts=1,2", "cannot be varied"),
		Entry(nil, "workload.mongo=1,2", "workload.SERVICE.FIELD"),
		Entry(nil, "topology.latency.inter_region=200ms..20ms/3", "LOW must be below HIGH"),
		Entry(nil, "topology.latency.inter_region=1..2/3", "two durations"),
		Entry(nil, "mongo.election_timeout=1ms..2ms/21", "from 2 to 20"),
		Entry(nil, "workload.mongo.write_concern", "NAME=V1,V2"),
	)

	It("sets a model parameter, a workload field or a topology field as if the file said so", func() {
		sc, err := loadWith("mongo-primary-kill", "mongo.election_timeout", "5s")
		Expect(err).NotTo(HaveOccurred())
		Expect(sc.Parameters["mongo.election_timeout"].String()).To(Equal("5s"))
		sc, err = loadWith("east-region-outage", "workload.mongo.write_concern", "multiRegion")
		Expect(err).NotTo(HaveOccurred())
		Expect(sc.Workloads[0].WriteConcern).To(Equal("multiRegion"))
		sc, err = loadWith("east-region-outage", "topology.latency.inter_region", "80ms")
		Expect(err).NotTo(HaveOccurred())
		Expect(sc.Topology.Resolved.Latency.InterRegion).To(Equal(platform.LinkDelay{Median: platform.Duration(80e6)}))
	})

	It("writes a built-in topology out inline without changing it", func() {
		sc, err := loadWith("east-region-outage", "topology.name", "ion")
		Expect(err).NotTo(HaveOccurred())
		Expect(sc.Topology.Inline).NotTo(BeNil(), "the edit wrote the topology out")
		Expect(sc.Topology.Resolved).To(Equal(platform.Ion()))
	})

	It("reports a bad value at the line of the field it replaces", func() {
		_, err := loadWith("east-region-outage", "workload.mongo.write_concern", "bogus")
		Expect(err).To(MatchError(ContainSubstring("east-region-outage.yaml:22:")))
		Expect(err).To(MatchError(ContainSubstring("workloads[0].write_concern")))
		_, err = loadWith("east-region-outage", "workload.logs.read_concern", "majority")
		Expect(err).To(MatchError(ContainSubstring(`no read workload of service "logs"`)))
	})
})

var _ = Describe("what a sweep keeps of a run", func() {
	It("is the report's verdict, unmet checks and figures", func() {
		sc, err := scenarios.Load(library("east-region-outage"), scenarios.WithParameters(simulator.Parameters()))
		Expect(err).NotTo(HaveOccurred())
		rep, err := runner.Run(context.Background(), sc, func(cfg platform.Config) (platform.Platform, error) { return simulator.New(cfg) }, runner.Options{Seed: 3})
		Expect(err).NotTo(HaveOccurred())
		services := []string{"artifacts", "logs", "mongo"}
		s := sweep.Summarise(rep, services)
		Expect(s.Seed).To(Equal(uint64(3)))
		Expect(s.Verdict).To(Equal(rep.Verdict))
		for i, name := range services {
			r := rep.Services[name]
			f := s.Services[i].Figures
			Expect(s.Services[i].Unmeasured).To(BeEmpty())
			Expect(f[0]).To(Equal(*r.RTO))
			Expect(f[1]).To(Equal(r.RPO))
			Expect(f[2]).To(Equal(float64(r.Lost)))
			Expect(f[3]).To(Equal(float64(r.Unknown)))
			Expect(f[4]).To(Equal(r.WriteLatency.P50))
			Expect(f[5]).To(Equal(r.WriteLatency.P99))
		}
		// The expectation checks open every report.
		Expect(sweep.ExpectationRows(sc)).To(Equal(7))
		for _, c := range rep.Expectations[:7] {
			Expect(c.Name).NotTo(ContainSubstring("rehearsed"))
		}
		Expect(math.IsNaN(s.Services[0].Figures[0])).To(BeFalse())
	})
})
