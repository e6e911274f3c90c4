package containers

import (
	"fmt"
	"strconv"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

// Parameter names. Where a knob means the same thing as in the simulator it
// has the same name, so one `parameters:` block serves both platforms.
const (
	ParamElectionTimeout        = "mongo.election_timeout"
	ParamHeartbeatInterval      = "mongo.heartbeat_interval"
	ParamMongoStatusPoll        = "mongo.status_poll_interval"
	ParamCaughtUpLag            = "mongo.caught_up_lag"
	ParamDelayedTimeout         = "es.delayed_timeout"
	ParamSnapshotInterval       = "es.snapshot_interval"
	ParamHealthPoll             = "es.health_poll_interval"
	ParamSyncInterval           = "s3.sync_interval"
	ParamServerSelectionTimeout = "client.server_selection_timeout"
	ParamClientWorkers          = "client.workers"
	ParamLogsAckOnReceipt       = "logs.ack_on_receipt"
	ParamLogsBatchSize          = "logs.bulk_size"
	ParamLogsFlushInterval      = "logs.flush_interval"
)

// Parameters lists the live platform's knobs, their defaults and where the
// defaults come from. Defaults of "topology" take the value written in the
// scenario's topology.
func Parameters() []platform.Parameter {
	return []platform.Parameter{
		{
			Name: ParamElectionTimeout,
			Kind: platform.ParamDuration, Min: "1ms", Step: "1ms",
			Default:     platform.DefaultElectionTimeout.String(),
			Description: "replica set settings.electionTimeoutMillis: how long members wait for the primary before calling an election",
			Source:      "https://www.mongodb.com/docs/manual/reference/replica-configuration/#mongodb-rsconf-rsconf.settings.electionTimeoutMillis",
		},
		{
			Name: ParamHeartbeatInterval,
			Kind: platform.ParamDuration, Min: platform.DefaultHeartbeatInterval.String(), Max: platform.DefaultHeartbeatInterval.String(),
			Default:     platform.DefaultHeartbeatInterval.String(),
			Description: "replica set settings.heartbeatIntervalMillis, documented by MongoDB as internal use only; the live platform keeps MongoDB's 2 s and refuses a scenario that overrides it",
			Source:      "https://www.mongodb.com/docs/manual/core/replica-set-elections/#heartbeats",
		},
		{
			Name:        ParamMongoStatusPoll,
			Kind:        platform.ParamDuration,
			Default:     "250ms",
			Description: "how often the harness polls replSetGetStatus to report primary-elected and primary-lost; bounds how late those events are seen",
			Source:      "https://www.mongodb.com/docs/manual/reference/command/replSetGetStatus/",
		},
		{
			Name: ParamCaughtUpLag,
			Kind: platform.ParamDuration, Min: "1ms",
			Default:     (2 * time.Second).String(),
			Description: "a member the runbook added or resynced is caught up (member-caught-up) once it is SECONDARY and its lag behind the primary is within this: MongoDB's own bound for a secondary fresh enough to take over (priorityTakeoverFreshnessWindowSeconds); the simulator's knob of the same name",
			Source:      "https://github.com/mongodb/mongo/blob/8f1f561d203201f9f19e832374813f46cfe0dc29/src/mongo/db/repl/topology_coordinator.cpp#L1796-L1824",
		},
		{
			Name:        ParamDelayedTimeout,
			Kind:        platform.ParamDuration,
			Default:     platform.DefaultDelayedTimeout.String(),
			Description: "index.unassigned.node_left.delayed_timeout: how long Elasticsearch waits before rebuilding the replicas of a node that left",
			Source:      "https://www.elastic.co/docs/deploy-manage/distributed-architecture/shard-allocation-relocation-recovery/delaying-allocation-when-node-leaves",
		},
		{
			Name:        ParamSnapshotInterval,
			Kind:        platform.ParamDuration,
			Default:     "topology",
			Description: "time between Elasticsearch snapshots to the S3 repository (the topology's snapshot_interval unless overridden)",
			Source:      "https://www.elastic.co/docs/deploy-manage/tools/snapshot-and-restore/create-snapshots",
		},
		{
			Name:        ParamHealthPoll,
			Kind:        platform.ParamDuration,
			Default:     "500ms",
			Description: "how often the harness polls _cluster/health to report health colour changes and the master",
			Source:      "https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-cluster-health",
		},
		{
			Name:        ParamSyncInterval,
			Kind:        platform.ParamDuration,
			Default:     "topology",
			Description: "time between the harness's cross-region bucket sync passes (LocalStack community copies nothing on bucket replication; the topology's sync_interval unless overridden)",
			Source:      "https://github.com/localstack/localstack/pull/8901",
		},
		{
			Name: ParamServerSelectionTimeout,
			Kind: platform.ParamDuration, Min: "1ms",
			Default:     platform.DefaultServerSelectionTimeout.String(),
			Description: "mongo driver serverSelectionTimeoutMS: how long a write waits for a primary before it fails",
			Source:      "https://www.mongodb.com/docs/drivers/go/current/connect/connection-options/#server-selection-timeout",
		},
		{
			Name: ParamClientWorkers,
			Kind: platform.ParamInt, Min: "1", Max: "1000",
			Default:     "16",
			Description: "concurrent writes in flight per workload client; writes beyond it queue (a harness choice, well under the driver's default pool of 100 connections)",
			Source:      "https://www.mongodb.com/docs/drivers/go/current/connect/connection-options/#connection-pools",
		},
		{
			Name:        ParamLogsAckOnReceipt,
			Kind:        platform.ParamBool,
			Default:     strconv.FormatBool(platform.DefaultLogsAckOnReceipt),
			Description: "the log tier acknowledges an event when it queues it (true) instead of after Elasticsearch acknowledged its bulk item (false)",
			Source:      "https://www.elastic.co/docs/reference/elasticsearch/rest-apis/bulk",
		},
		{
			Name: ParamLogsBatchSize,
			Kind: platform.ParamInt, Min: "1",
			Default:     strconv.Itoa(platform.DefaultLogsBulkSize),
			Description: "events the log tier sends to Elasticsearch in one bulk request (Logstash pipeline.batch.size)",
			Source:      "https://www.elastic.co/guide/en/logstash/current/logstash-settings-file.html",
		},
		{
			Name:        ParamLogsFlushInterval,
			Kind:        platform.ParamDuration,
			Default:     platform.DefaultLogsFlushInterval.String(),
			Description: "longest the log tier waits to fill a bulk before sending what it has (Logstash pipeline.batch.delay)",
			Source:      "https://www.elastic.co/guide/en/logstash/current/logstash-settings-file.html",
		},
		{
			Name:        ParamConvergeDuration,
			Kind:        platform.ParamDuration,
			Default:     defaultConvergeDuration.String(),
			Description: "what roles.rebuild waits, once it has fetched the role's keys, for the recipe run it stands in for (the harness runs no Chef); the simulator's default (model assumption)",
			Source:      "https://docs.chef.io/chef_client_overview/",
		},
	}
}

// settings are the parameters after overrides, parsed.
type settings struct {
	electionTimeout        time.Duration
	mongoStatusPoll        time.Duration
	caughtUpLag            time.Duration
	delayedTimeout         time.Duration
	snapshotInterval       time.Duration // 0: the topology's
	healthPoll             time.Duration
	syncInterval           time.Duration // 0: the topology's
	serverSelectionTimeout time.Duration
	clientWorkers          int
	logsAckOnReceipt       bool
	logsBatchSize          int
	logsFlushInterval      time.Duration
}

// parseSettings applies overrides to the defaults. Each override is
// checked against its parameter's kind and range (platform.Parameter.Check,
// the check `chaosdrill validate --platform containers` makes), so a value
// validate accepts is one the platform runs with. Unknown names are left to
// the scenario loader, which knows every platform's parameters.
func parseSettings(overrides map[string]string) (settings, error) {
	values := map[string]string{}
	for _, p := range Parameters() {
		values[p.Name] = p.Default
		if v, ok := overrides[p.Name]; ok {
			if err := p.Check(v); err != nil {
				return settings{}, fmt.Errorf("parameter %s: %w", p.Name, err)
			}
			values[p.Name] = v
		}
	}
	var s settings
	duration := func(name string, dst *time.Duration) {
		if v := values[name]; v != "topology" {
			*dst, _ = time.ParseDuration(v) // checked above
		}
	}
	integer := func(name string, dst *int) { *dst, _ = strconv.Atoi(values[name]) }
	duration(ParamElectionTimeout, &s.electionTimeout)
	duration(ParamMongoStatusPoll, &s.mongoStatusPoll)
	duration(ParamCaughtUpLag, &s.caughtUpLag)
	duration(ParamDelayedTimeout, &s.delayedTimeout)
	duration(ParamSnapshotInterval, &s.snapshotInterval)
	duration(ParamHealthPoll, &s.healthPoll)
	duration(ParamSyncInterval, &s.syncInterval)
	duration(ParamServerSelectionTimeout, &s.serverSelectionTimeout)
	duration(ParamLogsFlushInterval, &s.logsFlushInterval)
	integer(ParamClientWorkers, &s.clientWorkers)
	integer(ParamLogsBatchSize, &s.logsBatchSize)
	s.logsAckOnReceipt, _ = strconv.ParseBool(values[ParamLogsAckOnReceipt])
	return s, nil
}
