package main

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jstemmer/go-junit-report/v2/junit"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.yaml.in/yaml/v3"

	"github.com/chaosdrill/chaosdrill/reports"
)

// No spec appends to the job summary of a real CI that runs these specs.
var _ = BeforeEach(func() { GinkgoT().Setenv(stepSummaryVariable, "") })

func readJSONFile(path string, into any) {
	GinkgoHelper()
	b, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	Expect(json.Unmarshal(b, into)).To(Succeed())
}

func readSuiteJUnit(path string) junit.Testsuites {
	GinkgoHelper()
	b, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	var suites junit.Testsuites
	Expect(xml.Unmarshal(b, &suites)).To(Succeed())
	return suites
}

// shortRestart is the library's rolling restart cut to 2m30s: two of its
// restarts never happen, so it exits 1, not-rehearsed.
func shortRestart(dir string) string {
	GinkgoHelper()
	text, err := os.ReadFile(library("es-rolling-restart"))
	Expect(err).NotTo(HaveOccurred())
	short := strings.Replace(string(text), "name: es-rolling-restart", "name: short-restart", 1)
	short = strings.Replace(short, "duration: 6m", "duration: 2m30s", 1)
	return writeScenario(dir, "short.yaml", short)
}

var _ = Describe("chaosdrill run FOLDER (a suite)", func() {
	It("runs the whole library in one command, with one junit.xml that a JUnit reader reads back as one case per check across all scenarios", func() {
		files, err := filepath.Glob(filepath.Join(repo, "scenarios", "*.yaml"))
		Expect(err).NotTo(HaveOccurred())
		dir := GinkgoT().TempDir()

		code, stdout, stderr := chaosdrill(dir, "run", filepath.Join(repo, "scenarios"), "--quiet", "--out", "nightly")

		var summary reports.SuiteSummary
		readJSONFile(filepath.Join(dir, "nightly", "summary.json"), &summary)
		Expect(summary.Runs).To(HaveLen(len(files)), "every scenario file of the folder, and nothing under testdata/")
		suites := readSuiteJUnit(filepath.Join(dir, "nightly", "junit.xml"))
		Expect(suites.Suites).To(HaveLen(len(files)))
		var codes []int
		checks := 0
		for i, run := range summary.Runs {
			var rep reports.Report
			readJSONFile(filepath.Join(dir, "nightly", run.Folder, "report.json"), &rep)
			Expect(run.Folder).To(Equal(rep.Scenario))
			Expect(filepath.Join(dir, "nightly", run.Folder, "run.json")).To(BeAnExistingFile())
			codes = append(codes, reports.ExitCode(rep.Verdict))
			suite := suites.Suites[i]
			Expect(suite.Name).To(Equal(rep.Scenario))
			Expect(suite.Testcases).To(HaveLen(len(rep.Expectations)), rep.Scenario)
			for j, e := range rep.Expectations {
				Expect(suite.Testcases[j].Name).To(Equal(e.Name))
				Expect(suite.Testcases[j].Failure == nil).To(Equal(e.Result == reports.VerdictPass), "%s: %s", rep.Scenario, e.Name)
			}
			checks += len(rep.Expectations)
			Expect(stdout).To(ContainSubstring(rep.Scenario))
			Expect(stderr).To(ContainSubstring("] " + rep.Scenario + ": " + strings.ToUpper(rep.Verdict)))
		}
		Expect(suites.Tests).To(Equal(checks))
		Expect(checks).To(BeNumerically(">", len(files)))
		Expect(code).To(Equal(reports.WorstExitCode(codes...)), "the worst exit code of the runs")
		Expect(summary.ExitCode).To(Equal(code))
		Expect(filepath.Join(dir, "nightly", "summary.md")).To(BeAnExistingFile())
		Expect(filepath.Join(dir, "nightly", ".chaosdrill.lock")).NotTo(BeAnExistingFile())
	})

	It("exits with the worst code of its runs and prints one table of scenario x service", func() {
		dir := GinkgoT().TempDir()
		code, stdout, _ := chaosdrill(dir, "run", library("mongo-primary-kill"), shortRestart(dir), "--quiet", "--out", "o")

		Expect(code).To(Equal(exitFail))
		Expect(stdout).To(MatchRegexp(`scenario\s+verdict\s+service\s+lost\s+RTO\s+RPO\s+checks met`))
		Expect(stdout).To(MatchRegexp(`mongo-primary-kill\s+PASS\s+mongo\s+0\s+10\.\d+s\s+0s\s+3/3`))
		Expect(stdout).To(MatchRegexp(`short-restart\s+NOT-REHEARSED\s+logs`))
		Expect(stdout).To(ContainSubstring("NOT-REHEARSED short-restart: fault restart-c rehearsed"))
		Expect(stdout).To(ContainSubstring("NOT-REHEARSED: 2 scenarios on sim, seed 1: 1 not-rehearsed, 1 pass; exit code 1."))
		for _, name := range []string{"mongo-primary-kill", "short-restart"} {
			Expect(filepath.Join(dir, "o", name, "report.html")).To(BeAnExistingFile())
		}
	})

	It("prints the summary as JSON with --format json and appends the Markdown summary to GITHUB_STEP_SUMMARY", func() {
		dir := GinkgoT().TempDir()
		stepSummary := filepath.Join(dir, "step-summary.md")
		Expect(os.WriteFile(stepSummary, []byte("# an earlier step\n"), 0o644)).To(Succeed())
		GinkgoT().Setenv(stepSummaryVariable, stepSummary)

		code, stdout, _ := chaosdrill(dir, "run", library("mongo-primary-kill"), library("es-node-kill"), "--quiet", "--out", "o", "--format", "json")
		Expect(code).To(Equal(exitPass))
		var summary reports.SuiteSummary
		Expect(json.Unmarshal([]byte(stdout), &summary)).To(Succeed(), "standard output is the JSON alone")
		Expect(summary.Schema).To(Equal(reports.SuiteSchema))
		Expect(summary.Runs).To(HaveLen(2))
		Expect(summary.Runs[0].Services["mongo"].RTO).NotTo(BeNil())

		code, stdout, _ = chaosdrill(dir, "run", library("es-node-kill"), "--quiet", "--out", "single", "--format", "json")
		Expect(code).To(Equal(exitPass))
		Expect(json.Unmarshal([]byte(stdout), &summary)).To(Succeed())
		Expect(summary.Runs).To(ConsistOf(SatisfyAll(HaveField("Scenario", "es-node-kill"), HaveField("Folder", "single"))))

		appended, err := os.ReadFile(stepSummary)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(appended)).To(HavePrefix("# an earlier step\n## chaosdrill: PASS"))
		Expect(strings.Count(string(appended), "## chaosdrill: PASS")).To(Equal(2), "each run appends its own")
		Expect(string(appended)).To(ContainSubstring("| mongo-primary-kill | PASS | mongo |"))
	})

	It("refuses a GITHUB_STEP_SUMMARY that is no regular file (a FIFO nobody reads) on standard error, and finishes with its exit code and the lock let go", func(ctx SpecContext) {
		dir := GinkgoT().TempDir()
		fifo := filepath.Join(dir, "summary-fifo")
		Expect(syscall.Mkfifo(fifo, 0o644)).To(Succeed())
		GinkgoT().Setenv(stepSummaryVariable, fifo)
		out := filepath.Join(dir, "gh")
		code, stdout, stderr := chaosdrillIn(ctx, nil, "run", library("mongo-primary-kill"), "--out", out, "-q")
		Expect(code).To(Equal(exitPass), stdout+stderr)
		Expect(stderr).To(ContainSubstring("GITHUB_STEP_SUMMARY: " + fifo + ": not a regular file (a named pipe (FIFO)): the summary is not written"))
		Expect(filepath.Join(out, reports.FileJSON)).To(BeAnExistingFile())
		Expect(filepath.Join(out, ".chaosdrill.lock")).NotTo(BeAnExistingFile())

		// One with a reader is refused as well: nothing is written to it.
		reader, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		Expect(err).NotTo(HaveOccurred())
		defer reader.Close()
		code, stdout, stderr = chaosdrillIn(ctx, nil, "run", library("mongo-primary-kill"), "--out", filepath.Join(dir, "gh2"), "-q")
		Expect(code).To(Equal(exitPass), stdout+stderr)
		Expect(stderr).To(ContainSubstring("not a regular file"))
		n, _ := reader.Read(make([]byte, 16))
		Expect(n).To(BeZero(), "nothing was written into the FIFO")
	}, SpecTimeout(time.Minute))

	It("checks every file before running any: a bad one, a name twice or a folder without scenarios is bad input, with nothing written", func() {
		dir := GinkgoT().TempDir()
		twin := writeScenario(dir, "twin.yaml", strings.Replace(mustRead(library("es-node-kill")), "duration: 5m", "duration: 4m", 1))
		clash := writeScenario(dir, "clash.yaml", strings.Replace(mustRead(library("es-node-kill")), "name: es-node-kill", "name: junit.xml", 1))
		Expect(os.Mkdir(filepath.Join(dir, "empty"), 0o755)).To(Succeed())
		before := entries(dir)
		for _, c := range []struct {
			args []string
			says string
		}{
			{[]string{library("es-node-kill"), filepath.Join(repo, "scenarios", "testdata", "bad", "negative-rate.yaml")}, "1 of 2 scenario files is not valid; nothing was run"},
			{[]string{library("es-node-kill"), twin}, `both name their scenario "es-node-kill"`},
			{[]string{library("es-node-kill"), clash}, `cannot be named "junit.xml"`},
			{[]string{filepath.Join(dir, "empty")}, "no scenario file (*.yaml, *.yml) in this folder"},
			{[]string{library("es-node-kill"), library("es-node-kill")}, "is given twice"},
		} {
			code, stdout, stderr := chaosdrill(dir, append([]string{"run", "--quiet", "--out", "o"}, c.args...)...)
			Expect(code).To(Equal(exitBadInput), c.says)
			Expect(stderr).To(ContainSubstring(c.says))
			Expect(stdout).To(BeEmpty())
			Expect(entries(dir)).To(Equal(before))
		}
	})

	It("on the containers platform without Docker, gives every scenario its error report and exits 3", func() {
		GinkgoT().Setenv("DOCKER_HOST", "tcp://127.0.0.1:1")
		dir := GinkgoT().TempDir()
		code, stdout, _ := chaosdrill(dir, "run", library("es-node-kill"), library("mongo-primary-kill"), "--platform", "containers", "--out", "nightly")

		Expect(code).To(Equal(exitEnvironment))
		Expect(stdout).To(MatchRegexp(`es-node-kill\s+ERROR\s+preflight failed`))
		suites := readSuiteJUnit(filepath.Join(dir, "nightly", "junit.xml"))
		Expect(suites.Errors).To(Equal(2))
		for _, name := range []string{"es-node-kill", "mongo-primary-kill"} {
			var rep reports.Report
			readJSONFile(filepath.Join(dir, "nightly", name, "report.json"), &rep)
			Expect(rep.Verdict).To(Equal(reports.VerdictError))
			Expect(rep.Error.Phase).To(Equal(reports.PhasePreflight))
			Expect(rep.Error.Message).To(ContainSubstring("Docker is not reachable"))
		}
	})

	It("stops at once on an interrupt, keeps the reports of the scenarios that finished, and writes no suite file", func() {
		dir := GinkgoT().TempDir()
		out := filepath.Join(dir, "nightly")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var mu sync.Mutex
		simulations := 0
		hook := func(cmdCtx context.Context, phase string) {
			mu.Lock()
			defer mu.Unlock()
			if phase == phaseSimulate {
				simulations++
				if simulations == 2 {
					cancel()
					<-cmdCtx.Done()
				}
			}
		}
		code, _, stderr := chaosdrillIn(ctx, hook, "run", library("es-node-kill"), library("mongo-primary-kill"), library("az-outage"), "--quiet", "--out", out)

		Expect(code).To(Equal(exitEnvironment))
		Expect(stderr).To(ContainSubstring("interrupted"))
		Expect(simulations).To(Equal(2), "the third scenario never started")
		left, err := os.ReadDir(out)
		Expect(err).NotTo(HaveOccurred())
		var names []string
		for _, e := range left {
			names = append(names, e.Name())
		}
		Expect(names).To(Equal([]string{"es-node-kill"}))
		Expect(filepath.Join(out, "es-node-kill", "report.json")).To(BeAnExistingFile())
	})
})

func mustRead(path string) string {
	GinkgoHelper()
	b, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	return string(b)
}

// suiteOf runs scenarios into out on the simulator, seed 1.
func suiteOf(dir, out string, scenarios ...string) {
	GinkgoHelper()
	args := []string{"run", "--quiet", "--out", out}
	for _, s := range scenarios {
		args = append(args, library(s))
	}
	code, stdout, _ := chaosdrill(dir, args...)
	Expect(code).To(Equal(exitPass), stdout)
}

// editJSON rewrites a JSON file through edit.
func editJSON(path string, edit func(map[string]any)) {
	GinkgoHelper()
	var doc map[string]any
	readJSONFile(path, &doc)
	edit(doc)
	b, err := json.Marshal(doc)
	Expect(err).NotTo(HaveOccurred())
	Expect(os.WriteFile(path, b, 0o644)).To(Succeed())
}

var _ = Describe("chaosdrill report compare", func() {
	It("passes two identical runs and flags one whose Mongo RTO doubled, naming mongo and the metric", func() {
		dir := GinkgoT().TempDir()
		suiteOf(dir, "last-night", "east-region-outage", "es-node-kill")
		suiteOf(dir, "tonight", "east-region-outage", "es-node-kill")

		code, stdout, stderr := chaosdrill(dir, "report", "compare", "last-night", "tonight")
		Expect(code).To(Equal(exitPass), stderr)
		Expect(stdout).To(ContainSubstring("## chaosdrill compare: no regression"))
		Expect(stdout).To(ContainSubstring("2 scenarios in both"))

		var rto float64
		editJSON(filepath.Join(dir, "tonight", "east-region-outage", "report.json"), func(doc map[string]any) {
			mongo := doc["services"].(map[string]any)["mongo"].(map[string]any)
			rto = mongo["rto_seconds"].(float64)
			mongo["rto_seconds"] = 2 * rto
		})
		code, stdout, stderr = chaosdrill(dir, "report", "compare", "last-night", "tonight")
		Expect(code).To(Equal(exitFail))
		seconds := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)).Round(time.Millisecond) }
		was, now := seconds(rto), seconds(2*rto)
		Expect(stderr).To(ContainSubstring(fmt.Sprintf("regression: east-region-outage: mongo RTO %s -> %s (+%s, +100%%; thresholds 20%% and 1s)", was, now, was)))
		Expect(stdout).To(ContainSubstring("## chaosdrill compare: 1 regression"))
		Expect(stdout).To(ContainSubstring(fmt.Sprintf("| east-region-outage | mongo | RTO | %s | %s |", was, now)))

		code, stdout, _ = chaosdrill(dir, "report", "compare", filepath.Join("last-night", "east-region-outage", "report.json"), filepath.Join("tonight", "east-region-outage"), "--format", "json")
		Expect(code).To(Equal(exitFail))
		var c reports.Comparison
		Expect(json.Unmarshal([]byte(stdout), &c)).To(Succeed())
		Expect(c.Regressions).To(ConsistOf(SatisfyAll(HaveField("Service", "mongo"), HaveField("Metric", "rto"))))

		code, _, _ = chaosdrill(dir, "report", "compare", "last-night", "tonight", "--threshold", "rto=150%")
		Expect(code).To(Equal(exitPass), "a doubling is within a 150% threshold")
	})

	It("exits 2 for a report it cannot read or a threshold it cannot parse", func() {
		dir := GinkgoT().TempDir()
		suiteOf(dir, "a", "es-node-kill")
		code, _, stderr := chaosdrill(dir, "report", "compare", "a", "missing")
		Expect(code).To(Equal(exitBadInput))
		Expect(stderr).To(ContainSubstring("NEW: stat missing"))
		code, _, stderr = chaosdrill(dir, "report", "compare", "a", "a", "--threshold", "rto=fast")
		Expect(code).To(Equal(exitBadInput))
		Expect(stderr).To(ContainSubstring(`--threshold "rto=fast": "fast" is not a duration`))
		code, _, _ = chaosdrill(dir, "report", "compare", "a")
		Expect(code).To(Equal(exitBadInput))
	})
})

var _ = Describe("chaosdrill report trend", func() {
	It("follows each scenario over the nights' dates into a table, trend.html, trend.md and trend.json", func() {
		dir := GinkgoT().TempDir()
		for i, night := range []string{"n3", "n1", "n2"} {
			suiteOf(dir, night, "mongo-primary-kill", "es-node-kill")
			editJSON(filepath.Join(dir, night, "summary.json"), func(doc map[string]any) {
				doc["started_at"] = []string{"2025-03-13T02:41:00Z", "2025-03-11T02:41:00Z", "2025-03-12T02:41:00Z"}[i]
			})
		}
		code, stdout, stderr := chaosdrill(dir, "report", "trend", "n3", "n1", "n2", "--out", "trend")
		Expect(code).To(Equal(exitPass), stderr)
		Expect(stdout).To(ContainSubstring("From 2025-03-11 02:41 to 2025-03-13 02:41 (UTC)"))
		first := strings.Index(stdout, "| 2025-03-11 02:41 | PASS |")
		second := strings.Index(stdout, "| 2025-03-12 02:41 | PASS |")
		third := strings.Index(stdout, "| 2025-03-13 02:41 | PASS |")
		Expect(first).To(BeNumerically(">", 0))
		Expect(second).To(BeNumerically(">", first))
		Expect(third).To(BeNumerically(">", second))
		for _, f := range []string{"trend.html", "trend.md", "trend.json"} {
			Expect(filepath.Join(dir, "trend", f)).To(BeAnExistingFile())
		}
	})

	It("exits 2 for a folder it cannot date", func() {
		dir := GinkgoT().TempDir()
		code, _, _ := chaosdrill(dir, "run", library("es-node-kill"), "--quiet", "--out", "undated")
		Expect(code).To(Equal(exitPass))
		Expect(os.Remove(filepath.Join(dir, "undated", "run.json"))).To(Succeed())
		code, _, stderr := chaosdrill(dir, "report", "trend", "undated", "--out", "trend")
		Expect(code).To(Equal(exitBadInput))
		Expect(stderr).To(ContainSubstring("undated: no date"))
		Expect(filepath.Join(dir, "trend")).NotTo(BeAnExistingFile())
	})
})

var _ = Describe("the example nightly workflow for users", func() {
	example := filepath.Join(repo, "docs", "examples", "nightly-chaos.yml")

	It("is not one of this repository's own workflows", func() {
		own, err := filepath.Glob(filepath.Join(repo, ".github", "workflows", "*"))
		Expect(err).NotTo(HaveOccurred())
		for _, f := range own {
			Expect(mustRead(f)).NotTo(ContainSubstring("name: nightly-chaos"), f)
		}
	})

	It("runs nightly, gates, compares with the previous night's artifact and uploads the reports, with commands this CLI accepts", func() {
		var wf struct {
			On   map[string]any    `yaml:"on"`
			Env  map[string]string `yaml:"env"`
			Jobs map[string]struct {
				Steps []struct {
					Name string            `yaml:"name"`
					Uses string            `yaml:"uses"`
					If   string            `yaml:"if"`
					Run  string            `yaml:"run"`
					With map[string]string `yaml:"with"`
				} `yaml:"steps"`
			} `yaml:"jobs"`
		}
		Expect(yaml.Unmarshal([]byte(mustRead(example)), &wf)).To(Succeed())
		Expect(wf.On).To(HaveKey("schedule"))
		Expect(wf.Jobs).To(HaveKey("chaos"))
		var commands [][]string
		uploads, downloads := "", false
		for _, step := range wf.Jobs["chaos"].Steps {
			if strings.HasPrefix(step.Uses, "actions/upload-artifact") {
				uploads = step.With["name"]
				Expect(step.If).To(Equal("always()"), "a failing night keeps its reports too")
			}
			downloads = downloads || strings.Contains(step.Run, "gh run download")
			for _, line := range strings.Split(step.Run, "\n") {
				line = strings.TrimSpace(line)
				if strings.HasPrefix(line, "chaosdrill ") {
					// The shell's expansion of the workflow's env values.
					line = os.Expand(strings.ReplaceAll(line, `"`, ""), func(name string) string { return wf.Env[name] })
					commands = append(commands, strings.Fields(line))
				}
			}
		}
		Expect(uploads).To(Equal("chaos-reports"))
		Expect(downloads).To(BeTrue())
		Expect(mustRead(example)).To(ContainSubstring("--name " + uploads))
		var verbs []string
		for _, args := range commands {
			root := newRoot(io.Discard, io.Discard)
			cmd, rest, err := root.Find(args[1:])
			Expect(err).NotTo(HaveOccurred(), strings.Join(args, " "))
			Expect(cmd.ParseFlags(rest)).To(Succeed(), strings.Join(args, " "))
			Expect(cmd.ValidateArgs(cmd.Flags().Args())).To(Succeed(), strings.Join(args, " "))
			verbs = append(verbs, cmd.CommandPath())
		}
		Expect(verbs).To(ContainElements("chaosdrill run", "chaosdrill report compare"))
	})
})
