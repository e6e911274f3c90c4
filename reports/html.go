package reports

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strings"
)

//go:embed report.html.tmpl
var htmlSource string

//go:embed chart.svg.tmpl
var chartSource string

var htmlTemplate = template.Must(template.Must(template.New("report").Parse(htmlSource)).Parse(chartSource))

// Geometry of a service's chart, in SVG user units. From the top: rows of
// lanes (one bar and label per fault, runbook step, outage and lost-write
// span that touches the service), the plot of stacked bars, a strip of
// ticks at the acknowledgement times of lost writes, the time axis.
const (
	chartWidth      = 960.0
	chartLeft       = 66.0  // count labels and the count axis title
	chartRight      = 24.0  // half of the last time label
	chartTopMargin  = 4.0   // above the first lane row
	laneRowHeight   = 18.0  // one lane: a label over a thin bar
	laneBarHeight   = 5.0   // the bar of a lane
	laneLabelDrop   = 10.0  // label baseline below the row's top
	laneMaxRows     = 24    // more than this and the rest are left to the tables
	laneMinWidth    = 3.0   // the narrowest span drawn (an instant restart)
	chartPlotHeight = 150.0 // the bars
	rugGap          = 4.0   // between the axis and the strip of lost-write ticks
	rugHeight       = 8.0   // the strip of lost-write ticks under the axis
	chartBottom     = 48.0  // rug, time labels and the time axis title
	chartCountTicks = 5     // most count-axis intervals
	chartMinBarGap  = 0.15  // fraction of a bucket left blank between bars
	labelMaxRunes   = 60    // longer labels are cut (the tooltip has all)
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
	Title      string
}

type svgLine struct {
	X1, Y1, X2, Y2 float64
	Class          string
	Title          string
}

type svgText struct {
	X, Y   float64
	Text   string
	Class  string
	Anchor string // start (default), middle or end
	Rotate bool   // turned a quarter left about (X, Y): a vertical axis title
	Title  string
}

// chartView is one SVG chart as layers drawn bottom to top.
type chartView struct {
	Title         string
	Subtitle      string
	Label         string // aria-label
	Width, Height float64
	Bands         []svgRect // fault spans behind the bars
	Grid          []svgLine
	Bars          []svgRect
	Marks         []svgLine // runbook steps, the RTO instant
	Lanes         []svgRect
	Rug           []svgLine
	Axes          []svgLine
	Texts         []svgText
	Points        []svgPoint    // trend charts only
	Paths         []svgPath     // trend charts only
	Legend        []legendEntry // trend charts only
	Note          string        // what was left out, if anything
}

type legendEntry struct {
	X, Y        float64
	Class, Text string
}

type htmlView struct {
	Report       *Report
	Verdict      string
	Sentence     string
	Topology     string
	Duration     string
	Answers      []answer
	Charts       []chartView
	Legend       chartView
	Services     table
	Outages      table
	Reads        table
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
// assets, no scrolling boxes, so that it prints whole) with a chart of
// write outcomes over time per service and the tables of report.md. Each
// chart shows the faults and runbook steps that touch its service as
// spans over the bars (a restart as the short span it takes), the outage
// up to the RTO instant, and the lost writes at their acknowledgement
// times. All text is escaped by html/template.
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
		Legend:       chartLegend(),
		Services:     servicesTable(r),
		Outages:      outagesTable(r),
		Reads:        readsTable(r),
		Expectations: expectationsTable(r),
		Faults:       faultsTable(r),
		Runbook:      runbookTable(r),
		Sampled:      sampledTable(r),

		RehearsalSentence: rehearsalSentence(r),
		Rehearsal:         rehearsalTable(r),
		History:           historyTable(r),
		Timeline:          timeline,
	}
	for _, name := range r.ServiceNames() {
		view.Charts = append(view.Charts, buildChart(r, name))
	}
	if err := htmlTemplate.Execute(w, view); err != nil {
		return fmt.Errorf("render html: %w", err)
	}
	return nil
}

// chartLegend lays the legend out left to right by the width of each
// entry, wrapping to a new row rather than running off the page.
func chartLegend() chartView {
	entries := []struct{ class, text string }{}
	for _, s := range outcomeSeries {
		entries = append(entries, struct{ class, text string }{s.class, s.label})
	}
	entries = append(entries,
		struct{ class, text string }{"lane-fault", "fault (from injection to heal)"},
		struct{ class, text string }{"lane-step", "runbook step (start to done)"},
		struct{ class, text string }{"lane-outage", "outage, up to the RTO instant"},
		struct{ class, text string }{"lane-lost", "lost writes: span (RPO) and ack times"},
	)
	v := chartView{Width: chartWidth, Label: "legend"}
	x, y := 0.0, 4.0
	for _, e := range entries {
		w := 16 + textWidth(e.text) + 18
		if x > 0 && x+w > chartWidth {
			x, y = 0, y+18
		}
		v.Lanes = append(v.Lanes, svgRect{X: x, Y: y, W: 12, H: 12, Class: e.class})
		v.Texts = append(v.Texts, svgText{X: x + 16, Y: y + 10, Text: e.text})
		x += w
	}
	v.Height = y + 18
	return v
}

// laneItem is one span drawn in the lanes above a chart's plot.
type laneItem struct {
	from, to float64 // seconds
	class    string
	label    string
	title    string
}

// clip cuts a label to labelMaxRunes runes.
func clip(s string) string {
	r := []rune(s)
	if len(r) <= labelMaxRunes {
		return s
	}
	return string(r[:labelMaxRunes-1]) + "…"
}

// touches reports whether fault f hit a node of service: a fault that
// names no nodes, or a report without a topology, touches every service.
func touches(r *Report, f FaultReport, service string) bool {
	if r.Topology == nil || len(f.Nodes) == 0 {
		return true
	}
	for _, n := range r.Topology.Nodes {
		if n.Service == service && slices.Contains(f.Nodes, n.Name) {
			return true
		}
	}
	return false
}

func buildChart(r *Report, service string) chartView {
	s := r.Services[service]
	t := s.Timeline
	buckets := len(t.Acked)
	spanSeconds := math.Max(float64(buckets)*t.BucketSeconds, r.DurationSeconds)
	if !(spanSeconds > 0) || math.IsInf(spanSeconds, 0) {
		spanSeconds = 1
	}
	c := chartView{
		Title:    service,
		Subtitle: fmt.Sprintf("(bars of %s by invocation time)", formatSeconds(t.BucketSeconds)),
		Label:    "write outcomes of " + service + " over time",
		Width:    chartWidth,
	}
	plotLeft, plotRight := chartLeft, chartWidth-chartRight
	plotWidth := plotRight - plotLeft
	x := func(sec float64) float64 {
		if math.IsNaN(sec) {
			sec = 0
		}
		return plotLeft + math.Min(math.Max(sec, 0), spanSeconds)/spanSeconds*plotWidth
	}
	end := r.DurationSeconds
	if !(end > 0) {
		end = spanSeconds
	}

	// The spans that touch this service: its faults (and the fault it is
	// measured from, wherever that hit), its runbook steps, its outage and
	// its lost writes.
	var items []laneItem
	var faultBands []laneItem
	for _, f := range r.Faults {
		if f.At == nil || !(touches(r, f, service) || f.Name == s.Fault) {
			continue
		}
		if notInjected(f) {
			// Tried and refused: an instant, not a span of fault.
			items = append(items, laneItem{from: *f.At, to: *f.At, class: "lane-refused", label: f.Name + ": not injected",
				title: fmt.Sprintf("fault %s: %s %s at %s %s", f.Name, f.Kind, f.Target, formatSeconds(*f.At), f.Reason)})
			continue
		}
		item := laneItem{from: *f.At, to: end, class: "lane-fault", label: f.Name}
		healed := "never healed"
		if f.HealedAt != nil {
			item.to = *f.HealedAt
			healed = "healed at " + formatSeconds(*f.HealedAt)
			if f.Kind == "restart" {
				healed = fmt.Sprintf("back up at %s, %s after", formatSeconds(*f.HealedAt), formatSeconds(*f.HealedAt-*f.At))
			}
		} else if f.Kind == "restart" {
			healed = "never back up"
		}
		if !touches(r, f, service) {
			item.label += " (measured from)"
		}
		item.title = fmt.Sprintf("fault %s: %s %s at %s, %s", f.Name, f.Kind, f.Target, formatSeconds(*f.At), healed)
		items = append(items, item)
		faultBands = append(faultBands, item)
	}
	var steps []StepReport
	for _, st := range r.Runbook {
		if st.StartedAt == nil || (st.Service != "" && st.Service != service) {
			continue
		}
		steps = append(steps, st)
		item := laneItem{from: *st.StartedAt, to: end, class: "lane-step", label: st.Name}
		done := "never done"
		if st.DoneAt != nil {
			item.to = *st.DoneAt
			done = "done at " + formatSeconds(*st.DoneAt)
		}
		if st.Error != "" {
			done += ": " + st.Error
		}
		item.title = fmt.Sprintf("runbook %s (%s): started at %s, %s", st.Name, st.Action, formatSeconds(*st.StartedAt), done)
		items = append(items, item)
	}
	var recovered *float64
	if s.OutageStart != nil && s.FaultAt != nil {
		item := laneItem{from: *s.OutageStart, to: end, class: "lane-outage"}
		if s.RTO != nil {
			back := *s.FaultAt + *s.RTO
			recovered = &back
			item.to = back
			item.label = "outage: RTO " + formatSeconds(*s.RTO)
			item.title = fmt.Sprintf("no write invoked from %s on was acknowledged for good until %s: RTO %s after the fault at %s", formatSeconds(*s.OutageStart), formatSeconds(back), formatSeconds(*s.RTO), formatSeconds(*s.FaultAt))
		} else {
			item.label = "outage: writes never came back"
			item.title = fmt.Sprintf("no write invoked from %s on was acknowledged for good before the run ended", formatSeconds(*s.OutageStart))
		}
		items = append(items, item)
	}
	if s.Lost > 0 && len(s.LostWrites) > 0 {
		from, to := lostSpan(s)
		items = append(items, laneItem{
			from: from, to: to, class: "lane-lost",
			label: fmt.Sprintf("%s lost (RPO %s)", formatCount(float64(s.Lost)), formatSeconds(s.RPO)),
			title: fmt.Sprintf("%d acknowledged writes lost, acknowledged from %s to %s; RPO %s", s.Lost, formatSeconds(from), formatSeconds(math.Max(from, lostNewestListed(s))), formatSeconds(s.RPO)),
		})
	}

	// Lay the lanes out: each item keeps clear its bar and its label, and
	// goes on the lowest row where it overlaps nothing.
	type placed struct {
		x0, x1, labelX float64
	}
	geometry := make([]placed, len(items))
	spans := make([]span, len(items))
	for i, it := range items {
		it.label = clip(it.label)
		items[i].label = it.label
		x0 := x(it.from)
		x1 := math.Max(x(it.to), x0+laneMinWidth)
		labelX := math.Min(x0, chartWidth-2-textWidth(it.label))
		labelX = math.Max(labelX, 0)
		geometry[i] = placed{x0, x1, labelX}
		spans[i] = span{math.Min(x0, labelX), math.Max(x1, labelX+textWidth(it.label))}
	}
	rows := packRows(spans, laneMaxRows)
	rowCount, left := 0, 0
	for _, row := range rows {
		rowCount = max(rowCount, row+1)
		if row < 0 {
			left++
		}
	}
	if left > 0 {
		c.Note = fmt.Sprintf("%d more faults and steps are not drawn; the tables below list them all.", left)
	}
	plotTop := chartTopMargin + float64(rowCount)*laneRowHeight + 4
	plotBottom := plotTop + chartPlotHeight
	c.Height = plotBottom + chartBottom
	for i, it := range items {
		if rows[i] < 0 {
			continue
		}
		top := chartTopMargin + float64(rows[i])*laneRowHeight
		g := geometry[i]
		c.Lanes = append(c.Lanes, svgRect{X: g.x0, Y: top + laneLabelDrop + 2, W: g.x1 - g.x0, H: laneBarHeight, Class: it.class, Title: it.title})
		c.Texts = append(c.Texts, svgText{X: g.labelX, Y: top + laneLabelDrop, Text: it.label, Class: it.class, Title: it.title})
	}
	for _, f := range faultBands {
		x0 := x(f.from)
		c.Bands = append(c.Bands, svgRect{X: x0, Y: plotTop, W: math.Max(x(f.to), x0+laneMinWidth) - x0, H: chartPlotHeight, Class: "band-fault", Title: f.title})
	}

	// Bars, scaled to a round top of the count axis.
	var peak int64
	for i := 0; i < buckets; i++ {
		var total int64
		for _, series := range outcomeSeries {
			total += series.counts(t)[i]
		}
		peak = max(peak, total)
	}
	top, step := countAxis(float64(peak), chartCountTicks)
	barWidth := t.BucketSeconds / spanSeconds * plotWidth
	for i := 0; i < buckets; i++ {
		from := float64(i) * t.BucketSeconds
		y := plotBottom
		for _, series := range outcomeSeries {
			n := series.counts(t)[i]
			if n == 0 {
				continue
			}
			h := float64(n) / top * chartPlotHeight
			y -= h
			c.Bars = append(c.Bars, svgRect{
				X: x(from), Y: y, W: barWidth * (1 - chartMinBarGap), H: h, Class: series.class,
				Title: fmt.Sprintf("%s–%s: %d %s", formatSeconds(from), formatSeconds(from+t.BucketSeconds), n, series.label),
			})
		}
	}
	for v := 0.0; v <= top*(1+1e-9); v += step {
		y := plotBottom - v/top*chartPlotHeight
		c.Grid = append(c.Grid, svgLine{X1: plotLeft, X2: plotRight, Y1: y, Y2: y, Class: "grid"})
		c.Texts = append(c.Texts, svgText{X: plotLeft - 6, Y: y + 4, Text: formatCount(v), Anchor: "end", Class: "tick"})
	}
	c.Texts = append(c.Texts, svgText{X: 12, Y: plotTop + chartPlotHeight/2, Text: "writes per " + formatTick(t.BucketSeconds), Anchor: "middle", Rotate: true, Class: "axis-title"})

	// The runbook steps of this service and the instant writes came back.
	for _, st := range steps {
		title := fmt.Sprintf("runbook %s started at %s", st.Name, formatSeconds(*st.StartedAt))
		c.Marks = append(c.Marks, svgLine{X1: x(*st.StartedAt), X2: x(*st.StartedAt), Y1: plotTop, Y2: plotBottom, Class: "step", Title: title})
		if st.DoneAt != nil {
			title := fmt.Sprintf("runbook %s done at %s", st.Name, formatSeconds(*st.DoneAt))
			c.Marks = append(c.Marks, svgLine{X1: x(*st.DoneAt), X2: x(*st.DoneAt), Y1: plotTop, Y2: plotBottom, Class: "step-done", Title: title})
		}
	}
	if recovered != nil {
		c.Marks = append(c.Marks, svgLine{X1: x(*recovered), X2: x(*recovered), Y1: plotTop - 6, Y2: plotBottom, Class: "rto",
			Title: fmt.Sprintf("first acknowledgement of a write that survived, at %s: RTO %s", formatSeconds(*recovered), formatSeconds(*s.RTO))})
	}

	// Lost writes at their acknowledgement times, one tick per pixel, over
	// the span they were acknowledged in (the list holds the first
	// lostWritesListed; the span covers them all).
	if s.Lost > 0 && len(s.LostWrites) > 0 {
		from, to := lostSpan(s)
		x0 := x(from)
		c.Lanes = append(c.Lanes, svgRect{X: x0, Y: plotBottom + rugGap, W: math.Max(x(to), x0+laneMinWidth) - x0, H: rugHeight, Class: "rug-span",
			Title: fmt.Sprintf("%d acknowledged writes lost, acknowledged from %s; the first %d listed are ticked", s.Lost, formatSeconds(from), len(s.LostWrites))})
		seen := map[int]bool{}
		for _, lw := range s.LostWrites {
			px := x(lw.AckedAt)
			if seen[int(px*2)] {
				continue
			}
			seen[int(px*2)] = true
			c.Rug = append(c.Rug, svgLine{X1: px, X2: px, Y1: plotBottom + rugGap, Y2: plotBottom + rugGap + rugHeight, Class: "rug",
				Title: fmt.Sprintf("lost write %d, acknowledged at %s", lw.Op, formatSeconds(lw.AckedAt))})
		}
		c.Texts = append(c.Texts, svgText{X: plotLeft - 6, Y: plotBottom + rugGap + rugHeight + 1, Text: "lost acks", Anchor: "end", Class: "lane-lost"})
	}

	c.Axes = []svgLine{
		{X1: plotLeft, X2: plotRight, Y1: plotBottom, Y2: plotBottom, Class: "axis"},
		{X1: plotLeft, X2: plotLeft, Y1: plotTop, Y2: plotBottom, Class: "axis"},
	}
	tickY := plotBottom + rugGap + rugHeight + 14
	for _, at := range timeTicks(spanSeconds, plotWidth) {
		c.Axes = append(c.Axes, svgLine{X1: x(at), X2: x(at), Y1: plotBottom, Y2: plotBottom + 4, Class: "axis"})
		c.Texts = append(c.Texts, svgText{X: x(at), Y: tickY, Text: formatTick(at), Anchor: "middle", Class: "tick"})
	}
	c.Texts = append(c.Texts, svgText{X: plotLeft + plotWidth/2, Y: tickY + 16, Text: "time since the scenario started", Anchor: "middle", Class: "axis-title"})
	return c
}

// notInjected reports whether a fault's injection was refused outright
// (the runner's reason "could not be injected: ..."), so that nothing of
// it was ever in force.
func notInjected(f FaultReport) bool {
	return f.Status == StatusNotRehearsed && f.Error != "" && strings.HasPrefix(f.Reason, "could not be injected")
}

// lostSpan is the span of acknowledged data lost: from the oldest lost
// acknowledgement to the reference fault (or to the newest lost
// acknowledgement when later). With every lost write listed it is read
// off the list; otherwise from the fault and the RPO.
func lostSpan(s *ServiceReport) (from, to float64) {
	oldest := math.Inf(1)
	for _, lw := range s.LostWrites {
		oldest = math.Min(oldest, lw.AckedAt)
	}
	if int64(len(s.LostWrites)) < s.Lost && s.FaultAt != nil && s.LostAfterFault == 0 {
		oldest = *s.FaultAt - s.RPO
	}
	return oldest, oldest + s.RPO
}

func lostNewestListed(s *ServiceReport) float64 {
	newest := math.Inf(-1)
	for _, lw := range s.LostWrites {
		newest = math.Max(newest, lw.AckedAt)
	}
	return newest
}
