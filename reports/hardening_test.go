package reports_test

import (
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/reports"
	"github.com/chaosdrill/chaosdrill/scenarios"
)

var _ = Describe("Build at the limits of time.Duration", func() {
	It("builds a report whose end time is near the largest duration without a panic", func() {
		ledger := &reports.Ledger{}
		id := ledger.Invoke(ledger.ServiceIndex("mongo"), 0)
		ledger.Complete(id, platform.Acked, time.Millisecond)
		ledger.SetPresent(uint64(id), true)
		r := reports.Build(&reports.Run{Scenario: "far", Platform: "sim", Duration: math.MaxInt64 - 1, Ledger: ledger,
			Expect: []scenarios.Expectation{scenarios.Baseline("mongo")}})
		Expect(r.Services["mongo"].Timeline.Acked).NotTo(BeEmpty())
		Expect(reports.Validate(r)).To(Succeed())
	})
})

var _ = Describe("Validate and RecomputeVerdict on a stored report", func() {
	It("accepts what Build makes, and its verdict stands", func() {
		r := reports.Build(regionLoss())
		Expect(reports.Validate(r)).To(Succeed())
		Expect(reports.RecomputeVerdict(r)).To(Equal(r.Verdict))
	})

	It("refuses a null service, unequal series, an unknown verdict or status, a negative count", func() {
		edits := map[string]func(*reports.Report){
			"services.mongo: null":                             func(r *reports.Report) { r.Services["mongo"] = nil },
			"services.mongo.timeline.unknown: 0 buckets":       func(r *reports.Report) { r.Services["mongo"].Timeline.Unknown = nil },
			`verdict: "great"`:                                 func(r *reports.Report) { r.Verdict = "great" },
			`faults[0].status: "fine"`:                         func(r *reports.Report) { r.Faults[0].Status = "fine" },
			"services.mongo.acked: a count cannot be negative": func(r *reports.Report) { r.Services["mongo"].Acked = -1 },
			"expectations[0].pass: true contradicts":           func(r *reports.Report) { r.Expectations[0].Pass = !r.Expectations[0].Pass },
		}
		for want, edit := range edits {
			r := reports.Build(regionLoss())
			edit(r)
			Expect(reports.Validate(r)).To(MatchError(ContainSubstring(want)), want)
		}
	})

	It("works the verdict out from the checks, the schedule and the read-backs, not the stored word", func() {
		r := passing()
		Expect(reports.RecomputeVerdict(r)).To(Equal(reports.VerdictPass))
		r.Faults[0].Status = reports.StatusNotRehearsed
		Expect(reports.RecomputeVerdict(r)).To(Equal(reports.VerdictNotRehearsed))
		r.Expectations[0].Result, r.Expectations[0].Pass = reports.VerdictFail, false
		Expect(reports.RecomputeVerdict(r)).To(Equal(reports.VerdictFail))
		r.Error = &reports.RunError{Phase: "run", Message: "boom"}
		Expect(reports.RecomputeVerdict(r)).To(Equal(reports.VerdictError))

		r = passing()
		r.Services["mongo"].ReadBack = reports.ReadBackFailed
		Expect(reports.RecomputeVerdict(r)).To(Equal(reports.VerdictUnverified))
	})
})

// passing is a small stored report whose checks, schedule and figures all
// say pass.
func passing() *reports.Report {
	zero, at := 0.0, 60.0
	return &reports.Report{
		Schema: reports.Schema, Scenario: "s", Verdict: reports.VerdictPass,
		Services: map[string]*reports.ServiceReport{"mongo": {Acked: 10, ReadBack: reports.ReadBackComplete, RTO: &zero}},
		Faults:   []reports.FaultReport{{Name: "f", Kind: "kill", Status: reports.StatusRehearsed, At: &at}},
		Expectations: []reports.ExpectationResult{
			{Name: "mongo: lost writes <= 0 (baseline)", Service: "mongo", Result: reports.VerdictPass, Pass: true, Baseline: true},
			{Name: "mongo: recovers (baseline)", Service: "mongo", Result: reports.VerdictPass, Pass: true, Baseline: true},
			{Name: "mongo: rto <= 20s", Service: "mongo", Result: reports.VerdictPass, Pass: true},
		},
	}
}

var _ = Describe("WriteAllContext", func() {
	It("leaves the folder as it was when interrupted half-way, and writes all four files otherwise", func() {
		dir := GinkgoT().TempDir()
		Expect(os.WriteFile(filepath.Join(dir, reports.FileJSON), []byte("earlier"), 0o644)).To(Succeed())
		r := reports.Build(regionLoss())
		ctx, cancel := context.WithCancel(context.Background())
		err := reports.WriteAllContext(ctx, dir, r, func(file string) {
			if file == reports.FileJUnit {
				cancel()
			}
		})
		Expect(err).To(MatchError(context.Canceled))
		names, _ := os.ReadDir(dir)
		Expect(names).To(HaveLen(1))
		kept, _ := os.ReadFile(filepath.Join(dir, reports.FileJSON))
		Expect(string(kept)).To(Equal("earlier"))

		Expect(reports.WriteAllContext(context.Background(), dir, r, nil)).To(Succeed())
		names, _ = os.ReadDir(dir)
		Expect(names).To(HaveLen(4))
		read, err := reports.Read(filepath.Join(dir, reports.FileJSON))
		Expect(err).NotTo(HaveOccurred())
		Expect(read.Verdict).To(Equal(r.Verdict))
	})

	It("refuses to read a FIFO or a device as a report", func() {
		_, err := reports.Read("/dev/zero")
		Expect(err).To(MatchError(ContainSubstring("not a regular file")))
		Expect(reports.WriteMarkdown(io.Discard, reports.Build(regionLoss()))).To(Succeed())
	})
})

var _ = Describe("RecomputeVerdict on edited figures", func() {
	It("fails a check stored as passed whose bound the stored figures miss", func() {
		r := passing()
		Expect(reports.Validate(r)).To(Succeed())
		r.Services["mongo"].Lost = 5
		Expect(reports.RecomputeVerdict(r)).To(Equal(reports.VerdictFail))
		r = passing()
		r.Services["mongo"].RTO = nil
		Expect(reports.RecomputeVerdict(r)).To(Equal(reports.VerdictFail))
		r = passing()
		late := 21.0
		r.Services["mongo"].RTO = &late
		Expect(reports.RecomputeVerdict(r)).To(Equal(reports.VerdictFail))
	})
})

var _ = Describe("BuildContext", func() {
	// An interrupt during the pass over a long ledger stops it, instead of
	// waiting seconds for a report nobody will read.
	It("stops with the context's error when the context has ended, and builds what Build builds otherwise", func() {
		ctx, cancel := context.WithCancel(context.Background())
		rep, err := reports.BuildContext(ctx, regionLoss())
		Expect(err).NotTo(HaveOccurred())
		Expect(rep).To(Equal(reports.Build(regionLoss())))
		cancel()
		rep, err = reports.BuildContext(ctx, regionLoss())
		Expect(err).To(MatchError(context.Canceled))
		Expect(rep).To(BeNil())
	})
})
