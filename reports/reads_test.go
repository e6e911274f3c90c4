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

// Reads are classified as Jepsen does (issue 9, item 5): ok, stale (missed
// a write acknowledged and kept before the read began) or dirty (returned a
// write that did not survive).
var _ = Describe("Reads", func() {
	var (
		ledger *reports.Ledger
		run    *reports.Run
		mongo  uint16
	)

	BeforeEach(func() {
		ledger = &reports.Ledger{}
		mongo = ledger.ServiceIndex("mongo")
		run = &reports.Run{Scenario: "reads", Platform: "sim", Duration: 10 * time.Second, Ledger: ledger}
	})

	// write issues a write at invoked, acknowledged at acked (0: failed),
	// kept or not on read-back, and returns its op id.
	write := func(invoked, acked time.Duration, kept bool) uint64 {
		id := ledger.Invoke(mongo, invoked)
		if acked == 0 {
			ledger.Complete(id, platform.Failed, invoked+time.Millisecond)
		} else {
			ledger.Complete(id, platform.Acked, acked)
		}
		ledger.SetPresent(uint64(id), kept)
		return id
	}
	read := func(at time.Duration, value uint64, member string) {
		id := ledger.InvokeRead(mongo, at)
		ledger.CompleteRead(id, platform.Acked, value, member)
	}

	It("classifies each read that returned a value as exactly one of ok, stale or dirty", func() {
		first := write(1*time.Second, 1100*time.Millisecond, true)
		rolledBack := write(2*time.Second, 2100*time.Millisecond, false)
		write(3*time.Second, 3100*time.Millisecond, true) // second
		failed := write(4*time.Second, 0, true)           // refused, yet found: an earlier attempt applied it
		_ = failed

		read(500*time.Millisecond, platform.ReadNothing, "a")  // nothing acknowledged yet: ok
		read(1100*time.Millisecond, first, "a")                // acknowledged at the very moment it began: seen, ok
		read(1200*time.Millisecond, platform.ReadNothing, "b") // missed first: stale
		read(2500*time.Millisecond, rolledBack, "a")           // saw a write that did not survive: dirty
		read(3050*time.Millisecond, first, "b")                // second not acknowledged yet: ok
		read(3200*time.Millisecond, first, "b")                // missed second: stale
		read(3300*time.Millisecond, rolledBack, "a")           // dirty and stale: dirty
		read(4500*time.Millisecond, failed, "a")               // a write refused but kept is no dirty read
		failedRead := ledger.InvokeRead(mongo, 5*time.Second)
		ledger.CompleteRead(failedRead, platform.Failed, 0, "")
		timedOut := ledger.InvokeRead(mongo, 6*time.Second)
		ledger.CompleteRead(timedOut, platform.Unknown, 0, "")
		ledger.InvokeRead(mongo, 9*time.Second) // still pending at the end

		r := reports.Build(run).Services["mongo"].Reads

		Expect(r).To(Equal(&reports.ReadsReport{OK: 4, Stale: 2, Dirty: 2, Failed: 1, Unknown: 2,
			ServedBy: map[string]int64{"a": 5, "b": 3}}))
	})

	It("does not count as stale a read that missed a write acknowledged and then lost", func() {
		kept := write(1*time.Second, 1100*time.Millisecond, true)
		write(2*time.Second, 2100*time.Millisecond, false) // acknowledged by a cut-off primary, rolled back
		read(3*time.Second, kept, "a")

		r := reports.Build(run).Services["mongo"].Reads

		Expect(r.OK).To(BeNumerically("==", 1))
		Expect(r.Stale).To(BeZero())
	})

	It("compares a read only with the writes of its own service", func() {
		logs := ledger.ServiceIndex("logs")
		kept := write(1*time.Second, 1100*time.Millisecond, true)
		other := ledger.Invoke(logs, 1500*time.Millisecond)
		ledger.Complete(other, platform.Acked, 1600*time.Millisecond)
		ledger.SetPresent(uint64(other), true)
		read(2*time.Second, kept, "a")
		read(2*time.Second, other, "a") // a value naming another service's write names nothing of this one

		r := reports.Build(run).Services["mongo"].Reads

		Expect(r.OK).To(BeNumerically("==", 1))
		Expect(r.Dirty).To(BeNumerically("==", 1))
		Expect(reports.Build(run).Services["logs"].Reads).To(BeNil())
	})

	It("writes reads: null for a service nobody read, and the counts for one that was", func() {
		write(time.Second, 1100*time.Millisecond, true)
		ledger.ServiceIndex("artifacts")
		artifacts := ledger.Invoke(1, time.Second)
		ledger.Complete(artifacts, platform.Acked, 2*time.Second)
		read(3*time.Second, 0, "mongo-east-1a")

		var buf bytes.Buffer
		Expect(reports.WriteJSON(&buf, reports.Build(run))).To(Succeed())
		var doc struct {
			Services map[string]map[string]json.RawMessage `json:"services"`
		}
		Expect(json.Unmarshal(buf.Bytes(), &doc)).To(Succeed())
		Expect(string(doc.Services["artifacts"]["reads"])).To(Equal("null"))
		Expect(doc.Services["mongo"]["reads"]).To(MatchJSON(`{"ok": 1, "failed": 0, "unknown": 0, "stale": 0, "dirty": 0, "served_by": {"mongo-east-1a": 1}}`))
	})

	It("shows the reads in report.md, report.html and the summary, and nothing about reads where nobody read", func() {
		lost := write(1*time.Second, 1100*time.Millisecond, false)
		write(2*time.Second, 2100*time.Millisecond, true)
		read(1500*time.Millisecond, lost, "mongo-east-1a")
		read(3*time.Second, platform.ReadNothing, "mongo-east-1b")
		r := reports.Build(run)

		var md, html, summary bytes.Buffer
		Expect(reports.WriteMarkdown(&md, r)).To(Succeed())
		Expect(reports.WriteHTML(&html, r)).To(Succeed())
		reports.Summary(&summary, r)
		Expect(md.String()).To(ContainSubstring("## Reads\n\n| service | ok | stale | dirty | failed | unknown | served by |\n|---|---|---|---|---|---|---|\n| mongo | 0 | 1 | 1 | 0 | 0 | mongo-east-1a 1, mongo-east-1b 1 |"))
		Expect(html.String()).To(ContainSubstring("<h2>Reads</h2>"))
		Expect(summary.String()).To(ContainSubstring("mongo reads: 0 ok, 1 stale, 1 dirty, 0 failed, 0 unknown"))

		ledger.Reads = nil
		md.Reset()
		Expect(reports.WriteMarkdown(&md, reports.Build(run))).To(Succeed())
		Expect(md.String()).NotTo(ContainSubstring("Reads"))
	})

	It("is checked again in a stored report: an edited count fails a bound stored as passed, a negative one is refused", func() {
		run.Expect = []scenarios.Expectation{{Service: "mongo", StaleReadsMax: intPointer(0), DirtyReadsMax: intPointer(0)}}
		kept := write(1*time.Second, 1100*time.Millisecond, true)
		read(2*time.Second, kept, "a")
		r := reports.Build(run)
		Expect(r.Verdict).To(Equal(reports.VerdictPass))
		Expect(reports.Validate(r)).To(Succeed())
		Expect(reports.RecomputeVerdict(r)).To(Equal(reports.VerdictPass))

		r.Services["mongo"].Reads.Dirty = 3
		Expect(reports.RecomputeVerdict(r)).To(Equal(reports.VerdictFail))
		r.Services["mongo"].Reads.Dirty = 0
		r.Services["mongo"].Reads.Stale = 1
		Expect(reports.RecomputeVerdict(r)).To(Equal(reports.VerdictFail))
		r.Services["mongo"].Reads.Stale = -1
		Expect(reports.Validate(r)).To(MatchError(ContainSubstring("services.mongo.reads.stale: a count cannot be negative")))
		r.Services["mongo"].Reads.Stale = 0
		r.Services["mongo"].OutageWindows = []reports.OutageWindow{{Start: 1, Failed: -2}}
		Expect(reports.Validate(r)).To(MatchError(ContainSubstring("services.mongo.outage_windows[0].writes_failed: a count cannot be negative")))
	})

	Context("with bounds on stale and dirty reads", func() {
		zero, one := 0, 1
		BeforeEach(func() {
			run.Expect = []scenarios.Expectation{{Service: "mongo", StaleReadsMax: &one, DirtyReadsMax: &zero}}
		})

		It("passes and fails them on the counts", func() {
			kept := write(1*time.Second, 1100*time.Millisecond, true)
			lost := write(2*time.Second, 2100*time.Millisecond, false)
			read(1500*time.Millisecond, platform.ReadNothing, "a")
			read(2500*time.Millisecond, lost, "a")
			_ = kept

			r := reports.Build(run)

			Expect(r.Expectations).To(HaveLen(2))
			Expect(r.Expectations[0]).To(Equal(reports.ExpectationResult{Name: "mongo: stale reads <= 1", Service: "mongo", Result: "pass", Pass: true, Observed: "1 stale of 2 reads that succeeded"}))
			Expect(r.Expectations[1]).To(Equal(reports.ExpectationResult{Name: "mongo: dirty reads <= 0", Service: "mongo", Result: "fail", Observed: "1 dirty of 2 reads that succeeded"}))
		})

		It("leaves them unverified when no read succeeded", func() {
			write(1*time.Second, 1100*time.Millisecond, true)
			failedRead := ledger.InvokeRead(mongo, 2*time.Second)
			ledger.CompleteRead(failedRead, platform.Failed, 0, "")

			r := reports.Build(run)

			Expect(r.Expectations[0].Result).To(Equal(reports.VerdictUnverified))
			Expect(r.Expectations[0].Observed).To(Equal("no read succeeded (1 failed, 0 unknown), so none could be checked"))
			Expect(r.Verdict).To(Equal(reports.VerdictUnverified))
		})

		It("classifies nothing and leaves them unverified when the read-back failed", func() {
			lost := write(1*time.Second, 1100*time.Millisecond, false)
			read(2*time.Second, lost, "a")
			run.ReadBackErrors = map[string]string{"mongo": "no primary"}

			r := reports.Build(run)

			Expect(r.Services["mongo"].Reads.Dirty).To(BeZero())
			Expect(r.Services["mongo"].Reads.OK).To(BeNumerically("==", 1))
			Expect(r.Expectations[1].Result).To(Equal(reports.VerdictUnverified))
		})
	})
})
