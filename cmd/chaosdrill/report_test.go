package main

import (
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("chaosdrill report on a report whose stored verdict is contradicted", func() {
	It("says so on standard output too when every check failed, and says why beside the verdict", func() {
		dir := GinkgoT().TempDir()
		doc, write := storedReport(dir)
		for _, c := range doc["expectations"].([]any) {
			check := c.(map[string]any)
			check["result"], check["pass"] = "fail", false
		}
		path := write(doc)

		code, stdout, stderr := chaosdrill(dir, "report", path, "--out", "rendered")

		Expect(code).To(Equal(exitFail))
		Expect(stderr).To(ContainSubstring(`the stored verdict "pass" contradicts`))
		Expect(stdout).To(ContainSubstring("The stored verdict was PASS; the report's own checks, faults, runbook and read-backs give FAIL, shown here."))
		Expect(stdout).To(MatchRegexp(`(?m)^FAIL: 0 of \d+ checks held; \d+ failed\.$`))
	})

	It("names the fault that did not happen, not an empty reason", func() {
		dir := GinkgoT().TempDir()
		doc, write := storedReport(dir)
		fault := doc["faults"].([]any)[0].(map[string]any)
		fault["status"] = "not-rehearsed"
		path := write(doc)

		code, stdout, _ := chaosdrill(dir, "report", path, "--out", "rendered")

		Expect(code).To(Equal(exitFail))
		Expect(stdout).To(MatchRegexp(`(?m)^NOT-REHEARSED: \d+ of \d+ checks held; fault \S+ did not happen as written\.$`))
		Expect(stdout).NotTo(ContainSubstring("; ."))
		Expect(readFile(filepath.Join(dir, "rendered", "report.md"))).To(MatchRegexp(`fault \S+ did not happen as written`))
	})

	It("refuses a report of no checks, exit 2, writing nothing", func() {
		dir := GinkgoT().TempDir()
		doc, write := storedReport(dir)
		doc["expectations"] = []any{}
		path := write(doc)
		before := entries(dir)

		code, stdout, stderr := chaosdrill(dir, "report", path, "--out", "rendered")

		Expect(code).To(Equal(exitBadInput))
		Expect(stderr).To(ContainSubstring("expectations: none"))
		Expect(stdout).To(BeEmpty())
		Expect(entries(dir)).To(Equal(before))
	})
})

var _ = Describe("chaosdrill report compare with nothing to compare", func() {
	It("refuses two runs of different scenarios with exit 2, and compares them with --allow-different-scenarios", func() {
		dir := GinkgoT().TempDir()
		doc, write := storedReport(dir)
		doc["scenario"] = "renamed"
		renamed := write(doc)
		first := filepath.Join(dir, "first", "report.json")

		code, _, stderr := chaosdrill(dir, "report", "compare", first, renamed)
		Expect(code).To(Equal(exitBadInput))
		Expect(stderr).To(ContainSubstring("nothing to compare: no scenario is in both"))

		code, stdout, _ := chaosdrill(dir, "report", "compare", first, renamed, "--allow-different-scenarios")
		Expect(code).To(Equal(exitPass))
		Expect(stdout).To(ContainSubstring("is compared with scenario renamed in new"))
	})

	It("counts a service missing from the new report as a regression, exit 1", func() {
		dir := GinkgoT().TempDir()
		doc, write := storedReport(dir)
		// Base measured a second service, which new (the run as it was) lacks.
		services := doc["services"].(map[string]any)
		services["extra"] = services["logs"]
		base := write(doc)

		code, stdout, stderr := chaosdrill(dir, "report", "compare", base, filepath.Join(dir, "first", "report.json"))
		Expect(code).To(Equal(exitFail), stderr)
		Expect(stderr).To(ContainSubstring("regression: es-node-kill: service extra measured -> missing (the new report has no figures for it)"))
		Expect(stdout).To(ContainSubstring("services only in base: extra"))
	})
})
