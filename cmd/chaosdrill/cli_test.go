package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
)

// repo is the repository root, where the scenario library lives.
var repo = func() string {
	wd, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	return filepath.Join(wd, "..", "..")
}()

// chaosdrill runs the CLI in-process in dir and returns its exit code and
// output.
func chaosdrill(dir string, args ...string) (int, string, string) {
	GinkgoHelper()
	old, err := os.Getwd()
	Expect(err).NotTo(HaveOccurred())
	Expect(os.Chdir(dir)).To(Succeed())
	defer func() { Expect(os.Chdir(old)).To(Succeed()) }()
	var stdout, stderr bytes.Buffer
	code := execute(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// entries lists what a folder holds, to prove a command wrote nothing.
func entries(dir string) []string {
	GinkgoHelper()
	var names []string
	Expect(filepath.Walk(dir, func(path string, _ os.FileInfo, err error) error {
		names = append(names, path)
		return err
	})).To(Succeed())
	return names
}

func library(name string) string { return filepath.Join(repo, "scenarios", name+".yaml") }

var _ = Describe("chaosdrill validate", func() {
	It("accepts every scenario of the library", func() {
		files, err := filepath.Glob(filepath.Join(repo, "scenarios", "*.yaml"))
		Expect(err).NotTo(HaveOccurred())
		Expect(len(files)).To(BeNumerically(">=", 11))
		code, stdout, stderr := chaosdrill(GinkgoT().TempDir(), append([]string{"validate"}, files...)...)
		Expect(stderr).To(BeEmpty())
		Expect(code).To(Equal(exitPass))
		Expect(strings.Count(stdout, "ok ")).To(Equal(len(files)))
	})

	It("names the platform of a parameter the other platform only takes, and the listing of this platform's", func() {
		code, _, stderr := chaosdrill(GinkgoT().TempDir(), "run", filepath.Join(repo, "scenarios"), "--platform", "containers", "--dry-run")
		Expect(code).To(Equal(exitBadInput))
		Expect(stderr).To(ContainSubstring(`mongo-stale-member.yaml:15:3: parameters.mongo.oplog_size_mb: "mongo.oplog_size_mb" is a simulator-only parameter: the containers platform has no such knob (see ` + "`chaosdrill list --parameters --platform containers`)"))
		Expect(stderr).To(ContainSubstring("6 of"), "the six simulator-only files of the library, README's list")
		for _, f := range []string{"es-partial-snapshot", "es-restore-parallel", "logs-shipper-no-loss", "logs-shipper-retry-limit", "mongo-add-member-from-backup", "mongo-stale-member"} {
			Expect(stderr).To(ContainSubstring(f+".yaml:"), f)
			Expect(mustRead(filepath.Join(repo, "README.md"))).To(ContainSubstring("`"+f+"`"), "README lists %s as simulator-only", f)
		}
		code, stdout, _ := chaosdrill(GinkgoT().TempDir(), "list", "--parameters", "--platform", "containers")
		Expect(code).To(Equal(exitPass))
		Expect(stdout).NotTo(ContainSubstring("mongo.oplog_size_mb"), "the listing the hint names does not have it either")

		dir := GinkgoT().TempDir()
		file := filepath.Join(dir, "live-knob.yaml")
		Expect(os.WriteFile(file, []byte("name: live-knob\ntopology: ion\nduration: 5m\nworkloads:\n  - {service: mongo, rate: 10}\nparameters:\n  client.workers: 4\n"), 0o644)).To(Succeed())
		code, _, stderr = chaosdrill(dir, "validate", file)
		Expect(code).To(Equal(exitBadInput))
		Expect(stderr).To(ContainSubstring(`"client.workers" is a containers-only parameter: the simulator platform has no such knob (see ` + "`chaosdrill list --parameters`)"))
	})

	bad, _ := filepath.Glob(filepath.Join(repo, "scenarios", "testdata", "bad", "*.yaml"))
	for _, file := range bad {
		It("rejects "+filepath.Base(file)+" with exit 2, naming the file, line and field, and writes nothing", func() {
			want := wantLine(file)
			dir := GinkgoT().TempDir()
			before := entries(dir)
			code, _, stderr := chaosdrill(dir, "validate", file)
			Expect(code).To(Equal(exitBadInput))
			Expect(stderr).To(ContainSubstring(file + ":" + want.line + ":"))
			Expect(stderr).To(ContainSubstring(want.field))
			Expect(entries(dir)).To(Equal(before))
		})
	}
	It("has a dozen broken files to reject", func() { Expect(len(bad)).To(BeNumerically(">=", 12)) })

	It("exits 2 on a file that does not exist", func() {
		code, _, stderr := chaosdrill(GinkgoT().TempDir(), "validate", "no-such-scenario.yaml")
		Expect(code).To(Equal(exitBadInput))
		Expect(stderr).To(ContainSubstring("no-such-scenario.yaml"))
	})
})

type want struct{ line, field string }

// wantLine reads the "# want: LINE: FIELD" header of a broken fixture.
func wantLine(file string) want {
	GinkgoHelper()
	f, err := os.Open(file)
	Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	line, _, _ := bufio.NewReader(f).ReadLine()
	m := regexp.MustCompile(`^# want: (\d+):\s*(\S*)`).FindStringSubmatch(string(line))
	Expect(m).NotTo(BeNil(), "fixture %s has no '# want: LINE: FIELD' header", file)
	return want{line: m[1], field: m[2]}
}

var _ = Describe("chaosdrill run", func() {
	It("writes the four report files and prints a summary", func() {
		dir := GinkgoT().TempDir()
		code, stdout, _ := chaosdrill(dir, "run", library("mongo-primary-kill"), "--seed", "3", "--quiet")
		Expect(code).To(Equal(exitPass), stdout)
		for _, f := range []string{"report.json", "junit.xml", "report.md", "report.html"} {
			Expect(filepath.Join(dir, "out", "mongo-primary-kill-3", f)).To(BeAnExistingFile())
		}
		Expect(stdout).To(ContainSubstring("mongo"))
		Expect(stdout).To(MatchRegexp(`(?i)pass`))
	})

	It("gives a byte-identical report.json for the same scenario and seed, and other timings for another seed", func() {
		dir := GinkgoT().TempDir()
		run := func(seed, out string) []byte {
			code, stdout, _ := chaosdrill(dir, "run", library("east-region-outage"), "--seed", seed, "--out", out, "--quiet")
			Expect(code).To(BeElementOf(exitPass, exitFail), stdout)
			b, err := os.ReadFile(filepath.Join(dir, out, "report.json"))
			Expect(err).NotTo(HaveOccurred())
			return b
		}
		first, again, other := run("1", "a"), run("1", "b"), run("2", "c")
		Expect(again).To(Equal(first))
		// The seed is in the report; the timings must differ beyond it.
		withoutSeed := func(b []byte) map[string]any {
			var m map[string]any
			Expect(json.Unmarshal(b, &m)).To(Succeed())
			delete(m, "seed")
			return m
		}
		Expect(withoutSeed(other)).NotTo(Equal(withoutSeed(first)))
	})

	It("exits 2 and writes nothing for a broken scenario", func() {
		dir := GinkgoT().TempDir()
		before := entries(dir)
		code, _, stderr := chaosdrill(dir, "run", filepath.Join(repo, "scenarios", "testdata", "bad", "negative-rate.yaml"))
		Expect(code).To(Equal(exitBadInput))
		Expect(stderr).To(ContainSubstring("negative-rate.yaml"))
		Expect(entries(dir)).To(Equal(before))
	})

	It("exits 2 for a scenario file that does not exist", func() {
		code, _, stderr := chaosdrill(GinkgoT().TempDir(), "run", "no-such-scenario.yaml")
		Expect(code).To(Equal(exitBadInput))
		Expect(stderr).To(ContainSubstring("no-such-scenario.yaml"))
	})

	It("exits 2 for an unknown platform or a bad flag", func() {
		code, _, stderr := chaosdrill(GinkgoT().TempDir(), "run", library("es-node-kill"), "--platform", "vmware")
		Expect(code).To(Equal(exitBadInput))
		Expect(stderr).To(ContainSubstring("vmware"))
		code, _, _ = chaosdrill(GinkgoT().TempDir(), "run", library("es-node-kill"), "--seed", "minus-one")
		Expect(code).To(Equal(exitBadInput))
		code, _, _ = chaosdrill(GinkgoT().TempDir(), "run")
		Expect(code).To(Equal(exitBadInput))
	})

	It("exits 2 before anything runs, writing nothing, when --out names a file or a folder under one", func() {
		dir := GinkgoT().TempDir()
		Expect(os.WriteFile(filepath.Join(dir, "taken"), []byte("keep me"), 0o644)).To(Succeed())
		before := entries(dir)
		for _, out := range []string{"taken", filepath.Join("taken", "reports")} {
			code, stdout, stderr := chaosdrill(dir, "run", library("mongo-primary-kill"), "--out", out)
			Expect(code).To(Equal(exitBadInput), out)
			Expect(stderr).To(ContainSubstring("--out %s: taken is a file, not a folder", out))
			Expect(stdout).To(BeEmpty(), "nothing ran")
			Expect(entries(dir)).To(Equal(before))
		}
		kept, err := os.ReadFile(filepath.Join(dir, "taken"))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(kept)).To(Equal("keep me"))
	})

	It("exits 2 before anything runs when --out is in a folder that cannot be written", func() {
		// Not even root can create files in /proc; mode bits would not stop
		// root, which these tests may run as.
		if _, err := os.Stat("/proc/self"); err != nil {
			Skip("no /proc here: " + err.Error())
		}
		code, stdout, stderr := chaosdrill(GinkgoT().TempDir(), "run", library("mongo-primary-kill"), "--out", "/proc/chaosdrill-reports")
		Expect(code).To(Equal(exitBadInput))
		Expect(stderr).To(ContainSubstring("--out /proc/chaosdrill-reports: cannot write in /proc"))
		Expect(stdout).To(BeEmpty())
	})

	It("exits 1, names what never fired, and says not-rehearsed in every report file (the issue's rolling restart cut to 2m30s)", func() {
		dir := GinkgoT().TempDir()
		text, err := os.ReadFile(library("es-rolling-restart"))
		Expect(err).NotTo(HaveOccurred())
		short := strings.Replace(string(text), "duration: 6m", "duration: 2m30s", 1)
		Expect(os.WriteFile(filepath.Join(dir, "short.yaml"), []byte(short), 0o644)).To(Succeed())

		code, stdout, _ := chaosdrill(dir, "run", "short.yaml", "--out", "o", "--quiet")

		Expect(code).To(Equal(exitFail))
		Expect(stdout).To(ContainSubstring("NOT-REHEARSED fault restart-c rehearsed: observed its trigger came at"))
		Expect(stdout).To(ContainSubstring("NOT-REHEARSED fault restart-d rehearsed: observed it waits on fault restart-c, which never happened"))
		Expect(stdout).To(MatchRegexp(`(?m)^NOT-REHEARSED: 0 of 5 checks held`))
		Expect(reportJSON(filepath.Join(dir, "o"))).To(HaveKeyWithValue("verdict", "not-rehearsed"))
		md, err := os.ReadFile(filepath.Join(dir, "o", "report.md"))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(md)).To(ContainSubstring("| restart-c | restart | node:es-east-1c |  | NOT-REHEARSED | never | never |"))
		junit, err := os.ReadFile(filepath.Join(dir, "o", "junit.xml"))
		Expect(err).NotTo(HaveOccurred())
		Expect(strings.Count(string(junit), `type="not-rehearsed"`)).To(Equal(5))

		// The stored verdict keeps its exit code when rendered again.
		code, _, _ = chaosdrill(dir, "report", filepath.Join("o", "report.json"), "--out", "again")
		Expect(code).To(Equal(exitFail))
	})

	It("gives a file without expect the baseline expectations, so killing every log node does not pass", func() {
		dir := GinkgoT().TempDir()
		Expect(os.WriteFile(filepath.Join(dir, "no-expect.yaml"), []byte(`name: no-expect
topology: ion
duration: 2m
workloads:
  - {service: logs, rate: 100}
faults:
  - {name: lose-logs, kind: kill, target: service:logs, at: 30s}
`), 0o644)).To(Succeed())

		code, stdout, _ := chaosdrill(dir, "run", "no-expect.yaml", "--quiet")

		Expect(code).To(Equal(exitFail))
		Expect(stdout).To(ContainSubstring("logs: recovers (baseline): observed never recovered"))
		// With every node dead nothing can be read back, as live: the
		// writes are unverified, not claimed lost.
		Expect(stdout).To(ContainSubstring("UNVERIFIED logs: writes read back"))
		Expect(stdout).To(ContainSubstring("the cluster the log tier writes to (es-east-1a, es-east-1b, es-east-1c, es-east-1d) does not answer"))
	})

	It("exits 1 and says how to reproduce when an expectation fails", func() {
		dir := GinkgoT().TempDir()
		scenario := filepath.Join(dir, "strict.yaml")
		text, err := os.ReadFile(library("mongo-primary-kill"))
		Expect(err).NotTo(HaveOccurred())
		strict := strings.Replace(string(text), "rto_max: 20s", "rto_max: 1ms", 1)
		Expect(strict).NotTo(Equal(string(text)))
		Expect(os.WriteFile(scenario, []byte(strict), 0o644)).To(Succeed())
		code, stdout, _ := chaosdrill(dir, "run", scenario, "--seed", "5", "--quiet")
		Expect(code).To(Equal(exitFail))
		Expect(stdout).To(ContainSubstring("--seed=5"))
	})
})

// reportJSON reads the report.json of an output folder.
func reportJSON(dir string) map[string]any {
	GinkgoHelper()
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	Expect(err).NotTo(HaveOccurred())
	var doc map[string]any
	Expect(json.Unmarshal(b, &doc)).To(Succeed())
	return doc
}

var _ = Describe("usage errors", func() {
	It("exits 2 on an unknown command, suggests the right one, and writes nothing", func() {
		dir := GinkgoT().TempDir()
		before := entries(dir)
		code, stdout, stderr := chaosdrill(dir, "runn", "x")
		Expect(code).To(Equal(exitBadInput))
		Expect(stderr).To(ContainSubstring(`unknown command "runn"`))
		Expect(stderr).To(ContainSubstring(`did you mean "run"?`))
		Expect(stdout).To(BeEmpty())
		Expect(entries(dir)).To(Equal(before))
	})

	It("exits 2 on an unknown list", func() {
		code, _, stderr := chaosdrill(repo, "list", "faults")
		Expect(code).To(Equal(exitBadInput))
		Expect(stderr).To(ContainSubstring(`unknown command "faults"`))
	})

	It("still shows help, exit 0, with no command", func() {
		code, stdout, _ := chaosdrill(repo)
		Expect(code).To(Equal(exitPass))
		Expect(stdout).To(ContainSubstring("Available Commands"))
	})
})

var _ = Describe("chaosdrill version", func() {
	It("prints the module version and commit, saying devel and unknown when the binary carries none (as under go test)", func() {
		for _, args := range [][]string{{"version"}, {"--version"}} {
			code, stdout, _ := chaosdrill(repo, args...)
			Expect(code).To(Equal(exitPass), args[0])
			Expect(stdout).To(MatchRegexp(`^chaosdrill devel \(commit unknown, go1\.\d+`), args[0])
		}
	})

	It("words a stamped build: release version, short commit, modified tree", func() {
		info := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/chaosdrill/chaosdrill", Version: "v1.4.0"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "3601317d0c2f9d0b5a1e8f0a4b1c2d3e4f5a6b7c"}, {Key: "vcs.modified", Value: "true"}}}
		Expect(describeBuild(info)).To(Equal("chaosdrill v1.4.0 (commit 3601317d0c2f, modified, go1.26.8)"))
		info.Main.Version, info.Settings = "(devel)", info.Settings[:1]
		Expect(describeBuild(info)).To(Equal("chaosdrill devel (commit 3601317d0c2f, go1.26.8)"))
	})
})

var _ = Describe("chaosdrill report", func() {
	It("re-renders a stored report byte for byte and prints its summary", func() {
		dir := GinkgoT().TempDir()
		code, _, _ := chaosdrill(dir, "run", library("es-node-kill"), "--seed", "4", "--out", "first", "--quiet")
		Expect(code).To(Equal(exitPass))
		code, stdout, _ := chaosdrill(dir, "report", filepath.Join("first", "report.json"), "--out", "again")
		Expect(code).To(Equal(exitPass))
		Expect(stdout).To(ContainSubstring("es-node-kill"))
		for _, f := range []string{"report.json", "junit.xml", "report.md", "report.html"} {
			first, err := os.ReadFile(filepath.Join(dir, "first", f))
			Expect(err).NotTo(HaveOccurred())
			again, err := os.ReadFile(filepath.Join(dir, "again", f))
			Expect(err).NotTo(HaveOccurred())
			Expect(again).To(Equal(first), f)
		}
	})

	It("exits 2 for a file that is not a chaosdrill report", func() {
		dir := GinkgoT().TempDir()
		Expect(os.WriteFile(filepath.Join(dir, "x.json"), []byte(`{"schema":"other"}`), 0o644)).To(Succeed())
		code, _, stderr := chaosdrill(dir, "report", "x.json")
		Expect(code).To(Equal(exitBadInput))
		Expect(stderr).To(ContainSubstring("x.json"))
	})
})

var _ = Describe("without Docker", func() {
	BeforeEach(func() {
		// Loopback port 1: nothing listens there, so Docker "is down".
		GinkgoT().Setenv("DOCKER_HOST", "tcp://127.0.0.1:1")
	})

	It("run --platform containers exits 3, says Docker is not reachable, and leaves CI an error report", func() {
		dir := GinkgoT().TempDir()
		code, stdout, stderr := chaosdrill(dir, "run", library("es-node-kill"), "--platform", "containers", "--out", "nightly")
		Expect(code).To(Equal(exitEnvironment))
		Expect(stderr).To(ContainSubstring("Docker is not reachable"))
		Expect(stderr).To(ContainSubstring("tcp://127.0.0.1:1"))
		Expect(stdout).To(ContainSubstring(filepath.Join("nightly", "report.json")))

		doc := reportJSON(filepath.Join(dir, "nightly"))
		Expect(doc).To(HaveKeyWithValue("verdict", "error"))
		Expect(doc).To(HaveKeyWithValue("error", HaveKeyWithValue("phase", "preflight")))
		Expect(doc["error"]).To(HaveKeyWithValue("message", ContainSubstring("Docker is not reachable")))
		junit, err := os.ReadFile(filepath.Join(dir, "nightly", "junit.xml"))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(junit)).To(MatchRegexp(`<error message="preflight failed: [^"]*Docker is not reachable`))
		for _, f := range []string{"report.md", "report.html"} {
			Expect(filepath.Join(dir, "nightly", f)).To(BeAnExistingFile())
		}
	})

	It("writes no report for an interrupted run, whatever error the interrupt surfaced as", func() {
		sc, err := loadScenario(context.Background(), library("es-node-kill"), nil, "sim")
		Expect(err).NotTo(HaveOccurred())
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		dir := GinkgoT().TempDir()
		before := entries(dir)
		for _, cause := range []error{context.Canceled, errors.New("docker: request aborted")} {
			var stdout bytes.Buffer
			returned := failedRun(ctx, &stdout, io.Discard, library("es-node-kill"), filepath.Join(dir, "out"), sc, runFlags{platform: "containers", seed: 1}, time.Now(), "bring-up", cause)
			Expect(returned).To(MatchError(cause))
			Expect(stdout.String()).To(BeEmpty())
			Expect(entries(dir)).To(Equal(before))
		}
	})

	It("checks the scenario before Docker: a broken file is bad input, with nothing written", func() {
		dir := GinkgoT().TempDir()
		before := entries(dir)
		code, _, stderr := chaosdrill(dir, "run", filepath.Join(repo, "scenarios", "testdata", "bad", "after-event-misspelled.yaml"), "--platform", "containers")
		Expect(code).To(Equal(exitBadInput))
		Expect(stderr).To(ContainSubstring(`did you mean "health-green"?`))
		Expect(entries(dir)).To(Equal(before))
	})

	It("cleanup exits 3 and says so, claiming to have removed nothing", func() {
		code, stdout, stderr := chaosdrill(GinkgoT().TempDir(), "cleanup")
		Expect(code).To(Equal(exitEnvironment))
		Expect(stderr).To(ContainSubstring("Docker is not reachable"))
		Expect(stdout).To(BeEmpty(), "no \"removed 0 containers\" before the error")
	})
})

var _ = Describe("chaosdrill list", func() {
	It("lists the library, the fault kinds, the topologies and the runbook actions", func() {
		code, stdout, _ := chaosdrill(repo, "list")
		Expect(code).To(Equal(exitPass))
		for _, s := range []string{"east-region-outage", "mongo-partition-w1", "partition", "latency", "ion", "mongo.force-reconfigure", "role:SERVICE:ROLE"} {
			Expect(stdout).To(ContainSubstring(s))
		}
	})

	It("names each runbook action's parameters, required or optional, as the catalogue says", func() {
		code, stdout, _ := chaosdrill(repo, "list")
		Expect(code).To(Equal(exitPass))
		Expect(stdout).To(MatchRegexp(`mongo\.force-reconfigure .*\n\s+params: promote \(required\), service \(optional\)\n`))
		for _, a := range platform.ActionCatalog() {
			for _, name := range a.Required {
				Expect(stdout).To(MatchRegexp(regexp.QuoteMeta(a.Name)+` .*\n\s+params: .*\b`+regexp.QuoteMeta(name)+` \(required\)`), a.Name)
			}
		}
		Expect(mustRead(filepath.Join(repo, "README.md"))).NotTo(ContainSubstring("list actions"), "there is no list actions command")
	})

	It("lists every event each kind of service emits, with its meaning", func() {
		code, stdout, _ := chaosdrill(repo, "list", "events")
		Expect(code).To(Equal(exitPass))
		for _, kind := range []string{platform.KindMongo, platform.KindElastic, platform.KindS3} {
			Expect(stdout).To(ContainSubstring(strings.ToUpper(kind)))
			for _, e := range platform.EventCatalog(kind) {
				Expect(stdout).To(MatchRegexp(`(?m)^  %s\s+%s$`, regexp.QuoteMeta(e.What), regexp.QuoteMeta(e.Meaning)))
			}
		}
		Expect(stdout).To(ContainSubstring("after_event: logs:EVENT"))
	})

	It("shows a topology's regions, zones and nodes with priorities, votes and hidden", func() {
		code, stdout, _ := chaosdrill(repo, "list", "topology", "ion")
		Expect(code).To(Equal(exitPass))
		Expect(stdout).To(ContainSubstring("us-east-1  zones us-east-1a, us-east-1b, us-east-1c, us-east-1d"))
		Expect(stdout).To(MatchRegexp(`(?m)^mongo-west-1a\s+mongo\s+us-west-1\s+us-west-1a\s+never primary \(priority 0\)\s+0\s+1\s+yes$`))
		Expect(stdout).To(MatchRegexp(`(?m)^mongo-east-1a\s+mongo\s+us-east-1\s+us-east-1a\s+electable member\s+2\s+1\s+no$`))
		Expect(stdout).To(MatchRegexp(`(?m)^s3-us-west-1\s+artifacts\s+us-west-1\s+-\s+endpoint, sync destination`))
		Expect(stdout).To(ContainSubstring("role:mongo:primary, role:mongo:secondary, role:logs:master"))
		for _, n := range platform.Ion().Nodes() {
			Expect(stdout).To(MatchRegexp(`(?m)^%s\s`, n.Name))
		}
	})

	It("shows the inline topology of a scenario file, and refuses an unknown name with exit 2", func() {
		code, stdout, _ := chaosdrill(repo, "list", "topology", filepath.Join("scenarios", "testdata", "good", "inline-two-region.yaml"))
		Expect(code).To(Equal(exitPass))
		Expect(stdout).To(ContainSubstring("TOPOLOGY two-region"))
		code, _, stderr := chaosdrill(repo, "list", "topology", "iom")
		Expect(code).To(Equal(exitBadInput))
		Expect(stderr).To(ContainSubstring(`no built-in topology "iom"`))
	})

	for _, p := range []string{"sim", "containers"} {
		It("lists every "+p+" parameter with its default and a source URL", func() {
			code, stdout, _ := chaosdrill(repo, "list", "--parameters", "--platform", p)
			Expect(code).To(Equal(exitPass))
			lines := strings.Split(strings.TrimSpace(stdout), "\n")[1:]
			Expect(len(lines)).To(BeNumerically(">", 10))
			for _, l := range lines {
				Expect(l).To(ContainSubstring("https://"), l)
			}
			Expect(stdout).To(ContainSubstring("mongo.election_timeout"))
		})
	}
})
