package reports_test

import (
	"bytes"
	"encoding/json"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/reports"
)

// Issue 9: the report records what a run drew from its seed, so that a seed
// of a sweep can be explained (this operator took 7 minutes) as well as
// reproduced.
var _ = Describe("what a run drew", func() {
	drawn := func() *reports.Report {
		run := regionLoss()
		run.Sampled = map[string]string{
			"faults.east.at":                         "12m31.308301s",
			"runbook.promote-west.operator_delay":    "54.691197s",
			"parameters.mongo.election_timeout":      "11.2s",
			"latency.mongo-east-1a|mongo-west-1a":    "30.948ms",
			"latency.client@us-east-1|mongo-east-1a": "1.2ms",
		}
		return reports.Build(run)
	}

	It("is in report.json under sampled, every value as drawn", func() {
		var buf bytes.Buffer
		Expect(reports.WriteJSON(&buf, drawn())).To(Succeed())
		var doc struct {
			Sampled map[string]string `json:"sampled"`
		}
		Expect(json.Unmarshal(buf.Bytes(), &doc)).To(Succeed())
		Expect(doc.Sampled).To(HaveLen(5))
		Expect(doc.Sampled).To(HaveKeyWithValue("runbook.promote-west.operator_delay", "54.691197s"))
	})

	It("is listed in report.md by name, with the link latencies as one range", func() {
		var buf bytes.Buffer
		Expect(reports.WriteMarkdown(&buf, drawn())).To(Succeed())
		md := buf.String()
		Expect(md).To(ContainSubstring("## Drawn from the seed"))
		Expect(md).To(ContainSubstring("| runbook.promote-west.operator_delay | 54.691s |"), "rounded to the millisecond like every time; report.json keeps it as drawn")
		Expect(md).To(ContainSubstring("| link latencies (2 links) | 1ms to 31ms |"))
		Expect(md).NotTo(ContainSubstring("latency.mongo-east-1a"))
	})

	It("says when nothing was drawn", func() {
		var buf bytes.Buffer
		Expect(reports.WriteMarkdown(&buf, reports.Build(regionLoss()))).To(Succeed())
		Expect(buf.String()).To(ContainSubstring("Nothing was drawn"))
		buf.Reset()
		Expect(reports.WriteHTML(&buf, reports.Build(regionLoss()))).To(Succeed())
		Expect(buf.String()).NotTo(ContainSubstring("Drawn from the seed"))
		buf.Reset()
		Expect(reports.WriteHTML(&buf, drawn())).To(Succeed())
		Expect(buf.String()).To(ContainSubstring("Drawn from the seed"))
	})
})
