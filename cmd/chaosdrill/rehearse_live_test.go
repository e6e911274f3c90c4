package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform/containers/docker"
	"github.com/chaosdrill/chaosdrill/reports"
)

// lockedBuffer is a command's standard output read while it runs.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// A rehearsal on --platform containers, on the S3 stand-in: the engineer
// (this spec, through the command's standard input) reads the instructions,
// checks the west bucket at the address the harness printed (the host port
// Docker mapped for the run's own container), says it began, and switches
// the clients; the harness sees the step done when a put succeeds against
// the west bucket.
var _ = Describe("a rehearsal on containers with the S3 stand-in", Ordered, Label("docker"), func() {
	var image string

	BeforeAll(func(ctx SpecContext) {
		if err := docker.IsReachable(ctx); err != nil {
			Skip(fmt.Sprintf("Docker is not reachable, so no live rehearsal can be made here: %v", err))
		}
		var err error
		image, err = docker.BuildS3StandinImage(ctx)
		Expect(err).NotTo(HaveOccurred())
		GinkgoT().Setenv(pullVariable, "never")
	}, NodeTimeout(5*time.Minute))

	It("tells the engineer the mapped west endpoint, times them, and sees the step done at the first put the west bucket acknowledges", func(ctx SpecContext) {
		history := filepath.Join(GinkgoT().TempDir(), "rehearsals")
		const prefix = "artifacts-rehearsal-short-1-"
		input, typed := io.Pipe()
		var stdout lockedBuffer
		var stderr bytes.Buffer
		done := make(chan int, 1)
		stopWatching := watchOwnRuns(ctx, prefix)
		DeferCleanup(func() { stopWatching() })
		go func() {
			defer GinkgoRecover()
			runCtx := context.WithValue(ctx, stdinKey{}, io.Reader(input))
			done <- executeContext(runCtx, []string{"rehearse", testdata("artifacts-rehearsal-short.yaml"), "--platform", "containers",
				"--image", "s3=" + image, "--seed", "1", "--history", history}, &stdout, &stderr)
		}()
		defer typed.Close()

		endpoint := regexp.MustCompile(`head-bucket --bucket (\S+) --endpoint-url (http://\S+)`)
		var found []string
		Eventually(func() []string {
			found = endpoint.FindStringSubmatch(stdout.String())
			return found
		}).WithTimeout(3*time.Minute).WithPolling(100*time.Millisecond).ShouldNot(BeEmpty(), "the step falls due with its instructions")
		Expect(stdout.String()).To(ContainSubstring("DUE artifacts-to-west"))
		bucket, url := found[1], found[2]
		Expect(url).NotTo(ContainSubstring("<"), "a real address, not a placeholder")

		// The engineer's check, as the instructions say, against the run's
		// own west endpoint: the bucket is there.
		_, err := typed.Write([]byte("begin artifacts-to-west\n"))
		Expect(err).NotTo(HaveOccurred())
		head, err := http.NewRequestWithContext(ctx, http.MethodHead, url+"/"+bucket, nil)
		Expect(err).NotTo(HaveOccurred())
		answer, err := http.DefaultClient.Do(head)
		Expect(err).NotTo(HaveOccurred())
		answer.Body.Close()
		Expect(answer.StatusCode).To(Equal(http.StatusOK), "HEAD %s/%s", url, bucket)
		time.Sleep(time.Second)
		_, err = typed.Write([]byte("artifacts.failover region=us-west-1\n"))
		Expect(err).NotTo(HaveOccurred())
		typed.Close()

		var code int
		Eventually(done).WithTimeout(3 * time.Minute).Should(Receive(&code))
		DeferCleanup(func() {
			if CurrentSpecReport().Failed() {
				fmt.Fprintf(GinkgoWriter, "exit %d\nstdout:\n%s\nstderr:\n%s\n", code, stdout.String(), stderr.String())
			}
		})
		Expect(code).To(Equal(exitPass), stdout.String()+stderr.String())
		rep, folder := rehearsalIn(history)
		Expect(rep.Platform).To(Equal("containers"))
		Expect(rep.Rehearsal.Speed).To(Equal(1.0))
		Expect(filepath.Join(history, folder, reports.FileMarkdown)).To(BeAnExistingFile())

		step := stepTiming(rep, "artifacts-to-west")
		Expect(step.PerformedBy).To(Equal(reports.ByEngineer))
		Expect(*step.TriggeredAt).To(Equal(*rep.Faults[0].At), "due when the region went")
		Expect(*step.ReactionSeconds).To(BeNumerically(">=", 0))
		Expect(step.Attempts).To(HaveLen(1))
		Expect(*step.BegunAt).To(BeNumerically("<=", step.Attempts[0].At), "begun before the switch, a second later")
		Expect(step.Seen).To(ContainSubstring("a write succeeded against the us-west-1 bucket (s3-us-west-1)"))
		// The step's done state is the outage's end: the RTO is the time
		// from the fault to that first put the west bucket acknowledged.
		artifacts := rep.Services["artifacts"]
		Expect(artifacts.RTO).NotTo(BeNil())
		Expect(*artifacts.RTO).To(BeNumerically(">=", step.Attempts[0].At-*rep.Faults[0].At))
		Expect(*artifacts.RTO).To(BeNumerically("~", *step.ToDoneSeconds, 0.25))
		runs := stopWatching()
		Expect(runs).To(HaveLen(1), "one run, with its containers")
		Expect(leftBehindOf(ctx, slices.Collect(maps.Keys(runs)))).To(BeEmpty())
	}, NodeTimeout(6*time.Minute))
})
