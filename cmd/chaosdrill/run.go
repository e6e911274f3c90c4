package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/chaosdrill/chaosdrill/platform"
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

The same scenario and seed on the simulator give a byte-identical report.json.`,
		Args: argsError(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			build, known, err := platformFor(cmd.Context(), f.platform)
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
			opts := runner.Options{Seed: f.seed, RunID: runID(f.platform, sc.Name, f.seed)}
			if !f.quiet {
				opts.Log = func(format string, a ...any) { fmt.Fprintf(cmd.ErrOrStderr(), format+"\n", a...) }
			}
			rep, err := runner.Run(cmd.Context(), sc, build, opts)
			if err != nil {
				return err
			}
			if err := reports.WriteAll(out, rep); err != nil {
				return environment(fmt.Errorf("write report: %w", err))
			}
			reports.Summary(cmd.OutOrStdout(), rep)
			fmt.Fprintf(cmd.OutOrStdout(), "report: %s\n", filepath.Join(out, "report.html"))
			if !rep.Passed() {
				fmt.Fprintf(cmd.OutOrStdout(), "reproduce with: chaosdrill run %s --platform %s --seed=%d\n", args[0], f.platform, f.seed)
				return &exitError{code: exitFail, err: fmt.Errorf("expectations failed")}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&f.platform, "platform", "sim", "where to run: sim (embedded simulator) or containers (Docker)")
	cmd.Flags().Uint64Var(&f.seed, "seed", 1, "root seed of the run (the simulator is deterministic per seed)")
	cmd.Flags().StringVar(&f.out, "out", "", "folder for the report files (default out/<scenario>-<seed>)")
	cmd.Flags().BoolVarP(&f.quiet, "quiet", "q", false, "do not print faults and events as they happen")
	addImageFlag(cmd)
	return cmd
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
