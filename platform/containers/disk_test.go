package containers

import (
	"fmt"
	"os"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/platform/containers/docker"
)

// mountsOf lists the host's mount points of run runID's data volumes.
func mountsOf(runID string) []string {
	GinkgoHelper()
	mounts, err := os.ReadFile("/proc/self/mounts")
	Expect(err).NotTo(HaveOccurred())
	var out []string
	for _, line := range strings.Split(string(mounts), "\n") {
		if fields := strings.Fields(line); len(fields) > 1 && strings.Contains(fields[1], "chaosdrill-disk-"+runID) {
			out = append(out, fields[1])
		}
	}
	return out
}

var _ = Describe("disk faults through the platform, on stand-ins", Ordered, Label("docker"), func() {
	var (
		runID string
		sink  *recorder
		p     *Platform
	)
	BeforeAll(func(ctx SpecContext) {
		if err := docker.IsReachable(ctx); err != nil {
			Skip(fmt.Sprintf("Docker is not reachable: %v", err))
		}
		if err := docker.DiskFaultsUsable(ctx); err != nil {
			Skip(err.Error())
		}
		image, err := docker.BuildStandinImage(ctx)
		Expect(err).NotTo(HaveOccurred())
		runID = testRunID("disk")
		topology := &platform.Topology{Name: "disk", Regions: []platform.Region{{Name: "r1", Zones: []string{"r1a", "r1b"}}},
			Services: []platform.ServiceSpec{{Name: "logs", Kind: platform.KindElastic, Shards: 1,
				Nodes: []platform.NodePlacement{{Name: "es-1", Zone: "r1a"}, {Name: "es-2", Zone: "r1b"}}}}}
		sink = &recorder{}
		p, err = New(platform.Config{RunID: runID, Topology: topology, Completions: sink, Events: sink,
			Workloads: []platform.WorkloadConfig{{Service: "logs"}}, DiskNodes: []string{"es-1"}},
			WithStandinImage(image), WithoutPull())
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) {
			Expect(p.Close()).To(Succeed())
			expectNothingLeft(ctx, runID)
			Expect(mountsOf(runID)).To(BeEmpty(), "a data volume left mounted")
		})
		Expect(p.Start(ctx)).To(Succeed())
	}, NodeTimeout(3*time.Minute))

	It("gives a data volume to the nodes a disk fault may hit, and only to them", func() {
		Expect(mountsOf(runID)).To(HaveLen(2), "es-1's tmpfs and the FUSE mount over it")
	})

	It("fills a node's volume for real and heals it, reporting both on the loop", func(ctx SpecContext) {
		disks := p.Faults().(platform.DiskFaults)
		Expect(disks.FillDisk(ctx, "es-1")).To(Succeed())
		runUntil(ctx, p, func() bool { return sink.saw(platform.EventDiskFaulted, "es-1") })
		full, err := docker.StandinDiskWrite(ctx, p.engine, "es-1", standinDataDir+"/f", 4096)
		Expect(err).NotTo(HaveOccurred())
		Expect(full.Error).To(ContainSubstring("no space left on device"))

		Expect(disks.HealDisk(ctx, "es-1")).To(Succeed())
		runUntil(ctx, p, func() bool { return sink.saw(platform.EventDiskHealed, "es-1") })
		healed, err := docker.StandinDiskWrite(ctx, p.engine, "es-1", standinDataDir+"/f", 4096)
		Expect(err).NotTo(HaveOccurred())
		Expect(healed.Error).To(BeEmpty())
		Expect(sink.eventTimes(platform.EventDiskFaulted, "es-1")[0]).To(BeNumerically("<", sink.eventTimes(platform.EventDiskHealed, "es-1")[0]))
	})

	It("reports a disk fault on a node without a volume as failed, so the runner marks it not rehearsed", func(ctx SpecContext) {
		Expect(p.Faults().(platform.DiskFaults).FailDisk(ctx, "es-2")).To(Succeed())
		runUntil(ctx, p, func() bool { return sink.saw(platform.EventFaultFailed, "es-2") })
		Expect(sink.last(platform.EventFaultFailed).Detail).To(ContainSubstring(docker.ErrNoDisk.Error()))
	})
})
