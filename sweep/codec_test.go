package sweep_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/sweep"
)

var _ = Describe("sweep.json", func() {
	vary := &sweep.Vary{Name: "workload.a.write_concern", Values: []string{"majority", "multiRegion"}}
	variants := [][]sweep.Seed{syntheticSeeds(5, 30, 1), syntheticSeeds(5, 30, 2)}
	whole := sweep.Aggregate(about(5, 30, nil, vary), variants, nil)

	It("is the same bytes whatever order the seeds finished in", func() {
		shuffled := make([][]sweep.Seed, 2)
		r := rand.New(rand.NewPCG(1, 2))
		for i, v := range variants {
			shuffled[i] = append([]sweep.Seed(nil), v...)
			r.Shuffle(len(shuffled[i]), func(a, b int) { shuffled[i][a], shuffled[i][b] = shuffled[i][b], shuffled[i][a] })
		}
		Expect(encode(sweep.Aggregate(about(5, 30, nil, vary), shuffled, nil))).To(Equal(encode(whole)))
	})

	It("reads back as it was written, every expectation with a share and a ci95 per value", func() {
		data := encode(whole)
		back, err := sweep.Decode(data)
		Expect(err).NotTo(HaveOccurred())
		Expect(encode(back)).To(Equal(data))
		var doc map[string]any
		Expect(json.Unmarshal(data, &doc)).To(Succeed())
		for _, v := range doc["variants"].([]any) {
			for _, c := range v.(map[string]any)["checks"].([]any) {
				c := c.(map[string]any)
				Expect(c).To(HaveKey("share"))
				Expect(c["ci95"]).To(HaveLen(2))
			}
		}
	})

	It("merges shards into exactly the unsharded result, in any order", func() {
		for _, n := range []int{1, 2, 3, 7, 30} {
			var names []string
			var shards []*sweep.Result
			for i := n; i >= 1; i-- {
				shard := &sweep.Shard{Index: i, Count: n}
				part := [][]sweep.Seed{shardOf(variants[0], 5, shard), shardOf(variants[1], 5, shard)}
				r, err := sweep.Decode(encode(sweep.Aggregate(about(5, 30, shard, vary), part, nil)))
				Expect(err).NotTo(HaveOccurred(), "shard %s", shard)
				names, shards = append(names, shard.String()), append(shards, r)
			}
			merged, err := sweep.Merge(names, shards)
			Expect(err).NotTo(HaveOccurred())
			Expect(encode(merged)).To(Equal(encode(whole)), "%d shards", n)
		}
	})

	Describe("merging shards that do not make one sweep", func() {
		shard := func(i, n int, change func(*sweep.Sweep)) *sweep.Result {
			s := about(5, 30, &sweep.Shard{Index: i, Count: n}, vary)
			if change != nil {
				change(&s)
			}
			part := [][]sweep.Seed{shardOf(variants[0], 5, s.Shard), shardOf(variants[1], 5, s.Shard)}
			return sweep.Aggregate(s, part, nil)
		}
		mergeErr := func(shards ...*sweep.Result) *sweep.MergeError {
			names := []string{}
			for i := range shards {
				names = append(names, "shard"+string(rune('A'+i)))
			}
			_, err := sweep.Merge(names, shards)
			var me *sweep.MergeError
			Expect(errors.As(err, &me)).To(BeTrue(), "%v", err)
			return me
		}
		It("refuses a missing shard, a shard given twice, or of another count", func() {
			me := mergeErr(shard(1, 3, nil), shard(3, 3, nil))
			Expect(me.Error()).To(ContainSubstring("shards 2/3 of this sweep are missing"))
			me = mergeErr(shard(1, 2, nil), shard(2, 2, nil), shard(2, 2, nil))
			Expect(me.File).To(Equal("shardC"))
			Expect(me.Error()).To(ContainSubstring("again"))
			me = mergeErr(shard(1, 2, nil), shard(2, 3, nil))
			Expect(me.File).To(Equal("shardB"))
		})
		It("refuses a shard of another scenario file, version, seeds, what-if or gates, naming the file", func() {
			for what, change := range map[string]func(*sweep.Sweep){
				"scenario file": func(s *sweep.Sweep) { s.ScenarioSHA256 = strings.Repeat("f", 64) },
				"version":       func(s *sweep.Sweep) { s.Version = "other" },
				"seeds":         func(s *sweep.Sweep) { s.Seeds = 29 },
				"what-if":       func(s *sweep.Sweep) { s.Vary = &sweep.Vary{Name: vary.Name, Values: []string{"majority", "1"}} },
				"gates":         func(s *sweep.Sweep) { s.Gates = s.Gates[:1] },
			} {
				me := mergeErr(shard(1, 2, nil), shard(2, 2, change))
				Expect(me.File).To(Equal("shardB"), what)
				Expect(me.Error()).To(ContainSubstring(what))
			}
		})
		It("refuses a partial shard", func() {
			p := shard(2, 2, nil)
			p.Partial = &sweep.Partial{Reason: "interrupted"}
			Expect(mergeErr(shard(1, 2, nil), p).Error()).To(ContainSubstring("partial"))
		})
	})

	DescribeTable("refuses a file whose seeds or summary cannot be trusted",
		func(edit func(string) string, want string) {
			s := about(5, 30, &sweep.Shard{Index: 2, Count: 3}, nil)
			data := string(encode(sweep.Aggregate(s, [][]sweep.Seed{shardOf(variants[0], 5, s.Shard)}, nil)))
			edited := edit(data)
			Expect(edited).NotTo(Equal(data), "the edit applies")
			_, err := sweep.Decode([]byte(edited))
			Expect(err).To(MatchError(ContainSubstring(want)))
		},
		Entry("a seed of another shard", func(d string) string { return strings.Replace(d, `{"seed":6,`, `{"seed":7,`, 1) }, "not one of shard 2/3"),
		Entry("a seed twice", func(d string) string { return strings.Replace(d, `{"seed":9,`, `{"seed":6,`, 1) }, "listed once, in order"),
		Entry("a seed outside the sweep", func(d string) string { return strings.Replace(d, `"from": 5`, `"from": 7`, 1) }, "outside the sweep"),
		Entry("a summary edited", func(d string) string { return strings.Replace(d, `"seeds_run": 10`, `"seeds_run": 9`, 1) }, "does not agree with its seeds"),
		Entry("a figure edited", func(d string) string {
			return strings.Replace(d, `,"lost_writes":`, `,"lost_writes":1`, 1)
		}, "does not agree with its seeds"),
		Entry("a negative figure", func(d string) string { return strings.Replace(d, `,"lost_writes":`, `,"lost_writes":-`, 1) }, "never negative"),
		Entry("a seed missing", func(d string) string {
			i := strings.Index(d, "\n        {\"seed\":6,")
			j := strings.Index(d[i+1:], "\n")
			return d[:i] + d[i+1+j:]
		}, ""),
		Entry("an unknown field", func(d string) string { return strings.Replace(d, `"platform"`, `"platfrom"`, 1) }, "unknown field"),
		Entry("another schema", func(d string) string { return strings.Replace(d, sweep.Schema, "chaosdrill.sweep/v1", 1) }, "schema"),
		Entry("a bad verdict", func(d string) string { return strings.Replace(d, `"verdict":"pass"`, `"verdict":"passed"`, 1) }, "verdict"),
		Entry("not JSON", func(d string) string { return d[:len(d)/2] }, "not a sweep.json"),
	)

	It("writes no wall-clock figure", func() {
		data := encode(whole)
		Expect(bytes.Contains(data, []byte("wall"))).To(BeFalse())
		Expect(bytes.Contains(data, []byte("started"))).To(BeFalse())
	})
})

var _ = Describe("a shard file with more shards than seeds", func() {
	It("is refused: a shard without a seed has nothing to merge", func() {
		s := about(5, 3, &sweep.Shard{Index: 4, Count: 4}, nil)
		_, err := sweep.Decode(encode(sweep.Aggregate(s, [][]sweep.Seed{nil}, nil)))
		Expect(err).To(MatchError(ContainSubstring("more shards than seeds")))
	})
})
