package containers

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/platform/adapters/mongo"
	"github.com/chaosdrill/chaosdrill/simulator"
)

// twoRegionTopology is not ion: other names, one ES node, one member per
// region, so that planning is seen not to assume the ion numbers.
func twoRegionTopology() *platform.Topology {
	return &platform.Topology{
		Name: "pair",
		Regions: []platform.Region{
			{Name: "eu-central-1", Zones: []string{"eu-central-1a", "eu-central-1b"}},
			{Name: "eu-west-1", Zones: []string{"eu-west-1a", "eu-west-1b"}},
		},
		Services: []platform.ServiceSpec{
			{Name: "db", Kind: platform.KindMongo, Members: []platform.MongoMember{
				{Name: "db-a", Zone: "eu-central-1a", Priority: 1},
				{Name: "db-b", Zone: "eu-west-1b", Priority: 1},
			}},
			{Name: "search", Kind: platform.KindElastic, Shards: 2, Replicas: 0, SnapshotTo: "blobs", SnapshotInterval: platform.Duration(time.Minute),
				Nodes: []platform.NodePlacement{{Name: "search-1", Zone: "eu-central-1b"}}},
			{Name: "blobs", Kind: platform.KindS3, PrimaryRegion: "eu-west-1", SyncInterval: platform.Duration(time.Minute),
				Endpoints: []platform.S3Endpoint{{Name: "blobs-central", Region: "eu-central-1"}, {Name: "blobs-west", Region: "eu-west-1"}}},
		},
	}
}

var _ = Describe("planning the containers of a topology", func() {
	byName := func(plans []plannedNode) map[string]plannedNode {
		m := map[string]plannedNode{}
		for _, p := range plans {
			m[p.Node.Name] = p
		}
		return m
	}

	It("plans one container per node, placed in the node's region and zone", func() {
		topology := platform.Ion()
		plans, err := plan(topology, defaultOptions())
		Expect(err).NotTo(HaveOccurred())

		Expect(plans).To(HaveLen(len(topology.Nodes())))
		for i, n := range topology.Nodes() {
			Expect(plans[i].Node).To(Equal(n))
			Expect(plans[i].Spec.Name).To(Equal(n.Name))
			Expect(plans[i].Spec.Region).To(Equal(n.Region))
			Expect(plans[i].Spec.Zone).To(Equal(n.Zone))
			Expect(plans[i].Spec.ExposedPorts).To(ContainElement(plans[i].Port))
			Expect(plans[i].Spec.WaitingFor).NotTo(BeNil(), "node %s has no readiness check", n.Name)
		}
	})

	It("runs Mongo members as one replica set listening on every interface", func() {
		plans := byName(must(plan(platform.Ion(), defaultOptions())))

		for _, name := range []string{"mongo-east-1a", "mongo-east-1b", "mongo-west-1a"} {
			Expect(plans[name].Spec.Image).To(Equal(DefaultMongoImage))
			Expect(strings.Join(plans[name].Spec.Cmd, " ")).To(ContainSubstring("--replSet ion-rs --bind_ip_all"))
		}
	})

	It("forms each Elasticsearch cluster from its own nodes, zone-aware, snapshotting to its S3 primary region", func() {
		plans := byName(must(plan(platform.Ion(), defaultOptions())))

		env := plans["es-east-1c"].Spec.Env
		Expect(env).To(HaveKeyWithValue("node.name", "es-east-1c"))
		Expect(env).To(HaveKeyWithValue("node.attr.zone", "us-east-1c"))
		Expect(env).To(HaveKeyWithValue("cluster.routing.allocation.awareness.attributes", "zone"))
		Expect(strings.Split(env["discovery.seed_hosts"], ",")).To(ConsistOf("es-east-1a", "es-east-1b", "es-east-1d"))
		Expect(strings.Split(env["cluster.initial_master_nodes"], ",")).To(ConsistOf("es-east-1a", "es-east-1b", "es-east-1c", "es-east-1d"))
		Expect(env).To(HaveKeyWithValue("xpack.security.enabled", "false"))
		Expect(env).To(HaveKeyWithValue("node.store.allow_mmap", "false"))
		Expect(env).To(HaveKeyWithValue("s3.client.default.endpoint", "http://s3-us-east-1:4566"))
		Expect(env).To(HaveKeyWithValue("s3.client.default.path_style_access", "true"))
	})

	It("follows a topology that is not ion", func() {
		plans := byName(must(plan(twoRegionTopology(), defaultOptions())))

		Expect(plans).To(HaveLen(5))
		Expect(strings.Join(plans["db-b"].Spec.Cmd, " ")).To(ContainSubstring("--replSet db "))
		Expect(plans["search-1"].Spec.Env).NotTo(HaveKey("discovery.seed_hosts"))
		Expect(plans["search-1"].Spec.Env).To(HaveKeyWithValue("s3.client.default.endpoint", "http://blobs-west:4566"))
		Expect(plans["blobs-central"].Spec.Image).To(Equal(DefaultLocalStackImage))
		Expect(plans["blobs-central"].Spec.Env).To(HaveKeyWithValue("LOCALSTACK_HOST", "blobs-central:4566"))
	})

	It("gives every region its own, valid bucket names", func() {
		all := buckets(platform.Ion())

		Expect(all).To(HaveKey("s3-us-east-1"))
		Expect(all["s3-us-east-1"]).To(ConsistOf("artifacts-artifacts-us-east-1", "snapshots-artifacts-us-east-1"))
		Expect(all["s3-us-west-1"]).To(ConsistOf("artifacts-artifacts-us-west-1", "snapshots-artifacts-us-west-1"))
		Expect(bucketName("snapshots", "Very_Long.Service Name", strings.Repeat("region", 20))).To(MatchRegexp(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`))
	})

	It("runs every node on the stand-in image when one is given", func() {
		o := defaultOptions()
		WithStandinImage("chaosdrill-standin:test")(&o)
		plans := must(plan(platform.Ion(), o))

		for _, p := range plans {
			Expect(p.Spec.Image).To(Equal("chaosdrill-standin:test"))
		}
	})

	It("takes image overrides and keeps the defaults it is not given", func() {
		o := defaultOptions()
		WithImages(Images{Mongo: "mongo:7.0"})(&o)

		Expect(o.images).To(Equal(Images{Mongo: "mongo:7.0", Elastic: DefaultElasticImage, LocalStack: DefaultLocalStackImage}))
	})
})

var _ = Describe("the live parameters", func() {
	It("document a default and a source for each", func() {
		for _, p := range Parameters() {
			Expect(p.Default).NotTo(BeEmpty(), p.Name)
			Expect(p.Description).NotTo(BeEmpty(), p.Name)
			source, err := url.Parse(p.Source)
			Expect(err).NotTo(HaveOccurred(), p.Name)
			Expect(source.Scheme).To(Equal("https"), p.Name)
		}
	})

	It("have the simulator's default for every knob both platforms have, so one scenario means one thing", func() {
		sim := map[string]string{}
		for _, p := range simulator.Parameters() {
			sim[p.Name] = p.Default
		}
		shared := 0
		for _, p := range Parameters() {
			simDefault, ok := sim[p.Name]
			if !ok {
				continue
			}
			shared++
			Expect(sameValue(p.Default, simDefault)).To(BeTrue(), "%s: containers %q, simulator %q", p.Name, p.Default, simDefault)
		}
		Expect(shared).To(BeNumerically(">=", 7), "logs.bulk_size, logs.flush_interval, logs.ack_on_receipt, the election and heartbeat intervals, the delayed timeout and server selection are shared")
	})

	It("apply scenario overrides", func() {
		s, err := parseSettings(map[string]string{ParamElectionTimeout: "2s", ParamLogsAckOnReceipt: "true", ParamSyncInterval: "15s"})

		Expect(err).NotTo(HaveOccurred())
		Expect(s.electionTimeout).To(Equal(2 * time.Second))
		Expect(s.logsAckOnReceipt).To(BeTrue())
		Expect(s.syncInterval).To(Equal(15 * time.Second))
	})

	It("refuse a heartbeat interval they cannot apply rather than ignore it", func() {
		_, err := parseSettings(map[string]string{ParamHeartbeatInterval: "1s"})

		Expect(err).To(MatchError(ContainSubstring(ParamHeartbeatInterval)))
	})

	It("refuse at validation exactly what the platform would refuse when it starts: kinds and ranges like the simulator's", func() {
		probes := []string{"0s", "-1s", "1ns", "1ms", "1500us", "2s", "1m", "169h", "0", "1", "-1", "16", "5000", "1.5", "true", "false", "maybe", "", "topology"}
		for _, p := range Parameters() {
			Expect(p.Kind).NotTo(BeEmpty(), "%s declares its kind", p.Name)
			for _, v := range probes {
				_, parseErr := parseSettings(map[string]string{p.Name: v})
				checkErr := p.Check(v)
				if p.Name == ParamConvergeDuration {
					// Read by the roles' own parser, not parseSettings.
					continue
				}
				Expect(parseErr == nil).To(Equal(checkErr == nil), "%s = %q: Check says %v, the platform says %v", p.Name, v, checkErr, parseErr)
			}
		}
		byName := map[string]platform.Parameter{}
		for _, p := range Parameters() {
			byName[p.Name] = p
		}
		Expect(byName[ParamCaughtUpLag].Check("0s")).To(MatchError(ContainSubstring("want a duration from 1ms")))
		Expect(byName[ParamServerSelectionTimeout].Check("0s")).To(HaveOccurred())
		Expect(byName[ParamLogsBatchSize].Check("0")).To(MatchError(ContainSubstring("want a whole number from 1")))
		Expect(byName[ParamClientWorkers].Check("0")).To(HaveOccurred())
		Expect(byName[ParamLogsFlushInterval].Check("0s")).To(HaveOccurred(), "a period of 0 would flush at one instant forever")
		Expect(byName[ParamElectionTimeout].Check("1500us")).To(MatchError(ContainSubstring("whole number of 1ms")))
		Expect(byName[ParamHeartbeatInterval].Check("1s")).To(MatchError(ContainSubstring("want 2s, the only value it takes")))
		Expect(byName[ParamDelayedTimeout].Check("0s")).To(Succeed(), "Elasticsearch rebuilds at once with index.unassigned.node_left.delayed_timeout 0")
	})

	It("name the parameter whose value is wrong", func() {
		_, err := parseSettings(map[string]string{ParamClientWorkers: "many"})

		Expect(err).To(MatchError(ContainSubstring(ParamClientWorkers)))
	})
})

// sameValue compares two defaults as values: "1m" and "1m0s" are one.
func sameValue(a, b string) bool {
	if x, err := time.ParseDuration(a); err == nil {
		y, err := time.ParseDuration(b)
		return err == nil && x == y
	}
	return a == b
}

func must[T any](v T, err error) T {
	GinkgoHelper()
	Expect(err).NotTo(HaveOccurred())
	return v
}

var _ = Describe("reading the replica set's state from its members", func() {
	view := func(primary string) *mongo.ReplicaSetStatus { return &mongo.ReplicaSetStatus{Primary: primary} }

	It("believes the primary most members name, not a cut-off one that still calls itself primary", func() {
		Expect(majorityView([]*mongo.ReplicaSetStatus{view("a:27017"), view("b:27017"), view("b:27017")}).Primary).To(Equal("b:27017"))
	})

	It("ignores members that did not answer", func() {
		Expect(majorityView([]*mongo.ReplicaSetStatus{nil, view(""), nil}).Primary).To(BeEmpty())
		Expect(majorityView([]*mongo.ReplicaSetStatus{nil, nil})).To(BeNil())
	})

	It("prefers a view with a primary when as many see none", func() {
		Expect(majorityView([]*mongo.ReplicaSetStatus{view(""), view("c:27017")}).Primary).To(Equal("c:27017"))
	})
})

var _ = Describe("which services a run starts", func() {
	It("starts the services with a workload and the S3 service their cluster snapshots to", func() {
		ion := platform.Ion()
		Expect(usedServices(ion, []platform.WorkloadConfig{{Service: "logs"}})).To(Equal(map[string]bool{"logs": true, "artifacts": true}))
		Expect(usedServices(ion, []platform.WorkloadConfig{{Service: "mongo"}})).To(Equal(map[string]bool{"mongo": true}))
		Expect(usedServices(ion, nil)).To(Equal(map[string]bool{"mongo": true, "logs": true, "artifacts": true}), "no workloads: the Docker mechanics alone, everything")
	})
})

var _ = Describe("the links measured at bring-up", func() {
	It("measure between the regions, and between two zones of a region", func() {
		plans := must(plan(platform.Ion(), defaultOptions()))
		var measured []string
		for _, link := range measuredLinks(plans, platform.Ion().Regions) {
			measured = append(measured, link.what+": "+link.from.Node.Name+" -> "+link.to.Node.Name)
		}
		Expect(measured).To(Equal([]string{
			"us-east-1 -> us-west-1: mongo-east-1a -> mongo-west-1a",
			"us-east-1a -> us-east-1b: mongo-east-1a -> mongo-east-1b",
		}))
	})

	It("apply the topology's latency by placement, none within a zone", func() {
		p := &Platform{cfg: platform.Config{Topology: platform.Ion()}}
		l := platform.Ion().EffectiveLatency()
		Expect(p.linkLatency("us-east-1", "us-east-1a", "us-west-1", "us-west-1a")).To(Equal(l.InterRegion.D()))
		Expect(p.linkLatency("us-east-1", "us-east-1a", "us-east-1b", "us-east-1b")).To(Equal(l.InterRegion.D()), "another region name")
		Expect(p.linkLatency("us-east-1", "us-east-1a", "us-east-1", "us-east-1b")).To(Equal(l.InterZone.D()))
		Expect(p.linkLatency("us-east-1", "", "us-east-1", "us-east-1a")).To(Equal(l.InterZone.D()), "an S3 endpoint is in no zone")
		Expect(p.linkLatency("us-east-1", "us-east-1a", "us-east-1", "us-east-1a")).To(BeZero())
	})
})

type noEvents struct{}

func (noEvents) Completed(uint64, platform.Outcome, time.Duration) {}
func (noEvents) Observed(platform.Event)                           {}

func newPlanned(topology *platform.Topology, workloads []platform.WorkloadConfig, images map[string]string, opts ...Option) *Platform {
	GinkgoHelper()
	p, err := New(platform.Config{RunID: "plan", Topology: topology, Workloads: workloads, Images: images, Completions: noEvents{}, Events: noEvents{}}, opts...)
	Expect(err).NotTo(HaveOccurred())
	return p
}

var _ = Describe("images from any registry", func() {
	It("reads KIND=REF overrides for the three service kinds", func() {
		images, err := ParseImages([]string{"mongo=registry.example:5000/mirror/mongo:8.0", "elasticsearch=mirror.example/es:8.19.7", "s3=mirror.example/localstack:4.14.0", "mongo=example.invalid/mongo:8.0"})
		Expect(err).NotTo(HaveOccurred())
		Expect(images).To(Equal(Images{Mongo: "example.invalid/mongo:8.0", Elastic: "mirror.example/es:8.19.7", LocalStack: "mirror.example/localstack:4.14.0"}))
	})

	It("names what is wrong with a bad override", func() {
		_, err := ParseImages([]string{"mongodb=mongo:8.0"})
		Expect(err).To(MatchError(And(ContainSubstring("mongodb"), ContainSubstring("mongo, elasticsearch, s3"))))
		_, err = ParseImages([]string{"mongo:8.0"})
		Expect(err).To(MatchError(ContainSubstring("want KIND=REF")))
		_, err = ParseImages([]string{"s3="})
		Expect(err).To(MatchError(ContainSubstring("want an image reference")))
	})

	It("reads the environment variable", func() {
		GinkgoT().Setenv(ImagesVariable, "s3=mirror.example/localstack:4.14.0, elasticsearch=mirror.example/es:8")
		images, err := ImagesFromEnvironment()
		Expect(err).NotTo(HaveOccurred())
		Expect(images).To(Equal(Images{Elastic: "mirror.example/es:8", LocalStack: "mirror.example/localstack:4.14.0"}))
		GinkgoT().Setenv(ImagesVariable, "cassandra=x")
		_, err = ImagesFromEnvironment()
		Expect(err).To(MatchError(ContainSubstring(ImagesVariable)))
	})

	It("takes the scenario's images, and the caller's options over them", func() {
		scenario := map[string]string{"mongo": "scenario.example/mongo:7.0", "s3": "scenario.example/localstack:4.14.0"}
		p := newPlanned(platform.Ion(), nil, scenario, WithImages(Images{Mongo: "example.invalid/mongo:8.0"}))
		Expect(p.Images()).To(Equal([]NeededImage{
			{Kind: "mongo", Image: "example.invalid/mongo:8.0", Nodes: []string{"mongo-east-1a", "mongo-east-1b", "mongo-west-1a"}},
			{Kind: "elasticsearch", Image: DefaultElasticImage, Nodes: []string{"es-east-1a", "es-east-1b", "es-east-1c", "es-east-1d"}},
			{Kind: "s3", Image: "scenario.example/localstack:4.14.0", Nodes: []string{"s3-us-east-1", "s3-us-west-1"}},
		}))
		_, err := New(platform.Config{RunID: "plan", Topology: platform.Ion(), Images: map[string]string{"db": "x"}, Completions: noEvents{}, Events: noEvents{}})
		Expect(err).To(MatchError(ContainSubstring(`no service kind "db"`)))
	})

	It("needs only the images of the services a scenario uses", func() {
		p := newPlanned(platform.Ion(), []platform.WorkloadConfig{{Service: "logs"}}, nil)
		var kinds []string
		for _, need := range p.Images() {
			kinds = append(kinds, need.Kind)
		}
		Expect(kinds).To(Equal([]string{"elasticsearch", "s3"}), "an Elasticsearch-only scenario does not need the Mongo image")
	})

	It("tells the report which image each kind it starts ran, and nothing of the kinds it does not start", func() {
		p := newPlanned(platform.Ion(), []platform.WorkloadConfig{{Service: "artifacts"}}, nil, WithImages(Images{LocalStack: "chaosdrill/standin-s3:dev"}))
		var reporter platform.ImageReporter = p
		Expect(reporter.RanImages()).To(Equal(map[string]string{"s3": "chaosdrill/standin-s3:dev"}))
	})
})

var _ = Describe("memory", func() {
	It("adds up to 7.75 GiB for ion's containers by default, 4.5 GiB with the small profile", func() {
		const gib = 1 << 30
		Expect(newPlanned(platform.Ion(), nil, nil).MemoryBytes()).To(BeEquivalentTo(7.75 * gib))
		Expect(newPlanned(platform.Ion(), nil, nil, WithMemoryProfile(SmallMemory)).MemoryBytes()).To(BeEquivalentTo(4.5 * gib))
	})

	It("gives Elasticsearch half its container as heap in both profiles", func() {
		for _, profile := range []MemoryProfile{StandardMemory, SmallMemory} {
			o := defaultOptions()
			WithMemoryProfile(profile)(&o)
			plans := must(plan(platform.Ion(), o))
			for _, pl := range plans {
				if pl.Node.Kind != platform.KindElastic {
					continue
				}
				m := jvmHeap.FindStringSubmatch(pl.Spec.Env["ES_JAVA_OPTS"])
				Expect(m).NotTo(BeNil())
				heap, err := strconv.Atoi(strings.TrimSuffix(m[1], "m"))
				Expect(err).NotTo(HaveOccurred())
				Expect(int64(heap) << 20).To(Equal(pl.Spec.Memory / 2))
			}
		}
		_, err := MemoryProfileNamed("tiny")
		Expect(err).To(MatchError(ContainSubstring("standard or small")))
	})
})
