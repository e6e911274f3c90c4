package platform

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// A rehearsal (`chaosdrill rehearse`) hands each runbook step to an
// engineer instead of performing it: it tells them what is needed and how,
// with the commands for the real systems filled in for this run, and
// watches the platform's state until the step's effect is there. Each
// runbook action declares both here, in one place (its StepGuide): a new
// action adds one entry to guides, and, if its effect is a state no other
// action has, one Done* word that every StepWatcher implements.

// DoneState is the state of the platform that shows a runbook action's
// effect: what an engineer looks at to know the step is done. What is one
// of the Done* words; the other fields are what it is about.
type DoneState struct {
	What    string
	Service string // "" for the topology's only service of the action's kind
	Member  string // a mongo member (DonePrimary, DoneSecondary, DoneMemberConfig)
	// Region is the region of DoneIndexGreen, DoneWritesIn, DoneRoleBuilt,
	// and of the bucket of DoneArtifactIn and DoneArtifactGone ("" there:
	// the service's primary region).
	Region string
	Key    string // an artifact key (DoneArtifactIn, DoneArtifactGone, DoneRoleUpgraded)
	Role   string // an artifact role (DoneRoleBuilt, DoneRoleUpgraded)
	// Votes and Priority are the member's new values for DoneMemberConfig
	// ("" for unchanged); Value is the write concern for DoneWriteConcern,
	// the version for DoneArtifactIn and DoneRoleUpgraded.
	Votes, Priority, Value string
}

// Done states a StepWatcher recognises.
const (
	// DonePrimary: Member is the primary of the replica set.
	DonePrimary = "primary"
	// DoneSecondary: Member is a member of the set in state SECONDARY:
	// its initial sync has finished.
	DoneSecondary = "secondary"
	// DoneNewPrimary: the set has a primary, and it is not the one it had
	// when the watch began.
	DoneNewPrimary = "new-primary"
	// DoneMemberConfig: the set's configuration gives Member the Votes
	// and Priority asked for.
	DoneMemberConfig = "member-config"
	// DoneWriteConcern: the workload's clients write with write concern
	// Value.
	DoneWriteConcern = "write-concern"
	// DoneIndexGreen: a cluster in Region holds the restored index, its
	// health is green, and the log tier writes to it.
	DoneIndexGreen = "index-green"
	// DoneWritesIn: a write of the service's clients succeeded against its
	// bucket in Region.
	DoneWritesIn = "writes-in"
	// DoneArtifactIn: the s3 service's artifact bucket in Region holds Key
	// at version Value (put there by hand, by the harness, or by the
	// cross-region sync).
	DoneArtifactIn = "artifact-in"
	// DoneArtifactGone: the artifact bucket in Region holds no Key.
	DoneArtifactGone = "artifact-gone"
	// DoneRoleBuilt: Role has been built in Region from the keys of that
	// region's bucket, and its recipe run has converged.
	DoneRoleBuilt = "role-built"
	// DoneRoleUpgraded: every node of the service that plays Role runs
	// Key at version Value, and the service is healthy (Elasticsearch:
	// green) with all of them in it.
	DoneRoleUpgraded = "role-upgraded"
)

// DoneStates lists every Done* word, for the specs that hold each
// StepWatcher to all of them.
var DoneStates = []string{DonePrimary, DoneSecondary, DoneNewPrimary, DoneMemberConfig, DoneWriteConcern, DoneIndexGreen, DoneWritesIn,
	DoneArtifactIn, DoneArtifactGone, DoneRoleBuilt, DoneRoleUpgraded}

// StepWatcher is a Platform that can see, from its own state, when a
// runbook action's effect is there, whoever brought it about: the harness,
// or an engineer at the real systems (mongosh, curl). Both platforms
// implement it; the runner uses it only in a rehearsal.
type StepWatcher interface {
	// WatchDone calls done on the loop, once, when the platform's state
	// first shows state (from the watch's start on: a state that holds
	// already is reported at once). at is the scenario time the state was
	// seen; detail says what was seen. cancel stops the watch (safe to call
	// after done and more than once). An error means the platform cannot
	// watch this state.
	WatchDone(state DoneState, done func(at time.Duration, detail string)) (cancel func(), err error)
	// Facts returns what the instructions of action a need to know about
	// this run now (see the Fact* keys): where the engineer reaches each
	// node, the replica set's surviving members, the newest snapshot in a
	// region's bucket, the endpoint of a region. A fact it cannot tell is
	// left out. Called on the loop.
	Facts(a Action) Facts
	// State describes the platform's state now, a line per service, for
	// an engineer who asks. Called on the loop.
	State() []string
}

// Facts are what a rehearsal's instructions need about one run, by key
// (the Fact* functions make the keys).
type Facts map[string]string

// Get returns the fact, or a visible placeholder naming it when the
// platform could not tell it, so that an instruction never silently holds
// an empty address.
func (f Facts) Get(key string) string {
	if v, ok := f[key]; ok && v != "" {
		return v
	}
	return "<" + key + ">"
}

// Fact keys.
func FactAddress(node string) string       { return "address:" + node }     // host:port where the engineer reaches node's service now
func FactMemberHost(node string) string    { return "member-host:" + node } // host:port as the replica set names the member
func FactReplicaSet(service string) string { return "replica-set:" + service }

// FactSurvivors: the member hosts (as the set names them) that answer now,
// comma-separated.
func FactSurvivors(service string) string { return "survivors:" + service }
func FactPrimary(service string) string   { return "primary:" + service } // the primary node now, "" if none
func FactRepository(service string) string {
	return "repository:" + service
} // the snapshot repository's name
func FactSnapshot(service, region string) string {
	return "snapshot:" + service + ":" + region
} // newest complete snapshot in region's bucket
func FactBucket(service, region string) string {
	return "bucket:" + service + ":" + region
} // an S3 service's artifact bucket, or a logs service's snapshot bucket, in region
func FactEndpoint(service, region string) string {
	return "endpoint:" + service + ":" + region
}                                     // the S3 endpoint URL in region (of the S3 service named, or the one logs snapshot to)
func FactIndex(service string) string { return "index:" + service } // the logs service's index

// StepGuide is what a rehearsal knows about one runbook action: the state
// that shows it is done, that state in words, and the commands that carry
// it out on the real systems.
type StepGuide struct {
	Action string
	// Done is the state that shows action a's effect.
	Done func(a Action) DoneState
	// Goal says that state in words.
	Goal func(a Action) string
	// Instructions are what an engineer does, in order, with this run's
	// facts filled in; service is the service the action acts on.
	Instructions func(a Action, service string, f Facts) []string
}

// Guide returns the StepGuide of a runbook action; ok is false for an
// action without one (a spec holds every action of ActionCatalog to
// having one).
func Guide(action string) (StepGuide, bool) {
	g, ok := guides[action]
	return g, ok
}

// ServiceOf is the service an action acts on: its service param, else the
// topology's service of the action's kind ("" if none).
func ServiceOf(t *Topology, a Action) string {
	if s := a.Params["service"]; s != "" {
		return s
	}
	kind := map[string]string{"mongo": KindMongo, "logs": KindElastic, "artifacts": KindS3, "roles": KindS3}[strings.SplitN(a.Action, ".", 2)[0]]
	if spec, ok := t.ServiceOfKind(kind); ok {
		return spec.Name
	}
	return ""
}

// mongosh is the command line that opens a shell on one member directly.
func mongosh(address, eval string) string {
	return fmt.Sprintf("mongosh \"mongodb://%s/?directConnection=true\" --quiet --eval '%s'", address, eval)
}

// memberStates prints each member of the replica set and its state, the
// watch every Mongo guide ends with.
const memberStates = `rs.status().members.forEach(m => print(m.name, m.stateStr))`

// jsList writes a JavaScript array of strings.
func jsList(items []string) string {
	quoted := make([]string, len(items))
	for i, s := range items {
		quoted[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(quoted, ", ") + "]"
}

var guides = map[string]StepGuide{
	ActionMongoForceReconfigure: {
		Action: ActionMongoForceReconfigure,
		Done: func(a Action) DoneState {
			return DoneState{What: DonePrimary, Service: a.Params["service"], Member: a.Params["promote"]}
		},
		Goal: func(a Action) string { return a.Params["promote"] + " is the primary" },
		Instructions: func(a Action, service string, f Facts) []string {
			promote := a.Params["promote"]
			host := f.Get(FactMemberHost(promote))
			survivors := strings.Split(f.Get(FactSurvivors(service)), ",")
			if !contains(survivors, host) {
				survivors = append(survivors, host)
			}
			sort.Strings(survivors)
			// https://www.mongodb.com/docs/manual/tutorial/reconfigure-replica-set-with-unavailable-members/
			script := fmt.Sprintf(`cfg = rs.conf(); keep = %s; cfg.members = cfg.members.filter(m => keep.includes(m.host)); cfg.members.forEach(m => { if (m.host == %q) { m.priority = 1; m.hidden = false; m.votes = 1 } }); printjson(rs.reconfig(cfg, {force: true}))`,
				jsList(survivors), host)
			return []string{
				fmt.Sprintf("Force-reconfigure replica set %s onto the members that still answer (%s), making %s electable (priority 1, not hidden, 1 vote), on %s itself:",
					f.Get(FactReplicaSet(service)), strings.Join(survivors, ", "), promote, promote),
				"  " + mongosh(f.Get(FactAddress(promote)), script),
				"Then watch it become primary (an election follows the forced reconfig):",
				"  " + mongosh(f.Get(FactAddress(promote)), memberStates),
			}
		},
	},
	ActionMongoAddMember: {
		Action: ActionMongoAddMember,
		Done: func(a Action) DoneState {
			return DoneState{What: DoneSecondary, Service: a.Params["service"], Member: a.Params["name"]}
		},
		Goal: func(a Action) string {
			return a.Params["name"] + " is a SECONDARY of the set (its initial sync has finished)"
		},
		Instructions: func(a Action, service string, f Facts) []string {
			name := a.Params["name"]
			priority := a.Params["priority"]
			if priority == "" {
				priority = "1"
			}
			primary := f[FactPrimary(service)]
			at := "<the primary's address>"
			if primary != "" {
				at = f.Get(FactAddress(primary))
			}
			return []string{
				fmt.Sprintf("Start a new mongod for %s in %s (replica set %s, empty data directory), then add it on the primary (%s):",
					name, a.Params["zone"], f.Get(FactReplicaSet(service)), orDash(primary)),
				"  " + mongosh(at, fmt.Sprintf(`printjson(rs.add({host: %q, priority: %s}))`, memberHost(f, name), priority)),
				"Its initial sync runs on its own; it is done when rs.status() shows it SECONDARY:",
				"  " + mongosh(at, memberStates),
			}
		},
	},
	ActionMongoStepDown: {
		Action: ActionMongoStepDown,
		Done:   func(a Action) DoneState { return DoneState{What: DoneNewPrimary, Service: a.Params["service"]} },
		Goal:   func(Action) string { return "another member is primary" },
		Instructions: func(a Action, service string, f Facts) []string {
			primary := f[FactPrimary(service)]
			at := "<the primary's address>"
			if primary != "" {
				at = f.Get(FactAddress(primary))
			}
			return []string{
				fmt.Sprintf("Ask the primary (%s) to step down for 60 s:", orDash(primary)),
				"  " + mongosh(at, `rs.stepDown(60)`),
			}
		},
	},
	ActionMongoSetWriteConcern: {
		Action: ActionMongoSetWriteConcern,
		Done: func(a Action) DoneState {
			return DoneState{What: DoneWriteConcern, Service: a.Params["service"], Value: a.Params["write_concern"]}
		},
		Goal: func(a Action) string { return "the clients write with write concern " + a.Params["write_concern"] },
		Instructions: func(a Action, service string, f Facts) []string {
			return []string{
				fmt.Sprintf("Redeploy the applications with write concern %q (connection string option w=%s).", a.Params["write_concern"], a.Params["write_concern"]),
			}
		},
	},
	ActionMongoReconfigMember: {
		Action: ActionMongoReconfigMember,
		Done: func(a Action) DoneState {
			return DoneState{What: DoneMemberConfig, Service: a.Params["service"], Member: a.Params["member"], Votes: a.Params["votes"], Priority: a.Params["priority"]}
		},
		Goal: func(a Action) string {
			return fmt.Sprintf("the set's configuration gives %s %s", a.Params["member"], votesAndPriority(a.Params["votes"], a.Params["priority"]))
		},
		Instructions: func(a Action, service string, f Facts) []string {
			member := a.Params["member"]
			var set []string
			if v := a.Params["votes"]; v != "" {
				set = append(set, "m.votes = "+v)
			}
			if p := a.Params["priority"]; p != "" {
				set = append(set, "m.priority = "+p)
			}
			primary := f[FactPrimary(service)]
			at := "<the primary's address>"
			if primary != "" {
				at = f.Get(FactAddress(primary))
			}
			script := fmt.Sprintf(`cfg = rs.conf(); cfg.members.forEach(m => { if (m.host == %q) { %s } }); printjson(rs.reconfig(cfg))`,
				f.Get(FactMemberHost(member)), strings.Join(set, "; "))
			return []string{
				fmt.Sprintf("Reconfigure %s (%s) on the primary (%s), not forced:", member, votesAndPriority(a.Params["votes"], a.Params["priority"]), orDash(primary)),
				"  " + mongosh(at, script),
			}
		},
	},
	ActionMongoResyncMember: {
		Action: ActionMongoResyncMember,
		Done: func(a Action) DoneState {
			return DoneState{What: DoneSecondary, Service: a.Params["service"], Member: a.Params["member"]}
		},
		Goal: func(a Action) string {
			return a.Params["member"] + " is a SECONDARY again (its new initial sync has finished)"
		},
		Instructions: func(a Action, service string, f Facts) []string {
			member := a.Params["member"]
			return []string{
				fmt.Sprintf("Stop the mongod of %s, empty its data directory and start it again with the same options: the set, which still lists it, brings it back by an initial sync (https://www.mongodb.com/docs/manual/tutorial/resync-replica-set-member/).", member),
				"It is done when rs.status() shows it SECONDARY:",
				"  " + mongosh(f.Get(FactAddress(member)), memberStates),
			}
		},
	},
	ActionLogsRestoreSnapshot: {
		Action: ActionLogsRestoreSnapshot,
		Done: func(a Action) DoneState {
			return DoneState{What: DoneIndexGreen, Service: a.Params["service"], Region: a.Params["region"]}
		},
		Goal: func(a Action) string {
			return "a cluster in " + a.Params["region"] + " holds the restored index, green, and the log tier writes to it"
		},
		Instructions: func(a Action, service string, f Facts) []string {
			region := a.Params["region"]
			repository, snapshot := f.Get(FactRepository(service)), f.Get(FactSnapshot(service, region))
			node := "<a node of the new cluster>"
			partial := ""
			if a.Params["partial"] == "true" {
				partial = `,"partial":true`
			}
			// https://www.elastic.co/docs/deploy-manage/tools/snapshot-and-restore/s3-repository
			// and .../restore-snapshot
			return []string{
				fmt.Sprintf("Start a new Elasticsearch cluster in %s (%s), then register the %s bucket read-only and restore the newest complete snapshot (%s):",
					region, nodeCount(a.Params["nodes"]), region, snapshot),
				fmt.Sprintf(`  curl -X PUT "http://%s/_snapshot/%s" -H 'Content-Type: application/json' -d '{"type":"s3","settings":{"bucket":"%s","endpoint":"%s","path_style_access":true,"readonly":true}}'`,
					node, repository, f.Get(FactBucket(service, region)), f.Get(FactEndpoint(service, region))),
				fmt.Sprintf(`  curl -X POST "http://%s/_snapshot/%s/%s/_restore" -H 'Content-Type: application/json' -d '{"indices":"%s"%s}'`,
					node, repository, snapshot, f.Get(FactIndex(service)), partial),
				fmt.Sprintf(`  curl "http://%s/_cluster/health/%s?wait_for_status=green&timeout=60s"`, node, f.Get(FactIndex(service))),
				"Then point the log aggregation tier at the new cluster.",
			}
		},
	},
	ActionArtifactsFailover: {
		Action: ActionArtifactsFailover,
		Done: func(a Action) DoneState {
			return DoneState{What: DoneWritesIn, Service: a.Params["service"], Region: a.Params["region"]}
		},
		Goal: func(a Action) string { return "writes succeed against the " + a.Params["region"] + " bucket" },
		Instructions: func(a Action, service string, f Facts) []string {
			region := a.Params["region"]
			endpoint, bucket := f.Get(FactEndpoint(service, region)), f.Get(FactBucket(service, region))
			return []string{
				fmt.Sprintf("Check that the %s endpoint answers and holds the bucket:", region),
				fmt.Sprintf("  aws s3api head-bucket --bucket %s --endpoint-url %s", bucket, endpoint),
				fmt.Sprintf("Then switch the applications' S3 endpoint to it (AWS_ENDPOINT_URL_S3=%s, redeployed).", endpoint),
			}
		},
	},
	// The artifact and role actions (issue 13); their instructions are in
	// guide_artifacts.go.
	ActionArtifactsPublish: {
		Action: ActionArtifactsPublish,
		Done: func(a Action) DoneState {
			return DoneState{What: DoneArtifactIn, Service: a.Params["service"], Region: a.Params["region"], Key: a.Params["key"], Value: a.Params["version"]}
		},
		Goal: func(a Action) string {
			return fmt.Sprintf("%s holds %s at version %s", bucketWords(a.Params["region"]), a.Params["key"], a.Params["version"])
		},
		Instructions: publishInstructions,
	},
	ActionArtifactsDelete: {
		Action: ActionArtifactsDelete,
		Done: func(a Action) DoneState {
			return DoneState{What: DoneArtifactGone, Service: a.Params["service"], Region: a.Params["region"], Key: a.Params["key"]}
		},
		Goal: func(a Action) string {
			return fmt.Sprintf("%s no longer holds %s", bucketWords(a.Params["region"]), a.Params["key"])
		},
		Instructions: deleteInstructions,
	},
	ActionRolesRebuild: {
		Action: ActionRolesRebuild,
		Done: func(a Action) DoneState {
			return DoneState{What: DoneRoleBuilt, Service: a.Params["service"], Role: a.Params["role"], Region: a.Params["region"]}
		},
		Goal: func(a Action) string {
			return fmt.Sprintf("role %s is built in %s from the keys of the %s bucket, its recipe run converged", a.Params["role"], a.Params["region"], a.Params["region"])
		},
		Instructions: rebuildInstructions,
	},
	ActionRolesUpgrade: {
		Action: ActionRolesUpgrade,
		Done: func(a Action) DoneState {
			return DoneState{What: DoneRoleUpgraded, Service: a.Params["service"], Role: a.Params["role"], Key: a.Params["key"], Value: a.Params["version"]}
		},
		Goal: func(a Action) string {
			return fmt.Sprintf("every node of role %s runs %s at version %s, and its service is green with all of them", a.Params["role"], a.Params["key"], a.Params["version"])
		},
		Instructions: upgradeInstructions,
	},
}

// memberHost is how the replica set names a member: as the platform says,
// or, for a member not yet started, its name on MongoDB's default port
// (https://www.mongodb.com/docs/manual/reference/default-mongodb-port/).
func memberHost(f Facts, node string) string {
	if h := f[FactMemberHost(node)]; h != "" {
		return h
	}
	return node + ":27017"
}

func contains(items []string, s string) bool {
	for _, x := range items {
		if x == s {
			return true
		}
	}
	return false
}

// nodeCount says how many nodes a restored cluster gets.
func nodeCount(nodes string) string {
	if nodes == "" {
		return "as many nodes as the lost one"
	}
	return nodes + " nodes"
}

func orDash(s string) string { return orDefault(s, "none now") }

func orDefault(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

func votesAndPriority(votes, priority string) string {
	var parts []string
	if votes != "" {
		parts = append(parts, "votes "+votes)
	}
	if priority != "" {
		parts = append(parts, "priority "+priority)
	}
	return strings.Join(parts, " and ")
}
