package docker

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestDocker(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Docker mechanics suite")
}

var (
	standinImage string
	dockerReady  bool
	runsMu       sync.Mutex
	runsStarted  []string
)

var _ = BeforeSuite(func(ctx SpecContext) {
	if err := os.Setenv(ryukDisabledVariable, "true"); err != nil {
		Fail(err.Error())
	}
	if err := IsReachable(ctx); err != nil {
		Skip(fmt.Sprintf("Docker is not reachable, so the Docker mechanics cannot be tested here: %v", err))
	}
	dockerReady = true
	image, err := BuildStandinImage(ctx)
	Expect(err).NotTo(HaveOccurred())
	standinImage = image
}, NodeTimeout(3*time.Minute))

// newRunID is unique per spec and per test process, so that other suites
// using Docker at the same time are never touched.
func newRunID(name string) string {
	runsMu.Lock()
	defer runsMu.Unlock()
	id := fmt.Sprintf("test-%d-%d-%s", os.Getpid(), len(runsStarted), name)
	runsStarted = append(runsStarted, id)
	return id
}

func rawDocker(ctx context.Context) *client.Client {
	docker, err := connect(ctx)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(docker.Close)
	return docker.Client
}

// leftovers counts containers and networks labelled with runID.
func leftovers(ctx context.Context, runID string) (containers, networks int) {
	docker := rawDocker(ctx)
	listed, err := docker.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: runFilter(runID)})
	Expect(err).NotTo(HaveOccurred())
	nets, err := docker.NetworkList(ctx, client.NetworkListOptions{Filters: runFilter(runID)})
	Expect(err).NotTo(HaveOccurred())
	return len(listed.Items), len(nets.Items)
}

func expectNothingLeft(ctx context.Context) {
	runsMu.Lock()
	ids := append([]string(nil), runsStarted...)
	runsMu.Unlock()
	for _, id := range ids {
		containers, networks := leftovers(ctx, id)
		Expect(containers).To(BeZero(), "containers labelled %s=%s left behind", LabelRun, id)
		Expect(networks).To(BeZero(), "networks labelled %s=%s left behind", LabelRun, id)
	}
}

var _ = AfterSuite(func(ctx SpecContext) {
	if dockerReady {
		expectNothingLeft(ctx)
	}
})
