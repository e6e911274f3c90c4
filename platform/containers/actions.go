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
	"github.com/chaosdrill/chaosdrill/platform/adapters/elastic"
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
	// reconfigureTimeout covers finding the primary and a replSetReconfig,
	// which waits up to reconfigMaxTime (60 s) for a majority to install
	// the new configuration.
	reconfigureTimeout = 90 * time.Second
	// resyncTimeout covers replacing the member's container and its
	// initial sync, as addMemberTimeout.
	resyncTimeout = addMemberTimeout
)

// Where a member's data comes from (the `source` of mongo.add-member and
// mongo.resync-member).
const (
	sourceInitialSync = "initial-sync"
	sourceBackup      = "backup"
)

// rehearsable refuses, before anything starts, a runbook with a step the
// containers platform cannot carry out as written (a member seeded from a
// backup), naming the step, rather than failing it half-way through the
// scenario.
func rehearsable(runbook []platform.Action) error {
	var errs []error
	for _, a := range runbook {
		switch a.Action {
		case platform.ActionMongoAddMember, platform.ActionMongoResyncMember:
			errs = append(errs, syncSource(a))
		}
	}
	return errors.Join(errs...)
}

// syncSource reads the source parameter of action a. The containers
// platform keeps no backups of a member's data (a filesystem snapshot
// taken every mongo.backup_interval, which the simulator models), so
// source: backup is refused up front rather than carried out as something
// else.
func syncSource(a platform.Action) error {
	switch source := a.Params["source"]; source {
	case "", sourceInitialSync:
		return nil
	case sourceBackup:
		return fmt.Errorf("runbook step %s: %s with source: backup cannot be rehearsed on the containers platform: it keeps no backups of a member's data to restore (only the simulator models them); use source: initial-sync, or --platform sim", a.Name, a.Action)
	default:
		return fmt.Errorf("runbook step %s: source %q: want %s or %s", a.Name, source, sourceInitialSync, sourceBackup)
	}
}

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
	case platform.ActionMongoForceReconfigure, platform.ActionMongoAddMember, platform.ActionMongoStepDown, platform.ActionMongoSetWriteConcern,
		platform.ActionMongoReconfigMember, platform.ActionMongoResyncMember:
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
			if m.isArbiter(promote) {
				return nil, fmt.Errorf("action %s: promote %q is an arbiter: it holds no data and can never be primary", a.Name, promote)
			}
			return func(ctx context.Context) error { return m.forceReconfigure(ctx, promote) }, nil
		case platform.ActionMongoAddMember:
			if err := syncSource(a); err != nil {
				return nil, err
			}
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
		case platform.ActionMongoReconfigMember:
			member, votes, priority, err := m.reconfigureParams(a.Params)
			if err != nil {
				return nil, fmt.Errorf("action %s: %w", a.Name, err)
			}
			return func(ctx context.Context) error { return m.reconfigureMember(ctx, member, votes, priority) }, nil
		case platform.ActionMongoResyncMember:
			if err := syncSource(a); err != nil {
				return nil, err
			}
			member := a.Params["member"]
			if err := m.isMember(member); err != nil {
				return nil, fmt.Errorf("action %s: %w", a.Name, err)
			}
			if m.isArbiter(member) {
				return nil, fmt.Errorf("action %s: %q is an arbiter: it holds no data to resync", a.Name, member)
			}
			return func(ctx context.Context) error { return m.resyncMember(ctx, member) }, nil
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
		partial := false
		if v, ok := a.Params["partial"]; ok {
			if partial, err = strconv.ParseBool(v); err != nil {
				return nil, fmt.Errorf("action %s: partial %q: want true or false", a.Name, v)
			}
		}
		return func(ctx context.Context) error { return e.restoreInto(ctx, region, count, partial) }, nil
	case platform.ActionArtifactsPublish, platform.ActionArtifactsDelete, platform.ActionRolesRebuild, platform.ActionRolesUpgrade:
		return p.roleAction(a)
	case platform.ActionArtifactsFailover:
		s, err := pick(p.buckets, a.Params["service"], platform.KindS3)
		if err != nil {
			return nil, fmt.Errorf("action %s: %w", a.Name, err)
		}
		region := a.Params["region"]
		return func(ctx context.Context) error {
			if err := s.failOver(ctx, region); err != nil {
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
	m.p.emit(platform.Event{Service: m.spec.Name, What: platform.EventMemberAdded, Node: n.Node.Name, Detail: "initial sync"})
	m.follow(n.Node.Name)
	return nil
}

// isMember reports, as an error naming it, a node that is not a member of
// the set now (the topology's, or one a runbook added).
func (m *mongoService) isMember(node string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, member := range m.members {
		if member == node {
			return nil
		}
	}
	return fmt.Errorf("%q is not a member of %s: %w", node, m.replicaSet, platform.ErrUnknownNode)
}

// reconfigureParams reads mongo.reconfigure-member's parameters: the
// member (not an arbiter, whose vote and priority are fixed), and its new
// votes (0 or 1) and/or priority (0..1000); nil for one not given.
func (m *mongoService) reconfigureParams(params map[string]string) (member string, votes *int, priority *float64, err error) {
	member = params["member"]
	if err := m.isMember(member); err != nil {
		return "", nil, nil, err
	}
	if m.isArbiter(member) {
		return "", nil, nil, fmt.Errorf("%q is an arbiter, whose votes (1) and priority (0) are fixed", member)
	}
	if text, given := params["votes"]; given {
		n, err := strconv.Atoi(text)
		if err != nil || (n != 0 && n != 1) {
			return "", nil, nil, fmt.Errorf("votes %q: want 0 or 1", text)
		}
		votes = &n
	}
	if text, given := params["priority"]; given {
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || f < 0 || f > 1000 {
			return "", nil, nil, fmt.Errorf("priority %q: want a number 0..1000", text)
		}
		priority = &f
	}
	if votes == nil && priority == nil {
		return "", nil, nil, fmt.Errorf("give member %q new votes, a new priority, or both", member)
	}
	if votes != nil && *votes == 0 && priority != nil && *priority != 0 {
		return "", nil, nil, fmt.Errorf("a non-voting member must have priority 0 (member %q)", member)
	}
	return member, votes, priority, nil
}

// reconfigureMember changes one member's votes and/or priority with a
// normal replSetReconfig on the primary (MongoDB's PSA workaround,
// https://www.mongodb.com/docs/manual/tutorial/mitigate-psa-performance-issues/),
// done when a majority of the voting members installed it. The primary
// itself is not made unelectable: MongoDB refuses that reconfig, so the
// step fails, saying to step it down first.
func (m *mongoService) reconfigureMember(ctx context.Context, member string, votes *int, priority *float64) error {
	ctx, cancel := context.WithTimeout(ctx, reconfigureTimeout)
	defer cancel()
	var primary string
	if err := retry(ctx, func() error {
		st, err := m.status(ctx)
		if err != nil {
			return err
		}
		primary = st.Primary
		return nil
	}); err != nil {
		return fmt.Errorf("reconfigure %s: %w", member, err)
	}
	switch {
	case primary == "":
		return fmt.Errorf("reconfigure %s: %s has no primary to run replSetReconfig on", member, m.replicaSet)
	case primary == memberHost(member) && ((votes != nil && *votes == 0) || (priority != nil && *priority == 0)):
		return fmt.Errorf("reconfigure %s: it is the primary; step it down before making it unelectable", member)
	}
	direct, err := m.p.resolve(ctx, primary)
	if err != nil {
		return fmt.Errorf("reconfigure %s: %w", member, err)
	}
	installed, err := mongo.ReconfigureMember(ctx, direct, memberHost(member), votes, priority)
	if err != nil {
		return err
	}
	m.p.emit(platform.Event{Service: m.spec.Name, What: platform.EventReconfigured, Node: member,
		Detail: fmt.Sprintf("version %d: votes %d, priority %v", installed.Version, installed.Votes, installed.Priority)})
	return nil
}

// resyncMember wipes a member and syncs it again, MongoDB's "automatically
// sync a member" (https://www.mongodb.com/docs/manual/tutorial/resync-replica-set-member/):
// its container is replaced by an empty one at the same alias, which the
// set, still listing it, brings back through an initial sync. Done when it
// is SECONDARY again (member-added); its catch-up is followed after that.
// A member that is the primary, or not running, is refused as MongoDB's
// procedure would not apply.
func (m *mongoService) resyncMember(ctx context.Context, member string) error {
	ctx, cancel := context.WithTimeout(ctx, resyncTimeout)
	defer cancel()
	st, err := m.status(ctx)
	if err != nil {
		return fmt.Errorf("resync %s: %w", member, err)
	}
	host := memberHost(member)
	if st.Primary == host {
		return fmt.Errorf("resync %s: it is the primary; step it down first", member)
	}
	running := false
	for _, s := range st.Members {
		running = running || (s.Name == host && s.Healthy)
	}
	if !running {
		return fmt.Errorf("resync %s: it is not running", member)
	}
	engine, err := m.p.engineNow()
	if err != nil {
		return fmt.Errorf("resync %s: %w", member, err)
	}
	if _, err := engine.Replace(ctx, member); err != nil {
		return fmt.Errorf("resync %s: %w", member, err)
	}
	if err := retry(ctx, func() error {
		st, err := m.status(ctx)
		if err != nil {
			return err
		}
		for _, s := range st.Members {
			if s.Name == host && s.State == "SECONDARY" {
				return nil
			}
		}
		return fmt.Errorf("member %s has not finished its initial sync", member)
	}); err != nil {
		return fmt.Errorf("resync %s: %w", member, err)
	}
	m.p.emit(platform.Event{Service: m.spec.Name, What: platform.EventMemberAdded, Node: member, Detail: "initial sync (resync)"})
	m.follow(member)
	return nil
}

// tagsFor gives a new member the tags its peers carry where they name a
// placement: a tag whose value is each member's region (or zone) gets the
// new member's region (or zone), so tag-set write modes count it.
func (m *mongoService) tagsFor(n platform.Node) map[string]string {
	tags := map[string]string{}
	for _, member := range m.spec.Members {
		if member.Arbiter {
			continue // arbiters carry no tags
		}
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
// With partial, the newest snapshot may be PARTIAL, and the restore asks
// for partial: its shards that did not snapshot are recreated empty.
func (e *elasticService) restoreInto(ctx context.Context, region string, count int, partial bool) error {
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
	snapshot, err := client.LatestRestorable(ctx, elasticRepository, partial)
	if err != nil {
		return fmt.Errorf("restore %s: find the newest snapshot in %s: %w", e.spec.Name, bucket, err)
	}
	restored, err := client.RestoreWith(ctx, elasticRepository, snapshot, elastic.RestoreOptions{Partial: partial})
	if err != nil {
		return fmt.Errorf("restore %s: snapshot %s: %w", e.spec.Name, snapshot, err)
	}
	detail := snapshot
	if restored.Empty > 0 {
		detail = fmt.Sprintf("%s (partial: %d of %d shards recreated empty)", snapshot, restored.Empty, restored.Total)
	}
	e.mu.Lock()
	e.client, e.nodes, e.restored = client, names, true
	e.mu.Unlock()
	e.p.emit(platform.Event{Service: e.spec.Name, What: platform.EventRestoreCompleted, Detail: detail})
	e.p.emit(platform.Event{Service: e.spec.Name, What: platform.EventEndpointFailedOver, Detail: region})
	return nil
}
