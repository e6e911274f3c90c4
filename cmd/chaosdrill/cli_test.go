package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
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

	It("run --platform containers exits 3, says Docker is not reachable, and writes nothing", func() {
		dir := GinkgoT().TempDir()
		before := entries(dir)
		code, _, stderr := chaosdrill(dir, "run", library("es-node-kill"), "--platform", "containers")
		Expect(code).To(Equal(exitEnvironment))
		Expect(stderr).To(ContainSubstring("Docker is not reachable"))
		Expect(stderr).To(ContainSubstring("tcp://127.0.0.1:1"))
		Expect(entries(dir)).To(Equal(before))
	})

	It("cleanup exits 3 and says so", func() {
		code, _, stderr := chaosdrill(GinkgoT().TempDir(), "cleanup")
		Expect(code).To(Equal(exitEnvironment))
		Expect(stderr).To(ContainSubstring("Docker is not reachable"))
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
