package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gbytes"
	"github.com/onsi/gomega/gexec"

	"github.com/chaosdrill/chaosdrill/internal/files"
	"github.com/chaosdrill/chaosdrill/reports"
)

// chaosdrillHooked runs the CLI in-process with a phase hook, with absolute
// paths only (it does not change folder, so that two can run at once).
func chaosdrillHooked(hook phaseHook, args ...string) (int, string, string) {
	return chaosdrillIn(context.Background(), hook, args...)
}

func chaosdrillIn(ctx context.Context, hook phaseHook, args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	if hook != nil {
		ctx = context.WithValue(ctx, phaseHookKey{}, hook)
	}
	code := executeContext(ctx, args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// chaosdrillInterrupted runs the CLI in-process and interrupts it when
// phase begins, as SIGINT would (the signal itself would also stop the
// test runner, which listens for it; the binary's specs send real ones).
// seen lists the phases that began.
func chaosdrillInterrupted(phase string, args ...string) (code int, stdout, stderr string, seen []string) {
	ctx, cancel := context.WithCancel(context.Background())
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

func writeScenario(dir, name, text string) string {
	GinkgoHelper()
	path := filepath.Join(dir, name)
	Expect(os.WriteFile(path, []byte(text), 0o644)).To(Succeed())
	return path
}

var _ = Describe("an interrupt in each phase of a run", func() {
	for _, phase := range []string{phaseLoad, phaseBuild, phaseSimulate, phaseReport, phaseWrite, phaseWrite + ":report.json", phaseWrite + ":report.md"} {
		It("in "+phase+": exits 3 at once, runs no later phase, and leaves the output folder as it was", func() {
			dir := GinkgoT().TempDir()
			out := filepath.Join(dir, "out", "drill")
			// An earlier report in --out must survive untouched.
			existing := filepath.Join(dir, "kept")
			Expect(os.MkdirAll(existing, 0o755)).To(Succeed())
			Expect(os.WriteFile(filepath.Join(existing, "report.json"), []byte("earlier"), 0o644)).To(Succeed())
			for _, target := range []string{out, existing} {
				before := entries(dir)
				code, _, stderr, seen := chaosdrillInterrupted(phase, "run", library("es-node-kill"), "--out", target, "--quiet")

				Expect(code).To(Equal(exitEnvironment), stderr)
				Expect(stderr).To(ContainSubstring("interrupted"))
				Expect(seen[len(seen)-1]).To(Equal(phase), "no phase after the interrupted one began")
				Expect(entries(dir)).To(Equal(before), "nothing new in %s", target)
			}
			kept, err := os.ReadFile(filepath.Join(existing, "report.json"))
			Expect(err).NotTo(HaveOccurred())
			Expect(string(kept)).To(Equal("earlier"))
		})
	}

	It("reports each phase in order when nothing interrupts it", func() {
		var seen []string
		var mu sync.Mutex
		hook := func(_ context.Context, p string) { mu.Lock(); seen = append(seen, p); mu.Unlock() }
		code, _, _ := chaosdrillHooked(hook, "run", library("es-node-kill"), "--out", filepath.Join(GinkgoT().TempDir(), "o"), "--quiet")
		Expect(code).To(Equal(exitPass))
		Expect(seen).To(Equal([]string{phaseLoad, phaseBuild, phaseSimulate, phaseReport, phaseWrite,
			phaseWrite + ":report.json", phaseWrite + ":junit.xml", phaseWrite + ":report.md", phaseWrite + ":report.html", phaseWrite + ":run.json"}))
	})

	It("stops validate and sweep too, exit 3, writing nothing", func() {
		dir := GinkgoT().TempDir()
		before := entries(dir)
		code, _, _, _ := chaosdrillInterrupted(phaseLoad, "validate", library("es-node-kill"))
		Expect(code).To(Equal(exitEnvironment))
		code, _, _, _ = chaosdrillInterrupted(phaseLoad, "sweep", library("es-node-kill"), "--seeds", "3", "--out", filepath.Join(dir, "sweep"))
		Expect(code).To(Equal(exitEnvironment))
		Expect(entries(dir)).To(Equal(before))
	})
})

var _ = Describe("the chaosdrill binary under SIGINT and SIGTERM", Ordered, func() {
	var binary string
	BeforeAll(func() {
		var err error
		binary, err = gexec.Build("github.com/chaosdrill/chaosdrill/cmd/chaosdrill")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(gexec.CleanupBuildArtifacts)
	})

	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		It("stops a long simulation on "+sig.String()+" with exit 3 and writes nothing", func() {
			dir := GinkgoT().TempDir()
			// Two simulated hours at 2,000 writes/s: long enough to be
			// caught in the loop, whose first fault is logged at 1m.
			long := writeScenario(dir, "long.yaml", `name: long
topology: ion
duration: 2h
workloads:
  - {service: mongo, rate: 1000}
  - {service: logs, rate: 1000}
faults:
  - {name: first, kind: kill, target: node:es-east-1a, at: 1m}
  - {name: last, kind: kill, target: node:es-east-1b, at: 119m}
`)
			before := entries(dir)
			cmd := exec.Command(binary, "run", long, "--out", filepath.Join(dir, "out"))
			cmd.Dir = dir
			session, err := gexec.Start(cmd, GinkgoWriter, GinkgoWriter)
			Expect(err).NotTo(HaveOccurred())
			Eventually(session.Err, time.Minute).Should(gbytes.Say("fault first"))
			session.Signal(sig)
			Eventually(session, time.Minute).Should(gexec.Exit(exitEnvironment))
			Expect(session.Err).To(gbytes.Say("interrupted"))
			Expect(session.Err.Contents()).NotTo(ContainSubstring("fault last"), "the simulation did not run on to the end")
			Expect(entries(dir)).To(Equal(before))
		})
	}
})

var _ = Describe("two runs into one --out", func() {
	It("refuses the second with exit 2 while the first holds the folder, and the first writes one whole report", func() {
		out := filepath.Join(GinkgoT().TempDir(), "shared")
		inSimulation, release := make(chan struct{}), make(chan struct{})
		var once sync.Once
		hold := func(_ context.Context, p string) {
			if p == phaseSimulate {
				once.Do(func() { close(inSimulation) })
				<-release
			}
		}
		first := make(chan int, 1)
		go func() {
			defer GinkgoRecover()
			code, _, _ := chaosdrillHooked(hold, "run", library("es-node-kill"), "--out", out, "--quiet")
			first <- code
		}()
		Eventually(inSimulation, time.Minute).Should(BeClosed())

		code, stdout, stderr := chaosdrillHooked(nil, "run", library("mongo-primary-kill"), "--out", out, "--quiet")
		Expect(code).To(Equal(exitBadInput))
		Expect(stderr).To(ContainSubstring("in use by another chaosdrill command"))
		Expect(stdout).To(BeEmpty(), "nothing ran")

		close(release)
		Eventually(first, time.Minute).Should(Receive(Equal(exitPass)))
		Expect(reportJSON(out)).To(HaveKeyWithValue("scenario", "es-node-kill"))
		md, err := os.ReadFile(filepath.Join(out, "report.md"))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(md)).To(ContainSubstring("es-node-kill"))
		Expect(string(md)).NotTo(ContainSubstring("mongo-primary-kill"))
		names, err := os.ReadDir(out)
		Expect(err).NotTo(HaveOccurred())
		var left []string
		for _, n := range names {
			left = append(left, n.Name())
		}
		Expect(left).To(ConsistOf("report.json", "junit.xml", "report.md", "report.html", "run.json"), "no lock file or temporary folder is left")

		// Once the first has finished, the folder is free again.
		code, _, _ = chaosdrillHooked(nil, "run", library("mongo-primary-kill"), "--out", out, "--quiet")
		Expect(code).To(Equal(exitPass))
		Expect(reportJSON(out)).To(HaveKeyWithValue("scenario", "mongo-primary-kill"))
	})
})

var _ = Describe("hostile input to validate", func() {
	It("returns at once with exit 2 for /dev/zero, a FIFO and a folder, checking and reporting every file given", func() {
		dir := GinkgoT().TempDir()
		fifo := filepath.Join(dir, "scenario.yaml")
		Expect(syscall.Mkfifo(fifo, 0o644)).To(Succeed())
		folder := filepath.Join(dir, "folder")
		Expect(os.Mkdir(folder, 0o755)).To(Succeed())
		before := entries(dir)

		code, stdout, stderr := chaosdrill(dir, "validate", library("es-node-kill"), "/dev/zero", fifo, folder, library("az-outage"))

		Expect(code).To(Equal(exitBadInput))
		Expect(stdout).To(ContainSubstring("ok  " + library("es-node-kill")))
		Expect(stdout).To(ContainSubstring("ok  "+library("az-outage")), "the files after a bad one are checked too")
		Expect(stderr).To(ContainSubstring("/dev/zero: not a regular file (a character device)"))
		Expect(stderr).To(ContainSubstring(fifo + ": not a regular file (a named pipe (FIFO))"))
		Expect(stderr).To(ContainSubstring(folder + ": not a regular file (a folder)"))
		Expect(stderr).To(ContainSubstring("3 of 5 files are not valid scenarios"))
		Expect(entries(dir)).To(Equal(before))
	})

	It("run refuses a FIFO as the scenario at once, exit 2", func() {
		dir := GinkgoT().TempDir()
		fifo := filepath.Join(dir, "scenario.yaml")
		Expect(syscall.Mkfifo(fifo, 0o644)).To(Succeed())
		before := entries(dir)
		code, _, stderr := chaosdrill(dir, "run", fifo)
		Expect(code).To(Equal(exitBadInput))
		Expect(stderr).To(ContainSubstring("named pipe"))
		Expect(entries(dir)).To(Equal(before))
	})

	It("refuses, with --platform containers, node names that make one container name", func() {
		dir := GinkgoT().TempDir()
		path := writeScenario(dir, "clash.yaml", `name: clash
topology:
  name: small
  regions: [{name: r1, zones: [r1-a, r1-b]}]
  services:
    - name: db
      kind: mongo
      members:
        - {name: Mongo_A, zone: r1-a, priority: 1}
        - {name: mongo-a, zone: r1-b, priority: 1}
duration: 5m
workloads:
  - {service: db, rate: 10}
`)
		code, _, _ := chaosdrill(dir, "validate", path)
		Expect(code).To(Equal(exitPass), "the simulator has no container names")
		code, _, stderr := chaosdrill(dir, "validate", "--platform", "containers", path)
		Expect(code).To(Equal(exitBadInput))
		Expect(stderr).To(ContainSubstring(`clash.yaml:10:18: topology.services[0].members[1].name: node names "Mongo_A" and "mongo-a" both become "mongo-a"`))
	})

	It("prints a name holding ESC, CR, LF, BEL or NUL escaped, never raw", func() {
		dir := GinkgoT().TempDir()
		path := writeScenario(dir, "escape.yaml", "name: \"x\\e[2J\\r\\n\\a\\0\"\ntopology: ion\nduration: 5m\nworkloads:\n  - {service: mongo, rate: 1}\n")
		code, stdout, stderr := chaosdrill(dir, "validate", path)
		Expect(code).To(Equal(exitBadInput))
		Expect(stderr).To(ContainSubstring(`escape.yaml:1:7: name: "x\x1b[2J\r\n\a\x00" is not a valid name`))
		for _, c := range []string{"\x1b", "\r", "\a", "\x00"} {
			Expect(stdout + stderr).NotTo(ContainSubstring(c))
		}
	})
})

var _ = Describe("sweep's seed range", func() {
	It("refuses more seeds than a sweep runs, and a range that would wrap to seed 0, with exit 2 and nothing written", func() {
		dir := GinkgoT().TempDir()
		before := entries(dir)
		code, _, stderr := chaosdrill(dir, "sweep", library("es-node-kill"), "--seeds", "18446744073709551615", "--out", "s")
		Expect(code).To(Equal(exitBadInput))
		Expect(stderr).To(ContainSubstring("a sweep runs at most 1000000 seeds"))
		code, _, stderr = chaosdrill(dir, "sweep", library("es-node-kill"), "--from", "18446744073709551615", "--seeds", "2", "--out", "s")
		Expect(code).To(Equal(exitBadInput))
		Expect(stderr).To(ContainSubstring("would wrap round to 0"))
		Expect(entries(dir)).To(Equal(before))
	})

	It("takes the last seeds there are", func() {
		code, stdout, _ := chaosdrill(GinkgoT().TempDir(), "sweep", library("es-node-kill"), "--from", "18446744073709551614", "--seeds", "2")
		Expect(code).To(Equal(exitPass))
		Expect(stdout).To(ContainSubstring("over 2 seeds"))
	})
})

// storedReport runs es-node-kill once and returns its report.json decoded
// for editing, and a function that writes an edited copy.
func storedReport(dir string) (map[string]any, func(map[string]any) string) {
	GinkgoHelper()
	code, _, _ := chaosdrill(dir, "run", library("es-node-kill"), "--out", "first", "--quiet")
	Expect(code).To(Equal(exitPass))
	doc := reportJSON(filepath.Join(dir, "first"))
	write := func(edited map[string]any) string {
		b, err := json.Marshal(edited)
		Expect(err).NotTo(HaveOccurred())
		folder := filepath.Join(dir, "edited")
		Expect(os.MkdirAll(folder, 0o755)).To(Succeed())
		path := filepath.Join(folder, "report.json")
		Expect(os.WriteFile(path, b, 0o644)).To(Succeed())
		return path
	}
	return doc, write
}

var _ = Describe("chaosdrill report on an edited report", func() {
	It("refuses a null service, or a timeline shorter than its bucket count, with exit 2 and nothing written", func() {
		dir := GinkgoT().TempDir()
		doc, write := storedReport(dir)
		services := doc["services"].(map[string]any)
		logs := services["logs"].(map[string]any)

		services["logs"] = nil
		path := write(doc)
		before := entries(dir)
		code, stdout, stderr := chaosdrill(dir, "report", path)
		Expect(code).To(Equal(exitBadInput))
		Expect(stderr).To(ContainSubstring("services.logs: null"))
		Expect(stdout).To(BeEmpty())
		Expect(entries(dir)).To(Equal(before))

		timeline := logs["timeline"].(map[string]any)
		timeline["lost"] = timeline["lost"].([]any)[:1]
		services["logs"] = logs
		path = write(doc)
		code, _, stderr = chaosdrill(dir, "report", path)
		Expect(code).To(Equal(exitBadInput))
		Expect(stderr).To(MatchRegexp(`services.logs.timeline.lost: 1 buckets, but acked has \d+`))
		Expect(entries(dir)).To(Equal(before))
	})

	It("says when the stored verdict contradicts the report's own checks, and renders and exits with what they give", func() {
		dir := GinkgoT().TempDir()
		doc, write := storedReport(dir)
		checks := doc["expectations"].([]any)
		first := checks[0].(map[string]any)
		first["result"], first["pass"] = "fail", false // the check failed; the stored verdict still says pass
		path := write(doc)

		code, stdout, stderr := chaosdrill(dir, "report", path, "--out", "rendered")

		Expect(code).To(Equal(exitFail))
		Expect(stderr).To(ContainSubstring(`the stored verdict "pass" contradicts the report's own checks, faults, runbook and read-backs, which give "fail"`))
		Expect(stdout).To(MatchRegexp(`(?m)^FAIL: `))
		Expect(stdout).NotTo(MatchRegexp(`(?m)^PASS`))
		Expect(reportJSON(filepath.Join(dir, "rendered"))).To(HaveKeyWithValue("verdict", "fail"))
	})

	It("prints names from a stored report escaped", func() {
		dir := GinkgoT().TempDir()
		doc, write := storedReport(dir)
		// A name with control characters is refused (reports.Validate);
		// free text such as what a check observed is printed escaped.
		first := doc["expectations"].([]any)[0].(map[string]any)
		first["result"], first["pass"], first["observed"] = "fail", false, "evil\x1b]0;owned\a\r"
		path := write(doc)
		code, stdout, stderr := chaosdrill(dir, "report", path, "--out", "rendered")
		Expect(code).To(Equal(exitFail))
		Expect(stdout).To(ContainSubstring(`evil\x1b]0;owned\x07\x0d`))
		Expect(stdout + stderr).NotTo(ContainSubstring("\x1b"))
	})
})

var _ = Describe("names used as paths", func() {
	It("refuses a name that would put the report outside out/, exit 2, writing nothing", func() {
		dir := GinkgoT().TempDir()
		work := filepath.Join(dir, "a", "b", "c", "d")
		Expect(os.MkdirAll(work, 0o755)).To(Succeed())
		path := writeScenario(work, "escape.yaml", "name: \"../../../../somewhere/escaped\"\ntopology: ion\nduration: 1m\nworkloads:\n  - {service: mongo, rate: 1}\n")
		before := entries(dir)
		code, _, stderr := chaosdrill(work, "run", path)
		Expect(code).To(Equal(exitBadInput))
		Expect(stderr).To(ContainSubstring("is not a valid name"))
		Expect(entries(dir)).To(Equal(before))
	})

	It("keeps the default output folder inside out/ whatever the name", func() {
		for _, name := range []string{"../x", "/etc", "a/b", "", ".."} {
			Expect(filepath.IsLocal(defaultOut(name, 1))).To(BeTrue(), name)
			Expect(strings.HasPrefix(defaultOut(name, 1), "out"+string(filepath.Separator))).To(BeTrue(), name)
		}
		Expect(defaultOut("east-region-outage", 7)).To(Equal(filepath.Join("out", "east-region-outage-7")))
	})

	It("fits a long scenario name into a Docker run id", func() {
		id := runID("containers", strings.Repeat("n", 63), 18446744073709551615)
		Expect(len(id)).To(BeNumerically("<=", 63))
		Expect(id).To(MatchRegexp(`^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$`))
	})
})

var _ = Describe("a rate too low for one interval", func() {
	It("issues one write, not a write every nanosecond", func() {
		dir := GinkgoT().TempDir()
		path := writeScenario(dir, "tiny.yaml", "name: tiny\ntopology: ion\nduration: 1s\nbaseline_expectations: false\nworkloads:\n  - {service: mongo, rate: 1e-10, arrival: constant}\nexpect:\n  - {service: mongo, lost_writes_max: 0}\n")
		code, stdout, _ := chaosdrill(dir, "run", path, "--out", "o", "--quiet")
		Expect(code).To(Equal(exitPass), stdout)
		mongo := reportJSON(filepath.Join(dir, "o"))["services"].(map[string]any)["mongo"].(map[string]any)
		Expect(mongo["acked"].(float64) + mongo["failed"].(float64) + mongo["unknown"].(float64)).To(Equal(1.0))
	})

	It("draws no write at all as a Poisson process (mean 1e-10 writes in the second), and says the check could not run", func() {
		dir := GinkgoT().TempDir()
		path := writeScenario(dir, "tiny.yaml", "name: tiny\ntopology: ion\nduration: 1s\nbaseline_expectations: false\nworkloads:\n  - {service: mongo, rate: 1e-10, bursts: {every: 100ms, length: 10ms, factor: 2}}\nexpect:\n  - {service: mongo, lost_writes_max: 0}\n")
		code, stdout, _ := chaosdrill(dir, "run", path, "--out", "o", "--quiet")
		Expect(code).To(Equal(exitFail), stdout)
		Expect(stdout).To(ContainSubstring("UNVERIFIED"))
		mongo := reportJSON(filepath.Join(dir, "o"))["services"].(map[string]any)["mongo"].(map[string]any)
		Expect(mongo["acked"].(float64) + mongo["failed"].(float64) + mongo["unknown"].(float64)).To(BeZero())
	})
})

var _ = Describe("run --dry-run", func() {
	It("prints the plan with every selector resolved, and runs and writes nothing", func() {
		dir := GinkgoT().TempDir()
		before := entries(dir)
		code, stdout, _ := chaosdrill(dir, "run", library("east-region-outage"), "--dry-run")
		Expect(code).To(Equal(exitPass))
		Expect(stdout).To(ContainSubstring("dry run: nothing is started"))
		Expect(stdout).To(MatchRegexp(`lose-east\s+kill region:us-east-1\s+at between 10m0s and 15m0s\s+hits mongo-east-1a, mongo-east-1b, es-east-1a, es-east-1b, es-east-1c, es-east-1d, s3-us-east-1`))
		Expect(stdout).To(MatchRegexp(`promote-west\s+mongo.force-reconfigure \{promote: mongo-west-1a\} on mongo\s+after lose-east \+ operator delay \{median: 2m0s, p90: 6m0s\}`))
		Expect(stdout).To(ContainSubstring("EXPECTATIONS"))
		Expect(stdout).NotTo(ContainSubstring("CONTAINERS"))
		Expect(entries(dir)).To(Equal(before))
	})

	It("lists the images and the network on the containers platform, without Docker", func() {
		GinkgoT().Setenv("DOCKER_HOST", "tcp://127.0.0.1:1")
		code, stdout, _ := chaosdrill(GinkgoT().TempDir(), "run", library("es-node-kill"), "--dry-run", "--platform", "containers")
		Expect(code).To(Equal(exitPass))
		Expect(stdout).To(ContainSubstring("bridge network per run named chaosdrill-RUNID"))
		Expect(stdout).To(MatchRegexp(`es-east-1a\s+logs\s+image docker.elastic.co/elasticsearch/elasticsearch:8.19.7`))
	})

	It("still refuses a bad file with exit 2", func() {
		code, _, _ := chaosdrill(GinkgoT().TempDir(), "run", filepath.Join(repo, "scenarios", "testdata", "bad", "shards-too-many.yaml"), "--dry-run")
		Expect(code).To(Equal(exitBadInput))
	})
})

// The CLI hooks its interrupt phases around the run without wrapping the
// platform: a wrapper would hide the optional interfaces the runner asks
// the platform for (here platform.Sampler, whose drawn link latencies the
// report lists).
var _ = Describe("run through the CLI", func() {
	It("reports what the platform itself drew (the simulator's link latencies)", func() {
		dir := GinkgoT().TempDir()
		code, stdout, _ := chaosdrill(dir, "run", library("mongo-primary-kill"), "--out", "o", "--quiet")
		Expect(code).To(Equal(exitPass), stdout)
		sampled, _ := reportJSON(filepath.Join(dir, "o"))["sampled"].(map[string]any)
		Expect(sampled).To(HaveKey(HavePrefix("latency.mongo-east-1a|mongo-east-1b")))
	})
})

var _ = Describe("report files that cannot all be put in place", func() {
	It("moves none of them when one destination is a folder: the previous run's files stay whole, exit 3", func() {
		od := filepath.Join(GinkgoT().TempDir(), "od")
		code, stdout, stderr := chaosdrillIn(context.Background(), nil, "run", library("mongo-primary-kill"), "--seed", "1", "--out", od, "-q")
		Expect(code).To(Equal(exitPass), stdout+stderr)
		previous := map[string][]byte{}
		for _, f := range []string{reports.FileJSON, reports.FileJUnit, reports.FileHTML, reports.FileRunInfo} {
			previous[f] = readFile(filepath.Join(od, f))
		}
		Expect(os.Remove(filepath.Join(od, reports.FileMarkdown))).To(Succeed())
		Expect(os.Mkdir(filepath.Join(od, reports.FileMarkdown), 0o755)).To(Succeed())

		code, stdout, stderr = chaosdrillIn(context.Background(), nil, "run", library("mongo-primary-kill"), "--seed", "2", "--out", od, "-q")
		Expect(code).To(Equal(exitEnvironment), stdout+stderr)
		Expect(stderr).To(ContainSubstring(filepath.Join(od, reports.FileMarkdown) + " is a folder, not a file: nothing was moved"))
		for f, b := range previous {
			Expect(readFile(filepath.Join(od, f))).To(Equal(b), "%s is the previous run's", f)
		}
		left, err := os.ReadDir(od)
		Expect(err).NotTo(HaveOccurred())
		Expect(left).To(HaveLen(len(previous)+1), "no temporary folder or lock is left")
	})
})

var _ = Describe("a report that cannot be written (a full disk)", func() {
	It("removes the --out folders the run created, exit 3", func() {
		files.FailMove = func(string) error { return syscall.ENOSPC }
		DeferCleanup(func() { files.FailMove = nil })
		parent := GinkgoT().TempDir()
		for _, cmd := range [][]string{
			{"run", library("mongo-primary-kill"), "-q"},
			{"run", library("mongo-primary-kill"), library("es-node-kill"), "-q"},
			{"sweep", library("mongo-primary-kill"), "--seeds", "2"},
		} {
			out := filepath.Join(parent, "new", "od")
			code, stdout, stderr := chaosdrillIn(context.Background(), nil, append(cmd, "--out", out)...)
			Expect(code).To(Equal(exitEnvironment), "%v: %s", cmd, stdout+stderr)
			Expect(stderr).To(ContainSubstring("no space left on device"))
			Expect(filepath.Join(parent, "new")).NotTo(BeAnExistingFile(), "%v", cmd)
		}
		// A folder that was there before stays.
		out := filepath.Join(parent, "there")
		Expect(os.Mkdir(out, 0o755)).To(Succeed())
		code, _, _ := chaosdrillIn(context.Background(), nil, "run", library("mongo-primary-kill"), "--out", out, "-q")
		Expect(code).To(Equal(exitEnvironment))
		Expect(entries(out)).To(Equal([]string{out}))
	})
})
