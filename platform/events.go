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
}

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
	},
	KindS3: {
		{EventSyncCompleted, "a cross-region sync pass finished; Detail names the destination region"},
		{EventEndpointFailedOver, "the clients now use another region's bucket; Detail names the region"},
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
