package docker

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/chaosdrill/chaosdrill/platform"
)

const (
	// crossCutTimeout is how long a dial across a partition is given; a
	// healthy dial on the bridge takes well under a millisecond.
	crossCutTimeout = 300 * time.Millisecond
	healthyTimeout  = 2 * time.Second
	probeTimeout    = 300 * time.Millisecond
	addedLatency    = 200 * time.Millisecond
	// latencySlack is the most a delayed round trip may exceed the added
	// latency by on this shared 2-core host.
	latencySlack = 150 * time.Millisecond
	// latencyRounds is how many pings a latency measurement takes the
	// fastest of: a loaded host's scheduling delays only add, so the
	// fastest of ten is the link's delay plus the least noise.
	latencyRounds = 10
	// fastRoundTrip bounds an undelayed container-to-container round trip.
	fastRoundTrip = 50 * time.Millisecond
)

// The stand-in topology: 2 regions, 4 AZs, 9 nodes.
var topology = []struct{ name, region, zone string }{
	{"mongo-1", "us-east-1", "us-east-1a"},
	{"mongo-2", "us-east-1", "us-east-1b"},
	{"mongo-3", "us-west-1", "us-west-1a"},
	{"es-1a", "us-east-1", "us-east-1a"},
	{"es-1b", "us-east-1", "us-east-1b"},
	{"es-1c", "us-east-1", "us-east-1c"},
	{"es-west", "us-west-1", "us-west-1a"},
	{"s3-east", "us-east-1", "us-east-1a"},
	{"s3-west", "us-west-1", "us-west-1a"},
}

func nodesWhere(match func(region, zone string) bool) []string {
	var names []string
	for _, n := range topology {
		if match(n.region, n.zone) {
			names = append(names, n.name)
		}
	}
	return names
}

func echo(engine *Engine, node string) Probe {
	return EchoProbe(func(ctx context.Context) (string, error) {
		return engine.HostAddress(ctx, node, StandinEchoPort)
	})
}

func answers(ctx context.Context, engine *Engine, node string) error {
	probeCtx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	return echo(engine, node)(probeCtx)
}

func dial(ctx context.Context, engine *Engine, from, to string, timeout time.Duration) DialResult {
	result, err := StandinDial(ctx, engine, from, to, timeout, 1)
	Expect(err).NotTo(HaveOccurred(), "ask %s to dial %s", from, to)
	return result
}

// dialAll dials every (from, to) pair in parallel and returns the results
// in order.
func dialAll(ctx context.Context, engine *Engine, pairs [][2]string, timeout time.Duration) []DialResult {
	results := make([]DialResult, len(pairs))
	var wg sync.WaitGroup
	for i, pair := range pairs {
		wg.Go(func() {
			defer GinkgoRecover()
			results[i] = dial(ctx, engine, pair[0], pair[1], timeout)
		})
	}
	wg.Wait()
	return results
}

func across(a, b []string) [][2]string {
	var pairs [][2]string
	for _, x := range a {
		for _, y := range b {
			pairs = append(pairs, [2]string{x, y}, [2]string{y, x})
		}
	}
	return pairs
}

var _ = Describe("a stand-in topology across 2 regions and 4 AZs", Ordered, func() {
	var engine *Engine
	var runID string

	BeforeAll(func(ctx SpecContext) {
		runID = newRunID("topology")
		var err error
		engine, err = NewEngine(ctx, runID, WithoutPull())
		Expect(err).NotTo(HaveOccurred())
		specs := make([]NodeSpec, 0, len(topology))
		for _, n := range topology {
			specs = append(specs, StandinSpec(standinImage, n.name, n.region, n.zone))
		}
		began := time.Now()
		err = engine.StartNodes(ctx, specs)
		bringUp := time.Since(began)
		Expect(err).NotTo(HaveOccurred())
		AddReportEntry("bring-up of 9 stand-in containers in parallel", bringUp.String())
		fmt.Fprintf(GinkgoWriter, "bring-up of %d stand-ins (parallel): %v\n", len(specs), bringUp)
	}, NodeTimeout(2*time.Minute))

	AfterAll(func(ctx SpecContext) {
		if engine == nil {
			return
		}
		Expect(engine.Close(ctx)).To(Succeed())
		Expect(engine.Close(ctx)).To(Succeed(), "Close is idempotent")
		containers, networks := leftovers(ctx, runID)
		Expect(containers).To(BeZero())
		Expect(networks).To(BeZero())
	})

	It("labels every container with its run, node, region and zone", func(ctx SpecContext) {
		listed, err := rawDocker(ctx).ContainerList(ctx, client.ContainerListOptions{Filters: runFilter(runID)})
		Expect(err).NotTo(HaveOccurred())
		Expect(listed.Items).To(HaveLen(len(topology)))
		byNode := map[string]map[string]string{}
		for _, found := range listed.Items {
			byNode[found.Labels[LabelNode]] = found.Labels
		}
		for _, n := range topology {
			Expect(byNode).To(HaveKeyWithValue(n.name, And(
				HaveKeyWithValue(LabelRun, runID),
				HaveKeyWithValue(LabelRegion, n.region),
				HaveKeyWithValue(LabelZone, n.zone))))
			Expect(answers(ctx, engine, n.name)).To(Succeed(), "%s answers the harness", n.name)
		}
	})

	It("kills a node at once; it answers nothing until Start brings it back at the same alias", func(ctx SpecContext) {
		before, err := engine.HostAddress(ctx, "es-1b", StandinEchoPort)
		Expect(err).NotTo(HaveOccurred())

		Expect(engine.Kill(ctx, "es-1b")).Error().To(Succeed())
		inspected, err := rawDocker(ctx).ContainerInspect(ctx, engine.containerName("es-1b"), client.ContainerInspectOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(inspected.Container.State.Status).To(Equal(container.StateExited))
		Expect(inspected.Container.State.ExitCode).To(Equal(137), "SIGKILL")
		oldAddress := EchoProbe(func(context.Context) (string, error) { return before, nil })
		probeCtx, cancel := context.WithTimeout(ctx, probeTimeout)
		defer cancel()
		Expect(oldAddress(probeCtx)).To(HaveOccurred(), "the old host port answers nothing")
		Expect(dial(ctx, engine, "es-1a", "es-1b", crossCutTimeout).Reachable).To(BeFalse(), "peers cannot reach a killed node")

		Expect(engine.Start(ctx, "es-1b")).Error().To(Succeed())
		Expect(engine.WaitReady(ctx, "es-1b")).To(Succeed())
		after, err := engine.HostAddress(ctx, "es-1b", StandinEchoPort)
		Expect(err).NotTo(HaveOccurred())
		fmt.Fprintf(GinkgoWriter, "es-1b echo port before kill %s, after start %s\n", before, after)
		Expect(answers(ctx, engine, "es-1b")).To(Succeed())
		result := dial(ctx, engine, "es-1a", "es-1b", healthyTimeout)
		Expect(result.Reachable).To(BeTrue(), result.Error)
		Expect(result.Reply).To(Equal("pong es-1b"))
	})

	It("stops a node gracefully and starts it again reachable at its alias", func(ctx SpecContext) {
		Expect(engine.Stop(ctx, "mongo-3")).Error().To(Succeed())
		Expect(answers(ctx, engine, "mongo-3")).To(HaveOccurred())
		Expect(engine.Start(ctx, "mongo-3")).Error().To(Succeed())
		Expect(engine.WaitReady(ctx, "mongo-3")).To(Succeed())
		result := dial(ctx, engine, "mongo-1", "mongo-3", healthyTimeout)
		Expect(result.Reachable).To(BeTrue(), result.Error)
		Expect(result.Reply).To(Equal("pong mongo-3"))
	})

	It("pauses a node: it does not answer, and after Resume it does", func(ctx SpecContext) {
		Expect(engine.Pause(ctx, "mongo-2")).Error().To(Succeed())
		Expect(answers(ctx, engine, "mongo-2")).To(MatchError(ContainSubstring("timeout")))
		Expect(dial(ctx, engine, "mongo-1", "mongo-2", crossCutTimeout).Reachable).To(BeFalse())
		Expect(engine.Resume(ctx, "mongo-2")).Error().To(Succeed())
		Expect(answers(ctx, engine, "mongo-2")).To(Succeed())
		Expect(dial(ctx, engine, "mongo-1", "mongo-2", healthyTimeout).Reachable).To(BeTrue())
	})

	It("partitions an AZ from a region, both ways and nothing else, and heals", func(ctx SpecContext) {
		zone := nodesWhere(func(_, zone string) bool { return zone == "us-east-1a" })
		region := nodesWhere(func(region, _ string) bool { return region == "us-west-1" })
		Expect(zone).To(ConsistOf("mongo-1", "es-1a", "s3-east"))
		Expect(region).To(ConsistOf("mongo-3", "es-west", "s3-west"))

		began := time.Now()
		Expect(engine.Partition(ctx, zone, region)).To(Succeed())
		fmt.Fprintf(GinkgoWriter, "partition of 3 nodes from 3 nodes applied in %v\n", time.Since(began))

		for i, result := range dialAll(ctx, engine, across(zone, region), crossCutTimeout) {
			Expect(result.Reachable).To(BeFalse(), "%s reached %s across the cut", result.From, across(zone, region)[i][1])
			Expect(result.Error).To(ContainSubstring("timeout"), "a cut link drops packets rather than refusing")
		}
		untouched := [][2]string{
			{"mongo-1", "es-1a"}, {"s3-east", "mongo-1"}, // inside the AZ
			{"mongo-3", "s3-west"}, {"es-west", "mongo-3"}, // inside the region
			{"mongo-2", "mongo-1"}, {"mongo-2", "mongo-3"}, // a bystander reaches both sides
			{"es-1a", "es-1c"}, {"es-west", "es-1b"}, // each side reaches the rest of east
		}
		for i, result := range dialAll(ctx, engine, untouched, healthyTimeout) {
			Expect(result.Reachable).To(BeTrue(), "%s -> %s: %s", untouched[i][0], untouched[i][1], result.Error)
		}
		for _, node := range append(append([]string{}, zone...), region...) {
			Expect(answers(ctx, engine, node)).To(Succeed(), "the harness still reaches %s", node)
		}

		Expect(engine.Heal(ctx, zone, region)).To(Succeed())
		for i, result := range dialAll(ctx, engine, across(zone, region), healthyTimeout) {
			Expect(result.Reachable).To(BeTrue(), "after heal %v: %s", across(zone, region)[i], result.Error)
		}
	})

	It("keeps a partition across a restart of a node on one side", func(ctx SpecContext) {
		Expect(engine.Partition(ctx, []string{"es-1c"}, []string{"es-west"})).To(Succeed())
		Expect(engine.Kill(ctx, "es-1c")).Error().To(Succeed())
		Expect(engine.Start(ctx, "es-1c")).Error().To(Succeed())
		Expect(engine.WaitReady(ctx, "es-1c")).To(Succeed())
		for _, result := range dialAll(ctx, engine, across([]string{"es-1c"}, []string{"es-west"}), crossCutTimeout) {
			Expect(result.Reachable).To(BeFalse(), "%s reached across the cut after a restart", result.From)
		}
		Expect(engine.Heal(ctx, []string{"es-1c"}, []string{"es-west"})).To(Succeed())
		Expect(dial(ctx, engine, "es-1c", "es-west", healthyTimeout).Reachable).To(BeTrue())
	})

	It("replaces a node by a new, empty container at the same alias, its partition kept", func(ctx SpecContext) {
		before, err := engine.owned(ctx, "es-1b")
		Expect(err).NotTo(HaveOccurred())
		Expect(engine.Partition(ctx, []string{"es-1b"}, []string{"es-west"})).To(Succeed())

		started, err := engine.Replace(ctx, "es-1b")
		Expect(err).NotTo(HaveOccurred())

		after, err := engine.owned(ctx, "es-1b")
		Expect(err).NotTo(HaveOccurred(), "the new container carries the run's and the node's labels")
		Expect(after.ID).NotTo(Equal(before.ID))
		_, err = rawDocker(ctx).ContainerInspect(ctx, before.ID, client.ContainerInspectOptions{})
		Expect(err).To(HaveOccurred(), "the old container, and its volumes, are gone")
		Expect(started).To(BeTemporally(">", mustParse(before.State.StartedAt)))
		Expect(answers(ctx, engine, "es-1b")).To(Succeed())
		result := dial(ctx, engine, "es-1a", "es-1b", healthyTimeout)
		Expect(result.Reachable).To(BeTrue(), result.Error)
		Expect(result.Reply).To(Equal("pong es-1b"))
		Expect(dial(ctx, engine, "es-1b", "es-west", crossCutTimeout).Reachable).To(BeFalse(), "the cut holds for the new container")
		Expect(engine.Heal(ctx, []string{"es-1b"}, []string{"es-west"})).To(Succeed())
		Expect(dial(ctx, engine, "es-1b", "es-west", healthyTimeout).Reachable).To(BeTrue())
	})

	It("adds latency that shows in measured round trips, and removes it", func(ctx SpecContext) {
		Expect(engine.AddLatency(ctx, "es-1c", addedLatency)).To(Succeed())
		for _, pair := range [][2]string{{"es-1a", "es-1c"}, {"es-1c", "es-1a"}} {
			result, err := StandinDial(ctx, engine, pair[0], pair[1], 5*time.Second, latencyRounds)
			Expect(err).NotTo(HaveOccurred())
			Expect(result.Reachable).To(BeTrue(), result.Error)
			fmt.Fprintf(GinkgoWriter, "%s -> %s with %v added: round trip %v\n", pair[0], pair[1], addedLatency, result.RoundTrip())
			Expect(result.RoundTrip()).To(And(BeNumerically(">=", addedLatency), BeNumerically("<=", addedLatency+latencySlack)))
		}
		unaffected, err := StandinDial(ctx, engine, "es-1a", "es-1b", healthyTimeout, 3)
		Expect(err).NotTo(HaveOccurred())
		Expect(unaffected.RoundTrip()).To(BeNumerically("<", fastRoundTrip), "a link not through es-1c is not delayed")

		Expect(engine.RemoveLatency(ctx, "es-1c")).To(Succeed())
		result, err := StandinDial(ctx, engine, "es-1a", "es-1c", healthyTimeout, 3)
		Expect(err).NotTo(HaveOccurred())
		Expect(result.Reachable).To(BeTrue(), result.Error)
		fmt.Fprintf(GinkgoWriter, "es-1a -> es-1c after removal: round trip %v\n", result.RoundTrip())
		Expect(result.RoundTrip()).To(BeNumerically("<", fastRoundTrip))
	})

	It("measures a 3 s pause as the outage Docker recorded, within 100 ms", func(ctx SpecContext) {
		const (
			pauseFor      = 3 * time.Second
			probeInterval = 20 * time.Millisecond
			tolerance     = 100 * time.Millisecond
			settle        = 300 * time.Millisecond
		)
		prober := NewProber(echo(engine, "s3-west"), probeInterval, 200*time.Millisecond)
		prober.Start(ctx)
		time.Sleep(settle)

		pauseCalled := time.Now()
		pausedAt, err := engine.Pause(ctx, "s3-west")
		Expect(err).NotTo(HaveOccurred())
		time.Sleep(time.Until(pausedAt.Add(pauseFor)))
		resumeCalled := time.Now()
		resumedAt, err := engine.Resume(ctx, "s3-west")
		Expect(err).NotTo(HaveOccurred())
		time.Sleep(settle)
		prober.Stop()

		// The truth is what Docker did, not how long our API calls took
		// around it (on a loaded machine a call can take 200 ms): the
		// freeze began after the pause was asked for and was complete when
		// Docker stamped its pause event; likewise the thaw. On an idle
		// machine those brackets are a few milliseconds wide.
		outages := prober.Outages()
		Expect(outages).To(HaveLen(1), "transitions: %v", prober.Transitions())
		measured := outages[0]
		fmt.Fprintf(GinkgoWriter, "Docker: paused for %v (pause event %v after the call, unpause event %v after the call); measured outage %v, starting %v after the pause event, ending %v after the unpause event\n",
			resumedAt.Sub(pausedAt), pausedAt.Sub(pauseCalled), resumedAt.Sub(resumeCalled), measured.Duration(), measured.Start.Sub(pausedAt), measured.End.Sub(resumedAt))
		AddReportEntry("measured outage of a 3 s pause", measured.Duration().String())
		Expect(resumedAt.Sub(pausedAt)).To(BeNumerically(">=", pauseFor))
		Expect(measured.Start).To(And(BeTemporally(">=", pauseCalled.Add(-tolerance)), BeTemporally("<=", pausedAt.Add(tolerance))), "the outage starts when the freeze did")
		Expect(measured.End).To(And(BeTemporally(">=", resumeCalled.Add(-tolerance)), BeTemporally("<=", resumedAt.Add(tolerance))), "and ends when the thaw did")
		Expect(measured.Duration()).To(And(BeNumerically(">=", resumeCalled.Sub(pausedAt)-tolerance), BeNumerically("<=", resumedAt.Sub(pauseCalled)+tolerance)))
	})

	It("applies the latency of the links between placements, which shows in round trips inside the network", func(ctx SpecContext) {
		const (
			interRegion = 40 * time.Millisecond
			interZone   = 5 * time.Millisecond
		)
		links := func(fromRegion, fromZone, toRegion, toZone string) time.Duration {
			switch {
			case fromRegion != toRegion:
				return interRegion
			case fromZone != toZone:
				return interZone
			}
			return 0
		}
		Expect(engine.SetLinkLatency(ctx, links)).To(Succeed())
		DeferCleanup(func(ctx SpecContext) { Expect(engine.SetLinkLatency(ctx, nil)).To(Succeed()) })

		for _, c := range []struct {
			from, to string
			want     time.Duration
		}{
			{"mongo-1", "mongo-3", 2 * interRegion}, // us-east-1a -> us-west-1a
			{"es-west", "es-1c", 2 * interRegion},
			{"mongo-1", "mongo-2", 2 * interZone}, // us-east-1a -> us-east-1b
			{"mongo-1", "es-1a", 0},               // same zone
		} {
			inside, err := StandinDial(ctx, engine, c.from, c.to, 5*time.Second, latencyRounds)
			Expect(err).NotTo(HaveOccurred())
			Expect(inside.Reachable).To(BeTrue(), inside.Error)
			measured, err := engine.RoundTrip(ctx, c.from, c.to, StandinEchoPort)
			Expect(err).NotTo(HaveOccurred())
			fmt.Fprintf(GinkgoWriter, "%s -> %s: configured round trip %v; measured %v by the stand-in, %v from its namespace\n", c.from, c.to, c.want, inside.RoundTrip(), measured)
			for _, rtt := range []time.Duration{inside.RoundTrip(), measured} {
				Expect(rtt).To(And(BeNumerically(">=", c.want), BeNumerically("<=", c.want+latencySlack)))
			}
		}
		unaffected, err := StandinDial(ctx, engine, "mongo-1", "es-1a", healthyTimeout, 3)
		Expect(err).NotTo(HaveOccurred())
		Expect(unaffected.RoundTrip()).To(BeNumerically("<", fastRoundTrip))

		// A restarted node is placed again, and added latency comes on top.
		Expect(engine.Kill(ctx, "mongo-3")).Error().To(Succeed())
		Expect(engine.Start(ctx, "mongo-3")).Error().To(Succeed())
		Expect(engine.WaitReady(ctx, "mongo-3")).To(Succeed())
		Expect(engine.AddLatency(ctx, "mongo-1", addedLatency)).To(Succeed())
		measured, err := engine.RoundTrip(ctx, "mongo-1", "mongo-3", StandinEchoPort)
		Expect(err).NotTo(HaveOccurred())
		fmt.Fprintf(GinkgoWriter, "mongo-1 -> mongo-3 after a restart of mongo-3, with %v added on mongo-1: %v\n", addedLatency, measured)
		Expect(measured).To(And(BeNumerically(">=", 2*interRegion+addedLatency), BeNumerically("<=", 2*interRegion+addedLatency+latencySlack)))
		Expect(engine.RemoveLatency(ctx, "mongo-1")).To(Succeed())
	})
})

var _ = Describe("an engine", func() {
	var engine *Engine
	var runID string

	BeforeEach(func(ctx SpecContext) {
		runID = newRunID("engine")
		var err error
		engine, err = NewEngine(ctx, runID, WithoutPull())
		Expect(err).NotTo(HaveOccurred())
	})

	AfterEach(func(ctx SpecContext) {
		Expect(engine.Close(ctx)).To(Succeed())
		expectNothingLeft(ctx)
	})

	It("refuses to touch a node's container that lacks the run's label", func(ctx SpecContext) {
		Expect(engine.StartNodes(ctx, []NodeSpec{StandinSpec(standinImage, "victim", "us-east-1", "us-east-1a")})).To(Succeed())
		docker := rawDocker(ctx)
		name := engine.containerName("victim")
		_, err := docker.ContainerRemove(ctx, name, client.ContainerRemoveOptions{Force: true})
		Expect(err).NotTo(HaveOccurred())
		impostor, err := docker.ContainerCreate(ctx, client.ContainerCreateOptions{
			Name:   name,
			Config: &container.Config{Image: standinImage, Env: []string{"NODE_NAME=impostor"}},
		})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) {
			_, err := docker.ContainerRemove(ctx, impostor.ID, client.ContainerRemoveOptions{Force: true})
			Expect(err).NotTo(HaveOccurred())
		})
		_, err = docker.ContainerStart(ctx, impostor.ID, client.ContainerStartOptions{})
		Expect(err).NotTo(HaveOccurred())

		faults := map[string]func() error{
			"kill":        func() error { _, err := engine.Kill(ctx, "victim"); return err },
			"stop":        func() error { _, err := engine.Stop(ctx, "victim"); return err },
			"pause":       func() error { _, err := engine.Pause(ctx, "victim"); return err },
			"partition":   func() error { return engine.Partition(ctx, []string{"victim"}, nil) },
			"add latency": func() error { return engine.AddLatency(ctx, "victim", time.Second) },
		}
		for name, fault := range faults {
			Expect(fault()).To(MatchError(ErrForeignContainer), name)
		}
		_, _, err = engine.Exec(ctx, "victim", []string{"/standin"})
		Expect(err).To(MatchError(ErrForeignContainer))
		inspected, err := docker.ContainerInspect(ctx, impostor.ID, client.ContainerInspectOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(inspected.Container.State.Status).To(Equal(container.StateRunning), "the unlabelled container was left alone")
	})

	It("refuses a node it never started", func(ctx SpecContext) {
		Expect(engine.Kill(ctx, "nobody")).Error().To(MatchError(platform.ErrUnknownNode))
	})

	It("names a missing image and leaves nothing behind", func(ctx SpecContext) {
		const missing = "chaosdrill-missing-image:never-built"
		err := engine.StartNodes(ctx, []NodeSpec{
			StandinSpec(standinImage, "fine", "us-east-1", "us-east-1a"),
			StandinSpec(missing, "doomed", "us-east-1", "us-east-1b"),
		})
		Expect(err).To(MatchError(platform.ErrEnvironment))
		Expect(err).To(MatchError(And(ContainSubstring(missing), ContainSubstring("doomed"))))
		containers, networks := leftovers(ctx, runID)
		Expect(containers).To(BeZero())
		Expect(networks).To(BeZero())
	})

	It("names the node that never came up and removes everything it started", func(ctx SpecContext) {
		never := StandinSpec(standinImage, "sleepy", "us-east-1", "us-east-1b")
		never.WaitingFor = wait.ForLog("a line the stand-in never prints").WithStartupTimeout(2 * time.Second)
		never.StartupTimeout = 2 * time.Second
		err := engine.StartNodes(ctx, []NodeSpec{StandinSpec(standinImage, "awake", "us-east-1", "us-east-1a"), never})
		Expect(err).To(MatchError(platform.ErrEnvironment))
		Expect(err).To(MatchError(ContainSubstring("node sleepy")))
		Expect(err).To(MatchError(ContainSubstring("never came up within 2s")), "says how long it waited")
		containers, networks := leftovers(ctx, runID)
		Expect(containers).To(BeZero())
		Expect(networks).To(BeZero())
	})

	It("runs commands in a node and returns their exit code and output", func(ctx SpecContext) {
		Expect(engine.StartNodes(ctx, []NodeSpec{StandinSpec(standinImage, "runner", "us-east-1", "us-east-1a")})).To(Succeed())
		// A second server in the same container cannot bind the ports.
		code, output, err := engine.Exec(ctx, "runner", []string{"/standin"})
		Expect(err).NotTo(HaveOccurred())
		Expect(code).To(Equal(1))
		Expect(output).To(ContainSubstring("address already in use"))
	})
})

var _ = Describe("Cleanup", func() {
	It("removes what a killed harness left behind: its owner process has ended", func(ctx SpecContext) {
		runID := newRunID("killed")
		killed := startAbandonedRun(ctx, runID)
		Expect(killed.Kill()).To(Succeed()) // the harness dies here: no Close
		_, _ = killed.Wait()
		containers, networks := leftovers(ctx, runID)
		Expect(containers).To(Equal(2), "the killed harness left its containers")
		Expect(networks).To(Equal(1))

		removed, err := Cleanup(ctx, CleanupOptions{Run: runID})
		Expect(err).NotTo(HaveOccurred())
		Expect(removed.Containers).To(Equal(2), "a paused container is removed too")
		Expect(removed.Networks).To(Equal(1))
		Expect(removed.Kept).To(BeEmpty())
		containers, networks = leftovers(ctx, runID)
		Expect(containers).To(BeZero())
		Expect(networks).To(BeZero())
	})

	It("keeps a run whose harness is still running, even cleaning up every run, and says why", func(ctx SpecContext) {
		runID := newRunID("going")
		going, err := NewEngine(ctx, runID, WithoutPull())
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { Expect(going.Close(ctx)).To(Succeed()) })
		Expect(going.StartNodes(ctx, []NodeSpec{StandinSpec(standinImage, "busy", "us-east-1", "us-east-1a")})).To(Succeed())

		removed, err := Cleanup(ctx, CleanupOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(removed.Kept).To(ContainElement(KeptRun{Run: runID, Why: fmt.Sprintf("its owner, %s, is still running", CurrentOwner())}))
		containers, networks := leftovers(ctx, runID)
		Expect(containers).To(Equal(1), "the run's container survives")
		Expect(networks).To(Equal(1))
		Expect(going.Kill(ctx, "busy")).Error().To(Succeed(), "and the run goes on using it")
	})

	It("removes a run still going only when told to (--all)", func(ctx SpecContext) {
		runID := newRunID("forced")
		going, err := NewEngine(ctx, runID, WithoutPull())
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { Expect(going.Close(ctx)).To(Succeed()) })
		Expect(going.StartNodes(ctx, []NodeSpec{StandinSpec(standinImage, "doomed", "us-east-1", "us-east-1a")})).To(Succeed())
		removed, err := Cleanup(ctx, CleanupOptions{Run: runID, All: true})
		Expect(err).NotTo(HaveOccurred())
		Expect(removed).To(Equal(Removed{Containers: 1, Networks: 1}))
	})

	It("labels what a run creates with its owner: host, PID and start time", func(ctx SpecContext) {
		runID := newRunID("labelled")
		e, err := NewEngine(ctx, runID, WithoutPull())
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { Expect(e.Close(ctx)).To(Succeed()) })
		Expect(e.StartNodes(ctx, []NodeSpec{StandinSpec(standinImage, "marked", "us-east-1", "us-east-1a")})).To(Succeed())
		docker := rawDocker(ctx)
		listed, err := docker.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: runFilter(runID)})
		Expect(err).NotTo(HaveOccurred())
		Expect(listed.Items).To(HaveLen(1))
		nets, err := docker.NetworkList(ctx, client.NetworkListOptions{Filters: runFilter(runID)})
		Expect(err).NotTo(HaveOccurred())
		Expect(nets.Items).To(HaveLen(1))
		self := CurrentOwner()
		Expect(self.Start).NotTo(BeEmpty(), "procfs gives the start time on Linux")
		for _, labels := range []map[string]string{listed.Items[0].Labels, nets.Items[0].Labels} {
			Expect(labels).To(HaveKeyWithValue(LabelOwnerHost, self.Host))
			Expect(labels).To(HaveKeyWithValue(LabelOwnerPID, fmt.Sprint(os.Getpid())))
			Expect(labels).To(HaveKeyWithValue(LabelOwnerStart, self.Start))
		}
	})

	It("leaves other runs and stand-in images alone", func(ctx SpecContext) {
		removed, err := Cleanup(ctx, CleanupOptions{Run: newRunID("empty"), All: true})
		Expect(err).NotTo(HaveOccurred())
		Expect(removed).To(Equal(Removed{}))
		_, err = rawDocker(ctx).ImageInspect(ctx, standinImage)
		Expect(err).NotTo(HaveOccurred())
	})
})

var _ = Describe("NewEngine", func() {
	It("rejects a run id Docker cannot use in names", func(ctx SpecContext) {
		_, err := NewEngine(ctx, "no spaces allowed")
		Expect(err).To(MatchError(ContainSubstring("run id")))
	})
})

var _ = Describe("where the Docker engine is", func() {
	DescribeTable("is on this machine, or is refused up front with what to do",
		func(daemonHost string, local bool) {
			p := remoteProblem(daemonHost)
			if local {
				Expect(p).To(BeNil())
				return
			}
			Expect(p).NotTo(BeNil())
			Expect(p.What).To(ContainSubstring(daemonHost))
			Expect(p.Fix).To(ContainSubstring("run chaosdrill on the Docker host"))
		},
		Entry("the local socket", "unix:///var/run/docker.sock", true),
		Entry("a rootless socket", "unix:///run/user/1000/docker.sock", true),
		Entry("TCP on loopback", "tcp://127.0.0.1:2375", true),
		Entry("TCP on localhost", "tcp://localhost:2376", true),
		Entry("another machine", "tcp://10.0.0.5:2376", false),
		Entry("over SSH", "ssh://ci@builder.example", false),
	)
})

func mustParse(rfc3339 string) time.Time {
	GinkgoHelper()
	t, err := time.Parse(time.RFC3339Nano, rfc3339)
	Expect(err).NotTo(HaveOccurred())
	return t
}
