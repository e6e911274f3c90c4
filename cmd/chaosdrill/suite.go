package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/chaosdrill/chaosdrill/internal/files"
	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/platform/containers"
	"github.com/chaosdrill/chaosdrill/reports"
	"github.com/chaosdrill/chaosdrill/runner"
	"github.com/chaosdrill/chaosdrill/scenarios"
)

// suiteFiles are the names a suite writes into its folder beside the
// scenarios' folders; no scenario may be named after one.
var suiteFiles = []string{reports.FileJUnit, reports.FileSuiteJSON, reports.FileSuiteMarkdown}

// suiteEntry is one scenario of a suite: the file it came from and the
// scenario loaded from it.
type suiteEntry struct {
	file string
	sc   *scenarios.Scenario
}

// isFolder reports whether path names a folder (following links).
func isFolder(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

// suiteFilesOf expands the command line into scenario files: a folder
// gives its *.yaml and *.yml files in name order (not its subfolders, so
// that fixtures in a testdata folder stay out), a file itself. A folder
// with no scenario file, or a file given twice, is bad input.
func suiteFilesOf(args []string) ([]string, error) {
	var list []string
	seen := map[string]string{}
	for _, arg := range args {
		var found []string
		if isFolder(arg) {
			entries, err := os.ReadDir(arg)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", arg, err)
			}
			for _, e := range entries {
				ext := strings.ToLower(filepath.Ext(e.Name()))
				if e.IsDir() || (ext != ".yaml" && ext != ".yml") {
					continue
				}
				found = append(found, filepath.Join(arg, e.Name()))
			}
			if len(found) == 0 {
				return nil, fmt.Errorf("%s: no scenario file (*.yaml, *.yml) in this folder", arg)
			}
		} else {
			found = []string{arg}
		}
		for _, file := range found {
			key := file
			if abs, err := filepath.Abs(file); err == nil {
				key = abs
			}
			if first, twice := seen[key]; twice {
				return nil, fmt.Errorf("%s is given twice (also as %s): each scenario runs once in a suite", file, first)
			}
			seen[key] = file
			list = append(list, file)
		}
	}
	return list, nil
}

// runSuite runs several scenarios as one suite: every file is loaded and
// checked first (nothing runs if one is bad), then each runs in turn into
// its own folder, then the combined junit.xml and summary are written.
func runSuite(ctx context.Context, cmd *cobra.Command, args []string, known []platform.Parameter, f runFlags, started time.Time) error {
	paths, err := suiteFilesOf(args)
	if err != nil {
		return badInput(err)
	}
	var entries []suiteEntry
	var bad []string
	for _, path := range paths {
		if err := enterPhase(ctx, phaseLoad); err != nil {
			return err
		}
		sc, err := loadScenario(ctx, path, known, f.platform)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			fmt.Fprintln(cmd.ErrOrStderr(), err)
			bad = append(bad, path)
			continue
		}
		entries = append(entries, suiteEntry{file: path, sc: sc})
	}
	if len(bad) > 0 {
		return badInput(fmt.Errorf("%d of %d scenario files %s not valid; nothing was run", len(bad), len(paths), pluralWord(len(bad), "is", "are")))
	}
	byName := map[string]string{}
	for _, e := range entries {
		if first, twice := byName[e.sc.Name]; twice {
			return badInput(fmt.Errorf("%s and %s both name their scenario %q: their reports would share the folder %s", first, e.file, e.sc.Name, e.sc.Name))
		}
		if slices.Contains(suiteFiles, e.sc.Name) {
			return badInput(fmt.Errorf("%s: a scenario in a suite cannot be named %q, the name of the suite's own file", e.file, e.sc.Name))
		}
		byName[e.sc.Name] = e.file
	}
	if f.dryRun {
		for i, e := range entries {
			if i > 0 {
				fmt.Fprintln(cmd.OutOrStdout())
			}
			var images []containers.NeededImage
			if f.platform == "containers" {
				if images, err = plannedImages(ctx, e.sc); err != nil {
					return err
				}
			}
			if err := printPlan(cmd.OutOrStdout(), e.sc, f.platform, images); err != nil {
				return err
			}
		}
		return nil
	}
	out := f.out
	if out == "" {
		out = filepath.Join("out", "suite-"+strconv.FormatUint(f.seed, 10))
	}
	if err := checkOutFolder(out); err != nil {
		return badInput(err)
	}
	lock, err := lockOut(out)
	if err != nil {
		return err
	}
	return releaseOut(lock, out, suiteLocked(ctx, cmd, entries, f, out, started))
}

// suiteLocked runs the suite's scenarios into out, which this command
// holds. An interrupt stops the scenario running at once and writes
// nothing for it; the reports of the scenarios that finished before stay,
// whole, and the suite's own files are not written.
func suiteLocked(ctx context.Context, cmd *cobra.Command, entries []suiteEntry, f runFlags, out string, started time.Time) error {
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	// Docker is checked once: if it is not there, every scenario gets its
	// error report, so that CI has an artifact for each.
	build, _, preflight := platformFor(ctx, f.platform)
	if preflight != nil && (interrupted(ctx, preflight) || classify(preflight) == exitBadInput) {
		return preflight
	}
	var junitRuns []reports.JUnitRun
	var rows []reports.SuiteRun
	for i, e := range entries {
		runStart := time.Now()
		rep, runErr := suiteRun(ctx, stderr, e.sc, f, build, preflight)
		if interrupted(ctx, runErr) {
			return ctx.Err()
		}
		info := reports.NewRunInfo(runStart, time.Now(), versionText())
		folder, code := e.sc.Name, exitPass
		switch {
		case rep == nil:
			// The platform refused the scenario as bad input: no report,
			// as for a single run; the suite lists it and exits 2.
			folder, code = "", classify(runErr)
			rep = errorReport(e.sc, f, phaseOf(runErr), runErr)
		default:
			code = reports.ExitCode(rep.Verdict)
			if perr := enterPhase(ctx, phaseReport); perr != nil {
				return perr
			}
			if werr := writeReport(ctx, filepath.Join(out, folder), rep, info); werr != nil {
				return werr
			}
		}
		junitRuns = append(junitRuns, reports.JUnitRun{Report: rep, Info: info})
		rows = append(rows, reports.SummarizeRun(rep, info, e.file, folder, code))
		fmt.Fprintf(stderr, "[%d/%d] %s: %s (%s)\n", i+1, len(entries), e.sc.Name, strings.ToUpper(rep.Verdict), time.Since(runStart).Round(time.Millisecond))
	}
	wall := time.Since(started).Seconds()
	summary := reports.NewSuiteSummary(f.platform, f.seed, started, wall, rows)
	if err := enterPhase(ctx, phaseWrite); err != nil {
		return err
	}
	set := []files.File{
		{Name: reports.FileJUnit, Write: func(w io.Writer) error { return reports.WriteSuiteJUnit(w, "chaosdrill", wall, junitRuns) }},
		{Name: reports.FileSuiteJSON, Write: func(w io.Writer) error { return reports.WriteSuiteJSON(w, summary) }},
		{Name: reports.FileSuiteMarkdown, Write: func(w io.Writer) error { return reports.WriteSuiteMarkdown(w, summary) }},
	}
	if err := files.WriteAll(ctx, out, set, nil); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return environment(fmt.Errorf("write the suite's files into %s: %w", out, err))
	}
	appendStepSummaryContext(ctx, stderr, func(w io.Writer) error { return reports.WriteSuiteMarkdown(w, summary) })
	if f.format == formatJSON {
		if err := reports.WriteSuiteJSON(stdout, summary); err != nil {
			return environment(err)
		}
	} else {
		reports.WriteSuiteText(stdout, summary)
		fmt.Fprintf(stdout, "reports: %s (junit.xml, summary.md, one folder per scenario)\n", out)
	}
	if summary.ExitCode != exitPass {
		return &exitError{code: summary.ExitCode, err: fmt.Errorf("suite verdict %s (%s)", summary.Verdict, failingScenarios(summary))}
	}
	return nil
}

// suiteRun runs one scenario of a suite. It returns the report to write
// (nil when the run was interrupted or the platform refused the scenario
// as bad input) and the run's error, if any.
func suiteRun(ctx context.Context, stderr io.Writer, sc *scenarios.Scenario, f runFlags, build runner.Builder, preflight error) (*reports.Report, error) {
	if preflight != nil {
		return errorReport(sc, f, reports.PhasePreflight, preflight), preflight
	}
	opts := runner.Options{Seed: f.seed, RunID: runID(f.platform, sc.Name, f.seed),
		BeforeLoop: func() error { return enterPhase(ctx, phaseSimulate) }}
	if !f.quiet {
		prefix := "[" + sc.Name + "] "
		opts.Log = func(format string, a ...any) { fmt.Fprintf(stderr, prefix+format+"\n", a...) }
	}
	rep, err := runner.Run(ctx, sc, hooked(ctx, build), opts)
	if err == nil {
		return rep, nil
	}
	if interrupted(ctx, err) {
		return nil, err
	}
	if rep == nil {
		if classify(err) == exitBadInput {
			return nil, err
		}
		return errorReport(sc, f, phaseOf(err), err), err
	}
	// Measured in full, then the tear-down failed.
	rep.MarkError(phaseOf(err), err)
	return rep, err
}

// failingScenarios names the scenarios that did not pass, for the error
// line.
func failingScenarios(s *reports.SuiteSummary) string {
	var names []string
	for _, r := range s.Runs {
		if r.ExitCode != exitPass {
			names = append(names, r.Scenario+" "+r.Verdict)
		}
	}
	if len(names) > 8 {
		names = append(names[:8], fmt.Sprintf("and %d more", len(names)-8))
	}
	return strings.Join(names, ", ")
}
