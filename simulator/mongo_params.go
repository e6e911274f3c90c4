package simulator

import (
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

// mongoSource pins the MongoDB source lines the election parameters
// are read from.
const mongoSource = "https://github.com/mongodb/mongo/blob/8f1f561d203201f9f19e832374813f46cfe0dc29/src/mongo/db/repl/"

var mongoParameters = []paramDef{
	duration("mongo.election_timeout", platform.DefaultElectionTimeout,
		"electionTimeoutMillis: a secondary that has heard nothing from the primary (heartbeat or oplog batch) for this long calls an election; a primary that has not heard from a majority of voters for this long steps down",
		"https://www.mongodb.com/docs/manual/reference/replica-configuration/#mongodb-rsconf-rsconf.settings.electionTimeoutMillis"),
	float("mongo.election_offset_fraction", 0.15,
		"replElectionTimeoutOffsetLimitFraction: each election timer gets a random extra delay in [0, fraction*election_timeout), so secondaries rarely stand at once",
		mongoSource+"repl_server_parameters.idl#L387-L395"),
	duration("mongo.heartbeat_interval", platform.DefaultHeartbeatInterval,
		"members heartbeat each other this often; with no oplog traffic the last news from a primary is its last heartbeat",
		"https://www.mongodb.com/docs/manual/core/replica-set-elections/"),
	duration("mongo.step_up_duration", 5*time.Millisecond,
		"from winning the vote to accepting writes: catch-up, draining the apply buffer and writing the new-term no-op (about 4 ms in a logged failover; model value)",
		mongoSource+"replication_coordinator_external_state_impl.cpp#L625-L666"),
	duration("mongo.priority_takeover_freshness", 2*time.Second,
		"priorityTakeoverFreshnessWindowSeconds: a higher-priority secondary takes over from the primary ((rank+1)*election_timeout + offset after seeing it) only if it is this close to the primary's newest write",
		mongoSource+"topology_coordinator.cpp#L1796-L1824"),
	duration("mongo.step_down_catch_up", 10*time.Second,
		"secondaryCatchUpPeriodSecs: how long a stepping-down (or shutting-down) primary waits for an electable secondary to catch up before giving up the hand-off",
		"https://www.mongodb.com/docs/manual/reference/command/replSetStepDown/"),
	duration("mongo.step_down_freeze", 60*time.Second,
		"stepDownSecs: a primary that stepped down on request is not electable for this long",
		"https://www.mongodb.com/docs/manual/reference/command/replSetStepDown/"),
	duration("mongo.apply_batch_overhead", time.Millisecond,
		"fixed cost of one oplog apply batch on a secondary (model assumption: fetch round, batch start, journal); with apply_cost_per_op it makes replication lag grow with the write rate",
		"https://www.mongodb.com/docs/manual/reference/parameters/#mongodb-parameter-param.replBatchLimitOperations"),
	duration("mongo.apply_cost_per_op", 20*time.Microsecond,
		"cost of applying one inserted document on a secondary (model assumption: about 50,000 single-document inserts per second per secondary)",
		"https://www.mongodb.com/docs/manual/core/replica-set-sync/#replication"),
	duration("mongo.force_reconfig_duration", time.Second,
		"time for rs.reconfig(cfg, {force: true}) to install the new config on the survivor once the operator runs it (model assumption; the operator's own delay is the runbook's)",
		"https://www.mongodb.com/docs/manual/tutorial/reconfigure-replica-set-with-unavailable-members/"),
	duration("mongo.reconfig_duration", time.Second,
		"time for a non-forced rs.reconfig on the primary to be installed on a majority of the voting members, after which the step is done (model assumption: a heartbeat round and a config write)",
		"https://www.mongodb.com/docs/manual/reference/command/replSetReconfig/"),
	duration("mongo.initial_sync_base", 10*time.Second,
		"fixed part of a new member's initial sync: start, choose a sync source, build indexes (model assumption)",
		"https://www.mongodb.com/docs/manual/core/replica-set-sync/#initial-sync"),
	duration("mongo.initial_sync_per_document", 50*time.Microsecond,
		"initial sync time per document to clone and apply (model assumption: about 20,000 small documents per second)",
		"https://www.mongodb.com/docs/manual/core/replica-set-sync/#initial-sync"),
	duration("mongo.caught_up_lag", 2*time.Second,
		"a secondary within this lag of the primary is caught up (member-caught-up; it counts toward full redundancy again): MongoDB's own bound for a secondary fresh enough to take over (priorityTakeoverFreshnessWindowSeconds); lag is sampled every mongo.heartbeat_interval",
		mongoSource+"topology_coordinator.cpp#L1796-L1824"),
	integer("mongo.oplog_size_mb", 990,
		"replication.oplogSizeMB: the oplog's size; the default is 5% of free disk space, at least 990 MB (the default here) and at most 50 GB. With oplog_entry_bytes it sets the oplog window, which follows the write rate: a member away longer comes back too stale to catch up (RS102). The oplog never drops the majority commit point",
		"https://www.mongodb.com/docs/manual/core/replica-set-oplog/#oplog-size"),
	integer("mongo.oplog_entry_bytes", 1024,
		"bytes one write takes in the oplog (model assumption: a small inserted document with the entry's own fields)",
		"https://www.mongodb.com/docs/manual/core/replica-set-oplog/"),
	duration("mongo.oplog_min_retention", 0,
		"storage.oplogMinRetentionHours: the oplog keeps every entry at least this long, whatever its size (0: size alone decides)",
		"https://www.mongodb.com/docs/manual/reference/configuration-options/#mongodb-setting-storage.oplogMinRetentionHours"),
	duration("mongo.backup_interval", time.Hour,
		"a member's data is backed up (a filesystem snapshot) every interval from scenario time 0, the first backup holding the empty set; add-member and resync-member with source: backup restore the last one (model assumption)",
		"https://www.mongodb.com/docs/manual/tutorial/backup-with-filesystem-snapshots/"),
	duration("mongo.backup_restore_base", time.Minute,
		"fixed part of seeding a member from a backup: create a volume from the snapshot, attach it, start mongod (model assumption)",
		"https://www.mongodb.com/docs/manual/tutorial/restore-replica-set-from-backup/"),
	duration("mongo.backup_restore_per_document", 5*time.Microsecond,
		"restore time per document of the backup: data files copy without an index build, about ten times faster than an initial sync clones (model assumption)",
		"https://www.mongodb.com/docs/manual/tutorial/restore-replica-set-from-backup/"),
}

// mongoSettings are the parameters a mongo model reads once at construction.
type mongoSettings struct {
	electionTimeout    time.Duration
	offsetFraction     float64
	heartbeatInterval  time.Duration
	stepUp             time.Duration
	takeoverFreshness  time.Duration
	stepDownCatchUp    time.Duration
	stepDownFreeze     time.Duration
	applyOverhead      time.Duration
	applyPerOp         time.Duration
	forceReconfig      time.Duration
	reconfig           time.Duration
	initialSyncBase    time.Duration
	initialSyncPerDoc  time.Duration
	caughtUpLag        time.Duration
	oplogSizeMB        int
	oplogEntryBytes    int
	oplogMinRetention  time.Duration
	backupInterval     time.Duration
	restoreBase        time.Duration
	restorePerDoc      time.Duration
	serverSelection    time.Duration
	clientHeartbeat    time.Duration
	clientMinHeartbeat time.Duration
	localThreshold     time.Duration
	clientStreaming    bool
}

func readMongoSettings(p *params) mongoSettings {
	return mongoSettings{
		electionTimeout:    p.duration("mongo.election_timeout"),
		offsetFraction:     p.float("mongo.election_offset_fraction"),
		heartbeatInterval:  p.duration("mongo.heartbeat_interval"),
		stepUp:             p.duration("mongo.step_up_duration"),
		takeoverFreshness:  p.duration("mongo.priority_takeover_freshness"),
		stepDownCatchUp:    p.duration("mongo.step_down_catch_up"),
		stepDownFreeze:     p.duration("mongo.step_down_freeze"),
		applyOverhead:      p.duration("mongo.apply_batch_overhead"),
		applyPerOp:         p.duration("mongo.apply_cost_per_op"),
		forceReconfig:      p.duration("mongo.force_reconfig_duration"),
		reconfig:           p.duration("mongo.reconfig_duration"),
		initialSyncBase:    p.duration("mongo.initial_sync_base"),
		initialSyncPerDoc:  p.duration("mongo.initial_sync_per_document"),
		caughtUpLag:        p.duration("mongo.caught_up_lag"),
		oplogSizeMB:        p.integer("mongo.oplog_size_mb"),
		oplogEntryBytes:    p.integer("mongo.oplog_entry_bytes"),
		oplogMinRetention:  p.duration("mongo.oplog_min_retention"),
		backupInterval:     p.duration("mongo.backup_interval"),
		restoreBase:        p.duration("mongo.backup_restore_base"),
		restorePerDoc:      p.duration("mongo.backup_restore_per_document"),
		serverSelection:    p.duration("client.server_selection_timeout"),
		clientHeartbeat:    p.duration("client.heartbeat_interval"),
		clientMinHeartbeat: p.duration("client.min_heartbeat_interval"),
		localThreshold:     p.duration("client.local_threshold"),
		clientStreaming:    p.boolean("client.streaming_discovery"),
	}
}
