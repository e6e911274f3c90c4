package reports

import (
	"bufio"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// TrendSchema names the layout of `report trend --format json`.
const TrendSchema = "chaosdrill.trend/v1"

// Files `report trend` writes into its output folder.
const (
	FileTrendHTML     = "trend.html"
	FileTrendMarkdown = "trend.md"
	FileTrendJSON     = "trend.json"
)

// Trend is each scenario's metrics over many nights' runs, in date order.
type Trend struct {
	Schema    string          `json:"schema"`
	Nights    []TrendNight    `json:"nights"`
	Scenarios []TrendScenario `json:"scenarios"`
}

// TrendNight is one folder given to `report trend`: where it is and when it
// ran (DateFrom says how that was found: summary.json, run.json or the
// folder's name).
type TrendNight struct {
	Path      string    `json:"path"`
	StartedAt time.Time `json:"started_at"`
	DateFrom  string    `json:"date_from"`
}

// TrendScenario is one scenario over the nights it ran.
type TrendScenario struct {
	Scenario string     `json:"scenario"`
	Services []string   `json:"services"`
	Runs     []TrendRun `json:"runs"`
}

// TrendRun is one scenario's run of one night. Metrics holds, per service,
// each metric of [MetricRTO], [MetricRPO], [MetricLost], [MetricUnknown]
// and [MetricP99]; a null is a figure not measured, or an RTO that never
// came. NewlyFailing lists the checks that did not pass in this run but
// passed in (or were not part of) the scenario's run before: the first
// failures a trend marks.
type TrendRun struct {
	Night        int                            `json:"night"`
	StartedAt    time.Time                      `json:"started_at"`
	Seed         uint64                         `json:"seed"`
	Verdict      string                         `json:"verdict"`
	Metrics      map[string]map[string]*float64 `json:"metrics"`
	NotPassed    []ExpectationResult            `json:"not_passed"`
	NewlyFailing []ExpectationResult            `json:"newly_failing"`
	Error        *RunError                      `json:"error"`
	// expectations are all the run's checks, for the run after it.
	expectations []ExpectationResult
}

// NewTrend orders the sets by date and follows each scenario across them;
// nights[i] says where sets[i] is and when it ran.
func NewTrend(sets []*RunSet, nights []TrendNight) *Trend {
	order := make([]int, len(sets))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return nights[a].StartedAt.Compare(nights[b].StartedAt) })
	t := &Trend{Schema: TrendSchema, Nights: []TrendNight{}, Scenarios: []TrendScenario{}}
	index := map[string]int{}
	for _, i := range order {
		t.Nights = append(t.Nights, nights[i])
		night := len(t.Nights) - 1
		for _, run := range sets[i].Runs {
			r := run.Report
			at := nights[i].StartedAt
			if run.Info != nil && sets[i].Suite == nil {
				at = run.Info.StartedAt
			}
			k, ok := index[r.Scenario]
			if !ok {
				k = len(t.Scenarios)
				index[r.Scenario] = k
				t.Scenarios = append(t.Scenarios, TrendScenario{Scenario: r.Scenario, Services: []string{}})
			}
			sc := &t.Scenarios[k]
			tr := TrendRun{Night: night, StartedAt: at, Seed: r.Seed, Verdict: r.Verdict, Metrics: map[string]map[string]*float64{},
				NotPassed: []ExpectationResult{}, NewlyFailing: []ExpectationResult{}, Error: r.Error}
			for _, name := range r.ServiceNames() {
				if !slices.Contains(sc.Services, name) {
					sc.Services = append(sc.Services, name)
				}
				values := map[string]*float64{}
				for _, m := range compareMetrics {
					v, measured, never := m.value(r.Services[name])
					if measured && !never {
						values[m.name] = &v
					} else {
						values[m.name] = nil
					}
				}
				tr.Metrics[name] = values
			}
			var before map[string]string
			if n := len(sc.Runs); n > 0 {
				before = map[string]string{}
				for _, e := range sc.Runs[n-1].passedOrNot() {
					before[e.Name] = e.Result
				}
			}
			for _, e := range r.Expectations {
				if e.Result == VerdictPass {
					continue
				}
				tr.NotPassed = append(tr.NotPassed, e)
				if prior, seen := before[e.Name]; !seen || prior == VerdictPass {
					tr.NewlyFailing = append(tr.NewlyFailing, e)
				}
			}
			tr.expectations = r.Expectations
			sc.Runs = append(sc.Runs, tr)
		}
	}
	for i := range t.Scenarios {
		slices.Sort(t.Scenarios[i].Services)
	}
	slices.SortStableFunc(t.Scenarios, func(a, b TrendScenario) int { return strings.Compare(a.Scenario, b.Scenario) })
	return t
}

// passedOrNot is every check of the run with its result.
func (r TrendRun) passedOrNot() []ExpectationResult { return r.expectations }

// WriteTrendJSON writes trend.json.
func WriteTrendJSON(w io.Writer, t *Trend) error {
	return writeIndentedJSON(w, "trend", t)
}

// trendDate writes a run's date: the day, and the time when several runs
// fall on one day.
func trendDate(at time.Time) string { return at.UTC().Format("2006-01-02 15:04") }

// WriteTrendMarkdown writes trend.md: per scenario a table of its runs by
// date and service, each metric's value, and the checks that failed for
// the first time in that run.
func WriteTrendMarkdown(w io.Writer, t *Trend) error {
	b := bufio.NewWriter(w)
	fmt.Fprintf(b, "## chaosdrill trend: %d scenarios over %d runs\n\n", len(t.Scenarios), len(t.Nights))
	if len(t.Nights) > 0 {
		fmt.Fprintf(b, "%s\n\n", markdownText(fmt.Sprintf("From %s to %s (UTC). \"first failed\" names each check that did not pass in a run after passing in the one before (or in the first run).",
			trendDate(t.Nights[0].StartedAt), trendDate(t.Nights[len(t.Nights)-1].StartedAt))))
	}
	for _, sc := range t.Scenarios {
		fmt.Fprintf(b, "### %s\n\n", markdownText(sc.Scenario))
		headers := []string{"date", "verdict", "service"}
		for _, m := range compareMetrics {
			headers = append(headers, m.label)
		}
		headers = append(headers, "first failed")
		tb := table{Headers: headers}
		for _, run := range sc.Runs {
			failed := failedNames(run.NewlyFailing)
			services := sc.Services
			if len(run.Metrics) == 0 {
				what := "-"
				if run.Error != nil {
					what = run.Error.Phase + " failed"
				}
				row := []string{trendDate(run.StartedAt), strings.ToUpper(run.Verdict), what}
				row = append(row, slices.Repeat([]string{"-"}, len(compareMetrics))...)
				tb.Rows = append(tb.Rows, append(row, failed))
				continue
			}
			first := true
			for _, name := range services {
				values, ok := run.Metrics[name]
				if !ok {
					continue
				}
				row := []string{"", "", name}
				if first {
					row[0], row[1] = trendDate(run.StartedAt), strings.ToUpper(run.Verdict)
				}
				for _, m := range compareMetrics {
					row = append(row, trendValue(m, values[m.name]))
				}
				if first {
					row = append(row, failed)
				} else {
					row = append(row, "")
				}
				first = false
				tb.Rows = append(tb.Rows, row)
			}
		}
		writeMarkdownTable(b, tb)
	}
	return b.Flush()
}

func failedNames(es []ExpectationResult) string {
	var names []string
	for _, e := range es {
		names = append(names, e.Name+" ("+e.Result+")")
	}
	return strings.Join(names, "; ")
}

func trendValue(m metric, v *float64) string {
	if v == nil {
		if m.name == MetricRTO {
			return "never / -"
		}
		return "-"
	}
	return m.format(*v)
}

//go:embed trend.html.tmpl
var trendSource string

var trendTemplate = template.Must(template.Must(template.New("trend").Parse(trendSource)).Parse(chartSource))

// Geometry of a trend chart, in SVG user units.
const (
	trendPlotHeight  = 120.0
	trendSeries      = 6     // colours before they repeat
	trendLegendWidth = 130.0 // right of the plot: a service name per line
)

// trendAxis picks the value axis of a metric's trend chart: round times
// (30s, 1m, 5m) for seconds, round counts for writes and milliseconds,
// at most 4 steps; the label of each tick is in the metric's unit, which
// the axis title names.
func trendAxis(m metric, peak float64) (top, step float64, label func(float64) string) {
	switch m.unitName {
	case "seconds":
		const ticks = 4
		step = timeTickSteps[len(timeTickSteps)-1]
		for _, s := range timeTickSteps {
			if peak/s <= ticks {
				step = s
				break
			}
		}
		if peak/step > ticks {
			step = math.Ceil(peak/ticks/step) * step
		}
		top = math.Max(step, math.Ceil(peak/step)*step)
		return top, step, formatTick
	case "writes":
		top, step = countAxis(peak, 4)
		return top, step, formatCount
	default:
		top, step = valueAxis(peak, 4)
		return top, step, func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	}
}

type trendScenarioView struct {
	Scenario string
	Verdicts []trendVerdictView
	Charts   []chartView
	Failures []string
}

type trendVerdictView struct {
	Date, Verdict, Class string
}

type trendView struct {
	Title     string
	Range     string
	Scenarios []trendScenarioView
}

// WriteTrendHTML writes trend.html: per scenario the verdict of each run
// and a chart per metric over the runs' dates, one line per service, with
// each run where a check first failed marked by a line naming the check.
func WriteTrendHTML(w io.Writer, t *Trend) error {
	view := trendView{Title: fmt.Sprintf("chaosdrill trend: %d scenarios over %d runs", len(t.Scenarios), len(t.Nights))}
	if len(t.Nights) > 0 {
		view.Range = fmt.Sprintf("from %s to %s (UTC)", trendDate(t.Nights[0].StartedAt), trendDate(t.Nights[len(t.Nights)-1].StartedAt))
	}
	for _, sc := range t.Scenarios {
		sv := trendScenarioView{Scenario: sc.Scenario}
		for _, run := range sc.Runs {
			sv.Verdicts = append(sv.Verdicts, trendVerdictView{Date: trendDate(run.StartedAt), Verdict: strings.ToUpper(run.Verdict), Class: strings.ToUpper(run.Verdict)})
			for _, e := range run.NewlyFailing {
				sv.Failures = append(sv.Failures, fmt.Sprintf("%s: %s first failed (%s): observed %s", trendDate(run.StartedAt), e.Name, e.Result, e.Observed))
			}
		}
		for _, m := range compareMetrics {
			sv.Charts = append(sv.Charts, trendChart(t, sc, m))
		}
		view.Scenarios = append(view.Scenarios, sv)
	}
	if err := trendTemplate.Execute(w, view); err != nil {
		return fmt.Errorf("render trend html: %w", err)
	}
	return nil
}

// trendChart draws one metric of one scenario over the dates of the
// trend: a line per service, a point per run, and a marker at each run
// where a check first failed.
func trendChart(t *Trend, sc TrendScenario, m metric) chartView {
	c := chartView{Title: m.label, Label: m.label + " of " + sc.Scenario + " over time", Width: chartWidth}
	plotLeft, plotRight := chartLeft, chartWidth-trendLegendWidth
	plotWidth := plotRight - plotLeft
	from, to := t.Nights[0].StartedAt, t.Nights[len(t.Nights)-1].StartedAt
	spanSeconds := to.Sub(from).Seconds()
	x := func(at time.Time) float64 {
		if !(spanSeconds > 0) {
			return plotLeft + plotWidth/2
		}
		return plotLeft + at.Sub(from).Seconds()/spanSeconds*plotWidth
	}

	// First failures as labelled lines, laid out like a report's lanes.
	type marker struct {
		at    time.Time
		label string
		title string
	}
	var markers []marker
	for _, run := range sc.Runs {
		if len(run.NewlyFailing) == 0 && run.Error == nil {
			continue
		}
		var label string
		switch n := len(run.NewlyFailing); {
		case n == 0:
			label = "error: " + run.Error.Phase + " failed"
		case n == 1:
			label = "first failed: " + run.NewlyFailing[0].Name
		default:
			label = fmt.Sprintf("first failed: %s (+%d)", run.NewlyFailing[0].Name, n-1)
		}
		markers = append(markers, marker{run.StartedAt, clip(label), trendDate(run.StartedAt) + ": " + failedNames(run.NewlyFailing)})
	}
	spans := make([]span, len(markers))
	labelXs := make([]float64, len(markers))
	for i, mk := range markers {
		lx := math.Max(0, math.Min(x(mk.at)+3, chartWidth-2-textWidth(mk.label)))
		labelXs[i] = lx
		spans[i] = span{math.Min(x(mk.at), lx), lx + textWidth(mk.label)}
	}
	rows := packRows(spans, laneMaxRows)
	rowCount := 0
	for _, r := range rows {
		rowCount = max(rowCount, r+1)
	}
	plotTop := chartTopMargin + float64(rowCount)*laneRowHeight + 6
	plotBottom := plotTop + trendPlotHeight
	c.Height = plotBottom + 40
	for i, mk := range markers {
		if rows[i] < 0 {
			continue
		}
		y := chartTopMargin + float64(rows[i])*laneRowHeight + laneLabelDrop
		c.Texts = append(c.Texts, svgText{X: labelXs[i], Y: y, Text: mk.label, Class: "first-failed", Title: mk.title})
		c.Marks = append(c.Marks, svgLine{X1: x(mk.at), X2: x(mk.at), Y1: y + 3, Y2: plotBottom, Class: "first-failed", Title: mk.title})
	}

	// The value axis.
	peak := 0.0
	for _, run := range sc.Runs {
		for _, values := range run.Metrics {
			if v := values[m.name]; v != nil && !math.IsInf(*v, 0) && !math.IsNaN(*v) {
				peak = math.Max(peak, *v)
			}
		}
	}
	top, step, tickLabel := trendAxis(m, peak)
	y := func(v float64) float64 { return plotBottom - math.Min(math.Max(v, 0), top)/top*trendPlotHeight }
	for v := 0.0; v <= top*(1+1e-9); v += step {
		c.Grid = append(c.Grid, svgLine{X1: plotLeft, X2: plotRight, Y1: y(v), Y2: y(v), Class: "grid"})
		c.Texts = append(c.Texts, svgText{X: plotLeft - 6, Y: y(v) + 4, Text: tickLabel(v), Anchor: "end", Class: "tick"})
	}
	c.Texts = append(c.Texts, svgText{X: 10, Y: plotTop + trendPlotHeight/2, Text: m.unitName, Anchor: "middle", Rotate: true, Class: "axis-title"})

	// A line per service through its measured values; a gap where a run
	// did not measure it.
	for si, service := range sc.Services {
		class := fmt.Sprintf("series-%d", si%trendSeries)
		var d strings.Builder
		pen := false
		for _, run := range sc.Runs {
			v := run.Metrics[service][m.name]
			if v == nil {
				pen = false
				continue
			}
			px, py := x(run.StartedAt), y(*v)
			if pen {
				fmt.Fprintf(&d, " L%.2f %.2f", px, py)
			} else {
				fmt.Fprintf(&d, " M%.2f %.2f", px, py)
			}
			pen = true
			c.Points = append(c.Points, svgPoint{X: px, Y: py, Class: class, Title: fmt.Sprintf("%s %s, %s: %s", service, m.label, trendDate(run.StartedAt), m.format(*v))})
		}
		if d.Len() > 0 {
			c.Paths = append(c.Paths, svgPath{D: strings.TrimSpace(d.String()), Class: "line " + class})
		}
		c.Legend = append(c.Legend, legendEntry{X: plotRight + 10, Y: plotTop + 4 + float64(si)*14, Class: class, Text: service})
	}
	for _, l := range c.Legend {
		c.Lanes = append(c.Lanes, svgRect{X: l.X, Y: l.Y, W: 10, H: 3, Class: l.Class})
		c.Texts = append(c.Texts, svgText{X: l.X + 13, Y: l.Y + 5, Text: clip(l.Text), Class: "legend"})
	}

	c.Axes = []svgLine{
		{X1: plotLeft, X2: plotRight, Y1: plotBottom, Y2: plotBottom, Class: "axis"},
		{X1: plotLeft, X2: plotLeft, Y1: plotTop, Y2: plotBottom, Class: "axis"},
	}
	for _, tick := range dateTicks(from, to, plotWidth) {
		c.Axes = append(c.Axes, svgLine{X1: x(tick.at), X2: x(tick.at), Y1: plotBottom, Y2: plotBottom + 4, Class: "axis"})
		c.Texts = append(c.Texts, svgText{X: x(tick.at), Y: plotBottom + 17, Text: tick.label, Anchor: "middle", Class: "tick"})
	}
	c.Texts = append(c.Texts, svgText{X: plotLeft + plotWidth/2, Y: plotBottom + 33, Text: "run date (UTC)", Anchor: "middle", Class: "axis-title"})
	return c
}

type dateTick struct {
	at    time.Time
	label string
}

// dateTickDays are the round steps of a date axis, in days.
var dateTickDays = []int{1, 2, 7, 14, 28, 91, 182, 364}

// dateTicks marks a date axis from `from` to `to` at round steps: whole
// hours within two days, then midnights (UTC) one, two, seven, fourteen
// days... apart, never closer than chartMinTickSpacing.
func dateTicks(from, to time.Time, plotWidth float64) []dateTick {
	from, to = from.UTC(), to.UTC()
	span := to.Sub(from)
	if span <= 0 {
		return []dateTick{{from, from.Format("Jan 2 15:04")}}
	}
	maxTicks := math.Max(1, math.Floor(plotWidth/(chartMinTickSpacing+16)))
	var ticks []dateTick
	if span <= 48*time.Hour {
		for _, h := range []int{1, 2, 3, 6, 12, 24} {
			step := time.Duration(h) * time.Hour
			if float64(span/step) <= maxTicks {
				for at := from.Truncate(step); !at.After(to); at = at.Add(step) {
					if !at.Before(from) {
						ticks = append(ticks, dateTick{at, at.Format("Jan 2 15:04")})
					}
				}
				return ticks
			}
		}
	}
	days := dateTickDays[len(dateTickDays)-1]
	for _, d := range dateTickDays {
		if span.Hours()/24/float64(d) <= maxTicks {
			days = d
			break
		}
	}
	start := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, time.UTC)
	if start.Before(from) {
		start = start.AddDate(0, 0, 1)
	}
	for at := start; !at.After(to) && len(ticks) < 1000; at = at.AddDate(0, 0, days) {
		ticks = append(ticks, dateTick{at, at.Format("Jan 2")})
	}
	return ticks
}

// TrendOverrideWarnings names each scenario whose runs, night after
// night in the order given, overrode different parameters: its trend then
// mixes different experiments.
func TrendOverrideWarnings(sets []*RunSet) []string {
	var warnings []string
	last := map[string]*Report{}
	for _, set := range sets {
		for _, run := range set.Runs {
			r := run.Report
			if r == nil {
				continue
			}
			if before, ok := last[r.Scenario]; ok {
				if d := OverridesDiffer(before, r); d != "" {
					warnings = append(warnings, set.Path+": "+d)
				}
			}
			last[r.Scenario] = r
		}
	}
	return warnings
}
