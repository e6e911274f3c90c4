package main

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/chaosdrill/chaosdrill/reports"
)

func newReportCommand() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "report REPORT.json",
		Short: "Re-render a stored report and print its summary",
		Long: `Read a report.json written by an earlier run (for example one kept as a CI
artifact), print its summary, and write junit.xml, report.md and report.html
(and the report.json itself) into --out (default: beside it). Nothing is run
again; the verdict is the stored one, and so is the exit code: 0 pass, 1 fail,
not-rehearsed or unverified, 3 error.`,
		Args: argsError(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := reports.Read(args[0])
			if err != nil {
				return badInput(err)
			}
			if out == "" {
				out = filepath.Dir(args[0])
			}
			if err := checkOutFolder(out); err != nil {
				return badInput(err)
			}
			if err := reports.WriteAll(out, rep); err != nil {
				return environment(fmt.Errorf("write report: %w", err))
			}
			reports.Summary(cmd.OutOrStdout(), rep)
			fmt.Fprintf(cmd.OutOrStdout(), "report: %s\n", filepath.Join(out, reports.FileHTML))
			if code := reports.ExitCode(rep.Verdict); code != exitPass {
				return &exitError{code: code, err: fmt.Errorf("the stored verdict is %s", rep.Verdict)}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "folder for the rendered files (default: the report's own folder)")
	return cmd
}
