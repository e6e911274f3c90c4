package containers

import (
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

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/platform/containers/docker"
	"github.com/chaosdrill/chaosdrill/reports"
	"github.com/chaosdrill/chaosdrill/runner"
	"github.com/chaosdrill/chaosdrill/scenarios"
)

// The live suite runs the scenario library on the real images. It is what
// users' nightly CI runs (.github/workflows/live.yml):
//
//	go run github.com/onsi/ginkgo/v2/ginkgo --label-filter=live ./platform/containers/...
//
// Where the images are neither present nor pullable (no registry) every
// spec skips, naming them.

// Environment variables of the live suite.
const (
	// liveReportsVariable names the folder each scenario's reports are
	// written to (one subfolder per scenario); default: a temporary folder.
	liveReportsVariable = "CHAOSDRILL_REPORTS"
	// livePullTimeout bounds pulling the three images (Elasticsearch's is
	// about 700 MB).
	livePullTimeout = 20 * time.Minute
	// liveMargin is what a scenario run may take beyond its duration:
	// bring-up of the real images, read-back, teardown.
	liveMargin = 20 * time.Minute
)

// scenarioLibrary is the scenario files shipped with the project.
func scenarioLibrary() []string {
	paths, _ := filepath.Glob(filepath.Join("..", "..", "scenarios", "*.yaml"))
	return paths
}

var liveImages = struct {
	once    sync.Once
	missing error // why the images are not usable; nil when they are
}{}

// imagesUsable checks once per process that the live images are present,
// pulling missing ones only when CHAOSDRILL_LIVE_PULL=1.
func imagesUsable(ctx context.Context) error {
	liveImages.once.Do(func() {
		if err := docker.IsReachable(ctx); err != nil {
			liveImages.missing = err
			return
		}
		images, err := dockerClientE(ctx)
		if err != nil {
			liveImages.missing = err
			return
		}
		defer images.Close()
		ctx, cancel := context.WithTimeout(ctx, livePullTimeout)
		defer cancel()
		// Pulling is opt-in: where no registry answers, a pull attempt
		// would only send the daemon looking for one.
		pullAllowed := os.Getenv("CHAOSDRILL_LIVE_PULL") == "1"
		var missing []string
		var firstErr error
		for _, image := range DefaultImages().List() {
			if _, err := images.ImageInspect(ctx, image); err == nil {
				continue
			}
			if !pullAllowed {
				missing = append(missing, image)
				continue
			}
			pull, err := images.ImagePull(ctx, image, client.ImagePullOptions{})
			if err == nil {
				err = pull.Wait(ctx)
				_ = pull.Close()
			}
			if err != nil {
				missing = append(missing, image)
				if firstErr == nil {
					firstErr = err
				}
			}
		}
		switch {
		case len(missing) > 0 && !pullAllowed:
			liveImages.missing = fmt.Errorf("the live images are not on this Docker engine (%s) and can't be pulled here: pre-pull them (docker pull) as the workflow does, or set CHAOSDRILL_LIVE_PULL=1 where a registry is reachable", strings.Join(missing, ", "))
		case len(missing) > 0:
			liveImages.missing = fmt.Errorf("the live images can't be pulled here (%s): %w", strings.Join(missing, ", "), firstErr)
		}
	})
	return liveImages.missing
}

var _ = Describe("the scenario library on real containers", Label("live"), func() {
	BeforeEach(func(ctx SpecContext) {
		// A live scenario takes its full duration in wall time (up to 25
		// minutes): it runs only when asked for, not in every `go test`.
		if !Label("live").MatchesLabelFilter(GinkgoLabelFilter()) {
			Skip("live suite skipped: it runs only when selected (make live, or -ginkgo.label-filter=live) on a machine with the real images; .github/workflows/live.yml runs it nightly")
		}
		if err := imagesUsable(ctx); err != nil {
			Skip(fmt.Sprintf("live suite skipped: %v; it runs nightly in .github/workflows/live.yml", err))
		}
	}, NodeTimeout(livePullTimeout+time.Minute))

	for _, path := range scenarioLibrary() {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		It("passes "+name, func(ctx SpecContext) {
			sc, err := scenarios.Load(path)
			Expect(err).NotTo(HaveOccurred())
			runID := fmt.Sprintf("live-%d-%s", os.Getpid(), name)
			runCtx, cancel := context.WithTimeout(ctx, sc.Duration.D()+liveMargin)
			defer cancel()
			DeferCleanup(func(ctx SpecContext) {
				expectNothingLeft(ctx, runID)
			})

			report, err := runner.Run(runCtx, sc, func(cfg platform.Config) (platform.Platform, error) {
				return New(cfg)
			}, runner.Options{RunID: runID, Seed: uint64(GinkgoRandomSeed()), Log: func(format string, args ...any) {
				fmt.Fprintf(GinkgoWriter, format+"\n", args...)
			}})
			Expect(err).NotTo(HaveOccurred())
			Expect(reports.WriteAll(liveReportsFolder(name), report)).To(Succeed())

			Expect(report.Verdict).To(Equal(reports.VerdictPass), "scenario %s: see %s", name, liveReportsFolder(name))
		}, NodeTimeout(6*time.Hour))
	}
})

func liveReportsFolder(scenario string) string {
	root := os.Getenv(liveReportsVariable)
	if root == "" {
		root = filepath.Join(os.TempDir(), "chaosdrill-live")
	}
	return filepath.Join(root, scenario)
}
