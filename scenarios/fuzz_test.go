package scenarios_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/chaosdrill/chaosdrill/scenarios"
)

// FuzzParse checks that any input either loads or is reported as bad
// input with positioned problems; it never panics or fails otherwise.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.yaml")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("# only a comment\n"))
	f.Add([]byte("---\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := scenarios.Parse("fuzz.yaml", data)
		if err == nil {
			if s == nil || s.Topology.Resolved == nil {
				t.Fatalf("loaded without a resolved topology: %+v", s)
			}
			return
		}
		var bad *scenarios.Error
		if !errors.As(err, &bad) || len(bad.Problems) == 0 {
			t.Fatalf("want a *scenarios.Error with problems, got %v", err)
		}
		for _, p := range bad.Problems {
			if p.Line < 1 || p.Message == "" {
				t.Fatalf("problem without a line or message: %+v", p)
			}
		}
	})
}
