package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/chaosdrill/chaosdrill/reports"
)

func newCompareCommand() *cobra.Command {
	var (
		format     string
		thresholds []string
		across     bool
	)
	formats := []string{formatMarkdown, formatJSON}
	defaults := reports.DefaultThresholds()
	cmd := &cobra.Command{
		Use:   "compare BASE NEW",
		Short: "Compare two runs or suites and flag regressions",
		Long: `Compare the reports of two runs, scenario by scenario and service by service:
the change in RTO, RPO, lost writes, unknown writes and p99 write latency. BASE
and NEW are each a report.json, a run's folder, or a suite's folder (with
summary.json, or with a folder of reports per scenario), for example last
night's artifact and tonight's.

A metric regressed when it rose by more than both its absolute and its
relative threshold (so neither a small rise of a large figure nor a large
rise of a tiny one alarms; from a base of 0, any rise past the absolute
threshold). An RTO that never came where it came before, and a scenario whose
verdict got worse, are regressions too. Defaults:
` + describeThresholds(defaults) + `
Set any with --threshold METRIC=VALUE[,VALUE]: a percentage is relative, an
amount absolute (rto=50%,2s  p99=10ms  lost=0  unknown=20%).

Prints Markdown (or JSON with --format json) on standard output, appends the
Markdown to GITHUB_STEP_SUMMARY when that names a file, and exits 1 naming
each regression (scenario, service, metric), 0 when there is none, 2 when a
report cannot be read or when no scenario is in both (nothing would be
compared). Scenarios in only one of the two are listed, not counted: the run
that dropped one gates on its own exit code. A service of a scenario in BASE
that NEW's run of it lacks is a regression. --allow-different-scenarios
compares two single runs whatever their scenarios are named (a renamed
scenario, a variant).`,
		Args: argsError(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if err := checkFormat(format, formats); err != nil {
				return err
			}
			th := reports.DefaultThresholds()
			for _, spec := range thresholds {
				if err := th.Set(spec); err != nil {
					return badInput(fmt.Errorf("--threshold %w", err))
				}
			}
			if err := enterPhase(ctx, phaseLoad); err != nil {
				return err
			}
			base, err := reports.LoadRunSet(args[0])
			if err != nil {
				return badInput(fmt.Errorf("BASE: %w", err))
			}
			current, err := reports.LoadRunSet(args[1])
			if err != nil {
				return badInput(fmt.Errorf("NEW: %w", err))
			}
			var c *reports.Comparison
			switch {
			case across && len(base.Runs) == 1 && len(current.Runs) == 1:
				c = reports.CompareAcross(base.Runs[0], current.Runs[0], args[0], args[1], th)
				c.Notes = append(append(base.Warnings, current.Warnings...), c.Notes...)
			case across:
				return badInput(fmt.Errorf("--allow-different-scenarios compares two single runs; BASE holds %d and NEW %d", len(base.Runs), len(current.Runs)))
			default:
				c = reports.Compare(base, current, th)
				if len(c.Scenarios) == 0 {
					return badInput(fmt.Errorf("nothing to compare: no scenario is in both (BASE: %s; NEW: %s); compare runs of the same scenario, or two single runs with --allow-different-scenarios",
						scenarioList(base), scenarioList(current)))
				}
			}
			for _, w := range c.OverrideWarnings {
				fmt.Fprintf(cmd.ErrOrStderr(), "chaosdrill: warning: %s\n", w)
			}
			appendStepSummaryContext(cmd.Context(), cmd.ErrOrStderr(), func(w io.Writer) error { return reports.WriteComparisonMarkdown(w, c) })
			write := reports.WriteComparisonMarkdown
			if format == formatJSON {
				write = reports.WriteComparisonJSON
			}
			if err := write(cmd.OutOrStdout(), c); err != nil {
				return environment(err)
			}
			if n := len(c.Regressions); n > 0 {
				for _, r := range c.Regressions {
					fmt.Fprintf(cmd.ErrOrStderr(), "regression: %s\n", r)
				}
				return &exitError{code: exitFail, err: fmt.Errorf("%d regressions", n)}
			}
			return nil
		},
	}
	addFormatFlag(cmd, &format, formats, "what to print")
	cmd.Flags().BoolVar(&across, "allow-different-scenarios", false, "compare two single runs even when their scenarios' names differ")
	cmd.Flags().StringArrayVar(&thresholds, "threshold", nil, "METRIC=VALUE[,VALUE]: a metric's relative (50%) and/or absolute (2s, 10ms, 3) threshold; repeatable (metrics: "+strings.Join(reports.ThresholdMetrics(), ", ")+")")
	return cmd
}

// describeThresholds lists the thresholds for --help.
func describeThresholds(th reports.Thresholds) string {
	var b strings.Builder
	units := map[string]string{
		reports.MetricRTO: "s", reports.MetricRPO: "s", reports.MetricP99: " ms",
		reports.MetricLost: " writes", reports.MetricUnknown: " writes",
	}
	for _, name := range reports.ThresholdMetrics() {
		t := th[name]
		fmt.Fprintf(&b, "  %-8s +%g%% and +%g%s\n", name, t.Relative*100, t.Absolute, units[name])
	}
	return b.String()
}

// scenarioList names a run set's scenarios for a message, the first few.
func scenarioList(set *reports.RunSet) string {
	var names []string
	for i, r := range set.Runs {
		if i == 5 {
			names = append(names, fmt.Sprintf("and %d more", len(set.Runs)-5))
			break
		}
		names = append(names, r.Report.Scenario)
	}
	return strings.Join(names, ", ")
}
