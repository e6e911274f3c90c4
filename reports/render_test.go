package reports_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/reports"
	"github.com/chaosdrill/chaosdrill/scenarios"
)

// regionLoss is a run with two services, an unrecovered outage, lost
// writes, events, a runbook and one passing and one failing expectation.
func regionLoss() *reports.Run {
	ledger := &reports.Ledger{}
	writeSteadily(ledger, "mongo", 0, 60*time.Second, spacing, func(at time.Duration) outcome {
		switch {
		case at < 9*time.Second:
			return outcome{platform.Acked, true, latency}
		case at < 10*time.Second:
			return outcome{platform.Acked, false, latency}
		case at < 40*time.Second:
			return outcome{platform.Unknown, at < 10200*time.Millisecond, 10 * time.Second}
		}
		return outcome{platform.Acked, true, 40 * time.Millisecond}
	})
	writeSteadily(ledger, "artifacts", 0, 60*time.Second, time.Second, func(at time.Duration) outcome {
		if at >= 10*time.Second {
			return outcome{platform.Failed, false, latency}
		}
		return outcome{platform.Acked, true, latency}
	})
	healed := 50 * time.Second
	done := 39 * time.Second
	return &reports.Run{
		Scenario:    "region-loss",
		Description: `lose us-east <script>alert(1)</script> & rebuild | west, "quoted" \ [a] {b}`,
		Platform:    "sim",
		Seed:        42,
		Duration:    60 * time.Second,
		Ledger:      ledger,
		Faults: []reports.FaultRecord{{
			Name: "east", Kind: scenarios.FaultKill, Target: "region:us-east-1", Nodes: []string{"m1", "m2"},
			Injected: true, At: 10 * time.Second, HealedAt: &healed,
		}},
		Steps: []reports.StepRecord{{Name: "promote-west", Action: platform.ActionMongoForceReconfigure, Started: true, StartedAt: 30 * time.Second, DoneAt: &done}},
		Events: []platform.Event{
			{At: 10 * time.Second, Service: "mongo", What: platform.EventReplicationLag, Node: "m3", Detail: "1.2s"},
			{At: 10 * time.Second, Service: "mongo", What: platform.EventPrimaryLost},
			{At: 4 * time.Second, Service: "artifacts", What: platform.EventSyncCompleted, Detail: "us-west-1"},
			{At: 39 * time.Second, Service: "mongo", What: platform.EventPrimaryElected, Node: "m3"},
		},
		Expect: []scenarios.Expectation{
			{Service: "mongo", RTOMax: pd(20 * time.Second)},
			{Service: "mongo", LostWrites: intPointer(0)},
			{Service: "artifacts", Recovers: boolPointer(false)},
		},
	}
}

var _ = Describe("Writing reports", func() {
	var report *reports.Report

	BeforeEach(func() {
		report = reports.Build(regionLoss())
	})

	It("writes the same bytes for the same input", func() {
		first, second := GinkgoT().TempDir(), GinkgoT().TempDir()
		Expect(reports.WriteAll(first, reports.Build(regionLoss()))).To(Succeed())
		Expect(reports.WriteAll(second, reports.Build(regionLoss()))).To(Succeed())

		for _, name := range []string{reports.FileJSON, reports.FileJUnit, reports.FileMarkdown, reports.FileHTML} {
			a, err := os.ReadFile(filepath.Join(first, name))
			Expect(err).NotTo(HaveOccurred())
			b, err := os.ReadFile(filepath.Join(second, name))
			Expect(err).NotTo(HaveOccurred())
			Expect(a).NotTo(BeEmpty())
			Expect(bytes.Equal(a, b)).To(BeTrue(), name)
		}
	})

	It("creates the output folder", func() {
		dir := filepath.Join(GinkgoT().TempDir(), "runs", "one")

		Expect(reports.WriteAll(dir, report)).To(Succeed())

		entries, err := os.ReadDir(dir)
		Expect(err).NotTo(HaveOccurred())
		Expect(entries).To(HaveLen(4))
	})

	It("writes report.json with the documented fields", func() {
		var buf bytes.Buffer
		Expect(reports.WriteJSON(&buf, report)).To(Succeed())

		var doc map[string]any
		Expect(json.Unmarshal(buf.Bytes(), &doc)).To(Succeed())
		Expect(doc).To(HaveKeyWithValue("schema", "chaosdrill.report/v2"))
		Expect(doc).To(HaveKeyWithValue("verdict", "fail"))
		Expect(doc).To(HaveKeyWithValue("seed", 42.0))
		for _, key := range []string{"scenario", "description", "platform", "duration_seconds", "services", "faults", "runbook", "events", "expectations"} {
			Expect(doc).To(HaveKey(key))
		}
		mongo := doc["services"].(map[string]any)["mongo"].(map[string]any)
		for _, key := range []string{"acked", "failed", "unknown", "unknown_present", "lost", "lost_after_fault", "rto_seconds", "rpo_seconds",
			"redundancy_seconds", "write_latency_ms", "lost_writes", "last_sync_age_seconds", "replication_lag_seconds",
			"outage_windows", "outage_windows_total", "unavailable_seconds", "reads"} {
			Expect(mongo).To(HaveKey(key))
		}
		Expect(mongo["write_latency_ms"]).To(SatisfyAll(HaveKey("p50"), HaveKey("p90"), HaveKey("p99"), HaveKey("max")))
		Expect(mongo["lost_writes"]).To(ContainElement(SatisfyAll(HaveKey("op"), HaveKey("acked_at_seconds"))))
		Expect(mongo["replication_lag_seconds"]).To(HaveKeyWithValue("m3", 1.2))
		Expect(doc["faults"]).To(ConsistOf(SatisfyAll(
			HaveKeyWithValue("name", "east"), HaveKey("kind"), HaveKey("target"), HaveKey("nodes"),
			HaveKeyWithValue("at_seconds", 10.0), HaveKeyWithValue("healed_at_seconds", 50.0))))
		Expect(doc["runbook"]).To(ConsistOf(SatisfyAll(HaveKey("name"), HaveKey("action"), HaveKey("started_at_seconds"), HaveKey("done_at_seconds"))))
		Expect(doc["events"]).To(HaveEach(SatisfyAll(HaveKey("at_seconds"), HaveKey("service"), HaveKey("what"), HaveKey("node"), HaveKey("detail"))))
		Expect(doc["expectations"]).To(HaveEach(SatisfyAll(HaveKey("name"), HaveKey("service"), HaveKey("pass"), HaveKey("observed"))))
	})

	It("orders events by time", func() {
		var at []float64
		for _, e := range report.Events {
			at = append(at, e.At)
		}
		Expect(at).To(Equal([]float64{4, 10, 10, 39}))
		Expect(report.Events[1].What).To(Equal(platform.EventReplicationLag))
	})

	It("reads back a report.json into the same report", func() {
		path := filepath.Join(GinkgoT().TempDir(), reports.FileJSON)
		Expect(reports.WriteAll(filepath.Dir(path), report)).To(Succeed())

		read, err := reports.Read(path)

		Expect(err).NotTo(HaveOccurred())
		var a, b bytes.Buffer
		Expect(reports.WriteJSON(&a, report)).To(Succeed())
		Expect(reports.WriteJSON(&b, read)).To(Succeed())
		Expect(b.String()).To(Equal(a.String()))
	})

	It("writes junit.xml with a failure for each failing expectation", func() {
		var buf bytes.Buffer
		Expect(reports.WriteJUnit(&buf, report)).To(Succeed())

		var suites struct {
			Suites []struct {
				Name       string `xml:"name,attr"`
				Tests      int    `xml:"tests,attr"`
				Failures   int    `xml:"failures,attr"`
				Properties []struct {
					Name  string `xml:"name,attr"`
					Value string `xml:"value,attr"`
				} `xml:"properties>property"`
				Cases []struct {
					Name    string `xml:"name,attr"`
					Failure *struct {
						Message string `xml:"message,attr"`
					} `xml:"failure"`
				} `xml:"testcase"`
			} `xml:"testsuite"`
		}
		Expect(xml.Unmarshal(buf.Bytes(), &suites)).To(Succeed())
		Expect(suites.Suites).To(HaveLen(1))
		suite := suites.Suites[0]
		Expect(suite.Name).To(Equal("region-loss"))
		Expect(suite.Tests).To(Equal(3))
		Expect(suite.Failures).To(Equal(2))
		properties := map[string]string{}
		for _, p := range suite.Properties {
			properties[p.Name] = p.Value
		}
		Expect(properties).To(HaveKeyWithValue("seed", "42"))
		Expect(properties).To(HaveKeyWithValue("platform", "sim"))
		Expect(suite.Cases[0].Name).To(Equal("mongo: rto <= 20s"))
		Expect(suite.Cases[0].Failure).NotTo(BeNil())
		Expect(suite.Cases[0].Failure.Message).To(Equal("fail: observed rto 30.04s"))
		Expect(suite.Cases[1].Failure).NotTo(BeNil())
		Expect(suite.Cases[2].Failure).To(BeNil())
	})

	It("writes report.html with inline SVG charts and escaped text", func() {
		var buf bytes.Buffer
		Expect(reports.WriteHTML(&buf, report)).To(Succeed())
		html := buf.String()

		Expect(html).To(ContainSubstring("<svg"))
		Expect(strings.Count(html, "<svg")).To(BeNumerically(">=", 3), "legend plus one chart per service")
		Expect(html).NotTo(ContainSubstring("<script>"))
		Expect(html).To(ContainSubstring("&lt;script&gt;alert(1)&lt;/script&gt;"))
		Expect(html).To(ContainSubstring(`class="band-fault"`))
		Expect(html).To(ContainSubstring("promote-west"))
		Expect(html).NotTo(MatchRegexp(`(?i)(src|href)=`), "no external assets")
	})

	It("answers the operator's questions in report.md", func() {
		var buf bytes.Buffer
		Expect(reports.WriteMarkdown(&buf, report)).To(Succeed())
		md := buf.String()

		Expect(md).To(ContainSubstring("m3 1.2s"))
		Expect(md).To(ContainSubstring("mongo: RTO 30.04s, its longest outage: no write issued from 10s on was served until one was acknowledged at 40.04s (fault at 10s; 1 outage window in the run)"))
		Expect(md).To(ContainSubstring("artifacts: not within the run"))
		Expect(md).To(ContainSubstring("artifacts: the last completed sync or snapshot before the fault was 6s old"))
		Expect(md).To(ContainSubstring("| FAIL | mongo: lost writes <= 0 | 10 lost writes |"))
		Expect(md).NotTo(ContainSubstring("<script>"))
	})

	It("summarises per service and gives the verdict", func() {
		var buf bytes.Buffer
		reports.Summary(&buf, report)
		out := buf.String()

		Expect(out).To(ContainSubstring("region-loss"))
		Expect(out).To(MatchRegexp(`mongo\s+300\s+0\s+300\s+10\s+30\.04s\s+995ms`))
		Expect(out).To(ContainSubstring("FAIL mongo: lost writes <= 0: observed 10 lost writes"))
		Expect(out).To(ContainSubstring("FAIL: 1 of 3 checks held; 2 failed."))
	})
})
