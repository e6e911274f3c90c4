package containers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/platform/containers/docker"
)

// closeTimeout bounds Close: stopping the workers and removing every
// container of the run.
const closeTimeout = 2 * time.Minute

// Platform is the live platform of one run: real containers on Docker. Build
// it with New; the runner calls Start, drives the loop, and Close.
type Platform struct {
	cfg   platform.Config
	opts  options
	set   settings
	loop  *wallLoop
	nodes []plannedNode
	// used are the services the platform starts; idle maps each node of
	// the others to its service.
	used map[string]bool
	idle map[string]string

	// background ends the goroutines Start leaves running (write workers,
	// pollers, periodic jobs, runbook actions); workers waits for them.
	background context.Context
	stop       context.CancelFunc
	workers    sync.WaitGroup

	mu      sync.Mutex // guards engine, aliases, started, closed
	engine  *docker.Engine
	aliases map[string]string        // alias -> node name, grows with added nodes
	added   map[string]platform.Node // nodes a runbook added, by name
	started bool
	closed  bool

	mongos   map[string]*mongoService
	elastics map[string]*elasticService
	buckets  map[string]*s3Service
	clients  map[string]platform.Client
	faults   *injector
	jobs     *jobs
}

var _ platform.Platform = (*Platform)(nil)

// New plans the containers of cfg.Topology. It does not touch Docker: Start
// does.
func New(cfg platform.Config, opts ...Option) (*Platform, error) {
	if cfg.Topology == nil {
		return nil, errors.New("new containers platform: no topology")
	}
	if cfg.RunID == "" {
		return nil, errors.New("new containers platform: no run id")
	}
	if cfg.Completions == nil || cfg.Events == nil {
		return nil, errors.New("new containers platform: completions and events sinks are required")
	}
	o := defaultOptions()
	// The scenario's images, then the caller's options (environment,
	// flags) over them.
	for _, kind := range platform.SortedKeys(cfg.Images) {
		if err := o.images.Set(kind, cfg.Images[kind]); err != nil {
			return nil, fmt.Errorf("new containers platform: scenario images: %w", err)
		}
	}
	for _, opt := range opts {
		opt(&o)
	}
	set, err := parseSettings(cfg.Parameters)
	if err != nil {
		return nil, fmt.Errorf("new containers platform: %w", err)
	}
	planned, err := plan(cfg.Topology, o)
	if err != nil {
		return nil, fmt.Errorf("new containers platform: %w", err)
	}
	used := usedServices(cfg.Topology, cfg.Workloads)
	var nodes []plannedNode
	idle := map[string]string{}
	for _, n := range planned {
		if used[n.Node.Service] {
			nodes = append(nodes, n)
		} else {
			idle[n.Node.Name] = n.Node.Service
		}
	}
	background, stop := context.WithCancel(context.Background())
	p := &Platform{
		cfg: cfg, opts: o, set: set, loop: newWallLoop(), nodes: nodes, used: used, idle: idle,
		background: background, stop: stop,
		aliases:  map[string]string{},
		added:    map[string]platform.Node{},
		mongos:   map[string]*mongoService{},
		elastics: map[string]*elasticService{},
		buckets:  map[string]*s3Service{},
		clients:  map[string]platform.Client{},
		jobs:     newJobs(),
	}
	for _, n := range nodes {
		p.aliases[dockerAlias(n.Node.Name)] = n.Node.Name
	}
	p.faults = &injector{p: p}
	return p, nil
}

// usedServices are the services a run starts: those with a workload, and
// the S3 service each of those Elasticsearch services snapshots to. A
// scenario without workloads (only the Docker mechanics) starts them all.
// The others would measure nothing, and their images need not be present.
func usedServices(t *platform.Topology, workloads []platform.WorkloadConfig) map[string]bool {
	used := map[string]bool{}
	for _, w := range workloads {
		used[w.Service] = true
	}
	for _, s := range t.Services {
		if len(workloads) == 0 {
			used[s.Name] = true
		}
	}
	for _, s := range t.Services {
		if used[s.Name] && s.Kind == platform.KindElastic && s.SnapshotTo != "" {
			used[s.SnapshotTo] = true
		}
	}
	return used
}

// Images lists the images the run needs, each with the nodes that run it,
// in the order of ImageKinds: only the services the scenario uses.
func (p *Platform) Images() []NeededImage {
	byImage := map[string]*NeededImage{}
	var out []*NeededImage
	for _, kind := range ImageKinds {
		for _, n := range p.nodes {
			if n.Node.Kind != kind {
				continue
			}
			need := byImage[n.Spec.Image]
			if need == nil {
				need = &NeededImage{Kind: kind, Image: n.Spec.Image}
				byImage[n.Spec.Image] = need
				out = append(out, need)
			}
			need.Nodes = append(need.Nodes, n.Node.Name)
		}
	}
	result := make([]NeededImage, len(out))
	for i, need := range out {
		result[i] = *need
	}
	return result
}

// NeededImage is one image a run needs and the nodes that run it.
type NeededImage struct {
	Kind  string // mongo, elasticsearch or s3
	Image string
	Nodes []string
}

// MemoryBytes is the sum of the memory limits of the containers the run
// starts, before any runbook adds more (a restore into a new region adds a
// cluster).
func (p *Platform) MemoryBytes() int64 {
	var total int64
	for _, n := range p.nodes {
		total += n.Spec.Memory
	}
	return total
}

// Name is "containers".
func (p *Platform) Name() string { return "containers" }

// Loop is the wall-clock loop; scenario time 0 is the end of Start.
func (p *Platform) Loop() platform.Loop { return p.loop }

// Faults injects faults through the Docker engine.
func (p *Platform) Faults() platform.Faults { return p.faults }

// Start starts every container in parallel, sets the services up, and
// starts the background jobs. Its errors wrap platform.ErrEnvironment when
// the environment is at fault (Docker down, image missing, a server that
// never came up). After an error, Close removes what was started.
func (p *Platform) Start(ctx context.Context) error {
	p.mu.Lock()
	if p.closed || p.started {
		p.mu.Unlock()
		return errors.New("start containers platform: already started or closed")
	}
	p.started = true
	p.mu.Unlock()

	var engineOpts []docker.EngineOption
	if p.opts.noPull {
		engineOpts = append(engineOpts, docker.WithoutPull())
	}
	engine, err := docker.NewEngine(ctx, p.cfg.RunID, engineOpts...)
	if err != nil {
		return err
	}
	p.mu.Lock()
	closed := p.closed
	if !closed {
		p.engine = engine
	}
	p.mu.Unlock()
	if closed {
		return errors.New("start containers platform: closed while starting")
	}
	links := p.appliesLinkLatency()
	if links {
		// Said before any container starts, not in the middle of the
		// scenario.
		if err := docker.NetworkFaultsUsable(ctx); err != nil {
			l := p.cfg.Topology.EffectiveLatency()
			return fmt.Errorf("%w; they also apply the topology's link latencies (inter-region %v, inter-zone %v one way) at bring-up: fix that, or run without them (%s=off)",
				err, l.InterRegion, l.InterZone, LinkLatencyVariable)
		}
	}
	specs := make([]docker.NodeSpec, len(p.nodes))
	for i, n := range p.nodes {
		specs[i] = n.Spec
	}
	if err := engine.StartNodes(ctx, specs); err != nil {
		return err
	}
	if links {
		if err := p.applyLinkLatency(ctx, engine); err != nil {
			return err
		}
	}
	if p.opts.standin == "" {
		if err := p.setUp(ctx); err != nil {
			return err
		}
	}
	p.loop.begin()
	p.startBackground()
	return nil
}

// setUp makes every service ready once its containers run: replica sets
// initiated with a primary, buckets created, Elasticsearch clusters healthy
// with their index and snapshot repository; then the workload clients.
func (p *Platform) setUp(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, p.opts.serviceTimeout)
	defer cancel()
	t := p.cfg.Topology
	for i := range t.Services {
		spec := &t.Services[i]
		if !p.used[spec.Name] {
			continue
		}
		switch spec.Kind {
		case platform.KindMongo:
			p.mongos[spec.Name] = newMongoService(p, spec)
		case platform.KindS3:
			p.buckets[spec.Name] = newS3Service(p, spec)
		case platform.KindElastic:
			p.elastics[spec.Name] = newElasticService(p, spec)
		}
	}
	group, groupCtx := errgroup.WithContext(ctx)
	for _, m := range p.mongos {
		group.Go(func() error { return p.ready(groupCtx, "mongo replica set "+m.replicaSet, m.setUp) })
	}
	// Elasticsearch registers its repository in a bucket, so S3 comes
	// first; both are much faster than a cluster forming.
	s3Ready := make(chan struct{})
	group.Go(func() error {
		s3Group, s3Ctx := errgroup.WithContext(groupCtx)
		for _, s := range p.buckets {
			s3Group.Go(func() error { return p.ready(s3Ctx, "s3 service "+s.spec.Name, s.setUp) })
		}
		if err := s3Group.Wait(); err != nil {
			return err
		}
		close(s3Ready)
		return nil
	})
	for _, e := range p.elastics {
		group.Go(func() error {
			return p.ready(groupCtx, "elasticsearch cluster "+e.spec.Name, func(ctx context.Context) error {
				return e.setUp(ctx, s3Ready)
			})
		})
	}
	if err := group.Wait(); err != nil {
		return err
	}
	if err := p.baseline(ctx); err != nil {
		return err
	}
	for _, w := range p.cfg.Workloads {
		client, err := p.newClient(ctx, w)
		if err != nil {
			return err
		}
		p.clients[w.Service] = client
	}
	return nil
}

// baseline takes one snapshot of each cluster and syncs every bucket once
// before scenario time 0. A platform that has been running has a snapshot in
// every region; without this one, a region lost before the first periodic
// snapshot reached the other region would leave nothing to restore, which
// is a different (and artificial) finding.
func (p *Platform) baseline(ctx context.Context) error {
	for _, e := range p.elastics {
		if e.spec.SnapshotTo == "" {
			continue
		}
		client, _, _ := e.current()
		if err := client.Snapshot(ctx, elasticRepository, baselineSnapshot); err != nil {
			return fmt.Errorf("%w: take the baseline snapshot of %s: %v", platform.ErrEnvironment, e.spec.Name, err)
		}
	}
	for _, s := range p.buckets {
		if err := s.syncOnce(ctx); err != nil {
			return fmt.Errorf("%w: baseline sync of %s: %v", platform.ErrEnvironment, s.spec.Name, err)
		}
	}
	return nil
}

// baselineSnapshot names the snapshot taken before scenario time 0; the
// periodic ones count up from 1.
const baselineSnapshot = "snapshot-000000"

// ready runs a service's set-up and names the service when it never became
// ready in time.
func (p *Platform) ready(ctx context.Context, what string, setUp func(context.Context) error) error {
	err := setUp(ctx)
	switch {
	case err == nil:
		return nil
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("%w: %s never came up within %s: %v", platform.ErrEnvironment, what, p.opts.serviceTimeout, err)
	case errors.Is(err, platform.ErrEnvironment), ctx.Err() != nil:
		return fmt.Errorf("set up %s: %w", what, err)
	default:
		return fmt.Errorf("%w: set up %s: %v", platform.ErrEnvironment, what, err)
	}
}

// Client returns the workload client of service.
func (p *Platform) Client(service string) (platform.Client, error) {
	if c, ok := p.clients[service]; ok {
		return c, nil
	}
	if p.opts.standin != "" {
		return nil, fmt.Errorf("client %s: stand-in nodes serve no workload: %w", service, platform.ErrUnknownService)
	}
	return nil, fmt.Errorf("client %s: no workload configured for it: %w", service, platform.ErrUnknownService)
}

// Role resolves "SERVICE:ROLE" (mongo:primary, mongo:secondary, logs:master)
// to the nodes that hold it now, asking the servers.
func (p *Platform) Role(role string) ([]string, error) {
	service, name, _ := strings.Cut(role, ":")
	ctx, cancel := context.WithTimeout(p.background, roleTimeout)
	defer cancel()
	if m, ok := p.mongos[service]; ok {
		return m.role(ctx, name)
	}
	if e, ok := p.elastics[service]; ok && name == "master" {
		return e.master(ctx)
	}
	if _, inTopology := p.cfg.Topology.Service(service); inTopology && !p.used[service] {
		return nil, fmt.Errorf("role %s: service %s is not started (the scenario has no workload on it): %w", role, service, platform.ErrUnknownRole)
	}
	return nil, fmt.Errorf("role %s: %w", role, platform.ErrUnknownRole)
}

// roleTimeout bounds asking the servers who holds a role; Role runs on the
// loop, which it holds up meanwhile.
const roleTimeout = 2 * time.Second

// Close stops the background work, closes the clients and removes every
// container, network and volume of the run. It is safe to call more than
// once and after a failed Start.
func (p *Platform) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	engine := p.engine
	p.mu.Unlock()

	p.stop()
	p.workers.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	var errs []error
	for _, m := range p.mongos {
		m.close(ctx)
	}
	if engine != nil {
		if err := engine.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("close containers platform: %w", err))
		}
	}
	return errors.Join(errs...)
}

// emit reports an event observed at the current scenario time on the loop.
// Safe from any goroutine.
func (p *Platform) emit(e platform.Event) {
	p.emitAt(e, p.loop.Now())
}

// emitAt reports an event that happened at scenario time at (e.g. when
// Docker recorded it). Safe from any goroutine.
func (p *Platform) emitAt(e platform.Event, at time.Duration) {
	e.At = at
	p.loop.post(func(time.Duration) { p.cfg.Events.Observed(e) })
}

// complete reports a write's outcome, with the time the answer arrived.
// Safe from any goroutine.
func (p *Platform) complete(op uint64, outcome platform.Outcome) {
	at := p.loop.Now()
	p.loop.post(func(time.Duration) { p.cfg.Completions.Completed(op, outcome, at) })
}

// goBackground runs fn until the platform closes.
func (p *Platform) goBackground(fn func(ctx context.Context)) {
	p.workers.Add(1)
	go func() {
		defer p.workers.Done()
		fn(p.background)
	}()
}

// every runs fn every interval until the platform closes.
func (p *Platform) every(interval time.Duration, fn func(ctx context.Context)) {
	p.goBackground(func(ctx context.Context) {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				fn(ctx)
			}
		}
	})
}

// engineNow returns the engine, or an error once the platform closed.
func (p *Platform) engineNow() (*docker.Engine, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.engine == nil || p.closed {
		return nil, fmt.Errorf("%w: the platform is not running", platform.ErrEnvironment)
	}
	return p.engine, nil
}

// nodeOfAlias maps an address's host part (an alias) to its node.
func (p *Platform) nodeOfAlias(alias string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n, ok := p.aliases[alias]
	return n, ok
}

// addNode starts one more container (a runbook's new member or cluster
// node) and makes it known by its alias.
func (p *Platform) addNode(ctx context.Context, spec docker.NodeSpec) error {
	engine, err := p.engineNow()
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.aliases[dockerAlias(spec.Name)] = spec.Name
	p.mu.Unlock()
	return engine.AddNode(ctx, spec)
}

// hostAddress is where the harness reaches port of node now.
func (p *Platform) hostAddress(ctx context.Context, node, port string) (string, error) {
	engine, err := p.engineNow()
	if err != nil {
		return "", err
	}
	return engine.HostAddress(ctx, node, port)
}

// resolve maps "alias:port" as the servers know it to a host address.
func (p *Platform) resolve(ctx context.Context, addr string) (string, error) {
	alias, port, ok := strings.Cut(addr, ":")
	if !ok {
		return "", fmt.Errorf("resolve %s: want host:port", addr)
	}
	node, known := p.nodeOfAlias(alias)
	if !known {
		return "", fmt.Errorf("resolve %s: %w", addr, platform.ErrUnknownNode)
	}
	return p.hostAddress(ctx, node, port)
}

// startBackground starts the pollers and the periodic jobs.
func (p *Platform) startBackground() {
	for _, m := range p.mongos {
		p.every(p.set.mongoStatusPoll, m.poll)
	}
	for _, e := range p.elastics {
		p.every(p.set.healthPoll, e.poll)
		if interval := e.snapshotInterval(); interval > 0 {
			p.schedule(e.snapshotJob(interval))
		}
	}
	for _, s := range p.buckets {
		if interval := s.syncInterval(); interval > 0 && len(s.spec.Endpoints) > 1 {
			p.schedule(s.syncJob(interval))
		}
	}
}

// rememberAddedNode records a node a runbook action adds, so that events
// about it name its service.
func (p *Platform) rememberAddedNode(n platform.Node) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.added[n.Name] = n
}

func (p *Platform) serviceOfAddedNode(name string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.added[name].Service
}

// restarted follows a node that started again to its new host port where a
// client holds an address rather than resolving on every dial (S3).
func (p *Platform) restarted(node string) {
	n, ok := p.cfg.Topology.Node(node)
	if !ok || n.Kind != platform.KindS3 {
		return
	}
	s, ok := p.buckets[n.Service]
	if !ok {
		return
	}
	for _, e := range s.spec.Endpoints {
		if e.Name == node {
			ctx, cancel := context.WithTimeout(p.background, roleTimeout)
			s.endpointRestarted(ctx, e)
			cancel()
		}
	}
}
