package platform

import (
	"context"
	"fmt"
	"time"
)

// Artifacts and roles, as the seed keeps them: "we only have a few basic
// packages installed on the role, along with the Chef package. We then store
// the rest of our components in a S3 instance as key-value pairs" (ion-console
// -> console.war, chef-configuration -> chef-recipe.config, elasticsearch ->
// elasticsearch.jar). A role is rebuilt, in any region, by fetching its keys
// from that region's bucket and re-running its recipes; it is upgraded by
// putting a new version of a key in the bucket and re-running the recipes on
// its nodes one at a time.

// Artifact is one key of an s3 service's artifact bucket and the file it
// holds. Every key is in every region's bucket at scenario time 0, at
// Version (default "1").
type Artifact struct {
	Key     string `yaml:"key" json:"key"`
	File    string `yaml:"file" json:"file"`
	Version string `yaml:"version,omitempty" json:"version,omitempty"`
}

// InitialVersion is the version of an artifact at time 0.
func (a Artifact) InitialVersion() string {
	if a.Version == "" {
		return "1"
	}
	return a.Version
}

// ArtifactRole is a Chef role: the artifact keys its instances fetch to be
// built, and the service whose nodes play it, if the topology models one
// (roles.upgrade restarts that service's nodes one at a time).
type ArtifactRole struct {
	Name    string   `yaml:"name" json:"name"`
	Keys    []string `yaml:"keys" json:"keys"`
	Service string   `yaml:"service,omitempty" json:"service,omitempty"`
}

// Runbook actions on the artifact bucket and the roles built from it.
const (
	ActionArtifactsPublish = "artifacts.publish"
	ActionArtifactsDelete  = "artifacts.delete"
	ActionRolesRebuild     = "roles.rebuild"
	ActionRolesUpgrade     = "roles.upgrade"
)

// artifactActions documents the actions above; ActionCatalog lists them.
func artifactActions() []ActionInfo {
	return []ActionInfo{
		{
			Name:        ActionArtifactsPublish,
			Description: "put a new version of an artifact key into a region's bucket (default: the primary region's); the cross-region sync carries it to the other regions later, like everything else in that bucket",
			Params: map[string]string{
				"service": "the s3 service holding the artifacts",
				"key":     "the artifact key, e.g. elasticsearch",
				"version": "the new version, e.g. 2",
				"region":  "region whose bucket it goes into (default: the service's primary region)",
			},
			Required: []string{"key", "version"},
		},
		{
			Name:        ActionArtifactsDelete,
			Description: "remove an artifact key from one region's bucket (a lost or never-synced key); the sync does not delete (like `aws s3 sync` without --delete)",
			Params: map[string]string{
				"service": "the s3 service holding the artifacts",
				"key":     "the artifact key",
				"region":  "region whose bucket loses it",
			},
			Required: []string{"key", "region"},
		},
		{
			Name:        ActionRolesRebuild,
			Description: "rebuild a role in `region` from that region's bucket: fetch each of its keys, run its recipes (roles.converge_duration), done when the role serves again; fails naming the key missing from the bucket; reports version skew when the bucket holds an older version than the newest published",
			Params: map[string]string{
				"service": "the s3 service holding the artifacts",
				"role":    "the role to rebuild, e.g. elasticsearch",
				"region":  "region whose bucket it is built from",
			},
			Required: []string{"role", "region"},
		},
		{
			Name:        ActionRolesUpgrade,
			Description: "the seed's zero-downtime upgrade: publish `version` of `key`, then restart the role's nodes one at a time, each fetching the new version from its region's bucket and waiting until the service is healthy again (Elasticsearch: green) before the next; the report gives the mixed-version window",
			Params: map[string]string{
				"service": "the s3 service holding the artifacts",
				"role":    "the role to upgrade; it must name the service whose nodes play it",
				"key":     "the artifact key to upgrade",
				"version": "the new version",
			},
			Required: []string{"role", "key", "version"},
		},
	}
}

// Events of an s3 service about its artifacts and roles.
const (
	EventArtifactPublished = "artifact-published" // Node: the endpoint; Detail: key@version
	EventArtifactDeleted   = "artifact-deleted"   // Node: the endpoint; Detail: the key
	EventRoleRebuilt       = "role-rebuilt"       // Node: the role; Detail: region and versions
	EventVersionSkew       = "version-skew"       // Node: the role; Detail: key, version rebuilt, newest and its age
	EventNodeUpgraded      = "node-upgraded"      // Node: the node; Detail: key@version
	EventUpgradeCompleted  = "upgrade-completed"  // Node: the role; Detail: key@version and the mixed-version window
)

// VersionSkew is a role rebuilt on an older version of a key than the
// newest one published: the bucket it was built from had not received the
// newest (published after the last sync, or never synced).
type VersionSkew struct {
	Step    string
	Role    string
	Region  string
	Key     string
	Version string // the version the role was rebuilt on
	Newest  string // the newest version published
	// NewestPublishedAt is when Newest was published; At when the role
	// was rebuilt on Version (the age of Newest then is At minus it).
	NewestPublishedAt time.Duration
	At                time.Duration
}

// Upgrade is one rolling upgrade (roles.upgrade) and its mixed-version
// window: from the first node restarted on the new version to the last.
// Done is false for an upgrade that failed or did not finish; MixedUntil
// is then the end of the run or the failure.
type Upgrade struct {
	Step           string
	Role           string
	Service        string
	Key            string
	From, To       string
	StartedAt      time.Duration
	MixedFrom      *time.Duration // the first node back on To; nil if none came back
	MixedUntil     *time.Duration // every node on To; nil if that never happened
	Nodes          []string       // in upgrade order
	Done           bool
	NodesRestarted []NodeRestart
}

// NodeRestart is one node of a rolling upgrade: stopped, started on the
// new version, and when the service was healthy again after it.
type NodeRestart struct {
	Node      string
	StoppedAt time.Duration
	StartedAt *time.Duration
	HealthyAt *time.Duration
}

// RoleHistory is implemented by platforms that carry out the roles.*
// actions: what each rebuild and upgrade did, read by the runner once the
// loop has stopped.
type RoleHistory interface {
	VersionSkews() []VersionSkew
	Upgrades() []Upgrade
}

// DiskFaults are the fault primitives on a node's data volume, implemented
// by platforms that can fault disks. Each is undone by HealDisk: the volume
// works again, and a process the fault crashed (a MongoDB member that
// aborted on a failed write) is started again, as its supervisor would.
type DiskFaults interface {
	// SlowDisk adds latency to every I/O of the node's data volume and/or
	// caps its throughput (bytes per second; 0: no cap).
	SlowDisk(ctx context.Context, node string, latency time.Duration, bytesPerSecond float64) error
	// FailDisk makes every write (and fsync) of the data volume fail with
	// an I/O error (EIO).
	FailDisk(ctx context.Context, node string) error
	// FillDisk fills the data volume up: writes fail with ENOSPC and its
	// usage is 100%.
	FillDisk(ctx context.Context, node string) error
	// HealDisk undoes any of the above.
	HealDisk(ctx context.Context, node string) error
}

// validateArtifacts checks an s3 service's artifacts and roles: keys named
// once, roles named once with keys the bucket declares, and a role's
// service one of the topology's.
func validateArtifacts(t *Topology, p string, s ServiceSpec) []FieldError {
	var errs []FieldError
	add := func(path, format string, args ...any) {
		errs = append(errs, FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
	}
	keys := map[string]bool{}
	for i, a := range s.Artifacts {
		ap := fmt.Sprintf("%s.artifacts[%d]", p, i)
		switch {
		case a.Key == "":
			add(ap+".key", "an artifact needs a key")
		case keys[a.Key]:
			add(ap+".key", "artifact key %q is listed twice", a.Key)
		}
		keys[a.Key] = true
		if a.File == "" {
			add(ap+".file", "artifact %q needs the file it holds, e.g. console.war", a.Key)
		}
	}
	roles := map[string]bool{}
	for i, r := range s.Roles {
		rp := fmt.Sprintf("%s.roles[%d]", p, i)
		switch {
		case r.Name == "":
			add(rp+".name", "a role needs a name")
		case roles[r.Name]:
			add(rp+".name", "role %q is listed twice", r.Name)
		}
		roles[r.Name] = true
		if len(r.Keys) == 0 {
			add(rp+".keys", "role %q needs the artifact keys it is built from", r.Name)
		}
		for j, k := range r.Keys {
			if !keys[k] {
				add(fmt.Sprintf("%s.keys[%d]", rp, j), "role %q needs key %q, which is not among the service's artifacts", r.Name, k)
			}
		}
		if r.Service != "" {
			if _, ok := t.Service(r.Service); !ok {
				add(rp+".service", "role %q: no service %q in the topology", r.Name, r.Service)
			}
		}
	}
	return errs
}

// Role returns the named role of an s3 service.
func (s *ServiceSpec) Role(name string) (ArtifactRole, bool) {
	for _, r := range s.Roles {
		if r.Name == name {
			return r, true
		}
	}
	return ArtifactRole{}, false
}

// Artifact returns the named artifact of an s3 service.
func (s *ServiceSpec) Artifact(key string) (Artifact, bool) {
	for _, a := range s.Artifacts {
		if a.Key == key {
			return a, true
		}
	}
	return Artifact{}, false
}
