package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/platform/containers"
	"github.com/chaosdrill/chaosdrill/reports"
	"github.com/chaosdrill/chaosdrill/runner"
	"github.com/chaosdrill/chaosdrill/scenarios"
	"github.com/chaosdrill/chaosdrill/simulator"
)

type runFlags struct {
	platform string
	seed     uint64
	out      string
	quiet    bool
}

func newRunCommand() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run SCENARIO",
		Short: "Run one scenario and write its report",
		Long: `Run one scenario file on the embedded simulator (--platform sim, the default)
or on real containers (--platform containers), then write report.json,
junit.xml, report.md and report.html into --out (default out/<scenario>-<seed>).

The verdict is pass only if every fault and runbook step of the file happened
and every check held: not-rehearsed (something of the file did not happen) and
unverified (a check could not run, e.g. a read-back failed) exit 1 like fail.
A run the environment stops still writes its report, verdict error, exit 3;
an interrupted run (Ctrl-C) removes what it started and writes nothing.

The same scenario and seed on the simulator give a byte-identical report.json.`,
		Args: argsError(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			known, err := parametersOf(f.platform)
			if err != nil {
				return err
			}
			sc, err := loadScenario(args[0], known)
			if err != nil {
				return err
			}
			out := f.out
			if out == "" {
				out = filepath.Join("out", sc.Name+"-"+strconv.FormatUint(f.seed, 10))
			}
			if err := checkOutFolder(out); err != nil {
				return badInput(err)
			}
			stdout := cmd.OutOrStdout()
			build, _, err := platformFor(cmd.Context(), f.platform)
			if err != nil {
				return failedRun(cmd.Context(), stdout, out, sc, f, reports.PhasePreflight, err)
			}
			opts := runner.Options{Seed: f.seed, RunID: runID(f.platform, sc.Name, f.seed)}
			if !f.quiet {
				opts.Log = func(format string, a ...any) { fmt.Fprintf(cmd.ErrOrStderr(), format+"\n", a...) }
			}
			rep, err := runner.Run(cmd.Context(), sc, build, opts)
			if err != nil {
				if rep == nil || interrupted(cmd.Context(), err) {
					return failedRun(cmd.Context(), stdout, out, sc, f, phaseOf(err), err)
				}
				// Measured in full, then the tear-down failed.
				rep.MarkError(phaseOf(err), err)
			}
			if werr := reports.WriteAll(out, rep); werr != nil {
				return environment(fmt.Errorf("write report: %w", werr))
			}
			reports.Summary(stdout, rep)
			fmt.Fprintf(stdout, "report: %s\n", filepath.Join(out, reports.FileHTML))
			switch code := reports.ExitCode(rep.Verdict); code {
			case exitPass:
				return nil
			case exitEnvironment:
				return environment(err)
			default:
				fmt.Fprintf(stdout, "reproduce with: chaosdrill run %s --platform %s --seed=%d%s\n", args[0], f.platform, f.seed, imageFlags(cmd.Context()))
				return &exitError{code: code, err: fmt.Errorf("verdict %s", rep.Verdict)}
			}
		},
	}
	cmd.Flags().StringVar(&f.platform, "platform", "sim", "where to run: sim (embedded simulator) or containers (Docker)")
	cmd.Flags().Uint64Var(&f.seed, "seed", 1, "root seed of the run (the simulator is deterministic per seed)")
	cmd.Flags().StringVar(&f.out, "out", "", "folder for the report files (default out/<scenario>-<seed>)")
	cmd.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "do not print faults and events as they happen")
	addImageFlag(cmd)
	return cmd
}

// failedRun ends a run that could not complete. An interrupt writes
// nothing (the platform has removed what it started); anything else writes
// the error report, verdict error, so that CI has an artifact that says
// what failed and where, and returns err for exit code 3.
func failedRun(ctx context.Context, stdout io.Writer, out string, sc *scenarios.Scenario, f runFlags, phase string, err error) error {
	if interrupted(ctx, err) || classify(err) == exitBadInput {
		return err
	}
	rep := reports.BuildError(&reports.Run{
		Scenario: sc.Name, Description: sc.Description, Platform: f.platform, Seed: f.seed,
		Duration: sc.Duration.D(), Topology: sc.Topology.Resolved, Expect: sc.Expect,
	}, phase, err)
	if werr := reports.WriteAll(out, rep); werr != nil {
		return environment(fmt.Errorf("%w (and the error report could not be written: %v)", err, werr))
	}
	fmt.Fprintf(stdout, "error report: %s\n", filepath.Join(out, reports.FileJSON))
	return err
}

// interrupted reports whether the run was interrupted (SIGINT, SIGTERM):
// whatever error that caused, it leaves no report.
func interrupted(ctx context.Context, err error) bool {
	return ctx.Err() != nil || errors.Is(err, context.Canceled)
}

// phaseOf is the phase a run error names; "run" when it names none.
func phaseOf(err error) string {
	var re *runner.Error
	if errors.As(err, &re) {
		return re.Phase
	}
	return reports.PhaseRun
}

// checkOutFolder refuses, before anything runs and without creating
// anything, an output folder that names a file or cannot be written: the
// run would otherwise fail only after it had rehearsed everything.
func checkOutFolder(dir string) error {
	path := filepath.Clean(dir)
	for {
		st, err := os.Stat(path)
		switch {
		case err == nil && !st.IsDir():
			return fmt.Errorf("--out %s: %s is a file, not a folder", dir, path)
		case err == nil:
			return probeWritable(dir, path)
		case !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR):
			return fmt.Errorf("--out %s: %w", dir, err)
		}
		parent := filepath.Dir(path)
		if parent == path {
			return fmt.Errorf("--out %s: no existing folder to create it in", dir)
		}
		path = parent
	}
}

// probeWritable creates and removes a file in folder, the one sure test of
// write permission (mode bits, ACLs, read-only mounts).
func probeWritable(dir, folder string) error {
	probe, err := os.CreateTemp(folder, ".chaosdrill-write-test-*")
	if err != nil {
		return fmt.Errorf("--out %s: cannot write in %s: %w", dir, folder, errors.Unwrap(err))
	}
	name := probe.Name()
	probe.Close()
	return os.Remove(name)
}

// parametersOf returns the model parameters a platform's scenarios may
// override; it needs nothing of the environment, so a scenario is checked
// before anything starts.
func parametersOf(name string) ([]platform.Parameter, error) {
	switch name {
	case "sim":
		return simulator.Parameters(), nil
	case "containers":
		return containers.Parameters(), nil
	default:
		return nil, badInput(fmt.Errorf("--platform %q: want sim or containers", name))
	}
}

// platformFor returns how to build the named platform and the model
// parameters its scenarios may override.
func platformFor(ctx context.Context, name string) (runner.Builder, []platform.Parameter, error) {
	switch name {
	case "sim":
		return func(cfg platform.Config) (platform.Platform, error) { return simulator.New(cfg) }, simulator.Parameters(), nil
	case "containers":
		return containersPlatform(ctx)
	default:
		return nil, nil, badInput(fmt.Errorf("--platform %q: want sim or containers", name))
	}
}

// runID names a run; live runs label every container with it.
func runID(platformName, scenario string, seed uint64) string {
	if platformName == "sim" {
		return "sim"
	}
	return fmt.Sprintf("%s-%d-%s", scenario, seed, randomSuffix())
}

// loadScenario loads a scenario file; every way it can fail (unreadable,
// malformed, inconsistent) is bad input.
func loadScenario(path string, known []platform.Parameter) (*scenarios.Scenario, error) {
	sc, err := scenarios.Load(path, scenarios.WithParameters(known))
	if err != nil {
		return nil, badInput(err)
	}
	return sc, nil
}
