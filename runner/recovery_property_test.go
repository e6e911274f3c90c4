package runner

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/scenarios"
	"github.com/chaosdrill/chaosdrill/simulator"
)

// The liveness property of issue 9: whatever faults hit a platform, once
// every one of them is healed every service recovers within a bound, on
// every seed (TigerBeetle's VOPR: a safety phase, then heal and require
// convergence). Each scenario of the library lends its topology and
// workloads; the runbook and expectations are dropped, and the fault
// schedule is drawn at random from the seed.

// recoveryBound is how long after the last heal every service must take
// writes again. The slowest documented path back is a killed node's boot
// (es.node_boot_time, 20 s) plus an election (MongoDB: "typically within
// 12 s"; Elasticsearch: at most cluster.election.initial_timeout) plus the
// Mongo driver noticing the new primary (client.heartbeat_interval, 10 s) and
// leader/follower checks giving up on a peer that was paused (about 33 s):
// about 75 s. Two minutes leaves room without hiding a service that never
// comes back.
const recoveryBound = 2 * time.Minute

// propertyRate is the writes per second each workload issues in the
// property runs: enough to see every second of an outage, few enough that
// the whole library on every seed runs in seconds.
const propertyRate = 20

// propertySeeds is how many random schedules each scenario gets.
const propertySeeds = 12

// randomSchedule draws one to three faults over the topology: a kind
// (kill, stop, pause, restart, partition, latency), a target (a node, a zone,
// a region or a whole service; for a partition two disjoint zones or
// regions), a time and a heal. Node-state faults never overlap in time on a
// node (a pause of a killed container is refused by Docker too).
func randomSchedule(r *rand.Rand, topo *platform.Topology) []scenarios.Fault {
	nodes := topo.Nodes()
	// Zones no node sits in match nothing: a fault there is refused.
	var zones []string
	for _, z := range topo.Zones() {
		if slices.ContainsFunc(nodes, func(n platform.Node) bool { return n.Zone == z }) {
			zones = append(zones, z)
		}
	}
	var regions []string
	for _, reg := range topo.Regions {
		regions = append(regions, reg.Name)
	}
	var services []string
	for _, s := range topo.Services {
		services = append(services, s.Name)
	}
	target := func() string {
		switch r.IntN(4) {
		case 0:
			return "node:" + nodes[r.IntN(len(nodes))].Name
		case 1:
			return "az:" + zones[r.IntN(len(zones))]
		case 2:
			return "region:" + regions[r.IntN(len(regions))]
		default:
			return "service:" + services[r.IntN(len(services))]
		}
	}
	resolve := func(text string) []string {
		sel, err := platform.ParseSelector(topo, text)
		Expect(err).NotTo(HaveOccurred())
		return sel.Static(topo)
	}
	type window struct {
		nodes    []string
		from, to time.Duration
	}
	var busy []window
	clashes := func(w window) bool {
		for _, b := range busy {
			if w.from <= b.to && b.from <= w.to && slices.ContainsFunc(w.nodes, func(n string) bool { return slices.Contains(b.nodes, n) }) {
				return true
			}
		}
		return false
	}
	kinds := scenarios.FaultKinds
	var faults []scenarios.Fault
	for len(faults) < 1+r.IntN(3) {
		at := 30*time.Second + time.Duration(r.Int64N(int64(4*time.Minute)))
		heal := 5*time.Second + time.Duration(r.Int64N(int64(3*time.Minute)))
		f := scenarios.Fault{Name: fmt.Sprintf("f%d", len(faults)+1), Kind: kinds[r.IntN(len(kinds))]}
		atD := platform.Duration(at)
		f.At = &atD
		switch f.Kind {
		case scenarios.FaultPartition:
			groups := zones
			if len(regions) > 1 && r.IntN(2) == 0 {
				groups = regions
				f.Between = []string{"region:", "region:"}
			} else {
				f.Between = []string{"az:", "az:"}
			}
			if len(groups) < 2 {
				continue
			}
			i, j := r.IntN(len(groups)), r.IntN(len(groups)-1)
			if j >= i {
				j++
			}
			f.Between[0] += groups[i]
			f.Between[1] += groups[j]
			f.Heal = platform.Duration(heal)
		case scenarios.FaultLatency:
			f.Target = target()
			f.Latency = platform.Duration(100*time.Millisecond + time.Duration(r.Int64N(int64(15*time.Second))))
			f.Heal = platform.Duration(heal)
		default:
			f.Target = target()
			w := window{nodes: resolve(f.Target), from: at, to: at}
			if f.Kind != scenarios.FaultRestart {
				f.Heal = platform.Duration(heal)
				w.to = at + heal
			}
			if clashes(w) {
				continue
			}
			busy = append(busy, w)
		}
		faults = append(faults, f)
	}
	return faults
}

// lastHeal is when the last fault of the schedule is over.
func lastHeal(faults []scenarios.Fault) time.Duration {
	end := time.Duration(0)
	for _, f := range faults {
		end = max(end, f.At.D()+f.Heal.D())
	}
	return end
}

// watchedPlatform remembers, for each write, its service and when it was
// issued and acknowledged, on top of whatever the runner records.
type watchedPlatform struct {
	platform.Platform
	sim      *simulator.Sim
	runner   platform.Completions
	service  map[uint64]string
	invoked  map[uint64]time.Duration
	acked    map[uint64]bool
	services []string
}

func (w *watchedPlatform) Client(service string) (platform.Client, error) {
	c, err := w.Platform.Client(service)
	if err != nil {
		return nil, err
	}
	return watchedClient{Client: c, w: w, name: service}, nil
}

func (w *watchedPlatform) Completed(op uint64, o platform.Outcome, at time.Duration) {
	w.acked[op] = o == platform.Acked
	w.runner.Completed(op, o, at)
}

type watchedClient struct {
	platform.Client
	w    *watchedPlatform
	name string
}

func (c watchedClient) Write(op uint64) {
	c.w.service[op] = c.name
	c.w.invoked[op] = c.w.sim.Now()
	c.Client.Write(op)
}

// runWithSchedule runs a library scenario's topology and workloads under
// faults, and returns the platform it ran on.
func runWithSchedule(name string, seed uint64, faults []scenarios.Fault, duration time.Duration) *watchedPlatform {
	GinkgoHelper()
	sc, err := scenarios.Load(filepath.Join("..", "scenarios", name+".yaml"), scenarios.WithParameters(simulator.Parameters()))
	Expect(err).NotTo(HaveOccurred())
	sc.Runbook, sc.Expect, sc.Faults = nil, nil, faults
	sc.Duration = platform.Duration(duration)
	for i := range sc.Workloads {
		sc.Workloads[i].Rate = propertyRate
	}
	w := &watchedPlatform{service: map[uint64]string{}, invoked: map[uint64]time.Duration{}, acked: map[uint64]bool{}}
	build := func(cfg platform.Config) (platform.Platform, error) {
		w.runner = cfg.Completions
		cfg.Completions = w
		s, err := simulator.New(cfg)
		w.Platform, w.sim = s, s
		return w, err
	}
	rep, err := Run(context.Background(), sc, build, Options{Seed: seed})
	Expect(err).NotTo(HaveOccurred())
	for _, f := range rep.Faults {
		Expect(f.Error).To(BeEmpty(), "fault %s could not be carried out", f.Name)
	}
	for _, s := range sc.Topology.Resolved.Services {
		w.services = append(w.services, s.Name)
	}
	return w
}

func describeSchedule(faults []scenarios.Fault) string {
	var parts []string
	for _, f := range faults {
		what := f.Target
		if f.Kind == scenarios.FaultPartition {
			what = strings.Join(f.Between, "|")
		}
		parts = append(parts, fmt.Sprintf("%s %s at %s heal %s", f.Kind, what, f.At.D(), f.Heal.D()))
	}
	return strings.Join(parts, "; ")
}

var _ = Describe("property: every service recovers once every fault is healed", func() {
	files, _ := filepath.Glob(filepath.Join("..", "scenarios", "*.yaml"))
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		It(fmt.Sprintf("%s's platform under %d random fault schedules", name, propertySeeds), func() {
			sc, err := scenarios.Load(file, scenarios.WithParameters(simulator.Parameters()))
			Expect(err).NotTo(HaveOccurred())
			topo := sc.Topology.Resolved
			for seed := uint64(1); seed <= propertySeeds; seed++ {
				faults := randomSchedule(rand.New(rand.NewPCG(seed, 9)), topo)
				healed := lastHeal(faults)
				end := healed + recoveryBound + 2*time.Minute
				w := runWithSchedule(name, seed, faults, end)
				// The writes issued from the bound on, and answered
				// before the traffic stops, are all acknowledged.
				from, until := healed+recoveryBound, end-15*time.Second
				checked := map[string]int{}
				for op, at := range w.invoked {
					if at < from || at >= until {
						continue
					}
					service := w.service[op]
					checked[service]++
					Expect(w.acked[op]).To(BeTrue(), "%s seed %d: %s write issued %s after the last heal is not acknowledged; faults: %s",
						name, seed, service, at-healed, describeSchedule(faults))
				}
				for _, s := range sc.Workloads {
					Expect(checked[s.Service]).To(BeNumerically(">", 0), "%s seed %d: no %s write to check", name, seed, s.Service)
				}
				for _, spec := range topo.Services {
					role := map[string]string{platform.KindMongo: "primary", platform.KindElastic: "master"}[spec.Kind]
					if role == "" {
						continue
					}
					holders, err := w.Role(spec.Name + ":" + role)
					Expect(err).NotTo(HaveOccurred())
					Expect(holders).To(HaveLen(1), "%s seed %d: %s has no %s at the end; faults: %s", name, seed, spec.Name, role, describeSchedule(faults))
				}
			}
		})
	}
})
