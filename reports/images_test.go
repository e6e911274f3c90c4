package reports_test

import (
	"bytes"
	"encoding/json"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/reports"
	"github.com/chaosdrill/chaosdrill/scenarios"
)

var _ = Describe("the images a live run ran", func() {
	build := func(images map[string]string) *reports.Report {
		ledger := &reports.Ledger{}
		writeSteadily(ledger, "artifacts", 0, time.Second, 100*time.Millisecond, ackedFor(time.Millisecond))
		return reports.Build(&reports.Run{Scenario: "drill", Platform: "containers", Duration: time.Second, Ledger: ledger, Images: images,
			Expect: []scenarios.Expectation{scenarios.Baseline("artifacts")}})
	}

	It("are named in report.json and report.md, by service kind", func() {
		rep := build(map[string]string{"s3": "chaosdrill/standin-s3:dev", "mongo": "mirror.example/mongo:8.0"})
		var buf bytes.Buffer
		Expect(reports.WriteJSON(&buf, rep)).To(Succeed())
		var doc map[string]any
		Expect(json.Unmarshal(buf.Bytes(), &doc)).To(Succeed())
		Expect(doc).To(HaveKeyWithValue("images", map[string]any{"s3": "chaosdrill/standin-s3:dev", "mongo": "mirror.example/mongo:8.0"}))

		buf.Reset()
		Expect(reports.WriteMarkdown(&buf, rep)).To(Succeed())
		Expect(buf.String()).To(ContainSubstring("Images: mongo mirror.example/mongo:8.0, s3 chaosdrill/standin-s3:dev"))
	})

	It("are absent from a simulator run's report, which stays as it was", func() {
		var buf bytes.Buffer
		Expect(reports.WriteJSON(&buf, build(nil))).To(Succeed())
		var doc map[string]any
		Expect(json.Unmarshal(buf.Bytes(), &doc)).To(Succeed())
		Expect(doc).NotTo(HaveKey("images"))
		buf.Reset()
		Expect(reports.WriteMarkdown(&buf, build(nil))).To(Succeed())
		Expect(buf.String()).NotTo(ContainSubstring("Images:"))
	})

	It("survive a round trip through report.json, for chaosdrill report", func() {
		dir := GinkgoT().TempDir()
		Expect(reports.WriteAll(dir, build(map[string]string{"s3": "chaosdrill/standin-s3:dev"}))).To(Succeed())
		back, err := reports.Read(dir + "/" + reports.FileJSON)
		Expect(err).NotTo(HaveOccurred())
		Expect(back.Images).To(Equal(map[string]string{"s3": "chaosdrill/standin-s3:dev"}))
	})
})
