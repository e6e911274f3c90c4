package reports

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// CompareSchema names the layout of `report compare --format json`.
const CompareSchema = "chaosdrill.compare/v1"

// Metrics `report compare` and `report trend` follow per scenario and
// service, and what a worse verdict is reported as.
const (
	MetricRTO     = "rto"     // seconds from the fault to writes back; never = worse than any
	MetricRPO     = "rpo"     // seconds of acknowledged data lost
	MetricLost    = "lost"    // acknowledged writes lost
	MetricUnknown = "unknown" // writes whose outcome the client never learnt
	MetricP99     = "p99"     // acknowledged write latency, 99th percentile, milliseconds
	MetricVerdict = "verdict" // the scenario's verdict got worse
	MetricService = "service" // a service of base is missing from new
)

// metric is how one metric is read off a service and written.
type metric struct {
	name, label string
	// value is the service's figure; measured is false when the report
	// could not count it (a failed read-back, no write acknowledged);
	// never is true for an RTO that never came.
	value func(*ServiceReport) (v float64, measured, never bool)
	// unit parses an absolute threshold into the metric's unit.
	unit   func(string) (float64, error)
	format func(float64) string
	// unitName is the unit of value, for JSON readers.
	unitName string
}

func durationSeconds(s string) (float64, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (30s, 1m30s, 250ms)", s)
	}
	return d.Seconds(), nil
}

func durationMilliseconds(s string) (float64, error) {
	sec, err := durationSeconds(s)
	return sec * 1e3, err
}

func countValue(s string) (float64, error) {
	n, err := strconv.ParseUint(s, 10, 63)
	if err != nil {
		return 0, fmt.Errorf("%q is not a count of writes", s)
	}
	return float64(n), nil
}

// compareMetrics are the metrics compared, in the order they are shown.
var compareMetrics = []metric{
	{MetricRTO, "RTO", func(s *ServiceReport) (float64, bool, bool) {
		if s.RTO == nil {
			return 0, true, true
		}
		return *s.RTO, true, false
	}, durationSeconds, formatSeconds, "seconds"},
	{MetricRPO, "RPO", func(s *ServiceReport) (float64, bool, bool) {
		return s.RPO, s.ReadBack != ReadBackFailed, false
	}, durationSeconds, formatSeconds, "seconds"},
	{MetricLost, "lost writes", func(s *ServiceReport) (float64, bool, bool) {
		return float64(s.Lost), s.ReadBack != ReadBackFailed, false
	}, countValue, formatCount, "writes"},
	{MetricUnknown, "unknown writes", func(s *ServiceReport) (float64, bool, bool) {
		return float64(s.Unknown), true, false
	}, countValue, formatCount, "writes"},
	{MetricP99, "p99 write latency", func(s *ServiceReport) (float64, bool, bool) {
		return s.WriteLatency.P99, s.Acked > 0, false
	}, durationMilliseconds, func(ms float64) string { return formatMilliseconds(ms) + " ms" }, "milliseconds"},
}

func metricNamed(name string) (metric, bool) {
	i := slices.IndexFunc(compareMetrics, func(m metric) bool { return m.name == name })
	if i < 0 {
		return metric{}, false
	}
	return compareMetrics[i], true
}

// Threshold is how far a metric may rise before it is a regression: by
// more than Absolute (in the metric's unit: seconds for rto and rpo,
// writes for lost and unknown, milliseconds for p99) and by more than
// Relative times its base value (0.2 is 20%). Both must be passed, so that
// neither a small rise of a large figure nor a large rise of a tiny one
// (1 ms to 3 ms) raises an alarm; a base of 0 makes any rise past the
// absolute threshold a regression.
type Threshold struct {
	Relative float64 `json:"relative"`
	Absolute float64 `json:"absolute"`
}

// Thresholds maps each metric to its threshold.
type Thresholds map[string]Threshold

// DefaultThresholds are the thresholds of `report compare` unless set:
// model assumptions chosen so that two runs of the simulator with one
// seed never differ and a live run's usual spread does not alarm, while a
// doubled RTO always does.
//
//   - rto and rpo: 20% and 1 s. A live outage is measured to within 100 ms
//     (DESIGN.md "Targets"); operator delays vary by seconds.
//   - lost: 10% and 0 writes: a first lost write is always a regression.
//   - unknown: 50% and 5 writes: writes in flight at a kill are a handful
//     and vary with the moment of the fault.
//   - p99: 25% and 5 ms: a shared CI runner's latency tail moves by a few
//     milliseconds from night to night.
func DefaultThresholds() Thresholds {
	return Thresholds{
		MetricRTO:     {Relative: 0.20, Absolute: 1},
		MetricRPO:     {Relative: 0.20, Absolute: 1},
		MetricLost:    {Relative: 0.10, Absolute: 0},
		MetricUnknown: {Relative: 0.50, Absolute: 5},
		MetricP99:     {Relative: 0.25, Absolute: 5},
	}
}

// ThresholdMetrics names the metrics a threshold can be set for.
func ThresholdMetrics() []string {
	var names []string
	for _, m := range compareMetrics {
		names = append(names, m.name)
	}
	return names
}

// Set changes one metric's threshold from "METRIC=VALUE[,VALUE]", each
// value a percentage (relative: "50%") or an amount in the metric's unit
// (absolute: "2s" for rto and rpo, "10ms" for p99, "3" for lost and
// unknown). What is not given keeps its value.
func (t Thresholds) Set(spec string) error {
	name, values, ok := strings.Cut(spec, "=")
	if !ok || values == "" {
		return fmt.Errorf("%q: want METRIC=VALUE[,VALUE], e.g. rto=50%%,2s", spec)
	}
	m, known := metricNamed(strings.TrimSpace(name))
	if !known {
		return fmt.Errorf("%q: unknown metric %q; want one of %s", spec, name, strings.Join(ThresholdMetrics(), ", "))
	}
	th := t[m.name]
	for _, v := range strings.Split(values, ",") {
		v = strings.TrimSpace(v)
		if pct, isPct := strings.CutSuffix(v, "%"); isPct {
			f, err := strconv.ParseFloat(pct, 64)
			if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
				return fmt.Errorf("%q: %q is not a percentage of 0 or more", spec, v)
			}
			th.Relative = f / 100
			continue
		}
		f, err := m.unit(v)
		if err != nil {
			return fmt.Errorf("%q: %v", spec, err)
		}
		if f < 0 {
			return fmt.Errorf("%q: %q is negative", spec, v)
		}
		th.Absolute = f
	}
	t[m.name] = th
	return nil
}

// describe writes a threshold in the metric's unit: "20% and 1s".
func (t Thresholds) describe(m metric) string {
	th := t[m.name]
	return fmt.Sprintf("%s and %s", strconv.FormatFloat(th.Relative*100, 'f', -1, 64)+"%", m.format(th.Absolute))
}

// Metric statuses of a comparison.
const (
	ChangeRegression  = "regression"  // rose past both thresholds
	ChangeImprovement = "improvement" // fell past both thresholds
	ChangeSame        = "same"        // within the thresholds
	ChangeUnmeasured  = "unmeasured"  // one side could not measure it
)

// MetricChange is one metric of one service from base to new. Base and
// New are null when not measured, or for an RTO that never came (Note
// says which).
type MetricChange struct {
	Metric         string   `json:"metric"`
	Unit           string   `json:"unit"`
	Base           *float64 `json:"base"`
	New            *float64 `json:"new"`
	BaseNote       string   `json:"base_note,omitempty"`
	NewNote        string   `json:"new_note,omitempty"`
	Change         *float64 `json:"change"`
	RelativeChange *float64 `json:"relative_change"`
	Status         string   `json:"status"`
}

// ServiceComparison is one service of a scenario in both runs.
type ServiceComparison struct {
	Service string         `json:"service"`
	Metrics []MetricChange `json:"metrics"`
}

// ScenarioComparison is one scenario in both runs.
type ScenarioComparison struct {
	Scenario    string              `json:"scenario"`
	BaseVerdict string              `json:"base_verdict"`
	NewVerdict  string              `json:"new_verdict"`
	Services    []ServiceComparison `json:"services"`
	// Services in one run only (a service added or removed).
	OnlyInBase []string `json:"only_in_base"`
	OnlyInNew  []string `json:"only_in_new"`
}

// Regression is one metric that got worse past its thresholds, or a
// scenario whose verdict got worse (Metric verdict, Service empty).
type Regression struct {
	Scenario string `json:"scenario"`
	Service  string `json:"service"`
	Metric   string `json:"metric"`
	Base     string `json:"base"`
	New      string `json:"new"`
	Why      string `json:"why"`
}

// String is the regression in one line: scenario, service, metric, from
// and to, and why it counts.
func (r Regression) String() string {
	switch r.Metric {
	case MetricVerdict:
		return fmt.Sprintf("%s: verdict %s -> %s", r.Scenario, r.Base, r.New)
	case MetricService:
		return fmt.Sprintf("%s: service %s %s -> %s (%s)", r.Scenario, r.Service, r.Base, r.New, r.Why)
	}
	return fmt.Sprintf("%s: %s %s %s -> %s (%s)", r.Scenario, r.Service, metricLabel(r.Metric), r.Base, r.New, r.Why)
}

func metricLabel(name string) string {
	if m, ok := metricNamed(name); ok {
		return m.label
	}
	return name
}

// Comparison is the outcome of `report compare`: per scenario and service
// the change of each metric, the regressions, and the scenarios in only
// one of the runs.
type Comparison struct {
	Schema      string               `json:"schema"`
	Base        string               `json:"base"`
	New         string               `json:"new"`
	Thresholds  Thresholds           `json:"thresholds"`
	Scenarios   []ScenarioComparison `json:"scenarios"`
	Regressions []Regression         `json:"regressions"`
	OnlyInBase  []string             `json:"only_in_base"`
	OnlyInNew   []string             `json:"only_in_new"`
	// Notes say what makes the runs less comparable: other seeds, another
	// platform, other overrides, stored verdicts worked out again.
	Notes []string `json:"notes"`
	// OverrideWarnings name each scenario whose runs overrode different
	// parameters (see OverridesDiffer); they are among the notes too.
	OverrideWarnings []string `json:"override_warnings"`
}

// Compare compares the runs of base and new scenario by scenario (by
// name, in new's order, then those only in base). A scenario only in one
// set is listed, not counted as a regression: the run that dropped it
// gates on its own exit code. A service of base missing from new's run of
// the scenario is a regression. When no scenario is in both,
// Comparison.Scenarios is empty: nothing was compared (the CLI refuses
// that; see CompareAcross for two runs of differently named scenarios).
func Compare(base, new *RunSet, th Thresholds) *Comparison {
	c := newComparison(base, new, th)
	for _, n := range new.Runs {
		b, ok := base.Run(n.Report.Scenario)
		if !ok {
			c.OnlyInNew = append(c.OnlyInNew, n.Report.Scenario)
			continue
		}
		c.Scenarios = append(c.Scenarios, c.compareScenario(b.Report, n.Report))
	}
	for _, b := range base.Runs {
		if _, ok := new.Run(b.Report.Scenario); !ok {
			c.OnlyInBase = append(c.OnlyInBase, b.Report.Scenario)
		}
	}
	return c
}

// CompareAcross compares two single runs whatever their scenarios are
// named (a scenario renamed, or one compared with a variant of it), with a
// note naming both.
func CompareAcross(base, new StoredRun, basePath, newPath string, th Thresholds) *Comparison {
	c := newComparison(&RunSet{Path: basePath}, &RunSet{Path: newPath}, th)
	if base.Report.Scenario != new.Report.Scenario {
		c.Notes = append(c.Notes, fmt.Sprintf("scenario %s in base is compared with scenario %s in new", base.Report.Scenario, new.Report.Scenario))
	}
	c.Scenarios = append(c.Scenarios, c.compareScenario(base.Report, new.Report))
	return c
}

func newComparison(base, new *RunSet, th Thresholds) *Comparison {
	c := &Comparison{
		Schema: CompareSchema, Base: base.Path, New: new.Path, Thresholds: th,
		Scenarios: []ScenarioComparison{}, Regressions: []Regression{}, OnlyInBase: []string{}, OnlyInNew: []string{}, Notes: []string{}, OverrideWarnings: []string{},
	}
	c.Notes = append(c.Notes, base.Warnings...)
	c.Notes = append(c.Notes, new.Warnings...)
	return c
}

func (c *Comparison) compareScenario(base, new *Report) ScenarioComparison {
	sc := ScenarioComparison{Scenario: new.Scenario, BaseVerdict: base.Verdict, NewVerdict: new.Verdict,
		Services: []ServiceComparison{}, OnlyInBase: []string{}, OnlyInNew: []string{}}
	if base.Seed != new.Seed {
		c.Notes = append(c.Notes, fmt.Sprintf("%s: seed %d in base, %d in new; on the simulator another seed draws other timings", new.Scenario, base.Seed, new.Seed))
	}
	if base.Platform != new.Platform {
		c.Notes = append(c.Notes, fmt.Sprintf("%s: platform %s in base, %s in new", new.Scenario, base.Platform, new.Platform))
	}
	if d := OverridesDiffer(base, new); d != "" {
		c.Notes = append(c.Notes, d)
		c.OverrideWarnings = append(c.OverrideWarnings, d)
	}
	if new.Verdict != base.Verdict && worse(base.Verdict, new.Verdict) == new.Verdict {
		c.Regressions = append(c.Regressions, Regression{Scenario: new.Scenario, Metric: MetricVerdict, Base: base.Verdict, New: new.Verdict, Why: "the verdict got worse"})
	}
	for _, name := range new.ServiceNames() {
		bs, ok := base.Services[name]
		if !ok {
			sc.OnlyInNew = append(sc.OnlyInNew, name)
			continue
		}
		svc := ServiceComparison{Service: name}
		for _, m := range compareMetrics {
			change := c.compareMetric(m, bs, new.Services[name])
			svc.Metrics = append(svc.Metrics, change)
			if change.Status == ChangeRegression {
				c.Regressions = append(c.Regressions, Regression{Scenario: new.Scenario, Service: name, Metric: m.name,
					Base: valueText(m, change.Base, change.BaseNote), New: valueText(m, change.New, change.NewNote), Why: regressionWhy(m, change, c.Thresholds)})
			}
		}
		sc.Services = append(sc.Services, svc)
	}
	for _, name := range base.ServiceNames() {
		if _, ok := new.Services[name]; !ok {
			// Nothing of it was measured in new: a regression, not a
			// service quietly gone.
			sc.OnlyInBase = append(sc.OnlyInBase, name)
			c.Regressions = append(c.Regressions, Regression{Scenario: new.Scenario, Service: name, Metric: MetricService,
				Base: "measured", New: "missing", Why: "the new report has no figures for it"})
		}
	}
	return sc
}

// Notes of a value that is not a number.
const (
	noteNever      = "never recovered"
	noteUnmeasured = "not measured"
)

func (c *Comparison) compareMetric(m metric, base, new *ServiceReport) MetricChange {
	change := MetricChange{Metric: m.name, Unit: m.unitName}
	bv, bMeasured, bNever := m.value(base)
	nv, nMeasured, nNever := m.value(new)
	side := func(v float64, measured, never bool) (*float64, string) {
		switch {
		case !measured:
			return nil, noteUnmeasured
		case never:
			return nil, noteNever
		}
		return &v, ""
	}
	change.Base, change.BaseNote = side(bv, bMeasured, bNever)
	change.New, change.NewNote = side(nv, nMeasured, nNever)
	switch {
	case !bMeasured || !nMeasured:
		change.Status = ChangeUnmeasured
	case bNever && nNever:
		change.Status = ChangeSame
	case nNever:
		change.Status = ChangeRegression
	case bNever:
		change.Status = ChangeImprovement
	default:
		d := nv - bv
		change.Change = &d
		if bv != 0 {
			rel := d / bv
			change.RelativeChange = &rel
		}
		th := c.Thresholds[m.name]
		switch {
		case d > th.Absolute && d > th.Relative*bv:
			change.Status = ChangeRegression
		case -d > th.Absolute && -d > th.Relative*bv:
			change.Status = ChangeImprovement
		default:
			change.Status = ChangeSame
		}
	}
	return change
}

func valueText(m metric, v *float64, note string) string {
	if v == nil {
		return note
	}
	return m.format(*v)
}

// changeText writes a change: "+2m1.008s, +100%".
func changeText(m metric, ch MetricChange) string {
	if ch.Change == nil {
		return ""
	}
	amount := m.format(math.Abs(*ch.Change))
	s := amount
	// No sign on a change that reads as nothing ("0s", "0"): "-0s" says
	// less than nothing.
	if zero := m.format(0); amount != zero {
		if *ch.Change < 0 {
			s = "-" + amount
		} else {
			s = "+" + amount
		}
	}
	if ch.RelativeChange != nil {
		s += ", " + FormatPercent(*ch.RelativeChange)
	}
	return s
}

func regressionWhy(m metric, ch MetricChange, th Thresholds) string {
	if ch.NewNote == noteNever {
		return "writes never came back"
	}
	return changeText(m, ch) + "; thresholds " + th.describe(m)
}

// WriteComparisonJSON writes the comparison as JSON.
func WriteComparisonJSON(w io.Writer, c *Comparison) error {
	return writeIndentedJSON(w, "comparison", c)
}

// WriteComparisonMarkdown writes the comparison for people and CI pages:
// the regressions first, then every scenario and service with each metric
// from base to new.
func WriteComparisonMarkdown(w io.Writer, c *Comparison) error {
	b := bufio.NewWriter(w)
	switch n := len(c.Regressions); n {
	case 0:
		fmt.Fprintf(b, "## chaosdrill compare: no regression\n\n")
	case 1:
		fmt.Fprintf(b, "## chaosdrill compare: 1 regression\n\n")
	default:
		fmt.Fprintf(b, "## chaosdrill compare: %d regressions\n\n", n)
	}
	fmt.Fprintf(b, "%s\n\n", markdownText(fmt.Sprintf("Base %s, new %s: %s in both.", c.Base, c.New, plural(len(c.Scenarios), "scenario"))))
	var th []string
	for _, m := range compareMetrics {
		th = append(th, m.label+" "+c.Thresholds.describe(m))
	}
	fmt.Fprintf(b, "%s\n\n", markdownText("A metric regressed when it rose by more than both of its thresholds: "+strings.Join(th, "; ")+". A worse verdict is a regression too."))
	if len(c.Regressions) > 0 {
		t := table{Headers: []string{"scenario", "service", "metric", "base", "new", "why"}}
		for _, r := range c.Regressions {
			t.Rows = append(t.Rows, []string{r.Scenario, r.Service, metricLabel(r.Metric), r.Base, r.New, r.Why})
		}
		fmt.Fprintf(b, "### Regressions\n\n")
		writeMarkdownTable(b, t)
	}
	if len(c.Scenarios) > 0 {
		headers := []string{"scenario", "verdict", "service"}
		for _, m := range compareMetrics {
			headers = append(headers, m.label)
		}
		t := table{Headers: headers}
		for _, sc := range c.Scenarios {
			verdict := sc.BaseVerdict
			if sc.NewVerdict != sc.BaseVerdict {
				verdict += " -> " + sc.NewVerdict
			}
			if len(sc.Services) == 0 {
				t.Rows = append(t.Rows, append([]string{sc.Scenario, verdict, "-"}, slices.Repeat([]string{"-"}, len(compareMetrics))...))
			}
			for i, svc := range sc.Services {
				row := []string{sc.Scenario, verdict, svc.Service}
				if i > 0 {
					row[0], row[1] = "", ""
				}
				for j, ch := range svc.Metrics {
					row = append(row, changeCell(compareMetrics[j], ch))
				}
				t.Rows = append(t.Rows, row)
			}
		}
		fmt.Fprintf(b, "### Scenarios\n\n")
		writeMarkdownTable(b, t)
	}
	for _, list := range []struct {
		what  string
		names []string
	}{{"Only in base (not run in new)", c.OnlyInBase}, {"Only in new (not in base)", c.OnlyInNew}} {
		if len(list.names) > 0 {
			fmt.Fprintf(b, "%s\n\n", markdownText(list.what+": "+strings.Join(list.names, ", ")+"."))
		}
	}
	for _, sc := range c.Scenarios {
		if len(sc.OnlyInBase) > 0 {
			fmt.Fprintf(b, "%s\n\n", markdownText(fmt.Sprintf("%s: services only in base: %s.", sc.Scenario, strings.Join(sc.OnlyInBase, ", "))))
		}
		if len(sc.OnlyInNew) > 0 {
			fmt.Fprintf(b, "%s\n\n", markdownText(fmt.Sprintf("%s: services only in new: %s.", sc.Scenario, strings.Join(sc.OnlyInNew, ", "))))
		}
	}
	if len(c.Notes) > 0 {
		fmt.Fprintf(b, "### Notes\n\n")
		for _, n := range c.Notes {
			fmt.Fprintf(b, "- %s\n", markdownText(n))
		}
		fmt.Fprintln(b)
	}
	return b.Flush()
}

// changeCell writes one metric of a service: the value when unchanged,
// else base -> new with the change, and REGRESSION or improved past the
// thresholds.
func changeCell(m metric, ch MetricChange) string {
	base, new := valueText(m, ch.Base, ch.BaseNote), valueText(m, ch.New, ch.NewNote)
	if base == new {
		return new
	}
	s := base + " -> " + new
	if c := changeText(m, ch); c != "" {
		s += " (" + c + ")"
	}
	switch ch.Status {
	case ChangeRegression:
		s += " REGRESSION"
	case ChangeImprovement:
		s += " improved"
	}
	return s
}
