package reports_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/reports"
	"github.com/chaosdrill/chaosdrill/scenarios"
)

// junitCase is one testcase of junit.xml as a CI system reads it.
type junitCase struct {
	Name    string `xml:"name,attr"`
	Failure *struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
	} `xml:"failure"`
	Error *struct {
		Message string `xml:"message,attr"`
	} `xml:"error"`
}

func junitCases(r *reports.Report) []junitCase {
	GinkgoHelper()
	var buf bytes.Buffer
	Expect(reports.WriteJUnit(&buf, r)).To(Succeed())
	var suites struct {
		Suites []struct {
			Cases []junitCase `xml:"testcase"`
		} `xml:"testsuite"`
	}
	Expect(xml.Unmarshal(buf.Bytes(), &suites)).To(Succeed())
	Expect(suites.Suites).To(HaveLen(1))
	return suites.Suites[0].Cases
}

func markdown(r *reports.Report) string {
	GinkgoHelper()
	var buf bytes.Buffer
	Expect(reports.WriteMarkdown(&buf, r)).To(Succeed())
	return buf.String()
}

func summary(r *reports.Report) string {
	var buf bytes.Buffer
	reports.Summary(&buf, r)
	return buf.String()
}

func jsonOf(r *reports.Report) map[string]any {
	GinkgoHelper()
	var buf bytes.Buffer
	Expect(reports.WriteJSON(&buf, r)).To(Succeed())
	var doc map[string]any
	Expect(json.Unmarshal(buf.Bytes(), &doc)).To(Succeed())
	return doc
}

func results(r *reports.Report) map[string]string {
	out := map[string]string{}
	for _, e := range r.Expectations {
		out[e.Name] = e.Result
	}
	return out
}

var _ = Describe("Verdicts", func() {
	var run *reports.Run

	// Two services written steadily for 60s, every write acknowledged and
	// found; a fault at 10s aimed at mongo.
	BeforeEach(func() {
		ledger := &reports.Ledger{}
		writeSteadily(ledger, "mongo", 0, 60*time.Second, spacing, ackedFor(latency))
		writeSteadily(ledger, "logs", 0, 60*time.Second, spacing, ackedFor(latency))
		run = &reports.Run{
			Scenario: "drill", Platform: "sim", Seed: 1, Duration: 60 * time.Second, Ledger: ledger,
			Faults: []reports.FaultRecord{{Name: "kill-primary", Kind: scenarios.FaultKill, Target: "role:mongo:primary",
				Services: []string{"mongo"}, Nodes: []string{"m1"}, Injected: true, At: 10 * time.Second}},
			Expect: []scenarios.Expectation{
				{Service: "mongo", LostWrites: intPointer(0), RTOMax: pd(20 * time.Second)},
				scenarios.Baseline("logs"),
			},
		}
	})

	It("passes when everything happened and held, and marks the baseline expectations", func() {
		r := reports.Build(run)

		Expect(r.Verdict).To(Equal(reports.VerdictPass))
		Expect(reports.ExitCode(r.Verdict)).To(Equal(0))
		Expect(results(r)).To(Equal(map[string]string{
			"mongo: lost writes <= 0": "pass", "mongo: rto <= 20s": "pass",
			"logs: lost writes <= 0 (baseline)": "pass", "logs: recovers (baseline)": "pass",
		}))
		baseline := 0
		for _, e := range jsonOf(r)["expectations"].([]any) {
			if e.(map[string]any)["baseline"] == true {
				baseline++
			}
		}
		Expect(baseline).To(Equal(2))
		Expect(markdown(r)).To(ContainSubstring("| pass | logs: recovers (baseline) |"))
	})

	Context("when a fault of the file never happened", func() {
		BeforeEach(func() {
			run.Faults[0] = reports.FaultRecord{Name: "kill-primary", Kind: scenarios.FaultKill, Target: "role:mongo:primary",
				Services: []string{"mongo"}, NotRehearsed: "no logs:health-green event after restart-a before the end (1m0s)"}
			run.Faults = append(run.Faults, reports.FaultRecord{Name: "restart-a", Kind: scenarios.FaultRestart, Target: "node:es1",
				Services: []string{"logs"}, Nodes: []string{"es1"}, Injected: true, At: 5 * time.Second, HealedAt: durationPointer(6 * time.Second)})
		})

		It("is not rehearsed, and no expectation about the service it aims at passes", func() {
			r := reports.Build(run)

			Expect(r.Verdict).To(Equal(reports.VerdictNotRehearsed))
			Expect(reports.ExitCode(r.Verdict)).To(Equal(1))
			Expect(r.Expectations).To(ContainElement(reports.ExpectationResult{
				Name: "fault kill-primary rehearsed", Result: "not-rehearsed",
				Observed: "no logs:health-green event after restart-a before the end (1m0s)",
			}))
			Expect(results(r)).To(HaveKeyWithValue("mongo: rto <= 20s", "not-rehearsed"))
			Expect(results(r)).To(HaveKeyWithValue("mongo: lost writes <= 0", "not-rehearsed"))
			Expect(r.Expectations[0].Observed).To(Equal("0 lost writes; fault kill-primary was not rehearsed"))
			// logs was measured against nothing it depended on.
			Expect(results(r)).To(HaveKeyWithValue("logs: recovers (baseline)", "pass"))
		})

		It("lists the fault with no time, draws nothing for it, and names it in every file", func() {
			r := reports.Build(run)

			fault := jsonOf(r)["faults"].([]any)[0].(map[string]any)
			Expect(fault).To(HaveKeyWithValue("status", "not-rehearsed"))
			Expect(fault).To(HaveKeyWithValue("at_seconds", BeNil()))
			Expect(fault).To(HaveKeyWithValue("reason", ContainSubstring("health-green")))

			Expect(summary(r)).To(ContainSubstring("NOT-REHEARSED fault kill-primary rehearsed: observed no logs:health-green event"))
			Expect(summary(r)).To(MatchRegexp(`NOT-REHEARSED: 2 of 5 checks held; 3 not rehearsed`))
			md := markdown(r)
			Expect(md).To(ContainSubstring("| NOT-REHEARSED | fault kill-primary rehearsed |"))
			Expect(md).To(ContainSubstring("| kill-primary | kill | role:mongo:primary |  | NOT-REHEARSED | never | never |"))
			var failed []string
			for _, c := range junitCases(r) {
				if c.Failure != nil {
					Expect(c.Failure.Type).To(Equal("not-rehearsed"), c.Name)
					failed = append(failed, c.Name)
				}
			}
			Expect(failed).To(ConsistOf("fault kill-primary rehearsed", "mongo: lost writes <= 0", "mongo: rto <= 20s"))

			var html bytes.Buffer
			Expect(reports.WriteHTML(&html, r)).To(Succeed())
			Expect(html.String()).NotTo(ContainSubstring(`class="fault"><title>fault kill-primary`))
			Expect(html.String()).To(ContainSubstring(`verdict NOT-REHEARSED`))
		})

		It("still fails, first, on a bound that was missed elsewhere", func() {
			run.Expect = append(run.Expect, scenarios.Expectation{Service: "logs", RTOMin: pd(time.Minute)})

			r := reports.Build(run)

			Expect(r.Verdict).To(Equal(reports.VerdictFail))
			Expect(summary(r)).To(ContainSubstring("1 failed, 3 not rehearsed"))
		})
	})

	It("is not rehearsed when no fault happened at all, for a service no fault aims at too", func() {
		run.Faults[0].Injected, run.Faults[0].Services = false, nil
		run.Faults[0].NotRehearsed = "never triggered"

		r := reports.Build(run)

		Expect(results(r)).To(HaveKeyWithValue("logs: recovers (baseline)", "not-rehearsed"))
	})

	Context("when the read-back of a service failed", func() {
		BeforeEach(func() {
			for i := range run.Ledger.Len() {
				run.Ledger.SetPresent(i, false) // what a failed read-back leaves
			}
			run.ReadBackErrors = map[string]string{"logs": "dial tcp 10.0.0.7:9200: connection refused"}
		})

		It("marks its writes unverified, counts none of them lost, and measures the others as usual", func() {
			r := reports.Build(run)

			logs := r.Services["logs"]
			Expect(logs.ReadBack).To(Equal("failed"))
			Expect(logs.ReadBackError).To(ContainSubstring("connection refused"))
			Expect(logs.Lost).To(BeZero())
			Expect(logs.Acked).To(BeNumerically("==", 600))
			Expect(logs.RTO).To(HaveValue(BeZero()))
			Expect(results(r)).To(HaveKeyWithValue("logs: writes read back", "unverified"))
			Expect(results(r)).To(HaveKeyWithValue("logs: lost writes <= 0 (baseline)", "unverified"))
			Expect(r.Services["mongo"].ReadBack).To(Equal("complete"))
			// mongo's writes were not found either, and count as lost.
			Expect(r.Services["mongo"].Lost).To(BeNumerically("==", 600))
		})

		It("makes the verdict unverified, not pass, when nothing else went wrong", func() {
			for i := range run.Ledger.Len() {
				run.Ledger.SetPresent(uint64(i), run.Ledger.Services[run.Ledger.Service(i)] == "mongo")
			}

			r := reports.Build(run)

			Expect(r.Verdict).To(Equal(reports.VerdictUnverified))
			Expect(reports.ExitCode(r.Verdict)).To(Equal(1))
			Expect(summary(r)).To(MatchRegexp(`logs\s+600\s+0\s+0\s+not measured \(read-back failed\)`))
			Expect(summary(r)).To(ContainSubstring("UNVERIFIED logs: writes read back: observed the read-back failed"))
			Expect(markdown(r)).To(ContainSubstring("logs: unknown; its read-back failed"))
		})
	})

	It("leaves a service that acknowledged nothing unverified", func() {
		ledger := &reports.Ledger{}
		writeSteadily(ledger, "logs", 0, 60*time.Second, spacing, func(time.Duration) outcome { return outcome{platform.Failed, false, latency} })
		run.Ledger, run.Faults = ledger, nil
		run.Expect = []scenarios.Expectation{{Service: "logs", Recovers: boolPointer(false)}}

		r := reports.Build(run)

		Expect(r.Verdict).To(Equal(reports.VerdictUnverified))
		Expect(results(r)).To(Equal(map[string]string{
			"logs: does not recover": "unverified", "logs: writes acknowledged": "unverified",
		}))
	})

	Describe("runbook steps", func() {
		step := func(name string) reports.StepRecord {
			done := 20 * time.Second
			return reports.StepRecord{Name: name, Action: platform.ActionMongoForceReconfigure, Service: "mongo", Started: true, StartedAt: 15 * time.Second, DoneAt: &done}
		}

		It("fails on a step that failed: a broken runbook is a finding", func() {
			s := step("promote")
			s.Error = "promotion timed out"
			run.Steps = []reports.StepRecord{s}

			r := reports.Build(run)

			Expect(r.Verdict).To(Equal(reports.VerdictFail))
			Expect(results(r)).To(HaveKeyWithValue("runbook promote done", "fail"))
			Expect(jsonOf(r)["runbook"]).To(ContainElement(HaveKeyWithValue("status", "failed")))
		})

		It("is not rehearsed on a step that never started, and taints its service", func() {
			run.Steps = []reports.StepRecord{{Name: "promote", Action: platform.ActionMongoForceReconfigure, Service: "mongo",
				NotRehearsed: "no mongo:primary-lost event before the end (1m0s)"}}

			r := reports.Build(run)

			Expect(r.Verdict).To(Equal(reports.VerdictNotRehearsed))
			Expect(results(r)).To(HaveKeyWithValue("runbook promote rehearsed", "not-rehearsed"))
			Expect(results(r)).To(HaveKeyWithValue("mongo: rto <= 20s", "not-rehearsed"))
			Expect(jsonOf(r)["runbook"]).To(ContainElement(SatisfyAll(HaveKeyWithValue("status", "not-rehearsed"), HaveKeyWithValue("started_at_seconds", BeNil()))))
			Expect(markdown(r)).NotTo(ContainSubstring("No runbook step ran."))
		})

		It("passes with an optional step that was not needed, and says so", func() {
			run.Steps = []reports.StepRecord{{Name: "rebuild", Action: platform.ActionLogsRestoreSnapshot, Service: "logs",
				Skipped: "not needed: no logs:health-red event before the end (1m0s)"}}

			r := reports.Build(run)

			Expect(r.Verdict).To(Equal(reports.VerdictPass))
			Expect(markdown(r)).To(ContainSubstring("| rebuild | logs.restore-snapshot | skipped | never | never | not needed: no logs:health-red event"))
		})
	})

	Describe("the bounds issue 7 adds", func() {
		It("checks time to full redundancy from the fault", func() {
			run.Events = []platform.Event{{At: 40 * time.Second, Service: "mongo", What: platform.EventRedundancyRestored}}
			run.Expect = []scenarios.Expectation{
				{Service: "mongo", RedundancyMax: pd(30 * time.Second)},
				{Service: "mongo", RedundancyMax: pd(29 * time.Second)},
				{Service: "logs", RedundancyMax: pd(time.Hour)},
			}

			r := reports.Build(run)

			Expect(r.Expectations[0]).To(HaveField("Result", "pass"))
			Expect(r.Expectations[0].Observed).To(Equal("full redundancy after 30s"))
			Expect(r.Expectations[1]).To(HaveField("Result", "fail"))
			Expect(r.Expectations[2]).To(SatisfyAll(HaveField("Result", "fail"), HaveField("Observed", "full redundancy not restored within the run")))
		})

		It("checks the p99 of acknowledged write latency", func() {
			run.Expect = []scenarios.Expectation{
				{Service: "mongo", LatencyP99Max: pd(latency)},
				{Service: "mongo", LatencyP99Max: pd(latency - time.Millisecond)},
			}

			r := reports.Build(run)

			Expect(r.Expectations[0]).To(SatisfyAll(HaveField("Result", "pass"), HaveField("Observed", "p99 5.000 ms")))
			Expect(r.Expectations[1]).To(HaveField("Result", "fail"))
		})

		It("checks the count of unknown writes", func() {
			ledger := &reports.Ledger{}
			writeSteadily(ledger, "mongo", 0, 60*time.Second, spacing, func(at time.Duration) outcome {
				if at >= 10*time.Second && at < 11*time.Second {
					return outcome{platform.Unknown, false, 10 * time.Second}
				}
				return outcome{platform.Acked, true, latency}
			})
			run.Ledger = ledger
			run.Expect = []scenarios.Expectation{{Service: "mongo", UnknownMax: intPointer(10)}, {Service: "mongo", UnknownMax: intPointer(9)}}

			r := reports.Build(run)

			Expect(r.Expectations[0]).To(SatisfyAll(HaveField("Result", "pass"), HaveField("Observed", "10 unknown writes")))
			Expect(r.Expectations[1]).To(HaveField("Result", "fail"))
		})

		Describe("caught_up_max", func() {
			addMember := func(name, member string, start time.Duration) reports.StepRecord {
				done := start + time.Second
				return reports.StepRecord{Name: name, Action: platform.ActionMongoAddMember, Service: "mongo", Member: member, Started: true, StartedAt: start, DoneAt: &done}
			}
			caughtUp := func(member string, at time.Duration) platform.Event {
				return platform.Event{At: at, Service: "mongo", What: platform.EventMemberCaughtUp, Node: member, Detail: "20ms"}
			}
			BeforeEach(func() {
				run.Steps = []reports.StepRecord{addMember("add-b", "m4", 20*time.Second), addMember("add-c", "m5", 30*time.Second)}
				run.Expect = []scenarios.Expectation{{Service: "mongo", CaughtUpMax: pd(10 * time.Second)}}
			})

			It("passes when every added member caught up within the bound of its step's start", func() {
				run.Events = []platform.Event{caughtUp("m4", 28*time.Second), caughtUp("m5", 40*time.Second)}

				r := reports.Build(run)

				Expect(r.Services["mongo"].MembersCaughtUp).To(Equal(map[string]float64{"m4": 8, "m5": 10}))
				Expect(r.Expectations[0]).To(SatisfyAll(HaveField("Result", "pass"), HaveField("Observed", "caught up: m4 after 8s, m5 after 10s")))
				Expect(markdown(r)).To(ContainSubstring("members added by the runbook caught up this long after their step started: m4 8s, m5 10s"))
			})

			It("fails when one took longer, or never caught up", func() {
				run.Events = []platform.Event{caughtUp("m4", 31*time.Second)}

				r := reports.Build(run)

				Expect(r.Expectations[0]).To(SatisfyAll(HaveField("Result", "fail"), HaveField("Observed", "caught up: m4 after 11s, m5 never caught up")))
			})

			It("does not count a member-caught-up event from before the step", func() {
				run.Events = []platform.Event{caughtUp("m4", 5*time.Second), caughtUp("m5", 31*time.Second)}

				r := reports.Build(run)

				Expect(r.Expectations[0].Observed).To(Equal("caught up: m4 never caught up, m5 after 1s"))
			})
		})
	})

	Describe("a restart", func() {
		It("is drawn as a band to when its node was back, not to the end of the run", func() {
			back := 10*time.Second + 800*time.Millisecond
			run.Faults[0] = reports.FaultRecord{Name: "restart-a", Kind: scenarios.FaultRestart, Target: "node:m1", Services: []string{"mongo"},
				Nodes: []string{"m1"}, Injected: true, At: 10 * time.Second, HealedAt: &back}
			r := reports.Build(run)

			Expect(jsonOf(r)["faults"]).To(ContainElement(HaveKeyWithValue("healed_at_seconds", 10.8)))
			var html bytes.Buffer
			Expect(reports.WriteHTML(&html, r)).To(Succeed())
			band := regexp.MustCompile(`<rect x="[0-9.]+" y="[0-9.]+" width="([0-9.]+)" height="[0-9.]+" class="band-fault"><title>fault restart-a`).FindAllStringSubmatch(html.String(), -1)
			Expect(band).To(HaveLen(2), "one band per service chart")
			width, err := strconv.ParseFloat(band[0][1], 64)
			Expect(err).NotTo(HaveOccurred())
			// 0.8s of a 60s run on a plot of 884 units: about 12 units, far
			// from the 737 units to the end of the run.
			Expect(width).To(BeNumerically("<", 20))
		})
	})

	Describe("an error report", func() {
		It("has verdict error, the phase and the message, in every file", func() {
			run.Ledger = nil
			r := reports.BuildError(run, reports.PhaseBringUp, errors.New("pull mongo:8.0: image not found"))

			Expect(reports.ExitCode(r.Verdict)).To(Equal(3))
			doc := jsonOf(r)
			Expect(doc).To(HaveKeyWithValue("verdict", "error"))
			Expect(doc).To(HaveKeyWithValue("error", Equal(map[string]any{"phase": "bring-up", "message": "pull mongo:8.0: image not found"})))
			cases := junitCases(r)
			Expect(cases).To(HaveLen(1))
			Expect(cases[0].Error).NotTo(BeNil())
			Expect(cases[0].Error.Message).To(Equal("bring-up failed: pull mongo:8.0: image not found"))
			Expect(markdown(r)).To(ContainSubstring("The run could not complete: bring-up failed: pull mongo:8.0: image not found"))
			Expect(summary(r)).To(ContainSubstring("ERROR: The run could not complete: bring-up failed"))

			dir := GinkgoT().TempDir()
			Expect(reports.WriteAll(dir, r)).To(Succeed())
			read, err := reports.Read(filepath.Join(dir, reports.FileJSON))
			Expect(err).NotTo(HaveOccurred())
			Expect(read.Error).To(Equal(r.Error))
		})
	})

	It("refuses to re-render a v1 report, whose pass may hide faults that never fired", func() {
		path := filepath.Join(GinkgoT().TempDir(), "report.json")
		Expect(os.WriteFile(path, []byte(`{"schema": "chaosdrill.report/v1", "verdict": "pass"}`), 0o644)).To(Succeed())

		_, err := reports.Read(path)

		Expect(err).To(MatchError(ContainSubstring("older chaosdrill")))
	})
})
