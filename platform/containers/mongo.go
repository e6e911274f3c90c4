package containers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/platform/adapters/mongo"
)

// Timings of the harness's own Mongo admin traffic.
const (
	// adminServerSelection bounds how long a status or role query waits for a
	// member; short, because it runs on the loop (Role, lag at a fault) or
	// every poll interval.
	adminServerSelection = time.Second
	// memberQueryTimeout bounds asking one member for its view: a frozen or
	// cut-off member must not hold up the poll (every 250 ms) for long. A
	// healthy replSetGetStatus answers in about a millisecond.
	memberQueryTimeout = 500 * time.Millisecond
	// lagQueryTimeout bounds measuring the replication lag at a fault;
	// past it the last polled status is used.
	lagQueryTimeout = 500 * time.Millisecond
	// setUpPollInterval is how often bring-up and runbook waits re-check
	// (a primary, a member reaching SECONDARY, cluster health).
	setUpPollInterval = 250 * time.Millisecond
	// stepDownSeconds keeps a stepped-down primary from seeking election
	// again; 60 s is the shell helper's default
	// (https://www.mongodb.com/docs/manual/reference/method/rs.stepDown/).
	stepDownSeconds = 60
)

// Where the workload's documents live.
const (
	workloadDatabase = "chaosdrill"
)

// mongoService is one replica set: its bring-up, status polling (primary
// events), roles, replication lag and runbook actions.
type mongoService struct {
	p          *Platform
	spec       *platform.ServiceSpec
	replicaSet string

	addMember sync.Mutex // a non-force reconfig adds one voting member at a time

	mu      sync.Mutex
	members []string                 // node names, grows with added members
	clients []*mongo.Client          // to close
	direct  map[string]*mongo.Client // per member, for status queries
	loads   []*mongoWorkload

	last atomic.Pointer[mongo.ReplicaSetStatus] // the last polled status

	// Poll state, touched only by the poll goroutine.
	primary  string
	degraded bool
}

func newMongoService(p *Platform, spec *platform.ServiceSpec) *mongoService {
	m := &mongoService{p: p, spec: spec, replicaSet: replicaSetName(spec)}
	for _, member := range spec.Members {
		m.members = append(m.members, member.Name)
	}
	return m
}

func memberHost(node string) string {
	return dockerAlias(node) + ":" + strings.TrimSuffix(mongoPort, "/tcp")
}

func (m *mongoService) hosts() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	hosts := make([]string, len(m.members))
	for i, n := range m.members {
		hosts[i] = memberHost(n)
	}
	return hosts
}

// nodeOfHost maps a member's host as the set knows it to its node name.
func (m *mongoService) nodeOfHost(host string) string {
	alias, _, _ := strings.Cut(host, ":")
	if node, ok := m.p.nodeOfAlias(alias); ok {
		return node
	}
	return alias
}

// connect builds a client of the replica set for the workload or the admin
// queries.
func (m *mongoService) connect(ctx context.Context, o mongo.Options) (*mongo.Client, error) {
	o.Hosts = m.hosts()
	o.ReplicaSet = m.replicaSet
	o.Resolve = m.p.resolve
	o.Database = workloadDatabase
	o.Collection = m.spec.Name
	c, err := mongo.Connect(ctx, m.p.cfg.RunID, o)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.clients = append(m.clients, c)
	m.mu.Unlock()
	return c, nil
}

// mongoWorkload is a workload's replica-set client, replaced by a fresh one
// after a forced reconfiguration. The driver drops a member from its view
// when a primary's member list omits it (hidden members are never listed)
// and re-adds one only when a primary or secondary lists it again
// (https://github.com/mongodb/specifications/blob/master/source/server-discovery-and-monitoring/server-discovery-and-monitoring.md#updatersfromprimary):
// once the old members are gone, nothing is left to list the promoted
// member, so applications reconnect, as an operator would restart them.
type mongoWorkload struct {
	m       *mongoService
	mu      sync.Mutex // guards opts: runbook actions reconnect from their own goroutines
	opts    mongo.Options
	current atomic.Pointer[mongo.Client]
}

func (m *mongoService) newWorkload(ctx context.Context, o mongo.Options) (*mongoWorkload, error) {
	w := &mongoWorkload{m: m, opts: o}
	if err := w.reconnect(ctx); err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.loads = append(m.loads, w)
	m.mu.Unlock()
	return w, nil
}

// reconnect replaces the client with one seeded with the current members.
// The old one is closed with the platform: writes may still be using it.
func (w *mongoWorkload) reconnect(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	c, err := w.m.connect(ctx, w.opts)
	if err != nil {
		return err
	}
	w.current.Store(c)
	return nil
}

func (w *mongoWorkload) write(ctx context.Context, op uint64) platform.Outcome {
	return w.current.Load().Write(ctx, op)
}

// readBack reads the workload's documents back from the primary, after a
// quick look that there is one: without it (a recovery step failed, and the
// clients still point at members that are gone) every query batch would
// wait out server selection before failing.
func (w *mongoWorkload) readBack(ctx context.Context, ids []uint64, present []bool) error {
	checkCtx, cancel := context.WithTimeout(ctx, readBackCheckTimeout)
	st, err := w.m.status(checkCtx)
	cancel()
	if err != nil {
		return fmt.Errorf("read back %s: %w: its writes cannot be verified", w.m.spec.Name, err)
	}
	if st.Primary == "" {
		var members []string
		for _, member := range st.Members {
			members = append(members, w.m.nodeOfHost(member.Name)+" "+member.State)
		}
		return fmt.Errorf("read back %s: the replica set has no primary (%s; did a recovery step fail?): its writes cannot be verified", w.m.spec.Name, strings.Join(members, ", "))
	}
	return w.current.Load().ReadBack(ctx, ids, present)
}

// readBackCheckTimeout bounds the look, before a read-back, at whether the
// service can be read at all.
const readBackCheckTimeout = 10 * time.Second

// setWriteConcern redeploys every workload with another write concern, as
// operators do once a multi-region mode can no longer be met.
func (m *mongoService) setWriteConcern(ctx context.Context, concern string) error {
	m.mu.Lock()
	loads := append([]*mongoWorkload(nil), m.loads...)
	m.mu.Unlock()
	var errs []error
	for _, w := range loads {
		w.mu.Lock()
		w.opts.WriteConcern = concern
		w.mu.Unlock()
		errs = append(errs, w.reconnect(ctx))
	}
	return errors.Join(errs...)
}

// reconnectWorkloads points every workload at the current members.
func (m *mongoService) reconnectWorkloads(ctx context.Context) error {
	m.mu.Lock()
	loads := append([]*mongoWorkload(nil), m.loads...)
	m.mu.Unlock()
	var errs []error
	for _, w := range loads {
		errs = append(errs, w.reconnect(ctx))
	}
	return errors.Join(errs...)
}

// setUp initiates the replica set with the topology's configuration and
// waits for a primary.
func (m *mongoService) setUp(ctx context.Context) error {
	first := m.spec.Members[0].Name
	direct, err := m.p.hostAddress(ctx, first, mongoPort)
	if err != nil {
		return err
	}
	cfg := mongo.ConfigFor(*m.spec, memberHost)
	cfg.Name = m.replicaSet
	cfg.ElectionTimeout = m.p.set.electionTimeout
	if err := retry(ctx, func() error { return mongo.Initiate(ctx, direct, cfg) }); err != nil {
		return fmt.Errorf("initiate on %s: %w", first, err)
	}
	return m.waitPrimary(ctx)
}

func (m *mongoService) waitPrimary(ctx context.Context) error {
	return retry(ctx, func() error {
		st, err := m.status(ctx)
		if err != nil {
			return err
		}
		if st.Primary == "" {
			return errors.New("no primary elected yet")
		}
		return nil
	})
}

// retry calls try every setUpPollInterval until it succeeds or ctx ends,
// returning the last error.
func retry(ctx context.Context, try func() error) error {
	for {
		err := try()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), err)
		case <-time.After(setUpPollInterval):
		}
	}
}

// status is the replica set as its members see it now. Each member is asked
// directly and in parallel; the view that wins is the one naming the primary
// most members name (a primary cut off from the others may still call
// itself primary until it steps down). Asking through a replica-set client
// instead would wait on the driver's own monitoring, which notices a frozen
// primary only after its socket timeout.
func (m *mongoService) status(ctx context.Context) (mongo.ReplicaSetStatus, error) {
	m.mu.Lock()
	members := append([]string(nil), m.members...)
	m.mu.Unlock()
	views := make([]*mongo.ReplicaSetStatus, len(members))
	errs := make([]error, len(members))
	var wait sync.WaitGroup
	for i, n := range members {
		wait.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, memberQueryTimeout)
			defer cancel()
			c, err := m.directClient(ctx, n)
			if err == nil {
				var st mongo.ReplicaSetStatus
				if st, err = c.Status(ctx); err == nil {
					views[i] = &st
				}
			}
			errs[i] = err
		})
	}
	wait.Wait()
	best := majorityView(views)
	if best == nil {
		return mongo.ReplicaSetStatus{}, fmt.Errorf("no member of %s answers: %w", m.replicaSet, errors.Join(errs...))
	}
	// The primary's own view has its secondaries' optimes first-hand; the
	// others' come from heartbeats up to one interval old.
	for i, v := range views {
		if v != nil && best.Primary != "" && v.Primary == best.Primary && memberHost(members[i]) == best.Primary {
			best = v
		}
	}
	return *best, nil
}

// majorityView picks, among the members' views (nil: no answer), one naming
// the primary most views name; a tie goes to a view that names a primary,
// then to the earlier member.
func majorityView(views []*mongo.ReplicaSetStatus) *mongo.ReplicaSetStatus {
	votes := map[string]int{}
	for _, v := range views {
		if v != nil {
			votes[v.Primary]++
		}
	}
	var best *mongo.ReplicaSetStatus
	for _, v := range views {
		switch {
		case v == nil:
		case best == nil,
			votes[v.Primary] > votes[best.Primary],
			votes[v.Primary] == votes[best.Primary] && best.Primary == "" && v.Primary != "":
			best = v
		}
	}
	return best
}

// directClient is a client of one member alone, made on first use.
func (m *mongoService) directClient(ctx context.Context, node string) (*mongo.Client, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.direct[node]; ok {
		return c, nil
	}
	c, err := mongo.Connect(ctx, m.p.cfg.RunID, mongo.Options{
		Hosts: []string{memberHost(node)}, Resolve: m.p.resolve,
		Database: workloadDatabase, Collection: m.spec.Name,
		ServerSelectionTimeout: adminServerSelection,
	})
	if err != nil {
		return nil, err
	}
	if m.direct == nil {
		m.direct = map[string]*mongo.Client{}
	}
	m.direct[node] = c
	m.clients = append(m.clients, c)
	return c, nil
}

// poll reports primary-elected / primary-lost when the primary changes, and
// redundancy-restored when the set is redundant again (see redundant).
func (m *mongoService) poll(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, max(4*m.p.set.mongoStatusPoll, adminServerSelection))
	defer cancel()
	st, err := m.status(ctx)
	if err != nil {
		if ctx.Err() != nil && m.p.background.Err() != nil {
			return // closing
		}
		st = mongo.ReplicaSetStatus{}
	} else {
		m.last.Store(&st)
	}
	if st.Primary != m.primary {
		if m.primary != "" {
			m.p.emit(platform.Event{Service: m.spec.Name, What: platform.EventPrimaryLost, Node: m.nodeOfHost(m.primary)})
		}
		if st.Primary != "" {
			m.p.emit(platform.Event{Service: m.spec.Name, What: platform.EventPrimaryElected, Node: m.nodeOfHost(st.Primary)})
		}
		m.primary = st.Primary
	}
	if err != nil {
		return
	}
	if !redundant(st, len(m.spec.Members)) {
		m.degraded = true
	} else if m.degraded {
		m.degraded = false
		m.p.emit(platform.Event{Service: m.spec.Name, What: platform.EventRedundancyRestored})
	}
}

// redundant reports whether the set holds as many copies of the data as the
// topology declares data-bearing members (declared): that many members
// healthy and PRIMARY or SECONDARY, a state a new member reaches only when
// its initial sync is done. A forced reconfiguration onto one survivor makes
// every member of the new configuration healthy, but leaves one copy: not
// redundant, until the runbook's new members have synced. The simulator
// counts the same way.
func redundant(st mongo.ReplicaSetStatus, declared int) bool {
	copies := 0
	for _, member := range st.Members {
		if member.Healthy && (member.State == "PRIMARY" || member.State == "SECONDARY") {
			copies++
		}
	}
	return copies > 0 && copies >= declared
}

// reportLag emits one replication-lag event per secondary, stamped at, the
// fault instant: it is measured then (the status query runs alongside the
// fault's primitives and answers in about a millisecond), or taken from the
// last poll (at most mongo.status_poll_interval old) when the set does not
// answer in time. A member that was primary has no lag and gets no event.
func (m *mongoService) reportLag(ctx context.Context, at time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, lagQueryTimeout)
	defer cancel()
	st, err := m.status(ctx)
	if err != nil {
		last := m.last.Load()
		if last == nil {
			return
		}
		st = *last
	}
	if st.Primary == "" {
		return
	}
	for _, member := range st.Members {
		if member.State == "SECONDARY" {
			m.p.emitAt(platform.Event{Service: m.spec.Name, What: platform.EventReplicationLag, Node: m.nodeOfHost(member.Name), Detail: member.Lag.String()}, at)
		}
	}
}

// role resolves primary or secondary to node names, asking the set now.
func (m *mongoService) role(ctx context.Context, role string) ([]string, error) {
	st, err := m.status(ctx)
	if err != nil {
		return nil, fmt.Errorf("resolve role %s:%s: %w", m.spec.Name, role, err)
	}
	var nodes []string
	switch role {
	case "primary":
		if st.Primary != "" {
			nodes = append(nodes, m.nodeOfHost(st.Primary))
		}
	case "secondary":
		for _, member := range st.Members {
			if member.State == "SECONDARY" {
				nodes = append(nodes, m.nodeOfHost(member.Name))
			}
		}
	default:
		return nil, fmt.Errorf("role %s:%s: %w", m.spec.Name, role, platform.ErrUnknownRole)
	}
	return nodes, nil
}

func (m *mongoService) close(ctx context.Context) {
	m.mu.Lock()
	clients := m.clients
	m.clients = nil
	m.mu.Unlock()
	for _, c := range clients {
		_ = c.Close(ctx)
	}
}
