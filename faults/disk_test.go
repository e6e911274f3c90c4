package faults_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/faults"
	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/scenarios"
)

// disks adds the disk primitives to the logged ones.
type disks struct{ *primitives }

func (d disks) SlowDisk(_ context.Context, n string, latency time.Duration, bps float64) error {
	return d.do("slow-disk "+latency.String()+" "+time.Duration(bps).String(), n)
}
func (d disks) FailDisk(_ context.Context, n string) error { return d.do("fail-disk", n) }
func (d disks) FillDisk(_ context.Context, n string) error { return d.do("fill-disk", n) }
func (d disks) HealDisk(_ context.Context, n string) error { return d.do("heal-disk", n) }

var _ = Describe("disk faults", func() {
	resolver := faults.Resolver{Topology: platform.Ion(), Platform: roles{holders: map[string][]string{"mongo:primary": {"mongo-east-1a"}}}}
	ctx := context.Background()

	It("slows, fails and fills each node's volume and heals exactly those, once", func() {
		p := disks{&primitives{}}
		slow, err := resolver.Bind(scenarios.Fault{Kind: scenarios.FaultDiskSlow, Target: "role:mongo:primary", Latency: platform.Duration(20 * time.Millisecond), ThroughputMB: 2})
		Expect(err).NotTo(HaveOccurred())
		fail, err := resolver.Bind(scenarios.Fault{Kind: scenarios.FaultDiskError, Target: "node:es-east-1a"})
		Expect(err).NotTo(HaveOccurred())
		fill, err := resolver.Bind(scenarios.Fault{Kind: scenarios.FaultDiskFull, Target: "node:s3-us-east-1"})
		Expect(err).NotTo(HaveOccurred())
		for _, f := range []faults.Fault{slow, fail, fill} {
			Expect(f.Inject(ctx, p)).To(Succeed())
		}
		for _, f := range []faults.Fault{slow, fail, fill} {
			Expect(f.Recover(ctx, p)).To(Succeed())
			Expect(f.Recover(ctx, p)).To(Succeed())
		}
		Expect(p.calls).To(Equal([]string{"slow-disk 20ms 2ms mongo-east-1a", "fail-disk es-east-1a", "fill-disk s3-us-east-1",
			"heal-disk mongo-east-1a", "heal-disk es-east-1a", "heal-disk s3-us-east-1"}))
	})

	It("cannot be injected on a platform that cannot fault disks, so the runner reports it not rehearsed", func() {
		f, err := resolver.Bind(scenarios.Fault{Kind: scenarios.FaultDiskFull, Target: "node:es-east-1a"})
		Expect(err).NotTo(HaveOccurred())
		Expect(f.Inject(ctx, &primitives{})).To(MatchError(faults.ErrNoDiskFaults))
	})

	It("names the nodes the scenario's disk faults may hit: static targets, and every node of a role's service", func() {
		targets := faults.DiskTargets(platform.Ion(), []scenarios.Fault{
			{Kind: scenarios.FaultDiskSlow, Target: "node:mongo-west-1a"},
			{Kind: scenarios.FaultDiskFull, Target: "role:logs:master"},
			{Kind: scenarios.FaultKill, Target: "node:s3-us-east-1"},
		})
		Expect(targets).To(Equal([]string{"mongo-west-1a", "es-east-1a", "es-east-1b", "es-east-1c", "es-east-1d"}))
	})
})
