package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	tclog "github.com/testcontainers/testcontainers-go/log"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/scenarios"
)

// Exit codes (DESIGN.md "Contracts").
const (
	exitPass        = 0 // everything rehearsed, every expectation met
	exitFail        = 1 // an expectation failed, or something was not rehearsed or could not be checked
	exitBadInput    = 2 // bad scenario, flags or arguments
	exitEnvironment = 3 // the environment failed: Docker down, image missing, timeout
)

// exitError carries the exit code a command wants.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func badInput(err error) error    { return &exitError{code: exitBadInput, err: err} }
func environment(err error) error { return &exitError{code: exitEnvironment, err: err} }

// classify picks the exit code for an error that reached the top.
func classify(err error) int {
	var ee *exitError
	var se *scenarios.Error
	switch {
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &se):
		return exitBadInput
	case errors.Is(err, platform.ErrEnvironment):
		return exitEnvironment
	default:
		return exitEnvironment
	}
}

func execute(args []string, stdout, stderr io.Writer) int {
	return executeContext(context.Background(), args, stdout, stderr)
}

// rawStderrKey carries the unescaped standard error in a command's context,
// for the progress bar's own cursor control.
type rawStderrKey struct{}

// executeContext runs the command line with parent's values (the specs'
// phase hook). SIGINT and SIGTERM cancel the command's context: every
// phase stops, removes what it created and writes nothing, exit 3.
func executeContext(parent context.Context, args []string, stdout, stderr io.Writer) int {
	// testcontainers narrates every Docker connection on stderr; the CLI
	// reports what matters itself.
	tclog.SetDefault(tclog.NewNoopLogger())
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx = context.WithValue(ctx, rawStderrKey{}, stderr)
	// Names, stored reports and environment errors may hold control
	// characters; nothing reaches the terminal raw.
	stdout, stderr = terminalWriter{stdout}, terminalWriter{stderr}
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitPass
	}
	var ee *exitError
	if errors.As(err, &ee) && ee.code == exitFail {
		return exitFail
	}
	var partial *partialError
	if ctx.Err() != nil && errors.As(err, &partial) {
		// An interrupted sweep keeps the runs that finished.
		fmt.Fprintf(stderr, "chaosdrill: %v\n", partial)
		return exitEnvironment
	}
	if ctx.Err() != nil {
		// Interrupted (SIGINT/SIGTERM): whatever error that surfaced as,
		// the platform was closed and the output folder left as it was.
		fmt.Fprintln(stderr, "chaosdrill: interrupted; everything the run started has been removed and nothing was written")
		return exitEnvironment
	}
	fmt.Fprintf(stderr, "chaosdrill: %v\n", err)
	code := classify(err)
	if code == exitEnvironment && cmd != nil && isFlagError(err) {
		code = exitBadInput
	}
	return code
}

// isFlagError recognises cobra's argument and flag errors, which it returns
// as plain errors.
func isFlagError(err error) bool {
	var fe *flagError
	return errors.As(err, &fe)
}

type flagError struct{ err error }

func (e *flagError) Error() string { return e.err.Error() }

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "chaosdrill",
		Short: "Rehearse failures of an HA platform and report RTO/RPO",
		Long: `chaosdrill brings up a highly available platform (a MongoDB replica set across
two regions, an Elasticsearch cluster across four zones with snapshots to S3,
S3 buckets synced across regions), drives acknowledged writes through it, kills
nodes, zones or a region mid-scenario, runs the recovery runbook, and proves how
much acknowledged data was lost (RPO) and how long each service was down (RTO).

Exit codes: 0 pass (everything rehearsed, every expectation met); 1 fail,
not-rehearsed (a fault or runbook step of the file did not happen) or
unverified (a check could not run, e.g. a read-back failed); 2 bad input;
3 the environment failed (verdict error).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionText(),
		// cobra looks for suggestions only within this edit distance.
		SuggestionsMinimumDistance: 2,
		// The root only shows help; any word that is not a command is a
		// usage error (exit 2), not an environment failure.
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return nil
			}
			hint := ""
			if suggestions := cmd.SuggestionsFor(args[0]); len(suggestions) > 0 {
				hint = fmt.Sprintf("; did you mean %q?", suggestions[0])
			}
			return badInput(fmt.Errorf("unknown command %q for %q%s (see chaosdrill --help)", args[0], cmd.CommandPath(), hint))
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &flagError{err} })
	root.AddCommand(newRunCommand(), newRehearseCommand(), newValidateCommand(), newListCommand(), newSweepCommand(), newReportCommand(), newCleanupCommand(), newVersionCommand(), newDoctorCommand())
	return root
}

// argsError wraps cobra's positional-argument validators so that their
// errors exit 2.
func argsError(validate cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := validate(cmd, args); err != nil {
			return badInput(err)
		}
		return nil
	}
}
