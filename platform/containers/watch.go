package containers

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/platform/adapters/mongo"
)

// In a rehearsal the engineer acts on the run's own containers (mongosh,
// curl, the AWS CLI) and the harness watches the servers' state to see
// when a runbook step's effect is there (platform.StepWatcher). A watch is
// a poller in the background that posts its finding on the loop; an S3
// watch is fed by the workload's own puts. Nothing outside the run's
// containers is looked at.

var _ platform.StepWatcher = (*Platform)(nil)

// watchPoll is how often a polled watch asks the servers; a done state is
// seen within this of when it held, plus the query.
const watchPoll = 250 * time.Millisecond

// WatchDone arms a watch for state; see platform.StepWatcher. A member's
// votes and priority and the workload's write concern are not watched
// here, nor are a role's rebuild and upgrade (no server shows them: see
// roleUnwatched); the runner then takes the end of the engineer's typed
// action.
func (p *Platform) WatchDone(state platform.DoneState, done func(at time.Duration, seen string)) (func(), error) {
	ctx, cancel := context.WithCancel(p.background)
	var once sync.Once
	report := func(at time.Duration, seen string) {
		once.Do(func() {
			cancel()
			p.loop.post(func(time.Duration) { done(at, seen) })
		})
	}
	switch state.What {
	case platform.DonePrimary, platform.DoneSecondary, platform.DoneNewPrimary:
		m, err := pick(p.mongos, state.Service, platform.KindMongo)
		if err != nil {
			cancel()
			return nil, err
		}
		p.goBackground(func(context.Context) { m.watch(ctx, state, report) })
	case platform.DoneIndexGreen:
		e, err := pick(p.elastics, state.Service, platform.KindElastic)
		if err != nil {
			cancel()
			return nil, err
		}
		p.goBackground(func(context.Context) { e.watch(ctx, state.Region, report) })
	case platform.DoneWritesIn:
		s, err := pick(p.buckets, state.Service, platform.KindS3)
		if err != nil {
			cancel()
			return nil, err
		}
		s.watchWrites(ctx, state.Region, func(seen string) { report(p.loop.Now(), seen) })
	case platform.DoneArtifactIn, platform.DoneArtifactGone:
		s, err := pick(p.buckets, state.Service, platform.KindS3)
		if err != nil {
			cancel()
			return nil, err
		}
		watch, err := s.watchArtifact(state)
		if err != nil {
			cancel()
			return nil, err
		}
		p.goBackground(func(context.Context) { watch(ctx, report) })
	case platform.DoneRoleBuilt, platform.DoneRoleUpgraded:
		cancel()
		return nil, roleUnwatched(state)
	default:
		cancel()
		return nil, fmt.Errorf("the containers platform does not watch %s", state.What)
	}
	return cancel, nil
}

// poll calls check every watchPoll until it finds the state, or ctx
// ends.
func poll(ctx context.Context, check func(ctx context.Context) bool) {
	tick := time.NewTicker(watchPoll)
	defer tick.Stop()
	for {
		if check(ctx) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// watch polls the replica set's status for a mongo done state. A forced
// reconfiguration the engineer made by hand is adopted once its member is
// primary: the members it kept are the set's, and the workload reconnects
// to them, as the applications' drivers would.
func (m *mongoService) watch(ctx context.Context, state platform.DoneState, report func(time.Duration, string)) {
	host := memberHost(state.Member)
	was := ""
	first := true
	poll(ctx, func(ctx context.Context) bool {
		queryCtx, cancel := context.WithTimeout(ctx, roleTimeout)
		st, err := m.status(queryCtx)
		cancel()
		at := m.p.loop.Now()
		if err != nil {
			return false
		}
		if first {
			was, first = st.Primary, false
		}
		switch state.What {
		case platform.DonePrimary:
			if st.Primary != host {
				return false
			}
			m.adopt(ctx, st.Members)
			report(at, state.Member+" is the primary")
			return true
		case platform.DoneSecondary:
			for _, s := range st.Members {
				if s.Name == host && s.State == "SECONDARY" {
					report(at, state.Member+" is SECONDARY")
					return true
				}
			}
		case platform.DoneNewPrimary:
			if st.Primary != "" && st.Primary != was {
				report(at, m.nodeOfHost(st.Primary)+" is the primary")
				return true
			}
		}
		return false
	})
}

// adopt makes the members of a configuration installed outside the harness
// the set's, and reconnects the workload when they changed.
func (m *mongoService) adopt(ctx context.Context, members []mongo.MemberStatus) {
	var names []string
	for _, s := range members {
		if n := m.nodeOfHost(s.Name); n != "" {
			names = append(names, n)
		}
	}
	m.mu.Lock()
	changed := strings.Join(names, ",") != strings.Join(m.members, ",")
	if changed && len(names) > 0 {
		m.members = names
	}
	m.mu.Unlock()
	if changed && len(names) > 0 {
		_ = m.reconnectWorkloads(ctx)
	}
}

// watch polls for a restored cluster in region that is green.
func (e *elasticService) watch(ctx context.Context, region string, report func(time.Duration, string)) {
	poll(ctx, func(ctx context.Context) bool {
		client, nodes, restored := e.current()
		// restoreInto names the new cluster's nodes SERVICE-REGION-i.
		if !restored || len(nodes) == 0 || !strings.HasPrefix(nodes[0], e.spec.Name+"-"+region+"-") {
			return false
		}
		queryCtx, cancel := context.WithTimeout(ctx, roleTimeout)
		health, err := client.Health(queryCtx)
		cancel()
		if err != nil || health != "green" {
			return false
		}
		report(e.p.loop.Now(), fmt.Sprintf("the restored cluster in %s is green and the log tier writes to it", region))
		return true
	})
}

// watchArtifact makes the poller of an artifact done state: it asks the
// region's LocalStack for the key every watchPoll (a GET of the object, as
// a rebuild would), so a PUT or DELETE the engineer made with the AWS CLI
// is seen as well as the harness's, and so is the sync's copy.
func (s *s3Service) watchArtifact(state platform.DoneState) (func(context.Context, func(time.Duration, string)), error) {
	if _, ok := s.spec.Artifact(state.Key); !ok {
		return nil, fmt.Errorf("watch: s3 service %s has no artifact key %q", s.spec.Name, state.Key)
	}
	region := state.Region
	if region == "" {
		region = s.spec.PrimaryRegion
	}
	client, err := s.bucketIn(region)
	if err != nil {
		return nil, fmt.Errorf("watch: %w", err)
	}
	return func(ctx context.Context, report func(time.Duration, string)) {
		poll(ctx, func(ctx context.Context) bool {
			queryCtx, cancel := context.WithTimeout(ctx, roleTimeout)
			version, found, err := client.GetArtifact(queryCtx, state.Key)
			cancel()
			at := s.p.loop.Now()
			switch {
			case err != nil:
				return false
			case state.What == platform.DoneArtifactGone && !found:
				report(at, fmt.Sprintf("the %s bucket holds no %s", region, state.Key))
				return true
			case state.What == platform.DoneArtifactIn && found && version == state.Value:
				report(at, fmt.Sprintf("the %s bucket holds %s@%s", region, state.Key, version))
				return true
			}
			return false
		})
	}, nil
}

// roleUnwatched says why the containers platform cannot see a role rebuilt
// or upgraded: it runs no instances of a role (no Chef, no console), and
// its Elasticsearch nodes run one image whatever version they fetched, so
// no server shows either state; only the harness's own action knows it.
func roleUnwatched(state platform.DoneState) error {
	if state.What == platform.DoneRoleBuilt {
		return fmt.Errorf("the containers platform runs no instances of role %s: a rebuild here is the harness's GETs of the role's keys from the %s LocalStack and a %s wait standing in for the recipe run, which leave nothing running to watch",
			state.Role, state.Region, ParamConvergeDuration)
	}
	return fmt.Errorf("the containers platform cannot see which version a node of role %s runs: its nodes run the same image whatever version they fetched, so only the harness's own upgrade knows it", state.Role)
}

// s3Watch waits for a put of the workload acknowledged by region's bucket.
type s3Watch struct {
	ctx    context.Context
	region string
	seen   func(string)
}

// watchWrites arms a watch fed by the workload's puts.
func (s *s3Service) watchWrites(ctx context.Context, region string, seen func(string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.watches = append(s.watches, &s3Watch{ctx: ctx, region: region, seen: seen})
}

// acked tells the watches that a put to region's bucket was acknowledged.
func (s *s3Service) acked(region string) {
	s.mu.Lock()
	var fire []*s3Watch
	kept := s.watches[:0]
	for _, w := range s.watches {
		switch {
		case w.ctx.Err() != nil:
		case w.region == region:
			fire = append(fire, w)
		default:
			kept = append(kept, w)
		}
	}
	s.watches = kept
	s.mu.Unlock()
	for _, w := range fire {
		w.seen(fmt.Sprintf("a write succeeded against the %s bucket (%s)", region, s.endpointIn(region)))
	}
}

// Facts tells the instructions where the engineer reaches each node of the
// run (the host port Docker mapped), and the run's names.
func (p *Platform) Facts(platform.Action) platform.Facts {
	f := platform.Facts{}
	ctx, cancel := context.WithTimeout(p.background, roleTimeout)
	defer cancel()
	port := map[string]string{platform.KindMongo: mongoPort, platform.KindElastic: elasticPort, platform.KindS3: localStackPort}
	p.mu.Lock()
	nodes := make([]string, 0, len(p.aliases))
	for _, n := range p.aliases {
		nodes = append(nodes, n)
	}
	p.mu.Unlock()
	for _, name := range nodes {
		n, ok := p.cfg.Topology.Node(name)
		if !ok {
			p.mu.Lock()
			n, ok = p.added[name]
			p.mu.Unlock()
		}
		if !ok {
			continue
		}
		if addr, err := p.hostAddress(ctx, name, port[n.Kind]); err == nil {
			f[platform.FactAddress(name)] = addr
		}
		if n.Kind == platform.KindMongo {
			f[platform.FactMemberHost(name)] = memberHost(name)
		}
	}
	for name, m := range p.mongos {
		f[platform.FactReplicaSet(name)] = m.replicaSet
		m.mu.Lock()
		members := append([]string(nil), m.members...)
		m.mu.Unlock()
		var survivors []string
		for _, n := range members {
			if !p.jobs.isDown(n) {
				survivors = append(survivors, memberHost(n))
			}
		}
		f[platform.FactSurvivors(name)] = strings.Join(survivors, ",")
	}
	for name, s := range p.buckets {
		for _, e := range s.spec.Endpoints {
			f[platform.FactBucket(name, e.Region)] = bucketName(purposeArtifacts, name, e.Region)
			if addr, ok := f[platform.FactAddress(e.Name)]; ok {
				f[platform.FactEndpoint(name, e.Region)] = "http://" + addr
			}
		}
		p.artifactFacts(f, s)
	}
	for name, e := range p.elastics {
		f[platform.FactRepository(name)] = elasticRepository
		f[platform.FactIndex(name)] = e.index()
		if s, ok := p.buckets[e.spec.SnapshotTo]; ok {
			for _, ep := range s.spec.Endpoints {
				f[platform.FactBucket(name, ep.Region)] = bucketName(purposeSnapshots, s.spec.Name, ep.Region)
				// Elasticsearch reaches the endpoint by its alias on the
				// run's network.
				f[platform.FactEndpoint(name, ep.Region)] = "http://" + dockerAlias(ep.Name) + ":4566"
			}
		}
	}
	return f
}

// State describes each service as the harness last saw it.
func (p *Platform) State() []string {
	var out []string
	for _, name := range platform.SortedKeys(p.buckets) {
		s := p.buckets[name]
		var endpoints []string
		for _, e := range s.spec.Endpoints {
			state := "up"
			if p.jobs.isDown(e.Name) {
				state = "down"
			}
			endpoints = append(endpoints, e.Name+" "+state)
		}
		out = append(out, fmt.Sprintf("%s: clients use the %s bucket; endpoints %s", name, s.activeRegion(), strings.Join(endpoints, ", ")))
	}
	for _, name := range platform.SortedKeys(p.mongos) {
		m := p.mongos[name]
		m.mu.Lock()
		members := strings.Join(m.members, ", ")
		m.mu.Unlock()
		out = append(out, fmt.Sprintf("%s: replica set %s, members %s (ask it: rs.status())", name, m.replicaSet, members))
	}
	for _, name := range platform.SortedKeys(p.elastics) {
		_, nodes, restored := p.elastics[name].current()
		what := "the original cluster"
		if restored {
			what = "the restored cluster"
		}
		out = append(out, fmt.Sprintf("%s: the log tier writes to %s (%s)", name, what, strings.Join(nodes, ", ")))
	}
	return out
}
