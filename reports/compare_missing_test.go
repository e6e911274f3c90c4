package reports_test

import (
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/reports"
)

var _ = Describe("report compare when part of base is missing from new", func() {
	set := func(name string, r *reports.Report) *reports.RunSet {
		dir := filepath.Join(GinkgoT().TempDir(), name)
		writeRun(dir, r, nil)
		return loadSet(dir)
	}

	It("counts a service of base that new's run lacks as a regression", func() {
		r := reports.Build(regionLoss())
		delete(r.Services, "artifacts")
		var kept []reports.ExpectationResult
		for _, e := range r.Expectations {
			if e.Service != "artifacts" {
				kept = append(kept, e)
			}
		}
		r.Expectations = kept
		c := reports.Compare(set("base", reports.Build(regionLoss())), set("new", r), reports.DefaultThresholds())
		Expect(c.Regressions).To(ContainElement(SatisfyAll(HaveField("Service", "artifacts"), HaveField("Metric", reports.MetricService),
			HaveField("New", "missing"))))
		Expect(c.Scenarios[0].OnlyInBase).To(Equal([]string{"artifacts"}))
	})

	It("compares nothing when no scenario is in both, and compares two runs across names on request", func() {
		other := reports.Build(regionLoss())
		other.Scenario = "other"
		base, renamed := set("base", reports.Build(regionLoss())), set("new", other)
		Expect(reports.Compare(base, renamed, reports.DefaultThresholds()).Scenarios).To(BeEmpty())

		c := reports.CompareAcross(base.Runs[0], renamed.Runs[0], "base", "new", reports.DefaultThresholds())
		Expect(c.Scenarios).To(HaveLen(1))
		Expect(c.Notes).To(ContainElement("scenario region-loss in base is compared with scenario other in new"))
		Expect(c.Regressions).To(BeEmpty())
	})
})
