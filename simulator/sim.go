package simulator

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

// nodeState is what a fault has done to a node.
type nodeState uint8

const (
	nodeRunning nodeState = iota
	nodeDown              // killed or stopped: no process, connections reset
	nodePaused            // frozen: connections open, nothing answers
)

// nodeChange tells a model what just happened to one of its nodes.
type nodeChange uint8

const (
	changeKilled nodeChange = iota
	changeStopped
	changeStarted
	changePaused
	changeResumed
	changeDisk // its data volume's state changed (disk.go)
)

func (c nodeChange) String() string {
	return [...]string{"killed", "stopped", "started", "paused", "resumed", "disk"}[c]
}

// simNode is a node's simulated state. index is its position in Sim.nodes,
// stable for the run (nodes are only ever added).
type simNode struct {
	platform.Node
	index        int
	state        nodeState
	extraLatency time.Duration
	// clientLatency is the one-way latency from a client in each region
	// (in topology order) to this node, drawn once per run.
	clientLatency []time.Duration
	disk          diskState
	// crashedByDisk marks a node whose process a disk fault crashed (its
	// heal starts it again); diskSeq invalidates a crash scheduled under
	// an earlier disk state.
	crashedByDisk bool
	diskSeq       int
}

// model is one simulated service. Every method is called on the event loop
// (there is no other thread); a model schedules its own timers with Sim.at.
type model interface {
	service() string
	// start puts the service in its healthy steady state at time 0.
	start()
	// write is a client write issued at Sim.now. It returns a time at or
	// before the earliest moment the write gives advance something to do
	// (Sim.now when unsure): until then the model is not advanced for it.
	write(op uint64) (due time.Duration)
	// advance delivers, in time order, every completion due at or before t.
	// It returns a time at or before the earliest moment it would have
	// anything to do if nothing else changed (never if nothing is pending):
	// advance called before then must be a no-op, so the loop skips it.
	advance(t time.Duration) (next time.Duration)
	// nodeChanged is called after a node of any service changed state
	// (models ignore nodes that aren't theirs unless they depend on them).
	nodeChanged(n *simNode, c nodeChange)
	// networkChanged is called after a partition or a latency change.
	networkChanged()
	role(name string) ([]string, error)
	action(a platform.Action, done platform.ActionDone) error
	// readBack sets present[i] for each ids[i] the service holds now. It
	// fails, as the live platform's does, when what the clients read from
	// cannot answer (an endpoint that is down, a replica set without a
	// primary, a shard without an active copy): those writes are then
	// unverified, not lost.
	readBack(ids []uint64, present []bool) error
}

// Sim is the embedded platform. Build it with New.
type Sim struct {
	cfg    platform.Config
	topo   *platform.Topology
	params *params

	queue eventQueue
	now   time.Duration

	nodes     []*simNode
	nodeIndex map[string]int
	// topologyNodes is how many of nodes the topology declares; the rest
	// were added by runbook steps.
	topologyNodes int
	// cuts counts the partitions separating each ordered pair of nodes, so
	// overlapping partitions heal independently.
	cuts map[[2]int]int
	// links[j][i] (i < j) is the one-way latency between nodes i and j,
	// drawn once per run from the pair's link class; linkSource and
	// linkRand are reseeded for each link's own stream.
	links      [][]time.Duration
	linkSource *rand.PCG
	linkRand   *rand.Rand

	models    []model
	byService map[string]model
	// due[i] is a time at or before which models[i] may next have a
	// completion to deliver: advanceModels skips a model until then,
	// which spares the three advances per client write that found nothing
	// due. Anything that may add to or reorder a model's pending work
	// lowers it: a write (by what write returns), a model's own timer
	// firing, a fault, an action or a read (wakeModels). firstDue is at
	// or before the earliest of them, so most events skip the models at
	// one comparison.
	due      []time.Duration
	firstDue time.Duration
	// version changes whenever anything may have changed what the models
	// hold (an event fired, a fault, an action, a write), so that a
	// read-back's batches can share one presence bitset (presenceBits).
	version uint64
	started bool

	// watches are a rehearsal's armed watches for runbook steps' done
	// states (watch.go).
	watches []*simWatch
	// running is true inside Run; yield makes it return after the handler
	// firing now (Yield).
	running, yield bool
	// until is the end of the Run in progress; steps and atInstant are its
	// event counts, kept here so that Continue counts as Run does.
	until     time.Duration
	steps     int
	atInstant int
}

var (
	_ platform.Platform  = (*Sim)(nil)
	_ platform.Loop      = (*Sim)(nil)
	_ platform.Continuer = (*Sim)(nil)
	_ platform.Faults    = simFaults{}
	_ platform.Sampler   = (*Sim)(nil)
)

// New builds a simulator for cfg. Bad parameter overrides and topologies the
// models can't run are errors.
func New(cfg platform.Config) (*Sim, error) {
	if cfg.Topology == nil {
		return nil, fmt.Errorf("simulator: no topology")
	}
	if errs := cfg.Topology.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("simulator: topology %q: %v", cfg.Topology.Name, errs[0])
	}
	p, err := newParams(cfg.Parameters)
	if err != nil {
		return nil, err
	}
	if cfg.Completions == nil || cfg.Events == nil {
		return nil, fmt.Errorf("simulator: config needs Completions and Events")
	}
	s := &Sim{
		cfg:       cfg,
		topo:      cfg.Topology,
		params:    p,
		nodeIndex: map[string]int{},
		cuts:      map[[2]int]int{},
		byService: map[string]model{},
	}
	s.linkSource = rand.NewPCG(0, 0)
	s.linkRand = rand.New(s.linkSource)
	for _, n := range cfg.Topology.Nodes() {
		s.addNode(n)
	}
	s.topologyNodes = len(s.nodes)
	for i := range cfg.Topology.Services {
		spec := &cfg.Topology.Services[i]
		var m model
		switch spec.Kind {
		case platform.KindMongo:
			m, err = newMongoModel(s, spec)
		case platform.KindElastic:
			m, err = newElasticModel(s, spec)
		case platform.KindS3:
			m, err = newS3Model(s, spec)
		default:
			err = fmt.Errorf("simulator: service %q: unknown kind %q", spec.Name, spec.Kind)
		}
		if err != nil {
			return nil, err
		}
		s.models = append(s.models, m)
		s.byService[spec.Name] = m
	}
	s.due = make([]time.Duration, len(s.models))
	return s, nil
}

// Name is "sim".
func (s *Sim) Name() string { return "sim" }

// Start puts every service in its steady state at scenario time 0.
func (s *Sim) Start(ctx context.Context) error {
	if s.started {
		return nil
	}
	s.started = true
	s.wakeModels()
	for _, m := range s.models {
		m.start()
	}
	return ctx.Err()
}

// Loop returns the simulator itself: it is its own event loop.
func (s *Sim) Loop() platform.Loop { return s }

// Faults returns the simulator's fault primitives.
func (s *Sim) Faults() platform.Faults { return simFaults{s} }

// Close releases nothing: the simulator holds only memory.
func (s *Sim) Close() error { return nil }

// Now is the virtual scenario time.
func (s *Sim) Now() time.Duration { return s.now }

// At schedules h at virtual time t (now, if t is past). It is the driver's
// way in: a driver's handler reaches the models only through the platform's
// methods, and each of those wakes the models it may change (a write its
// model, the others every model), so firing it wakes none by itself.
func (s *Sim) At(t time.Duration, h platform.Handler) {
	if t < s.now {
		t = s.now
	}
	s.queue.push(t, h, false)
}

// timer schedules a model's own handler at virtual time t (now, if t is
// past). Such a handler may change what any model has pending (an election,
// a snapshot stored in a bucket), so every model is woken after it fired.
func (s *Sim) timer(t time.Duration, h platform.Handler) {
	if t < s.now {
		t = s.now
	}
	s.queue.push(t, h, true)
}

// MaxEventsAtOneInstant bounds the events the loop fires at one virtual
// time. A model that keeps scheduling work at the current time (a timer of
// zero length) would otherwise hold virtual time still and run forever; no
// model needs anywhere near this many events at one instant.
const MaxEventsAtOneInstant = 1_000_000

// Run steps the event queue until virtual time reaches until. ctx is checked
// every few thousand events so an interrupt stops a long run promptly. A
// run that fires more than MaxEventsAtOneInstant events at one virtual time
// stops with an error saying so.
func (s *Sim) Run(ctx context.Context, until time.Duration) error {
	s.running, s.until = true, until
	defer func() { s.running, s.yield = false, false }()
	s.atInstant = 0
	for s.steps = 0; ; s.steps++ {
		if s.steps&ctxCheckEvery == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		t, ok := s.queue.peek()
		if !ok || t > until {
			s.advanceModels(until)
			if until > s.now {
				s.now = until
			}
			return nil
		}
		s.advanceModels(t)
		ev := s.queue.pop()
		if ev.at == s.now {
			s.atInstant++
			if s.atInstant > MaxEventsAtOneInstant {
				return fmt.Errorf("simulator: more than %d events at virtual time %s without time moving on: a model is looping (a timer or period of zero? check the scenario's parameters)", MaxEventsAtOneInstant, s.now)
			}
		} else {
			s.atInstant = 1
		}
		s.now = ev.at
		s.version++
		ev.h.Fire(s.now)
		if ev.wakes {
			s.wakeModels()
		}
		if len(s.watches) > 0 {
			s.checkWatches()
		}
		if s.yield {
			return nil
		}
	}
}

// ctxCheckEvery+1 is how many events (or continuations) Run fires between
// looks at its context: often enough that an interrupt stops a run within
// milliseconds, rarely enough to cost nothing.
const ctxCheckEvery = 4095

// Continue implements platform.Continuer: the handler firing now goes on to
// t itself when nothing else would happen in between, which is when t is
// after now, within the Run in progress, and before every queued event; no
// watch is armed (they are checked between handlers) and no Yield is
// pending. It then does what Run does for an event popped at t (advance the
// models to t, move the clock) and returns true. Otherwise, and every
// ctxCheckEvery+1 steps so that Run still looks at its context, h is
// queued at t as At would and Continue returns false. A completion the
// models deliver on the way to t may queue an event before t (a runbook
// step it triggers): h is then queued with the sequence number it was
// given before those, so the order is still that of At.
func (s *Sim) Continue(t time.Duration, h platform.Handler) bool {
	if !s.running || s.yield || len(s.watches) > 0 || t <= s.now || t > s.until {
		s.At(t, h)
		return false
	}
	// Queued when something is due first, or when Run's next step is one
	// that looks at the context.
	if top, ok := s.queue.peek(); (ok && top <= t) || (s.steps+1)&ctxCheckEvery == 0 {
		s.queue.push(t, h, false)
		return false
	}
	s.steps++
	seq := s.queue.reserve()
	s.advanceModels(t)
	if top, ok := s.queue.peek(); ok && top < t {
		s.queue.pushSeq(t, seq, h, false)
		return false
	}
	s.atInstant = 1
	s.now = t
	s.version++
	return true
}

// Yield makes the Run in progress return once the handler firing now has
// returned, at the current virtual time, before until: a driver that paces
// the loop in slices (a scripted rehearsal, whose handler has just begun a
// sleep or reached an abort) takes over at exactly that time instead of at
// the end of the slice. Outside a Run it does nothing.
func (s *Sim) Yield() {
	if s.running {
		s.yield = true
	}
}

// advanceModels advances each model that may have something due by t.
// A model's due time is set to never while it advances, so that anything
// its completions set off (a driver acting at once) still lowers it.
func (s *Sim) advanceModels(t time.Duration) {
	if t < s.firstDue {
		return
	}
	for i, m := range s.models {
		if t < s.due[i] {
			continue
		}
		s.due[i] = never
		s.lowerDue(i, m.advance(t))
	}
	s.firstDue = slices.Min(s.due)
}

// lowerDue records that model i may have something to do at t.
func (s *Sim) lowerDue(i int, t time.Duration) {
	s.due[i] = min(s.due[i], t)
	s.firstDue = min(s.firstDue, t)
}

// wakeModels makes every model be advanced before the next event: something
// outside a single write changed (a fault, an action, a model's own timer),
// which may have added to or reordered any model's pending work.
func (s *Sim) wakeModels() {
	clear(s.due)
	s.firstDue = 0
}

// changed records that anything may have changed what the models hold or
// have pending: the read-back's presence bitsets are rebuilt, and every
// model is woken.
func (s *Sim) changed() {
	s.version++
	s.wakeModels()
}

// Client returns the workload client of a service: the model itself.
func (s *Sim) Client(service string) (platform.Client, error) {
	m, ok := s.byService[service]
	if !ok {
		return nil, fmt.Errorf("%w: %q", platform.ErrUnknownService, service)
	}
	return simClient{s: s, m: m, index: slices.Index(s.models, m)}, nil
}

// Reader makes the reader of a read workload: mongo services only.
func (s *Sim) Reader(cfg platform.ReadConfig, done platform.ReadCompletions) (platform.Reader, error) {
	m, ok := s.byService[cfg.Service]
	if !ok {
		return nil, fmt.Errorf("%w: %q", platform.ErrUnknownService, cfg.Service)
	}
	mongo, ok := m.(*mongoModel)
	if !ok {
		return nil, fmt.Errorf("%w: %q cannot be read (read workloads are for mongo services)", platform.ErrUnknownService, cfg.Service)
	}
	s.wakeModels()
	return mongo.newReader(cfg, done)
}

type simClient struct {
	s *Sim
	m model
	// index is m's position in s.models (and s.due).
	index int
}

func (c simClient) Write(op uint64) {
	c.s.version++
	c.s.lowerDue(c.index, c.m.write(op))
}

func (c simClient) ReadBack(ctx context.Context, ids []uint64, present []bool) error {
	c.s.lowerDue(c.index, 0) // a read-back changes nothing; woken only to be safe
	if err := c.m.readBack(ids, present); err != nil {
		return err
	}
	return ctx.Err()
}

// Role resolves "SERVICE:ROLE".
func (s *Sim) Role(role string) ([]string, error) {
	service, name, _ := strings.Cut(role, ":")
	m, ok := s.byService[service]
	if !ok {
		return nil, fmt.Errorf("%w: %q", platform.ErrUnknownRole, role)
	}
	return m.role(name)
}

// StartAction hands a runbook action to the model of its service: the
// "service" param, else the topology's service of the action's kind.
func (s *Sim) StartAction(ctx context.Context, a platform.Action, done platform.ActionDone) error {
	s.changed()
	service := a.Params["service"]
	if service == "" {
		kind := map[string]string{"mongo": platform.KindMongo, "logs": platform.KindElastic, "artifacts": platform.KindS3, "roles": platform.KindS3}[strings.Split(a.Action, ".")[0]]
		spec, ok := s.topo.ServiceOfKind(kind)
		if !ok {
			return fmt.Errorf("%w: %q has no %s service to act on", platform.ErrUnknownAction, a.Action, kind)
		}
		service = spec.Name
	}
	m, ok := s.byService[service]
	if !ok {
		return fmt.Errorf("%w: %q", platform.ErrUnknownService, service)
	}
	return m.action(a, done)
}

// --- helpers for models ---

// after schedules a model's own handler h at now+d (timer).
func (s *Sim) after(d time.Duration, h platform.Handler) { s.timer(s.now+d, h) }

// emit reports a platform event at the current time.
func (s *Sim) emit(service, what, node, detail string) {
	s.cfg.Events.Observed(platform.Event{At: s.now, Service: service, What: what, Node: node, Detail: detail})
	if len(s.watches) > 0 {
		s.checkWatches()
	}
}

// complete reports a write's outcome.
func (s *Sim) complete(op uint64, o platform.Outcome, at time.Duration) {
	s.cfg.Completions.Completed(op, o, at)
}

// rand returns a random stream for one subsystem, derived from the run's
// seed and the stream's name (platform.RandomStream), so adding a stream
// never shifts another's numbers.
func (s *Sim) rand(stream string) *rand.Rand {
	return platform.RandomStream(s.cfg.Seed, stream)
}

// workload returns the workload config of a service (zero if none).
func (s *Sim) workload(service string) platform.WorkloadConfig {
	for _, w := range s.cfg.Workloads {
		if w.Service == service {
			if w.Timeout == 0 {
				w.Timeout = 10 * time.Second
			}
			return w
		}
	}
	return platform.WorkloadConfig{Service: service, Timeout: 10 * time.Second}
}

// addNode registers a node (at construction, or a runbook adding one) and
// draws the latency of each of its links: to every node already there, and
// from a client in each region. Each link draws from a stream named after
// its ends, so the draws do not depend on the order nodes are added in.
func (s *Sim) addNode(n platform.Node) *simNode {
	sn := &simNode{Node: n, index: len(s.nodes)}
	row := make([]time.Duration, len(s.nodes))
	for _, other := range s.nodes {
		a, b := other.Name, n.Name
		if b < a {
			a, b = b, a
		}
		platform.Reseed(s.linkSource, s.cfg.Seed, "net/latency/", a, "|", b)
		row[other.index] = s.topo.LinkClass(other.Node, n).Sample(s.linkRand)
	}
	s.links = append(s.links, row)
	l := s.topo.EffectiveLatency()
	sn.clientLatency = make([]time.Duration, 0, len(s.topo.Regions))
	for _, r := range s.topo.Regions {
		class := l.InterZone // clients sit in a zone of their own
		if r.Name != n.Region {
			class = l.InterRegion
		}
		platform.Reseed(s.linkSource, s.cfg.Seed, "net/client-latency/", r.Name, "|", n.Name)
		sn.clientLatency = append(sn.clientLatency, class.Sample(s.linkRand))
	}
	s.nodes = append(s.nodes, sn)
	s.nodeIndex[n.Name] = sn.index
	return sn
}

// AddedNodes lists the nodes runbook steps created (mongo.add-member,
// logs.restore-snapshot), in creation order, so that faults scheduled
// after those steps can aim at them (faults.AddedNodes).
func (s *Sim) AddedNodes() []platform.Node {
	var added []platform.Node
	for _, n := range s.nodes[s.topologyNodes:] {
		added = append(added, n.Node)
	}
	return added
}

// Sampled lists the link latencies this run drew (see
// platform.LinkDelay), by link: "latency.A|B" between two nodes,
// "latency.client@REGION|NODE" from a client in REGION; links of a class
// without a tail, which draw nothing, are left out. The report records
// them.
func (s *Sim) Sampled() map[string]string {
	out := map[string]string{}
	for j, row := range s.links {
		for i, d := range row {
			a, b := s.nodes[i], s.nodes[j]
			if !s.topo.LinkClass(a.Node, b.Node).HasTail() {
				continue
			}
			x, y := a.Name, b.Name
			if y < x {
				x, y = y, x
			}
			out["latency."+x+"|"+y] = d.String()
		}
	}
	l := s.topo.EffectiveLatency()
	for _, n := range s.nodes {
		for i, r := range s.topo.Regions {
			class := l.InterZone
			if r.Name != n.Region {
				class = l.InterRegion
			}
			if class.HasTail() {
				out["latency.client@"+r.Name+"|"+n.Name] = n.clientLatency[i].String()
			}
		}
	}
	return out
}

func (s *Sim) node(name string) (*simNode, error) {
	i, ok := s.nodeIndex[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", platform.ErrUnknownNode, name)
	}
	return s.nodes[i], nil
}

// up reports whether a node is running and not paused.
func (s *Sim) up(n *simNode) bool { return n.state == nodeRunning }

// reachable reports whether a message from a reaches b now: both up and no
// partition between them.
func (s *Sim) reachable(a, b *simNode) bool {
	if a.state != nodeRunning || b.state != nodeRunning {
		return false
	}
	if a.index == b.index {
		return true
	}
	return s.cuts[[2]int{a.index, b.index}] == 0
}

// latency is the one-way latency from a to b now, without jitter: the
// link's latency drawn for this run, plus any latency fault on either end.
func (s *Sim) latency(a, b *simNode) time.Duration {
	if a.index == b.index {
		return 0
	}
	lo, hi := a.index, b.index
	if hi < lo {
		lo, hi = hi, lo
	}
	return s.links[hi][lo] + a.extraLatency + b.extraLatency
}

// clientLatency is the one-way latency from a client in region to node n:
// the path's latency drawn for this run. Clients sit in a zone of their
// own, so a same-region node is one inter-zone hop away.
func (s *Sim) clientLatency(region string, n *simNode) time.Duration {
	return s.clientLatencyFrom(s.regionIndex(region), n)
}

// regionIndex is the index of region among the topology's regions, -1 if
// it is none of them.
func (s *Sim) regionIndex(region string) int {
	for i := range s.topo.Regions {
		if s.topo.Regions[i].Name == region {
			return i
		}
	}
	return -1
}

// clientLatencyFrom is clientLatency from the region of index ri
// (regionIndex), for a model that asks on every write.
func (s *Sim) clientLatencyFrom(ri int, n *simNode) time.Duration {
	if ri < 0 {
		// A client outside every region of the topology (none is placed
		// so) is an inter-region hop away.
		return s.topo.EffectiveLatency().InterRegion.D() + n.extraLatency
	}
	return n.clientLatency[ri] + n.extraLatency
}

// --- fault primitives ---

// simFaults is the simulator's fault primitives (a separate type because
// Faults.Start(node) and Platform.Start(ctx) would collide on Sim).
type simFaults struct{ s *Sim }

func (s *Sim) setState(ctx context.Context, name string, want nodeState, c nodeChange) error {
	s.changed()
	n, err := s.node(name)
	if err != nil {
		return err
	}
	wasUp := s.up(n)
	n.state = want
	switch {
	case wasUp && !s.up(n):
		s.emit(n.Service, platform.EventNodeDown, n.Name, c.String())
	case !wasUp && s.up(n):
		s.emit(n.Service, platform.EventNodeUp, n.Name, c.String())
	}
	for _, m := range s.models {
		m.nodeChanged(n, c)
	}
	return ctx.Err()
}

// Kill takes a node down at once.
func (f simFaults) Kill(ctx context.Context, node string) error {
	return f.s.setState(ctx, node, nodeDown, changeKilled)
}

// Stop shuts a node down gracefully (models may hand over first).
func (f simFaults) Stop(ctx context.Context, node string) error {
	return f.s.setState(ctx, node, nodeDown, changeStopped)
}

// Start brings a stopped or killed node back with its data.
func (f simFaults) Start(ctx context.Context, node string) error {
	return f.s.setState(ctx, node, nodeRunning, changeStarted)
}

// Pause freezes a node.
func (f simFaults) Pause(ctx context.Context, node string) error {
	return f.s.setState(ctx, node, nodePaused, changePaused)
}

// Resume unfreezes a paused node.
func (f simFaults) Resume(ctx context.Context, node string) error {
	return f.s.setState(ctx, node, nodeRunning, changeResumed)
}

// Partition cuts every link between a and b, both ways.
func (f simFaults) Partition(ctx context.Context, a, b []string) error {
	return f.s.cut(ctx, a, b, 1)
}

// Heal undoes one Partition(a, b).
func (f simFaults) Heal(ctx context.Context, a, b []string) error {
	return f.s.cut(ctx, a, b, -1)
}

func (s *Sim) cut(ctx context.Context, a, b []string, delta int) error {
	s.changed()
	var as, bs []*simNode
	for _, name := range a {
		n, err := s.node(name)
		if err != nil {
			return err
		}
		as = append(as, n)
	}
	for _, name := range b {
		n, err := s.node(name)
		if err != nil {
			return err
		}
		bs = append(bs, n)
	}
	for _, x := range as {
		for _, y := range bs {
			for _, k := range [][2]int{{x.index, y.index}, {y.index, x.index}} {
				s.cuts[k] += delta
				if s.cuts[k] <= 0 {
					delete(s.cuts, k)
				}
			}
		}
	}
	for _, m := range s.models {
		m.networkChanged()
	}
	return ctx.Err()
}

// AddLatency adds extra one-way latency to every link of a node.
func (f simFaults) AddLatency(ctx context.Context, node string, extra time.Duration) error {
	f.s.changed()
	n, err := f.s.node(node)
	if err != nil {
		return err
	}
	n.extraLatency = extra
	for _, m := range f.s.models {
		m.networkChanged()
	}
	return ctx.Err()
}

// RemoveLatency removes a node's added latency.
func (f simFaults) RemoveLatency(ctx context.Context, node string) error {
	return f.AddLatency(ctx, node, 0)
}

// presenceBits is one bit per op id that a model holds, built for a
// read-back and reused by its later batches (the runner asks about a few
// million writes at a time) while the simulation's version is unchanged:
// a week-long run's read-back scanned every log once per batch. Ids need
// not be dense (a client may number its writes from 2^40), so the bits
// live in pages of presencePageIDs ids, made as ids fall in them.
type presenceBits struct {
	built   bool
	version uint64
	pages   map[uint64]*presencePage
	// The page looked up last: a read-back asks in id order.
	lastKey  uint64
	lastPage *presencePage
}

const (
	presencePageShift = 15
	presencePageIDs   = 1 << presencePageShift // 4 KiB of bits a page
)

type presencePage [presencePageIDs / 64]uint64

// get returns the bitset, built by build (which calls set or addIDs for
// the op ids held) unless it was built at the simulation's current
// version.
func (p *presenceBits) get(s *Sim, build func(p *presenceBits)) *presenceBits {
	if p.built && p.version == s.version {
		return p
	}
	p.pages, p.lastPage = map[uint64]*presencePage{}, nil
	build(p)
	p.built, p.version = true, s.version
	return p
}

// set marks op as held.
func (p *presenceBits) set(op uint64) {
	page := p.page(op, true)
	i := op & (presencePageIDs - 1)
	page[i/64] |= 1 << (i % 64)
}

// addIDs marks every id of l as held. It reads the packed chunks itself
// rather than through idList.all, without two calls per id: a read-back
// marks every event of a run.
func (p *presenceBits) addIDs(l *idList) {
	for k := range l.chunks {
		c := &l.chunks[k]
		w, lo := int(c.width[0]), c.min[0]
		for j := range packChunk {
			p.set(lo + getBits(c.bits, j*w, w))
		}
	}
	for _, id := range l.tail {
		p.set(id)
	}
}

// page is the page holding op, made when create is set (else nil if none).
func (p *presenceBits) page(op uint64, create bool) *presencePage {
	key := op >> presencePageShift
	if p.lastPage != nil && p.lastKey == key {
		return p.lastPage
	}
	page := p.pages[key]
	if page == nil && create {
		page = new(presencePage)
		p.pages[key] = page
	}
	if page != nil {
		p.lastKey, p.lastPage = key, page
	}
	return page
}

// has reports whether op is held.
func (p *presenceBits) has(op uint64) bool {
	page := p.page(op, false)
	i := op & (presencePageIDs - 1)
	return page != nil && page[i/64]&(1<<(i%64)) != 0
}
