package scenarios_test

import (
	"path/filepath"
	"testing"

	"github.com/chaosdrill/chaosdrill/scenarios"
)

func TestShowProblems(t *testing.T) {
	files, _ := filepath.Glob("testdata/bad/*.yaml")
	for _, f := range files {
		_, err := scenarios.Load(f, scenarios.WithParameters(knownParameters))
		t.Log(err)
	}
}
