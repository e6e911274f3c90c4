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
