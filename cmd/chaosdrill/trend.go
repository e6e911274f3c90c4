package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/chaosdrill/chaosdrill/internal/files"
	"github.com/chaosdrill/chaosdrill/reports"
)

func newTrendCommand() *cobra.Command {
	var (
		format string
		out    string
	)
	formats := []string{formatMarkdown, formatJSON}
	cmd := &cobra.Command{
		Use:   "trend FOLDER...",
		Short: "Follow each scenario's metrics over many nightly runs",
		Long: `Read many runs' folders (nightly artifacts: each a suite's folder or a run's
folder, or a report.json) and follow each scenario over their dates: a table
of RTO, RPO, lost writes, unknown writes and p99 write latency per service and
run, and an HTML chart of each metric over the dates, with each run where a
check first failed (it passed in the run before, or it is the first run)
marked and named.

A run's date is its wall-clock start: summary.json's started_at for a suite,
else the earliest run.json started_at (run.json sits beside each report.json;
report.json itself holds no wall-clock time, so that the simulator's report
stays byte-identical per seed), else a date written in the folder's name
(nightly-2025-03-14, 20250314). A folder with none of these is bad input.

Writes trend.html, trend.md and trend.json into --out (default out/trend) and
prints the Markdown table (or, with --format json, trend.json) on standard
output. Exit code 0, or 2 when a folder cannot be read.`,
		Args: argsError(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if err := checkFormat(format, formats); err != nil {
				return err
			}
			if err := enterPhase(ctx, phaseLoad); err != nil {
				return err
			}
			var sets []*reports.RunSet
			var nights []reports.TrendNight
			for _, path := range args {
				set, err := reports.LoadRunSet(path)
				if err != nil {
					return badInput(err)
				}
				at, from, ok := set.StartedAt()
				if !ok {
					return badInput(fmt.Errorf("%s: no date: no summary.json or run.json with started_at, and no date (2025-03-14) in its name", path))
				}
				for _, w := range set.Warnings {
					fmt.Fprintf(cmd.ErrOrStderr(), "chaosdrill: %s\n", w)
				}
				sets = append(sets, set)
				nights = append(nights, reports.TrendNight{Path: path, StartedAt: at.UTC(), DateFrom: from})
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			for _, w := range reports.TrendOverrideWarnings(sets) {
				fmt.Fprintf(cmd.ErrOrStderr(), "chaosdrill: warning: %s\n", w)
			}
			trend := reports.NewTrend(sets, nights)
			if out == "" {
				out = filepath.Join("out", "trend")
			}
			if err := checkOutFolder(out); err != nil {
				return badInput(err)
			}
			lock, err := lockOut(out)
			if err != nil {
				return err
			}
			set := []files.File{
				{Name: reports.FileTrendHTML, Write: func(w io.Writer) error { return reports.WriteTrendHTML(w, trend) }},
				{Name: reports.FileTrendMarkdown, Write: func(w io.Writer) error { return reports.WriteTrendMarkdown(w, trend) }},
				{Name: reports.FileTrendJSON, Write: func(w io.Writer) error { return reports.WriteTrendJSON(w, trend) }},
			}
			if err := files.WriteAll(ctx, out, set, nil); err != nil {
				_ = lock.Abandon() // and a folder it made, if left empty
				if interrupted(ctx, err) {
					return err
				}
				return environment(fmt.Errorf("write %s: %w", out, err))
			}
			if err := lock.Release(); err != nil {
				return environment(fmt.Errorf("release the lock on %s: %w", out, err))
			}
			write := reports.WriteTrendMarkdown
			if format == formatJSON {
				write = reports.WriteTrendJSON
			}
			if err := write(cmd.OutOrStdout(), trend); err != nil {
				return environment(err)
			}
			if format != formatJSON {
				fmt.Fprintf(cmd.OutOrStdout(), "charts: %s\n", filepath.Join(out, reports.FileTrendHTML))
			}
			return nil
		},
	}
	addFormatFlag(cmd, &format, formats, "what to print")
	cmd.Flags().StringVar(&out, "out", "", "folder for trend.html, trend.md and trend.json (default out/trend)")
	return cmd
}
