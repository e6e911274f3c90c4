package simulator

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

// Artifacts and roles (issue 13): the seed keeps its components and Chef
// recipes in S3 as key-value pairs, rebuilds every role in the west from the
// same keys after losing the east, and upgrades a role by putting a new
// version in the bucket and re-running the recipes on its nodes one at a
// time.
//
// Each endpoint holds the current version of every key it has. A publication
// to the primary region's bucket is appended to its log, which the sync job
// copies to the other buckets in order (with the other objects of a pass) or
// cross-region replication copies after a lag; a delete is not carried, as
// `aws s3 sync` without --delete does not delete. A rebuild reads the keys
// from its region's bucket: a missing one fails it, an older version than
// the newest published is version skew.

const chefClientDocs = "https://docs.chef.io/chef_client_overview/"

var rolesParameters = []paramDef{
	duration("roles.fetch_duration", 5*time.Second,
		"time an instance takes to download one artifact from its region's bucket (model assumption: tens of MB at tens of MB/s from S3 in the same region)",
		"https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance-guidelines.html"),
	duration("roles.converge_duration", 3*time.Minute,
		"time a chef-client run takes to build a role on a fresh instance once its artifacts are fetched: install the packages, write the configuration, start the services until they answer (model assumption; Chef documents the run's phases, not their length)",
		chefClientDocs),
	duration("roles.health_timeout", 10*time.Minute,
		"how long a rolling upgrade waits for the service to be healthy again (Elasticsearch: green) after restarting a node before it gives up (model assumption: the upgrade script's own timeout)",
		"https://www.elastic.co/guide/en/elasticsearch/reference/current/rolling-upgrades.html"),
	duration("roles.health_poll_interval", time.Second,
		"how often a rolling upgrade asks for the service's health (GET _cluster/health) while it waits (model assumption)",
		"https://www.elastic.co/guide/en/elasticsearch/reference/current/cluster-health.html"),
}

// roleAt is a role in a region.
type roleAt struct{ role, region string }

// artifactCopy is the version of a key a bucket holds.
type artifactCopy struct {
	version     string
	publishedAt time.Duration
}

// publication is one version of a key put into the primary's bucket.
type publication struct {
	key, version string
	at           time.Duration
}

// artifactStore is the artifact side of an s3 model.
type artifactStore struct {
	// history is every version of every key published anywhere, initial
	// versions at time 0 first: the newest is what the operators think
	// they run.
	history []publication
	// pubs is the log of publications to the primary's bucket, copied to
	// the others by the sync job (or replication).
	pubs []publication

	skews    []platform.VersionSkew
	upgrades []*platform.Upgrade
	// built is each role rebuilt in a region, with the versions it was
	// built on (key@version, ...): what a rehearsal's watch of the rebuild
	// looks at.
	built map[roleAt]string
	// running is the version of each key each node of a role runs, by
	// node then key, for the nodes an upgrade restarted.
	running map[string]map[string]string

	fetch, converge, healthTimeout, healthPoll time.Duration
}

func (m *s3Model) initArtifacts() {
	p := m.s.params
	a := &m.artifacts
	a.fetch = p.duration("roles.fetch_duration")
	a.converge = p.duration("roles.converge_duration")
	a.healthTimeout = p.duration("roles.health_timeout")
	a.healthPoll = max(time.Millisecond, p.duration("roles.health_poll_interval"))
	a.running = map[string]map[string]string{}
	a.built = map[roleAt]string{}
	for _, art := range m.spec.Artifacts {
		a.history = append(a.history, publication{key: art.Key, version: art.InitialVersion()})
	}
	for _, e := range m.endpoints {
		e.keys = map[string]artifactCopy{}
		for _, art := range m.spec.Artifacts {
			e.keys[art.Key] = artifactCopy{version: art.InitialVersion()}
		}
	}
}

// newest is the newest version of key published anywhere.
func (a *artifactStore) newest(key string) publication {
	var best publication
	for _, p := range a.history {
		if p.key == key && (best.key == "" || p.at >= best.at) {
			best = p
		}
	}
	return best
}

// apply copies a publication into e's bucket, unless it holds a newer one.
func (e *s3Endpoint) apply(p publication) {
	if have, ok := e.keys[p.key]; ok && have.publishedAt > p.at {
		return
	}
	e.keys[p.key] = artifactCopy{version: p.version, publishedAt: p.at}
}

// syncPubs copies the primary's publications up to to into dst's bucket.
func (m *s3Model) syncPubs(dst *s3Endpoint, to int) {
	for _, p := range m.artifacts.pubs[min(dst.syncedPubs, to):to] {
		dst.apply(p)
	}
	dst.syncedPubs = max(dst.syncedPubs, to)
}

// publish puts key@version into e's bucket now.
func (m *s3Model) publish(e *s3Endpoint, key, version string) {
	p := publication{key: key, version: version, at: m.s.now}
	m.artifacts.history = append(m.artifacts.history, p)
	e.apply(p)
	if e == m.primary {
		m.artifacts.pubs = append(m.artifacts.pubs, p)
		if m.crr {
			m.replicateLater(m.s.now, 0, nil, 0, &p)
		}
	}
	m.s.emit(m.spec.Name, platform.EventArtifactPublished, e.node.Name, key+"@"+version)
}

// artifactAction carries out artifacts.publish, artifacts.delete,
// roles.rebuild and roles.upgrade.
func (m *s3Model) artifactAction(a platform.Action, done platform.ActionDone) error {
	finish := func(err error) { done.ActionDone(a.Name, err, m.s.now) }
	switch a.Action {
	case platform.ActionArtifactsPublish, platform.ActionArtifactsDelete:
		key := a.Params["key"]
		if _, ok := m.spec.Artifact(key); !ok {
			return fmt.Errorf("%s: s3 service %q has no artifact key %q", a.Action, m.spec.Name, key)
		}
		region := a.Params["region"]
		if region == "" {
			region = m.primary.region
		}
		e := m.endpoint(region)
		if e == nil {
			return fmt.Errorf("%s: s3 service %q has no endpoint in region %q", a.Action, m.spec.Name, region)
		}
		version := a.Params["version"]
		m.s.after(m.putLatency, platform.HandlerFunc(func(time.Duration) {
			if !m.s.up(e.node) || e.node.disk.failing() {
				finish(fmt.Errorf("%s %s: the s3 endpoint of %s does not take it (%s)", a.Action, key, region, m.endpointTrouble(e)))
				return
			}
			if a.Action == platform.ActionArtifactsDelete {
				delete(e.keys, key)
				m.s.emit(m.spec.Name, platform.EventArtifactDeleted, e.node.Name, key)
			} else {
				m.publish(e, key, version)
			}
			finish(nil)
		}))
		return nil
	case platform.ActionRolesRebuild:
		role, ok := m.spec.Role(a.Params["role"])
		if !ok {
			return fmt.Errorf("rebuild: s3 service %q has no role %q", m.spec.Name, a.Params["role"])
		}
		e := m.endpoint(a.Params["region"])
		if e == nil {
			return fmt.Errorf("rebuild %s: s3 service %q has no endpoint in region %q", role.Name, m.spec.Name, a.Params["region"])
		}
		m.rebuild(a.Name, role, e, 0, map[string]artifactCopy{}, finish)
		return nil
	case platform.ActionRolesUpgrade:
		return m.upgrade(a, finish)
	}
	return fmt.Errorf("%w: %q on s3 service %q", platform.ErrUnknownAction, a.Action, m.spec.Name)
}

// endpointTrouble says why an endpoint cannot serve.
func (m *s3Model) endpointTrouble(e *s3Endpoint) string {
	switch {
	case e.node.state == nodeDown:
		return "it is down"
	case e.node.state == nodePaused:
		return "it does not answer"
	case e.node.disk.mode == diskError:
		return "its disk fails every write"
	case e.node.disk.mode == diskFull:
		return "its disk is full"
	}
	return "it answers"
}

// rebuild fetches the role's keys one by one from e's bucket (the i-th
// next), then converges the role; done says whether it serves again.
func (m *s3Model) rebuild(step string, role platform.ArtifactRole, e *s3Endpoint, i int, got map[string]artifactCopy, done func(error)) {
	a := &m.artifacts
	if i < len(role.Keys) {
		key := role.Keys[i]
		m.s.after(a.fetch, platform.HandlerFunc(func(time.Duration) {
			if !m.s.up(e.node) {
				done(fmt.Errorf("rebuild role %s in %s: fetch %s: the s3 endpoint of %s does not answer (%s)", role.Name, e.region, key, e.region, m.endpointTrouble(e)))
				return
			}
			have, ok := e.keys[key]
			if !ok {
				done(fmt.Errorf("rebuild role %s in %s: key %q is not in the %s bucket", role.Name, e.region, key, e.region))
				return
			}
			got[key] = have
			m.rebuild(step, role, e, i+1, got, done)
		}))
		return
	}
	m.s.after(a.converge, platform.HandlerFunc(func(time.Duration) {
		now := m.s.now
		var versions []string
		for _, key := range role.Keys {
			have := got[key]
			versions = append(versions, key+"@"+have.version)
			newest := a.newest(key)
			if newest.version == have.version {
				continue
			}
			skew := platform.VersionSkew{Step: step, Role: role.Name, Region: e.region, Key: key, Version: have.version,
				Newest: newest.version, NewestPublishedAt: newest.at, At: now}
			a.skews = append(a.skews, skew)
			m.s.emit(m.spec.Name, platform.EventVersionSkew, role.Name, fmt.Sprintf("%s: rebuilt on %s in %s, newest is %s, published %s before",
				key, have.version, e.region, newest.version, now-newest.at))
		}
		a.built[roleAt{role: role.Name, region: e.region}] = strings.Join(versions, ", ")
		m.s.emit(m.spec.Name, platform.EventRoleRebuilt, role.Name, e.region+": "+strings.Join(versions, ", "))
		done(nil)
	}))
}

// --- rolling upgrades ---

// upgrade publishes key@version to the primary's bucket, then restarts the
// role's nodes one at a time (see upgradeNode).
func (m *s3Model) upgrade(a platform.Action, finish func(error)) error {
	role, ok := m.spec.Role(a.Params["role"])
	switch {
	case !ok:
		return fmt.Errorf("upgrade: s3 service %q has no role %q", m.spec.Name, a.Params["role"])
	case !slices.Contains(role.Keys, a.Params["key"]):
		return fmt.Errorf("upgrade role %s: it is not built from key %q (its keys: %s)", role.Name, a.Params["key"], strings.Join(role.Keys, ", "))
	case role.Service == "":
		return fmt.Errorf("upgrade role %s: it names no service whose nodes play it", role.Name)
	}
	es, ok := m.s.byService[role.Service].(*elasticModel)
	if !ok {
		return fmt.Errorf("upgrade role %s: the simulator upgrades Elasticsearch nodes; service %q is not an elasticsearch service", role.Name, role.Service)
	}
	key, version := a.Params["key"], a.Params["version"]
	u := &platform.Upgrade{Step: a.Name, Role: role.Name, Service: role.Service, Key: key, To: version, StartedAt: m.s.now}
	for _, en := range es.cluster.nodes {
		u.Nodes = append(u.Nodes, en.sn.Name)
	}
	u.From = m.runningVersion(u.Nodes[0], key)
	m.artifacts.upgrades = append(m.artifacts.upgrades, u)
	m.s.after(m.putLatency, platform.HandlerFunc(func(time.Duration) {
		if !m.s.up(m.primary.node) || m.primary.node.disk.failing() {
			finish(fmt.Errorf("upgrade role %s: publish %s@%s: the s3 endpoint of %s does not take it (%s)", role.Name, key, version, m.primary.region, m.endpointTrouble(m.primary)))
			return
		}
		m.publish(m.primary, key, version)
		m.upgradeNode(u, es, 0, finish)
	}))
	return nil
}

// runningVersion is the version of key node runs.
func (m *s3Model) runningVersion(node, key string) string {
	if v, ok := m.artifacts.running[node][key]; ok {
		return v
	}
	art, _ := m.spec.Artifact(key)
	return art.InitialVersion()
}

// upgradeNode upgrades the i-th node of u: a node that is down now cannot
// run the recipe, and fails the upgrade; otherwise it is stopped, fetches
// the key from its region's bucket (which must hold the new version), is
// started on it, and the upgrade waits for the service to be green with the
// node back before the next.
func (m *s3Model) upgradeNode(u *platform.Upgrade, es *elasticModel, i int, finish func(error)) {
	if i == len(u.Nodes) {
		u.Done = true
		window := time.Duration(0)
		if u.MixedFrom != nil && u.MixedUntil != nil {
			window = *u.MixedUntil - *u.MixedFrom
		}
		m.s.emit(m.spec.Name, platform.EventUpgradeCompleted, u.Role, fmt.Sprintf("%s@%s on %d nodes; mixed versions for %s", u.Key, u.To, len(u.Nodes), window))
		finish(nil)
		return
	}
	name := u.Nodes[i]
	n, err := m.s.node(name)
	if err != nil || !m.s.up(n) {
		finish(fmt.Errorf("upgrade role %s: node %s is not running, so its recipe cannot run (%d of %d nodes upgraded)", u.Role, name, i, len(u.Nodes)))
		return
	}
	ctx := context.Background()
	stopped := m.s.now
	restart := platform.NodeRestart{Node: name, StoppedAt: stopped}
	_ = m.s.setState(ctx, name, nodeDown, changeStopped)
	m.s.after(m.artifacts.fetch, platform.HandlerFunc(func(time.Duration) {
		e := m.endpoint(n.Region)
		switch {
		case e == nil || !m.s.up(e.node):
			finish(fmt.Errorf("upgrade role %s: node %s cannot fetch %s: no s3 endpoint answers in %s", u.Role, name, u.Key, n.Region))
			u.NodesRestarted = append(u.NodesRestarted, restart)
			return
		case e.keys[u.Key].version != u.To:
			finish(fmt.Errorf("upgrade role %s: node %s fetched %s@%s from the %s bucket, not %s (the sync has not carried it there)", u.Role, name, u.Key, e.keys[u.Key].version, n.Region, u.To))
			u.NodesRestarted = append(u.NodesRestarted, restart)
			return
		}
		if n.state == nodeDown {
			_ = m.s.setState(ctx, name, nodeRunning, changeStarted)
		}
		started := m.s.now
		restart.StartedAt = &started
		if m.artifacts.running[name] == nil {
			m.artifacts.running[name] = map[string]string{}
		}
		m.artifacts.running[name][u.Key] = u.To
		if u.MixedFrom == nil {
			u.MixedFrom = &started
		}
		if i == len(u.Nodes)-1 {
			u.MixedUntil = &started
		}
		m.awaitHealthy(u, es, i, restart, started+m.artifacts.healthTimeout, finish)
	}))
}

// awaitHealthy polls the service's health until it is green with node i
// back in the cluster, then goes on to the next node; it gives up at
// deadline.
func (m *s3Model) awaitHealthy(u *platform.Upgrade, es *elasticModel, i int, restart platform.NodeRestart, deadline time.Duration, finish func(error)) {
	if es.greenWith(u.Nodes[i]) {
		healthy := m.s.now
		restart.HealthyAt = &healthy
		u.NodesRestarted = append(u.NodesRestarted, restart)
		m.s.emit(m.spec.Name, platform.EventNodeUpgraded, u.Nodes[i], u.Key+"@"+u.To)
		m.upgradeNode(u, es, i+1, finish)
		return
	}
	if m.s.now >= deadline {
		u.NodesRestarted = append(u.NodesRestarted, restart)
		finish(fmt.Errorf("upgrade role %s: %s was not green with %s back within %s (roles.health_timeout); %d of %d nodes upgraded",
			u.Role, u.Service, u.Nodes[i], m.artifacts.healthTimeout, i+1, len(u.Nodes)))
		return
	}
	m.s.after(m.artifacts.healthPoll, platform.HandlerFunc(func(time.Duration) {
		m.awaitHealthy(u, es, i, restart, deadline, finish)
	}))
}

// artifactObjectPrefix is where the containers platform keeps the artifact
// keys in a bucket (platform/adapters/s3.ArtifactPrefix), so that a
// tabletop's commands read like a live rehearsal's.
const artifactObjectPrefix = "roles/"

// artifactFacts adds what the artifact and role instructions need: the
// topology's names, the nodes an upgrade would restart now (the cluster
// the log tier writes to), and what the model does in place of Chef.
func (m *s3Model) artifactFacts(f platform.Facts) {
	platform.ArtifactFacts(f, m.s.topo, m.spec, artifactObjectPrefix)
	for _, role := range m.spec.Roles {
		es, ok := m.s.byService[role.Service].(*elasticModel)
		if !ok {
			continue
		}
		var nodes []string
		for _, en := range es.cluster.nodes {
			nodes = append(nodes, en.sn.Name)
			f[platform.FactRegion(en.sn.Name)] = en.sn.Region
		}
		f[platform.FactRoleNodes(m.spec.Name, role.Name)] = strings.Join(nodes, ",")
	}
	a := &m.artifacts
	name := m.spec.Name
	f[platform.FactRebuildStandIn(name)] = fmt.Sprintf("the model fetches each key from the region's bucket in roles.fetch_duration (%s), failing on a key the bucket lacks, then takes roles.converge_duration (%s) for the recipe run", a.fetch, a.converge)
	f[platform.FactUpgradeStandIn(name)] = fmt.Sprintf("the model stops each node, fetches the key from its region's bucket in roles.fetch_duration (%s), starts it on that version and polls the cluster's health every roles.health_poll_interval (%s) until it is green with the node back, for at most roles.health_timeout (%s); it does not switch allocation off", a.fetch, a.healthPoll, a.healthTimeout)
	f[platform.FactHealthTimeout(name)] = platform.ElasticTime(a.healthTimeout.Seconds())
}

// VersionSkews lists the roles rebuilt on an older version than the newest
// published (platform.RoleHistory).
func (s *Sim) VersionSkews() []platform.VersionSkew {
	var out []platform.VersionSkew
	for _, m := range s.models {
		if s3, ok := m.(*s3Model); ok {
			out = append(out, s3.artifacts.skews...)
		}
	}
	return out
}

// Upgrades lists the rolling upgrades the runbook started
// (platform.RoleHistory).
func (s *Sim) Upgrades() []platform.Upgrade {
	var out []platform.Upgrade
	for _, m := range s.models {
		if s3, ok := m.(*s3Model); ok {
			for _, u := range s3.artifacts.upgrades {
				out = append(out, *u)
			}
		}
	}
	return out
}

var _ platform.RoleHistory = (*Sim)(nil)
