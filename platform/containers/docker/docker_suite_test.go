package docker

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

func TestDocker(t *testing.T) {
	if runID := os.Getenv(abandonedRunVariable); runID != "" {
		abandonRun(runID, os.Getenv(abandonedImageVariable))
	}
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

// A harness that dies mid-run, for the Cleanup specs: the test binary run
// again with these variables starts a run of two stand-in nodes (one
// paused), says "ready" and waits to be killed.
const (
	abandonedRunVariable   = "CHAOSDRILL_TEST_ABANDONED_RUN"
	abandonedImageVariable = "CHAOSDRILL_TEST_ABANDONED_IMAGE"
)

func abandonRun(runID, image string) {
	ctx := context.Background()
	_ = os.Setenv(ryukDisabledVariable, "true")
	e, err := NewEngine(ctx, runID, WithoutPull())
	if err == nil {
		err = e.StartNodes(ctx, []NodeSpec{
			StandinSpec(image, "left-1", "us-east-1", "us-east-1a"),
			StandinSpec(image, "left-2", "us-west-1", "us-west-1a"),
		})
	}
	if err == nil {
		_, err = e.Pause(ctx, "left-2")
	}
	if err != nil {
		fmt.Println("error:", err)
		if e != nil {
			_ = e.Close(ctx)
		}
		os.Exit(1)
	}
	fmt.Println("ready")
	// Keep the process alive until the spec kills it; a timer that never
	// fires in a spec's lifetime bounds it should the spec die first.
	time.Sleep(10 * time.Minute)
	_ = e.Close(ctx)
	os.Exit(0)
}

// startAbandonedRun starts that harness as a process of its own and waits
// for its run to be up; the caller kills it.
func startAbandonedRun(ctx context.Context, runID string) *os.Process {
	GinkgoHelper()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestDocker$")
	cmd.Env = append(os.Environ(), abandonedRunVariable+"="+runID, abandonedImageVariable+"="+standinImage)
	out, err := cmd.StdoutPipe()
	Expect(err).NotTo(HaveOccurred())
	cmd.Stderr = GinkgoWriter
	Expect(cmd.Start()).To(Succeed())
	DeferCleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if lines.Text() == "ready" {
			go func() { _, _ = io.Copy(io.Discard, out) }()
			return cmd.Process
		}
		GinkgoWriter.Println(lines.Text())
	}
	Fail("the abandoned harness ended before its run was up")
	return nil
}
