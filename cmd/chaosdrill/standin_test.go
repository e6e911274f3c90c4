package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/client"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/testcontainers/testcontainers-go"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/platform/containers/docker"
	"github.com/chaosdrill/chaosdrill/reports"
)

// A whole live run, end to end, on this machine: the CLI runs a scenario on
// --platform containers with the S3 stand-in (gofakes3 behind LocalStack's
// port and health endpoint) in place of LocalStack, so that everything
// above the S3 server is the production code path: bring-up, buckets, puts
// through the adapter, the harness's sync job, a real kill of a region,
// the runbook, the read-back and the four report files. The scenarios are
// short variants of scenarios/artifacts-region-outage.yaml (testdata/),
// about 30 s of wall time each.

// ours reports whether labels mark a resource of a run of this scenario
// (its run id starts with prefix: the CLI names a run
// <scenario>-<seed>-<random>) made by this test process (the owner labels:
// the CLI runs in-process), so that another test process running the same
// spec at the same time is never counted.
func ours(labels map[string]string, prefix string) bool {
	self := docker.CurrentOwner()
	return strings.HasPrefix(labels[docker.LabelRun], prefix) &&
		labels[docker.LabelOwnerHost] == self.Host && labels[docker.LabelOwnerPID] == fmt.Sprint(self.PID)
}

// leftBehind lists what Docker holds labelled chaosdrill.run of this
// process's runs of the scenario whose run ids start with prefix.
func leftBehind(ctx context.Context, prefix string) []string {
	GinkgoHelper()
	c, err := testcontainers.NewDockerClientWithOpts(ctx)
	Expect(err).NotTo(HaveOccurred())
	defer c.Close()
	filter := make(client.Filters).Add("label", docker.LabelRun)
	var found []string
	containers, err := c.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: filter})
	Expect(err).NotTo(HaveOccurred())
	for _, item := range containers.Items {
		if ours(item.Labels, prefix) {
			found = append(found, "container "+strings.Join(item.Names, ","))
		}
	}
	networks, err := c.NetworkList(ctx, client.NetworkListOptions{Filters: filter})
	Expect(err).NotTo(HaveOccurred())
	for _, item := range networks.Items {
		if ours(item.Labels, prefix) {
			found = append(found, "network "+item.Name)
		}
	}
	volumes, err := c.VolumeList(ctx, client.VolumeListOptions{Filters: filter})
	Expect(err).NotTo(HaveOccurred())
	for _, item := range volumes.Items {
		if ours(item.Labels, prefix) {
			found = append(found, "volume "+item.Name)
		}
	}
	return found
}

// leftBehindOf lists what the runs named are left holding.
func leftBehindOf(ctx context.Context, runIDs []string) []string {
	GinkgoHelper()
	var found []string
	for _, id := range runIDs {
		found = append(found, leftBehind(ctx, id)...)
	}
	return found
}

// liveRun is one CLI run on the containers platform, watched from the side:
// how many of its containers Docker held at most while it ran (so that
// "nothing left" afterwards is about containers that did exist), and the
// run ids its containers carried.
type liveRun struct {
	code           int
	stdout, stderr string
	mostContainers int
	runIDs         []string
}

// sessionLabel is the label testcontainers-go puts on every container it
// creates, with the session of the `go test` command that runs this
// process (testcontainers.SessionID): other engineers' test runs on the
// same Docker engine have sessions of their own.
const sessionLabel = "org.testcontainers.sessionId"

// watchOwnRuns polls Docker, until stop, for the containers this test
// process creates under run ids starting with prefix; stop returns the
// most containers each run id held at once. A spec run by several
// engineers at once on one engine shares the prefix, never the session.
func watchOwnRuns(ctx context.Context, prefix string) (stop func() map[string]int) {
	watch, cancel := context.WithCancel(ctx)
	most := map[string]int{}
	var wg sync.WaitGroup
	wg.Go(func() {
		defer GinkgoRecover()
		c, err := testcontainers.NewDockerClientWithOpts(watch)
		if err != nil {
			return
		}
		defer c.Close()
		filter := make(client.Filters).Add("label", docker.LabelRun).Add("label", sessionLabel+"="+testcontainers.SessionID())
		for watch.Err() == nil {
			listed, err := c.ContainerList(watch, client.ContainerListOptions{Filters: filter})
			if err == nil {
				now := map[string]int{}
				for _, item := range listed.Items {
					if id := item.Labels[docker.LabelRun]; ours(item.Labels, prefix) {
						now[id]++
					}
				}
				for id, n := range now {
					most[id] = max(most[id], n)
				}
			}
			select {
			case <-watch.Done():
			case <-time.After(250 * time.Millisecond):
			}
		}
	})
	return func() map[string]int {
		cancel()
		wg.Wait()
		return most
	}
}

// runWatched runs the CLI with args and watches its containers meanwhile
// (those of this process with a run id that starts with prefix).
func runWatched(ctx context.Context, prefix string, args ...string) liveRun {
	GinkgoHelper()
	stop := watchOwnRuns(ctx, prefix)
	var stdout, stderr bytes.Buffer
	code := execute(args, &stdout, &stderr)
	run := liveRun{code: code, stdout: stdout.String(), stderr: stderr.String()}
	for id, n := range stop() {
		run.runIDs = append(run.runIDs, id)
		run.mostContainers = max(run.mostContainers, n)
	}
	return run
}

// showOnFailure prints a run's report.json and output when the spec fails:
// a live run is not reproduced exactly, so its failure is read from these.
func showOnFailure(out string, run *liveRun) {
	DeferCleanup(func() {
		if !CurrentSpecReport().Failed() {
			return
		}
		report, _ := os.ReadFile(filepath.Join(out, reports.FileJSON))
		fmt.Fprintf(GinkgoWriter, "exit %d\nstdout:\n%s\nstderr:\n%s\nreport.json:\n%s\n", run.code, run.stdout, run.stderr, report)
	})
}

func testdata(name string) string {
	GinkgoHelper()
	path, err := filepath.Abs(filepath.Join("testdata", name))
	Expect(err).NotTo(HaveOccurred())
	return path
}

func eventsNamed(rep *reports.Report, what string) []reports.EventReport {
	var out []reports.EventReport
	for _, e := range rep.Events {
		if e.What == what {
			out = append(out, e)
		}
	}
	return out
}

var _ = Describe("a live run on the S3 stand-in", Ordered, Label("docker"), func() {
	var image string

	BeforeAll(func(ctx SpecContext) {
		if err := docker.IsReachable(ctx); err != nil {
			Skip(fmt.Sprintf("Docker is not reachable, so no live run can be made here: %v", err))
		}
		var err error
		// The image `make standins` builds, under the name of its binary's
		// hash: a concurrent `make standins` cannot move it.
		image, err = docker.BuildS3StandinImage(ctx)
		Expect(err).NotTo(HaveOccurred())
		// Never pull: the image was just built here.
		GinkgoT().Setenv(pullVariable, "never")
	}, NodeTimeout(5*time.Minute))

	It("runs the region outage on containers and writes the same four report files as the simulator, with the images that ran", func(ctx SpecContext) {
		out := GinkgoT().TempDir()
		const prefix = "artifacts-outage-short-1-"
		run := runWatched(ctx, prefix, "run", testdata("artifacts-outage-short.yaml"), "--platform", "containers",
			"--image", "s3="+image, "--seed", "1", "--out", out, "--quiet")
		showOnFailure(out, &run)
		Expect(run.code).To(Equal(exitPass), run.stdout+run.stderr)
		for _, f := range []string{reports.FileJSON, reports.FileJUnit, reports.FileMarkdown, reports.FileHTML} {
			Expect(filepath.Join(out, f)).To(BeAnExistingFile())
		}
		rep, err := reports.Read(filepath.Join(out, reports.FileJSON))
		Expect(err).NotTo(HaveOccurred())
		Expect(rep.Platform).To(Equal("containers"))
		Expect(rep.Images).To(Equal(map[string]string{platform.KindS3: image}), "the report says which images ran")
		markdown, err := os.ReadFile(filepath.Join(out, reports.FileMarkdown))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(markdown)).To(ContainSubstring("Images: s3 " + image))

		artifacts := rep.Services["artifacts"]
		Expect(artifacts).NotTo(BeNil())
		Expect(artifacts.Acked).To(BeNumerically(">", 100))
		Expect(artifacts.ReadBack).To(Equal(reports.ReadBackComplete))

		// The region fault happened for real: Docker recorded the east
		// endpoint's exit after the runner issued the kill.
		Expect(rep.Faults).To(HaveLen(1))
		Expect(rep.Faults[0].Status).To(Equal(reports.StatusRehearsed))
		Expect(rep.Faults[0].Nodes).To(Equal([]string{"s3-us-east-1"}))
		faultAt := *rep.Faults[0].At
		Expect(artifacts.FaultAt).To(HaveValue(Equal(faultAt)))
		down := eventsNamed(rep, platform.EventNodeDown)
		Expect(down).To(HaveLen(1))
		Expect(down[0].Node).To(Equal("s3-us-east-1"))
		Expect(down[0].At).To(BeNumerically(">=", faultAt))

		// The failover: the runbook step ran, the clients moved west, and
		// no write succeeded between the fault and the failover.
		Expect(rep.Runbook).To(HaveLen(1))
		step := rep.Runbook[0]
		Expect(step.Status).To(Equal(reports.StatusDone))
		Expect(eventsNamed(rep, platform.EventEndpointFailedOver)).To(ConsistOf(HaveField("Detail", "us-west-1")))
		Expect(artifacts.RTO).NotTo(BeNil())
		Expect(*artifacts.RTO).To(BeNumerically(">=", *step.StartedAt-faultAt))

		// The RPO: what the sync had not copied when the region went.
		// Every lost write was acknowledged by the east endpoint before
		// Docker saw it exit, and after the sync pass before the last one
		// ended (a pass copies everything stored when it lists the
		// bucket, and passes do not overlap).
		Expect(artifacts.Lost).To(BeNumerically(">=", 1))
		Expect(artifacts.LostWrites).To(HaveLen(int(artifacts.Lost)))
		var syncs []float64
		for _, e := range eventsNamed(rep, platform.EventSyncCompleted) {
			if e.At < faultAt {
				syncs = append(syncs, e.At)
			}
		}
		Expect(len(syncs)).To(BeNumerically(">=", 2), "a sync every 5 s before the fault at 14 s")
		oldest, newest := artifacts.LostWrites[0].AckedAt, faultAt
		for _, w := range artifacts.LostWrites {
			Expect(w.AckedAt).To(BeNumerically("<", down[0].At), "op %d acknowledged after its endpoint died", w.Op)
			Expect(w.AckedAt).To(BeNumerically(">", syncs[len(syncs)-2]), "op %d was stored before a completed pass listed the bucket", w.Op)
			oldest, newest = min(oldest, w.AckedAt), max(newest, w.AckedAt)
		}
		// The span lost runs on past the fault for the puts the east
		// endpoint acknowledged between the kill's issue and Docker's act.
		Expect(artifacts.RPO).To(BeNumerically("~", newest-oldest, 1e-5))
		Expect(artifacts.LastSyncAge).To(HaveValue(BeNumerically("~", faultAt-syncs[len(syncs)-1], 1e-5)))

		Expect(run.runIDs).To(HaveLen(1), "one run")
		Expect(run.mostContainers).To(Equal(2), "one S3 endpoint per region ran")
		Expect(leftBehindOf(ctx, run.runIDs)).To(BeEmpty())
	}, NodeTimeout(4*time.Minute))

	It("ends a failover to the lost region with exit 1 and every report file: the step failed, the artifacts unverified", func(ctx SpecContext) {
		out := GinkgoT().TempDir()
		const prefix = "artifacts-failover-to-lost-region-1-"
		run := runWatched(ctx, prefix, "run", testdata("artifacts-failover-to-lost-region.yaml"), "--platform", "containers",
			"--image", "s3="+image, "--seed", "1", "--out", out)
		showOnFailure(out, &run)
		Expect(run.code).To(Equal(exitFail), run.stdout+run.stderr)
		// Not a terminal: the progress line is a plain line, the first
		// one a second of scenario time in.
		Expect(run.stderr).To(MatchRegexp(`(?m)^\d+s elapsed · scenario 1s of \d+s · ops: artifacts \d+ · faults: none · next: artifacts-to-lost-region \(waiting for its trigger\)$`))
		Expect(run.stdout).To(ContainSubstring("--image s3="+image), "the line that reproduces the run names the image")
		expectFailoverToLostRegion(out)

		Expect(run.runIDs).To(HaveLen(1), "one run")
		Expect(run.mostContainers).To(Equal(2), "one S3 endpoint per region ran")
		Expect(leftBehindOf(ctx, run.runIDs)).To(BeEmpty())
	}, NodeTimeout(4*time.Minute))
})
