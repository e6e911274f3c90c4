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
// users' nightly CI runs (.github/workflows/live.yml), as root, since the
// network faults and the topology's link latencies enter the containers'
// network namespaces:
//
//	go test -c -o live.test ./platform/containers
//	cd platform/containers && sudo -E ../../live.test -ginkgo.label-filter=live -ginkgo.v
//
// It honours CHAOSDRILL_IMAGES (images from any registry) and
// CHAOSDRILL_MEMORY_PROFILE (small for runners under 8 GiB). Where the
// images are neither present nor pullable (no registry) every spec skips,
// naming all of them; where network faults cannot be applied every spec
// says so before it starts anything.

// Environment variables of the live suite.
const (
	// liveReportsVariable names the folder each scenario's reports are
	// written to (one subfolder per scenario); default: a temporary folder.
	liveReportsVariable = "CHAOSDRILL_REPORTS"
	// livePullVariable, set to 1, lets the suite pull missing images.
	livePullVariable = "CHAOSDRILL_LIVE_PULL"
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

// liveOptions are the platform options of the live suite, from the
// environment as the CLI reads it.
func liveOptions() ([]Option, error) {
	images, err := ImagesFromEnvironment()
	if err != nil {
		return nil, err
	}
	profile, err := MemoryProfileNamed(os.Getenv(MemoryProfileVariable))
	if err != nil {
		return nil, err
	}
	return []Option{WithImages(images), WithMemoryProfile(profile)}, nil
}

var liveImages = struct {
	once    sync.Once
	missing error // why the images are not usable; nil when they are
}{}

// imagesUsable checks once per process that the live images are present,
// pulling missing ones only when CHAOSDRILL_LIVE_PULL=1, and names every
// image it does not have.
func imagesUsable(ctx context.Context) error {
	liveImages.once.Do(func() {
		if err := docker.IsReachable(ctx); err != nil {
			liveImages.missing = err
			return
		}
		opts, err := liveOptions()
		if err != nil {
			liveImages.missing = err
			return
		}
		o := defaultOptions()
		for _, opt := range opts {
			opt(&o)
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
		pullAllowed := os.Getenv(livePullVariable) == "1"
		var missing []string
		var firstErr error
		for _, image := range o.images.List() {
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
			liveImages.missing = fmt.Errorf("the live images are not on this Docker engine (%s) and can't be pulled here: pre-pull them (docker pull) as the workflow does, set %s=1 where a registry is reachable, or name others with %s", strings.Join(missing, ", "), livePullVariable, ImagesVariable)
		case len(missing) > 0:
			liveImages.missing = fmt.Errorf("the live images can't be pulled here (%s): %w", strings.Join(missing, ", "), firstErr)
		}
	})
	return liveImages.missing
}

var liveNetwork = struct {
	once     sync.Once
	problem  error
	reported bool
}{}

// networkUsable checks once that the network faults and link latencies can
// be applied, so that the suite says so before any scenario starts rather
// than in the middle of one. The first spec fails with the reason, the
// others skip pointing at it.
func networkUsable(ctx context.Context) {
	liveNetwork.once.Do(func() { liveNetwork.problem = docker.NetworkFaultsUsable(ctx) })
	if liveNetwork.problem == nil {
		return
	}
	if liveNetwork.reported {
		Skip("network faults cannot be applied here (see the first spec's failure)")
	}
	liveNetwork.reported = true
	Fail(fmt.Sprintf("the live suite needs the network faults, for the partition scenarios and for every scenario's link latencies, and %v; run the test binary under sudo -E as .github/workflows/live.yml does", liveNetwork.problem))
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
		networkUsable(ctx)
	}, NodeTimeout(livePullTimeout+time.Minute))

	for _, path := range scenarioLibrary() {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		It("passes "+name, func(ctx SpecContext) {
			sc, err := scenarios.Load(path)
			Expect(err).NotTo(HaveOccurred())
			opts, err := liveOptions()
			Expect(err).NotTo(HaveOccurred())
			runID := fmt.Sprintf("live-%d-%s", os.Getpid(), name)
			runCtx, cancel := context.WithTimeout(ctx, sc.Duration.D()+liveMargin)
			defer cancel()
			DeferCleanup(func(ctx SpecContext) {
				expectNothingLeft(ctx, runID)
			})

			report, err := runner.Run(runCtx, sc, func(cfg platform.Config) (platform.Platform, error) {
				return New(cfg, opts...)
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
