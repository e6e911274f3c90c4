package reports

import (
	"encoding/xml"
	"io"
	"strconv"

	"github.com/jstemmer/go-junit-report/v2/junit"
)

// WriteJUnit writes the report as JUnit XML without a wall time (time
// "0.000"): see WriteJUnitRun.
func WriteJUnit(w io.Writer, r *Report) error {
	return WriteJUnitRun(w, r, nil)
}

// WriteJUnitRun writes the report as JUnit XML: one testsuite named after
// the scenario, one testcase per check. A check that did not pass has a
// failure element whose type is its result (fail, not-rehearsed or
// unverified, so that no CI system counts what did not happen as skipped);
// one that passed carries what was measured in its system-out. A run that
// could not complete is one testcase with an error element naming the
// phase.
//
// Times follow what CI systems expect: the testsuite's time attribute is
// the run's wall time in seconds from info (0.000 when info is nil, as for
// a report rendered again from a report.json without its run.json), its
// timestamp info's start; the scenario's simulated seconds are the
// property simulated_seconds.
func WriteJUnitRun(w io.Writer, r *Report, info *RunInfo) error {
	suites := junit.Testsuites{Name: r.Scenario}
	suites.AddSuite(junitSuite(r, info, 0))
	if info != nil {
		suites.Time = junitSeconds(info.WallSeconds)
	}
	return writeJUnit(w, &suites)
}

// JUnitRun is one run of a combined junit.xml: its report and, when
// known, its wall-clock facts.
type JUnitRun struct {
	Report *Report
	Info   *RunInfo
}

// WriteSuiteJUnit writes one junit.xml for many runs: a testsuite per run,
// as WriteJUnitRun writes it, numbered in order, under a testsuites
// element named name whose time is the wall seconds of the whole suite.
func WriteSuiteJUnit(w io.Writer, name string, wallSeconds float64, runs []JUnitRun) error {
	suites := junit.Testsuites{Name: name, Time: junitSeconds(wallSeconds)}
	for i, run := range runs {
		suites.AddSuite(junitSuite(run.Report, run.Info, i))
	}
	return writeJUnit(w, &suites)
}

func writeJUnit(w io.Writer, suites *junit.Testsuites) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	return suites.WriteXML(w)
}

func junitSeconds(s float64) string { return strconv.FormatFloat(s, 'f', 3, 64) }

func junitSuite(r *Report, info *RunInfo, id int) junit.Testsuite {
	suite := junit.Testsuite{Name: r.Scenario, ID: id, Time: junitSeconds(0)}
	if info != nil {
		suite.Time = junitSeconds(info.WallSeconds)
		suite.SetTimestamp(info.StartedAt)
	}
	suite.AddProperty("seed", strconv.FormatUint(r.Seed, 10))
	suite.AddProperty("platform", r.Platform)
	if r.Topology != nil {
		suite.AddProperty("topology", r.Topology.Name)
	}
	suite.AddProperty("verdict", r.Verdict)
	suite.AddProperty("simulated_seconds", strconv.FormatFloat(r.DurationSeconds, 'f', -1, 64))
	for _, o := range r.Overrides {
		suite.AddProperty("override."+o.Name, o.Value+" ("+o.Source+")")
	}
	if info != nil && info.Version != "" {
		suite.AddProperty("chaosdrill_version", info.Version)
	}
	if r.Error != nil {
		suite.AddTestcase(junit.Testcase{
			Name:      r.Scenario + ": run completed",
			Classname: r.Scenario + "." + r.Error.Phase,
			Error:     &junit.Result{Message: r.Error.Phase + " failed: " + r.Error.Message, Type: VerdictError, Data: r.Error.Message},
		})
	}
	for _, e := range r.Expectations {
		class := e.Service
		if class == "" {
			class = "schedule"
		}
		tc := junit.Testcase{Name: e.Name, Classname: r.Scenario + "." + class}
		if e.Result != VerdictPass {
			tc.Failure = &junit.Result{Message: e.Result + ": observed " + e.Observed, Type: e.Result, Data: e.Observed}
		} else {
			tc.SystemOut = &junit.Output{Data: "observed " + e.Observed}
		}
		suite.AddTestcase(tc)
	}
	return suite
}
