package reports

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Shared chart geometry of report.html and trend.html, in SVG user units.
const (
	// chartCharWidth is the width budgeted for one character of an 11 px
	// label: the widest average advance of the sans-serif fonts a browser
	// falls back to (DejaVu Sans about 6.4, Helvetica and Segoe UI less),
	// so that a label never takes more room on screen than was kept for it.
	chartCharWidth = 6.6
	// chartLabelGap is the clear space kept between two labels on one row.
	chartLabelGap = 6.0
	// chartMinTickSpacing is the least distance between two axis labels.
	chartMinTickSpacing = 64.0
)

// textWidth estimates the width of a chart label.
func textWidth(s string) float64 {
	return float64(utf8.RuneCountInString(s)) * chartCharWidth
}

// span is a horizontal extent a chart item keeps clear on its row: its
// drawn shape and its label.
type span struct{ from, to float64 }

// packRows puts each span on the lowest row where it overlaps no span
// placed before it, trying spans from left to right, so that no two labels
// ever overlap. Rows are capped at maxRows; a span that fits on none gets
// row -1 (the caller leaves it out and says so).
func packRows(spans []span, maxRows int) []int {
	rows := make([]int, len(spans))
	order := make([]int, len(spans))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return spans[order[a]].from < spans[order[b]].from })
	var rowEnds []float64
	for _, i := range order {
		row := 0
		for row < len(rowEnds) && rowEnds[row] > spans[i].from {
			row++
		}
		if row == maxRows {
			rows[i] = -1
			continue
		}
		if row == len(rowEnds) {
			rowEnds = append(rowEnds, 0)
		}
		rowEnds[row] = spans[i].to + chartLabelGap
		rows[i] = row
	}
	return rows
}

// timeTickSteps are the round intervals a time axis is marked at, in
// seconds: sub-second, seconds, minutes, hours, days.
var timeTickSteps = []float64{
	0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30,
	60, 2 * 60, 5 * 60, 10 * 60, 15 * 60, 30 * 60,
	3600, 2 * 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400,
}

// timeTicks returns the tick positions, in seconds, of a time axis from 0
// to spanSeconds drawn plotWidth wide: every multiple of the smallest
// round step whose labels stay chartMinTickSpacing apart.
func timeTicks(spanSeconds, plotWidth float64) []float64 {
	if !(spanSeconds > 0) || !(plotWidth > 0) {
		return []float64{0}
	}
	maxTicks := math.Max(1, math.Floor(plotWidth/chartMinTickSpacing))
	step := 0.0
	for _, s := range timeTickSteps {
		if spanSeconds/s <= maxTicks {
			step = s
			break
		}
	}
	if step == 0 {
		// Longer than maxTicks days: whole days.
		step = math.Ceil(spanSeconds/maxTicks/86400) * 86400
	}
	var ticks []float64
	for i := 0.0; i*step <= spanSeconds*(1+1e-9); i++ {
		ticks = append(ticks, i*step)
	}
	return ticks
}

// formatTick writes a tick's time the short way: 0, 500ms, 30s, 2m,
// 1m30s, 1h, 1h30m, 2d.
func formatTick(seconds float64) string {
	if seconds == 0 {
		return "0"
	}
	if seconds >= 86400 && math.Mod(seconds, 86400) == 0 {
		return strconv.FormatFloat(seconds/86400, 'f', -1, 64) + "d"
	}
	s := duration(seconds).Round(time.Millisecond).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// countAxis picks a round top and step for a count axis over [0, peak]
// with at most maxTicks steps: step is 1, 2, 2.5 (from 25 up, so that it
// stays whole) or 5 times a power of ten.
func countAxis(peak float64, maxTicks int) (top, step float64) {
	if !(peak > 0) {
		return 1, 1
	}
	raw := peak / float64(maxTicks)
	magnitude := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		step = m * magnitude
		if m == 2.5 && magnitude < 10 {
			continue
		}
		if step >= raw {
			break
		}
	}
	// Whole counts have whole steps.
	step = math.Max(step, 1)
	top = math.Ceil(peak/step) * step
	return top, step
}

// valueAxis is countAxis for a quantity that may be fractional (seconds,
// milliseconds): the step may be below 1.
func valueAxis(peak float64, maxTicks int) (top, step float64) {
	if !(peak > 0) || math.IsInf(peak, 0) {
		return 1, 0.25
	}
	raw := peak / float64(maxTicks)
	magnitude := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		step = m * magnitude
		if step >= raw {
			break
		}
	}
	return math.Ceil(peak/step) * step, step
}

// formatCount writes a count with thousands separators: 7,500.
func formatCount(n float64) string {
	s := strconv.FormatFloat(math.Round(n), 'f', 0, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// svgPoint is a marker of a trend chart: one run's value.
type svgPoint struct {
	X, Y  float64
	Class string
	Title string
}

// svgPath is a line of a trend chart through one series' values.
type svgPath struct {
	D     string
	Class string
}
