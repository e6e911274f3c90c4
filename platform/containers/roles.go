package containers

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/platform/adapters/s3"
)

// Artifacts and roles live (issue 13). The artifact keys are objects of the
// artifact bucket (s3.ArtifactPrefix), put into every region's bucket at
// bring-up and carried by the harness's sync like everything else there.
// artifacts.publish and artifacts.delete are real PUTs and DELETEs on a
// region's LocalStack; roles.rebuild fetches each key of the role from that
// region's LocalStack for real, then stands in for the recipe run with
// roles.converge_duration (the harness runs no Chef); roles.upgrade publishes,
// then for each node of the role's Elasticsearch service in turn fetches the
// key from the node's region, stops and starts its container (the image is
// the same: the version a node runs is the one it fetched) and waits for the
// cluster to be green with every node in it before the next.

// ParamConvergeDuration is the recipe run a rebuild waits for, as in the
// simulator.
const ParamConvergeDuration = "roles.converge_duration"

// upgradeHealthTimeout bounds the wait for green after restarting a node.
const upgradeHealthTimeout = 10 * time.Minute

// roleState is what the roles.* actions did on one s3 service.
type roleState struct {
	mu       sync.Mutex
	history  []publishedVersion
	skews    []platform.VersionSkew
	upgrades []*platform.Upgrade
}

type publishedVersion struct {
	key, version string
	at           time.Duration
}

// rolesOf returns the role state of s3 service s.
func (p *Platform) rolesOf(s *s3Service) *roleState {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.roles == nil {
		p.roles = map[string]*roleState{}
	}
	r := p.roles[s.spec.Name]
	if r == nil {
		r = &roleState{}
		for _, a := range s.spec.Artifacts {
			r.history = append(r.history, publishedVersion{key: a.Key, version: a.InitialVersion()})
		}
		p.roles[s.spec.Name] = r
	}
	return r
}

func (r *roleState) newest(key string) publishedVersion {
	r.mu.Lock()
	defer r.mu.Unlock()
	var best publishedVersion
	for _, v := range r.history {
		if v.key == key && (best.key == "" || v.at >= best.at) {
			best = v
		}
	}
	return best
}

// putInitialArtifacts puts every artifact key at its initial version into
// every region's bucket: the platform as it stands before the drill.
func (s *s3Service) putInitialArtifacts(ctx context.Context) error {
	for _, e := range s.spec.Endpoints {
		for _, a := range s.spec.Artifacts {
			client := s.artifacts[e.Region]
			if err := retry(ctx, func() error { return client.PutArtifact(ctx, a.Key, a.InitialVersion()) }); err != nil {
				return err
			}
		}
	}
	return nil
}

// bucketIn returns the artifact bucket client of region.
func (s *s3Service) bucketIn(region string) (*s3.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.artifacts[region]
	if c == nil {
		return nil, fmt.Errorf("s3 service %s has no endpoint in region %q", s.spec.Name, region)
	}
	return c, nil
}

// roleAction checks a roles.* or artifacts.publish/delete step and returns
// its work.
func (p *Platform) roleAction(a platform.Action) (func(context.Context) error, error) {
	s, err := pick(p.buckets, a.Params["service"], platform.KindS3)
	if err != nil {
		return nil, fmt.Errorf("action %s: %w", a.Name, err)
	}
	state := p.rolesOf(s)
	switch a.Action {
	case platform.ActionArtifactsPublish, platform.ActionArtifactsDelete:
		key, region := a.Params["key"], a.Params["region"]
		if region == "" {
			region = s.spec.PrimaryRegion
		}
		if _, ok := s.spec.Artifact(key); !ok {
			return nil, fmt.Errorf("action %s: s3 service %s has no artifact key %q", a.Name, s.spec.Name, key)
		}
		return func(ctx context.Context) error {
			endpoint := s.endpointOf(region)
			client, err := s.bucketIn(region)
			if err != nil {
				return err
			}
			if a.Action == platform.ActionArtifactsDelete {
				if err := client.DeleteArtifact(ctx, key); err != nil {
					return err
				}
				p.emit(platform.Event{Service: s.spec.Name, What: platform.EventArtifactDeleted, Node: endpoint, Detail: key})
				return nil
			}
			return p.publish(ctx, s, state, region, key, a.Params["version"])
		}, nil
	case platform.ActionRolesRebuild:
		role, ok := s.spec.Role(a.Params["role"])
		if !ok {
			return nil, fmt.Errorf("action %s: s3 service %s has no role %q", a.Name, s.spec.Name, a.Params["role"])
		}
		converge, err := p.convergeDuration()
		if err != nil {
			return nil, fmt.Errorf("action %s: %w", a.Name, err)
		}
		return func(ctx context.Context) error {
			return p.rebuild(ctx, s, state, a.Name, role, a.Params["region"], converge)
		}, nil
	case platform.ActionRolesUpgrade:
		role, ok := s.spec.Role(a.Params["role"])
		switch {
		case !ok:
			return nil, fmt.Errorf("action %s: s3 service %s has no role %q", a.Name, s.spec.Name, a.Params["role"])
		case !slices.Contains(role.Keys, a.Params["key"]):
			return nil, fmt.Errorf("action %s: role %s is not built from key %q", a.Name, role.Name, a.Params["key"])
		}
		e, ok := p.elastics[role.Service]
		if !ok {
			return nil, fmt.Errorf("action %s: role %s: the live platform upgrades the nodes of a started elasticsearch service; %q is not one", a.Name, role.Name, role.Service)
		}
		return func(ctx context.Context) error {
			return p.upgrade(ctx, s, state, e, a.Name, role, a.Params["key"], a.Params["version"])
		}, nil
	}
	return nil, fmt.Errorf("action %s: %q: %w", a.Name, a.Action, platform.ErrUnknownAction)
}

// endpointOf names the endpoint node of region.
func (s *s3Service) endpointOf(region string) string {
	for _, e := range s.spec.Endpoints {
		if e.Region == region {
			return e.Name
		}
	}
	return ""
}

func (p *Platform) convergeDuration() (time.Duration, error) {
	text, ok := p.cfg.Parameters[ParamConvergeDuration]
	if !ok {
		text = defaultConvergeDuration.String()
	}
	d, err := time.ParseDuration(text)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("parameter %s: want a duration such as \"3m\", got %q", ParamConvergeDuration, text)
	}
	return d, nil
}

// defaultConvergeDuration is the simulator's roles.converge_duration.
const defaultConvergeDuration = 3 * time.Minute

func (p *Platform) publish(ctx context.Context, s *s3Service, state *roleState, region, key, version string) error {
	client, err := s.bucketIn(region)
	if err != nil {
		return err
	}
	if err := client.PutArtifact(ctx, key, version); err != nil {
		return err
	}
	state.mu.Lock()
	state.history = append(state.history, publishedVersion{key: key, version: version, at: p.loop.Now()})
	state.mu.Unlock()
	p.emit(platform.Event{Service: s.spec.Name, What: platform.EventArtifactPublished, Node: s.endpointOf(region), Detail: key + "@" + version})
	return nil
}

// rebuild fetches the role's keys from region's bucket, waits for the
// recipe run, and reports version skew.
func (p *Platform) rebuild(ctx context.Context, s *s3Service, state *roleState, step string, role platform.ArtifactRole, region string, converge time.Duration) error {
	client, err := s.bucketIn(region)
	if err != nil {
		return fmt.Errorf("rebuild role %s in %s: %w", role.Name, region, err)
	}
	got := map[string]string{}
	for _, key := range role.Keys {
		version, found, err := client.GetArtifact(ctx, key)
		switch {
		case err != nil:
			return fmt.Errorf("rebuild role %s in %s: fetch %s: %w", role.Name, region, key, err)
		case !found:
			return fmt.Errorf("rebuild role %s in %s: key %q is not in the %s bucket", role.Name, region, key, region)
		}
		got[key] = version
	}
	select {
	case <-time.After(converge):
	case <-ctx.Done():
		return ctx.Err()
	}
	now := p.loop.Now()
	var versions []string
	for _, key := range role.Keys {
		versions = append(versions, key+"@"+got[key])
		newest := state.newest(key)
		if newest.version == got[key] {
			continue
		}
		state.mu.Lock()
		state.skews = append(state.skews, platform.VersionSkew{Step: step, Role: role.Name, Region: region, Key: key, Version: got[key],
			Newest: newest.version, NewestPublishedAt: newest.at, At: now})
		state.mu.Unlock()
		p.emit(platform.Event{Service: s.spec.Name, What: platform.EventVersionSkew, Node: role.Name,
			Detail: fmt.Sprintf("%s: rebuilt on %s in %s, newest is %s, published %s before", key, got[key], region, newest.version, now-newest.at)})
	}
	p.emit(platform.Event{Service: s.spec.Name, What: platform.EventRoleRebuilt, Node: role.Name, Detail: region + ": " + strings.Join(versions, ", ")})
	return nil
}

// upgrade is the rolling upgrade of an Elasticsearch role's nodes.
func (p *Platform) upgrade(ctx context.Context, s *s3Service, state *roleState, e *elasticService, step string, role platform.ArtifactRole, key, version string) error {
	u := &platform.Upgrade{Step: step, Role: role.Name, Service: role.Service, Key: key, To: version, StartedAt: p.loop.Now(), From: state.newest(key).version}
	for _, n := range e.spec.Nodes {
		u.Nodes = append(u.Nodes, n.Name)
	}
	state.mu.Lock()
	state.upgrades = append(state.upgrades, u)
	state.mu.Unlock()
	if err := p.publish(ctx, s, state, s.spec.PrimaryRegion, key, version); err != nil {
		return fmt.Errorf("upgrade role %s: %w", role.Name, err)
	}
	engine, err := p.engineNow()
	if err != nil {
		return err
	}
	for i, name := range u.Nodes {
		node, _ := p.cfg.Topology.Node(name)
		client, err := s.bucketIn(node.Region)
		if err != nil {
			return fmt.Errorf("upgrade role %s: node %s: %w", role.Name, name, err)
		}
		fetched, found, err := client.GetArtifact(ctx, key)
		switch {
		case err != nil:
			return fmt.Errorf("upgrade role %s: node %s cannot fetch %s: %w", role.Name, name, key, err)
		case !found || fetched != version:
			return fmt.Errorf("upgrade role %s: node %s fetched %s@%s from the %s bucket, not %s", role.Name, name, key, fetched, node.Region, version)
		}
		running, err := engine.Running(ctx, name)
		if err != nil || !running {
			return fmt.Errorf("upgrade role %s: node %s is not running, so its recipe cannot run (%d of %d nodes upgraded)", role.Name, name, i, len(u.Nodes))
		}
		stoppedAt, err := engine.Stop(ctx, name)
		if err != nil {
			return fmt.Errorf("upgrade role %s: stop %s: %w", role.Name, name, err)
		}
		restart := platform.NodeRestart{Node: name, StoppedAt: p.loop.scenarioTime(stoppedAt)}
		p.emitAt(platform.Event{Service: role.Service, What: platform.EventNodeDown, Node: name, Detail: "stopped for the upgrade"}, restart.StoppedAt)
		startedAt, err := engine.Start(ctx, name)
		if err != nil {
			return fmt.Errorf("upgrade role %s: start %s: %w", role.Name, name, err)
		}
		started := p.loop.scenarioTime(startedAt)
		restart.StartedAt = &started
		p.emitAt(platform.Event{Service: role.Service, What: platform.EventNodeUp, Node: name, Detail: "started on " + key + "@" + version}, started)
		state.mu.Lock()
		if u.MixedFrom == nil {
			u.MixedFrom = &started
		}
		if i == len(u.Nodes)-1 {
			u.MixedUntil = &started
		}
		state.mu.Unlock()
		var answer []byte
		if err := e.adminRequest(ctx, u.Nodes, "GET", clusterHealthPath(len(u.Nodes), upgradeHealthTimeout), "", &answer); err != nil {
			state.mu.Lock()
			u.NodesRestarted = append(u.NodesRestarted, restart)
			state.mu.Unlock()
			return fmt.Errorf("upgrade role %s: %s was not green with %s back: %w", role.Name, role.Service, name, err)
		}
		healthy := p.loop.Now()
		restart.HealthyAt = &healthy
		state.mu.Lock()
		u.NodesRestarted = append(u.NodesRestarted, restart)
		state.mu.Unlock()
		p.emit(platform.Event{Service: s.spec.Name, What: platform.EventNodeUpgraded, Node: name, Detail: key + "@" + version})
	}
	state.mu.Lock()
	u.Done = true
	window := *u.MixedUntil - *u.MixedFrom
	state.mu.Unlock()
	p.emit(platform.Event{Service: s.spec.Name, What: platform.EventUpgradeCompleted, Node: role.Name, Detail: fmt.Sprintf("%s@%s on %d nodes; mixed versions for %s", key, version, len(u.Nodes), window)})
	return nil
}

var _ platform.RoleHistory = (*Platform)(nil)

// VersionSkews lists the roles rebuilt on an older version than the newest
// published.
func (p *Platform) VersionSkews() []platform.VersionSkew {
	var out []platform.VersionSkew
	for _, r := range p.roleStates() {
		r.mu.Lock()
		out = append(out, r.skews...)
		r.mu.Unlock()
	}
	return out
}

// Upgrades lists the rolling upgrades the runbook started.
func (p *Platform) Upgrades() []platform.Upgrade {
	var out []platform.Upgrade
	for _, r := range p.roleStates() {
		r.mu.Lock()
		for _, u := range r.upgrades {
			out = append(out, *u)
		}
		r.mu.Unlock()
	}
	return out
}

// roleStates lists the role states by s3 service name.
func (p *Platform) roleStates() []*roleState {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*roleState
	for _, name := range platform.SortedKeys(p.roles) {
		out = append(out, p.roles[name])
	}
	return out
}

// artifactFacts adds what the artifact and role instructions need about
// s3 service s: the topology's names, the object keys as this platform
// stores them, and what the harness does in place of Chef.
func (p *Platform) artifactFacts(f platform.Facts, s *s3Service) {
	platform.ArtifactFacts(f, p.cfg.Topology, s.spec, s3.ArtifactPrefix)
	name := s.spec.Name
	if converge, err := p.convergeDuration(); err == nil {
		f[platform.FactRebuildStandIn(name)] = fmt.Sprintf("the harness GETs each key from the region's LocalStack (failing on a key the bucket lacks), then waits %s (%s) for the recipe run; no instance of the role is started", ParamConvergeDuration, converge)
	}
	f[platform.FactUpgradeStandIn(name)] = fmt.Sprintf("for each node, the harness GETs the key from the node's region's LocalStack, stops and starts the node's container on the same image (the version it runs is the one it fetched), then waits for the cluster to be green with every node (GET _cluster/health, at most %s); it does not switch allocation off", upgradeHealthTimeout)
	f[platform.FactHealthTimeout(name)] = platform.ElasticTime(upgradeHealthTimeout.Seconds())
}
