package platform

import "slices"

// EventMemberCaughtUp is emitted by a mongo service when a member added by
// the runbook (mongo.add-member) has finished its initial sync and its lag
// behind the primary is back within the normal replication lag. Node names
// the member; Detail gives its lag at that moment as a Go duration.
const EventMemberCaughtUp = "member-caught-up"

// EventMemberStale is emitted by a mongo service when a member comes back
// to find its newest write gone from the primary's oplog (RS102, too stale
// to catch up): it stays in RECOVERING until resynced (mongo.resync-member).
// It is also emitted when a member restored from a backup finds the backup
// older than the oplog, before it falls back to an initial sync. Node names
// the member; Detail says what it missed.
const EventMemberStale = "member-stale"

// Events a platform emits about the faults it was asked to carry out. They
// belong to no service. Node names the node, or several nodes joined with
// commas (a partition, or every node of a fault that had nothing to do).
const (
	// EventFaultFailed: a fault primitive the platform accepted could not be
	// carried out; Detail gives the primitive and the reason. The runner
	// marks the fault not rehearsed.
	EventFaultFailed = "fault-failed"
	// EventFaultSkipped: a node was left out of a fault because its service
	// was not started (the scenario has no workload on it).
	EventFaultSkipped = "fault-skipped"
	// EventFaultApplied: a fault on more than one node (a zone or region
	// outage) took effect on all of them; stamped when the last one did,
	// Detail gives the spread.
	EventFaultApplied = "fault-applied"
)

// Events of an Elasticsearch service about its nodes' disks.
const (
	EventFloodStage         = "flood-stage"
	EventFloodStageReleased = "flood-stage-released"
)

// EventInfo documents one event a service kind emits: the word scenarios
// trigger on (`after_event: SERVICE:WHAT`) and what it means.
type EventInfo struct {
	What    string `json:"what"`
	Meaning string `json:"meaning"`
}

// nodeEvents are emitted for the nodes of every service kind.
var nodeEvents = []EventInfo{
	{EventNodeDown, "a node of the service stopped answering (killed, stopped, paused or cut off); Node names it"},
	{EventNodeUp, "a node of the service answers again; Node names it"},
	{EventDiskFaulted, "a disk fault (disk-slow, disk-error, disk-full) took effect on a node's data volume; Node names it, Detail what"},
	{EventDiskHealed, "a node's data volume works again; Node names it"},
}

// Events of the disk fault primitives, for nodes of every kind.
const (
	EventDiskFaulted = "disk-faulted"
	EventDiskHealed  = "disk-healed"
)

// eventCatalog lists, per service kind, every event the platforms emit for a
// service of that kind. Both platforms emit the same words; a scenario that
// triggers on a word not listed here for its service's kind waits forever,
// so the loader refuses it.
var eventCatalog = map[string][]EventInfo{
	KindMongo: {
		{EventPrimaryElected, "a member became primary; Node names it"},
		{EventPrimaryLost, "the replica set has no primary any more (step-down or loss)"},
		{EventRollback, "a former primary rolled back writes that were not majority-committed; Detail says how many"},
		{EventReconfigured, "a reconfiguration was installed: forced (Node is the member made electable) or of one member's votes and priority (Node is that member)"},
		{EventMemberAdded, "a member added or resynced by the runbook finished its initial sync (or its restore from a backup); Node names it, Detail says how"},
		{EventMemberCaughtUp, "a member added or resynced by the runbook is within the normal replication lag (mongo.caught_up_lag); Node names it, Detail gives its lag"},
		{EventMemberStale, "a member is too stale to catch up (RS102: its newest write is gone from the primary's oplog) and stays RECOVERING until resynced; also a backup older than the oplog, before a full initial sync; Node names it"},
		{EventRedundancyRestored, "as many data-bearing members as the topology declares are healthy again: initial sync done, replicating, within the normal replication lag"},
		{EventReplicationLag, "a member's lag behind the primary: at each fault, against the primary of that moment (0s for the primary itself), and every heartbeat while a member added or resynced by the runbook catches up; Detail gives it"},
	},
	KindElastic: {
		{EventMasterElected, "a node became the elected master; Node names it"},
		{EventHealthGreen, "cluster health turned green: every primary and replica shard is allocated"},
		{EventHealthYellow, "cluster health turned yellow: every primary is allocated, some replicas are not"},
		{EventHealthRed, "cluster health turned red: some primary shard is unallocated"},
		{EventSnapshotCompleted, "a snapshot reached the S3 repository; Detail names it"},
		{EventSnapshotPartial, "a snapshot reached the S3 repository PARTIAL: the shards whose node crashed or left during it failed; Detail names them"},
		{EventRestoreCompleted, "a snapshot restore into a new cluster finished (primaries recovered); Detail names the snapshot"},
		{EventEndpointFailedOver, "the log tier now writes to another cluster; Detail names its region"},
		{EventRedundancyRestored, "every shard has all its copies again (green after a fault)"},
		{EventFloodStage, "a node's disk passed the flood-stage watermark (cluster.routing.allocation.disk.watermark.flood_stage): every index with a shard on it is read-only (index.blocks.read_only_allow_delete) and bulk writes to it are rejected; Node names it, Detail gives its usage"},
		{EventFloodStageReleased, "the read-only block was released: the node's disk usage fell below the high watermark; Node names it"},
	},
	KindS3: {
		{EventSyncCompleted, "a cross-region sync pass finished; Detail names the destination region"},
		{EventEndpointFailedOver, "the clients now use another region's bucket; Detail names the region"},
		{EventArtifactPublished, "a new version of an artifact key was put into a region's bucket (artifacts.publish, roles.upgrade); Node names the endpoint, Detail key@version"},
		{EventArtifactDeleted, "an artifact key was removed from a region's bucket (artifacts.delete); Node names the endpoint, Detail the key"},
		{EventRoleRebuilt, "a role was rebuilt from a region's bucket and serves again (roles.rebuild); Node names the role, Detail the region and the versions it came back on"},
		{EventVersionSkew, "a role was rebuilt on an older version of a key than the newest published; Node names the role, Detail the key, the version rebuilt, the newest and its age"},
		{EventNodeUpgraded, "a node of a role was restarted on the new version by a rolling upgrade and the service is healthy again (roles.upgrade); Node names it, Detail key@version"},
		{EventUpgradeCompleted, "every node of the role runs the new version (roles.upgrade); Node names the role, Detail the mixed-version window"},
	},
}

// EventCatalog returns the events a service of the given kind can emit, the
// node events first, then the kind's own in a fixed order. It returns nil
// for an unknown kind.
func EventCatalog(kind string) []EventInfo {
	own, ok := eventCatalog[kind]
	if !ok {
		return nil
	}
	return append(slices.Clone(nodeEvents), own...)
}

// EmitsEvent reports whether a service of the given kind can emit what.
func EmitsEvent(kind, what string) bool {
	return slices.ContainsFunc(EventCatalog(kind), func(e EventInfo) bool { return e.What == what })
}

// routineEvents are the events a run emits over and over whatever happens
// (a sync pass, a snapshot, a lag sample): the console leaves them out,
// and the report's timeline keeps them.
var routineEvents = []string{EventSyncCompleted, EventSnapshotCompleted, EventReplicationLag}

// RoutineEvent reports whether what is a routine event (see
// routineEvents). The console shows every other event the report's
// timeline lists.
func RoutineEvent(what string) bool { return slices.Contains(routineEvents, what) }
