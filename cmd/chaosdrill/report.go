package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/chaosdrill/chaosdrill/reports"
)

func newReportCommand() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "report REPORT.json | report compare BASE NEW | report trend FOLDER...",
		Short: "Re-render a stored report; compare runs; follow them over time",
		Long: `Read a report.json written by an earlier run (for example one kept as a CI
artifact), print its summary, and write junit.xml, report.md and report.html
(and the report.json itself, and its run.json when one is beside it) into
--out (default: beside it). Nothing is run again.

"report compare BASE NEW" compares two runs or suites and exits 1 on a
regression; "report trend FOLDER..." follows each scenario over many nights'
runs (see their --help).

The stored report is checked before anything is written: a file that is not
a regular file, is over 64 MiB, or does not hold together (an unknown
verdict or status, a service without figures, a timeline whose series differ
in length) is bad input, exit 2, and nothing is written. A report that is not
an error report must hold at least one check and one service (a run always
has them), a duration that is not negative, and valid names. The verdict is
worked out again from the report's own checks, faults, runbook steps and
read-backs; when it differs from the stored one, that is said (on standard
error and under the summary), and the worked-out verdict is rendered and
gives the exit code: 0 pass, 1 fail, not-rehearsed or unverified, 3 error.`,
		Args: argsError(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if err := enterPhase(ctx, phaseLoad); err != nil {
				return err
			}
			rep, err := reports.Read(args[0])
			if err != nil {
				return badInput(err)
			}
			// run.json beside it keeps the run's wall time for junit.xml.
			info, err := reports.ReadRunInfo(filepath.Dir(args[0]))
			if err != nil {
				return badInput(err)
			}
			contradicted := ""
			if worked := reports.RecomputeVerdict(rep); worked != rep.Verdict {
				fmt.Fprintf(cmd.ErrOrStderr(), "chaosdrill: the stored verdict %q contradicts the report's own checks, faults, runbook and read-backs, which give %q; rendering %q\n",
					rep.Verdict, worked, worked)
				contradicted = fmt.Sprintf("The stored verdict was %s; the report's own checks, faults, runbook and read-backs give %s, shown here.\n",
					strings.ToUpper(rep.Verdict), strings.ToUpper(worked))
				rep.Verdict = worked
			}
			if out == "" {
				out = filepath.Dir(args[0])
			}
			if err := checkOutFolder(out); err != nil {
				return badInput(err)
			}
			lock, err := lockOut(out)
			if err != nil {
				return err
			}
			if err := writeReport(ctx, out, rep, info); err != nil {
				// Interrupted or failed, a folder this command made is
				// removed if nothing else is in it.
				_ = lock.Abandon()
				return err
			}
			if err := lock.Release(); err != nil {
				return environment(fmt.Errorf("release the lock on %s: %w", out, err))
			}
			reports.Summary(cmd.OutOrStdout(), rep)
			// Said on standard output too, beside the verdict it changed.
			fmt.Fprint(cmd.OutOrStdout(), contradicted)
			fmt.Fprintf(cmd.OutOrStdout(), "report: %s\n", filepath.Join(out, reports.FileHTML))
			if code := reports.ExitCode(rep.Verdict); code != exitPass {
				return &exitError{code: code, err: fmt.Errorf("the verdict is %s", rep.Verdict)}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "folder for the rendered files (default: the report's own folder)")
	cmd.AddCommand(newCompareCommand(), newTrendCommand())
	return cmd
}
