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
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/chaosdrill/chaosdrill/internal/files"
	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/platform/containers"
	"github.com/chaosdrill/chaosdrill/platform/containers/docker"
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
	dryRun   bool
	format   string
	sets     []string
}

func newRunCommand() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run SCENARIO|FOLDER...",
		Short: "Run scenarios and write their reports",
		Long: `Run one scenario file on the embedded simulator (--platform sim, the default)
or on real containers (--platform containers), then write report.json,
junit.xml, report.md, report.html and run.json (the run's wall-clock start and
wall time, kept out of report.json) into --out (default out/<scenario>-<seed>).

Given several files, or a folder (its *.yaml and *.yml files, not its
subfolders), run them all as one suite: every file is checked before anything
runs (a bad one: exit 2, nothing run); then each scenario runs in turn and its
reports go into --out/<scenario>/ (default --out: out/suite-<seed>); then
--out gets one junit.xml with a testsuite per scenario and a testcase per
check, summary.json and summary.md, and one table of scenario x service (lost,
RTO, RPO, verdict, checks met) is printed. A scenario whose environment fails
gets its error report and the next one runs. The exit code is the worst of the
runs': 3 (environment) before 2 (bad input) before 1 before 0.

With --format json, the summary (schema chaosdrill.summary/v1, the same as
summary.json) is printed on standard output instead of the table. When
GITHUB_STEP_SUMMARY names a file (GitHub Actions), the Markdown summary is
appended to it; a path that is no regular file (a FIFO, a device) is refused
on standard error and the summary skipped. In junit.xml each testsuite's time is the run's wall seconds;
the scenario's simulated seconds are its property simulated_seconds; a
passing testcase carries what was measured in its system-out.

The verdict is pass only if every fault and runbook step of the file happened
and every check held: not-rehearsed (something of the file did not happen) and
unverified (a check could not run, e.g. a read-back failed) exit 1 like fail.
A run the environment stops still writes its report, verdict error, exit 3.

The output folder is locked while the run may write there: a second command
given the same --out refuses at once (exit 2). The report files are written
into a temporary folder and moved into place together, so a reader never sees
a torn report; if one cannot be put in place (a folder of its name is in the
way) none is, and a move that fails puts back the files it replaced. An interrupt (Ctrl-C, SIGTERM) stops any phase at once, removes
what the run started and writes nothing (exit 3).

On the containers platform, unless --quiet, a progress line shows the wall
time, how far the scenario got, operations per service, the faults in force
and the next runbook step: kept up to date on a terminal, a plain line every
30 s otherwise. --set NAME=VALUE changes one field of the scenario as sweep
--vary names them (replaying a seed of a what-if).

With --dry-run, the scenario is checked and its plan printed (which nodes each
fault hits, and when; the runbook chain; the expectations; on the containers
platform the images and network it would create) without running anything.

The same scenario and seed on the simulator give a byte-identical report.json.`,
		Args: argsError(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			started := time.Now()
			ctx := cmd.Context()
			if err := checkFormat(f.format, []string{formatText, formatJSON}); err != nil {
				return err
			}
			known, err := parametersOf(f.platform)
			if err != nil {
				return err
			}
			if len(args) > 1 || isFolder(args[0]) {
				if len(f.sets) > 0 {
					return badInput(fmt.Errorf("--set changes one scenario file; give one"))
				}
				return runSuite(ctx, cmd, args, known, f, started)
			}
			edits, err := setEdits(f.sets, known)
			if err != nil {
				return err
			}
			if err := enterPhase(ctx, phaseLoad); err != nil {
				return err
			}
			sc, err := loadScenario(ctx, args[0], known, f.platform, edits...)
			if err != nil && len(f.sets) > 0 {
				return blameEdits(ctx, err, strings.TrimPrefix(setFlags(f.sets), " "), args[0], func() error {
					_, err := loadScenario(ctx, args[0], known, f.platform)
					return err
				})
			}
			if err != nil {
				return err
			}
			if f.dryRun {
				var images []containers.NeededImage
				if f.platform == "containers" {
					if images, err = plannedImages(ctx, sc); err != nil {
						return err
					}
				}
				return printPlan(cmd.OutOrStdout(), sc, f.platform, images)
			}
			out := f.out
			if out == "" {
				out = defaultOut(sc.Name, f.seed)
			}
			if err := checkOutFolder(out); err != nil {
				return badInput(err)
			}
			lock, err := lockOut(out)
			if err != nil {
				return err
			}
			return releaseOut(lock, out, runLocked(ctx, cmd, args[0], sc, f, out, started))
		},
	}
	cmd.Flags().StringVar(&f.platform, "platform", "sim", "where to run: sim (embedded simulator) or containers (Docker)")
	cmd.Flags().Uint64Var(&f.seed, "seed", 1, "root seed of the run (the simulator is deterministic per seed)")
	cmd.Flags().StringVar(&f.out, "out", "", "folder for the report files (default out/<scenario>-<seed>, or out/suite-<seed> for several)")
	cmd.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "do not print faults and events as they happen")
	addImageFlag(cmd)
	cmd.Flags().StringArrayVar(&f.sets, "set", nil, "change one field of the scenario, NAME=VALUE (as sweep --vary names them; repeatable), e.g. to replay a seed of a what-if")
	cmd.Flags().BoolVar(&f.dryRun, "dry-run", false, "check the scenario and print its plan without running anything")
	addFormatFlag(cmd, &f.format, []string{formatText, formatJSON}, "what to print on standard output: the summary table, or the summary as JSON")
	return cmd
}

// defaultOut is out/<scenario>-<seed>. A loaded scenario's name is one
// path element of safe characters (scenarios.CheckName); anything else
// falls back to "scenario", so that the report can never land outside out/.
func defaultOut(name string, seed uint64) string {
	if scenarios.CheckName(name) != nil || !filepath.IsLocal(name) {
		name = "scenario"
	}
	return filepath.Join("out", name+"-"+strconv.FormatUint(seed, 10))
}

// lockOut takes the output folder for this command; a folder another
// command holds is a usage error, found before anything runs.
func lockOut(out string) (*files.Lock, error) {
	lock, err := files.LockFolder(out)
	switch {
	case errors.Is(err, files.ErrLocked):
		return nil, badInput(fmt.Errorf("--out %w: give each run its own folder", err))
	case err != nil:
		return nil, badInput(fmt.Errorf("--out %s: %w", out, err))
	}
	return lock, nil
}

// releaseOut lets go of the output folder once the command is done with
// it, and returns err (or, when there was none, a failure to release). On
// any error (an interrupt, a write that failed for lack of space) the
// folders the lock created are removed too if they hold nothing: a command
// that fails leaves no empty folder behind, and one that wrote something
// (an error report, the runs a sweep finished) keeps it.
func releaseOut(lock *files.Lock, out string, err error) error {
	if err != nil {
		_ = lock.Abandon()
		return err
	}
	if rerr := lock.Release(); rerr != nil {
		return environment(fmt.Errorf("release the lock on %s: %w", out, rerr))
	}
	return nil
}

// runLocked runs the scenario and writes its report into out, which this
// command holds.
func runLocked(ctx context.Context, cmd *cobra.Command, path string, sc *scenarios.Scenario, f runFlags, out string, started time.Time) error {
	stdout := cmd.OutOrStdout()
	build, _, err := platformFor(ctx, f.platform)
	if err != nil {
		return failedRun(ctx, stdout, cmd.ErrOrStderr(), path, out, sc, f, started, reports.PhasePreflight, err)
	}
	opts := runner.Options{Seed: f.seed, RunID: runID(f.platform, sc.Name, f.seed), Sets: f.sets,
		BeforeLoop: func() error { return enterPhase(ctx, phaseSimulate) }}
	if !f.quiet {
		opts.Log = func(format string, a ...any) { fmt.Fprintf(cmd.ErrOrStderr(), format+"\n", a...) }
	}
	var progress *liveProgress
	if f.platform == "containers" && !f.quiet {
		progress = newLiveProgress(ctx, cmd.ErrOrStderr())
		opts.Progress = progress.update
		opts.Log = func(format string, a ...any) { progress.log(cmd.ErrOrStderr(), format, a...) }
	}
	rep, err := runner.Run(ctx, sc, hooked(ctx, build), opts)
	if progress != nil {
		progress.finish()
	}
	if err != nil {
		if rep == nil || interrupted(ctx, err) {
			return failedRun(ctx, stdout, cmd.ErrOrStderr(), path, out, sc, f, started, phaseOf(err), err)
		}
		// Measured in full, then the tear-down failed.
		rep.MarkError(phaseOf(err), err)
	}
	if perr := enterPhase(ctx, phaseReport); perr != nil {
		return perr
	}
	info := reports.NewRunInfo(started, time.Now(), versionText())
	if werr := writeReport(ctx, out, rep, info); werr != nil {
		return werr
	}
	code := reports.ExitCode(rep.Verdict)
	summary := singleSummary(path, out, rep, info, f, code)
	appendStepSummaryContext(ctx, cmd.ErrOrStderr(), func(w io.Writer) error { return reports.WriteSuiteMarkdown(w, summary) })
	if f.format == formatJSON {
		if jerr := reports.WriteSuiteJSON(stdout, summary); jerr != nil {
			return environment(jerr)
		}
	} else {
		reports.Summary(stdout, rep)
		fmt.Fprintf(stdout, "report: %s\n", filepath.Join(out, reports.FileHTML))
	}
	switch code {
	case exitPass:
		return nil
	case exitEnvironment:
		return environment(err)
	default:
		if f.format != formatJSON {
			fmt.Fprintf(stdout, "reproduce with: chaosdrill run %s --platform %s --seed=%d%s%s\n", path, f.platform, f.seed, setFlags(f.sets), imageFlags(ctx))
		}
		return &exitError{code: code, err: fmt.Errorf("verdict %s", rep.Verdict)}
	}
}

// singleSummary is the summary of a run of one scenario: a suite of one,
// so that CI reads one shape whatever it ran.
func singleSummary(path, out string, rep *reports.Report, info *reports.RunInfo, f runFlags, code int) *reports.SuiteSummary {
	row := reports.SummarizeRun(rep, info, path, out, code)
	return reports.NewSuiteSummary(f.platform, f.seed, info.StartedAt, info.WallSeconds, []reports.SuiteRun{row})
}

// hooked wraps a platform builder so that the phase hook is told when the
// models are built, and so that an interrupt during construction stops the
// run there. (The simulation phase is entered through
// runner.Options.BeforeLoop: the platform itself is not wrapped.)
func hooked(ctx context.Context, build runner.Builder) runner.Builder {
	return func(cfg platform.Config) (platform.Platform, error) {
		if err := enterPhase(ctx, phaseBuild); err != nil {
			return nil, err
		}
		p, err := build(cfg)
		if err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			_ = p.Close()
			return nil, err
		}
		return p, nil
	}
}

// writeReport writes the report files (and run.json when info is not nil)
// into out as one; an interrupt leaves out as it was.
func writeReport(ctx context.Context, out string, rep *reports.Report, info *reports.RunInfo) error {
	if err := enterPhase(ctx, phaseWrite); err != nil {
		return err
	}
	err := reports.WriteRunContext(ctx, out, rep, info, func(file string) { _ = enterPhase(ctx, phaseWrite+":"+file) })
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	default:
		return environment(fmt.Errorf("write report: %w", err))
	}
}

// failedRun ends a run that could not complete. An interrupt writes
// nothing (the platform has removed what it started); anything else writes
// the error report, verdict error, so that CI has an artifact that says
// what failed and where, and returns err for exit code 3.
func failedRun(ctx context.Context, stdout, stderr io.Writer, path, out string, sc *scenarios.Scenario, f runFlags, started time.Time, phase string, err error) error {
	if interrupted(ctx, err) || classify(err) == exitBadInput {
		return err
	}
	rep := errorReport(sc, f, phase, err)
	info := reports.NewRunInfo(started, time.Now(), versionText())
	if werr := reports.WriteRunContext(ctx, out, rep, info, nil); werr != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return environment(fmt.Errorf("%w (and the error report could not be written: %v)", err, werr))
	}
	summary := singleSummary(path, out, rep, info, f, exitEnvironment)
	appendStepSummaryContext(ctx, stderr, func(w io.Writer) error { return reports.WriteSuiteMarkdown(w, summary) })
	if f.format == formatJSON {
		_ = reports.WriteSuiteJSON(stdout, summary)
	} else {
		fmt.Fprintf(stdout, "error report: %s\n", filepath.Join(out, reports.FileJSON))
	}
	return err
}

// errorReport is the report of a run of sc that could not complete.
func errorReport(sc *scenarios.Scenario, f runFlags, phase string, err error) *reports.Report {
	return reports.BuildError(&reports.Run{
		Scenario: sc.Name, Description: sc.Description, Platform: f.platform, Seed: f.seed,
		Duration: sc.Duration.D(), Topology: sc.Topology.Resolved, Expect: sc.Expect,
	}, phase, err)
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

// runID names a run; live runs label every container with it and put it
// in container and network names, which take at most 63 characters here
// (docker.NewEngine's rule), so a long scenario name is shortened.
func runID(platformName, scenario string, seed uint64) string {
	if platformName == "sim" {
		return "sim"
	}
	tail := fmt.Sprintf("-%d-%s", seed, randomSuffix())
	if room := 63 - len(tail); len(scenario) > room {
		scenario = strings.TrimRight(scenario[:room], "-_.")
	}
	return scenario + tail
}

// loadScenario loads a scenario file for a platform; every way it can fail
// (unreadable, not a regular file, malformed, inconsistent, over a limit)
// is bad input, except an interrupt. On the containers platform the node
// names must also make distinct container names.
func loadScenario(ctx context.Context, path string, known []platform.Parameter, platformName string, extra ...scenarios.Option) (*scenarios.Scenario, error) {
	opts := append([]scenarios.Option{scenarios.WithParameters(known), scenarios.WithContext(ctx)}, extra...)
	if platformName == "containers" {
		opts = append(opts, scenarios.WithNodeNames(containerAlias), scenarios.WithParameterPlatforms("containers", "sim", simulator.Parameters()))
	} else {
		opts = append(opts, scenarios.WithParameterPlatforms("sim", "containers", containers.Parameters()))
	}
	sc, err := scenarios.Load(path, opts...)
	switch {
	case err == nil:
		return sc, nil
	case ctx.Err() != nil:
		return nil, ctx.Err()
	default:
		return nil, badInput(err)
	}
}

// containerAlias is the name the containers platform reaches a node by (and
// puts in its container's name).
func containerAlias(node string) string { return (*docker.Engine)(nil).Alias(node) }
