package reports

import (
	"encoding/xml"
	"io"
	"strconv"

	"github.com/jstemmer/go-junit-report/v2/junit"
)

// WriteJUnit writes the report as JUnit XML: one testsuite named after the
// scenario, one testcase per check, a failure element on each that did not
// pass (its type is the result: fail, not-rehearsed or unverified, so that
// no CI system counts what did not happen as skipped). A run that could
// not complete is one testcase with an error element naming the phase.
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
