package containers

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/moby/moby/client"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/testcontainers/testcontainers-go"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/platform/containers/docker"
)

// recorder is the runner's side of the seam in these tests: it keeps what
// the platform delivered on the loop.
type recorder struct {
	events      []platform.Event
	completions []platform.Outcome
}

func (r *recorder) Completed(_ uint64, outcome platform.Outcome, _ time.Duration) {
	r.completions = append(r.completions, outcome)
}
func (r *recorder) Observed(e platform.Event) { r.events = append(r.events, e) }

func (r *recorder) saw(what, node string) bool {
	for _, e := range r.events {
		if e.What == what && e.Node == node {
			return true
		}
	}
	return false
}

func (r *recorder) eventTimes(what, node string) []time.Duration {
	var out []time.Duration
	for _, e := range r.events {
		if e.What == what && e.Node == node {
			out = append(out, e.At)
		}
	}
	return out
}

func (r *recorder) count(what string) int {
	n := 0
	for _, e := range r.events {
		if e.What == what {
			n++
		}
	}
	return n
}

func (r *recorder) last(what string) platform.Event {
	var out platform.Event
	for _, e := range r.events {
		if e.What == what {
			out = e
		}
	}
	return out
}

// runUntil runs the platform's loop until done holds (checked on the loop's
// side, between runs) or a minute passed.
func runUntil(ctx context.Context, p *Platform, done func() bool) {
	GinkgoHelper()
	deadline := time.Now().Add(time.Minute)
	for !done() {
		Expect(time.Now().Before(deadline)).To(BeTrue(), "gave up waiting on the loop")
		Expect(p.Loop().Run(ctx, p.Loop().Now()+20*time.Millisecond)).To(Succeed())
	}
}

func testRunID(name string) string { return fmt.Sprintf("test-%d-%s", os.Getpid(), name) }

// dockerClient is closed by the caller.
func dockerClient(ctx context.Context) *testcontainers.DockerClient {
	GinkgoHelper()
	c, err := dockerClientE(ctx)
	Expect(err).NotTo(HaveOccurred())
	return c
}

func dockerClientE(ctx context.Context) (*testcontainers.DockerClient, error) {
	return testcontainers.NewDockerClientWithOpts(ctx)
}

func runFilter(runID string) client.Filters {
	return make(client.Filters).Add("label", docker.LabelRun+"="+runID)
}

func expectNothingLeft(ctx context.Context, runID string) {
	GinkgoHelper()
	c := dockerClient(ctx)
	defer c.Close()
	containers, err := c.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: runFilter(runID)})
	Expect(err).NotTo(HaveOccurred())
	Expect(containers.Items).To(BeEmpty(), "containers labelled %s=%s left behind", docker.LabelRun, runID)
	networks, err := c.NetworkList(ctx, client.NetworkListOptions{Filters: runFilter(runID)})
	Expect(err).NotTo(HaveOccurred())
	Expect(networks.Items).To(BeEmpty(), "networks labelled %s=%s left behind", docker.LabelRun, runID)
	volumes, err := c.VolumeList(ctx, client.VolumeListOptions{Filters: runFilter(runID)})
	Expect(err).NotTo(HaveOccurred())
	Expect(volumes.Items).To(BeEmpty(), "volumes labelled %s=%s left behind", docker.LabelRun, runID)
}

var _ = Describe("the platform on stand-in containers", Ordered, Label("docker"), func() {
	var (
		image    string
		runID    string
		topology *platform.Topology
		sink     *recorder
		p        *Platform
	)

	BeforeAll(func(ctx SpecContext) {
		if err := docker.IsReachable(ctx); err != nil {
			Skip(fmt.Sprintf("Docker is not reachable, so the bring-up cannot be tested here: %v", err))
		}
		var err error
		image, err = docker.BuildStandinImage(ctx)
		Expect(err).NotTo(HaveOccurred())

		runID = testRunID("standin")
		topology = platform.Ion()
		sink = &recorder{}
		p, err = New(platform.Config{RunID: runID, Topology: topology, Completions: sink, Events: sink}, WithStandinImage(image), WithoutPull())
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) {
			Expect(p.Close()).To(Succeed())
			expectNothingLeft(ctx, runID)
		})
		began := time.Now()
		Expect(p.Start(ctx)).To(Succeed())
		bringUp := time.Since(began)
		AddReportEntry(fmt.Sprintf("bring-up of %d stand-in nodes through Start", len(topology.Nodes())), bringUp.String())
		fmt.Fprintf(GinkgoWriter, "bring-up of %d stand-in nodes through Start: %v\n", len(topology.Nodes()), bringUp)
	}, NodeTimeout(5*time.Minute))

	It("starts one container per node, labelled with the run, its node, region and zone, reachable by its alias", func(ctx SpecContext) {
		c := dockerClient(ctx)
		DeferCleanup(c.Close)
		listed, err := c.ContainerList(ctx, client.ContainerListOptions{Filters: runFilter(runID)})
		Expect(err).NotTo(HaveOccurred())
		Expect(listed.Items).To(HaveLen(len(topology.Nodes())))

		labels := map[string]map[string]string{}
		for _, found := range listed.Items {
			labels[found.Labels[docker.LabelNode]] = found.Labels
			inspected, err := c.ContainerInspect(ctx, found.ID, client.ContainerInspectOptions{})
			Expect(err).NotTo(HaveOccurred())
			var aliases []string
			for _, endpoint := range inspected.Container.NetworkSettings.Networks {
				aliases = append(aliases, endpoint.Aliases...)
			}
			Expect(aliases).To(ContainElement(dockerAlias(found.Labels[docker.LabelNode])))
		}
		for _, n := range topology.Nodes() {
			Expect(labels).To(HaveKey(n.Name))
			Expect(labels[n.Name]).To(HaveKeyWithValue(docker.LabelRun, runID))
			Expect(labels[n.Name]).To(HaveKeyWithValue(docker.LabelRegion, n.Region))
			Expect(labels[n.Name]).To(HaveKeyWithValue(docker.LabelZone, n.Zone))
		}
	})

	It("reports node-down and node-up on the loop when a fault stops and restores a node", func(ctx SpecContext) {
		faults := p.Faults()
		Expect(faults.Kill(ctx, "es-east-1b")).To(Succeed())
		Expect(faults.Pause(ctx, "mongo-west-1a")).To(Succeed())
		Expect(faults.Resume(ctx, "mongo-west-1a")).To(Succeed())
		Expect(faults.Start(ctx, "es-east-1b")).To(Succeed())

		// The primitives run off the loop and hand their events to it.
		runUntil(ctx, p, func() bool {
			return sink.saw(platform.EventNodeUp, "es-east-1b") && sink.saw(platform.EventNodeUp, "mongo-west-1a")
		})

		Expect(sink.saw(platform.EventNodeDown, "es-east-1b")).To(BeTrue())
		Expect(sink.saw(platform.EventNodeDown, "mongo-west-1a")).To(BeTrue())
		for _, e := range sink.events {
			if e.What == platform.EventNodeDown || e.What == platform.EventNodeUp {
				Expect(e.Service).NotTo(BeEmpty(), "event %+v names no service", e)
			}
		}
		Expect(sink.eventTimes(platform.EventNodeDown, "es-east-1b")[0]).To(BeNumerically("<", sink.eventTimes(platform.EventNodeUp, "es-east-1b")[0]), "on one node, primitives are carried out in the order they were issued")
	})

	It("takes every node of a region down at once: within 200 ms of each other by Docker's timestamps, off the loop", func(ctx SpecContext) {
		selector, err := platform.ParseSelector(topology, "region:us-east-1")
		Expect(err).NotTo(HaveOccurred())
		region := selector.Static(topology)
		Expect(len(region)).To(BeNumerically(">=", 6))
		issued := time.Duration(0)
		// As the runner does: one handler, one primitive per node.
		p.Loop().At(p.Loop().Now(), platform.HandlerFunc(func(now time.Duration) {
			issued = now
			began := time.Now()
			for _, node := range region {
				Expect(p.Faults().Kill(ctx, node)).To(Succeed())
			}
			Expect(time.Since(began)).To(BeNumerically("<", 50*time.Millisecond), "issuing the kills does not wait for Docker")
		}))
		runUntil(ctx, p, func() bool { return sink.count(EventFaultApplied) > 0 })

		c := dockerClient(ctx)
		DeferCleanup(c.Close)
		var exits []time.Time
		for _, node := range region {
			inspected, err := c.ContainerInspect(ctx, "chaosdrill-"+runID+"-"+dockerAlias(node), client.ContainerInspectOptions{})
			Expect(err).NotTo(HaveOccurred())
			Expect(inspected.Container.State.Running).To(BeFalse(), node)
			finished, err := time.Parse(time.RFC3339Nano, inspected.Container.State.FinishedAt)
			Expect(err).NotTo(HaveOccurred())
			exits = append(exits, finished)
			Expect(sink.saw(platform.EventNodeDown, node)).To(BeTrue(), node)
		}
		first, last := exits[0], exits[0]
		for _, t := range exits {
			if t.Before(first) {
				first = t
			}
			if t.After(last) {
				last = t
			}
		}
		spread := last.Sub(first)
		applied := sink.last(EventFaultApplied)
		fmt.Fprintf(GinkgoWriter, "killed %d nodes of us-east-1: Docker exits spread over %v; %s\n", len(region), spread, applied.Detail)
		AddReportEntry("spread of a region kill (Docker's exit times)", spread.String())
		Expect(spread).To(BeNumerically("<=", 200*time.Millisecond))
		Expect(applied.Detail).To(ContainSubstring(fmt.Sprintf("kill of %d nodes: %d took effect within", len(region), len(region))))
		Expect(applied.At).To(BeNumerically("~", p.loop.scenarioTime(last), time.Millisecond), "fault-applied is stamped when the last node went down")
		Expect(applied.At).To(BeNumerically(">=", issued))

		p.Loop().At(p.Loop().Now(), platform.HandlerFunc(func(time.Duration) {
			for _, node := range region {
				Expect(p.Faults().Start(ctx, node)).To(Succeed())
			}
		}))
		runUntil(ctx, p, func() bool { return sink.count(EventFaultApplied) > 1 })
	})

	const latencyRounds = 10

	It("puts the topology's geography on the network at bring-up and reports the latency it measured between regions", func(ctx SpecContext) {
		runUntil(ctx, p, func() bool { return sink.count(EventLinkLatency) > 0 })
		latency := topology.EffectiveLatency()
		var between *platform.Event
		for i, e := range sink.events {
			if e.What == EventLinkLatency && strings.HasPrefix(e.Detail, "us-east-1 -> us-west-1") {
				between = &sink.events[i]
			}
		}
		Expect(between).NotTo(BeNil(), "events: %v", sink.events)
		fmt.Fprintf(GinkgoWriter, "reported: %s\n", between.Detail)
		Expect(between.At).To(BeZero())
		Expect(between.Detail).To(ContainSubstring(fmt.Sprintf("configured %v one way", latency.InterRegion.D())))

		// Measured again from inside the network, by the stand-ins.
		engine, err := p.engineNow()
		Expect(err).NotTo(HaveOccurred())
		crossRegion, err := docker.StandinDial(ctx, engine, "mongo-east-1a", "mongo-west-1a", 5*time.Second, latencyRounds)
		Expect(err).NotTo(HaveOccurred())
		interZone, err := docker.StandinDial(ctx, engine, "es-east-1a", "es-east-1b", 5*time.Second, latencyRounds)
		Expect(err).NotTo(HaveOccurred())
		sameZone, err := docker.StandinDial(ctx, engine, "es-east-1a", "mongo-east-1a", 5*time.Second, latencyRounds)
		Expect(err).NotTo(HaveOccurred())
		fmt.Fprintf(GinkgoWriter, "stand-in round trips: across regions %v, across zones %v, within a zone %v\n", crossRegion.RoundTrip(), interZone.RoundTrip(), sameZone.RoundTrip())
		AddReportEntry("round trip between stand-ins in us-east-1 and us-west-1", crossRegion.RoundTrip().String())
		// The fastest of latencyRounds pings, within a slack that a loaded
		// 2-core host needs and that still tells the delay applied once
		// each way from twice (another 2 x 32 ms across regions).
		const slack = 60 * time.Millisecond
		Expect(crossRegion.RoundTrip()).To(And(BeNumerically(">=", 2*latency.InterRegion.D()), BeNumerically("<", 2*latency.InterRegion.D()+slack)))
		Expect(interZone.RoundTrip()).To(And(BeNumerically(">=", 2*latency.InterZone.D()), BeNumerically("<", 2*latency.InterZone.D()+slack)))
		Expect(sameZone.RoundTrip()).To(BeNumerically("<", 2*latency.InterZone.D()))
	})

	It("refuses a node that is not in the run", func(ctx SpecContext) {
		Expect(p.Faults().Kill(ctx, "not-a-node")).To(MatchError(platform.ErrUnknownNode))
	})

	It("serves no workload or runbook on stand-ins", func(ctx SpecContext) {
		_, err := p.Client("mongo")
		Expect(err).To(MatchError(platform.ErrUnknownService))
		err = p.StartAction(ctx, platform.Action{Name: "x", Action: platform.ActionMongoStepDown}, nil)
		Expect(err).To(MatchError(platform.ErrUnknownAction))
	})
})

var _ = Describe("a run that uses only some services", Label("docker"), func() {
	It("starts only them, and leaves the others' nodes out of a region outage, saying so", func(ctx SpecContext) {
		if err := docker.IsReachable(ctx); err != nil {
			Skip(fmt.Sprintf("Docker is not reachable: %v", err))
		}
		image, err := docker.BuildStandinImage(ctx)
		Expect(err).NotTo(HaveOccurred())
		runID := testRunID("logs-only")
		sink := &recorder{}
		topology := platform.Ion()
		// A log workload needs the cluster and the S3 service it
		// snapshots to; the replica set is not started.
		p, err := New(platform.Config{RunID: runID, Topology: topology, Completions: sink, Events: sink,
			Workloads: []platform.WorkloadConfig{{Service: "logs"}}}, WithStandinImage(image), WithoutPull(), WithoutLinkLatency())
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) {
			Expect(p.Close()).To(Succeed())
			expectNothingLeft(ctx, runID)
		})
		Expect(p.Start(ctx)).To(Succeed())

		c := dockerClient(ctx)
		DeferCleanup(c.Close)
		listed, err := c.ContainerList(ctx, client.ContainerListOptions{Filters: runFilter(runID)})
		Expect(err).NotTo(HaveOccurred())
		var started []string
		for _, found := range listed.Items {
			started = append(started, found.Labels[docker.LabelNode])
		}
		Expect(started).To(ConsistOf("es-east-1a", "es-east-1b", "es-east-1c", "es-east-1d", "s3-us-east-1", "s3-us-west-1"))

		p.Loop().At(0, platform.HandlerFunc(func(time.Duration) {
			for _, node := range []string{"mongo-east-1a", "mongo-east-1b", "es-east-1a", "s3-us-east-1"} {
				Expect(p.Faults().Kill(ctx, node)).To(Succeed())
			}
		}))
		runUntil(ctx, p, func() bool { return sink.count(EventFaultApplied) > 0 })
		Expect(sink.saw(EventFaultSkipped, "mongo-east-1a")).To(BeTrue())
		Expect(sink.saw(EventFaultSkipped, "mongo-east-1b")).To(BeTrue())
		Expect(sink.saw(platform.EventNodeDown, "es-east-1a")).To(BeTrue())
		Expect(sink.saw(platform.EventNodeDown, "s3-us-east-1")).To(BeTrue())
		Expect(sink.last(EventFaultApplied).Detail).To(ContainSubstring("kill of 2 nodes"))

		// A fault on nothing but nodes that were not started did nothing,
		// and says so.
		p.Loop().At(p.Loop().Now(), platform.HandlerFunc(func(time.Duration) {
			Expect(p.Faults().Kill(ctx, "mongo-west-1a")).To(Succeed())
		}))
		runUntil(ctx, p, func() bool { return sink.count(EventFaultFailed) > 0 })
		Expect(sink.last(EventFaultFailed).Detail).To(ContainSubstring("nothing to do"))
		_, err = p.Role("mongo:primary")
		Expect(err).To(MatchError(ContainSubstring("not started")))
	}, NodeTimeout(3*time.Minute))
})

var _ = Describe("closing the platform", Label("docker"), func() {
	BeforeEach(func(ctx SpecContext) {
		if err := docker.IsReachable(ctx); err != nil {
			Skip(fmt.Sprintf("Docker is not reachable: %v", err))
		}
	})

	It("leaves nothing after a Start that failed, and may be called twice", func(ctx SpecContext) {
		runID := testRunID("failed-start")
		sink := &recorder{}
		p, err := New(platform.Config{RunID: runID, Topology: twoRegionTopology(), Completions: sink, Events: sink},
			WithStandinImage("chaosdrill-no-such-image:never"), WithoutPull())
		Expect(err).NotTo(HaveOccurred())

		err = p.Start(ctx)

		Expect(err).To(MatchError(platform.ErrEnvironment))
		Expect(err).To(MatchError(ContainSubstring("chaosdrill-no-such-image:never")))
		Expect(p.Close()).To(Succeed())
		Expect(p.Close()).To(Succeed())
		expectNothingLeft(ctx, runID)
	}, NodeTimeout(2*time.Minute))

	It("leaves nothing when interrupted in the middle of bring-up", func(ctx SpecContext) {
		image, err := docker.BuildStandinImage(ctx)
		Expect(err).NotTo(HaveOccurred())
		// Interrupt at several points of a bring-up of about 4 s: while the
		// network is made, while containers are created, while they start.
		var runIDs []string
		for _, after := range []time.Duration{50 * time.Millisecond, 400 * time.Millisecond, 1500 * time.Millisecond, 3 * time.Second} {
			runID := testRunID(fmt.Sprintf("interrupted-%d", after.Milliseconds()))
			runIDs = append(runIDs, runID)
			sink := &recorder{}
			p, err := New(platform.Config{RunID: runID, Topology: platform.Ion(), Completions: sink, Events: sink}, WithStandinImage(image), WithoutPull())
			Expect(err).NotTo(HaveOccurred())
			interrupted, cancel := context.WithTimeout(ctx, after)
			startErr := p.Start(interrupted)
			cancel()
			Expect(p.Close()).To(Succeed())
			expectNothingLeft(ctx, runID)
			fmt.Fprintf(GinkgoWriter, "interrupted after %v: start returned %v\n", after, startErr)
		}
		// A create the daemon finished after its client gave up would show
		// up late; look again once any such call has had time to land.
		time.Sleep(2 * time.Second)
		for _, runID := range runIDs {
			expectNothingLeft(ctx, runID)
		}
	}, NodeTimeout(3*time.Minute))

	It("is safe before Start", func() {
		sink := &recorder{}
		p, err := New(platform.Config{RunID: testRunID("never-started"), Topology: twoRegionTopology(), Completions: sink, Events: sink})
		Expect(err).NotTo(HaveOccurred())

		Expect(p.Close()).To(Succeed())
		Expect(p.Start(context.Background())).NotTo(Succeed())
	})
})
