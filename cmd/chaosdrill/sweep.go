package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/chaosdrill/chaosdrill/internal/files"
	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/reports"
	"github.com/chaosdrill/chaosdrill/runner"
	"github.com/chaosdrill/chaosdrill/scenarios"
	"github.com/chaosdrill/chaosdrill/simulator"
	"github.com/chaosdrill/chaosdrill/sweep"
)

// phaseSeedDone is entered each time a run of a sweep finishes (after its
// result is kept): the specs interrupt a sweep there.
const phaseSeedDone = "seed-done"

// Files a sweep writes into --out.
const (
	fileSweepJSON  = "sweep.json"
	fileSweepMD    = "sweep.md"
	fileSweepHTML  = "sweep.html"
	fileSweepJUnit = "junit.xml"
)

type sweepFlags struct {
	seeds, from uint64
	workers     int
	out         string
	shard       string
	vary        string
}

func newSweepCommand() *cobra.Command {
	var f sweepFlags
	cmd := &cobra.Command{
		Use:   "sweep SCENARIO",
		Short: "Run a scenario over many seeds on the simulator: how likely each outcome is",
		Long: `Run one scenario on the simulator for --seeds consecutive seeds starting at
--from, and say how likely each outcome is: for each check of the scenario
the share of seeds that met it, with a 95% Wilson confidence interval; per
service the distribution over the seeds of RTO, RPO, lost and unknown writes
and write latency (min, p50, p90, p95, p99, max) and a histogram; the worst
seeds of each figure (those worse than the best seed), per value of a
what-if, replayable with chaosdrill run --seed=N (--set NAME=VALUE).

The scenario's sweep.gates set the exit code: 0 when every gate holds, 1 when
one does not (without gates: 1 when any seed did not pass), 2 bad input, 3
the environment failed or the sweep was interrupted. A gate bounds a figure
at a quantile over the seeds ({service: mongo, rto_max: 3m, quantile: 0.95})
or says what share of seeds must keep it ({service: mongo,
lost_writes_max: 0, at_least: 0.99}), or counts passing seeds ({verdict:
pass, at_least: 0.99}).

What-if: --vary NAME=V1,V2,... runs the same seeds once per value and prints
them side by side. NAME is a model parameter (chaosdrill list --parameters),
a workload field (workload.SERVICE.FIELD, e.g. workload.mongo.write_concern)
or a topology field (topology.latency.inter_region); LOW..HIGH/N gives N
values evenly spaced (numbers or durations, e.g. 20ms..200ms/10).

With --out, writes sweep.json (no wall-clock figure in it: the same sweep
gives the same bytes whatever --workers, sharded or not), sweep.md,
sweep.html (histograms, and the what-if's charts) and junit.xml (one case
per gate, per value).

Scale-out: --shard i/n runs every n-th seed (the seeds from+k with
k mod n = i-1) and writes that shard's sweep.json; chaosdrill sweep merge
combines the shards into exactly the unsharded result. Spread the shards with
the engine you have (a CI matrix, a Kubernetes Indexed Job).

A progress bar shows on a terminal (runs done, rate, time left), plain lines
otherwise. Ctrl-C stops at once; the runs that finished are still summarised
and written, marked partial (exit 3).`,
		Args: argsError(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSweep(cmd, args[0], f)
		},
	}
	cmd.Flags().Uint64Var(&f.seeds, "seeds", 100, "how many seeds to run")
	cmd.Flags().Uint64Var(&f.from, "from", 1, "first seed")
	cmd.Flags().IntVar(&f.workers, "workers", runtime.GOMAXPROCS(0), "runs side by side (the result does not depend on it)")
	cmd.Flags().StringVar(&f.out, "out", "", "folder for sweep.json, sweep.md, sweep.html and junit.xml (default: print only; needed with --shard)")
	cmd.Flags().StringVar(&f.shard, "shard", "", "run shard i of n (i/n): every n-th seed, for sweep merge")
	cmd.Flags().StringVar(&f.vary, "vary", "", "what-if: NAME=V1,V2,... or NAME=LOW..HIGH/N, the same seeds per value")
	cmd.AddCommand(newSweepMergeCommand())
	return cmd
}

func newSweepMergeCommand() *cobra.Command {
	var out, scenario string
	cmd := &cobra.Command{
		Use:   "merge SHARD...",
		Short: "Combine the shards of a sweep into the result of the whole sweep",
		Long: `Read the sweep.json of each shard (a folder holding one, or the file) of one
sweep run with --shard i/n, check each of them whole, and combine them into
exactly the result the sweep gives unsharded: the same sweep.json, byte for
byte. Prints the summary; with --out writes sweep.json, sweep.md, sweep.html
and junit.xml there; when GITHUB_STEP_SUMMARY names a file, sweep.md is
appended to it (as sweep does, unsharded). Exit codes as sweep's (the gates); a shard that cannot be
read, is partial, is of another sweep, is given twice, or is missing is bad
input (exit 2), and the message names the file. An --out that is one of the
shards given, holds one or lies inside one is bad input too (exit 2), before
anything is read.

The replay commands name the scenario file: the one each shard recorded
(its path as the sweep was given it, from the folder it ran in), else
scenarios/NAME.yaml or ./NAME.yaml, whichever still has the bytes that were
swept (the shards' scenario_sha256); --scenario FILE names it (bad input if
its bytes differ).`,
		Args: argsError(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runMerge(cmd, args, out, scenario)
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "folder for the merged sweep.json, sweep.md, sweep.html and junit.xml (default: print only)")
	cmd.Flags().StringVar(&scenario, "scenario", "", "the scenario file the shards ran, for the replay commands (default: the path the shards recorded)")
	return cmd
}

// sweepPlan is a sweep ready to run: a scenario per value of the what-if.
type sweepPlan struct {
	path      string
	variants  []*scenarios.Scenario
	about     sweep.Sweep
	seeds     []uint64 // the seeds this process runs, in order
	expectRow int
}

func runSweep(cmd *cobra.Command, path string, f sweepFlags) error {
	ctx := cmd.Context()
	shard, err := parseShard(f.shard)
	if err != nil {
		return badInput(err)
	}
	switch {
	case f.seeds == 0:
		return badInput(fmt.Errorf("--seeds must be at least 1"))
	case f.seeds > sweep.MaxSeeds:
		return badInput(fmt.Errorf("--seeds %d: a sweep runs at most %d seeds; shard a larger one over machines with --from", f.seeds, sweep.MaxSeeds))
	case f.seeds-1 > math.MaxUint64-f.from:
		return badInput(fmt.Errorf("--from %d with --seeds %d runs past the last seed, %d: the seeds would wrap round to 0", f.from, f.seeds, uint64(math.MaxUint64)))
	case f.workers < 1:
		return badInput(fmt.Errorf("--workers must be at least 1"))
	case shard != nil && uint64(shard.Count) > f.seeds:
		return badInput(fmt.Errorf("--shard %s: more shards than the %d seeds; every shard needs a seed", f.shard, f.seeds))
	case shard != nil && f.out == "":
		return badInput(fmt.Errorf("--shard %s: a shard is merged from its sweep.json; give --out", f.shard))
	}
	if err := enterPhase(ctx, phaseLoad); err != nil {
		return err
	}
	plan, err := planSweep(ctx, path, f, shard)
	if err != nil {
		return err
	}
	var lock *files.Lock
	if f.out != "" {
		if err := checkOutFolder(f.out); err != nil {
			return badInput(err)
		}
		if lock, err = lockOut(f.out); err != nil {
			return err
		}
	}
	// A sweep interrupted after some runs finished has written them: its
	// folder holds them and is kept.
	_, err = executeSweep(ctx, cmd, plan, f)
	return releaseOut(lock, f.out, err)
}

// parseShard reads i/n; "" is no shard.
func parseShard(text string) (*sweep.Shard, error) {
	if text == "" {
		return nil, nil
	}
	i, n, ok := strings.Cut(text, "/")
	index, err1 := strconv.Atoi(i)
	count, err2 := strconv.Atoi(n)
	switch {
	case !ok || err1 != nil || err2 != nil:
		return nil, fmt.Errorf("--shard %q: want i/n, e.g. 2/8 (shard 2 of 8)", text)
	case count < 1 || count > sweep.MaxShards:
		return nil, fmt.Errorf("--shard %q: n is from 1 to %d", text, sweep.MaxShards)
	case index < 1 || index > count:
		return nil, fmt.Errorf("--shard %q: i is from 1 to n (shards are numbered from 1)", text)
	}
	return &sweep.Shard{Index: index, Count: count}, nil
}

// planSweep loads the scenario once per value of the what-if.
func planSweep(ctx context.Context, path string, f sweepFlags, shard *sweep.Shard) (*sweepPlan, error) {
	known := simulator.Parameters()
	var vary *sweep.Vary
	if f.vary != "" {
		var err error
		if vary, err = sweep.ParseVary(f.vary, known); err != nil {
			return nil, badInput(fmt.Errorf("--vary %w", err))
		}
		if runs := f.seeds * uint64(len(vary.Values)); runs > sweep.MaxSeeds {
			return nil, badInput(fmt.Errorf("--seeds %d × %d values of --vary is %d runs; a sweep runs at most %d", f.seeds, len(vary.Values), runs, sweep.MaxSeeds))
		}
	}
	data, err := files.ReadRegular(path, scenarios.MaxFileBytes)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, badInput(fmt.Errorf("read scenario: %w", err))
	}
	sum := sha256.Sum256(data)
	p := &sweepPlan{path: path}
	values := []*string{nil}
	if vary != nil {
		values = values[:0]
		for i := range vary.Values {
			values = append(values, &vary.Values[i])
		}
	}
	for _, value := range values {
		opts := []scenarios.Option{scenarios.WithParameters(known), scenarios.WithContext(ctx)}
		if value != nil {
			opts = append(opts, scenarios.WithEdit(sweep.Edit(vary.Name, *value)))
		}
		sc, err := scenarios.Parse(path, data, opts...)
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case value != nil:
			return nil, blameEdits(ctx, badInput(err), "--vary "+shellWord(vary.Name+"="+*value), path, func() error {
				_, err := scenarios.Parse(path, data, scenarios.WithParameters(known), scenarios.WithContext(ctx))
				return err
			})
		default:
			return nil, badInput(err)
		}
		p.variants = append(p.variants, sc)
	}
	sc := p.variants[0]
	var services []string
	for _, w := range sc.Workloads {
		if !w.Reads() && !slices.Contains(services, w.Service) {
			services = append(services, w.Service)
		}
	}
	slices.Sort(services)
	var gates []scenarios.Gate
	if sc.Sweep != nil && len(sc.Sweep.Gates) > 0 {
		gates = sc.Sweep.Gates
	}
	p.about = sweep.Sweep{Scenario: sc.Name, ScenarioSHA256: hex.EncodeToString(sum[:]), ScenarioFile: filepath.Clean(path), Platform: "sim", Version: versionText(),
		From: f.from, Seeds: f.seeds, Shard: shard, Vary: vary, Gates: gates, Services: services}
	p.expectRow = sweep.ExpectationRows(sc)
	for k := range f.seeds {
		if sweep.InShard(shard, k) {
			p.seeds = append(p.seeds, f.from+k)
		}
	}
	return p, nil
}

// sweepJob is one run: a seed of one value.
type sweepJob struct {
	variant int
	index   int // into plan.seeds
}

// executeSweep runs the plan, prints the summary and writes the files. It
// reports whether it wrote them (an interrupted sweep writes the runs that
// finished).
func executeSweep(ctx context.Context, cmd *cobra.Command, plan *sweepPlan, f sweepFlags) (bool, error) {
	results := make([][]sweep.Seed, len(plan.variants))
	done := make([][]bool, len(plan.variants))
	for i := range results {
		results[i] = make([]sweep.Seed, len(plan.seeds))
		done[i] = make([]bool, len(plan.seeds))
	}
	var mu sync.Mutex
	var checks []string
	total := len(plan.seeds) * len(plan.variants)
	progress := newSweepProgress(ctx, cmd, plan.about.Scenario, total)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(f.workers)
	build := func(cfg platform.Config) (platform.Platform, error) { return simulator.New(cfg) }
	// Seeds first, values second: an interrupted what-if has compared
	// the values over the same seeds so far.
jobs:
	for k := range plan.seeds {
		for v := range plan.variants {
			if gctx.Err() != nil {
				break jobs
			}
			job := sweepJob{variant: v, index: k}
			g.Go(func() error {
				seed := plan.seeds[job.index]
				rep, err := runner.Run(gctx, plan.variants[job.variant], build, runner.Options{Seed: seed})
				if err != nil {
					if gctx.Err() != nil {
						return gctx.Err()
					}
					return environment(fmt.Errorf("seed %d%s: %w", seed, valueSuffix(plan.about.Vary, job.variant), err))
				}
				summary := sweep.Summarise(rep, plan.about.Services)
				mu.Lock()
				if checks == nil {
					checks = expectationNames(rep, plan.expectRow)
				} else if !slices.Equal(checks, expectationNames(rep, plan.expectRow)) {
					mu.Unlock()
					return environment(fmt.Errorf("seed %d: its checks %q differ from another run's %q", seed, expectationNames(rep, plan.expectRow), checks))
				}
				results[job.variant][job.index] = summary
				done[job.variant][job.index] = true
				mu.Unlock()
				progress.add(1)
				return enterPhase(gctx, phaseSeedDone)
			})
		}
	}
	runErr := g.Wait()
	progress.finish(runErr == nil && ctx.Err() == nil)
	wasInterrupted := ctx.Err() != nil
	if runErr != nil && !wasInterrupted {
		return false, runErr
	}
	finished := make([][]sweep.Seed, len(results))
	count := 0
	for v := range results {
		for k, ok := range done[v] {
			if ok {
				finished[v] = append(finished[v], results[v][k])
				count++
			}
		}
	}
	if wasInterrupted && count == 0 {
		return false, ctx.Err()
	}
	about := plan.about
	about.Checks = checks
	var partial *sweep.Partial
	if wasInterrupted {
		partial = &sweep.Partial{Reason: "interrupted"}
	}
	result := sweep.Aggregate(about, finished, partial)
	replay := replayCommand(plan.path, about.Vary)
	result.WriteText(cmd.OutOrStdout(), replay, markdownPath(f.out))
	if about.Shard == nil {
		// A shard's summary is of some seeds; the merge writes the sweep's.
		appendStepSummaryContext(ctx, cmd.ErrOrStderr(), func(w io.Writer) error { return result.WriteMarkdown(w, replay) })
	}
	written := false
	if f.out != "" {
		// An interrupted sweep still writes what finished: the write
		// must not stop on the interrupt that asked for it.
		wctx := ctx
		if wasInterrupted {
			wctx = context.WithoutCancel(ctx)
		}
		if err := writeSweepFiles(wctx, f.out, result, replay); err != nil {
			return false, environment(err)
		}
		written = true
		fmt.Fprintf(cmd.OutOrStdout(), "sweep: %s\n", filepath.Join(f.out, fileSweepHTML))
	}
	if wasInterrupted {
		where := "nothing was written (no --out)"
		if written {
			where = "they are in " + filepath.Join(f.out, fileSweepJSON) + ", marked partial"
		}
		return written, &partialError{fmt.Errorf("interrupted after %d of %d runs; %s", count, total, where)}
	}
	return written, sweepExit(result)
}

// partialError is an interrupted sweep that still summarised the runs
// that finished; it exits 3 like any interrupt, saying what was kept.
type partialError struct{ err error }

func (e *partialError) Error() string { return e.err.Error() }
func (e *partialError) Unwrap() error { return context.Canceled }

// sweepExit is the exit of a finished sweep: its gates.
func sweepExit(r *sweep.Result) error {
	if r.Passed() {
		return nil
	}
	var failed []string
	for _, v := range r.Variants {
		for _, g := range v.Gates {
			if !g.Pass {
				name := g.Gate
				if v.Value != nil {
					name += " (" + r.Vary.Name + "=" + *v.Value + ")"
				}
				failed = append(failed, name)
			}
		}
	}
	return &exitError{code: exitFail, err: fmt.Errorf("%d %s not met: %s", len(failed), pluralWord(len(failed), "gate", "gates"), strings.Join(failed, "; "))}
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func valueSuffix(v *sweep.Vary, variant int) string {
	if v == nil {
		return ""
	}
	return " (" + v.Name + "=" + v.Values[variant] + ")"
}

// expectationNames are the names of the expectation checks a report starts
// with.
func expectationNames(rep *reports.Report, rows int) []string {
	names := make([]string, 0, rows)
	for _, c := range rep.Expectations[:min(rows, len(rep.Expectations))] {
		names = append(names, c.Name)
	}
	return names
}

// replayCommand says how to run one seed of a sweep again.
func replayCommand(path string, vary *sweep.Vary) sweep.Replay {
	return func(seed uint64, value *string) string {
		command := fmt.Sprintf("chaosdrill run %s --seed=%d", shellWord(path), seed)
		if value != nil && vary != nil {
			command += " --set " + shellWord(vary.Name+"="+*value)
		}
		return command
	}
}

// shellWord quotes a word for a POSIX shell when it needs it.
func shellWord(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=,:@+", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// markdownPath is the sweep.md a sweep writes into out, "" without --out.
func markdownPath(out string) string {
	if out == "" {
		return ""
	}
	return filepath.Join(out, fileSweepMD)
}

// writeSweepFiles writes sweep.json, sweep.md, sweep.html and junit.xml
// into dir, whole or not at all.
func writeSweepFiles(ctx context.Context, dir string, r *sweep.Result, replay sweep.Replay) error {
	set := []files.File{
		{Name: fileSweepJSON, Write: r.Encode},
		{Name: fileSweepMD, Write: func(w io.Writer) error { return r.WriteMarkdown(w, replay) }},
		{Name: fileSweepHTML, Write: func(w io.Writer) error { return r.WriteHTML(w, replay) }},
		{Name: fileSweepJUnit, Write: r.WriteJUnit},
	}
	if err := files.WriteAll(ctx, dir, set, nil); err != nil {
		return fmt.Errorf("write the sweep into %s: %w", dir, err)
	}
	return nil
}

// outApartFrom refuses an output folder that is one of the inputs, holds
// one, or lies inside one: writing there could overwrite a shard being
// merged (or one a later merge of the same shards reads). Paths are
// compared resolved (absolute, symbolic links followed as far as they
// exist), so "sh1", "./sh1/" and a link to it are one folder.
func outApartFrom(out string, inputs []string) error {
	o, err := resolvedPath(out)
	if err != nil {
		return fmt.Errorf("--out %s: %w", out, err)
	}
	for _, in := range inputs {
		i, err := resolvedPath(in)
		if err != nil {
			return fmt.Errorf("%s: %w", in, err)
		}
		switch {
		case o == i:
			return fmt.Errorf("--out %s is the input %s: give the merge a folder of its own", out, in)
		case within(i, o):
			return fmt.Errorf("--out %s holds the input %s: give the merge a folder of its own, apart from the shards", out, in)
		case within(o, i):
			return fmt.Errorf("--out %s is inside the input %s: give the merge a folder of its own, apart from the shards", out, in)
		}
	}
	return nil
}

// resolvedPath is p absolute, with the symbolic links of its longest
// existing part followed (the rest may not exist yet).
func resolvedPath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	rest := ""
	for dir := abs; ; dir = filepath.Dir(dir) {
		if real, err := filepath.EvalSymlinks(dir); err == nil {
			return filepath.Join(real, rest), nil
		}
		if filepath.Dir(dir) == dir {
			return abs, nil
		}
		rest = filepath.Join(filepath.Base(dir), rest)
	}
}

// within reports whether path lies strictly inside dir.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// runMerge merges shards.
func runMerge(cmd *cobra.Command, args []string, out, scenario string) error {
	ctx := cmd.Context()
	if err := enterPhase(ctx, phaseLoad); err != nil {
		return err
	}
	if out != "" {
		if err := outApartFrom(out, args); err != nil {
			return badInput(err)
		}
	}
	var shards []*sweep.Result
	var names []string
	for _, arg := range args {
		path := arg
		if isFolder(arg) {
			path = filepath.Join(arg, fileSweepJSON)
		}
		data, err := files.ReadRegular(path, sweep.MaxFileBytes)
		if err != nil {
			return badInput(fmt.Errorf("%s: %w", path, err))
		}
		r, err := sweep.Decode(data)
		if err != nil {
			return badInput(fmt.Errorf("%s: %w", path, err))
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		shards = append(shards, r)
		names = append(names, path)
	}
	merged, err := sweep.Merge(names, shards)
	if err != nil {
		return badInput(err)
	}
	if scenario != "" {
		if err := sameScenario(scenario, merged); err != nil {
			return badInput(fmt.Errorf("--scenario %w", err))
		}
	}
	var recorded []string
	for _, r := range shards {
		if r.ScenarioFile != "" && !slices.Contains(recorded, r.ScenarioFile) {
			recorded = append(recorded, r.ScenarioFile)
		}
	}
	var lock *files.Lock
	if out != "" {
		if err := checkOutFolder(out); err != nil {
			return badInput(err)
		}
		if lock, err = lockOut(out); err != nil {
			return err
		}
	}
	file := scenario
	if file == "" {
		file = scenarioFileFor(merged, recorded)
		if strings.HasPrefix(file, "<") {
			fmt.Fprintf(cmd.ErrOrStderr(), "no scenario file with the bytes swept was found (%s); the replay commands say %s: name the file with sweep merge --scenario FILE\n",
				strings.Join(append(recorded, filepath.Join("scenarios", merged.Scenario+".yaml"), merged.Scenario+".yaml"), ", "), file)
		}
	}
	replay := replayCommand(file, merged.Vary)
	merged.WriteText(cmd.OutOrStdout(), replay, markdownPath(out))
	appendStepSummaryContext(ctx, cmd.ErrOrStderr(), func(w io.Writer) error { return merged.WriteMarkdown(w, replay) })
	if out != "" {
		err := writeSweepFiles(ctx, out, merged, replay)
		switch {
		case interrupted(ctx, err):
			_ = releaseOut(lock, out, err)
			return ctx.Err()
		case err != nil:
			return releaseOut(lock, out, environment(err))
		}
		if err := releaseOut(lock, out, nil); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "sweep: %s\n", filepath.Join(out, fileSweepHTML))
	}
	return sweepExit(merged)
}

// scenarioFileFor finds the scenario file a merged sweep ran, for its
// replay commands: the path a shard recorded, else the library's or the
// working folder's file of that name, the first whose bytes are the ones
// swept; else a placeholder.
func scenarioFileFor(r *sweep.Result, recorded []string) string {
	candidates := append(slices.Clone(recorded), filepath.Join("scenarios", r.Scenario+".yaml"), r.Scenario+".yaml")
	for _, candidate := range candidates {
		if sameScenario(candidate, r) == nil {
			return candidate
		}
	}
	return "<" + r.Scenario + " scenario file>"
}

// sameScenario checks that file holds the bytes the sweep ran.
func sameScenario(file string, r *sweep.Result) error {
	data, err := files.ReadRegular(file, scenarios.MaxFileBytes)
	if err != nil {
		return err
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != r.ScenarioSHA256 {
		return fmt.Errorf("%s: not the scenario file the shards ran (its SHA-256 is %s, theirs %s)", file, hex.EncodeToString(sum[:]), r.ScenarioSHA256)
	}
	return nil
}

// isTerminal reports whether w is a character device (a progress bar on a
// pipe or a CI log is noise).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// blameEdits words the error of loading a scenario with edits (run's
// --set, sweep's --vary, named by flags): when the file loads without them
// (plain, nil), the edits made it invalid, and the message says so first;
// the positions the loader gives are then those of the fields the edits
// replaced in the file, not something the file says. Otherwise err, the
// file's own error, is returned as it is.
func blameEdits(ctx context.Context, err error, flags, path string, plain func() error) error {
	if ctx.Err() != nil || plain() != nil {
		return err
	}
	return badInput(fmt.Errorf("%s makes the scenario invalid (%s loads without it; the positions below are those of the field the value replaces):\n%w", flags, path, err))
}

// setEdits turns run's --set NAME=VALUE flags into loader edits; a field
// set twice is refused (which value was meant?).
func setEdits(sets []string, known []platform.Parameter) ([]scenarios.Option, error) {
	var opts []scenarios.Option
	first := map[string]string{}
	for _, set := range sets {
		name, value, ok := strings.Cut(set, "=")
		if !ok || name == "" || value == "" {
			return nil, badInput(fmt.Errorf("--set %q: want NAME=VALUE, e.g. workload.mongo.write_concern=multiRegion", set))
		}
		field, err := sweep.ParseField(name, known)
		if err != nil {
			return nil, badInput(fmt.Errorf("--set %w", err))
		}
		if earlier, ok := first[field.Name]; ok {
			return nil, badInput(fmt.Errorf("--set %s and --set %s both set %s: give it once", shellWord(earlier), shellWord(set), field.Name))
		}
		first[field.Name] = set
		opts = append(opts, scenarios.WithEdit(sweep.Edit(field.Name, value)))
	}
	return opts, nil
}

// setFlags writes run's --set flags back, for a reproduce line.
func setFlags(sets []string) string {
	out := ""
	for _, set := range sets {
		out += " --set " + shellWord(set)
	}
	return out
}
