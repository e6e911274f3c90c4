package scenarios_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chaosdrill/chaosdrill/scenarios"
	"github.com/chaosdrill/chaosdrill/simulator"
)

// FuzzParse checks that any input either loads or is reported as bad
// input with positioned problems; it never panics or fails otherwise. Each
// input is parsed twice: alone, and with the simulator's parameters and a
// platform's node naming, which adds the range and naming checks.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.yaml")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		// The alias bomb is refused in a fraction of a second, but under
		// the fuzzer's instrumentation every mutation of it would take
		// seconds and starve the search; a spec covers it.
		if len(data) > 16<<10 {
			continue
		}
		f.Add(data)
	}
	f.Add([]byte("# only a comment\n"))
	f.Add([]byte("---\n"))
	f.Add([]byte("name: t\ntopology: ion\nduration: 1m\nparameters: {mongo.election_timeout: 0s, logs.bulk_size: -5}\nworkloads: [{service: mongo, rate: 1e-10}]\n"))
	withPlatform := []scenarios.Option{
		scenarios.WithParameters(simulator.Parameters()),
		scenarios.WithNodeNames(strings.ToLower),
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, opts := range [][]scenarios.Option{nil, withPlatform} {
			s, err := scenarios.Parse("fuzz.yaml", data, opts...)
			if err == nil {
				if s == nil || s.Topology.Resolved == nil {
					t.Fatalf("loaded without a resolved topology: %+v", s)
				}
				if scenarios.CheckName(s.Name) != nil {
					t.Fatalf("loaded with a name outside the naming rule: %q", s.Name)
				}
				continue
			}
			var bad *scenarios.Error
			if !errors.As(err, &bad) || len(bad.Problems) == 0 {
				t.Fatalf("want a *scenarios.Error with problems, got %v", err)
			}
			if len(bad.Problems) > scenarios.MaxProblems+1 {
				t.Fatalf("%d problems listed, over the cap", len(bad.Problems))
			}
			for _, p := range bad.Problems {
				if p.Line < 1 || p.Message == "" {
					t.Fatalf("problem without a line or message: %+v", p)
				}
			}
		}
	})
}
