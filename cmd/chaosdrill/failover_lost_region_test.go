package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/reports"
)

// The simulator's side of the live spec in standin_test.go: the same
// scenario (a failover to the region just lost) ends the same way on the
// simulator as on containers with the S3 stand-in.
var _ = Describe("a failover to the lost region, on the simulator", func() {
	It("ends with exit 1 and every report file: the step failed naming the endpoint, the artifacts unverified", func() {
		out := GinkgoT().TempDir()
		var stdout, stderr bytes.Buffer
		code := execute([]string{"run", testdata("artifacts-failover-to-lost-region.yaml"), "--seed", "1", "--out", out, "--quiet"}, &stdout, &stderr)
		Expect(code).To(Equal(exitFail), stdout.String()+stderr.String())
		rep := expectFailoverToLostRegion(out)
		Expect(rep.Services["artifacts"].LostWrites).To(BeEmpty(), "nothing is claimed lost either")

		raw := reportJSON(out)["services"].(map[string]any)["artifacts"].(map[string]any)
		Expect(raw).To(HaveKeyWithValue("lost", BeNil()), "not measured is null, not 0")
		Expect(raw).To(HaveKeyWithValue("rpo_seconds", BeNil()))
		Expect(stdout.String()).To(ContainSubstring("lost writes <= 200: observed lost writes not measured (read-back failed)"))
		Expect(stdout.String()).NotTo(ContainSubstring("observed 0 lost writes"))
	})
})

// expectFailoverToLostRegion checks, in the files a run wrote to out, what
// failing over to the lost region must give on either platform: verdict
// fail, the failed step named with why, the artifacts' writes unverified
// (not claimed kept or lost), and a failure in junit.xml. It returns the
// report for the platform's own checks.
func expectFailoverToLostRegion(out string) *reports.Report {
	GinkgoHelper()
	for _, f := range []string{reports.FileJSON, reports.FileJUnit, reports.FileMarkdown, reports.FileHTML} {
		Expect(filepath.Join(out, f)).To(BeAnExistingFile())
	}
	rep, err := reports.Read(filepath.Join(out, reports.FileJSON))
	Expect(err).NotTo(HaveOccurred())
	Expect(rep.Verdict).To(Equal(reports.VerdictFail))

	step := rep.Runbook[0]
	Expect(step.Name).To(Equal("artifacts-to-lost-region"))
	Expect(step.Status).To(Equal(reports.StatusFailed))
	Expect(step.Error).To(ContainSubstring("s3-us-east-1 does not answer"))

	artifacts := rep.Services["artifacts"]
	Expect(artifacts.ReadBack).To(Equal(reports.ReadBackFailed))
	Expect(artifacts.ReadBackError).To(ContainSubstring("s3-us-east-1"))
	var writeChecks []string
	for _, e := range rep.Expectations {
		if strings.HasPrefix(e.Name, "artifacts: ") {
			writeChecks = append(writeChecks, e.Result)
		}
	}
	Expect(writeChecks).To(HaveLen(3), "the file's two bounds and the read-back")
	Expect(writeChecks).To(HaveEach(reports.VerdictUnverified), "nothing about the artifacts' writes can be claimed")
	Expect(rep.Expectations).To(ContainElement(And(
		HaveField("Name", ContainSubstring("artifacts-to-lost-region")),
		HaveField("Result", reports.VerdictFail),
		HaveField("Observed", ContainSubstring("s3-us-east-1 does not answer")),
	)), "the failed step is a check of its own, naming the step and why")

	junit, err := os.ReadFile(filepath.Join(out, reports.FileJUnit))
	Expect(err).NotTo(HaveOccurred())
	Expect(string(junit)).To(ContainSubstring("artifacts-to-lost-region"))
	Expect(string(junit)).To(ContainSubstring("<failure"))
	return rep
}

var _ = Describe("validate --platform containers", func() {
	It("refuses, naming the file, line and field, a live parameter the containers platform would refuse only when it starts", func() {
		dir := GinkgoT().TempDir()
		Expect(os.WriteFile(filepath.Join(dir, "live-params.yaml"), []byte(`name: live-params
topology: ion
duration: 2m
parameters:
  mongo.caught_up_lag: 0s
  logs.bulk_size: "0"
workloads:
  - {service: logs, rate: 100}
`), 0o644)).To(Succeed())
		code, stdout, stderr := chaosdrill(dir, "validate", "live-params.yaml", "--platform", "containers")
		Expect(code).To(Equal(exitBadInput), stdout+stderr)
		Expect(stdout + stderr).To(ContainSubstring("live-params.yaml:5:"))
		Expect(stdout + stderr).To(ContainSubstring("parameters.mongo.caught_up_lag: want a duration from 1ms"))
		Expect(stdout + stderr).To(ContainSubstring("live-params.yaml:6:"))
		Expect(stdout + stderr).To(ContainSubstring("parameters.logs.bulk_size: want a whole number from 1"))
	})
})
