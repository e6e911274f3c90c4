package reports_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/reports"
	"github.com/chaosdrill/chaosdrill/runner"
	"github.com/chaosdrill/chaosdrill/scenarios"
	"github.com/chaosdrill/chaosdrill/simulator"
)

// update rewrites the golden files from what the code writes now:
//
//	go test ./reports/ -update
//
// then read the diff: commit it only if every change is one you meant.
var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// goldenRun is the library's east-region-outage on the simulator with seed
// 1, and a fixed wall clock for junit.xml (the real one is in run.json and
// differs on every run).
func goldenRun() (*reports.Report, *reports.RunInfo) {
	GinkgoHelper()
	sc, err := scenarios.Load(filepath.Join("..", "scenarios", "east-region-outage.yaml"), scenarios.WithParameters(simulator.Parameters()))
	Expect(err).NotTo(HaveOccurred())
	r, err := runner.Run(context.Background(), sc, func(cfg platform.Config) (platform.Platform, error) { return simulator.New(cfg) }, runner.Options{Seed: 1})
	Expect(err).NotTo(HaveOccurred())
	started := time.Date(2025, 3, 14, 3, 23, 0, 0, time.UTC)
	return r, reports.NewRunInfo(started, started.Add(1234*time.Millisecond), "chaosdrill golden")
}

// matchGolden compares what was written with the golden file, or rewrites
// the file with -update.
func matchGolden(name string, got []byte) {
	GinkgoHelper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		Expect(os.MkdirAll(filepath.Dir(path), 0o755)).To(Succeed())
		Expect(os.WriteFile(path, got, 0o644)).To(Succeed())
		return
	}
	want, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred(), "no golden file: run go test ./reports/ -update and read what it wrote")
	Expect(string(got)).To(Equal(string(want)), "%s differs from what the code writes now; if the change is meant, run go test ./reports/ -update and commit the diff", path)
}

var _ = Describe("golden files of east-region-outage, seed 1, on the simulator", func() {
	It("writes report.md as the golden file says", func() {
		r, _ := goldenRun()
		var md bytes.Buffer
		Expect(reports.WriteMarkdown(&md, r)).To(Succeed())
		matchGolden("east-region-outage-seed1.report.md", md.Bytes())
	})

	It("writes junit.xml as the golden file says", func() {
		r, info := goldenRun()
		var junit bytes.Buffer
		Expect(reports.WriteJUnitRun(&junit, r, info)).To(Succeed())
		matchGolden("east-region-outage-seed1.junit.xml", junit.Bytes())
	})
})
