package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/chaosdrill/chaosdrill/reports"
	"github.com/chaosdrill/chaosdrill/runner"
	"github.com/chaosdrill/chaosdrill/scenarios"
)

type rehearseFlags struct {
	platform string
	seed     uint64
	speed    float64
	out      string
	history  string
}

// The range of rehearse --speed (scenario seconds per wall second). The
// slowest is 100 wall seconds per scenario second, already slower than
// anyone rehearses; below it a rehearsal of minutes would take years of
// wall time (1e-300 would never end). The fastest runs a week of scenario
// time in about ten wall minutes. (Model assumption: bounds of use, not of
// the simulator.)
const (
	minSpeed = 0.01
	maxSpeed = 1e6
)

// stdinKey carries, in a command's context, the standard input a command
// reads (the specs script a rehearsal's engineer through it).
type stdinKey struct{}

func newRehearseCommand() *cobra.Command {
	var f rehearseFlags
	cmd := &cobra.Command{
		Use:   "rehearse SCENARIO",
		Short: "Rehearse a scenario's runbook by hand while the harness injects the faults and keeps time",
		Long: `Bring the platform up, run the workloads and inject the faults as ` + "`run`" + ` does,
but leave the runbook to you: when a step's trigger fires, the harness says
what is needed and how, with the commands for the real systems filled in for
this run (the mongosh forced-reconfig script with the surviving member's
address, the Elasticsearch snapshot-restore requests, the S3 endpoint
switch), and watches the platform's state until the step's effect is there
(the member is primary, the restored index is green, writes succeed against
the west bucket). Each step is timed from its trigger to when you began and
to when it was done; the report sets these beside the scenario's assumed
operator_delay and beside earlier rehearsals of the scenario, and its RTO
and RPO are the ones you achieved.

On --platform sim the rehearsal is a tabletop exercise: scenario time runs
--speed times faster than the wall clock, and you type the runbook's actions
at the prompt (Tab completes action names, parameters and values); the
simulator carries each out at the moment you type it. On --platform
containers you act on the run's own containers (the addresses shown are the
ones the harness mapped) and the harness watches; you may also type an
action for the harness to carry out at that moment.

Commands (one a line; a terminal gets a prompt with the clock, editing and
completion; a pipe is read line by line, so a rehearsal can be scripted):
  ACTION key=value ...   carry out a runbook action now, for the due step that uses it
  begin STEP             you began STEP (its reaction time stops here)
  handback STEP          the harness performs STEP now, as run does
  skip STEP              give STEP up: it is reported not rehearsed
  show STEP              the instructions for STEP again
  status                 the clock, the steps and the platform's state
  abort                  stop the rehearsal here and write its report (exit 1)
  wait STEP              (scripts) hold the next commands until STEP is due
  sleep DURATION         (scripts) hold them until DURATION of scenario time after
                         the last command took effect (after a wait: after the
                         step's trigger)
  help                   this list

End of input (Ctrl-D, or the end of a piped script, once its commands have
been carried out) means no more commands: the scenario runs on to its end,
the steps handed back to the harness are done, and every step nobody takes
up is reported not rehearsed.
A line over 64 KiB is refused by its number and the next one read; input
that cannot be read (a read error, not its end) stops the rehearsal with an
error report (exit 3).
Ctrl-C interrupts as in run: everything is removed, nothing is written, exit 3.
An abort writes the report, marked aborted, with everything not done by then
not rehearsed: exit 1.

The report goes into --out, by default <history>/<UTC time> where <history>
is --history (default out/rehearsals/<scenario>); every rehearsal found
there is the history the report compares with.`,
		Args: argsError(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			known, err := parametersOf(f.platform)
			if err != nil {
				return err
			}
			if !(f.speed >= minSpeed && f.speed <= maxSpeed) {
				return badInput(fmt.Errorf("--speed %v: want a number of scenario seconds per wall second from %s to %s", f.speed, strconv.FormatFloat(minSpeed, 'f', -1, 64), strconv.FormatFloat(maxSpeed, 'f', -1, 64)))
			}
			if f.platform == "containers" && cmd.Flags().Changed("speed") && f.speed != 1 {
				return badInput(fmt.Errorf("--speed %v: the containers platform runs in wall time (speed 1)", f.speed))
			}
			if f.platform == "containers" {
				f.speed = 1
			}
			if err := enterPhase(ctx, phaseLoad); err != nil {
				return err
			}
			sc, err := loadScenario(ctx, args[0], known, f.platform)
			if err != nil {
				return err
			}
			history := f.history
			if history == "" {
				history = filepath.Join("out", "rehearsals", safeName(sc.Name))
			}
			started := time.Now().UTC()
			out := f.out
			if out == "" {
				out = freeFolder(filepath.Join(history, started.Format("20060102T150405Z")))
			}
			if err := checkOutFolder(out); err != nil {
				return badInput(err)
			}
			lock, err := lockOut(out)
			if err != nil {
				return err
			}
			return releaseOut(lock, out, rehearseLocked(ctx, cmd, args[0], sc, f, out, history, started))
		},
	}
	cmd.Flags().StringVar(&f.platform, "platform", "sim", "where to rehearse: sim (a tabletop on the simulator) or containers (Docker)")
	cmd.Flags().Uint64Var(&f.seed, "seed", 1, "root seed of the run (fault times, arrivals, the simulator's draws)")
	cmd.Flags().Float64Var(&f.speed, "speed", 60, "on sim: scenario seconds per wall second, 0.01 to 1000000 (60: a minute a second)")
	cmd.Flags().StringVar(&f.out, "out", "", "folder for the report files (default <history>/<UTC time>)")
	cmd.Flags().StringVar(&f.history, "history", "", "folder of this scenario's rehearsals, compared in the report (default out/rehearsals/<scenario>)")
	addImageFlag(cmd)
	return cmd
}

// safeName is a scenario's name as one path element; a name that is not
// one (the loader refuses those) becomes "scenario".
func safeName(name string) string {
	if scenarios.CheckName(name) != nil || !filepath.IsLocal(name) {
		return "scenario"
	}
	return name
}

// freeFolder is dir, or dir-2, dir-3... when a rehearsal begun in the same
// second has it.
func freeFolder(dir string) string {
	candidate := dir
	for i := 2; ; i++ {
		if _, err := os.Stat(candidate); errors.Is(err, fs.ErrNotExist) {
			return candidate
		}
		candidate = fmt.Sprintf("%s-%d", dir, i)
	}
}

// rehearseLocked runs the rehearsal and writes its report into out.
func rehearseLocked(ctx context.Context, cmd *cobra.Command, path string, sc *scenarios.Scenario, f rehearseFlags, out, history string, started time.Time) error {
	stdout := cmd.OutOrStdout()
	runFlags := runFlags{platform: f.platform, seed: f.seed}
	build, _, err := platformFor(ctx, f.platform)
	if err != nil {
		return failedRun(ctx, stdout, cmd.ErrOrStderr(), path, out, sc, runFlags, started, reports.PhasePreflight, err)
	}
	in, _ := ctx.Value(stdinKey{}).(io.Reader)
	if in == nil {
		in = cmd.InOrStdin()
	}
	console, err := openConsole(ctx, in, stdout)
	if err != nil {
		return environment(err)
	}
	defer console.Close()
	eng := newEngineer(console, f.speed, f.platform)
	opts := runner.Options{Seed: f.seed, RunID: runID(f.platform, sc.Name, f.seed),
		BeforeLoop: func() error { return enterPhase(ctx, phaseSimulate) },
		Log:        eng.log, Performer: eng, Drive: eng.drive}
	console.Printf("Rehearsal of %s on %s (seed %d%s). Bringing the platform up...", sc.Name, f.platform, f.seed, speedNote(f))
	rep, err := runner.Run(ctx, sc, hooked(ctx, build), opts)
	console.Close()
	if err != nil {
		if rep == nil || interrupted(ctx, err) {
			return failedRun(ctx, stdout, cmd.ErrOrStderr(), path, out, sc, runFlags, started, phaseOf(err), err)
		}
		rep.MarkError(phaseOf(err), err)
	} else if eng.inputErr != nil {
		// The input could not be read to its end: what the engineer
		// would have typed next is unknown, so the rehearsal measured
		// nothing to rely on.
		err = eng.inputErr
		rep.MarkError(reports.PhaseRun, err)
	}
	if perr := enterPhase(ctx, phaseReport); perr != nil {
		return perr
	}
	if rep.Rehearsal != nil {
		rep.Rehearsal.Speed = f.speed
		rep.Rehearsal.StartedAt = started.Format(time.RFC3339)
		rep.Rehearsal.History = readHistory(history, out, sc.Name)
	}
	if werr := writeReport(ctx, out, rep, reports.NewRunInfo(started, time.Now(), versionText())); werr != nil {
		return werr
	}
	reports.Summary(stdout, rep)
	printTimings(stdout, rep)
	fmt.Fprintf(stdout, "report: %s\n", filepath.Join(out, reports.FileHTML))
	switch code := reports.ExitCode(rep.Verdict); code {
	case exitPass:
		return nil
	case exitEnvironment:
		return environment(err)
	default:
		return &exitError{code: code, err: fmt.Errorf("verdict %s", rep.Verdict)}
	}
}

func speedNote(f rehearseFlags) string {
	if f.platform == "sim" {
		return fmt.Sprintf(", %g scenario seconds per wall second", f.speed)
	}
	return ""
}

// readHistory reads the earlier rehearsals of the scenario stored in the
// history folder (one folder each, holding its report.json), oldest
// first. What is not a readable rehearsal report of this scenario is left
// out: the history is a comparison, not a check.
func readHistory(history, out, scenario string) []reports.RehearsalHistory {
	entries, err := os.ReadDir(history)
	if err != nil {
		return []reports.RehearsalHistory{}
	}
	self, _ := filepath.Abs(out)
	found := []reports.RehearsalHistory{}
	for _, e := range entries {
		dir := filepath.Join(history, e.Name())
		if abs, _ := filepath.Abs(dir); !e.IsDir() || abs == self {
			continue
		}
		rep, err := reports.Read(filepath.Join(dir, reports.FileJSON))
		if err != nil || rep.Rehearsal == nil || rep.Scenario != scenario {
			continue
		}
		found = append(found, reports.HistoryOf(e.Name(), rep))
	}
	sort.SliceStable(found, func(i, j int) bool {
		if found[i].StartedAt != found[j].StartedAt {
			return found[i].StartedAt < found[j].StartedAt
		}
		return found[i].Folder < found[j].Folder
	})
	return found
}

// printTimings prints each step's timings beside the file's assumption.
func printTimings(w io.Writer, rep *reports.Report) {
	if rep.Rehearsal == nil {
		return
	}
	fmt.Fprintln(w, "runbook, by the people:")
	for _, s := range rep.Rehearsal.Steps {
		by := s.PerformedBy
		if by == "" {
			by = "nobody"
		}
		line := fmt.Sprintf("  %-22s %-9s reaction %-8s (assumed %s", s.Name, by, optionalSeconds(s.ReactionSeconds), s.AssumedDelay)
		if s.ReactionPercentile != nil {
			line += fmt.Sprintf(", p%.0f of it", *s.ReactionPercentile)
		}
		line += ")  to done " + optionalSeconds(s.ToDoneSeconds)
		fmt.Fprintln(w, line)
	}
	if n := len(rep.Rehearsal.History); n > 0 {
		fmt.Fprintf(w, "earlier rehearsals of %s: %d (the report compares them)\n", rep.Scenario, n)
	}
}

func optionalSeconds(s *float64) string {
	if s == nil {
		return "-"
	}
	return fmtScenario(time.Duration(*s * float64(time.Second)))
}
