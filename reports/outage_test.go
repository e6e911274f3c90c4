package reports_test

import (
	"bytes"
	"encoding/json"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/reports"
	"github.com/chaosdrill/chaosdrill/scenarios"
)

// RTO measures an outage (issue 17, item 5): the longest run of writes
// that got no service, not the time from the fault to the last hiccup.
var _ = Describe("Outage windows and RTO", func() {
	var (
		ledger *reports.Ledger
		run    *reports.Run
	)

	BeforeEach(func() {
		ledger = &reports.Ledger{}
		run = &reports.Run{Scenario: "drill", Platform: "sim", Duration: 3 * time.Minute, Ledger: ledger,
			Faults: []reports.FaultRecord{{Name: "f", Kind: scenarios.FaultLatency, Injected: true, At: 0}}}
	})

	It("gives an RTO of milliseconds, not 131 s, when one write fails 131 s after the fault (a takeover interrupting writes briefly)", func() {
		writeSteadily(ledger, "mongo", 0, 3*time.Minute, spacing, func(at time.Duration) outcome {
			if at == 131*time.Second {
				return outcome{platform.Failed, false, time.Millisecond}
			}
			return outcome{platform.Acked, true, latency}
		})

		s := reports.Build(run).Services["mongo"]

		Expect(s.Failed).To(BeNumerically("==", 1))
		// From the failed write's issue to the next write's acknowledgement.
		Expect(s.RTO).To(HaveValue(BeNumerically("~", (spacing + latency).Seconds(), 1e-6)))
		Expect(s.OutageStart).To(HaveValue(BeNumerically("==", 131)))
		Expect(s.OutageWindows).To(Equal([]reports.OutageWindow{{Start: 131, End: floatPointer(131.105), Seconds: floatPointer(0.105), Failed: 1}}))
	})

	It("gives RTO 0 and no outage window when 2 s of latency slows every write but none fails", func() {
		writeSteadily(ledger, "mongo", 0, 3*time.Minute, spacing, func(at time.Duration) outcome {
			if at >= 30*time.Second {
				return outcome{platform.Acked, true, 2 * time.Second}
			}
			return outcome{platform.Acked, true, latency}
		})

		s := reports.Build(run).Services["mongo"]

		Expect(s.RTO).To(HaveValue(BeZero()))
		Expect(s.OutageStart).To(BeNil())
		Expect(s.OutageWindows).To(BeEmpty())
		Expect(s.UnavailableSeconds).To(BeZero())
		Expect(s.WriteLatency.Max).To(BeNumerically("==", 2000))
	})

	It("takes the longest window as the RTO and lists every window with its writes by outcome", func() {
		run.Faults[0].At = 10 * time.Second
		writeSteadily(ledger, "mongo", 0, 3*time.Minute, spacing, func(at time.Duration) outcome {
			switch {
			case at >= 20*time.Second && at < 25*time.Second:
				return outcome{platform.Unknown, false, 10 * time.Second}
			case at >= 25*time.Second && at < 26*time.Second:
				return outcome{platform.Failed, false, time.Millisecond}
			case at >= 60*time.Second && at < 62*time.Second:
				return outcome{platform.Acked, false, latency} // acked, then rolled back
			}
			return outcome{platform.Acked, true, latency}
		})

		s := reports.Build(run).Services["mongo"]

		Expect(s.RTO).To(HaveValue(BeNumerically("~", (6*time.Second + latency).Seconds(), 1e-6)))
		Expect(s.OutageStart).To(HaveValue(BeNumerically("==", 20)))
		Expect(s.OutageWindowsTotal).To(BeNumerically("==", 2))
		Expect(s.OutageWindows).To(Equal([]reports.OutageWindow{
			{Start: 20, End: floatPointer(26.005), Seconds: floatPointer(6.005), Unknown: 50, Failed: 10},
			{Start: 60, End: floatPointer(62.005), Seconds: floatPointer(2.005), Lost: 20},
		}))
		Expect(s.UnavailableSeconds).To(BeNumerically("~", 8.01, 1e-6))
	})

	It("ends a window at the earliest acknowledgement of a write issued since, when acknowledgements come out of order (a shipper's retries)", func() {
		s := ledger.ServiceIndex("logs")
		issue := func(at time.Duration, o platform.Outcome, acked time.Duration) {
			id := ledger.Invoke(s, at)
			ledger.Complete(id, o, acked)
			ledger.SetPresent(uint64(id), o == platform.Acked)
		}
		issue(10*time.Second, platform.Acked, 10100*time.Millisecond)
		issue(20*time.Second, platform.Failed, 20100*time.Millisecond)
		issue(21*time.Second, platform.Acked, 40*time.Second) // retried for 19 s
		issue(22*time.Second, platform.Acked, 30*time.Second) // the first the client saw succeed
		issue(23*time.Second, platform.Unknown, 33*time.Second)
		issue(31*time.Second, platform.Failed, 31100*time.Millisecond) // after the service was seen again: a new outage
		issue(32*time.Second, platform.Acked, 32100*time.Millisecond)

		r := reports.Build(run).Services["logs"]

		Expect(r.OutageWindows).To(Equal([]reports.OutageWindow{
			{Start: 20, End: floatPointer(30), Seconds: floatPointer(10), Failed: 1, Unknown: 1},
			{Start: 31, End: floatPointer(32.1), Seconds: floatPointer(1.1), Failed: 1},
		}))
		Expect(r.RTO).To(HaveValue(BeNumerically("==", 10)))
	})

	It("counts an outage the fault caused from the fault, though writes in flight or lost with it were issued before", func() {
		run.Faults[0].At = 10 * time.Second
		writeSteadily(ledger, "mongo", 0, 60*time.Second, spacing, func(at time.Duration) outcome {
			switch {
			case at >= 9*time.Second && at < 10*time.Second:
				return outcome{platform.Acked, false, latency} // acknowledged, lost with the region
			case at >= 10*time.Second && at < 40*time.Second:
				return outcome{platform.Unknown, false, 10 * time.Second}
			}
			return outcome{platform.Acked, true, latency}
		})

		s := reports.Build(run).Services["mongo"]

		Expect(s.OutageWindows).To(HaveLen(1))
		Expect(s.OutageWindows[0].Start).To(BeNumerically("==", 9))
		Expect(s.OutageStart).To(HaveValue(BeNumerically("==", 10)))
		Expect(s.RTO).To(HaveValue(BeNumerically("~", (30*time.Second + latency).Seconds(), 1e-6)))
		Expect(s.RPO).To(BeNumerically(">", 0))
	})

	It("reports an open window with a null end and a null RTO when the service never comes back", func() {
		writeSteadily(ledger, "mongo", 0, 3*time.Minute, spacing, func(at time.Duration) outcome {
			if at >= 100*time.Second {
				return outcome{platform.Failed, false, time.Millisecond}
			}
			return outcome{platform.Acked, true, latency}
		})

		r := reports.Build(run)
		s := r.Services["mongo"]

		Expect(s.RTO).To(BeNil())
		Expect(s.OutageStart).To(HaveValue(BeNumerically("==", 100)))
		Expect(s.OutageWindows).To(Equal([]reports.OutageWindow{{Start: 100, Failed: 800}}))
		Expect(s.UnavailableSeconds).To(BeNumerically("==", 80))

		var buf bytes.Buffer
		Expect(reports.WriteJSON(&buf, r)).To(Succeed())
		var doc struct {
			Services map[string]struct {
				Windows []map[string]json.RawMessage `json:"outage_windows"`
			} `json:"services"`
		}
		Expect(json.Unmarshal(buf.Bytes(), &doc)).To(Succeed())
		Expect(doc.Services["mongo"].Windows).To(HaveLen(1))
		w := doc.Services["mongo"].Windows[0]
		Expect(string(w["end_seconds"])).To(Equal("null"))
		Expect(string(w["start_seconds"])).To(Equal("100"))
		Expect(string(w["writes_failed"])).To(Equal("800"))
	})

	It("lists the outage windows in report.md", func() {
		run.Faults[0].At = 10 * time.Second
		writeSteadily(ledger, "mongo", 0, time.Minute, spacing, func(at time.Duration) outcome {
			if at >= 20*time.Second && at < 25*time.Second {
				return outcome{platform.Unknown, false, 10 * time.Second}
			}
			return outcome{platform.Acked, true, latency}
		})
		var md bytes.Buffer
		Expect(reports.WriteMarkdown(&md, reports.Build(run))).To(Succeed())
		Expect(md.String()).To(ContainSubstring("## Outage windows\n\n| service | from | to | length | failed | unknown | lost |\n|---|---|---|---|---|---|---|\n| mongo | 20s | 25.005s | 5.005s | 0 | 50 | 0 |"))
	})

	It("lists the 100 longest windows in time order and counts them all", func() {
		// 150 windows; window i holds i%7+1 failed writes.
		at := time.Duration(0)
		s := ledger.ServiceIndex("mongo")
		issue := func(o platform.Outcome) {
			id := ledger.Invoke(s, at)
			ledger.Complete(id, o, at+latency)
			ledger.SetPresent(uint64(id), o == platform.Acked)
			at += spacing
		}
		for i := range 150 {
			for range i%7 + 1 {
				issue(platform.Failed)
			}
			issue(platform.Acked)
		}

		r := reports.Build(run).Services["mongo"]

		Expect(r.OutageWindowsTotal).To(BeNumerically("==", 150))
		Expect(r.OutageWindows).To(HaveLen(100))
		shortestListed := r.OutageWindows[0].Failed
		for i, w := range r.OutageWindows {
			shortestListed = min(shortestListed, w.Failed)
			if i > 0 {
				Expect(w.Start).To(BeNumerically(">", r.OutageWindows[i-1].Start))
			}
		}
		// 150 windows of 1 to 7 writes: the 100 longest hold 3 or more.
		Expect(shortestListed).To(BeNumerically(">=", 3))
		Expect(r.RTO).To(HaveValue(BeNumerically("~", (7*spacing + latency).Seconds(), 1e-6)))
	})
})

func floatPointer(f float64) *float64 { return &f }
