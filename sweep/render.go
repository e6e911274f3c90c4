package sweep

import (
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/jstemmer/go-junit-report/v2/junit"

	"github.com/chaosdrill/chaosdrill/reports"
)

// Replay says how to run one seed of a variant again (the run command
// line); the CLI knows the scenario's path.
type Replay func(seed uint64, value *string) string

// figureLabels name the figures in tables.
var figureLabels = map[string]string{
	MetricRTO:        "RTO (s)",
	MetricRPO:        "RPO (s)",
	MetricLost:       "lost writes",
	MetricUnknown:    "unknown writes",
	MetricLatencyP50: "write latency p50 (ms)",
	MetricLatencyP99: "write latency p99 (ms)",
}

// FigureLabel names a figure for a reader.
func FigureLabel(metric string) string { return figureLabels[metric] }

// formatFigure writes a figure to the precision a reader uses: whole
// writes; seconds and milliseconds to 3 or 4 significant digits.
func formatFigure(metric string, x *float64) string {
	if x == nil {
		return "never"
	}
	v := *x
	switch {
	case metric == MetricLost || metric == MetricUnknown:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
}

func pct(x float64) string { return strconv.FormatFloat(x*100, 'f', 1, 64) + "%" }

func shareText(share float64, ci [2]float64) string {
	return fmt.Sprintf("%s [%s, %s]", pct(share), pct(ci[0]), pct(ci[1]))
}

// verdictText writes a variant's verdict counts, worst first.
func verdictText(v Variant) string {
	var parts []string
	for _, name := range reports.Verdicts {
		if n := v.Verdicts[name]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, name))
		}
	}
	if len(parts) == 0 {
		return "no seed ran"
	}
	return strings.Join(parts, ", ")
}

// Heading is the first line of a sweep's summary.
func (r *Result) Heading() string {
	seeds := fmt.Sprintf("seeds %d-%d", r.From, r.From+r.Seeds-1)
	if r.Seeds == 1 {
		seeds = fmt.Sprintf("seed %d", r.From)
	}
	text := fmt.Sprintf("sweep of %s over %d %s", r.Scenario, r.Seeds, plural(int(r.Seeds), "seed"))
	text += " (" + seeds
	if r.Shard != nil {
		text += ", shard " + r.Shard.String() + ": every " + ordinal(r.Shard.Count) + " seed"
	}
	text += ")"
	if r.Vary != nil {
		text += ", varying " + r.Vary.Name
	}
	if r.Partial != nil {
		text += fmt.Sprintf(" — PARTIAL (%s): %d of %d runs finished", r.Partial.Reason, r.runsDone(), r.runsPlanned())
	}
	return text
}

func (r *Result) runsDone() int {
	n := 0
	for _, v := range r.Variants {
		n += v.SeedsRun
	}
	return n
}

func (r *Result) runsPlanned() int {
	return int(r.expectedSeeds()) * len(r.Variants)
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

func ordinal(n int) string {
	switch {
	case n == 1:
		return ""
	case n%10 == 2 && n%100 != 12:
		return fmt.Sprintf("%dnd", n)
	case n%10 == 3 && n%100 != 13:
		return fmt.Sprintf("%drd", n)
	case n%10 == 1 && n%100 != 11:
		return fmt.Sprintf("%dst", n)
	}
	return fmt.Sprintf("%dth", n)
}

// WriteText prints the summary a terminal shows: with one variant the
// distributions in full; with a what-if the values side by side; then the
// worst seeds of each value with the command that replays one. markdown is
// the sweep.md written beside it, "" when none is (no --out): the text
// then names no file.
func (r *Result) WriteText(w io.Writer, replay Replay, markdown string) {
	fmt.Fprintln(w, r.Heading())
	if len(r.Variants) == 1 {
		r.writeOne(w, r.Variants[0])
	} else {
		r.writeSideBySide(w)
	}
	for _, v := range r.Variants {
		r.writeWorst(w, v, replay)
	}
	if markdown != "" {
		fmt.Fprintf(w, "the worst seeds with a replay command each: %s\n", markdown)
	} else {
		fmt.Fprintln(w, "(with --out DIR, sweep.md lists the worst seeds with a replay command each)")
	}
}

func (r *Result) writeOne(w io.Writer, v Variant) {
	fmt.Fprintf(w, "verdicts: %s\n", verdictText(v))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "service\tfigure\tmin\tp50\tp90\tp95\tp99\tmax\tunmeasured\t")
	for _, service := range r.Services {
		for i, metric := range Metrics {
			d := v.Services[service][metric]
			name := ""
			if i == 0 {
				name = service
			}
			cells := []string{name, figureLabels[metric]}
			for _, q := range []*float64{d.Min, d.P50, d.P90, d.P95, d.P99, d.Max} {
				if d.Seeds == 0 {
					cells = append(cells, "-")
				} else {
					cells = append(cells, formatFigure(metric, q))
				}
			}
			cells = append(cells, strconv.Itoa(d.Unmeasured))
			fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
		}
	}
	tw.Flush()
	fmt.Fprintln(w, "checks (share of seeds that met each, 95% Wilson interval):")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, c := range v.Checks {
		fmt.Fprintf(tw, "  %s\t%d/%d\t%s\n", c.Check, c.Met, c.Seeds, shareText(c.Share, c.CI95))
	}
	tw.Flush()
	r.writeGates(w, v)
}

// worstFigures are the figures whose worst seeds the summaries list.
var worstFigures = []string{MetricRTO, MetricRPO, MetricLost, MetricUnknown, MetricLatencyP99}

// sameEverywhere says, for a figure with no worst seed, that every seed
// measured the same ("all 30 seeds 0"); "" when no seed measured it.
func sameEverywhere(metric string, d Distribution) string {
	if d.Seeds == 0 {
		return ""
	}
	return fmt.Sprintf("all %d %s %s", d.Seeds, plural(d.Seeds, "seed"), formatFigure(metric, d.Min))
}

// writeWorst prints a variant's worst seeds (those worse than the best
// seed) and the command that replays the worst of them.
func (r *Result) writeWorst(w io.Writer, v Variant, replay Replay) {
	heading := "worst seeds:"
	if v.Value != nil {
		heading = "worst seeds, " + r.Vary.Name + "=" + *v.Value + ":"
	}
	fmt.Fprintln(w, heading)
	var first *WorstSeed
	var firstFigure string
	for _, service := range r.Services {
		for _, metric := range worstFigures {
			ws := v.Worst[service][metric]
			if len(ws) == 0 {
				if same := sameEverywhere(metric, v.Services[service][metric]); same != "" {
					fmt.Fprintf(w, "  %s %s: %s\n", service, figureLabels[metric], same)
				}
				continue
			}
			var parts []string
			for _, s := range ws {
				parts = append(parts, fmt.Sprintf("%d (%s)", s.Seed, formatFigure(metric, s.Value)))
			}
			fmt.Fprintf(w, "  %s %s: %s\n", service, figureLabels[metric], strings.Join(parts, ", "))
			if first == nil {
				label, _, _ := strings.Cut(figureLabels[metric], " (") // without its unit
				first, firstFigure = &ws[0], service+" "+label
			}
		}
	}
	if replay == nil || len(v.PerSeed) == 0 {
		return
	}
	// The first seed that did not pass is the one to read first; else
	// the worst seed of the first figure that has one.
	seed, why := v.PerSeed[0].Seed, "the first seed"
	if first != nil {
		seed, why = first.Seed, "the worst "+firstFigure
	}
	for _, s := range v.PerSeed {
		if s.Verdict != reports.VerdictPass {
			seed, why = s.Seed, "the first that did not pass"
			break
		}
	}
	fmt.Fprintf(w, "  replay seed %d, %s (any seed the same way): %s\n", seed, why, replay(seed, v.Value))
}

func (r *Result) writeGates(w io.Writer, v Variant) {
	fmt.Fprintln(w, "gates:")
	for _, g := range v.Gates {
		fmt.Fprintf(w, "  %s  %s\n", passText(g.Pass), gateObserved(g))
	}
}

func passText(pass bool) string {
	if pass {
		return "PASS"
	}
	return "FAIL"
}

// gateObserved says what a gate saw.
func gateObserved(g GateResult) string {
	text := fmt.Sprintf("%s: %d/%d seeds kept it, %s", g.Gate, g.Kept, g.Seeds, shareText(g.Share, g.CI95))
	if g.Quantile != nil {
		text += fmt.Sprintf("; p%s = %s", percent(*g.Quantile), formatFigure(metricUnit(g.Metric), g.Observed))
	}
	return text
}

// metricUnit maps a gate's metric to the figure whose format it takes.
func metricUnit(metric string) string {
	if metric == "verdict" {
		return MetricLost
	}
	return metric
}

// sideBySideFigures are the figures a what-if compares.
var sideBySideFigures = []string{MetricRTO, MetricRPO, MetricLost, MetricUnknown, MetricLatencyP50, MetricLatencyP99}

// figureRows are the rows a what-if table opens with, one cell per
// varied value after the label: the verdicts, then each service's figures
// as quantiles (labelled with quantiles, as the table spells them).
func (r *Result) figureRows(quantiles string) [][]string {
	cells := []string{"verdicts"}
	for _, v := range r.Variants {
		cells = append(cells, verdictText(v))
	}
	rows := [][]string{cells}
	for _, service := range r.Services {
		for _, metric := range sideBySideFigures {
			cells := []string{service + " " + figureLabels[metric] + " " + quantiles}
			for _, v := range r.Variants {
				cells = append(cells, quantileCell(metric, v.Services[service][metric]))
			}
			rows = append(rows, cells)
		}
	}
	return rows
}

func (r *Result) writeSideBySide(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	header := []string{r.Vary.Name}
	for _, v := range r.Variants {
		header = append(header, *v.Value)
	}
	row := func(cells ...string) { fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t") }
	row(header...)
	for _, cells := range r.figureRows("p50/p90/p99") {
		row(cells...)
	}
	for i := range r.Variants[0].Checks {
		cells := []string{"met " + r.Variants[0].Checks[i].Check}
		for _, v := range r.Variants {
			cells = append(cells, checkCell(v, r.Variants[0].Checks[i].Check))
		}
		row(cells...)
	}
	for i := range r.Gates {
		cells := []string{"gate " + r.Variants[0].Gates[i].Gate}
		for _, v := range r.Variants {
			g := v.Gates[i]
			cells = append(cells, passText(g.Pass)+" "+pct(g.Share))
		}
		row(cells...)
	}
	tw.Flush()
}

// checkCell is a check's share in one variant ("-" when no seed of it had
// the check: it only arises in some runs).
func checkCell(v Variant, name string) string {
	for _, c := range v.Checks {
		if c.Check == name {
			return shareText(c.Share, c.CI95)
		}
	}
	return "100.0% (never arose)"
}

func quantileCell(metric string, d Distribution) string {
	if d.Seeds == 0 {
		return "not measured"
	}
	return formatFigure(metric, d.P50) + " / " + formatFigure(metric, d.P90) + " / " + formatFigure(metric, d.P99)
}

// WriteMarkdown writes sweep.md.
func (r *Result) WriteMarkdown(w io.Writer, replay Replay) error {
	b := &strings.Builder{}
	fmt.Fprintf(b, "# Sweep of %s\n\n%s.\n\n", r.Scenario, r.Heading())
	if r.Partial != nil {
		fmt.Fprintf(b, "**Partial**: the sweep was %s; what follows is of the runs that finished.\n\n", r.Partial.Reason)
	}
	if len(r.Variants) > 1 {
		fmt.Fprintf(b, "## What-if: %s\n\n", r.Vary.Name)
		b.WriteString("| | " + strings.Join(r.Vary.Values, " | ") + " |\n|---|" + strings.Repeat("---|", len(r.Variants)) + "\n")
		line := func(cells ...string) { b.WriteString("| " + strings.Join(cells, " | ") + " |\n") }
		for _, cells := range r.figureRows("p50 / p90 / p99") {
			line(cells...)
		}
		for i, g := range r.Variants[0].Gates {
			cells := []string{"gate: " + mdEscape(g.Gate)}
			for _, v := range r.Variants {
				cells = append(cells, passText(v.Gates[i].Pass)+" "+pct(v.Gates[i].Share))
			}
			line(cells...)
		}
		b.WriteString("\n")
	}
	for _, v := range r.Variants {
		if v.Value != nil {
			fmt.Fprintf(b, "## %s = %s\n\n", r.Vary.Name, *v.Value)
		} else {
			b.WriteString("## Results\n\n")
		}
		fmt.Fprintf(b, "Verdicts: %s.\n\n### Gates\n\n| gate | result | seeds that kept it | share [95%% CI] | observed |\n|---|---|---|---|---|\n", verdictText(v))
		for _, g := range v.Gates {
			observed := ""
			if g.Quantile != nil {
				observed = "p" + percent(*g.Quantile) + " = " + formatFigure(metricUnit(g.Metric), g.Observed)
			}
			fmt.Fprintf(b, "| %s | %s | %d/%d | %s | %s |\n", mdEscape(g.Gate), passText(g.Pass), g.Kept, g.Seeds, shareText(g.Share, g.CI95), observed)
		}
		b.WriteString("\n### Checks: share of seeds that met each\n\n| check | met | share [95% Wilson CI] |\n|---|---|---|\n")
		for _, c := range v.Checks {
			fmt.Fprintf(b, "| %s | %d/%d | %s |\n", mdEscape(c.Check), c.Met, c.Seeds, shareText(c.Share, c.CI95))
		}
		b.WriteString("\n### Distributions over the seeds\n\n| service | figure | min | p50 | p90 | p95 | p99 | max | seeds | unmeasured | never recovered |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
		for _, service := range r.Services {
			for _, metric := range Metrics {
				d := v.Services[service][metric]
				cells := []string{service, figureLabels[metric]}
				for _, q := range []*float64{d.Min, d.P50, d.P90, d.P95, d.P99, d.Max} {
					if d.Seeds == 0 {
						cells = append(cells, "-")
					} else {
						cells = append(cells, formatFigure(metric, q))
					}
				}
				cells = append(cells, strconv.Itoa(d.Seeds), strconv.Itoa(d.Unmeasured), strconv.Itoa(d.NeverRecovered))
				b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
			}
		}
		b.WriteString("\n### Worst seeds\n\n| service | figure | seed | value | replay |\n|---|---|---|---|---|\n")
		for _, service := range r.Services {
			for _, metric := range worstFigures {
				if len(v.Worst[service][metric]) == 0 {
					if same := sameEverywhere(metric, v.Services[service][metric]); same != "" {
						fmt.Fprintf(b, "| %s | %s | %s | | |\n", service, figureLabels[metric], same)
					}
				}
				for _, s := range v.Worst[service][metric] {
					command := ""
					if replay != nil {
						command = "`" + replay(s.Seed, v.Value) + "`"
					}
					fmt.Fprintf(b, "| %s | %s | %d | %s | %s |\n", service, figureLabels[metric], s.Seed, formatFigure(metric, s.Value), command)
				}
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("Shares are of the seeds that ran; intervals are 95% Wilson score intervals. Quantiles are empirical: the figure of a real seed, the lowest that at least that share of seeds do not exceed. A seed whose figure could not be measured (a fault that did not happen, a read-back that failed) is in no quantile and keeps no gate.\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// WriteJUnit writes junit.xml: one testsuite for the sweep, one testcase
// per gate (per gate and value with a what-if), failed when the gate did
// not hold. A partial sweep adds an error case saying so.
func (r *Result) WriteJUnit(w io.Writer) error {
	suites := junit.Testsuites{Name: "sweep " + r.Scenario}
	suite := junit.Testsuite{Name: "sweep " + r.Scenario, Time: "0.000"}
	suite.AddProperty("seeds", strconv.FormatUint(r.Seeds, 10))
	suite.AddProperty("from", strconv.FormatUint(r.From, 10))
	if r.Shard != nil {
		suite.AddProperty("shard", r.Shard.String())
	}
	if r.Vary != nil {
		suite.AddProperty("vary", r.Vary.Name)
	}
	if r.Partial != nil {
		suite.AddTestcase(junit.Testcase{Name: "sweep completed", Classname: r.Scenario + ".sweep",
			Error: &junit.Result{Message: "partial: " + r.Partial.Reason, Type: "partial", Data: r.Heading()}})
	}
	for _, v := range r.Variants {
		class := r.Scenario + ".gates"
		if v.Value != nil {
			class = r.Scenario + "." + r.Vary.Name + "=" + *v.Value
		}
		for _, g := range v.Gates {
			tc := junit.Testcase{Name: g.Gate, Classname: class}
			if g.Pass {
				tc.SystemOut = &junit.Output{Data: gateObserved(g)}
			} else {
				tc.Failure = &junit.Result{Message: gateObserved(g), Type: "fail"}
			}
			suite.AddTestcase(tc)
		}
	}
	suites.AddSuite(suite)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	return suites.WriteXML(w)
}

// finite reports whether a figure pointer holds a number.
func finite(x *float64) bool { return x != nil && !math.IsInf(*x, 0) && !math.IsNaN(*x) }
