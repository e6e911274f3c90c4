package containers

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/platform/adapters/mongo"
)

// Runbook timeouts: how long an action may take before it gives up.
const (
	// forceReconfigureTimeout covers probing the members and installing
	// the forced configuration (which does not wait for a majority).
	forceReconfigureTimeout = 30 * time.Second
	// probeTimeout is how long a member gets to answer before a forced
	// reconfiguration leaves it out.
	probeTimeout = 2 * time.Second
	// addMemberTimeout covers starting the container, the reconfig and the
	// initial sync of a small workload's data.
	addMemberTimeout = 10 * time.Minute
	stepDownTimeout  = 30 * time.Second
)

// StartAction carries out a runbook action in the background; done is told
// on the loop when it ends.
func (p *Platform) StartAction(ctx context.Context, a platform.Action, done platform.ActionDone) error {
	if p.opts.standin != "" {
		return fmt.Errorf("action %s: stand-in nodes run no services: %w", a.Action, platform.ErrUnknownAction)
	}
	run, err := p.action(a)
	if err != nil {
		return err
	}
	p.goBackground(func(background context.Context) {
		err := run(background)
		at := p.loop.Now()
		p.loop.post(func(time.Duration) { done.ActionDone(a.Name, err, at) })
	})
	return nil
}

// action checks an action's parameters and returns the work it does.
func (p *Platform) action(a platform.Action) (func(context.Context) error, error) {
	switch a.Action {
	case platform.ActionMongoForceReconfigure, platform.ActionMongoAddMember, platform.ActionMongoStepDown, platform.ActionMongoSetWriteConcern:
		m, err := pick(p.mongos, a.Params["service"], platform.KindMongo)
		if err != nil {
			return nil, fmt.Errorf("action %s: %w", a.Name, err)
		}
		switch a.Action {
		case platform.ActionMongoForceReconfigure:
			promote := a.Params["promote"]
			if _, known := p.nodeOfAlias(dockerAlias(promote)); !known {
				return nil, fmt.Errorf("action %s: promote %q: %w", a.Name, promote, platform.ErrUnknownNode)
			}
			return func(ctx context.Context) error { return m.forceReconfigure(ctx, promote) }, nil
		case platform.ActionMongoAddMember:
			node, err := p.newMemberNode(m, a.Params)
			if err != nil {
				return nil, fmt.Errorf("action %s: %w", a.Name, err)
			}
			priority := 1.0
			if v, ok := a.Params["priority"]; ok {
				if priority, err = strconv.ParseFloat(v, 64); err != nil || priority < 0 || priority > 1000 {
					return nil, fmt.Errorf("action %s: priority %q: want a number 0..1000", a.Name, v)
				}
			}
			return func(ctx context.Context) error { return m.addNewMember(ctx, node, priority) }, nil
		case platform.ActionMongoSetWriteConcern:
			concern := a.Params["write_concern"]
			if concern == "" {
				return nil, fmt.Errorf("action %s: write_concern is required", a.Name)
			}
			return func(ctx context.Context) error { return m.setWriteConcern(ctx, concern) }, nil
		default:
			return m.stepDown, nil
		}
	case platform.ActionLogsRestoreSnapshot:
		e, err := pick(p.elastics, a.Params["service"], platform.KindElastic)
		if err != nil {
			return nil, fmt.Errorf("action %s: %w", a.Name, err)
		}
		region := a.Params["region"]
		if !p.cfg.Topology.HasRegion(region) {
			return nil, fmt.Errorf("action %s: no region %q in the topology", a.Name, region)
		}
		count := len(e.spec.Nodes)
		if v, ok := a.Params["nodes"]; ok {
			if count, err = strconv.Atoi(v); err != nil || count < 1 {
				return nil, fmt.Errorf("action %s: nodes %q: want a positive whole number", a.Name, v)
			}
		}
		return func(ctx context.Context) error { return e.restoreInto(ctx, region, count) }, nil
	case platform.ActionArtifactsFailover:
		s, err := pick(p.buckets, a.Params["service"], platform.KindS3)
		if err != nil {
			return nil, fmt.Errorf("action %s: %w", a.Name, err)
		}
		region := a.Params["region"]
		return func(context.Context) error {
			if err := s.failOver(region); err != nil {
				return err
			}
			p.emit(platform.Event{Service: s.spec.Name, What: platform.EventEndpointFailedOver, Detail: region})
			return nil
		}, nil
	}
	return nil, fmt.Errorf("action %s: %q: %w", a.Name, a.Action, platform.ErrUnknownAction)
}

// pick returns the named service, or the only one of its kind.
func pick[S any](services map[string]S, name, kind string) (S, error) {
	var zero S
	if name != "" {
		s, ok := services[name]
		if !ok {
			return zero, fmt.Errorf("no %s service %q is running (a service without a workload is not started): %w", kind, name, platform.ErrUnknownService)
		}
		return s, nil
	}
	if len(services) == 0 {
		return zero, fmt.Errorf("no %s service is running (a service without a workload is not started): %w", kind, platform.ErrUnknownService)
	}
	if len(services) != 1 {
		return zero, fmt.Errorf("%d %s services: name one with the service parameter: %w", len(services), kind, platform.ErrUnknownService)
	}
	for _, s := range services {
		return s, nil
	}
	return zero, nil
}

// forceReconfigure installs, on promote, a configuration of the members that
// answer now, with promote electable. The runbook of
// https://www.mongodb.com/docs/manual/tutorial/reconfigure-replica-set-with-unavailable-members/.
func (m *mongoService) forceReconfigure(ctx context.Context, promote string) error {
	ctx, cancel := context.WithTimeout(ctx, forceReconfigureTimeout)
	defer cancel()
	m.mu.Lock()
	members := append([]string(nil), m.members...)
	m.mu.Unlock()
	answering := make([]bool, len(members))
	var group sync.WaitGroup
	for i, n := range members {
		group.Go(func() { answering[i] = m.answers(ctx, n) })
	}
	group.Wait()
	var keep []string
	for i, n := range members {
		if answering[i] {
			keep = append(keep, memberHost(n))
		}
	}
	direct, err := m.p.hostAddress(ctx, promote, mongoPort)
	if err != nil {
		return fmt.Errorf("force-reconfigure onto %s: %w", promote, err)
	}
	if err := mongo.ForceReconfigure(ctx, direct, keep, memberHost(promote)); err != nil {
		return err
	}
	m.mu.Lock()
	m.members = m.members[:0]
	for i, n := range members {
		if answering[i] {
			m.members = append(m.members, n)
		}
	}
	m.mu.Unlock()
	if err := m.reconnectWorkloads(ctx); err != nil {
		return fmt.Errorf("reconnect the workload to the reconfigured set: %w", err)
	}
	m.p.emit(platform.Event{Service: m.spec.Name, What: platform.EventReconfigured, Node: promote, Detail: fmt.Sprintf("%d members", len(keep))})
	return nil
}

// answers pings one member directly.
func (m *mongoService) answers(ctx context.Context, node string) bool {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	direct, err := m.p.hostAddress(ctx, node, mongoPort)
	if err != nil {
		return false
	}
	c, err := mongo.Connect(ctx, m.p.cfg.RunID, mongo.Options{
		Hosts: []string{direct}, Database: workloadDatabase, Collection: m.spec.Name,
		ServerSelectionTimeout: probeTimeout,
	})
	if err != nil {
		return false
	}
	defer c.Close(context.WithoutCancel(ctx))
	_, err = c.Primary(ctx)
	return err == nil || errors.Is(err, mongo.ErrNoPrimary)
}

// newMemberNode plans the container of a member to add.
func (p *Platform) newMemberNode(m *mongoService, params map[string]string) (plannedNode, error) {
	name, zone := params["name"], params["zone"]
	region, ok := p.cfg.Topology.RegionOfZone(zone)
	if !ok {
		return plannedNode{}, fmt.Errorf("zone %q is not in the topology", zone)
	}
	if name == "" {
		return plannedNode{}, errors.New("the new member needs a name")
	}
	if _, taken := p.nodeOfAlias(dockerAlias(name)); taken {
		return plannedNode{}, fmt.Errorf("node name %q is taken", name)
	}
	n := platform.Node{Name: name, Service: m.spec.Name, Kind: platform.KindMongo, Region: region, Zone: zone}
	return mongoNode(n, m.replicaSet, p.opts), nil
}

// addNewMember starts the member's container, adds it with a normal
// reconfig (one voting member at a time), and waits for its initial sync
// to end (state SECONDARY).
func (m *mongoService) addNewMember(ctx context.Context, n plannedNode, priority float64) error {
	ctx, cancel := context.WithTimeout(ctx, addMemberTimeout)
	defer cancel()
	m.addMember.Lock()
	defer m.addMember.Unlock()
	m.p.rememberAddedNode(n.Node)
	if err := m.p.addNode(ctx, n.Spec); err != nil {
		return fmt.Errorf("start member %s: %w", n.Node.Name, err)
	}
	member := mongo.MemberConfig{Host: memberHost(n.Node.Name), Priority: priority, Tags: m.tagsFor(n.Node)}
	if err := retry(ctx, func() error {
		st, err := m.status(ctx)
		if err != nil {
			return err
		}
		if st.Primary == "" {
			return errors.New("no primary to add the member on")
		}
		primary, err := m.p.resolve(ctx, st.Primary)
		if err != nil {
			return err
		}
		err = mongo.AddMember(ctx, primary, member)
		if err != nil && strings.Contains(err.Error(), "is already a member") {
			// An earlier attempt installed the config but timed out
			// waiting for a majority to commit it: the member is in.
			return nil
		}
		return err
	}); err != nil {
		return fmt.Errorf("add member %s: %w", n.Node.Name, err)
	}
	m.mu.Lock()
	m.members = append(m.members, n.Node.Name)
	m.mu.Unlock()
	if err := retry(ctx, func() error {
		st, err := m.status(ctx)
		if err != nil {
			return err
		}
		for _, s := range st.Members {
			if s.Name == member.Host && s.State == "SECONDARY" {
				return nil
			}
		}
		return fmt.Errorf("member %s has not finished its initial sync", n.Node.Name)
	}); err != nil {
		return err
	}
	m.p.emit(platform.Event{Service: m.spec.Name, What: platform.EventMemberAdded, Node: n.Node.Name})
	return nil
}

// tagsFor gives a new member the tags its peers carry where they name a
// placement: a tag whose value is each member's region (or zone) gets the
// new member's region (or zone), so tag-set write modes count it.
func (m *mongoService) tagsFor(n platform.Node) map[string]string {
	tags := map[string]string{}
	for _, member := range m.spec.Members {
		region, _ := m.p.cfg.Topology.RegionOfZone(member.Zone)
		for key, value := range member.Tags {
			switch value {
			case region:
				tags[key] = n.Region
			case member.Zone:
				tags[key] = n.Zone
			}
		}
	}
	return tags
}

func (m *mongoService) stepDown(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, stepDownTimeout)
	defer cancel()
	st, err := m.status(ctx)
	if err != nil {
		return fmt.Errorf("step down: %w", err)
	}
	if st.Primary == "" {
		return errors.New("step down: there is no primary")
	}
	primary, err := m.p.resolve(ctx, st.Primary)
	if err != nil {
		return fmt.Errorf("step down: %w", err)
	}
	return mongo.StepDown(ctx, primary, stepDownSeconds)
}

// restoreInto builds a new cluster of count nodes in region, spread over its
// zones, registers the region's snapshot bucket read-only (one cluster
// writes to a repository: https://www.elastic.co/docs/deploy-manage/tools/snapshot-and-restore/s3-repository),
// restores the newest snapshot there, and makes the log tier write to it.
func (e *elasticService) restoreInto(ctx context.Context, region string, count int) error {
	ctx, cancel := context.WithTimeout(ctx, elasticRestoreTimeout)
	defer cancel()
	if e.spec.SnapshotTo == "" {
		return fmt.Errorf("restore %s: it takes no snapshots (no snapshot_to)", e.spec.Name)
	}
	endpoint, err := snapshotEndpoint(e.p.cfg.Topology, e.spec, region)
	if err != nil {
		return fmt.Errorf("restore %s: %w", e.spec.Name, err)
	}
	var zones []string
	for _, r := range e.p.cfg.Topology.Regions {
		if r.Name == region {
			zones = r.Zones
		}
	}
	cluster := e.spec.Name + "-" + region
	names := make([]string, count)
	for i := range names {
		names[i] = fmt.Sprintf("%s-%d", cluster, i+1)
	}
	group, groupCtx := errgroup.WithContext(ctx)
	for i, name := range names {
		n := platform.Node{Name: name, Service: e.spec.Name, Kind: platform.KindElastic, Region: region, Zone: zones[i%len(zones)]}
		e.p.rememberAddedNode(n)
		planned := elasticNode(n, cluster, names, endpoint, e.p.opts)
		group.Go(func() error { return e.p.addNode(groupCtx, planned.Spec) })
	}
	if err := group.Wait(); err != nil {
		return fmt.Errorf("restore %s: start the new cluster: %w", e.spec.Name, err)
	}
	client, err := e.connect(names)
	if err != nil {
		return fmt.Errorf("restore %s: %w", e.spec.Name, err)
	}
	if err := e.formCluster(ctx, names); err != nil {
		return fmt.Errorf("restore %s: %w", e.spec.Name, err)
	}
	bucket := bucketName(purposeSnapshots, e.spec.SnapshotTo, region)
	if err := retry(ctx, func() error { return client.RegisterS3Repository(ctx, elasticRepository, bucket, true) }); err != nil {
		return fmt.Errorf("restore %s: register bucket %s read-only: %w", e.spec.Name, bucket, err)
	}
	snapshot, err := client.LatestSnapshot(ctx, elasticRepository)
	if err != nil {
		return fmt.Errorf("restore %s: find the newest snapshot in %s: %w", e.spec.Name, bucket, err)
	}
	if err := client.Restore(ctx, elasticRepository, snapshot); err != nil {
		return fmt.Errorf("restore %s: snapshot %s: %w", e.spec.Name, snapshot, err)
	}
	e.mu.Lock()
	e.client, e.nodes, e.restored = client, names, true
	e.mu.Unlock()
	e.p.emit(platform.Event{Service: e.spec.Name, What: platform.EventRestoreCompleted, Detail: snapshot})
	e.p.emit(platform.Event{Service: e.spec.Name, What: platform.EventEndpointFailedOver, Detail: region})
	return nil
}
