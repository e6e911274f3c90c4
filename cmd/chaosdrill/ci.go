package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// stepSummaryVariable names the file GitHub Actions shows as the job's
// summary page: a step appends Markdown to it.
// https://docs.github.com/en/actions/using-workflows/workflow-commands-for-github-actions#adding-a-job-summary
const stepSummaryVariable = "GITHUB_STEP_SUMMARY"

// Output formats of run, report compare and report trend.
const (
	formatText     = "text"
	formatJSON     = "json"
	formatMarkdown = "markdown"
)

// addFormatFlag gives cmd a --format flag limited to allowed (the first is
// the default).
func addFormatFlag(cmd *cobra.Command, value *string, allowed []string, usage string) {
	cmd.Flags().StringVar(value, "format", allowed[0], usage+" ("+strings.Join(allowed, " or ")+")")
}

// checkFormat refuses a --format value outside allowed, exit 2.
func checkFormat(value string, allowed []string) error {
	for _, a := range allowed {
		if value == a {
			return nil
		}
	}
	return badInput(fmt.Errorf("--format %q: want %s", value, strings.Join(allowed, " or ")))
}

// appendStepSummary appends Markdown to the file GITHUB_STEP_SUMMARY
// names, when it names one: the CI page then shows the summary without
// opening an artifact. Writing it is a courtesy: a failure is said on
// standard error and does not change the exit code, which stays the
// verdict's.
func appendStepSummary(stderr io.Writer, write func(io.Writer) error) {
	path := strings.TrimSpace(os.Getenv(stepSummaryVariable))
	if path == "" {
		return
	}
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		fmt.Fprintf(stderr, "chaosdrill: %s: %v\n", stepSummaryVariable, err)
		return
	}
	buf.WriteString("\n")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		fmt.Fprintf(stderr, "chaosdrill: could not append the summary to %s (%s): %v\n", stepSummaryVariable, path, err)
		return
	}
	_, werr := f.Write(buf.Bytes())
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		fmt.Fprintf(stderr, "chaosdrill: could not append the summary to %s (%s): %v\n", stepSummaryVariable, path, werr)
	}
}
