package main

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.yaml.in/yaml/v3"
)

// sweepJSON decodes a sweep.json for reading in specs.
func sweepJSON(dir string) map[string]any {
	GinkgoHelper()
	data, err := os.ReadFile(filepath.Join(dir, "sweep.json"))
	Expect(err).NotTo(HaveOccurred())
	var doc map[string]any
	Expect(json.Unmarshal(data, &doc)).To(Succeed())
	return doc
}

func readFile(path string) []byte {
	GinkgoHelper()
	data, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	return data
}

var _ = Describe("chaosdrill sweep sharded over machines", Ordered, func() {
	// mongo-primary-kill is the library's quickest scenario; the what-if
	// makes every shard hold two variants.
	args := []string{"sweep", library("mongo-primary-kill"), "--seeds", "9", "--from", "4", "--vary", "mongo.election_timeout=5s,10s"}
	var dir string
	BeforeAll(func() {
		dir = GinkgoT().TempDir()
		for _, shard := range []string{"1/3", "2/3", "3/3"} {
			out := "shard" + shard[:1]
			code, _, stderr := chaosdrill(dir, append(args, "--shard", shard, "--out", out, "--workers", "2")...)
			Expect(code).To(Equal(exitPass), stderr)
		}
	})

	It("merges 1/3, 2/3 and 3/3 into a sweep.json byte-identical to the unsharded sweep's", func() {
		code, _, stderr := chaosdrill(dir, append(args, "--out", "whole", "--workers", "1")...)
		Expect(code).To(Equal(exitPass), stderr)
		code, stdout, stderr := chaosdrill(dir, "sweep", "merge", "shard3", "shard1", "shard2", "--out", "merged")
		Expect(code).To(Equal(exitPass), stderr)
		Expect(stdout).To(ContainSubstring("sweep of mongo-primary-kill over 9 seeds (seeds 4-12), varying mongo.election_timeout"))
		Expect(readFile(filepath.Join(dir, "merged", "sweep.json"))).To(Equal(readFile(filepath.Join(dir, "whole", "sweep.json"))))
		for _, f := range []string{"sweep.md", "sweep.html", "junit.xml"} {
			Expect(filepath.Join(dir, "merged", f)).To(BeAnExistingFile())
		}
		shard := sweepJSON(filepath.Join(dir, "shard2"))
		Expect(shard["shard"]).To(Equal(map[string]any{"index": 2.0, "count": 3.0}))
		var seeds []float64
		for _, s := range shard["variants"].([]any)[0].(map[string]any)["per_seed"].([]any) {
			seeds = append(seeds, s.(map[string]any)["seed"].(float64))
		}
		Expect(seeds).To(Equal([]float64{5, 8, 11}), "shard 2/3 runs every third seed from the second")
	})

	It("gives the same bytes whatever --workers", func() {
		code, _, stderr := chaosdrill(dir, append(args, "--out", "three-workers", "--workers", "3")...)
		Expect(code).To(Equal(exitPass), stderr)
		code, _, stderr = chaosdrill(dir, append(args, "--out", "one-worker", "--workers", "1")...)
		Expect(code).To(Equal(exitPass), stderr)
		Expect(readFile(filepath.Join(dir, "three-workers", "sweep.json"))).To(Equal(readFile(filepath.Join(dir, "one-worker", "sweep.json"))))
	})

	It("refuses an --out that is a shard, holds one or lies inside one, exit 2, before anything is read or written", func() {
		work := GinkgoT().TempDir()
		for _, s := range []string{"shard1", "shard2", "shard3"} {
			Expect(os.MkdirAll(filepath.Join(work, "shards", s), 0o755)).To(Succeed())
			Expect(os.WriteFile(filepath.Join(work, "shards", s, "sweep.json"), readFile(filepath.Join(dir, s, "sweep.json")), 0o644)).To(Succeed())
		}
		Expect(os.Symlink("shards/shard1", filepath.Join(work, "link"))).To(Succeed())
		inputs := []string{"shards/shard1", "shards/shard2/sweep.json", "shards/shard3"}
		for out, why := range map[string]string{
			"shards/shard1":            "is the input shards/shard1",
			"./shards/shard3/":         "is the input shards/shard3",
			"link":                     "is the input shards/shard1",
			"shards":                   "holds the input shards/shard1",
			"shards/shard3/merged":     "is inside the input shards/shard3",
			"link/merged":              "is inside the input shards/shard1",
			"shards/shard2/sweep.json": "is the input shards/shard2/sweep.json",
		} {
			before := entries(work)
			code, _, stderr := chaosdrill(work, append(append([]string{"sweep", "merge"}, inputs...), "--out", out)...)
			Expect(code).To(Equal(exitBadInput), out)
			Expect(stderr).To(ContainSubstring("--out "+out+" "+why), out)
			Expect(entries(work)).To(Equal(before), out)
			Expect(readFile(filepath.Join(work, "shards", "shard1", "sweep.json"))).To(Equal(readFile(filepath.Join(dir, "shard1", "sweep.json"))))
		}
		code, _, stderr := chaosdrill(work, append(append([]string{"sweep", "merge"}, inputs...), "--out", "merged")...)
		Expect(code).To(Equal(exitPass), stderr)
	})

	DescribeTable("refuses shards that are not one whole sweep, exit 2, naming the file, writing nothing",
		func(prepare func(dir string) []string, file, why string) {
			work := GinkgoT().TempDir()
			for _, s := range []string{"shard1", "shard2", "shard3"} {
				Expect(os.MkdirAll(filepath.Join(work, s), 0o755)).To(Succeed())
				Expect(os.WriteFile(filepath.Join(work, s, "sweep.json"), readFile(filepath.Join(dir, s, "sweep.json")), 0o644)).To(Succeed())
			}
			shards := prepare(work)
			before := entries(work)
			code, _, stderr := chaosdrill(work, append(append([]string{"sweep", "merge"}, shards...), "--out", "merged")...)
			Expect(code).To(Equal(exitBadInput))
			Expect(stderr).To(ContainSubstring(filepath.Join(file, "sweep.json")))
			Expect(stderr).To(ContainSubstring(why))
			Expect(entries(work)).To(Equal(before))
		},
		Entry("a shard missing", func(string) []string { return []string{"shard1", "shard3"} }, "shard1", "shards 2/3 of this sweep are missing"),
		Entry("a shard twice", func(string) []string { return []string{"shard1", "shard2", "shard2", "shard3"} }, "shard2", "again"),
		Entry("a torn file", func(w string) []string {
			p := filepath.Join(w, "shard2", "sweep.json")
			data := readFile(p)
			Expect(os.WriteFile(p, data[:len(data)/2], 0o644)).To(Succeed())
			return []string{"shard1", "shard2", "shard3"}
		}, "shard2", "not a sweep.json"),
		Entry("a shard of another scenario file", func(w string) []string {
			p := filepath.Join(w, "shard3", "sweep.json")
			edited := regexp.MustCompile(`"scenario_sha256": "[0-9a-f]{64}"`).ReplaceAllString(string(readFile(p)), `"scenario_sha256": "`+strings.Repeat("0", 64)+`"`)
			Expect(os.WriteFile(p, []byte(edited), 0o644)).To(Succeed())
			return []string{"shard1", "shard2", "shard3"}
		}, "shard3", "scenario file"),
		Entry("a partial shard", func(w string) []string {
			p := filepath.Join(w, "shard1", "sweep.json")
			edited := strings.Replace(string(readFile(p)), `  "vary":`, `  "partial": {"reason": "interrupted"},`+"\n"+`  "vary":`, 1)
			Expect(os.WriteFile(p, []byte(edited), 0o644)).To(Succeed())
			return []string{"shard1", "shard2", "shard3"}
		}, "shard1", "partial"),
		Entry("a folder without a sweep", func(w string) []string {
			Expect(os.MkdirAll(filepath.Join(w, "empty"), 0o755)).To(Succeed())
			return []string{"shard1", "empty", "shard3"}
		}, "empty", "sweep.json"),
	)
})

var _ = Describe("sweep merge's replay commands", func() {
	It("name the scenario file the shards recorded, or the one --scenario names, never a placeholder when the file is there", func() {
		dir := GinkgoT().TempDir()
		Expect(os.MkdirAll(filepath.Join(dir, "drills"), 0o755)).To(Succeed())
		Expect(os.WriteFile(filepath.Join(dir, "drills", "pk.yaml"), readFile(library("mongo-primary-kill")), 0o644)).To(Succeed())
		for _, shard := range []string{"1/2", "2/2"} {
			code, _, stderr := chaosdrill(dir, "sweep", filepath.Join("drills", "pk.yaml"), "--seeds", "4", "--shard", shard, "--out", "shard"+shard[:1])
			Expect(code).To(Equal(exitPass), stderr)
		}
		Expect(sweepJSON(filepath.Join(dir, "shard1"))).To(HaveKeyWithValue("scenario_file", filepath.Join("drills", "pk.yaml")))
		code, stdout, stderr := chaosdrill(dir, "sweep", "merge", "shard1", "shard2", "--out", "merged")
		Expect(code).To(Equal(exitPass), stderr)
		Expect(stdout).To(MatchRegexp(`chaosdrill run drills/pk\.yaml --seed=\d+`))
		Expect(string(readFile(filepath.Join(dir, "merged", "sweep.md")))).NotTo(ContainSubstring("scenario file>"))

		// Moved away: the merge says so, and --scenario names the file.
		Expect(os.Rename(filepath.Join(dir, "drills"), filepath.Join(dir, "elsewhere"))).To(Succeed())
		code, stdout, stderr = chaosdrill(dir, "sweep", "merge", "shard1", "shard2")
		Expect(code).To(Equal(exitPass), stderr)
		Expect(stderr).To(ContainSubstring("name the file with sweep merge --scenario FILE"))
		code, stdout, stderr = chaosdrill(dir, "sweep", "merge", "shard1", "shard2", "--scenario", filepath.Join("elsewhere", "pk.yaml"))
		Expect(code).To(Equal(exitPass), stderr)
		Expect(stdout).To(MatchRegexp(`chaosdrill run elsewhere/pk\.yaml --seed=\d+`))
		code, _, stderr = chaosdrill(dir, "sweep", "merge", "shard1", "shard2", "--scenario", library("az-outage"))
		Expect(code).To(Equal(exitBadInput))
		Expect(stderr).To(ContainSubstring("not the scenario file the shards ran"))
	})
})

var _ = Describe("a sweep's gates", func() {
	gated := func(dir, gates string) string {
		text := strings.Replace(string(readFile(library("mongo-primary-kill"))), "name: mongo-primary-kill", "name: gated", 1)
		return writeScenario(dir, "gated.yaml", text+"sweep:\n  gates:\n"+gates)
	}

	It("set the exit code, one junit case per gate, judged on the seeds' own figures", func() {
		dir := GinkgoT().TempDir()
		// Every RTO is at least the election timeout (10 s) and within
		// the scenario's own 20 s bound.
		file := gated(dir, "    - {service: mongo, rto_max: 1m, quantile: 0.95}\n    - {service: mongo, rto_max: 1s, quantile: 0.5}\n    - {service: mongo, lost_writes_max: 0, at_least: 0.9}\n")
		code, stdout, _ := chaosdrill(dir, "sweep", file, "--seeds", "6", "--out", "o")
		Expect(code).To(Equal(exitFail))
		Expect(stdout).To(ContainSubstring("PASS  mongo: rto <= 1m0s at p95"))
		Expect(stdout).To(ContainSubstring("FAIL  mongo: rto <= 1s at p50"))
		doc := sweepJSON(filepath.Join(dir, "o"))
		variant := doc["variants"].([]any)[0].(map[string]any)
		gates := variant["gates"].([]any)
		Expect(gates).To(HaveLen(3))
		// The share a gate reports is counted from the seeds themselves.
		kept := 0
		for _, s := range variant["per_seed"].([]any) {
			rto := s.(map[string]any)["services"].([]any)[0].(map[string]any)["rto_seconds"].(float64)
			if rto <= 60 {
				kept++
			}
		}
		Expect(gates[0].(map[string]any)["kept"]).To(Equal(float64(kept)))
		Expect(gates[0].(map[string]any)["pass"]).To(Equal(kept == 6))

		var suites struct {
			Suites []struct {
				Tests    int `xml:"tests,attr"`
				Failures int `xml:"failures,attr"`
				Cases    []struct {
					Name    string    `xml:"name,attr"`
					Failure *struct{} `xml:"failure"`
				} `xml:"testcase"`
			} `xml:"testsuite"`
		}
		Expect(xml.Unmarshal(readFile(filepath.Join(dir, "o", "junit.xml")), &suites)).To(Succeed())
		Expect(suites.Suites).To(HaveLen(1))
		Expect(suites.Suites[0].Tests).To(Equal(3))
		Expect(suites.Suites[0].Failures).To(Equal(1))
		Expect(suites.Suites[0].Cases[1].Name).To(Equal("mongo: rto <= 1s at p50"))
		Expect(suites.Suites[0].Cases[1].Failure).NotTo(BeNil())

		file = gated(dir, "    - {service: mongo, rto_max: 1m, quantile: 0.95}\n")
		code, _, stderr := chaosdrill(dir, "sweep", file, "--seeds", "6")
		Expect(code).To(Equal(exitPass), stderr)
	})

	It("are every seed passing when the scenario states none", func() {
		dir := GinkgoT().TempDir()
		code, stdout, _ := chaosdrill(dir, "sweep", library("mongo-primary-kill"), "--seeds", "3", "--out", "o")
		Expect(code).To(Equal(exitPass))
		Expect(stdout).To(ContainSubstring("PASS  verdict pass in every seed: 3/3 seeds kept it"))
	})
})

var _ = Describe("a what-if", func() {
	It("runs east-region-outage's seeds with majority and multiRegion side by side, and each seed replays with run --set", func() {
		dir := GinkgoT().TempDir()
		code, stdout, stderr := chaosdrill(dir, "sweep", library("east-region-outage"), "--seeds", "3", "--vary", "workload.mongo.write_concern=majority,multiRegion", "--out", "o")
		Expect(code).To(BeElementOf(exitPass, exitFail), stderr)
		Expect(stdout).To(MatchRegexp(`workload.mongo.write_concern\s+majority\s+multiRegion`))
		Expect(stdout).To(MatchRegexp(`mongo lost writes p50/p90/p99\s+\S+ / \S+ / \S+\s+\S+ / \S+ / \S+`))
		doc := sweepJSON(filepath.Join(dir, "o"))
		Expect(doc["vary"]).To(Equal(map[string]any{"name": "workload.mongo.write_concern", "values": []any{"majority", "multiRegion"}}))
		variants := doc["variants"].([]any)
		Expect(variants).To(HaveLen(2))
		for i, v := range variants {
			v := v.(map[string]any)
			Expect(v["value"]).To(Equal([]string{"majority", "multiRegion"}[i]))
			Expect(v["checks"]).NotTo(BeEmpty())
			for _, c := range v["checks"].([]any) {
				c := c.(map[string]any)
				share := c["share"].(float64)
				ci := c["ci95"].([]any)
				Expect(share).To(BeNumerically(">=", 0))
				Expect(share).To(BeNumerically("<=", 1))
				Expect(ci[0].(float64)).To(BeNumerically("<=", share))
				Expect(ci[1].(float64)).To(BeNumerically(">=", share))
			}
		}
		// multiRegion: no acknowledged write lost in any seed.
		lost := variants[1].(map[string]any)["services"].(map[string]any)["mongo"].(map[string]any)["lost_writes"].(map[string]any)
		Expect(lost["max"]).To(Equal(0.0))

		// Seed 2 of multiRegion, replayed with run --set, is the same run.
		row := variants[1].(map[string]any)["per_seed"].([]any)[1].(map[string]any)
		Expect(row["seed"]).To(Equal(2.0))
		md := string(readFile(filepath.Join(dir, "o", "sweep.md")))
		Expect(md).To(ContainSubstring("--seed=2 --set workload.mongo.write_concern=multiRegion"))
		code, _, stderr = chaosdrill(dir, "run", library("east-region-outage"), "--seed", "2", "--set", "workload.mongo.write_concern=multiRegion", "--out", "replay", "--quiet")
		Expect(code).To(BeElementOf(exitPass, exitFail), stderr)
		rep := reportJSON(filepath.Join(dir, "replay"))
		mongo := rep["services"].(map[string]any)["mongo"].(map[string]any)
		figures := row["services"].([]any)[2].(map[string]any)
		Expect(figures["lost_writes"]).To(Equal(mongo["lost"]))
		Expect(figures["unknown_writes"]).To(Equal(mongo["unknown"]))
		Expect(figures["rpo_seconds"]).To(Equal(mongo["rpo_seconds"]))
		Expect(figures).To(HaveKey("rto_seconds"))
		if mongo["rto_seconds"] == nil {
			Expect(figures["rto_seconds"]).To(BeNil(), "never recovered in both")
		} else {
			Expect(figures["rto_seconds"]).To(Equal(mongo["rto_seconds"]))
		}
	})

	DescribeTable("refuses what it cannot vary, exit 2, before running anything",
		func(vary, want string) {
			dir := GinkgoT().TempDir()
			code, _, stderr := chaosdrill(dir, "sweep", library("mongo-primary-kill"), "--seeds", "2", "--vary", vary, "--out", "o")
			Expect(code).To(Equal(exitBadInput))
			Expect(stderr).To(ContainSubstring(want))
			Expect(filepath.Join(dir, "o")).NotTo(BeAnExistingFile())
		},
		Entry(nil, "net.cross_region_latency=20ms..200ms/10", "topology.latency.inter_region"),
		Entry(nil, "workload.mongo.write_concern=majority,bogus", "mongo-primary-kill.yaml:10:"),
		Entry(nil, "workload.logs.rate=1,2", `no write workload of service "logs"`),
		Entry(nil, "topology.latency.inter_region=1ms..2ms/30", "from 2 to 20"),
	)
})

var _ = Describe("a sweep's worst seeds", func() {
	It("are printed with a replay command for each value, and name sweep.md only when it is written", func() {
		dir := GinkgoT().TempDir()
		code, stdout, stderr := chaosdrill(dir, "sweep", library("mongo-primary-kill"), "--seeds", "4", "--vary", "mongo.election_timeout=5s,10s")
		Expect(code).To(Equal(exitPass), stderr)
		for _, value := range []string{"5s", "10s"} {
			Expect(stdout).To(ContainSubstring("worst seeds, mongo.election_timeout=" + value + ":"))
			Expect(stdout).To(MatchRegexp(`replay seed \d+, [A-Za-z0-9 ]+ \(any seed the same way\): chaosdrill run \S+mongo-primary-kill.yaml --seed=\d+ --set mongo.election_timeout=` + value + "\n"))
		}
		Expect(stdout).NotTo(MatchRegexp(`: sweep\.md|sweep\.md lists the worst\)`), "no sweep.md was written")
		Expect(stdout).To(ContainSubstring("with --out DIR, sweep.md lists the worst seeds"))
		Expect(filepath.Join(dir, "sweep.md")).NotTo(BeAnExistingFile())

		code, stdout, stderr = chaosdrill(dir, "sweep", library("mongo-primary-kill"), "--seeds", "4", "--out", "o")
		Expect(code).To(Equal(exitPass), stderr)
		Expect(stdout).To(ContainSubstring("the worst seeds with a replay command each: " + filepath.Join("o", "sweep.md")))
		Expect(filepath.Join(dir, "o", "sweep.md")).To(BeAnExistingFile())
	})

	It("are only those worse than the best seed: a figure every seed measured the same lists none", func() {
		dir := GinkgoT().TempDir()
		code, stdout, stderr := chaosdrill(dir, "sweep", library("mongo-primary-kill"), "--seeds", "4", "--out", "o")
		Expect(code).To(Equal(exitPass), stderr)
		Expect(stdout).To(ContainSubstring("mongo lost writes: all 4 seeds 0\n"))
		Expect(stdout).NotTo(MatchRegexp(`mongo lost writes: \d+ \(0\)`))
		worst := sweepJSON(filepath.Join(dir, "o"))["variants"].([]any)[0].(map[string]any)["worst"].(map[string]any)["mongo"].(map[string]any)
		Expect(worst["lost_writes"]).To(BeEmpty())
		Expect(worst["rto_seconds"]).To(HaveLen(3), "4 seeds, all but the best")
		Expect(string(readFile(filepath.Join(dir, "o", "sweep.md")))).To(ContainSubstring("| mongo | lost writes | all 4 seeds 0 | | |"))
	})
})

var _ = Describe("sweep flags", func() {
	DescribeTable("are checked before anything runs, exit 2",
		func(want string, args ...string) {
			dir := GinkgoT().TempDir()
			code, _, stderr := chaosdrill(dir, append([]string{"sweep", library("mongo-primary-kill")}, args...)...)
			Expect(code).To(Equal(exitBadInput))
			Expect(stderr).To(ContainSubstring(want))
		},
		Entry(nil, "i is from 1 to n", "--shard", "0/3", "--out", "o"),
		Entry(nil, "want i/n", "--shard", "2", "--out", "o"),
		Entry(nil, "give --out", "--shard", "1/2"),
		Entry(nil, "more shards than the 2 seeds", "--seeds", "2", "--shard", "3/3", "--out", "o"),
		Entry(nil, "at most 1000000", "--seeds", "600000", "--vary", "mongo.election_timeout=5s,10s"),
	)

	It("says how far it got in plain lines when standard error is not a terminal", func() {
		code, _, stderr := chaosdrill(GinkgoT().TempDir(), "sweep", library("mongo-primary-kill"), "--seeds", "10", "--workers", "1")
		Expect(code).To(Equal(exitPass))
		Expect(stderr).To(ContainSubstring("sweep mongo-primary-kill: 5/10 runs (50%)"))
		Expect(stderr).To(ContainSubstring("sweep mongo-primary-kill: 10 runs done in"))
		Expect(stderr).NotTo(ContainSubstring("\r"))
	})
})

var _ = Describe("an interrupted sweep", func() {
	It("stops at once and writes the runs that finished, marked partial, exit 3", func() {
		dir := GinkgoT().TempDir()
		out := filepath.Join(dir, "o")
		code, stdout, stderr, _ := chaosdrillInterrupted(phaseSeedDone, "sweep", library("mongo-primary-kill"), "--seeds", "500", "--workers", "1", "--out", out)
		Expect(code).To(Equal(exitEnvironment))
		Expect(stderr).To(ContainSubstring("marked partial"))
		Expect(stdout).To(ContainSubstring("PARTIAL (interrupted)"))
		doc := sweepJSON(out)
		Expect(doc["partial"]).To(Equal(map[string]any{"reason": "interrupted"}))
		run := doc["variants"].([]any)[0].(map[string]any)["seeds_run"].(float64)
		Expect(run).To(BeNumerically(">=", 1))
		Expect(run).To(BeNumerically("<", 500))
		Expect(math.Mod(run, 1)).To(BeZero())
		junit := string(readFile(filepath.Join(out, "junit.xml")))
		Expect(junit).To(ContainSubstring(`type="partial"`))
	})
})

var _ = Describe("the example sharded sweep workflow for users", func() {
	example := filepath.Join(repo, "docs", "examples", "sweep-matrix.yml")

	It("is not one of this repository's own workflows", func() {
		own, err := filepath.Glob(filepath.Join(repo, ".github", "workflows", "*"))
		Expect(err).NotTo(HaveOccurred())
		for _, f := range own {
			Expect(mustRead(f)).NotTo(ContainSubstring("name: chaos-sweep"), f)
		}
	})

	It("runs one shard per matrix entry and merges them all, with commands this CLI accepts", func() {
		var wf struct {
			Env  map[string]string `yaml:"env"`
			Jobs map[string]struct {
				Needs    string `yaml:"needs"`
				Strategy struct {
					Matrix struct {
						Shard []int `yaml:"shard"`
					} `yaml:"matrix"`
				} `yaml:"strategy"`
				Steps []struct {
					Uses string            `yaml:"uses"`
					Run  string            `yaml:"run"`
					With map[string]string `yaml:"with"`
				} `yaml:"steps"`
			} `yaml:"jobs"`
		}
		Expect(yaml.Unmarshal([]byte(mustRead(example)), &wf)).To(Succeed())
		shards := wf.Jobs["sweep"].Strategy.Matrix.Shard
		Expect(strconv.Itoa(len(shards))).To(Equal(wf.Env["SHARDS"]), "SHARDS is the matrix's length")
		for i, s := range shards {
			Expect(s).To(Equal(i+1), "shards are numbered from 1")
		}
		Expect(wf.Jobs["merge"].Needs).To(Equal("sweep"))
		expand := func(line string, shard int) []string {
			line = strings.ReplaceAll(line, "${{ matrix.shard }}", strconv.Itoa(shard))
			line = os.Expand(strings.ReplaceAll(line, `"`, ""), func(name string) string { return wf.Env[name] })
			line, _, _ = strings.Cut(line, " ||")
			return strings.Fields(line)
		}
		var verbs []string
		uploaded, downloaded := "", ""
		for _, job := range []string{"sweep", "merge"} {
			for _, step := range wf.Jobs[job].Steps {
				if strings.HasPrefix(step.Uses, "actions/upload-artifact") && job == "sweep" {
					uploaded = step.With["name"]
				}
				if strings.HasPrefix(step.Uses, "actions/download-artifact") {
					downloaded = step.With["pattern"]
				}
				for _, line := range strings.Split(step.Run, "\n") {
					line = strings.TrimSpace(line)
					if !strings.HasPrefix(line, "chaosdrill ") {
						continue
					}
					args := expand(line, 2)
					root := newRoot(io.Discard, io.Discard)
					cmd, rest, err := root.Find(args[1:])
					Expect(err).NotTo(HaveOccurred(), line)
					Expect(cmd.ParseFlags(rest)).To(Succeed(), line)
					Expect(cmd.ValidateArgs(cmd.Flags().Args())).To(Succeed(), line)
					if cmd.Name() == "sweep" {
						Expect(cmd.Flags().Lookup("shard").Value.String()).To(Equal("2/" + wf.Env["SHARDS"]))
						Expect(cmd.Flags().Lookup("out").Value.String()).To(Equal("shard-2"))
					}
					verbs = append(verbs, cmd.CommandPath())
				}
			}
		}
		Expect(verbs).To(Equal([]string{"chaosdrill sweep", "chaosdrill sweep merge"}))
		Expect(uploaded).To(Equal("sweep-shard-${{ matrix.shard }}"))
		Expect(downloaded).To(Equal("sweep-shard-*"))
	})
})
