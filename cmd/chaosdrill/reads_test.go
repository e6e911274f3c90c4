package main

import (
	"fmt"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/reports"
)

// Read workloads through the command line: the platform the CLI builds
// (wrapped for its phase hooks) must still hand the runner its readers.
var _ = Describe("read workloads on the command line", func() {
	It("runs a scenario with a read workload and reports its reads", func() {
		dir := GinkgoT().TempDir()
		code, stdout, stderr := chaosdrill(dir, "run", library("mongo-secondary-reads"), "--seed", "1", "--out", "out")
		Expect(code).To(Equal(exitPass), stderr)
		rep, err := reports.Read(filepath.Join(dir, "out", reports.FileJSON))
		Expect(err).NotTo(HaveOccurred())
		reads := rep.Services["mongo"].Reads
		Expect(reads).NotTo(BeNil())
		// The summary line says what report.json says.
		Expect(stdout).To(ContainSubstring(fmt.Sprintf("mongo reads: %d ok, %d stale, 0 dirty, 0 failed, 0 unknown", reads.OK, reads.Stale)))
		Expect(reads.Stale).To(BeNumerically(">", 0), "the secondary lags the primary")
		// Only the east secondary serves: never the primary (secondaryPreferred), never the hidden west member.
		Expect(reads.ServedBy).To(HaveLen(1))
		Expect(reads.ServedBy).To(HaveKeyWithValue("mongo-east-1b", reads.OK+reads.Stale))
	})

	It("plans reads as reads, with their preference, concern and bounds", func() {
		code, stdout, _ := chaosdrill(GinkgoT().TempDir(), "run", library("mongo-secondary-reads"), "--dry-run")
		Expect(code).To(Equal(exitPass))
		Expect(stdout).To(MatchRegexp(`mongo\s+100 reads/s, about 12000 reads, timeout 10s, read preference secondaryPreferred, read concern local`))
		Expect(stdout).To(MatchRegexp(`mongo\s+lost writes <= 0, dirty reads <= 0, recovers`))
	})
})
