package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing/iotest"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/reports"
)

// rehearseScripted runs `chaosdrill rehearse` in-process with script as
// its standard input: the engineer at the keyboard, scripted.
func rehearseScripted(ctx context.Context, script string, args ...string) (int, string, string) {
	ctx = context.WithValue(ctx, stdinKey{}, strings.NewReader(script))
	return chaosdrillIn(ctx, nil, append([]string{"rehearse"}, args...)...)
}

// rehearsalIn reads the one rehearsal report a history folder holds
// besides those listed in skip.
func rehearsalIn(history string, skip ...string) (*reports.Report, string) {
	GinkgoHelper()
	found, err := os.ReadDir(history)
	Expect(err).NotTo(HaveOccurred())
	var folders []string
	for _, f := range found {
		if !strings.Contains(strings.Join(skip, "|"), f.Name()) {
			folders = append(folders, f.Name())
		}
	}
	Expect(folders).To(HaveLen(1), "one new rehearsal folder in %s", history)
	rep, err := reports.Read(filepath.Join(history, folders[0], reports.FileJSON))
	Expect(err).NotTo(HaveOccurred())
	return rep, folders[0]
}

func stepTiming(rep *reports.Report, name string) reports.StepTiming {
	GinkgoHelper()
	Expect(rep.Rehearsal).NotTo(BeNil())
	for _, s := range rep.Rehearsal.Steps {
		if s.Name == name {
			return s
		}
	}
	Fail("no step " + name)
	return reports.StepTiming{}
}

func stepReport(rep *reports.Report, name string) reports.StepReport {
	GinkgoHelper()
	for _, s := range rep.Runbook {
		if s.Name == name {
			return s
		}
	}
	Fail("no step " + name)
	return reports.StepReport{}
}

var _ = Describe("rehearse on the simulator, with a scripted engineer", func() {
	// The delays a run of the same seed drew for its operators: the
	// rehearsal's engineer takes exactly these.
	It("measures what run measures when the engineer takes exactly the operator delays run drew (at --speed 60, through standard input)", func(ctx SpecContext) {
		dir := GinkgoT().TempDir()
		runOut := filepath.Join(dir, "run")
		code, stdout, stderr := chaosdrillIn(ctx, nil, "run", library("east-region-outage"), "--seed", "1", "--out", runOut, "--quiet")
		Expect(code).To(Equal(exitPass), stdout+stderr)
		run, err := reports.Read(filepath.Join(runOut, reports.FileJSON))
		Expect(err).NotTo(HaveOccurred())
		delay := func(step string) string { return run.Sampled["runbook."+step+".operator_delay"] }
		// What the engineer types for each step, and the steps in the
		// order run started them: a script is read in order, so a step
		// begun later in scenario time comes later in it (the rebuilds
		// run beside the Mongo steps, and restore-logs waits on
		// rebuild-elasticsearch).
		typed := map[string]string{
			"artifacts-to-west":     "artifacts.failover region=us-west-1",
			"promote-west":          "mongo.force-reconfigure promote=mongo-west-1a",
			"add-west-b":            "mongo.add-member name=mongo-west-1b zone=us-west-1b",
			"add-west-c":            "mongo.add-member zone=us-west-1c name=mongo-west-1c",
			"rebuild-console":       "roles.rebuild role=console region=us-west-1",
			"rebuild-elasticsearch": "roles.rebuild region=us-west-1 role=elasticsearch",
			"restore-logs":          "logs.restore-snapshot region=us-west-1",
		}
		ordered := slices.Clone(run.Runbook)
		Expect(ordered).To(HaveLen(len(typed)), "the script types every step of the runbook")
		slices.SortStableFunc(ordered, func(a, b reports.StepReport) int { return cmp.Compare(*a.StartedAt, *b.StartedAt) })
		lines := []string{"# the engineer of east-region-outage, taking the delays run drew"}
		for _, step := range ordered {
			Expect(typed).To(HaveKey(step.Name))
			lines = append(lines, "wait "+step.Name)
			if d := delay(step.Name); d != "" {
				lines = append(lines, "sleep "+d)
			}
			lines = append(lines, typed[step.Name])
		}
		script := strings.Join(lines, "\n")
		history := filepath.Join(dir, "rehearsals")
		code, stdout, stderr = rehearseScripted(ctx, script, library("east-region-outage"), "--platform", "sim", "--speed", "60", "--seed", "1", "--history", history)
		Expect(code).To(Equal(exitPass), stdout+stderr)
		Expect(stdout).To(ContainSubstring("DUE promote-west"))
		Expect(stdout).To(ContainSubstring(`mongosh "mongodb://mongo-west-1a:27017/?directConnection=true"`), "the forced reconfig is run on the surviving member")
		Expect(stdout).To(ContainSubstring(`keep = ["mongo-west-1a:27017"]`), "it keeps only the member that still answers")
		Expect(stdout).To(ContainSubstring("/_snapshot/chaosdrill/snapshot-at-"), "the restore request names the repository and the snapshot")
		Expect(stdout).To(ContainSubstring("--endpoint-url http://s3-us-west-1:4566"))
		Expect(stdout).To(ContainSubstring("aws s3api get-object --bucket artifacts-artifacts-us-west-1 --key roles/elasticsearch elasticsearch.jar --endpoint-url http://s3-us-west-1:4566"),
			"the rebuild fetches the role's keys from the west bucket")
		Expect(stdout).To(ContainSubstring("chef-client --local-mode --override-runlist 'role[console]'"))
		Expect(stdout).To(ContainSubstring("its stand-in for this rebuild: the model fetches each key"), "it says what the harness does instead of Chef")
		rep, folder := rehearsalIn(history)
		for _, f := range []string{reports.FileJSON, reports.FileJUnit, reports.FileMarkdown, reports.FileHTML} {
			Expect(filepath.Join(history, folder, f)).To(BeAnExistingFile())
		}

		// Each step began exactly its delay after its trigger, measured
		// in the harness's scenario time.
		for _, step := range []string{"artifacts-to-west", "promote-west", "add-west-b", "rebuild-console", "rebuild-elasticsearch", "restore-logs"} {
			timing := stepTiming(rep, step)
			Expect(timing.PerformedBy).To(Equal(reports.ByEngineer), step)
			Expect(fmt.Sprintf("%.6f", *timing.ReactionSeconds)).To(Equal(fmt.Sprintf("%.6f", seconds(delay(step)))), step)
			Expect(*timing.ToDoneSeconds).To(BeNumerically(">=", *timing.ReactionSeconds), step)
			Expect(timing.ReactionPercentile).NotTo(BeNil(), "%s: the file assumes a distribution", step)
		}
		Expect(*stepTiming(rep, "add-west-c").ReactionSeconds).To(BeZero())
		fault := *rep.Faults[0].At
		Expect(*stepTiming(rep, "promote-west").TriggeredAt).To(Equal(fault), "promote-west is due when the region goes")
		// restore-logs was due when the platform showed the rebuilt
		// elasticsearch role, which is when run's rebuild ended.
		rebuilt := stepTiming(rep, "rebuild-elasticsearch")
		Expect(*stepTiming(rep, "restore-logs").TriggeredAt).To(Equal(*rebuilt.DoneAt))
		Expect(*stepReport(rep, "rebuild-elasticsearch").DoneAt).To(Equal(*stepReport(run, "rebuild-elasticsearch").DoneAt))
		Expect(rebuilt.Seen).To(Equal("role elasticsearch is built in us-west-1 (elasticsearch@1, chef-configuration@1)"))

		// And the platform went through exactly what it went through in
		// the run: the same writes acknowledged, lost, the same RTO/RPO.
		for name, want := range run.Services {
			got := rep.Services[name]
			Expect(got.Acked).To(Equal(want.Acked), name)
			Expect(got.Lost).To(Equal(want.Lost), name)
			Expect(got.RTO).To(Equal(want.RTO), name)
			Expect(got.RPO).To(Equal(want.RPO), name)
		}
		// The mongo RTO is the engineer's reaction plus the reconfig and
		// the election, ending when the platform showed the new primary.
		promote := stepTiming(rep, "promote-west")
		Expect(*rep.Services["mongo"].RTO).To(BeNumerically(">=", *promote.ReactionSeconds))
		Expect(*rep.Services["mongo"].RTO).To(BeNumerically("<=", *promote.ToDoneSeconds+1))
		Expect(rep.Rehearsal.Speed).To(Equal(60.0))
		Expect(rep.Rehearsal.History).To(BeEmpty())
	}, SpecTimeout(5*time.Minute))

	It("sets the RTO by the engineer's delays, and compares each rehearsal with the earlier ones in the history folder", func(ctx SpecContext) {
		history := filepath.Join(GinkgoT().TempDir(), "rehearsals")
		script := func(promoteAfter, artifactsAfter string) string {
			return strings.Join([]string{
				// The rebuilds go to the harness when the region goes,
				// so that restore-logs is due (it waits on one).
				"wait rebuild-console", "handback rebuild-console",
				"wait rebuild-elasticsearch", "handback rebuild-elasticsearch",
				"wait artifacts-to-west", "sleep " + artifactsAfter, "artifacts.failover region=us-west-1",
				"wait promote-west", "sleep " + promoteAfter, "mongo.force-reconfigure promote=mongo-west-1a",
				"wait add-west-b", "handback add-west-b",
				"wait add-west-c", "handback add-west-c",
				"wait restore-logs", "handback restore-logs",
			}, "\n")
		}
		code, stdout, stderr := rehearseScripted(ctx, script("90s", "45s"), library("east-region-outage"), "--speed", "3000", "--history", history)
		Expect(code).To(Equal(exitPass), stdout+stderr)
		first, firstFolder := rehearsalIn(history)
		code, stdout, stderr = rehearseScripted(ctx, script("4m30s", "2m"), library("east-region-outage"), "--speed", "3000", "--history", history)
		Expect(code).To(Equal(exitPass), stdout+stderr)
		second, secondFolder := rehearsalIn(history, firstFolder)

		Expect(*stepTiming(first, "promote-west").ReactionSeconds).To(Equal(90.0))
		Expect(*stepTiming(second, "promote-west").ReactionSeconds).To(Equal(270.0))
		Expect(stepTiming(second, "restore-logs").PerformedBy).To(Equal(reports.ByHarness))
		// Three more minutes before the promotion: three more minutes
		// without a primary (the reconfig and the election take the same
		// time, within the jitter of a heartbeat).
		Expect(*second.Services["mongo"].RTO - *first.Services["mongo"].RTO).To(BeNumerically("~", 180, 1))
		Expect(*second.Services["artifacts"].RTO - *first.Services["artifacts"].RTO).To(BeNumerically("~", 75, 1))
		// The harness's own steps and the rest do not move.
		Expect(second.Services["mongo"].RPO).To(Equal(first.Services["mongo"].RPO))

		Expect(second.Rehearsal.History).To(HaveLen(1))
		earlier := second.Rehearsal.History[0]
		Expect(earlier.Folder).To(Equal(firstFolder))
		Expect(earlier.RTO["mongo"]).To(Equal(first.Services["mongo"].RTO))
		Expect(earlier.ToDone["promote-west"]).To(Equal(stepTiming(first, "promote-west").ToDoneSeconds))
		markdown, err := os.ReadFile(filepath.Join(history, secondFolder, reports.FileMarkdown))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(markdown)).To(ContainSubstring("## Rehearsal: the people beside the assumptions"))
		Expect(string(markdown)).To(ContainSubstring("| " + firstFolder + " | sim | pass |"))

		// report.html has the same tables: each step's timings beside the
		// file's assumption, and the history.
		page, err := os.ReadFile(filepath.Join(history, secondFolder, reports.FileHTML))
		Expect(err).NotTo(HaveOccurred())
		html := string(page)
		Expect(html).To(ContainSubstring("<h2>Rehearsal: the people beside the assumptions</h2>"))
		Expect(html).To(ContainSubstring("A tabletop rehearsal on the simulator at 3000 times wall speed"))
		Expect(html).To(ContainSubstring("<th>step</th><th>performed by</th><th>triggered</th><th>engineer began</th><th>reaction</th><th>assumed operator_delay</th>"))
		Expect(html).To(MatchRegexp(`<tr><td>promote-west</td><td>engineer</td><td>[^<]+</td><td>[^<]+</td><td>4m30s</td><td>\{median: 2m0s, p90: 6m0s\}</td>`),
			"the engineer's reaction beside the assumed delay")
		Expect(html).To(MatchRegexp(`<tr><td>rebuild-elasticsearch</td><td>harness</td>`))
		Expect(html).To(ContainSubstring("<h2>Rehearsal history</h2>"))
		Expect(html).To(ContainSubstring("<th>promote-west to done</th>"))
		Expect(html).To(ContainSubstring("<th>mongo RTO</th>"))
		Expect(html).To(ContainSubstring("<tr><td>" + firstFolder + "</td><td>sim</td><td>pass</td>"))
		Expect(html).To(ContainSubstring("<tr><td>this one</td><td>sim</td><td>pass</td>"))
	}, SpecTimeout(5*time.Minute))

	It("reports a skipped step, and what waits on it, not rehearsed (exit 1)", func(ctx SpecContext) {
		history := filepath.Join(GinkgoT().TempDir(), "rehearsals")
		script := strings.Join([]string{
			"wait artifacts-to-west", "handback artifacts-to-west",
			"wait rebuild-console", "handback rebuild-console",
			"wait rebuild-elasticsearch", "handback rebuild-elasticsearch",
			"wait promote-west", "sleep 1m", "mongo.force-reconfigure promote=mongo-west-1a",
			"wait restore-logs", "handback restore-logs",
			"wait add-west-b", "skip add-west-b",
		}, "\n")
		code, stdout, stderr := rehearseScripted(ctx, script, library("east-region-outage"), "--speed", "3000", "--history", history)
		Expect(code).To(Equal(exitFail), stdout+stderr)
		rep, _ := rehearsalIn(history)
		Expect(rep.Verdict).To(Equal(reports.VerdictNotRehearsed))
		skipped := stepReport(rep, "add-west-b")
		Expect(skipped.Status).To(Equal(reports.StatusNotRehearsed))
		Expect(skipped.Reason).To(HavePrefix("the engineer skipped it at "))
		Expect(stepTiming(rep, "add-west-b").PerformedBy).To(Equal(reports.BySkipped))
		after := stepReport(rep, "add-west-c")
		Expect(after.Status).To(Equal(reports.StatusNotRehearsed))
		Expect(after.Reason).To(ContainSubstring("add-west-b, which was skipped by the engineer"))
		Expect(stepTiming(rep, "artifacts-to-west").PerformedBy).To(Equal(reports.ByHarness))
		// The end of the script is said once its last command was carried
		// out, and says what it means.
		Expect(stdout).To(MatchRegexp(`(?s)add-west-b skipped: it will be reported not rehearsed\n.*no more commands: steps nobody takes up will be reported not rehearsed`))
		Expect(strings.Count(stdout, "no more commands")).To(Equal(1))
		Expect(stdout + stderr).NotTo(ContainSubstring("unattended"))
	}, SpecTimeout(2*time.Minute))

	It("writes the report of an aborted rehearsal, marked so, with what was still due not rehearsed (exit 1)", func(ctx SpecContext) {
		history := filepath.Join(GinkgoT().TempDir(), "rehearsals")
		script := strings.Join([]string{"wait promote-west", "sleep 30s", "abort"}, "\n")
		// At the highest speed a slice of the loop runs far more scenario
		// time than the sleep: the abort still comes at its time.
		code, stdout, stderr := rehearseScripted(ctx, script, library("east-region-outage"), "--speed", "1000000", "--history", history)
		Expect(code).To(Equal(exitFail), stdout+stderr)
		rep, _ := rehearsalIn(history)
		fault := *rep.Faults[0].At
		Expect(rep.Rehearsal.StoppedAtSeconds).To(HaveValue(BeNumerically("~", fault+30, 1e-6)))
		promote := stepReport(rep, "promote-west")
		Expect(promote.Status).To(Equal(reports.StatusNotRehearsed))
		Expect(promote.Reason).To(ContainSubstring("the engineer stopped the rehearsal at"))
		Expect(rep.Services["mongo"].RTO).To(BeNil(), "no primary came back before the stop")
		markdown, err := os.ReadFile(filepath.Join(history, rehearsalFolder(history), reports.FileMarkdown))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(markdown)).To(ContainSubstring("the engineer aborted it at"))
	}, SpecTimeout(2*time.Minute))

	It("refuses an action no due step uses, and says what the step waits for", func(ctx SpecContext) {
		history := filepath.Join(GinkgoT().TempDir(), "rehearsals")
		script := strings.Join([]string{
			"mongo.add-member name=mongo-west-1b zone=us-west-1b",
			"mongo.force-reconfigure",
			"wait promote-west", "mongo.force-reconfigure promote=mongo-east-1a", "abort",
		}, "\n")
		code, stdout, stderr := rehearseScripted(ctx, script, library("east-region-outage"), "--speed", "3000", "--history", history)
		Expect(code).To(Equal(exitFail), stdout+stderr)
		Expect(stdout).To(ContainSubstring("no step that uses mongo.add-member is due now: add-west-b (waits on promote-west)"))
		Expect(stdout).To(ContainSubstring("mongo.force-reconfigure needs promote=..."))
		rep, _ := rehearsalIn(history)
		attempts := stepTiming(rep, "promote-west").Attempts
		Expect(attempts).To(HaveLen(1), "the engineer's wrong promotion is recorded")
		Expect(attempts[0].Action).To(Equal("mongo.force-reconfigure promote=mongo-east-1a"))
	}, SpecTimeout(2*time.Minute))

	It("refuses a script line over 64 KiB by its number and reads on: the abort after it is carried out (exit 1)", func(ctx SpecContext) {
		history := filepath.Join(GinkgoT().TempDir(), "rehearsals")
		script := "status" + strings.Repeat(" ", 70000) + "\nabort\n"
		code, stdout, stderr := rehearseScripted(ctx, script, library("mongo-primary-kill"), "--speed", "100000", "--history", history)
		Expect(code).To(Equal(exitFail), stdout+stderr)
		Expect(stdout).To(ContainSubstring("line 1 is longer than 65536 bytes: refused, not carried out"))
		Expect(stdout).To(ContainSubstring("aborting"))
		Expect(stdout).NotTo(ContainSubstring("no more commands"), "the long line is not the end of the input")
		rep, _ := rehearsalIn(history)
		Expect(rep.Rehearsal.StoppedAtSeconds).NotTo(BeNil(), "the abort was read")
	}, SpecTimeout(2*time.Minute))

	It("never takes a read error for the end of the input: the rehearsal stops with an error report (exit 3)", func(ctx SpecContext) {
		history := filepath.Join(GinkgoT().TempDir(), "rehearsals")
		in := io.MultiReader(strings.NewReader("status\n"), iotest.ErrReader(errors.New("input/output error")))
		code, stdout, stderr := chaosdrillIn(context.WithValue(ctx, stdinKey{}, in), nil,
			"rehearse", library("mongo-primary-kill"), "--speed", "100000", "--history", history)
		Expect(code).To(Equal(exitEnvironment), stdout+stderr)
		Expect(stdout).To(ContainSubstring("reading line 2 of the input: input/output error: the rehearsal stops here"))
		Expect(stdout).NotTo(ContainSubstring("no more commands"))
		rep, _ := rehearsalIn(history)
		Expect(rep.Verdict).To(Equal(reports.VerdictError))
		Expect(rep.Error).NotTo(BeNil())
		Expect(rep.Error.Message).To(ContainSubstring("input/output error"))
	}, SpecTimeout(2*time.Minute))

	It("refuses a speed that is no speed, and one on containers, before anything runs (exit 2)", func() {
		for _, args := range [][]string{
			{"--speed", "0"}, {"--speed", "-5"}, {"--speed", "1e-300"}, {"--speed", "0.009"}, {"--speed", "1000001"},
			{"--speed", "NaN"}, {"--speed", "+Inf"}, {"--platform", "containers", "--speed", "60"},
		} {
			out := filepath.Join(GinkgoT().TempDir(), "out")
			code, _, stderr := rehearseScripted(context.Background(), "", append([]string{library("east-region-outage"), "--out", out}, args...)...)
			Expect(code).To(Equal(exitBadInput), "%v: %s", args, stderr)
			if args[0] == "--speed" {
				Expect(stderr).To(ContainSubstring(": want a number of scenario seconds per wall second from 0.01 to 1000000"))
			}
			Expect(stderr).To(ContainSubstring("--speed"))
			Expect(out).NotTo(BeAnExistingFile())
		}
	})

	It("stops at an interrupt during the rehearsal: exit 3, nothing written", func() {
		parent := GinkgoT().TempDir()
		history := filepath.Join(parent, "rehearsals")
		before := entries(parent)
		ctx := context.WithValue(context.Background(), stdinKey{}, strings.NewReader("wait promote-west\n"))
		code, _, stderr, seen := chaosdrillInterruptedFrom(ctx, phaseSimulate, "rehearse", library("east-region-outage"), "--speed", "3000", "--history", history)
		Expect(code).To(Equal(exitEnvironment), stderr)
		Expect(seen[len(seen)-1]).To(Equal(phaseSimulate))
		Expect(entries(parent)).To(Equal(before), "nothing written")
	})
})

// rehearsalFolder names the one folder in history.
func rehearsalFolder(history string) string {
	GinkgoHelper()
	found, err := os.ReadDir(history)
	Expect(err).NotTo(HaveOccurred())
	Expect(found).To(HaveLen(1))
	return found[0].Name()
}

func seconds(text string) float64 {
	GinkgoHelper()
	d, err := time.ParseDuration(text)
	Expect(err).NotTo(HaveOccurred())
	return d.Seconds()
}

// chaosdrillInterruptedFrom is chaosdrillInterrupted with the values of
// parent (a scripted standard input).
func chaosdrillInterruptedFrom(parent context.Context, phase string, args ...string) (code int, stdout, stderr string, seen []string) {
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	var mu sync.Mutex
	hook := func(cmdCtx context.Context, p string) {
		mu.Lock()
		seen = append(seen, p)
		mu.Unlock()
		if p == phase {
			cancel()
			<-cmdCtx.Done()
		}
	}
	code, stdout, stderr = chaosdrillIn(ctx, hook, args...)
	return code, stdout, stderr, seen
}
