package reports

import (
	"encoding/xml"
	"io"
	"strconv"

	"github.com/jstemmer/go-junit-report/v2/junit"
)

// WriteJUnit writes the report as JUnit XML: one testsuite named after the
// scenario, one testcase per expectation, a failure element on each that did
// not hold. CI systems read it to gate on a run.
func WriteJUnit(w io.Writer, r *Report) error {
	suite := junit.Testsuite{
		Name: r.Scenario,
		Time: strconv.FormatFloat(r.DurationSeconds, 'f', 3, 64),
	}
	suite.AddProperty("seed", strconv.FormatUint(r.Seed, 10))
	suite.AddProperty("platform", r.Platform)
	if r.Topology != nil {
		suite.AddProperty("topology", r.Topology.Name)
	}
	suite.AddProperty("verdict", r.Verdict)
	for _, e := range r.Expectations {
		tc := junit.Testcase{Name: e.Name, Classname: r.Scenario + "." + e.Service}
		if !e.Pass {
			tc.Failure = &junit.Result{Message: "observed " + e.Observed, Type: "expectation", Data: e.Observed}
		}
		suite.AddTestcase(tc)
	}
	suites := junit.Testsuites{Name: r.Scenario}
	suites.AddSuite(suite)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	return suites.WriteXML(w)
}
