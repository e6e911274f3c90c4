package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/chaosdrill/chaosdrill/internal/files"
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
// verdict's. Only a regular file is written (files.AppendRegular): a FIFO
// nobody reads, or a device, is refused at once, never waited on.
func appendStepSummary(stderr io.Writer, write func(io.Writer) error) {
	appendStepSummaryContext(context.Background(), stderr, write)
}

// appendStepSummaryContext is appendStepSummary that writes nothing once
// ctx has ended (an interrupt after the reports were written).
func appendStepSummaryContext(ctx context.Context, stderr io.Writer, write func(io.Writer) error) {
	path := strings.TrimSpace(os.Getenv(stepSummaryVariable))
	if path == "" || ctx.Err() != nil {
		return
	}
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		fmt.Fprintf(stderr, "chaosdrill: %s: %v\n", stepSummaryVariable, err)
		return
	}
	buf.WriteString("\n")
	if err := files.AppendRegular(path, buf.Bytes()); err != nil {
		if errors.Is(err, files.ErrNotRegular) {
			fmt.Fprintf(stderr, "chaosdrill: %s: %v: the summary is not written\n", stepSummaryVariable, err)
			return
		}
		fmt.Fprintf(stderr, "chaosdrill: could not append the summary to %s (%s): %v\n", stepSummaryVariable, path, err)
	}
}
