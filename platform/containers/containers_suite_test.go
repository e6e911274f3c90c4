package containers

import (
	"os"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestContainers(t *testing.T) {
	// testcontainers reads its configuration once per process, possibly
	// before docker.NewEngine switches its reaper off (the reaper's image
	// cannot be pulled here); the engine removes what it starts itself.
	if err := os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true"); err != nil {
		t.Fatal(err)
	}
	RegisterFailHandler(Fail)
	RunSpecs(t, "Containers Suite")
}
