package main

import (
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("a run's overrides", func() {
	It("are recorded, with where each came from, in report.json, report.md and junit.xml; compare and trend warn when they differ", func() {
		dir := GinkgoT().TempDir()
		code, _, stderr := chaosdrill(dir, "run", library("mongo-stale-member"), "--set", "mongo.election_timeout=5s", "--out", "nights/night-2025-03-14", "--quiet")
		Expect(code).To(BeElementOf(exitPass, exitFail), stderr)
		night := filepath.Join(dir, "nights", "night-2025-03-14")
		Expect(reportJSON(night)["overrides"]).To(Equal([]any{
			map[string]any{"name": "mongo.election_timeout", "value": "5s", "source": "--set"},
			map[string]any{"name": "mongo.oplog_size_mb", "value": "60", "source": "file"},
		}))
		md := string(readFile(filepath.Join(night, "report.md")))
		Expect(md).To(ContainSubstring("## Overrides"))
		Expect(md).To(ContainSubstring("| mongo.election_timeout | 5s | run --set |"))
		Expect(md).To(ContainSubstring("| mongo.oplog_size_mb | 60 | the file's parameters |"))
		junit := string(readFile(filepath.Join(night, "junit.xml")))
		Expect(junit).To(ContainSubstring(`<property name="override.mongo.election_timeout" value="5s (--set)">`))
		Expect(junit).To(ContainSubstring(`<property name="override.mongo.oplog_size_mb" value="60 (file)">`))

		code, _, stderr = chaosdrill(dir, "run", library("mongo-stale-member"), "--out", "nights/night-2025-03-15", "--quiet")
		Expect(code).To(BeElementOf(exitPass, exitFail), stderr)
		Expect(reportJSON(filepath.Join(dir, "nights", "night-2025-03-15"))["overrides"]).To(HaveLen(1), "the file's own parameter only")

		_, _, stderr = chaosdrill(dir, "report", "compare", "nights/night-2025-03-14", "nights/night-2025-03-15")
		Expect(stderr).To(ContainSubstring("warning: mongo-stale-member: the runs overrode different parameters (base: mongo.election_timeout=5s (--set), mongo.oplog_size_mb=60 (file); new: mongo.oplog_size_mb=60 (file))"))
		code, _, stderr = chaosdrill(dir, "report", "trend", "nights/night-2025-03-14", "nights/night-2025-03-15", "--out", "trend")
		Expect(code).To(Equal(exitPass), stderr)
		Expect(stderr).To(ContainSubstring("warning: nights/night-2025-03-15: mongo-stale-member: the runs overrode different parameters"))
	})
})

var _ = Describe("a --set or --vary value that does not fit", func() {
	It("is blamed on the flag, not on the file's line, exit 2", func() {
		dir := GinkgoT().TempDir()
		code, _, stderr := chaosdrill(dir, "run", library("mongo-primary-kill"), "--set", "topology.regions=1", "--out", "o")
		Expect(code).To(Equal(exitBadInput))
		Expect(stderr).To(HavePrefix("chaosdrill: --set topology.regions=1 makes the scenario invalid (" + library("mongo-primary-kill") + " loads without it"))
		code, _, stderr = chaosdrill(dir, "sweep", library("mongo-primary-kill"), "--vary", "topology.regions=1,2", "--seeds", "1")
		Expect(code).To(Equal(exitBadInput))
		Expect(stderr).To(HavePrefix("chaosdrill: --vary topology.regions=1 makes the scenario invalid ("))
		Expect(filepath.Join(dir, "o")).NotTo(BeAnExistingFile())
	})

	It("refuses --set given twice for one field, naming both, exit 2", func() {
		dir := GinkgoT().TempDir()
		code, _, stderr := chaosdrill(dir, "run", library("mongo-primary-kill"), "--set", "mongo.election_timeout=5s", "--set", "mongo.election_timeout=10s", "--out", "o")
		Expect(code).To(Equal(exitBadInput))
		Expect(stderr).To(ContainSubstring("--set mongo.election_timeout=5s and --set mongo.election_timeout=10s both set mongo.election_timeout: give it once"))
		Expect(filepath.Join(dir, "o")).NotTo(BeAnExistingFile())
	})
})
