package reports

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Files a suite (a run of many scenarios) writes into its output folder,
// beside one folder per scenario.
const (
	FileSuiteJSON     = "summary.json"
	FileSuiteMarkdown = "summary.md"
)

// SuiteSchema names the layout of summary.json and of `run --format json`.
const SuiteSchema = "chaosdrill.summary/v1"

// maxSuiteBytes bounds a summary.json read back: a thousand scenarios of a
// dozen services each take well under a megabyte.
const maxSuiteBytes = 64 << 20

// SuiteSummary is what a run of one or many scenarios gives CI: each
// scenario's verdict and per-service figures, and the suite's verdict and
// exit code (the worst of the runs': see [WorstExitCode]). It is
// summary.json in a suite's folder and what `run --format json` prints.
type SuiteSummary struct {
	Schema   string `json:"schema"`
	Platform string `json:"platform"`
	Seed     uint64 `json:"seed"`
	// StartedAt is the suite's wall-clock start (UTC); WallSeconds its wall
	// time.
	StartedAt   time.Time `json:"started_at"`
	WallSeconds float64   `json:"wall_seconds"`
	// Verdict is the worst verdict of the runs (see [Verdicts]); ExitCode
	// the worst exit code.
	Verdict  string     `json:"verdict"`
	ExitCode int        `json:"exit_code"`
	Runs     []SuiteRun `json:"runs"`
}

// SuiteRun is one scenario of a suite.
type SuiteRun struct {
	Scenario string `json:"scenario"`
	// File is the scenario file as given on the command line; Folder the
	// folder its reports are in, relative to the suite's folder ("" for a
	// run that wrote none).
	File   string `json:"file"`
	Folder string `json:"folder"`
	// Verdict is the report's verdict; ExitCode the run's exit code (2 for
	// a scenario the platform refused as bad input, which has no report).
	Verdict          string  `json:"verdict"`
	ExitCode         int     `json:"exit_code"`
	SimulatedSeconds float64 `json:"simulated_seconds"`
	WallSeconds      float64 `json:"wall_seconds"`
	// Checks counts the run's checks and those that held.
	Checks    int `json:"checks"`
	ChecksMet int `json:"checks_met"`
	// NotPassed lists the checks that did not pass, with their result.
	NotPassed []ExpectationResult       `json:"not_passed"`
	Services  map[string]ServiceSummary `json:"services"`
	Error     *RunError                 `json:"error"`
}

// ServiceSummary is one service of a run, in the figures a nightly job
// compares. Lost and RPO are null when the service's read-back failed
// (nothing could be counted); RTO is null when writes never came back.
type ServiceSummary struct {
	Acked        int64    `json:"acked"`
	Lost         *int64   `json:"lost"`
	Unknown      int64    `json:"unknown"`
	RTO          *float64 `json:"rto_seconds"`
	RPO          *float64 `json:"rpo_seconds"`
	WriteP99     float64  `json:"write_latency_p99_ms"`
	Checks       int      `json:"checks"`
	ChecksMet    int      `json:"checks_met"`
	WorstOfCheck string   `json:"worst_check_result"`
}

// WorstExitCode combines the exit codes of many runs: an environment
// failure (3) before bad input (2), both before a verdict that is not pass
// (1), before pass (0). Both 3 and 2 mean the suite could not say
// everything it was asked; 3 goes first because the runs it stopped may
// be fine on a second try.
func WorstExitCode(codes ...int) int {
	rank := func(c int) int {
		switch c {
		case 0:
			return 0
		case 1:
			return 1
		case 2:
			return 2
		default:
			return 3
		}
	}
	worst := 0
	for _, c := range codes {
		if rank(c) > rank(worst) {
			worst = c
		}
	}
	return worst
}

// WorstVerdict is the worst of verdicts in the order of [Verdicts]; pass
// for none.
func WorstVerdict(verdicts ...string) string {
	v := VerdictPass
	for _, w := range verdicts {
		v = worse(v, w)
	}
	return v
}

// SummarizeRun is a run's row of a suite summary. file is the scenario
// file, folder where its reports are (relative to the suite's folder),
// exitCode the run's own.
func SummarizeRun(r *Report, info *RunInfo, file, folder string, exitCode int) SuiteRun {
	row := SuiteRun{
		Scenario:         r.Scenario,
		File:             file,
		Folder:           folder,
		Verdict:          r.Verdict,
		ExitCode:         exitCode,
		SimulatedSeconds: r.DurationSeconds,
		NotPassed:        []ExpectationResult{},
		Services:         map[string]ServiceSummary{},
		Error:            r.Error,
	}
	if info != nil {
		row.WallSeconds = info.WallSeconds
	}
	for _, e := range r.Expectations {
		row.Checks++
		if e.Result == VerdictPass {
			row.ChecksMet++
		} else {
			row.NotPassed = append(row.NotPassed, e)
		}
	}
	for _, name := range r.ServiceNames() {
		s := r.Services[name]
		sum := ServiceSummary{Acked: s.Acked, Unknown: s.Unknown, RTO: s.RTO, WriteP99: s.WriteLatency.P99, WorstOfCheck: "-"}
		if s.ReadBack != ReadBackFailed {
			lost, rpo := s.Lost, s.RPO
			sum.Lost, sum.RPO = &lost, &rpo
		}
		for _, e := range r.Expectations {
			if e.Service != name {
				continue
			}
			sum.Checks++
			if e.Result == VerdictPass {
				sum.ChecksMet++
			}
			if sum.WorstOfCheck == "-" {
				sum.WorstOfCheck = e.Result
			} else {
				sum.WorstOfCheck = worse(sum.WorstOfCheck, e.Result)
			}
		}
		row.Services[name] = sum
	}
	return row
}

// NewSuiteSummary gathers the rows of a suite; its verdict and exit code
// are the worst of the rows'.
func NewSuiteSummary(platform string, seed uint64, started time.Time, wallSeconds float64, runs []SuiteRun) *SuiteSummary {
	s := &SuiteSummary{Schema: SuiteSchema, Platform: platform, Seed: seed, StartedAt: started.UTC().Round(time.Millisecond),
		WallSeconds: math.Max(0, wallSeconds), Verdict: VerdictPass, Runs: runs}
	if s.Runs == nil {
		s.Runs = []SuiteRun{}
	}
	for _, r := range runs {
		s.Verdict = worse(s.Verdict, r.Verdict)
		s.ExitCode = WorstExitCode(s.ExitCode, r.ExitCode)
	}
	return s
}

// WriteSuiteJSON writes summary.json (and `run --format json`).
func WriteSuiteJSON(w io.Writer, s *SuiteSummary) error {
	return writeIndentedJSON(w, "summary", s)
}

// suiteRows is the table scenario × service shared by the terminal and
// Markdown summaries: lost, RTO, RPO, the verdict of the scenario, and the
// checks of the service that held.
func suiteRows(s *SuiteSummary) table {
	t := table{Headers: []string{"scenario", "verdict", "service", "lost", "RTO", "RPO", "checks met"}}
	for _, run := range s.Runs {
		verdict := strings.ToUpper(run.Verdict)
		names := sortedServiceNames(run.Services)
		if len(names) == 0 {
			what := "-"
			if run.Error != nil {
				what = run.Error.Phase + " failed"
			}
			t.Rows = append(t.Rows, []string{run.Scenario, verdict, what, "-", "-", "-", fmt.Sprintf("%d/%d", run.ChecksMet, run.Checks)})
			continue
		}
		for i, name := range names {
			sv := run.Services[name]
			scenario, v := run.Scenario, verdict
			if i > 0 {
				scenario, v = "", ""
			}
			lost, rpo := notReadBack, notReadBack
			if sv.Lost != nil {
				lost = strconv.FormatInt(*sv.Lost, 10)
			}
			if sv.RPO != nil {
				rpo = formatSeconds(*sv.RPO)
			}
			checks := "-"
			if sv.Checks > 0 {
				checks = fmt.Sprintf("%d/%d", sv.ChecksMet, sv.Checks)
			}
			t.Rows = append(t.Rows, []string{scenario, v, name, lost, formatOptionalSeconds(sv.RTO, "never"), rpo, checks})
		}
	}
	return t
}

func sortedServiceNames(m map[string]ServiceSummary) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sortStrings(names)
	return names
}

// suiteSentence says how the suite went: counts by verdict, and the exit
// code.
func suiteSentence(s *SuiteSummary) string {
	counts := map[string]int{}
	for _, r := range s.Runs {
		counts[r.Verdict]++
	}
	var parts []string
	for _, v := range Verdicts {
		if counts[v] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[v], v))
		}
	}
	if len(parts) == 0 {
		parts = []string{"nothing ran"}
	}
	return fmt.Sprintf("%d scenarios on %s, seed %d: %s; exit code %d.", len(s.Runs), s.Platform, s.Seed, strings.Join(parts, ", "), s.ExitCode)
}

// WriteSuiteText writes the terminal summary of a suite: one table of
// scenario × service, then every check that did not pass, then the
// verdict and exit code.
func WriteSuiteText(w io.Writer, s *SuiteSummary) {
	t := suiteRows(s)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(t.Headers, "\t")+"\t")
	for _, row := range t.Rows {
		fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
	}
	tw.Flush()
	for _, run := range s.Runs {
		if run.Error != nil {
			fmt.Fprintf(w, "ERROR %s: %s failed: %s\n", run.Scenario, run.Error.Phase, run.Error.Message)
		}
		for _, e := range run.NotPassed {
			fmt.Fprintf(w, "%s %s: %s: observed %s\n", strings.ToUpper(e.Result), run.Scenario, e.Name, e.Observed)
		}
	}
	fmt.Fprintf(w, "%s: %s\n", strings.ToUpper(s.Verdict), suiteSentence(s))
}

// WriteSuiteMarkdown writes summary.md, the suite's summary for a CI page
// (GitHub's job summary): the verdict, the table of scenario × service,
// and every check that did not pass.
func WriteSuiteMarkdown(w io.Writer, s *SuiteSummary) error {
	b := bufio.NewWriter(w)
	fmt.Fprintf(b, "## chaosdrill: %s\n\n", strings.ToUpper(s.Verdict))
	fmt.Fprintf(b, "%s\n\n", markdownText(suiteSentence(s)))
	t := suiteRows(s)
	if len(t.Rows) > 0 {
		writeMarkdownTable(b, t)
	}
	var failing table
	failing.Headers = []string{"result", "scenario", "check", "observed"}
	for _, run := range s.Runs {
		if run.Error != nil {
			failing.Rows = append(failing.Rows, []string{"ERROR", run.Scenario, run.Error.Phase + " completed", run.Error.Message})
		}
		for _, e := range run.NotPassed {
			failing.Rows = append(failing.Rows, []string{strings.ToUpper(e.Result), run.Scenario, e.Name, e.Observed})
		}
	}
	if len(failing.Rows) > 0 {
		fmt.Fprintf(b, "### Checks that did not pass\n\n")
		writeMarkdownTable(b, failing)
	}
	return b.Flush()
}

// DecodeSuite reads a summary.json held in memory; path names it in
// errors.
func DecodeSuite(path string, data []byte) (*SuiteSummary, error) {
	var s SuiteSummary
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	if s.Schema != SuiteSchema {
		return nil, fmt.Errorf("decode %s: schema %q, want %q", path, s.Schema, SuiteSchema)
	}
	return &s, nil
}
