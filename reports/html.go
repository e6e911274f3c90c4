package reports

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strings"
)

//go:embed report.html.tmpl
var htmlSource string

var htmlTemplate = template.Must(template.New("report").Parse(htmlSource))

// Chart geometry, in SVG user units.
const (
	chartWidth      = 960.0
	chartPlotHeight = 140.0
	chartLeft       = 48.0 // room for the count axis
	chartTopMargin  = 8.0  // above the highest label row
	labelRowHeight  = 12.0 // one row of fault and step labels
	labelCharWidth  = 6.2  // estimated width of a label character at the chart's font size
	chartBottom     = 22.0 // room for the time axis
	chartTicks      = 6    // time-axis labels
	chartMinBarGap  = 0.15 // fraction of a bucket left blank between bars
	chartRight      = 28.0 // room for the last time label
	legendSpacing   = 190.0
)

// outcomeSeries are the stacked series of a chart, bottom to top.
var outcomeSeries = []struct {
	class, label string
	counts       func(Timeline) []int64
}{
	{"acked", "acked", func(t Timeline) []int64 { return t.Acked }},
	{"lost", "lost (acked, then missing)", func(t Timeline) []int64 { return t.Lost }},
	{"unknown", "unknown", func(t Timeline) []int64 { return t.Unknown }},
	{"failed", "failed", func(t Timeline) []int64 { return t.Failed }},
}

type svgRect struct {
	X, Y, W, H float64
	Class      string
	Label      string
	LabelY     float64
	Title      string
}

type svgMarker struct {
	X, DoneX float64
	Done     bool
	Label    string
	LabelY   float64
	Title    string
}

type svgTick struct {
	X, Y  float64
	Label string
}

type chartView struct {
	Service        string
	Width, Height  float64
	PlotLeft       float64
	PlotRight      float64
	PlotTop        float64
	PlotBottom     float64
	Bars           []svgRect
	Bands          []svgRect
	Markers        []svgMarker
	TimeTicks      []svgTick
	CountTicks     []svgTick
	BucketDuration string
}

type htmlView struct {
	Report       *Report
	Verdict      string
	Sentence     string
	Topology     string
	Duration     string
	Answers      []answer
	Charts       []chartView
	Legend       []svgRect
	Services     table
	Expectations table
	Faults       table
	Runbook      table
	// Rehearsal and History are a rehearsal's tables (empty in a run);
	// RehearsalSentence says how it went.
	RehearsalSentence string
	Rehearsal         table
	History           table
	Sampled           table
	Timeline          table
}

// WriteHTML writes report.html: one self-contained page (no external
// assets) with a chart of write outcomes over time per service, fault spans
// shaded and runbook steps marked, and the tables of report.md. All text is
// escaped by html/template.
func WriteHTML(w io.Writer, r *Report) error {
	topology := "-"
	if r.Topology != nil {
		topology = r.Topology.Name
	}
	timeline, _ := timelineTable(r, 0)
	view := htmlView{
		Report:       r,
		Verdict:      strings.ToUpper(r.Verdict),
		Sentence:     verdictSentence(r),
		Topology:     topology,
		Duration:     formatSeconds(r.DurationSeconds),
		Answers:      answers(r),
		Services:     servicesTable(r),
		Expectations: expectationsTable(r),
		Faults:       faultsTable(r),
		Runbook:      runbookTable(r),
		Sampled:      sampledTable(r),

		RehearsalSentence: rehearsalSentence(r),
		Rehearsal:         rehearsalTable(r),
		History:           historyTable(r),
		Timeline:          timeline,
	}
	for i, s := range outcomeSeries {
		view.Legend = append(view.Legend, svgRect{X: float64(i) * legendSpacing, Class: s.class, Title: s.label})
	}
	view.Legend = append(view.Legend,
		svgRect{X: float64(len(outcomeSeries)) * legendSpacing, Class: "fault", Title: "fault"})
	for _, name := range r.ServiceNames() {
		view.Charts = append(view.Charts, buildChart(r, name))
	}
	if err := htmlTemplate.Execute(w, view); err != nil {
		return fmt.Errorf("render html: %w", err)
	}
	return nil
}

// labelRows puts each label (left edge x, text) on the lowest row where it
// does not overlap the label before it on that row.
func labelRows(x []float64, text []string) []int {
	rows := make([]int, len(x))
	var rowEnds []float64
	order := make([]int, len(x))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return x[order[a]] < x[order[b]] })
	for _, i := range order {
		end := x[i] + 3 + float64(len(text[i]))*labelCharWidth
		row := 0
		for row < len(rowEnds) && rowEnds[row] > x[i] {
			row++
		}
		if row == len(rowEnds) {
			rowEnds = append(rowEnds, 0)
		}
		rowEnds[row] = end + 4
		rows[i] = row
	}
	return rows
}

func buildChart(r *Report, service string) chartView {
	t := r.Services[service].Timeline
	c := chartView{
		Service:        service,
		Width:          chartWidth,
		PlotLeft:       chartLeft,
		PlotRight:      chartWidth - chartRight,
		BucketDuration: formatSeconds(t.BucketSeconds),
	}
	buckets := len(t.Acked)
	spanSeconds := max(float64(buckets)*t.BucketSeconds, r.DurationSeconds)
	if spanSeconds <= 0 {
		spanSeconds = 1
	}
	plotWidth := c.PlotRight - c.PlotLeft
	x := func(s float64) float64 { return c.PlotLeft + min(max(s, 0), spanSeconds)/spanSeconds*plotWidth }

	// Fault and step labels that would overlap go on separate rows above
	// the plot; the plot starts below the last row used.
	// Only what happened is drawn.
	var faults []FaultReport
	var steps []StepReport
	for _, f := range r.Faults {
		if f.At != nil {
			faults = append(faults, f)
		}
	}
	for _, s := range r.Runbook {
		if s.StartedAt != nil {
			steps = append(steps, s)
		}
	}
	var labelX []float64
	var labels []string
	for _, f := range faults {
		labelX, labels = append(labelX, x(*f.At)), append(labels, f.Name)
	}
	for _, s := range steps {
		labelX, labels = append(labelX, x(*s.StartedAt)), append(labels, s.Name)
	}
	rows := labelRows(labelX, labels)
	rowCount := 1
	for _, row := range rows {
		rowCount = max(rowCount, row+1)
	}
	c.PlotTop = chartTopMargin + float64(rowCount)*labelRowHeight + 4
	c.PlotBottom = c.PlotTop + chartPlotHeight
	c.Height = c.PlotBottom + chartBottom
	labelY := func(i int) float64 { return c.PlotTop - 5 - float64(rows[i])*labelRowHeight }

	var peak int64
	for i := 0; i < buckets; i++ {
		var total int64
		for _, s := range outcomeSeries {
			total += s.counts(t)[i]
		}
		peak = max(peak, total)
	}
	if peak == 0 {
		peak = 1
	}
	barWidth := t.BucketSeconds / spanSeconds * plotWidth
	for i := 0; i < buckets; i++ {
		from := float64(i) * t.BucketSeconds
		y := c.PlotBottom
		for _, s := range outcomeSeries {
			n := s.counts(t)[i]
			if n == 0 {
				continue
			}
			h := float64(n) / float64(peak) * chartPlotHeight
			y -= h
			c.Bars = append(c.Bars, svgRect{
				X: x(from), Y: y, W: barWidth * (1 - chartMinBarGap), H: h, Class: s.class,
				Title: fmt.Sprintf("%s–%s: %d %s", formatSeconds(from), formatSeconds(from+t.BucketSeconds), n, s.label),
			})
		}
	}

	for _, f := range faults {
		end := spanSeconds
		healed := "never healed"
		if f.HealedAt != nil {
			end = *f.HealedAt
			healed = "healed at " + formatSeconds(end)
		}
		// A short fault (a restart that is back at once) still gets a
		// visible sliver.
		width := max(x(end)-x(*f.At), 2)
		c.Bands = append(c.Bands, svgRect{
			X: x(*f.At), Y: c.PlotTop, W: width, H: chartPlotHeight, Class: "fault", Label: f.Name, LabelY: labelY(len(c.Bands)),
			Title: fmt.Sprintf("fault %s: %s %s at %s, %s", f.Name, f.Kind, f.Target, formatSeconds(*f.At), healed),
		})
	}
	for _, s := range steps {
		m := svgMarker{X: x(*s.StartedAt), Label: s.Name, LabelY: labelY(len(faults) + len(c.Markers))}
		done := "never done"
		if s.DoneAt != nil {
			done = "done at " + formatSeconds(*s.DoneAt)
			m.Done, m.DoneX = true, x(*s.DoneAt)
		}
		if s.Error != "" {
			done += ": " + s.Error
		}
		m.Title = fmt.Sprintf("runbook %s (%s): started at %s, %s", s.Name, s.Action, formatSeconds(*s.StartedAt), done)
		c.Markers = append(c.Markers, m)
	}
	for i := 0; i <= chartTicks; i++ {
		at := spanSeconds * float64(i) / chartTicks
		c.TimeTicks = append(c.TimeTicks, svgTick{X: x(at), Y: c.PlotBottom + 15, Label: formatSeconds(at)})
	}
	c.CountTicks = []svgTick{
		{X: c.PlotLeft - 6, Y: c.PlotBottom, Label: "0"},
		{X: c.PlotLeft - 6, Y: c.PlotTop + 4, Label: fmt.Sprint(peak)},
	}
	return c
}
