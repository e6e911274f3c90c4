package sweep_test

import (
	"bytes"
	"math"
	"math/rand/v2"
	"time"

	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/reports"
	"github.com/chaosdrill/chaosdrill/scenarios"
	"github.com/chaosdrill/chaosdrill/sweep"
)

const testSHA = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// syntheticSeeds makes n seeds of two services whose figures vary with
// the seed, with now and then a seed that did not pass, a service that
// never recovered and one that was not measured.
func syntheticSeeds(from uint64, n int, salt uint64) []sweep.Seed {
	out := make([]sweep.Seed, n)
	for i := range out {
		seed := from + uint64(i)
		r := rand.New(rand.NewPCG(seed, salt))
		s := sweep.Seed{Seed: seed, Verdict: reports.VerdictPass, Services: make([]sweep.ServiceSeed, 2)}
		for k := range s.Services {
			f := sweep.Figures{10 + 100*r.Float64(), r.Float64(), float64(r.IntN(20)), float64(r.IntN(5)), 1 + r.Float64(), 5 + 10*r.Float64()}
			s.Services[k] = sweep.ServiceSeed{Figures: f}
		}
		switch {
		case seed%7 == 0:
			s.Verdict = reports.VerdictFail
			s.Services[0].Figures[0] = math.Inf(1)
			s.Unmet = map[string]string{"a: recovers": reports.VerdictFail}
		case seed%11 == 0:
			s.Verdict = reports.VerdictNotRehearsed
			s.Unmet = map[string]string{"fault f rehearsed": reports.VerdictNotRehearsed}
			for m := range s.Services[1].Figures {
				s.Services[1].Figures[m] = math.NaN()
			}
			s.Services[1].Unmeasured = sweep.UnmeasuredNotRehearsed
		}
		out[i] = s
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// about describes a synthetic sweep of seeds from..from+n-1.
func about(from, n uint64, shard *sweep.Shard, vary *sweep.Vary) sweep.Sweep {
	rto := ptr(platform.Duration(90 * time.Second))
	return sweep.Sweep{Scenario: "synthetic", ScenarioSHA256: testSHA, Platform: "sim", Version: "test", From: from, Seeds: n,
		Shard: shard, Vary: vary, Services: []string{"a", "b"}, Checks: []string{"a: recovers", "a: rto <= 1m30s"},
		Gates: []scenarios.Gate{
			{Service: "a", RTOMax: rto, Quantile: ptr(0.9)},
			{Service: "b", LostWritesMax: ptr(15), AtLeast: ptr(0.5)},
			{Verdict: scenarios.GateVerdictPass, AtLeast: ptr(0.8)},
		}}
}

func encode(r *sweep.Result) []byte {
	var b bytes.Buffer
	ExpectWithOffset(1, r.Encode(&b)).To(Succeed())
	return b.Bytes()
}

// shardOf keeps the seeds of shard i/n (offsets from from).
func shardOf(seeds []sweep.Seed, from uint64, shard *sweep.Shard) []sweep.Seed {
	var out []sweep.Seed
	for _, s := range seeds {
		if sweep.InShard(shard, s.Seed-from) {
			out = append(out, s)
		}
	}
	return out
}

func platformSeconds(s float64) platform.Duration {
	return platform.Duration(time.Duration(s * float64(time.Second)).Round(time.Millisecond))
}
