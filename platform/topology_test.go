package platform_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
)

var _ = Describe("the ion topology", func() {
	ion := platform.Ion()

	It("is valid", func() { Expect(ion.Validate()).To(BeEmpty()) })

	It("places two Mongo members in the east and a hidden, priority-0 voter in the west", func() {
		spec, ok := ion.ServiceOfKind(platform.KindMongo)
		Expect(ok).To(BeTrue())
		var west platform.MongoMember
		east := 0
		for _, m := range spec.Members {
			region, _ := ion.RegionOfZone(m.Zone)
			if region == "us-east-1" {
				east++
			} else {
				west = m
			}
		}
		Expect(east).To(Equal(2))
		Expect(west.Priority).To(BeZero())
		Expect(west.Hidden).To(BeTrue())
		Expect(west.VoteCount()).To(Equal(1))
	})

	It("puts one Elasticsearch node in each of four east zones", func() {
		spec, _ := ion.ServiceOfKind(platform.KindElastic)
		zones := map[string]bool{}
		for _, n := range spec.Nodes {
			zones[n.Zone] = true
		}
		Expect(zones).To(HaveLen(4))
		Expect(spec.Shards).To(Equal(5))
		Expect(spec.Replicas).To(Equal(1))
	})

	It("gives each region its own S3 endpoint, regional rather than zonal", func() {
		var s3 []platform.Node
		for _, n := range ion.Nodes() {
			if n.Kind == platform.KindS3 {
				s3 = append(s3, n)
			}
		}
		Expect(s3).To(HaveLen(2))
		for _, n := range s3 {
			Expect(n.Zone).To(BeEmpty())
			Expect(n.Region).NotTo(BeEmpty())
		}
	})

	It("returns a fresh copy each time", func() {
		a := platform.Ion()
		a.Services[0].Members[0].Priority = 99
		Expect(platform.Ion().Services[0].Members[0].Priority).To(Equal(2.0))
	})
})

var _ = Describe("link latency", func() {
	t := platform.Ion()
	node := func(name string) platform.Node { n, _ := t.Node(name); return n }

	It("grows from intra-zone to inter-zone to inter-region, with defaults filled in", func() {
		sameZone := t.LinkLatency(node("mongo-east-1a"), node("es-east-1a"))
		otherZone := t.LinkLatency(node("mongo-east-1a"), node("es-east-1b"))
		otherRegion := t.LinkLatency(node("mongo-east-1a"), node("mongo-west-1a"))
		Expect(sameZone).To(Equal(platform.DefaultLinkLatency.IntraZone.D()))
		Expect(otherZone).To(Equal(platform.DefaultLinkLatency.InterZone.D()))
		Expect(otherRegion).To(Equal(platform.DefaultLinkLatency.InterRegion.D()))
		Expect(sameZone).To(BeNumerically("<", otherZone))
		Expect(otherZone).To(BeNumerically("<", otherRegion))
	})

	It("uses the topology's own numbers where given", func() {
		custom := platform.Ion()
		custom.Latency.InterRegion = platform.LinkDelay{Median: platform.Duration(80 * time.Millisecond)}
		n := func(name string) platform.Node { x, _ := custom.Node(name); return x }
		Expect(custom.LinkLatency(n("mongo-east-1a"), n("mongo-west-1a"))).To(Equal(80 * time.Millisecond))
		Expect(custom.LinkClass(n("mongo-east-1a"), n("mongo-west-1a")).HasTail()).To(BeFalse(), "a plain latency is fixed")
		Expect(custom.LinkClass(n("mongo-east-1a"), n("mongo-east-1b"))).To(Equal(platform.DefaultLinkLatency.InterZone))
	})

	It("gives every default class a tail above its median", func() {
		for _, class := range []platform.LinkDelay{platform.DefaultLinkLatency.IntraZone, platform.DefaultLinkLatency.InterZone, platform.DefaultLinkLatency.InterRegion} {
			Expect(class.HasTail()).To(BeTrue(), class.String())
		}
	})

	It("refuses a tail at or below the median and a negative latency, naming the class", func() {
		t := platform.Ion()
		t.Latency.InterRegion = platform.LinkDelay{Median: platform.Duration(32 * time.Millisecond), P99: platform.Duration(20 * time.Millisecond)}
		t.Latency.IntraZone = platform.LinkDelay{Median: platform.Duration(-time.Millisecond)}
		var paths []string
		for _, e := range t.Validate() {
			paths = append(paths, e.Path)
		}
		Expect(paths).To(ConsistOf("latency.inter_region", "latency.intra_zone"))
	})
})

var _ = Describe("topology validation", func() {
	paths := func(t *platform.Topology) []string {
		var out []string
		for _, e := range t.Validate() {
			out = append(out, e.Path)
		}
		return out
	}

	It("names the field of a member placed in a zone no region has", func() {
		t := platform.Ion()
		t.Services[0].Members[1].Zone = "eu-west-1a"
		Expect(paths(t)).To(ConsistOf("services[0].members[1].zone"))
	})

	It("refuses a hidden member that could be elected, as MongoDB does", func() {
		t := platform.Ion()
		t.Services[0].Members[2].Priority = 1
		Expect(paths(t)).To(ConsistOf("services[0].members[2].hidden"))
	})

	It("accepts a primary-secondary-arbiter set", func() {
		t := platform.Ion()
		t.Services[0].Members[2] = platform.MongoMember{Name: "mongo-arbiter", Zone: "us-west-1a", Arbiter: true}
		Expect(t.Validate()).To(BeEmpty())
	})

	It("refuses an arbiter that could be elected or has no vote, and a second arbiter", func() {
		t := platform.Ion()
		zero := 0
		t.Services[0].Members[1].Arbiter = true // priority 1
		t.Services[0].Members[2] = platform.MongoMember{Name: "mongo-arbiter", Zone: "us-west-1a", Arbiter: true, Votes: &zero}
		Expect(paths(t)).To(ConsistOf("services[0].members[1].priority", "services[0].members[2].votes", "services[0].members"))
	})

	It("refuses a replica set of arbiters only", func() {
		t := platform.Ion()
		t.Services[0].Members = []platform.MongoMember{{Name: "a", Zone: "us-east-1a", Arbiter: true}}
		Expect(paths(t)).To(ConsistOf("services[0].members"))
	})

	It("refuses a node name used twice across services", func() {
		t := platform.Ion()
		t.Services[1].Nodes[0].Name = "mongo-east-1a"
		Expect(paths(t)).To(ConsistOf("services[1].nodes[0].name"))
	})

	It("refuses an s3 service whose primary region has no endpoint and a sync with no interval", func() {
		t := platform.Ion()
		t.Services[2].PrimaryRegion = "eu-central-1"
		t.Services[2].SyncInterval = 0
		Expect(paths(t)).To(ConsistOf("services[2].primary_region", "services[2].sync_interval"))
	})
})

var _ = Describe("selectors", func() {
	t := platform.Ion()

	DescribeTable("resolve statically to the nodes of their fault domain",
		func(text string, want []string) {
			sel, err := platform.ParseSelector(t, text)
			Expect(err).NotTo(HaveOccurred())
			Expect(sel.Static(t)).To(Equal(want))
		},
		Entry("a node", "node:es-east-1c", []string{"es-east-1c"}),
		Entry("an AZ: its Mongo member and ES node, not the regional S3", "az:us-east-1b", []string{"mongo-east-1b", "es-east-1b"}),
		Entry("a region, S3 included", "region:us-west-1", []string{"mongo-west-1a", "s3-us-west-1"}),
		Entry("a service", "service:artifacts", []string{"s3-us-east-1", "s3-us-west-1"}),
	)

	DescribeTable("refuse what the topology does not have, saying what",
		func(text, message string) {
			_, err := platform.ParseSelector(t, text)
			Expect(err).To(MatchError(ContainSubstring(message)))
		},
		Entry("no kind", "mongo-east-1a", "want KIND:VALUE"),
		Entry("unknown kind", "rack:r1", `unknown kind "rack"`),
		Entry("unknown node", "node:mongo-east-1z", `no node "mongo-east-1z"`),
		Entry("unknown zone", "az:us-east-1z", `no zone "us-east-1z"`),
		Entry("unknown region", "region:eu-west-1", `no region "eu-west-1"`),
		Entry("a role the service kind does not have", "role:artifacts:primary", "has roles"),
		Entry("a role of no service", "role:redis:primary", "want role:SERVICE:ROLE"),
	)
})
