package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/chaosdrill/chaosdrill/internal/files"
	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/reports"
	"github.com/chaosdrill/chaosdrill/runner"
	"github.com/chaosdrill/chaosdrill/scenarios"
	"github.com/chaosdrill/chaosdrill/simulator"
)

// seedResult is one seed of a sweep, as sweep.json records it.
type seedResult struct {
	Seed     uint64                    `json:"seed"`
	Verdict  string                    `json:"verdict"`
	Services map[string]seedServiceRow `json:"services"`
}

type seedServiceRow struct {
	Lost int64    `json:"lost"`
	RTO  *float64 `json:"rto_seconds"`
	RPO  float64  `json:"rpo_seconds"`
}

func newSweepCommand() *cobra.Command {
	var (
		seeds, from uint64
		workers     int
		out         string
	)
	cmd := &cobra.Command{
		Use:   "sweep SCENARIO",
		Short: "Run a scenario over many seeds on the simulator",
		Long: `Run one scenario on the simulator for --seeds consecutive seeds starting at
--from, and print, per service, the distribution of lost writes, RTO and RPO
across seeds, plus every seed whose verdict was not pass (each reproducible
with chaosdrill run --seed=N). Writes sweep.json into --out when given.
Exit code 1 if any seed did not pass.`,
		Args: argsError(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			switch {
			case seeds == 0:
				return badInput(fmt.Errorf("--seeds must be at least 1"))
			case seeds > maxSweepSeeds:
				return badInput(fmt.Errorf("--seeds %d: a sweep runs at most %d seeds; shard a larger one over machines with --from", seeds, maxSweepSeeds))
			case seeds-1 > math.MaxUint64-from:
				return badInput(fmt.Errorf("--from %d with --seeds %d runs past the last seed, %d: the seeds would wrap round to 0", from, seeds, uint64(math.MaxUint64)))
			case workers < 1:
				return badInput(fmt.Errorf("--workers must be at least 1"))
			}
			if err := enterPhase(ctx, phaseLoad); err != nil {
				return err
			}
			sc, err := loadScenario(ctx, args[0], simulator.Parameters(), "sim")
			if err != nil {
				return err
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
			err = sweep(ctx, cmd, sc, from, seeds, workers, out)
			if interrupted(ctx, err) {
				_ = lock.Abandon()
				return err
			}
			if rerr := lock.Release(); rerr != nil && err == nil {
				err = environment(fmt.Errorf("release the lock on %s: %w", out, rerr))
			}
			return err
		},
	}
	cmd.Flags().Uint64Var(&seeds, "seeds", 100, "how many seeds to run")
	cmd.Flags().Uint64Var(&from, "from", 1, "first seed")
	cmd.Flags().IntVar(&workers, "workers", runtime.GOMAXPROCS(0), "seeds run side by side")
	cmd.Flags().StringVar(&out, "out", "", "folder for sweep.json (default: none)")
	return cmd
}

// maxSweepSeeds bounds one sweep (about 7 hours of the simulator at the
// library's speed); a larger one is sharded over machines with --from.
const maxSweepSeeds = 1_000_000

// sweep runs the seeds and prints (and with out, writes) their results.
func sweep(ctx context.Context, cmd *cobra.Command, sc *scenarios.Scenario, from, seeds uint64, workers int, out string) error {
	results := make([]seedResult, seeds)
	rawStderr, _ := ctx.Value(rawStderrKey{}).(io.Writer)
	if rawStderr == nil {
		rawStderr = cmd.ErrOrStderr()
	}
	bar := progressbar.NewOptions64(int64(seeds),
		progressbar.OptionSetWriter(rawStderr),
		progressbar.OptionSetDescription(sc.Name),
		progressbar.OptionSetVisibility(isTerminal(rawStderr)),
		progressbar.OptionShowCount(),
		progressbar.OptionClearOnFinish())
	var barMu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for i := range seeds {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			seed := from + i
			// Each seed gets its own simulator: runs share nothing, so
			// running them side by side keeps each one deterministic.
			rep, err := runner.Run(gctx, sc, func(cfg platform.Config) (platform.Platform, error) { return simulator.New(cfg) }, runner.Options{Seed: seed})
			if err != nil {
				return fmt.Errorf("seed %d: %w", seed, err)
			}
			results[i] = summarise(seed, rep)
			barMu.Lock()
			_ = bar.Add(1)
			barMu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	_ = bar.Finish()
	failed := printSweep(cmd.OutOrStdout(), sc.Name, results)
	if out != "" {
		if err := writeSweep(ctx, out, sc.Name, results); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return environment(err)
		}
	}
	if failed > 0 {
		return &exitError{code: exitFail, err: fmt.Errorf("%d seeds did not pass", failed)}
	}
	return nil
}

func summarise(seed uint64, rep *reports.Report) seedResult {
	r := seedResult{Seed: seed, Verdict: rep.Verdict, Services: map[string]seedServiceRow{}}
	for name, s := range rep.Services {
		r.Services[name] = seedServiceRow{Lost: s.Lost, RTO: s.RTO, RPO: s.RPO}
	}
	return r
}

// printSweep prints the distribution table and the seeds that did not
// pass; it returns how many seeds did not.
func printSweep(w io.Writer, scenario string, results []seedResult) int {
	var failedSeeds []seedResult
	verdicts := map[string]int{}
	services := map[string]bool{}
	for _, r := range results {
		verdicts[r.Verdict]++
		if r.Verdict != reports.VerdictPass {
			failedSeeds = append(failedSeeds, r)
		}
		for s := range r.Services {
			services[s] = true
		}
	}
	var counts []string
	for _, v := range reports.Verdicts {
		if verdicts[v] > 0 {
			counts = append(counts, fmt.Sprintf("%d %s", verdicts[v], v))
		}
	}
	fmt.Fprintf(w, "sweep of %s over %d seeds: %s\n", scenario, len(results), strings.Join(counts, ", "))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "service\tmetric\tmin\tp50\tp90\tmax\tseeds with loss\tnever recovered\t")
	for _, name := range platform.SortedKeys(services) {
		var lost, rto, rpo []float64
		withLoss, never := 0, 0
		for _, r := range results {
			row := r.Services[name]
			lost = append(lost, float64(row.Lost))
			rpo = append(rpo, row.RPO)
			if row.Lost > 0 {
				withLoss++
			}
			if row.RTO == nil {
				never++
			} else {
				rto = append(rto, *row.RTO)
			}
		}
		fmt.Fprintf(tw, "%s\tlost writes\t%s\t%d\t%d\t\n", name, quantiles(lost, "%.0f"), withLoss, never)
		fmt.Fprintf(tw, "\tRTO (s)\t%s\t\t\t\n", quantiles(rto, "%.3f"))
		fmt.Fprintf(tw, "\tRPO (s)\t%s\t\t\t\n", quantiles(rpo, "%.3f"))
	}
	tw.Flush()
	for i, r := range failedSeeds {
		if i == 20 {
			fmt.Fprintf(w, "... and %d more seeds that did not pass (see sweep.json)\n", len(failedSeeds)-20)
			break
		}
		fmt.Fprintf(w, "%s: seed %d (reproduce with --seed=%d)\n", r.Verdict, r.Seed, r.Seed)
	}
	return len(failedSeeds)
}

// quantiles formats min, p50, p90 and max as tab-separated cells.
func quantiles(xs []float64, format string) string {
	if len(xs) == 0 {
		return "-\t-\t-\t-"
	}
	sort.Float64s(xs)
	at := func(q float64) float64 { return xs[int(q*float64(len(xs)-1))] }
	f := func(x float64) string { return fmt.Sprintf(format, x) }
	return f(xs[0]) + "\t" + f(at(0.5)) + "\t" + f(at(0.9)) + "\t" + f(xs[len(xs)-1])
}

// writeSweep writes sweep.json into dir, whole or not at all.
func writeSweep(ctx context.Context, dir, scenario string, results []seedResult) error {
	b, err := json.MarshalIndent(map[string]any{"schema": "chaosdrill.sweep/v1", "scenario": scenario, "seeds": results}, "", "  ")
	if err != nil {
		return err
	}
	write := func(w io.Writer) error { _, err := w.Write(append(b, '\n')); return err }
	if err := files.WriteAll(ctx, dir, []files.File{{Name: "sweep.json", Write: write}}, nil); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Join(dir, "sweep.json"), err)
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
