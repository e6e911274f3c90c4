package docker

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// diskMounts lists the mount points of the host that belong to run runID's
// data volumes.
func diskMounts(runID string) []string {
	mounts, err := os.ReadFile("/proc/self/mounts")
	Expect(err).NotTo(HaveOccurred())
	var out []string
	for _, line := range strings.Split(string(mounts), "\n") {
		if fields := strings.Fields(line); len(fields) > 1 && strings.Contains(fields[1], diskDirPrefix+runID) {
			out = append(out, fields[1])
		}
	}
	return out
}

// needsDiskFaults skips a spec where the data volumes cannot be mounted,
// saying what is missing.
func needsDiskFaults() {
	if !dockerReady {
		Skip("Docker is not reachable")
	}
	if os.Geteuid() != 0 {
		Skip("disk faults mount a tmpfs and a FUSE file system on the Docker host: the harness must run as root")
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		Skip("disk faults need /dev/fuse on the Docker host: " + err.Error())
	}
}

var _ = Describe("disk faults on a stand-in's data volume", Ordered, func() {
	const (
		node = "disk-a"
		file = "/data/log"
	)
	var (
		engine *Engine
		runID  string
	)
	BeforeAll(func(ctx SpecContext) {
		needsDiskFaults()
		runID = newRunID("disk")
		var err error
		engine, err = NewEngine(ctx, runID, WithoutPull())
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { Expect(engine.Close(ctx)).To(Succeed()) })
		spec := StandinSpec(standinImage, node, "r1", "r1a")
		spec.DataDir, spec.DiskBytes = "/data", 16<<20
		Expect(engine.StartNodes(ctx, []NodeSpec{spec})).To(Succeed())
	}, NodeTimeout(2*time.Minute))

	write := func(ctx context.Context, bytes int) DiskResult {
		GinkgoHelper()
		result, err := StandinDiskWrite(ctx, engine, node, file, bytes)
		Expect(err).NotTo(HaveOccurred())
		return result
	}

	It("passes the node's I/O through to its size-limited volume", func(ctx SpecContext) {
		result := write(ctx, 64<<10)
		fmt.Fprintf(GinkgoWriter, "healthy volume: 64 KiB write+fsync took %v\n", result.Took())
		Expect(result.Error).To(BeEmpty())
		Expect(result.Written).To(Equal(64 << 10))
		// The container's statfs sees the 16 MiB volume, nearly empty.
		Expect(result.UsedPercent).To(BeNumerically("<", 5))
	})

	It("slows every write and fsync by the added latency, and caps the throughput", func(ctx SpecContext) {
		latency := 150 * time.Millisecond
		_, err := engine.SlowDisk(ctx, node, latency, 0)
		Expect(err).NotTo(HaveOccurred())
		// A write and its fsync each wait the latency at least, however
		// loaded the machine.
		slowed := write(ctx, 4096)
		fmt.Fprintf(GinkgoWriter, "%v added: 4 KiB write+fsync took %v\n", latency, slowed.Took())
		Expect(slowed.Took()).To(BeNumerically(">=", 2*latency))

		rate := 256 << 10 // bytes per second
		_, err = engine.SlowDisk(ctx, node, 0, float64(rate))
		Expect(err).NotTo(HaveOccurred())
		capped := write(ctx, rate)
		Expect(capped.Error).To(BeEmpty())
		fmt.Fprintf(GinkgoWriter, "capped at %d B/s: %d B write+fsync took %v\n", rate, rate, capped.Took())
		Expect(capped.Took()).To(BeNumerically(">=", 900*time.Millisecond), "a second's worth of bytes at the cap")

		_, err = engine.HealDisk(ctx, node)
		Expect(err).NotTo(HaveOccurred())
		healed := write(ctx, rate)
		fmt.Fprintf(GinkgoWriter, "healed: %d B write+fsync took %v\n", rate, healed.Took())
		Expect(healed.Error).To(BeEmpty())
		Expect(healed.Took()).To(BeNumerically("<", capped.Took()/2))
	})

	It("fails writes with EIO until healed", func(ctx SpecContext) {
		_, err := engine.FailDisk(ctx, node)
		Expect(err).NotTo(HaveOccurred())
		Expect(write(ctx, 4096).Error).To(ContainSubstring("input/output error"))
		_, err = engine.HealDisk(ctx, node)
		Expect(err).NotTo(HaveOccurred())
		Expect(write(ctx, 4096).Error).To(BeEmpty())
	})

	It("fills the volume for real: writes fail with ENOSPC and it is 100% used, until healed", func(ctx SpecContext) {
		began := time.Now()
		_, err := engine.FillDisk(ctx, node)
		Expect(err).NotTo(HaveOccurred())
		fmt.Fprintf(GinkgoWriter, "filling the 16 MiB volume took %v\n", time.Since(began))
		full := write(ctx, 64<<10)
		Expect(full.Error).To(ContainSubstring("no space left on device"))
		Expect(full.UsedPercent).To(BeNumerically("==", 100))
		usage, err := engine.DiskUsage(ctx, node)
		Expect(err).NotTo(HaveOccurred())
		Expect(usage).To(BeNumerically("==", 100))

		_, err = engine.HealDisk(ctx, node)
		Expect(err).NotTo(HaveOccurred())
		healed := write(ctx, 64<<10)
		Expect(healed.Error).To(BeEmpty())
		Expect(healed.UsedPercent).To(BeNumerically("<", 50))
	})

	It("refuses a disk fault on a node without a data volume", func(ctx SpecContext) {
		_, err := engine.FailDisk(ctx, "nobody")
		Expect(err).To(HaveOccurred())
	})

	It("leaves no mount, folder or container behind once closed", func(ctx SpecContext) {
		Expect(diskMounts(runID)).To(HaveLen(2), "a tmpfs and the FUSE mount over it")
		Expect(engine.Close(ctx)).To(Succeed())
		Expect(diskMounts(runID)).To(BeEmpty())
		matches, err := filepath.Glob(filepath.Join(os.TempDir(), diskDirPrefix+runID+"*"))
		Expect(err).NotTo(HaveOccurred())
		Expect(matches).To(BeEmpty())
		containers, networks := leftovers(ctx, runID)
		Expect(containers + networks).To(BeZero())
	})
})

var _ = Describe("cleaning up the data volumes a killed harness left", func() {
	It("unmounts them and removes their folders", func(ctx SpecContext) {
		needsDiskFaults()
		runID := newRunID("disk-left")
		// A volume mounted as a run would, never closed.
		v, err := newDiskVolume(runID, "left", 1<<20)
		Expect(err).NotTo(HaveOccurred())
		Expect(v.fill()).To(Succeed())
		Expect(diskMounts(runID)).To(HaveLen(2))
		// Its owner, this process, still runs: a plain cleanup keeps it.
		kept, err := Cleanup(ctx, CleanupOptions{Run: runID})
		Expect(err).NotTo(HaveOccurred())
		Expect(kept.Disks).To(BeZero())
		Expect(diskMounts(runID)).To(HaveLen(2))
		removed, err := Cleanup(ctx, CleanupOptions{Run: runID, All: true})
		Expect(err).NotTo(HaveOccurred())
		Expect(removed.Disks).To(Equal(1))
		Expect(diskMounts(runID)).To(BeEmpty())
		_, err = os.Stat(v.dir)
		Expect(os.IsNotExist(err)).To(BeTrue())
		// The FUSE server of this process is already detached; closing
		// it again must not fail.
		Expect(v.close()).To(Succeed())
	})
})
