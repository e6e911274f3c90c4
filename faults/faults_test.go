package faults_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/faults"
	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/scenarios"
)

// primitives logs each primitive call; failOn makes one node's calls fail.
type primitives struct {
	calls  []string
	failOn string
}

func (p *primitives) do(call, node string) error {
	p.calls = append(p.calls, call+" "+node)
	if node == p.failOn {
		return errors.New("docker says no")
	}
	return nil
}

func (p *primitives) Kill(_ context.Context, n string) error   { return p.do("kill", n) }
func (p *primitives) Stop(_ context.Context, n string) error   { return p.do("stop", n) }
func (p *primitives) Start(_ context.Context, n string) error  { return p.do("start", n) }
func (p *primitives) Pause(_ context.Context, n string) error  { return p.do("pause", n) }
func (p *primitives) Resume(_ context.Context, n string) error { return p.do("resume", n) }
func (p *primitives) Partition(_ context.Context, a, b []string) error {
	return p.do("partition", fmt.Sprint(a, b))
}
func (p *primitives) Heal(_ context.Context, a, b []string) error {
	return p.do("heal", fmt.Sprint(a, b))
}
func (p *primitives) AddLatency(_ context.Context, n string, d time.Duration) error {
	return p.do("latency+"+d.String(), n)
}
func (p *primitives) RemoveLatency(_ context.Context, n string) error { return p.do("latency-", n) }

// roles is the part of a platform the resolver asks about roles.
type roles struct {
	platform.Platform
	holders map[string][]string
}

func (r roles) Role(role string) ([]string, error) {
	h, ok := r.holders[role]
	if !ok {
		return nil, platform.ErrUnknownRole
	}
	return h, nil
}

var _ = Describe("binding and injecting faults", func() {
	var (
		p        *primitives
		resolver faults.Resolver
		ctx      = context.Background()
	)
	BeforeEach(func() {
		p = &primitives{}
		resolver = faults.Resolver{Topology: platform.Ion(), Platform: roles{holders: map[string][]string{"mongo:primary": {"mongo-east-1b"}, "logs:master": {}}}}
	})

	It("kills every node of an AZ and starts exactly those again on recovery, once", func() {
		f, err := resolver.Bind(scenarios.Fault{Kind: scenarios.FaultKill, Target: "az:us-east-1a"})
		Expect(err).NotTo(HaveOccurred())
		Expect(f.Inject(ctx, p)).To(Succeed())
		Expect(f.Recover(ctx, p)).To(Succeed())
		Expect(f.Recover(ctx, p)).To(Succeed())
		Expect(p.calls).To(Equal([]string{"kill mongo-east-1a", "kill es-east-1a", "start mongo-east-1a", "start es-east-1a"}))
	})

	It("aims a role at whoever holds it when bound", func() {
		f, err := resolver.Bind(scenarios.Fault{Kind: scenarios.FaultPause, Target: "role:mongo:primary"})
		Expect(err).NotTo(HaveOccurred())
		Expect(f.Nodes()).To(Equal([]string{"mongo-east-1b"}))
		Expect(f.Inject(ctx, p)).To(Succeed())
		Expect(f.Recover(ctx, p)).To(Succeed())
		Expect(p.calls).To(Equal([]string{"pause mongo-east-1b", "resume mongo-east-1b"}))
	})

	It("refuses a role nobody holds now", func() {
		_, err := resolver.Bind(scenarios.Fault{Kind: scenarios.FaultKill, Target: "role:logs:master"})
		Expect(err).To(MatchError(faults.ErrNoTarget))
	})

	It("recovers only the nodes it reached when injection stopped half-way", func() {
		p.failOn = "es-east-1b"
		f, err := resolver.Bind(scenarios.Fault{Kind: scenarios.FaultStop, Target: "az:us-east-1b"})
		Expect(err).NotTo(HaveOccurred())
		Expect(f.Inject(ctx, p)).To(MatchError(ContainSubstring("es-east-1b")))
		p.failOn = ""
		Expect(f.Recover(ctx, p)).To(Succeed())
		Expect(p.calls).To(Equal([]string{"stop mongo-east-1b", "stop es-east-1b", "start mongo-east-1b"}))
	})

	It("partitions two groups and heals the same two", func() {
		f, err := resolver.Bind(scenarios.Fault{Kind: scenarios.FaultPartition, Between: []string{"region:us-east-1", "region:us-west-1"}})
		Expect(err).NotTo(HaveOccurred())
		Expect(f.Nodes()).To(HaveLen(9))
		Expect(f.Inject(ctx, p)).To(Succeed())
		Expect(f.Recover(ctx, p)).To(Succeed())
		Expect(f.Recover(ctx, p)).To(Succeed())
		Expect(p.calls).To(HaveLen(2))
		Expect(p.calls[0]).To(HavePrefix("partition [mongo-east-1a"))
		Expect(p.calls[1]).To(Equal("heal" + p.calls[0][len("partition"):]))
	})

	It("adds latency to each node and removes it on recovery", func() {
		f, err := resolver.Bind(scenarios.Fault{Kind: scenarios.FaultLatency, Target: "region:us-west-1", Latency: platform.Duration(150 * time.Millisecond)})
		Expect(err).NotTo(HaveOccurred())
		Expect(f.Inject(ctx, p)).To(Succeed())
		Expect(f.Recover(ctx, p)).To(Succeed())
		Expect(p.calls).To(Equal([]string{"latency+150ms mongo-west-1a", "latency+150ms s3-us-west-1", "latency- mongo-west-1a", "latency- s3-us-west-1"}))
	})

	It("restarts in place with nothing to recover", func() {
		f, err := resolver.Bind(scenarios.Fault{Kind: scenarios.FaultRestart, Target: "node:es-east-1d"})
		Expect(err).NotTo(HaveOccurred())
		Expect(f.Inject(ctx, p)).To(Succeed())
		Expect(f.Recover(ctx, p)).To(Succeed())
		Expect(p.calls).To(Equal([]string{"stop es-east-1d", "start es-east-1d"}))
	})

	It("aims at a node a runbook step added, by name and by zone, without changing the run's topology", func() {
		added := []platform.Node{{Name: "mongo-west-1b", Service: "mongo", Kind: platform.KindMongo, Region: "us-west-1", Zone: "us-west-1b"}}
		topology := platform.Ion()
		grown := faults.Resolver{Topology: topology, Platform: withAdded{roles: roles{}, added: added}}
		for _, target := range []string{"node:mongo-west-1b", "az:us-west-1b"} {
			f, err := grown.Bind(scenarios.Fault{Kind: scenarios.FaultKill, Target: target})
			Expect(err).NotTo(HaveOccurred(), target)
			Expect(f.Nodes()).To(Equal([]string{"mongo-west-1b"}), target)
		}
		Expect(topology).To(Equal(platform.Ion()))
		// A platform that adds no nodes resolves only the topology's.
		_, err := resolver.Bind(scenarios.Fault{Kind: scenarios.FaultKill, Target: "node:mongo-west-1b"})
		Expect(err).To(MatchError(ContainSubstring(`no node "mongo-west-1b"`)))
	})

	It("describes every fault kind", func() {
		for _, k := range scenarios.FaultKinds {
			Expect(faults.Describe(k)).NotTo(BeEmpty(), k)
		}
	})
})

// withAdded is a platform on which runbook steps added nodes.
type withAdded struct {
	roles
	added []platform.Node
}

func (w withAdded) AddedNodes() []platform.Node { return w.added }
