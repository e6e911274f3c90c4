package platform

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Service kinds a topology can place. Each kind maps to one model in the
// simulator and one set of containers in the live platform.
const (
	KindMongo   = "mongo"         // a MongoDB replica set
	KindElastic = "elasticsearch" // an Elasticsearch cluster fed by the log tier
	KindS3      = "s3"            // S3 endpoints, one per region, with a periodic cross-region sync
)

// Topology is where everything runs: regions with their availability zones,
// the latency of the links between them, and the services placed on them.
// It is written inline in a scenario file or named (built-in "ion").
type Topology struct {
	Name     string        `yaml:"name" json:"name"`
	Regions  []Region      `yaml:"regions" json:"regions"`
	Latency  LinkLatency   `yaml:"latency" json:"latency"`
	Services []ServiceSpec `yaml:"services" json:"services"`
}

// Region is a cloud region and its availability zones.
type Region struct {
	Name  string   `yaml:"name" json:"name"`
	Zones []string `yaml:"zones" json:"zones"`
}

// LinkLatency is the one-way latency of a network link by how far apart its
// ends are. Zero fields take DefaultLinkLatency's.
type LinkLatency struct {
	IntraZone   LinkDelay `yaml:"intra_zone" json:"intra_zone"`
	InterZone   LinkDelay `yaml:"inter_zone" json:"inter_zone"`
	InterRegion LinkDelay `yaml:"inter_region" json:"inter_region"`
}

// LinkDelay is the one-way latency of one class of link: fixed
// (`inter_region: 32ms`), or a log-normal given by its median and 99th
// percentile (`inter_region: {median: 32ms, p99: 40ms}`). With a tail, each
// link of the class (each pair of nodes, each client-to-node path) draws its
// latency once per run from the run's seed: what a write lost on a region
// loss depends on is the replication lag at the instant of the fault, one
// draw of the link's delay, so a sweep of seeds samples that distribution.
// P99 0 means no tail: every link of the class has Median.
type LinkDelay struct {
	Median Duration
	P99    Duration
}

// D is the typical latency of the class: its median.
func (l LinkDelay) D() time.Duration { return l.Median.D() }

// HasTail reports whether links of the class draw their latency from a
// distribution (P99 above the median) rather than all taking the median.
func (l LinkDelay) HasTail() bool { return l.P99 > l.Median }

// Sample draws one link's latency from r: the median without a tail, else
// a log-normal draw rounded to the microsecond.
func (l LinkDelay) Sample(r *rand.Rand) time.Duration {
	if !l.HasTail() {
		return l.Median.D()
	}
	return l.Distribution().SampleDuration(r)
}

// Distribution is the class's latency as a [Distribution].
func (l LinkDelay) Distribution() Distribution {
	if !l.HasTail() {
		return FixedDuration(l.Median.D())
	}
	return Distribution{Shape: ShapeLogNormal, Duration: true, Median: float64(l.Median), Tail: float64(l.P99), TailQuantile: 0.99}
}

func (l LinkDelay) String() string {
	if l.P99 == 0 {
		return l.Median.String()
	}
	return fmt.Sprintf("{median: %s, p99: %s}", l.Median, l.P99)
}

// UnmarshalYAML reads `32ms` or `{median: 32ms, p99: 40ms}`.
func (l *LinkDelay) UnmarshalYAML(n *yaml.Node) error {
	const forms = "want a duration such as \"32ms\", or {median: 32ms, p99: 40ms}"
	if n.Kind == yaml.ScalarNode {
		var d Duration
		if err := n.Decode(&d); err != nil {
			return fmt.Errorf("%s, got %q", forms, n.Value)
		}
		*l = LinkDelay{Median: d}
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("%s, got a list", forms)
	}
	var out LinkDelay
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, value := n.Content[i].Value, n.Content[i+1]
		var d Duration
		if err := value.Decode(&d); err != nil {
			return fmt.Errorf("%s: %v", key, err)
		}
		switch key {
		case "median":
			out.Median = d
		case "p99":
			out.P99 = d
		default:
			return fmt.Errorf("unknown field %q; %s", key, forms)
		}
		seen[key] = true
	}
	if !seen["median"] {
		return fmt.Errorf("a link latency distribution needs its median; %s", forms)
	}
	*l = out
	return nil
}

// MarshalYAML writes the form UnmarshalYAML reads.
func (l LinkDelay) MarshalYAML() (any, error) {
	if l.P99 == 0 {
		return l.Median.String(), nil
	}
	return map[string]string{"median": l.Median.String(), "p99": l.P99.String()}, nil
}

// MarshalJSON writes the same form as JSON.
func (l LinkDelay) MarshalJSON() ([]byte, error) {
	v, _ := l.MarshalYAML()
	return json.Marshal(v)
}

// DefaultLinkLatency is used for every zero field of a topology's LinkLatency.
//
// Medians: inter-AZ round trips inside an AWS region are single-digit
// milliseconds ("typically under 2 ms",
// https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/availability-zones.html),
// so about 1 ms one way; us-east-1 to us-west-1 round trips are about
// 60-70 ms (https://www.cloudping.co/grid), so about 32 ms one way.
//
// Tails (p99) are a model assumption, each a few times the median's spread
// that measurements show: pings inside one AZ are the steadiest, across AZs
// they average under 1 ms with single pings up to 12 ms over five minutes
// (https://lukasliesis.medium.com/what-is-aws-ec2-cross-availability-zones-network-lag-vs-inside-same-zone-827a4e06b6d7),
// and best-of-50 inter-AZ pings range 0.25-3.4 ms across regions
// (https://www.xkyle.com/Measuring-AWS-Region-and-AZ-Latency/); CloudPing
// publishes p50 to p99 per region pair, and the inter-region p99 here
// (25% above the median) is our assumption, not its figure.
var DefaultLinkLatency = LinkLatency{
	IntraZone:   LinkDelay{Median: Duration(100 * time.Microsecond), P99: Duration(300 * time.Microsecond)},
	InterZone:   LinkDelay{Median: Duration(time.Millisecond), P99: Duration(3 * time.Millisecond)},
	InterRegion: LinkDelay{Median: Duration(32 * time.Millisecond), P99: Duration(40 * time.Millisecond)},
}

// ServiceSpec places one service. Kind selects which of the kind-specific
// fields apply: Members (mongo), Nodes/Shards/Replicas/Snapshot (elasticsearch),
// Endpoints/PrimaryRegion/SyncInterval (s3).
type ServiceSpec struct {
	Name string `yaml:"name" json:"name"`
	Kind string `yaml:"kind" json:"kind"`

	// mongo
	ReplicaSet string                    `yaml:"replica_set,omitempty" json:"replica_set,omitempty"`
	Members    []MongoMember             `yaml:"members,omitempty" json:"members,omitempty"`
	WriteModes map[string]map[string]int `yaml:"write_modes,omitempty" json:"write_modes,omitempty"` // settings.getLastErrorModes

	// elasticsearch
	Nodes    []NodePlacement `yaml:"nodes,omitempty" json:"nodes,omitempty"`
	Shards   int             `yaml:"shards,omitempty" json:"shards,omitempty"`
	Replicas int             `yaml:"replicas,omitempty" json:"replicas,omitempty"`
	// SnapshotTo names the s3 service holding the snapshot repository; the
	// snapshot bucket lives on its primary region's endpoint and is synced
	// with that service's sync job.
	SnapshotTo       string   `yaml:"snapshot_to,omitempty" json:"snapshot_to,omitempty"`
	SnapshotInterval Duration `yaml:"snapshot_interval,omitempty" json:"snapshot_interval,omitempty"`
	// SnapshotPhase pins when the periodic snapshots run: at phase, phase +
	// interval, ... after a baseline at time 0. Nil: the simulator draws it
	// from the seed, uniform in [0, interval), since a real schedule has
	// been running long before the drill.
	SnapshotPhase *Duration `yaml:"snapshot_phase,omitempty" json:"snapshot_phase,omitempty"`

	// s3
	Endpoints     []S3Endpoint `yaml:"endpoints,omitempty" json:"endpoints,omitempty"`
	PrimaryRegion string       `yaml:"primary_region,omitempty" json:"primary_region,omitempty"`
	SyncInterval  Duration     `yaml:"sync_interval,omitempty" json:"sync_interval,omitempty"`
	// SyncPhase pins when the periodic sync passes start, like
	// SnapshotPhase (nil: drawn from the seed).
	SyncPhase *Duration `yaml:"sync_phase,omitempty" json:"sync_phase,omitempty"`
	// Replication is how the primary region's objects reach the other
	// regions: ReplicationSync (the default) is the periodic sync job;
	// ReplicationCRR is S3 cross-region replication, each object copied on
	// its own after a lag (simulator only: LocalStack's community image
	// does not replicate).
	Replication string `yaml:"replication,omitempty" json:"replication,omitempty"`
	// Artifacts are the keys of the service's artifact bucket (the seed's
	// components and Chef recipes), in every region's bucket at time 0;
	// Roles are the Chef roles built from them (platform/artifacts.go).
	Artifacts []Artifact     `yaml:"artifacts,omitempty" json:"artifacts,omitempty"`
	Roles     []ArtifactRole `yaml:"roles,omitempty" json:"roles,omitempty"`
}

// MongoMember is one replica-set member and its replica-set configuration.
// Votes is a pointer so that an omitted field means the MongoDB default (1).
// An Arbiter (arbiterOnly) votes in elections but holds no data, so it
// never acknowledges a write and is never primary: its priority is 0 and
// it has exactly one vote
// (https://www.mongodb.com/docs/manual/core/replica-set-arbiter/).
type MongoMember struct {
	Name     string            `yaml:"name" json:"name"`
	Zone     string            `yaml:"zone" json:"zone"`
	Priority float64           `yaml:"priority" json:"priority"`
	Votes    *int              `yaml:"votes,omitempty" json:"votes,omitempty"`
	Hidden   bool              `yaml:"hidden,omitempty" json:"hidden,omitempty"`
	Arbiter  bool              `yaml:"arbiter,omitempty" json:"arbiter,omitempty"`
	Tags     map[string]string `yaml:"tags,omitempty" json:"tags,omitempty"`
}

// VoteCount is the member's votes, defaulting to 1 as MongoDB does
// (https://www.mongodb.com/docs/manual/reference/replica-configuration/#mongodb-rsconf-rsconf.members-n-.votes).
func (m MongoMember) VoteCount() int {
	if m.Votes == nil {
		return 1
	}
	return *m.Votes
}

// S3 replication modes (ServiceSpec.Replication).
const (
	ReplicationSync = "sync" // the harness's periodic sync job, every SyncInterval
	ReplicationCRR  = "crr"  // S3 cross-region replication, object by object
)

// NodePlacement puts a named node in a zone.
type NodePlacement struct {
	Name string `yaml:"name" json:"name"`
	Zone string `yaml:"zone" json:"zone"`
}

// S3Endpoint is one region's S3 (one LocalStack container live). It is
// regional: losing a zone does not take it, losing its region does.
type S3Endpoint struct {
	Name   string `yaml:"name" json:"name"`
	Region string `yaml:"region" json:"region"`
}

// Node is anything a fault can hit: a Mongo member, an ES node, a regional S3
// endpoint. Zone is empty for regional nodes.
type Node struct {
	Name    string
	Service string
	Kind    string
	Region  string
	Zone    string
}

// Service returns the named service spec.
func (t *Topology) Service(name string) (*ServiceSpec, bool) {
	for i := range t.Services {
		if t.Services[i].Name == name {
			return &t.Services[i], true
		}
	}
	return nil, false
}

// ServiceOfKind returns the first service of the kind.
func (t *Topology) ServiceOfKind(kind string) (*ServiceSpec, bool) {
	for i := range t.Services {
		if t.Services[i].Kind == kind {
			return &t.Services[i], true
		}
	}
	return nil, false
}

// RegionOfZone returns the region that holds the zone.
func (t *Topology) RegionOfZone(zone string) (string, bool) {
	for _, r := range t.Regions {
		for _, z := range r.Zones {
			if z == zone {
				return r.Name, true
			}
		}
	}
	return "", false
}

// HasRegion reports whether the region exists.
func (t *Topology) HasRegion(name string) bool {
	for _, r := range t.Regions {
		if r.Name == name {
			return true
		}
	}
	return false
}

// Nodes lists every node of every service, in topology order. Zones that are
// not in any region leave Region empty; Validate reports them.
func (t *Topology) Nodes() []Node {
	var nodes []Node
	for _, s := range t.Services {
		switch s.Kind {
		case KindMongo:
			for _, m := range s.Members {
				r, _ := t.RegionOfZone(m.Zone)
				nodes = append(nodes, Node{Name: m.Name, Service: s.Name, Kind: s.Kind, Region: r, Zone: m.Zone})
			}
		case KindElastic:
			for _, n := range s.Nodes {
				r, _ := t.RegionOfZone(n.Zone)
				nodes = append(nodes, Node{Name: n.Name, Service: s.Name, Kind: s.Kind, Region: r, Zone: n.Zone})
			}
		case KindS3:
			for _, e := range s.Endpoints {
				nodes = append(nodes, Node{Name: e.Name, Service: s.Name, Kind: s.Kind, Region: e.Region})
			}
		}
	}
	return nodes
}

// Node returns the named node.
func (t *Topology) Node(name string) (Node, bool) {
	for _, n := range t.Nodes() {
		if n.Name == name {
			return n, true
		}
	}
	return Node{}, false
}

// EffectiveLatency is the topology's latency with defaults filled in: a
// class whose median the topology leaves zero takes the default median and
// tail.
func (t *Topology) EffectiveLatency() LinkLatency {
	l := t.Latency
	if l.IntraZone.Median == 0 {
		l.IntraZone = DefaultLinkLatency.IntraZone
	}
	if l.InterZone.Median == 0 {
		l.InterZone = DefaultLinkLatency.InterZone
	}
	if l.InterRegion.Median == 0 {
		l.InterRegion = DefaultLinkLatency.InterRegion
	}
	return l
}

// LinkClass is the latency class of the link between two nodes by
// placement: inter-region, inter-zone (also for regional nodes, which have
// no zone), or intra-zone.
func (t *Topology) LinkClass(a, b Node) LinkDelay {
	l := t.EffectiveLatency()
	switch {
	case a.Region != b.Region:
		return l.InterRegion
	case a.Zone != b.Zone || a.Zone == "":
		return l.InterZone
	default:
		return l.IntraZone
	}
}

// LinkLatency is the typical (median) one-way latency between two nodes by
// placement. A platform that models tails draws each link's own latency
// from LinkClass.
func (t *Topology) LinkLatency(a, b Node) time.Duration {
	return t.LinkClass(a, b).D()
}

// Validate checks the topology's internal consistency: unique names, zones
// that exist, services with what their kind needs. Errors name the field
// path (services[1].members[0].zone). The scenario loader turns the path
// into a file:line.
func (t *Topology) Validate() []FieldError {
	var errs []FieldError
	add := func(path, format string, args ...any) {
		errs = append(errs, FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
	}
	if len(t.Regions) == 0 {
		add("regions", "a topology needs at least one region")
	}
	zones := map[string]bool{}
	regions := map[string]bool{}
	for i, r := range t.Regions {
		if r.Name == "" {
			add(fmt.Sprintf("regions[%d].name", i), "region needs a name")
		}
		if regions[r.Name] {
			add(fmt.Sprintf("regions[%d].name", i), "region %q is listed twice", r.Name)
		}
		regions[r.Name] = true
		if len(r.Zones) == 0 {
			add(fmt.Sprintf("regions[%d].zones", i), "region %q needs at least one zone", r.Name)
		}
		for j, z := range r.Zones {
			if zones[z] {
				add(fmt.Sprintf("regions[%d].zones[%d]", i, j), "zone %q is listed twice", z)
			}
			zones[z] = true
		}
	}
	for _, c := range []struct {
		field string
		delay LinkDelay
	}{{"intra_zone", t.Latency.IntraZone}, {"inter_zone", t.Latency.InterZone}, {"inter_region", t.Latency.InterRegion}} {
		switch {
		case c.delay.Median < 0:
			add("latency."+c.field, "latency must not be negative, got %s", c.delay.Median)
		case c.delay.P99 != 0 && c.delay.P99 <= c.delay.Median:
			add("latency."+c.field, "p99 (%s) must be above the median (%s): it is the slow tail", c.delay.P99, c.delay.Median)
		}
	}
	names := map[string]bool{}
	nodeName := func(path, name string) {
		if name == "" {
			add(path, "node needs a name")
			return
		}
		if names[name] {
			add(path, "node name %q is used twice", name)
		}
		names[name] = true
	}
	services := map[string]bool{}
	for i, s := range t.Services {
		p := fmt.Sprintf("services[%d]", i)
		if s.Name == "" {
			add(p+".name", "service needs a name")
		}
		if services[s.Name] {
			add(p+".name", "service %q is listed twice", s.Name)
		}
		services[s.Name] = true
		switch s.Kind {
		case KindMongo:
			if len(s.Members) == 0 {
				add(p+".members", "a mongo replica set needs at least one member")
			}
			voters, arbiters, dataBearing := 0, 0, 0
			for j, m := range s.Members {
				mp := fmt.Sprintf("%s.members[%d]", p, j)
				nodeName(mp+".name", m.Name)
				if !zones[m.Zone] {
					add(mp+".zone", "zone %q is not in any region", m.Zone)
				}
				if m.Priority < 0 || m.Priority > 1000 {
					add(mp+".priority", "priority must be 0..1000, got %v", m.Priority)
				}
				v := m.VoteCount()
				if v != 0 && v != 1 {
					add(mp+".votes", "votes must be 0 or 1, got %d", v)
				}
				if v == 0 && m.Priority != 0 {
					add(mp+".priority", "a non-voting member must have priority 0")
				}
				if m.Hidden && m.Priority != 0 {
					add(mp+".hidden", "a hidden member must have priority 0")
				}
				if m.Arbiter {
					// https://www.mongodb.com/docs/manual/core/replica-set-arbiter/
					arbiters++
					if m.Priority != 0 {
						add(mp+".priority", "an arbiter has priority 0: it holds no data and can never be primary")
					}
					if v != 1 {
						add(mp+".votes", "an arbiter has exactly one vote")
					}
				} else {
					dataBearing++
				}
				voters += v
			}
			if voters > 7 {
				add(p+".members", "a replica set has at most 7 voting members, got %d", voters)
			}
			if arbiters > 1 {
				// allowMultipleArbiters is false by default since MongoDB 5.3
				// (https://www.mongodb.com/docs/manual/reference/parameters/#mongodb-parameter-param.allowMultipleArbiters).
				add(p+".members", "a replica set can have one arbiter (MongoDB 5.3+ refuses more by default), got %d", arbiters)
			}
			if len(s.Members) > 0 && dataBearing == 0 {
				add(p+".members", "a replica set needs at least one data-bearing member; arbiters hold no data")
			}
		case KindElastic:
			if len(s.Nodes) == 0 {
				add(p+".nodes", "an elasticsearch cluster needs at least one node")
			}
			for j, n := range s.Nodes {
				np := fmt.Sprintf("%s.nodes[%d]", p, j)
				nodeName(np+".name", n.Name)
				if !zones[n.Zone] {
					add(np+".zone", "zone %q is not in any region", n.Zone)
				}
			}
			if s.Shards < 1 {
				add(p+".shards", "shards must be at least 1, got %d", s.Shards)
			}
			if s.Replicas < 0 {
				add(p+".replicas", "replicas must not be negative, got %d", s.Replicas)
			}
			if s.SnapshotTo != "" {
				other, ok := t.Service(s.SnapshotTo)
				if !ok || other.Kind != KindS3 {
					add(p+".snapshot_to", "snapshot_to %q is not an s3 service of this topology", s.SnapshotTo)
				}
				if s.SnapshotInterval <= 0 {
					add(p+".snapshot_interval", "snapshot_interval must be positive when snapshot_to is set")
				}
			}
			if s.SnapshotPhase != nil && (*s.SnapshotPhase < 0 || *s.SnapshotPhase >= s.SnapshotInterval) {
				add(p+".snapshot_phase", "snapshot_phase must be at least 0 and less than snapshot_interval (%s)", s.SnapshotInterval.D())
			}
		case KindS3:
			if len(s.Endpoints) == 0 {
				add(p+".endpoints", "an s3 service needs at least one endpoint")
			}
			seen := map[string]bool{}
			for j, e := range s.Endpoints {
				ep := fmt.Sprintf("%s.endpoints[%d]", p, j)
				nodeName(ep+".name", e.Name)
				if !regions[e.Region] {
					add(ep+".region", "region %q is not in the topology", e.Region)
				}
				if seen[e.Region] {
					add(ep+".region", "region %q has two endpoints", e.Region)
				}
				seen[e.Region] = true
			}
			if !seen[s.PrimaryRegion] {
				add(p+".primary_region", "primary_region %q has no endpoint", s.PrimaryRegion)
			}
			switch s.Replication {
			case "", ReplicationSync:
				if len(s.Endpoints) > 1 && s.SyncInterval <= 0 {
					add(p+".sync_interval", "sync_interval must be positive when there is more than one endpoint")
				}
			case ReplicationCRR:
				if s.SyncInterval != 0 || s.SyncPhase != nil {
					add(p+".sync_interval", "sync_interval and sync_phase are for replication: %s; replication: %s copies each object on its own", ReplicationSync, ReplicationCRR)
				}
			default:
				add(p+".replication", "unknown replication %q (want %s or %s)", s.Replication, ReplicationSync, ReplicationCRR)
			}
			if s.SyncPhase != nil && (*s.SyncPhase < 0 || *s.SyncPhase >= s.SyncInterval) {
				add(p+".sync_phase", "sync_phase must be at least 0 and less than sync_interval (%s)", s.SyncInterval.D())
			}
			errs = append(errs, validateArtifacts(t, p, s)...)
		default:
			add(p+".kind", "unknown service kind %q (want %s, %s or %s)", s.Kind, KindMongo, KindElastic, KindS3)
		}
	}
	return errs
}

// FieldError is a problem with one field, addressed by its path in the
// scenario document (e.g. "faults[2].target").
type FieldError struct {
	Path    string
	Message string
}

func (e FieldError) Error() string { return e.Path + ": " + e.Message }

// Zones lists every zone of the topology in order.
func (t *Topology) Zones() []string {
	var zs []string
	for _, r := range t.Regions {
		zs = append(zs, r.Zones...)
	}
	return zs
}

// SortedKeys returns a map's keys in order; used wherever map iteration would
// otherwise make output nondeterministic.
func SortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// FormatParams writes a map of parameters the one way the CLI and the
// reports show them: "{region: us-west-1, service: artifacts}", keys
// sorted; "{}" when empty.
func FormatParams(params map[string]string) string {
	parts := make([]string, 0, len(params))
	for _, k := range SortedKeys(params) {
		parts = append(parts, k+": "+params[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
