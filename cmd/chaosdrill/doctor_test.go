package main

import (
	"context"
	"fmt"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform/containers"
	"github.com/chaosdrill/chaosdrill/platform/containers/docker"
)

// These machines have a Docker engine but no registry, so the live images
// are never present here: doctor must block and name them. Nothing here
// pulls (doctor never does; run is told CHAOSDRILL_PULL=never).
var _ = Describe("chaosdrill doctor", func() {
	defaults := containers.DefaultImages().List()

	It("exits 3 and names all three images when none is present", func() {
		code, stdout, stderr := chaosdrill(GinkgoT().TempDir(), "doctor")
		Expect(code).To(Equal(exitEnvironment), stdout+stderr)
		for _, image := range defaults {
			Expect(stdout).To(ContainSubstring(image), "doctor must name %s", image)
		}
		Expect(stdout).To(MatchRegexp(`(?m)^BLOCKS`))
		Expect(stderr).To(ContainSubstring("block a live run"))
	})

	It("says what to do about each missing image", func() {
		_, stdout, _ := chaosdrill(GinkgoT().TempDir(), "doctor")
		if strings.Contains(stdout, "Docker is not reachable") {
			Skip("Docker is not reachable here, so the images were not looked at")
		}
		Expect(stdout).To(ContainSubstring("do: docker pull " + containers.DefaultMongoImage))
		Expect(stdout).To(ContainSubstring("--image mongo=REF"))
	})

	It("asks for the image --image names, from any registry", func() {
		code, stdout, _ := chaosdrill(GinkgoT().TempDir(), "doctor", "--image", "mongo=example.invalid/mongo:8.0")
		Expect(code).To(Equal(exitEnvironment))
		Expect(stdout).To(ContainSubstring("example.invalid/mongo:8.0"))
		Expect(stdout).NotTo(ContainSubstring("image " + containers.DefaultMongoImage + " "))
	})

	It("takes images from CHAOSDRILL_IMAGES, and --image over them", func() {
		GinkgoT().Setenv(containers.ImagesVariable, "mongo=env.example/mongo:7.0,s3=env.example/localstack:4.14.0")
		_, stdout, _ := chaosdrill(GinkgoT().TempDir(), "doctor", "--image", "mongo=flag.example/mongo:8.0")
		Expect(stdout).To(ContainSubstring("flag.example/mongo:8.0"))
		Expect(stdout).To(ContainSubstring("env.example/localstack:4.14.0"))
		Expect(stdout).NotTo(ContainSubstring("env.example/mongo:7.0"))
	})

	It("checks only the services the scenario uses: an Elasticsearch-only scenario needs no Mongo image", func() {
		code, stdout, _ := chaosdrill(GinkgoT().TempDir(), "doctor", library("es-node-kill"))
		Expect(code).To(Equal(exitEnvironment))
		Expect(stdout).To(ContainSubstring(containers.DefaultElasticImage))
		Expect(stdout).To(ContainSubstring(containers.DefaultLocalStackImage), "the cluster snapshots to S3")
		Expect(stdout).NotTo(ContainSubstring(containers.DefaultMongoImage))
	})

	It("reports the memory the containers need against the Docker host's", func() {
		_, stdout, _ := chaosdrill(GinkgoT().TempDir(), "doctor")
		if strings.Contains(stdout, "Docker is not reachable") {
			Skip("Docker is not reachable here")
		}
		Expect(stdout).To(ContainSubstring("limits add up to 7.75 GiB"))
		GinkgoT().Setenv(containers.MemoryProfileVariable, "small")
		_, stdout, _ = chaosdrill(GinkgoT().TempDir(), "doctor")
		Expect(stdout).To(ContainSubstring("limits add up to 4.50 GiB"))
	})

	It("refuses bad input with exit 2", func() {
		code, _, stderr := chaosdrill(GinkgoT().TempDir(), "doctor", "--image", "mongodb=mongo:8.0")
		Expect(code).To(Equal(exitBadInput))
		Expect(stderr).To(ContainSubstring(`no service kind "mongodb"`))
		GinkgoT().Setenv(containers.MemoryProfileVariable, "huge")
		code, _, _ = chaosdrill(GinkgoT().TempDir(), "doctor")
		Expect(code).To(Equal(exitBadInput))
	})

	It("has nothing to check for the simulator", func() {
		code, stdout, _ := chaosdrill(GinkgoT().TempDir(), "doctor", "--platform", "sim")
		Expect(code).To(Equal(exitPass))
		Expect(stdout).To(HavePrefix("ok"))
	})
})

var _ = Describe("chaosdrill run --platform containers with images that are not here", func() {
	BeforeEach(func(ctx SpecContext) {
		if err := docker.IsReachable(ctx); err != nil {
			Skip(fmt.Sprintf("Docker is not reachable: %v", err))
		}
		GinkgoT().Setenv(pullVariable, "never")
	})

	It("exits 3 naming every missing image, including the one --image asked for, and leaves nothing", func(ctx SpecContext) {
		code, _, stderr := chaosdrill(GinkgoT().TempDir(), "run", library("az-outage"), "--platform", "containers", "-q",
			"--image", "mongo=example.invalid/mongo:8.0")
		Expect(code).To(Equal(exitEnvironment), stderr)
		Expect(stderr).To(ContainSubstring("example.invalid/mongo:8.0"))
		Expect(stderr).To(ContainSubstring(containers.DefaultElasticImage))
		Expect(stderr).To(ContainSubstring(containers.DefaultLocalStackImage))
		// Only this run's resources: a cleanup of every chaosdrill run would
		// remove the containers of runs going on beside it (other test
		// packages, other users of this Docker engine).
		Expect(leftBehind(context.WithoutCancel(ctx), "az-outage-1-")).To(BeEmpty(), "a run that never started anything left nothing")
	})
})

var _ = Describe("chaosdrill cleanup --run with an id nothing carries", func() {
	It("says no resource carries that run id, and exits 0: there is nothing to clean up", func(ctx SpecContext) {
		if err := docker.IsReachable(ctx); err != nil {
			Skip(fmt.Sprintf("Docker is not reachable: %v", err))
		}
		code, stdout, stderr := chaosdrill(GinkgoT().TempDir(), "cleanup", "--run", "no-such-run-4f1c9e")
		Expect(code).To(Equal(exitPass), stderr)
		Expect(stdout).To(Equal(`nothing to remove: no container, network or volume carries run id "no-such-run-4f1c9e" (label chaosdrill.run)` + "\n"))
	})

	// A script's --run "$ID" with ID unset must not clean up every dead
	// run: refused before Docker is asked anything.
	It("refuses an empty run id", func() {
		code, stdout, stderr := chaosdrill(GinkgoT().TempDir(), "cleanup", "--run", "")
		Expect(code).To(Equal(exitBadInput))
		Expect(stdout).To(BeEmpty())
		Expect(stderr).To(ContainSubstring("--run is empty"))
	})
})
