package simulator

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

// A rehearsal on the simulator is a tabletop exercise: the engineer types
// the runbook's actions, the simulator carries them out at the loop's
// virtual time, and a watch (platform.StepWatcher) reports when the models'
// state shows a step's effect. A watch is a predicate over the models,
// checked after every event the loop fires and every event a model emits
// while one is armed (and on each acknowledged S3 put, for DoneWritesIn),
// so the time it reports is the virtual time the state first held; without
// a watch armed, the loop pays one length check per event.

var _ platform.StepWatcher = (*Sim)(nil)

// simWatch is one armed watch.
type simWatch struct {
	holds func() (seen string, ok bool) // nil for a watch fed by acked only
	acked func(service, region string) bool
	done  func(at time.Duration, seen string)
	over  bool
}

// WatchDone arms a watch for state; see platform.StepWatcher.
func (s *Sim) WatchDone(state platform.DoneState, done func(at time.Duration, seen string)) (func(), error) {
	s.wakeModels() // a watch changes nothing pending; woken only to be safe
	w := &simWatch{done: done}
	service, err := s.serviceFor(state)
	if err != nil {
		return nil, err
	}
	switch state.What {
	case platform.DonePrimary, platform.DoneSecondary, platform.DoneNewPrimary, platform.DoneMemberConfig, platform.DoneWriteConcern:
		m, ok := s.byService[service].(*mongoModel)
		if !ok {
			return nil, fmt.Errorf("watch %s: %q is not a mongo service", state.What, service)
		}
		if w.holds, err = m.watch(state); err != nil {
			return nil, err
		}
	case platform.DoneIndexGreen:
		m, ok := s.byService[service].(*elasticModel)
		if !ok {
			return nil, fmt.Errorf("watch %s: %q is not an elasticsearch service", state.What, service)
		}
		region := state.Region
		w.holds = func() (string, bool) {
			c := m.cluster
			if c == m.clusters[0] || c.region != region || c.restoring || c.health != platform.EventHealthGreen || m.tier.cluster != c {
				return "", false
			}
			return fmt.Sprintf("the restored cluster in %s is green and the log tier writes to it", region), true
		}
	case platform.DoneWritesIn:
		if _, ok := s.byService[service].(*s3Model); !ok {
			return nil, fmt.Errorf("watch %s: %q is not an s3 service", state.What, service)
		}
		w.acked = func(svc, region string) bool { return svc == service && region == state.Region }
	case platform.DoneArtifactIn, platform.DoneArtifactGone, platform.DoneRoleBuilt, platform.DoneRoleUpgraded:
		m, ok := s.byService[service].(*s3Model)
		if !ok {
			return nil, fmt.Errorf("watch %s: %q is not an s3 service", state.What, service)
		}
		if w.holds, err = m.watch(state); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("watch: the simulator knows no done state %q", state.What)
	}
	s.watches = append(s.watches, w)
	s.checkWatches()
	return func() { w.over = true }, nil
}

// serviceFor is the service a done state is about: its own, or the
// topology's only one of the kind its word implies.
func (s *Sim) serviceFor(state platform.DoneState) (string, error) {
	if state.Service != "" {
		if _, ok := s.byService[state.Service]; !ok {
			return "", fmt.Errorf("%w: %q", platform.ErrUnknownService, state.Service)
		}
		return state.Service, nil
	}
	kind := platform.KindMongo
	switch state.What {
	case platform.DoneIndexGreen:
		kind = platform.KindElastic
	case platform.DoneWritesIn, platform.DoneArtifactIn, platform.DoneArtifactGone, platform.DoneRoleBuilt, platform.DoneRoleUpgraded:
		kind = platform.KindS3
	}
	spec, ok := s.topo.ServiceOfKind(kind)
	if !ok {
		return "", fmt.Errorf("watch %s: the topology has no %s service", state.What, kind)
	}
	return spec.Name, nil
}

// checkWatches reports, at the current virtual time, every watch whose
// state holds. The report is delivered by a handler of its own, so that a
// watcher never runs inside a model's step.
func (s *Sim) checkWatches() {
	kept := s.watches[:0]
	for _, w := range s.watches {
		if w.over {
			continue
		}
		if w.holds != nil {
			if seen, ok := w.holds(); ok {
				s.deliver(w, s.now, seen)
				continue
			}
		}
		kept = append(kept, w)
	}
	clear(s.watches[len(kept):])
	s.watches = kept
}

// acked is told of each acknowledged put of an s3 service, at the time its
// answer reached the client.
func (s *Sim) acked(service, region string, at time.Duration) {
	for _, w := range s.watches {
		if !w.over && w.acked != nil && w.acked(service, region) {
			s.deliver(w, at, fmt.Sprintf("a write succeeded against the %s bucket", region))
		}
	}
}

func (s *Sim) deliver(w *simWatch, at time.Duration, seen string) {
	w.over = true
	s.timer(s.now, platform.HandlerFunc(func(time.Duration) { w.done(at, seen) }))
}

// watch makes the predicate of a mongo done state.
func (m *mongoModel) watch(state platform.DoneState) (func() (string, bool), error) {
	switch state.What {
	case platform.DonePrimary:
		if m.member(state.Member) == nil {
			return nil, fmt.Errorf("watch: %q is not a member of %s", state.Member, m.spec.Name)
		}
		return func() (string, bool) {
			if m.primary == nil || m.primary.name() != state.Member || m.primary.steppingDown {
				return "", false
			}
			return state.Member + " is the primary", true
		}, nil
	case platform.DoneSecondary:
		return func() (string, bool) {
			x := m.member(state.Member)
			if x == nil || memberState(m, x) != "SECONDARY" {
				return "", false
			}
			return state.Member + " is SECONDARY", true
		}, nil
	case platform.DoneNewPrimary:
		was := m.primary
		return func() (string, bool) {
			if m.primary == nil || m.primary == was {
				return "", false
			}
			return m.primary.name() + " is the primary", true
		}, nil
	case platform.DoneMemberConfig:
		if m.member(state.Member) == nil {
			return nil, fmt.Errorf("watch: %q is not a member of %s", state.Member, m.spec.Name)
		}
		return func() (string, bool) {
			x := m.member(state.Member)
			if state.Votes != "" && strconv.Itoa(x.votes) != state.Votes {
				return "", false
			}
			if state.Priority != "" {
				want, err := strconv.ParseFloat(state.Priority, 64)
				if err != nil || x.priority != want {
					return "", false
				}
			}
			return fmt.Sprintf("%s has votes %d, priority %g", x.name(), x.votes, x.priority), true
		}, nil
	case platform.DoneWriteConcern:
		want, err := parseConcern(m.spec, state.Value)
		if err != nil {
			return nil, fmt.Errorf("watch: %w", err)
		}
		return func() (string, bool) {
			if !reflect.DeepEqual(m.concern, want) {
				return "", false
			}
			return "the clients write with write concern " + state.Value, true
		}, nil
	}
	return nil, fmt.Errorf("watch: %q is not a mongo done state", state.What)
}

// watch makes the predicate of an artifact or role done state.
func (m *s3Model) watch(state platform.DoneState) (func() (string, bool), error) {
	switch state.What {
	case platform.DoneArtifactIn, platform.DoneArtifactGone:
		if _, ok := m.spec.Artifact(state.Key); !ok {
			return nil, fmt.Errorf("watch: s3 service %q has no artifact key %q", m.spec.Name, state.Key)
		}
		region := orName(state.Region, m.primary.region)
		e := m.endpoint(region)
		if e == nil {
			return nil, fmt.Errorf("watch: s3 service %q has no endpoint in region %q", m.spec.Name, region)
		}
		if state.What == platform.DoneArtifactGone {
			return func() (string, bool) {
				if _, ok := e.keys[state.Key]; ok {
					return "", false
				}
				return fmt.Sprintf("the %s bucket holds no %s", region, state.Key), true
			}, nil
		}
		return func() (string, bool) {
			if have, ok := e.keys[state.Key]; !ok || have.version != state.Value {
				return "", false
			}
			return fmt.Sprintf("the %s bucket holds %s@%s", region, state.Key, state.Value), true
		}, nil
	case platform.DoneRoleBuilt:
		if _, ok := m.spec.Role(state.Role); !ok {
			return nil, fmt.Errorf("watch: s3 service %q has no role %q", m.spec.Name, state.Role)
		}
		if m.endpoint(state.Region) == nil {
			return nil, fmt.Errorf("watch: s3 service %q has no endpoint in region %q", m.spec.Name, state.Region)
		}
		at := roleAt{role: state.Role, region: state.Region}
		return func() (string, bool) {
			versions, ok := m.artifacts.built[at]
			if !ok {
				return "", false
			}
			return fmt.Sprintf("role %s is built in %s (%s)", state.Role, state.Region, versions), true
		}, nil
	case platform.DoneRoleUpgraded:
		role, ok := m.spec.Role(state.Role)
		if !ok {
			return nil, fmt.Errorf("watch: s3 service %q has no role %q", m.spec.Name, state.Role)
		}
		es, ok := m.s.byService[role.Service].(*elasticModel)
		if !ok {
			return nil, fmt.Errorf("watch: role %s: the simulator upgrades Elasticsearch nodes; %q is not an elasticsearch service", role.Name, role.Service)
		}
		return func() (string, bool) {
			for _, en := range es.cluster.nodes {
				if m.runningVersion(en.sn.Name, state.Key) != state.Value || !es.greenWith(en.sn.Name) {
					return "", false
				}
			}
			return fmt.Sprintf("every node of %s runs %s@%s and %s is green with all %d", role.Name, state.Key, state.Value, role.Service, len(es.cluster.nodes)), true
		}, nil
	}
	return nil, fmt.Errorf("watch: %q is not an s3 done state", state.What)
}

// memberState names a member's state as rs.status() would.
func memberState(m *mongoModel, x *mongoMember) string {
	switch {
	case !x.inConfig:
		return "REMOVED"
	case !m.s.up(x.node):
		return "(not reachable/healthy)"
	case x.isPrimary:
		return "PRIMARY"
	case x.arbiter:
		return "ARBITER"
	case x.syncing:
		return "STARTUP2"
	case x.stale:
		return "RECOVERING"
	}
	return "SECONDARY"
}

// Ports the real servers listen on, for the addresses a tabletop's
// instructions show.
var servicePorts = map[string]string{platform.KindMongo: "27017", platform.KindElastic: "9200", platform.KindS3: "4566"}

// snapshotRepository and bucketName follow the containers platform's
// names, so that a tabletop's commands read like a live rehearsal's.
const snapshotRepository = "chaosdrill"

func bucketName(purpose, service, region string) string {
	return strings.ToLower(purpose + "-" + service + "-" + region)
}

// Facts tells a tabletop's instructions the run's names and where each
// node would be reached (its name and its server's port).
func (s *Sim) Facts(platform.Action) platform.Facts {
	f := platform.Facts{}
	for _, n := range s.nodes {
		f[platform.FactAddress(n.Name)] = n.Name + ":" + servicePorts[n.Kind]
		if n.Kind == platform.KindMongo {
			f[platform.FactMemberHost(n.Name)] = n.Name + ":27017"
		}
	}
	for _, m := range s.models {
		switch m := m.(type) {
		case *mongoModel:
			name := m.spec.Name
			f[platform.FactReplicaSet(name)] = orName(m.spec.ReplicaSet, name)
			var survivors []string
			for _, x := range m.members {
				if x.inConfig && s.up(x.node) {
					survivors = append(survivors, x.name()+":27017")
				}
			}
			f[platform.FactSurvivors(name)] = strings.Join(survivors, ",")
			if m.primary != nil {
				f[platform.FactPrimary(name)] = m.primary.name()
			}
		case *s3Model:
			for _, e := range m.endpoints {
				f[platform.FactBucket(m.spec.Name, e.region)] = bucketName("artifacts", m.spec.Name, e.region)
				f[platform.FactEndpoint(m.spec.Name, e.region)] = "http://" + e.node.Name + ":4566"
			}
			m.artifactFacts(f)
		case *elasticModel:
			name := m.spec.Name
			f[platform.FactRepository(name)] = snapshotRepository
			f[platform.FactIndex(name)] = bucketName("chaosdrill", name, "events")
			if m.s3 == nil {
				continue
			}
			for _, e := range m.s3.endpoints {
				f[platform.FactBucket(name, e.region)] = bucketName("snapshots", m.s3.spec.Name, e.region)
				f[platform.FactEndpoint(name, e.region)] = "http://" + e.node.Name + ":4566"
				if snaps, ok := m.s3.snapshots(e.region); ok {
					var newest *esSnapshot
					for _, sn := range snaps {
						if !sn.partial && (newest == nil || sn.takenAt > newest.takenAt) {
							newest = sn
						}
					}
					if newest != nil {
						f[platform.FactSnapshot(name, e.region)] = "snapshot-at-" + newest.takenAt.String()
					}
				}
			}
		}
	}
	return f
}

func orName(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

// State describes each service now, for an engineer who asks.
func (s *Sim) State() []string {
	var out []string
	for _, m := range s.models {
		switch m := m.(type) {
		case *mongoModel:
			var members []string
			for _, x := range m.members {
				desc := x.name() + " " + memberState(m, x)
				if x.hidden {
					desc += " hidden"
				}
				if x.inConfig && !x.arbiter {
					desc += fmt.Sprintf(" (priority %g, votes %d)", x.priority, x.votes)
				}
				members = append(members, desc)
			}
			primary := "none"
			if m.primary != nil {
				primary = m.primary.name()
			}
			out = append(out, fmt.Sprintf("%s: primary %s; %s", m.spec.Name, primary, strings.Join(members, ", ")))
		case *elasticModel:
			c := m.cluster
			up := 0
			for _, n := range c.nodes {
				if s.up(n.sn) {
					up++
				}
			}
			what := "cluster in " + c.region
			if c != m.clusters[0] {
				what = "restored cluster in " + c.region
			}
			if c.restoring {
				what += " (restoring)"
			}
			out = append(out, fmt.Sprintf("%s: the log tier writes to the %s: %s, %d of %d nodes up", m.spec.Name, what, strings.TrimPrefix(c.health, "health-"), up, len(c.nodes)))
		case *s3Model:
			var endpoints []string
			for _, e := range m.endpoints {
				state := "up"
				if !s.up(e.node) {
					state = "down"
				}
				endpoints = append(endpoints, e.node.Name+" "+state)
			}
			line := fmt.Sprintf("%s: clients use the %s bucket; endpoints %s", m.spec.Name, m.active.region, strings.Join(endpoints, ", "))
			var built []string
			for at, versions := range m.artifacts.built {
				built = append(built, fmt.Sprintf("%s in %s (%s)", at.role, at.region, versions))
			}
			if len(built) > 0 {
				sort.Strings(built)
				line += "; roles rebuilt: " + strings.Join(built, ", ")
			}
			out = append(out, line)
		}
	}
	return out
}
