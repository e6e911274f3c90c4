package reports_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jstemmer/go-junit-report/v2/junit"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/reports"
)

// nightStart is the wall-clock start the specs give their runs.
var nightStart = time.Date(2025, 3, 14, 3, 23, 0, 0, time.UTC)

func infoAt(at time.Time, wall time.Duration) *reports.RunInfo {
	return reports.NewRunInfo(at, at.Add(wall), "chaosdrill test")
}

// readJUnit reads junit.xml back with the JUnit types of
// github.com/jstemmer/go-junit-report/v2/junit, as a CI system would.
func readJUnit(b []byte) junit.Testsuites {
	GinkgoHelper()
	var suites junit.Testsuites
	Expect(xml.Unmarshal(b, &suites)).To(Succeed())
	return suites
}

func property(s junit.Testsuite, name string) string {
	if s.Properties == nil {
		return ""
	}
	for _, p := range *s.Properties {
		if p.Name == name {
			return p.Value
		}
	}
	return ""
}

// writeRun writes a run's files into dir as `chaosdrill run` does.
func writeRun(dir string, r *reports.Report, info *reports.RunInfo) {
	GinkgoHelper()
	Expect(reports.WriteRunContext(context.Background(), dir, r, info, nil)).To(Succeed())
}

// withMongoRTO returns a copy of the region-loss report whose mongo RTO is
// rto seconds (nil: never recovered).
func withMongoRTO(rto *float64) *reports.Report {
	r := reports.Build(regionLoss())
	s := *r.Services["mongo"]
	s.RTO = rto
	r.Services["mongo"] = &s
	return r
}

func seconds(s float64) *float64 { return &s }

func loadSet(path string) *reports.RunSet {
	GinkgoHelper()
	set, err := reports.LoadRunSet(path)
	Expect(err).NotTo(HaveOccurred())
	return set
}

var _ = Describe("junit.xml for CI", func() {
	It("gives the wall seconds as the time, the simulated seconds as a property, and what passing checks measured", func() {
		var buf bytes.Buffer
		Expect(reports.WriteJUnitRun(&buf, reports.Build(regionLoss()), infoAt(nightStart, 2500*time.Millisecond))).To(Succeed())

		suites := readJUnit(buf.Bytes())
		Expect(suites.Time).To(Equal("2.500"))
		Expect(suites.Suites).To(HaveLen(1))
		suite := suites.Suites[0]
		Expect(suite.Time).To(Equal("2.500"))
		Expect(suite.Timestamp).To(Equal("2025-03-14T03:23:00Z"))
		Expect(property(suite, "simulated_seconds")).To(Equal("60"))
		var passed []junit.Testcase
		for _, tc := range suite.Testcases {
			if tc.Failure == nil {
				passed = append(passed, tc)
				continue
			}
			Expect(tc.SystemOut).To(BeNil())
		}
		Expect(passed).To(HaveLen(1))
		Expect(passed[0].Name).To(Equal("artifacts: does not recover"))
		Expect(passed[0].SystemOut).NotTo(BeNil())
		Expect(passed[0].SystemOut.Data).To(Equal("observed never recovered"))
	})

	It("gives a time of 0.000 when the wall time is not known, never the simulated seconds", func() {
		var buf bytes.Buffer
		Expect(reports.WriteJUnit(&buf, reports.Build(regionLoss()))).To(Succeed())
		suite := readJUnit(buf.Bytes()).Suites[0]
		Expect(suite.Time).To(Equal("0.000"))
		Expect(property(suite, "simulated_seconds")).To(Equal("60"))
	})

	It("combines many runs into one junit.xml: a testsuite per scenario, a testcase per check", func() {
		failed := reports.Build(regionLoss())
		broken := reports.BuildError(regionLoss(), reports.PhaseBringUp, errors.New("image mongo:8.0 not found"))
		broken.Scenario = "broken"
		var buf bytes.Buffer
		Expect(reports.WriteSuiteJUnit(&buf, "chaosdrill", 7.25, []reports.JUnitRun{
			{Report: failed, Info: infoAt(nightStart, 2*time.Second)},
			{Report: broken, Info: infoAt(nightStart.Add(2*time.Second), 5*time.Second)},
		})).To(Succeed())

		suites := readJUnit(buf.Bytes())
		Expect(suites.Name).To(Equal("chaosdrill"))
		Expect(suites.Time).To(Equal("7.250"))
		Expect(suites.Tests).To(Equal(len(failed.Expectations) + 1))
		Expect(suites.Failures).To(Equal(2))
		Expect(suites.Errors).To(Equal(1))
		Expect(suites.Suites).To(HaveLen(2))
		Expect(suites.Suites[0].Name).To(Equal("region-loss"))
		Expect(suites.Suites[0].Testcases).To(HaveLen(len(failed.Expectations)))
		Expect(suites.Suites[1].ID).To(Equal(1))
		Expect(suites.Suites[1].Time).To(Equal("5.000"))
		Expect(suites.Suites[1].Testcases[0].Error.Message).To(Equal("bring-up failed: image mongo:8.0 not found"))
	})
})

var _ = Describe("a suite's summary", func() {
	It("exits with the worst code of its runs: 3 or 2 before 1 before 0", func() {
		Expect(reports.WorstExitCode()).To(Equal(0))
		Expect(reports.WorstExitCode(0, 0)).To(Equal(0))
		Expect(reports.WorstExitCode(0, 1, 0)).To(Equal(1))
		Expect(reports.WorstExitCode(1, 2, 0)).To(Equal(2))
		Expect(reports.WorstExitCode(1, 3, 0)).To(Equal(3))
		Expect(reports.WorstExitCode(3, 2, 1)).To(Equal(3))
		Expect(reports.WorstVerdict("pass", "unverified", "fail", "not-rehearsed")).To(Equal("fail"))
	})

	It("has a row per scenario and service with lost, RTO, RPO and the checks met, and lists every check that did not pass", func() {
		r := reports.Build(regionLoss())
		row := reports.SummarizeRun(r, infoAt(nightStart, time.Second), "region-loss.yaml", "region-loss", reports.ExitCode(r.Verdict))
		Expect(row.Checks).To(Equal(3))
		Expect(row.ChecksMet).To(Equal(1))
		Expect(*row.Services["mongo"].Lost).To(BeEquivalentTo(10))
		s := reports.NewSuiteSummary("sim", 42, nightStart, 3, []reports.SuiteRun{row})
		Expect(s.Verdict).To(Equal("fail"))
		Expect(s.ExitCode).To(Equal(1))

		var text bytes.Buffer
		reports.WriteSuiteText(&text, s)
		Expect(text.String()).To(MatchRegexp(`region-loss\s+FAIL\s+artifacts\s+0\s+never\s+0s\s+1/1`))
		Expect(text.String()).To(MatchRegexp(`\n\s+mongo\s+10\s+30\.04s\s+995ms\s+0/2`))
		Expect(text.String()).To(ContainSubstring("FAIL region-loss: mongo: lost writes <= 0: observed 10 lost writes"))
		Expect(text.String()).To(ContainSubstring("FAIL: 1 scenarios on sim, seed 42: 1 fail; exit code 1."))

		var md bytes.Buffer
		Expect(reports.WriteSuiteMarkdown(&md, s)).To(Succeed())
		Expect(md.String()).To(ContainSubstring("## chaosdrill: FAIL"))
		Expect(md.String()).To(ContainSubstring("|  |  | mongo | 10 | 30.04s | 995ms | 0/2 |"))
		Expect(md.String()).To(ContainSubstring("| FAIL | region-loss | mongo: lost writes <= 0 | 10 lost writes |"))

		var js bytes.Buffer
		Expect(reports.WriteSuiteJSON(&js, s)).To(Succeed())
		back, err := reports.DecodeSuite("summary.json", js.Bytes())
		Expect(err).NotTo(HaveOccurred())
		Expect(back.Runs[0].Services["mongo"].RTO).To(HaveValue(BeNumerically("~", 30.04, 1e-9)))
	})

	It("says a lost count and an RPO were not measured when the read-back failed", func() {
		run := regionLoss()
		run.ReadBackErrors = map[string]string{"mongo": "connection refused"}
		row := reports.SummarizeRun(reports.Build(run), nil, "f.yaml", "f", 1)
		Expect(row.Services["mongo"].Lost).To(BeNil())
		Expect(row.Services["mongo"].RPO).To(BeNil())
		var text bytes.Buffer
		reports.WriteSuiteText(&text, reports.NewSuiteSummary("sim", 1, nightStart, 1, []reports.SuiteRun{row}))
		Expect(text.String()).To(MatchRegexp(`mongo\s+not measured \(read-back failed\)\s+30\.04s\s+not measured \(read-back failed\)`))
	})

	It("writes every figure that rests on a failed read-back as null or not measured, in every file", func() {
		run := regionLoss()
		run.ReadBackErrors = map[string]string{"mongo": "connection refused"}
		r := reports.Build(run)
		var js bytes.Buffer
		Expect(reports.WriteJSON(&js, r)).To(Succeed())
		var doc struct {
			Services map[string]map[string]any `json:"services"`
		}
		Expect(json.Unmarshal(js.Bytes(), &doc)).To(Succeed())
		mongo := doc.Services["mongo"]
		for _, field := range []string{"lost", "lost_after_fault", "unknown_present", "rpo_seconds", "lost_writes"} {
			Expect(mongo).To(HaveKeyWithValue(field, BeNil()), field)
		}
		windows, _ := mongo["outage_windows"].([]any)
		Expect(windows).NotTo(BeEmpty(), "the region loss leaves mongo an outage window")
		for _, w := range windows {
			Expect(w).To(HaveKeyWithValue("writes_lost", BeNil()), "an outage window's lost writes are not measured either")
			Expect(w).To(HaveKey("writes_failed"))
		}
		Expect(mongo).To(HaveKeyWithValue("read_back", "failed"))
		Expect(doc.Services["artifacts"]["lost"]).NotTo(BeNil(), "a service whose read-back ran keeps its figures")
		back, err := reports.Decode("report.json", js.Bytes())
		Expect(err).NotTo(HaveOccurred(), "a report with nulls reads back")
		Expect(back.Services["mongo"].ReadBack).To(Equal(reports.ReadBackFailed))

		// The same nulls under a read-back said to be complete would read
		// as 0 lost: refused, naming the field.
		tampered := bytes.Replace(js.Bytes(), []byte(`"read_back": "failed"`), []byte(`"read_back": "complete"`), 1)
		Expect(tampered).NotTo(Equal(js.Bytes()), "the report spells read_back as the spec expects")
		_, err = reports.Decode("report.json", tampered)
		Expect(err).To(MatchError(ContainSubstring(`is null, but read_back is "complete"`)))

		var md, junit bytes.Buffer
		Expect(reports.WriteMarkdown(&md, r)).To(Succeed())
		Expect(md.String()).To(ContainSubstring("| mongo: lost writes <= 0 | lost writes not measured (read-back failed) |"))
		Expect(md.String()).To(MatchRegexp(`\| mongo \| \d+ \| \d+ \| \d+ \(not measured \(read-back failed\)\) \| not measured \(read-back failed\) \|`))
		Expect(md.String()).NotTo(MatchRegexp(`mongo: (lost writes|rpo)[^|]*\| (0 lost writes|rpo 0s)`))
		Expect(reports.WriteJUnit(&junit, r)).To(Succeed())
		Expect(junit.String()).To(ContainSubstring("lost writes not measured (read-back failed)"))
	})
})

var _ = Describe("report compare", func() {
	var base *reports.RunSet
	BeforeEach(func() {
		dir := filepath.Join(GinkgoT().TempDir(), "base")
		writeRun(dir, reports.Build(regionLoss()), infoAt(nightStart, time.Second))
		base = loadSet(dir)
	})

	newSet := func(r *reports.Report) *reports.RunSet {
		dir := filepath.Join(GinkgoT().TempDir(), "new")
		writeRun(dir, r, infoAt(nightStart.Add(24*time.Hour), time.Second))
		return loadSet(dir)
	}

	It("finds no regression between two identical runs", func() {
		c := reports.Compare(base, newSet(reports.Build(regionLoss())), reports.DefaultThresholds())
		Expect(c.Regressions).To(BeEmpty())
		Expect(c.Scenarios).To(HaveLen(1))
		for _, svc := range c.Scenarios[0].Services {
			for _, m := range svc.Metrics {
				Expect(m.Status).To(Equal(reports.ChangeSame), "%s %s", svc.Service, m.Metric)
			}
		}
	})

	It("flags a doubled Mongo RTO, naming the scenario, mongo and the metric", func() {
		c := reports.Compare(base, newSet(withMongoRTO(seconds(60.08))), reports.DefaultThresholds())
		Expect(c.Regressions).To(ConsistOf(SatisfyAll(
			HaveField("Scenario", "region-loss"), HaveField("Service", "mongo"), HaveField("Metric", reports.MetricRTO),
			HaveField("Base", "30.04s"), HaveField("New", "1m0.08s"))))
		Expect(c.Regressions[0].String()).To(Equal("region-loss: mongo RTO 30.04s -> 1m0.08s (+30.04s, +100%; thresholds 20% and 1s)"))
		var md bytes.Buffer
		Expect(reports.WriteComparisonMarkdown(&md, c)).To(Succeed())
		Expect(md.String()).To(ContainSubstring("## chaosdrill compare: 1 regression"))
		Expect(md.String()).To(ContainSubstring("| region-loss | mongo | RTO | 30.04s | 1m0.08s | +30.04s, +100%; thresholds 20% and 1s |"))
		Expect(md.String()).To(ContainSubstring("30.04s -> 1m0.08s (+30.04s, +100%) REGRESSION"))
		var js bytes.Buffer
		Expect(reports.WriteComparisonJSON(&js, c)).To(Succeed())
		var doc map[string]any
		Expect(json.Unmarshal(js.Bytes(), &doc)).To(Succeed())
		Expect(doc).To(HaveKeyWithValue("schema", reports.CompareSchema))
		Expect(doc["regressions"]).To(ConsistOf(HaveKeyWithValue("metric", "rto")))
	})

	It("never writes -0%: a fall of less than half a percent reads 0%", func() {
		c := reports.Compare(base, newSet(withMongoRTO(seconds(29.9))), reports.DefaultThresholds())
		var md bytes.Buffer
		Expect(reports.WriteComparisonMarkdown(&md, c)).To(Succeed())
		Expect(md.String()).To(ContainSubstring("30.04s -> 29.9s (-140ms, 0%)"))
		Expect(md.String()).NotTo(ContainSubstring("-0%"))
	})

	It("lets a rise within either threshold pass: 10% on a large RTO, +2 ms on a tiny latency", func() {
		r := withMongoRTO(seconds(33.0))
		s := *r.Services["artifacts"]
		s.WriteLatency.P99 = base.Runs[0].Report.Services["artifacts"].WriteLatency.P99 + 2
		r.Services["artifacts"] = &s
		c := reports.Compare(base, newSet(r), reports.DefaultThresholds())
		Expect(c.Regressions).To(BeEmpty())
	})

	It("flags an RTO that never came where it came before, and counts one that came as an improvement", func() {
		c := reports.Compare(base, newSet(withMongoRTO(nil)), reports.DefaultThresholds())
		Expect(c.Regressions).To(ConsistOf(SatisfyAll(HaveField("Metric", "rto"), HaveField("New", "never recovered"), HaveField("Why", "writes never came back"))))

		back := reports.Compare(newSet(withMongoRTO(nil)), base, reports.DefaultThresholds())
		Expect(back.Regressions).To(BeEmpty())
	})

	It("flags a first lost write, and a worse verdict", func() {
		r := reports.Build(regionLoss())
		s := *r.Services["artifacts"]
		s.Lost = 1
		r.Services["artifacts"] = &s
		r.Verdict = "pass" // as stored; compare works it out again from the checks
		c := reports.Compare(base, newSet(r), reports.DefaultThresholds())
		Expect(c.Regressions).To(ConsistOf(SatisfyAll(HaveField("Service", "artifacts"), HaveField("Metric", "lost"), HaveField("Base", "0"), HaveField("New", "1"))))

		passing := reports.Build(regionLoss())
		// A base that checked one thing, which held.
		passing.Verdict = "pass"
		passing.Expectations = []reports.ExpectationResult{{Name: "artifacts: lost writes <= 0", Service: "artifacts", Result: "pass", Pass: true, Observed: "0 lost writes"}}
		passing.Faults, passing.Runbook = nil, nil
		dir := filepath.Join(GinkgoT().TempDir(), "passing")
		writeRun(dir, passing, nil)
		c = reports.Compare(loadSet(dir), base, reports.DefaultThresholds())
		Expect(c.Regressions).To(ContainElement(SatisfyAll(HaveField("Metric", "verdict"), HaveField("Base", "pass"), HaveField("New", "fail"))))
	})

	It("does not count what a failed read-back could not measure", func() {
		run := regionLoss()
		run.ReadBackErrors = map[string]string{"mongo": "connection refused"}
		c := reports.Compare(base, newSet(reports.Build(run)), reports.DefaultThresholds())
		for _, r := range c.Regressions {
			Expect(r.Metric).To(Equal(reports.MetricVerdict), "only the verdict, which became unverified or worse")
		}
		var lost reports.MetricChange
		for _, svc := range c.Scenarios[0].Services {
			for _, m := range svc.Metrics {
				if svc.Service == "mongo" && m.Metric == "lost" {
					lost = m
				}
			}
		}
		Expect(lost.Status).To(Equal(reports.ChangeUnmeasured))
		Expect(lost.NewNote).To(Equal("not measured"))
	})

	It("takes thresholds as percentages and amounts in each metric's unit, and refuses others", func() {
		th := reports.DefaultThresholds()
		Expect(th.Set("rto=50%,2s")).To(Succeed())
		Expect(th.Set("p99=10ms")).To(Succeed())
		Expect(th.Set("lost=3")).To(Succeed())
		Expect(th[reports.MetricRTO]).To(Equal(reports.Threshold{Relative: 0.5, Absolute: 2}))
		Expect(th[reports.MetricP99]).To(Equal(reports.Threshold{Relative: 0.25, Absolute: 10}))
		Expect(th[reports.MetricLost]).To(Equal(reports.Threshold{Relative: 0.10, Absolute: 3}))
		for spec, problem := range map[string]string{
			"rto":        "want METRIC=VALUE",
			"speed=10%":  `unknown metric "speed"`,
			"rto=abc":    "is not a duration",
			"lost=1.5":   "is not a count",
			"rto=-1s":    "is negative",
			"rpo=-5%":    "is not a percentage",
			"unknown=x%": "is not a percentage",
		} {
			Expect(th.Set(spec)).To(MatchError(ContainSubstring(problem)), spec)
		}

		relaxed := reports.DefaultThresholds()
		Expect(relaxed.Set("rto=150%")).To(Succeed())
		Expect(reports.Compare(base, newSet(withMongoRTO(seconds(60.08))), relaxed).Regressions).To(BeEmpty())
	})

	It("lists the scenarios in only one of the runs without counting them", func() {
		other := reports.Build(regionLoss())
		other.Scenario = "other"
		c := reports.Compare(base, newSet(other), reports.DefaultThresholds())
		Expect(c.Regressions).To(BeEmpty())
		Expect(c.OnlyInBase).To(Equal([]string{"region-loss"}))
		Expect(c.OnlyInNew).To(Equal([]string{"other"}))
	})
})

var _ = Describe("reading stored runs", func() {
	var root string
	BeforeEach(func() {
		root = GinkgoT().TempDir()
	})

	suite := func(dir string, names ...string) {
		var rows []reports.SuiteRun
		for _, name := range names {
			r := reports.Build(regionLoss())
			r.Scenario = name
			writeRun(filepath.Join(dir, name), r, infoAt(nightStart, time.Second))
			rows = append(rows, reports.SummarizeRun(r, nil, name+".yaml", name, 1))
		}
		var js bytes.Buffer
		Expect(reports.WriteSuiteJSON(&js, reports.NewSuiteSummary("sim", 1, nightStart.Add(-time.Hour), 9, rows))).To(Succeed())
		Expect(os.WriteFile(filepath.Join(dir, reports.FileSuiteJSON), js.Bytes(), 0o644)).To(Succeed())
	}

	It("reads a report.json, a run's folder, a suite's folder and a folder of run folders", func() {
		single := filepath.Join(root, "single")
		writeRun(single, reports.Build(regionLoss()), infoAt(nightStart, time.Second))
		Expect(loadSet(filepath.Join(single, reports.FileJSON)).Runs).To(HaveLen(1))
		Expect(loadSet(single).Runs[0].Info.WallSeconds).To(Equal(1.0))

		suiteDir := filepath.Join(root, "suite")
		suite(suiteDir, "a", "b")
		// A folder left from an earlier suite is not one of this suite's.
		old := reports.Build(regionLoss())
		old.Scenario = "stale"
		writeRun(filepath.Join(suiteDir, "stale"), old, nil)
		set := loadSet(suiteDir)
		Expect(set.Suite).NotTo(BeNil())
		Expect(set.Runs).To(HaveLen(2))

		Expect(os.Remove(filepath.Join(suiteDir, reports.FileSuiteJSON))).To(Succeed())
		Expect(loadSet(suiteDir).Runs).To(HaveLen(3), "without summary.json, every folder holding a report")
	})

	It("refuses a scenario twice, a summary that points outside its folder, and a folder with no report", func() {
		dup := filepath.Join(root, "dup")
		writeRun(filepath.Join(dup, "one"), reports.Build(regionLoss()), nil)
		writeRun(filepath.Join(dup, "two"), reports.Build(regionLoss()), nil)
		_, err := reports.LoadRunSet(dup)
		Expect(err).To(MatchError(ContainSubstring(`scenario "region-loss" is there twice`)))

		hostile := filepath.Join(root, "hostile")
		Expect(os.MkdirAll(hostile, 0o755)).To(Succeed())
		Expect(os.WriteFile(filepath.Join(hostile, reports.FileSuiteJSON), []byte(`{"schema":"chaosdrill.summary/v1","runs":[{"scenario":"x","folder":"../dup/one"}]}`), 0o644)).To(Succeed())
		_, err = reports.LoadRunSet(hostile)
		Expect(err).To(MatchError(ContainSubstring("not inside the suite's folder")))

		empty := filepath.Join(root, "empty")
		Expect(os.MkdirAll(empty, 0o755)).To(Succeed())
		_, err = reports.LoadRunSet(empty)
		Expect(err).To(MatchError(ContainSubstring("no report.json")))
	})

	It("dates a set by its summary.json, else its run.json, else its folder's name", func() {
		suiteDir := filepath.Join(root, "s")
		suite(suiteDir, "a")
		at, from, ok := loadSet(suiteDir).StartedAt()
		Expect(ok).To(BeTrue())
		Expect(from).To(Equal("summary.json"))
		Expect(at).To(Equal(nightStart.Add(-time.Hour)))

		single := filepath.Join(root, "single")
		writeRun(single, reports.Build(regionLoss()), infoAt(nightStart, time.Second))
		at, from, _ = loadSet(single).StartedAt()
		Expect(from).To(Equal("run.json"))
		Expect(at).To(Equal(nightStart))

		named := filepath.Join(root, "nightly-2025-03-09")
		writeRun(named, reports.Build(regionLoss()), nil)
		at, from, _ = loadSet(named).StartedAt()
		Expect(from).To(Equal("the folder's name"))
		Expect(at).To(Equal(time.Date(2025, 3, 9, 0, 0, 0, 0, time.UTC)))

		nested := filepath.Join(root, "20250310", "suite")
		writeRun(nested, reports.Build(regionLoss()), nil)
		at, _, _ = loadSet(filepath.Join(nested, reports.FileJSON)).StartedAt()
		Expect(at).To(Equal(time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)))

		// Digits that are not a date of their own (a run id, a temporary
		// folder's number) are not taken for one.
		for _, name := range []string{"undated", "run-123420250312999", "build-99991231"} {
			undated := filepath.Join(root, "x", name)
			writeRun(undated, reports.Build(regionLoss()), nil)
			_, _, ok = loadSet(undated).StartedAt()
			Expect(ok).To(BeFalse(), name)
		}
	})
})

var _ = Describe("report trend", func() {
	// nights writes five nights of region-loss, out of date order, whose
	// mongo RTO check passes, fails twice, passes, fails again; the third
	// night's mongo never recovers.
	nights := func() ([]*reports.RunSet, []reports.TrendNight) {
		root := GinkgoT().TempDir()
		rtos := []*float64{seconds(10), seconds(30.04), nil, seconds(12), seconds(31)}
		var sets []*reports.RunSet
		var nights []reports.TrendNight
		for _, i := range []int{3, 0, 4, 1, 2} {
			at := nightStart.AddDate(0, 0, i)
			r := withMongoRTO(rtos[i])
			for j, e := range r.Expectations {
				if e.Name == "mongo: rto <= 20s" {
					held := rtos[i] != nil && *rtos[i] <= 20
					r.Expectations[j].Pass = held
					r.Expectations[j].Result = map[bool]string{true: "pass", false: "fail"}[held]
				}
			}
			dir := filepath.Join(root, at.Format("2006-01-02"))
			writeRun(dir, r, infoAt(at, time.Second))
			sets = append(sets, loadSet(dir))
			nights = append(nights, reports.TrendNight{Path: dir, StartedAt: at, DateFrom: "run.json"})
		}
		return sets, nights
	}

	It("orders the nights by date and marks each run where a check first failed", func() {
		t := reports.NewTrend(nights())
		Expect(t.Nights).To(HaveLen(5))
		for i, n := range t.Nights {
			Expect(n.StartedAt).To(Equal(nightStart.AddDate(0, 0, i)))
		}
		Expect(t.Scenarios).To(HaveLen(1))
		runs := t.Scenarios[0].Runs
		newly := func(i int) []string {
			var names []string
			for _, e := range runs[i].NewlyFailing {
				names = append(names, e.Name)
			}
			return names
		}
		// The first night fails the lost-writes bound already: first failed.
		Expect(newly(0)).To(Equal([]string{"mongo: lost writes <= 0"}))
		Expect(newly(1)).To(Equal([]string{"mongo: rto <= 20s"}))
		Expect(newly(2)).To(BeEmpty(), "still failing is not failing first")
		Expect(newly(3)).To(BeEmpty())
		Expect(newly(4)).To(Equal([]string{"mongo: rto <= 20s"}), "failing again after a pass")
		Expect(runs[2].Metrics["mongo"]["rto"]).To(BeNil(), "never recovered")
		Expect(*runs[1].Metrics["mongo"]["rto"]).To(BeNumerically("~", 30.04, 1e-9))
	})

	It("writes a table and an HTML chart per metric with the first failures named", func() {
		t := reports.NewTrend(nights())
		var md bytes.Buffer
		Expect(reports.WriteTrendMarkdown(&md, t)).To(Succeed())
		Expect(md.String()).To(ContainSubstring("### region-loss"))
		Expect(md.String()).To(ContainSubstring("| 2025-03-15 03:23 | FAIL | artifacts |"))
		Expect(md.String()).To(MatchRegexp(`\|  \|  \| mongo \| 30\.04s \| 995ms \| 10 \| 300 \| [0-9.]+ ms \|  \|`))
		Expect(md.String()).To(ContainSubstring("mongo: rto <= 20s (fail)"))

		var html bytes.Buffer
		Expect(reports.WriteTrendHTML(&html, t)).To(Succeed())
		page := html.String()
		for _, title := range []string{"RTO", "RPO", "lost writes", "unknown writes", "p99 write latency"} {
			Expect(page).To(ContainSubstring("<h3>" + title + "</h3>"))
		}
		Expect(strings.Count(page, "first failed: mongo: rto &lt;= 20s")).To(Equal(2*5), "two first failures on each of five charts")
		Expect(page).To(ContainSubstring(`class="axis-title">seconds<`))
		Expect(page).To(ContainSubstring(`class="axis-title">writes<`))
		Expect(page).NotTo(ContainSubstring("overflow"))

		var js bytes.Buffer
		Expect(reports.WriteTrendJSON(&js, t)).To(Succeed())
		Expect(js.String()).To(ContainSubstring(`"schema": "chaosdrill.trend/v1"`))
	})
})
