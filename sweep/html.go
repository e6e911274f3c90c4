package sweep

import (
	"fmt"
	"html"
	"html/template"
	"io"
	"math"
	"strings"
)

// WriteHTML writes sweep.html: the gates and checks, a histogram per
// service and figure, and with a what-if a chart of each figure's p50,
// p90 and p99 per value and of each gate's share per value (with its 95%
// interval). One file, no script, nothing fetched.
func (r *Result) WriteHTML(w io.Writer, replay Replay) error {
	var md strings.Builder
	if err := r.WriteMarkdown(&md, replay); err != nil {
		return err
	}
	page := htmlPage{Title: "Sweep of " + r.Scenario, Heading: r.Heading(), Partial: r.Partial != nil}
	if len(r.Variants) > 1 {
		for _, service := range r.Services {
			for _, metric := range []string{MetricRTO, MetricRPO, MetricLost, MetricLatencyP99} {
				page.WhatIf = append(page.WhatIf, template.HTML(r.whatIfChart(service, metric)))
			}
		}
		for i := range r.Gates {
			page.WhatIf = append(page.WhatIf, template.HTML(r.gateChart(i)))
		}
	}
	for _, v := range r.Variants {
		sec := htmlVariant{Title: "Results", Verdicts: verdictText(v)}
		if v.Value != nil {
			sec.Title = r.Vary.Name + " = " + *v.Value
		}
		for _, g := range v.Gates {
			sec.Gates = append(sec.Gates, htmlRow{Pass: g.Pass, Text: gateObserved(g)})
		}
		for _, c := range v.Checks {
			sec.Checks = append(sec.Checks, htmlRow{Pass: c.Met == c.Seeds, Text: fmt.Sprintf("%s: %d/%d, %s", c.Check, c.Met, c.Seeds, shareText(c.Share, c.CI95))})
		}
		for _, service := range r.Services {
			for _, metric := range []string{MetricRTO, MetricRPO, MetricLost, MetricUnknown, MetricLatencyP99} {
				sec.Histograms = append(sec.Histograms, template.HTML(histogramChart(service, metric, v.Services[service][metric])))
			}
		}
		page.Variants = append(page.Variants, sec)
	}
	page.Markdown = md.String()
	return htmlTemplate.Execute(w, page)
}

type htmlPage struct {
	Title, Heading string
	Partial        bool
	WhatIf         []template.HTML
	Variants       []htmlVariant
	Markdown       string
}

type htmlVariant struct {
	Title, Verdicts string
	Gates, Checks   []htmlRow
	Histograms      []template.HTML
}

type htmlRow struct {
	Pass bool
	Text string
}

var htmlTemplate = template.Must(template.New("sweep").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:1200px}
h1{font-size:1.4em}h2{font-size:1.2em;margin-top:2em}
.partial{background:#fff3cd;padding:.5em 1em;border:1px solid #e0c060}
.pass{color:#1a7f37}.fail{color:#cf222e}
.charts{display:flex;flex-wrap:wrap;gap:1em}
svg{background:#fafafa;border:1px solid #ddd}
svg text{font-size:11px;fill:#333}
details pre{white-space:pre-wrap;font-size:12px}
@media print{.charts{display:block}svg{page-break-inside:avoid}}
</style></head><body>
<h1>{{.Title}}</h1>
<p>{{.Heading}}</p>
{{if .Partial}}<p class="partial">Partial: the sweep was interrupted; everything below is of the runs that finished.</p>{{end}}
{{if .WhatIf}}<h2>What-if</h2><div class="charts">{{range .WhatIf}}{{.}}{{end}}</div>{{end}}
{{range .Variants}}<h2>{{.Title}}</h2>
<p>Verdicts: {{.Verdicts}}</p>
<h3>Gates</h3><ul>{{range .Gates}}<li class="{{if .Pass}}pass{{else}}fail{{end}}">{{if .Pass}}PASS{{else}}FAIL{{end}} {{.Text}}</li>{{end}}</ul>
<h3>Checks (share of seeds that met each, 95% Wilson interval)</h3><ul>{{range .Checks}}<li class="{{if .Pass}}pass{{else}}fail{{end}}">{{.Text}}</li>{{end}}</ul>
<h3>Histograms over the seeds</h3><div class="charts">{{range .Histograms}}{{.}}{{end}}</div>
{{end}}
<details><summary>sweep.md (tables, worst seeds and how to replay them)</summary><pre>{{.Markdown}}</pre></details>
</body></html>
`))

const (
	chartWidth  = 360
	chartHeight = 200
	chartLeft   = 50
	chartBottom = 40
	chartTop    = 24
)

// histogramChart draws one distribution's histogram as an SVG bar chart,
// with the seeds that never recovered (or were not measured) said under
// it.
func histogramChart(service, metric string, d Distribution) string {
	var b strings.Builder
	title := service + " " + figureLabels[metric]
	fmt.Fprintf(&b, `<svg width="%d" height="%d" role="img" aria-label="%s histogram"><title>%s</title>`, chartWidth, chartHeight, esc(title), esc(title))
	fmt.Fprintf(&b, `<text x="6" y="14">%s</text>`, esc(title))
	h := d.Histogram
	if h == nil || len(h.Counts) == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d">no seed measured it</text></svg>`, chartLeft, chartHeight/2)
		return b.String()
	}
	most := 0
	for _, c := range h.Counts {
		most = max(most, c)
	}
	plotW, plotH := float64(chartWidth-chartLeft-10), float64(chartHeight-chartTop-chartBottom)
	barW := plotW / float64(len(h.Counts))
	for i, c := range h.Counts {
		bh := plotH * float64(c) / float64(most)
		x := float64(chartLeft) + float64(i)*barW
		y := float64(chartTop) + plotH - bh
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#4a7bd0"><title>%s to %s: %d seeds</title></rect>`,
			x+0.5, y, math.Max(barW-1, 0.5), bh, esc(formatFigure(metric, &h.Edges[i])), esc(formatFigure(metric, &h.Edges[i+1])), c)
	}
	base := chartTop + int(plotH)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#888"/>`, chartLeft, base, chartWidth-10, base)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="start">%s</text>`, chartLeft, base+14, esc(formatFigure(metric, &h.Edges[0])))
	last := h.Edges[len(h.Edges)-1]
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`, chartWidth-10, base+14, esc(formatFigure(metric, &last)))
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%d</text>`, chartLeft-4, chartTop+8, most)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">0</text>`, chartLeft-4, base)
	note := fmt.Sprintf("%d seeds", d.Seeds-d.NeverRecovered)
	if d.NeverRecovered > 0 {
		note += fmt.Sprintf("; %d never recovered", d.NeverRecovered)
	}
	if d.Unmeasured > 0 {
		note += fmt.Sprintf("; %d not measured", d.Unmeasured)
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text></svg>`, chartLeft, chartHeight-8, esc(note))
	return b.String()
}

// whatIfChart draws p50, p90 and p99 of one figure for each value of the
// what-if, as groups of bars on one scale.
func (r *Result) whatIfChart(service, metric string) string {
	var b strings.Builder
	title := service + " " + figureLabels[metric]
	width := max(chartWidth, chartLeft+20+len(r.Variants)*60)
	fmt.Fprintf(&b, `<svg width="%d" height="%d" role="img" aria-label="%s"><title>%s</title><text x="6" y="14">%s</text>`, width, chartHeight, esc(title), esc(title), esc(title))
	top := 0.0
	for _, v := range r.Variants {
		for _, q := range []*float64{v.Services[service][metric].P50, v.Services[service][metric].P90, v.Services[service][metric].P99} {
			if finite(q) {
				top = math.Max(top, *q)
			}
		}
	}
	if top == 0 {
		top = 1
	}
	plotH := float64(chartHeight - chartTop - chartBottom)
	groupW := float64(width-chartLeft-10) / float64(len(r.Variants))
	colours := []string{"#9ab8ec", "#4a7bd0", "#1d3f7a"}
	base := float64(chartTop) + plotH
	for i, v := range r.Variants {
		d := v.Services[service][metric]
		x0 := float64(chartLeft) + float64(i)*groupW
		for k, q := range []*float64{d.P50, d.P90, d.P99} {
			x := x0 + 4 + float64(k)*(groupW-8)/3
			w := (groupW-8)/3 - 2
			label := []string{"p50", "p90", "p99"}[k]
			switch {
			case d.Seeds == 0:
			case q == nil:
				fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="9">∞</text>`, x+w/2-3, base-4)
			default:
				bh := plotH * *q / top
				fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %s</title></rect>`, x, base-bh, w, bh, colours[k], esc(*v.Value), label, esc(formatFigure(metric, q)))
				fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="9" text-anchor="middle">%s</text>`, x+w/2, base-bh-2, esc(formatFigure(metric, q)))
			}
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, x0+groupW/2, base+14, esc(*v.Value))
	}
	fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#888"/>`, chartLeft, base, width-10, base)
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">%s</text>`, chartLeft-4, chartTop+8, esc(formatFigure(metric, &top)))
	fmt.Fprintf(&b, `<text x="%d" y="%d">p50, p90, p99 over the seeds, per value; ∞: never recovered</text></svg>`, chartLeft-40, chartHeight-8)
	return b.String()
}

// gateChart draws one gate's share per value, with its 95% interval as a
// whisker and the required share as a line.
func (r *Result) gateChart(gate int) string {
	var b strings.Builder
	g0 := r.Variants[0].Gates[gate]
	title := "gate: " + g0.Gate
	width := max(chartWidth, chartLeft+20+len(r.Variants)*60)
	fmt.Fprintf(&b, `<svg width="%d" height="%d" role="img" aria-label="%s"><title>%s</title><text x="6" y="14">%s</text>`, width, chartHeight, esc(title), esc(title), esc(title))
	plotH := float64(chartHeight - chartTop - chartBottom)
	base := float64(chartTop) + plotH
	y := func(share float64) float64 { return base - plotH*share }
	groupW := float64(width-chartLeft-10) / float64(len(r.Variants))
	for i, v := range r.Variants {
		g := v.Gates[gate]
		x := float64(chartLeft) + float64(i)*groupW + groupW/2
		colour := "#cf222e"
		if g.Pass {
			colour = "#1a7f37"
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" opacity="0.6"><title>%s: %s</title></rect>`, x-groupW/4, y(g.Share), groupW/2, base-y(g.Share), colour, esc(*v.Value), esc(shareText(g.Share, g.CI95)))
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#222"/>`, x, y(g.CI95[0]), x, y(g.CI95[1]))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="9">%s</text>`, x+4, y(g.Share)-3, esc(pct(g.Share)))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, x, base+14, esc(*v.Value))
	}
	if g0.AtLeast != nil || g0.Quantile != nil {
		need := g0.AtLeast
		if need == nil {
			need = g0.Quantile
		}
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#888" stroke-dasharray="4 3"><title>required: %s</title></line>`, chartLeft, y(*need), width-10, y(*need), pct(*need))
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">100%%</text><text x="%d" y="%.1f" text-anchor="end">0%%</text>`, chartLeft-4, chartTop+4, chartLeft-4, base)
	fmt.Fprintf(&b, `<text x="%d" y="%d">share of seeds; whiskers: 95%% Wilson interval; dashed: required</text></svg>`, chartLeft-40, chartHeight-8)
	return b.String()
}

func esc(s string) string { return html.EscapeString(s) }
