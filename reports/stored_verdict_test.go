package reports_test

import (
	"bytes"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/reports"
)

// summaryOf is the terminal summary of r with its verdict worked out again,
// as chaosdrill report prints it.
func summaryOf(r *reports.Report) string {
	r.Verdict = reports.RecomputeVerdict(r)
	var b bytes.Buffer
	reports.Summary(&b, r)
	return b.String()
}

var _ = Describe("the verdict sentence of a stored report", func() {
	It("says which fault, step or read-back cost the verdict when no check of the report says it", func() {
		r := passing()
		r.Faults[0].Status = reports.StatusNotRehearsed
		Expect(summaryOf(r)).To(ContainSubstring("NOT-REHEARSED: 3 of 3 checks held; fault f did not happen as written.\n"))

		r = passing()
		r.Runbook = []reports.StepReport{{Name: "promote", Action: "mongo.step-down", Status: reports.StatusFailed}}
		Expect(summaryOf(r)).To(ContainSubstring("FAIL: 3 of 3 checks held; runbook step promote failed.\n"))

		r = passing()
		r.Services["mongo"].ReadBack = reports.ReadBackFailed
		Expect(summaryOf(r)).To(ContainSubstring("UNVERIFIED: 3 of 3 checks held; the read-back of mongo failed.\n"))
	})

	It("counts a check stored as held that the stored figures miss as failed, and says so", func() {
		r := passing()
		r.Services["mongo"].Lost = 3
		out := summaryOf(r)
		Expect(out).To(ContainSubstring("FAIL mongo: lost writes <= 0 (baseline)"))
		Expect(out).To(ContainSubstring("FAIL: 2 of 3 checks held; 1 failed; mongo: lost writes <= 0 (baseline) is stored as held, but the stored figures miss it.\n"))
	})

	It("does not repeat what a check of the run already says", func() {
		r := reports.Build(regionLoss())
		r.Faults[0].Status = reports.StatusNotRehearsed
		r.Expectations = append(r.Expectations, reports.ExpectationResult{Name: "fault east rehearsed", Result: reports.VerdictNotRehearsed, Observed: "never"})
		Expect(summaryOf(r)).NotTo(ContainSubstring("fault east did not happen as written"))
	})

	It("writes one check in the singular", func() {
		r := passing()
		r.Expectations = r.Expectations[:1]
		Expect(summaryOf(r)).To(ContainSubstring("PASS: Everything the scenario schedules happened, and its one check held.\n"))
	})
})

var _ = Describe("a stored report that claims more than was checked, or is not one a run writes", func() {
	It("refuses a report of no checks, or no services, unless it is an error report", func() {
		r := passing()
		r.Expectations = []reports.ExpectationResult{}
		Expect(reports.Validate(r)).To(MatchError(ContainSubstring("expectations: none")))
		Expect(reports.RecomputeVerdict(r)).NotTo(Equal(reports.VerdictPass))
		r.Services = map[string]*reports.ServiceReport{}
		Expect(reports.Validate(r)).To(MatchError(ContainSubstring("services: none")))

		r.Verdict, r.Error = reports.VerdictError, &reports.RunError{Phase: "start", Message: "docker down"}
		Expect(reports.Validate(r)).To(Succeed())
	})

	It("refuses a negative duration and a scenario or service name a run cannot have, naming the field", func() {
		edits := map[string]func(*reports.Report){
			"duration_seconds: -5":                      func(r *reports.Report) { r.DurationSeconds = -5 },
			`scenario: "../../../tmp/x" is not a valid`: func(r *reports.Report) { r.Scenario = "../../../tmp/x" },
			`scenario: "evil\x1b]0;x\a" is not a valid`: func(r *reports.Report) { r.Scenario = "evil\x1b]0;x\a" },
			`services: "a/b" is not a valid`:            func(r *reports.Report) { r.Services["a/b"] = r.Services["mongo"] },
			`faults[0].name: "f\n" is not a valid`:      func(r *reports.Report) { r.Faults[0].Name = "f\n" },
		}
		for want, edit := range edits {
			r := passing()
			edit(r)
			Expect(reports.Validate(r)).To(MatchError(ContainSubstring(want)), want)
		}
		Expect(reports.Validate(passing())).To(Succeed())
	})
})

var _ = Describe("a stored report whose figures contradict each other", func() {
	// Each case is one edit to a report that reads back whole (a breaker
	// trial's): refused, naming the field, not rendered as if measured.
	It("is refused, naming what does not hold together", func() {
		minus := -3.0
		for _, c := range []struct {
			edit func(r *reports.Report)
			want string
		}{
			{func(r *reports.Report) { r.Services["mongo"].RTO = &minus }, "services.mongo.rto_seconds: -3 seconds, a length of time cannot be negative"},
			{func(r *reports.Report) { r.Services["mongo"].Unknown, r.Services["mongo"].UnknownPresent = 19, 999 }, "a part cannot exceed its whole"},
			{func(r *reports.Report) { r.Services["mongo"].Lost = 11 }, "a part cannot exceed its whole"},
			{func(r *reports.Report) { r.Faults[0].At = &minus }, "faults[0].at_seconds"},
			{func(r *reports.Report) { r.Expectations[2].Service = "nope" }, `expectations[2].service: "nope" is not a service of the report`},
			{func(r *reports.Report) { r.Verdict = reports.VerdictError }, "error: null, but the verdict is error"},
		} {
			r := passing()
			c.edit(r)
			Expect(reports.Validate(r)).To(MatchError(ContainSubstring(c.want)))
		}
		Expect(reports.Validate(passing())).To(Succeed())
	})
})
