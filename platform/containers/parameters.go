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
			Name:        ParamElectionTimeout,
			Default:     platform.DefaultElectionTimeout.String(),
			Description: "replica set settings.electionTimeoutMillis: how long members wait for the primary before calling an election",
			Source:      "https://www.mongodb.com/docs/manual/reference/replica-configuration/#mongodb-rsconf-rsconf.settings.electionTimeoutMillis",
		},
		{
			Name:        ParamHeartbeatInterval,
			Default:     platform.DefaultHeartbeatInterval.String(),
			Description: "replica set settings.heartbeatIntervalMillis, documented by MongoDB as internal use only; the live platform keeps MongoDB's 2 s and refuses a scenario that overrides it",
			Source:      "https://www.mongodb.com/docs/manual/core/replica-set-elections/#heartbeats",
		},
		{
			Name:        ParamMongoStatusPoll,
			Default:     "250ms",
			Description: "how often the harness polls replSetGetStatus to report primary-elected and primary-lost; bounds how late those events are seen",
			Source:      "https://www.mongodb.com/docs/manual/reference/command/replSetGetStatus/",
		},
		{
			Name:        ParamDelayedTimeout,
			Default:     platform.DefaultDelayedTimeout.String(),
			Description: "index.unassigned.node_left.delayed_timeout: how long Elasticsearch waits before rebuilding the replicas of a node that left",
			Source:      "https://www.elastic.co/docs/deploy-manage/distributed-architecture/shard-allocation-relocation-recovery/delaying-allocation-when-node-leaves",
		},
		{
			Name:        ParamSnapshotInterval,
			Default:     "topology",
			Description: "time between Elasticsearch snapshots to the S3 repository (the topology's snapshot_interval unless overridden)",
			Source:      "https://www.elastic.co/docs/deploy-manage/tools/snapshot-and-restore/create-snapshots",
		},
		{
			Name:        ParamHealthPoll,
			Default:     "500ms",
			Description: "how often the harness polls _cluster/health to report health colour changes and the master",
			Source:      "https://www.elastic.co/docs/api/doc/elasticsearch/operation/operation-cluster-health",
		},
		{
			Name:        ParamSyncInterval,
			Default:     "topology",
			Description: "time between the harness's cross-region bucket sync passes (LocalStack community copies nothing on bucket replication; the topology's sync_interval unless overridden)",
			Source:      "https://github.com/localstack/localstack/pull/8901",
		},
		{
			Name:        ParamServerSelectionTimeout,
			Default:     platform.DefaultServerSelectionTimeout.String(),
			Description: "mongo driver serverSelectionTimeoutMS: how long a write waits for a primary before it fails",
			Source:      "https://www.mongodb.com/docs/drivers/go/current/connect/connection-options/#server-selection-timeout",
		},
		{
			Name:        ParamClientWorkers,
			Default:     "16",
			Description: "concurrent writes in flight per workload client; writes beyond it queue (a harness choice, well under the driver's default pool of 100 connections)",
			Source:      "https://www.mongodb.com/docs/drivers/go/current/connect/connection-options/#connection-pools",
		},
		{
			Name:        ParamLogsAckOnReceipt,
			Default:     strconv.FormatBool(platform.DefaultLogsAckOnReceipt),
			Description: "the log tier acknowledges an event when it queues it (true) instead of after Elasticsearch acknowledged its bulk item (false)",
			Source:      "https://www.elastic.co/docs/reference/elasticsearch/rest-apis/bulk",
		},
		{
			Name:        ParamLogsBatchSize,
			Default:     strconv.Itoa(platform.DefaultLogsBulkSize),
			Description: "events the log tier sends to Elasticsearch in one bulk request (Logstash pipeline.batch.size)",
			Source:      "https://www.elastic.co/guide/en/logstash/current/logstash-settings-file.html",
		},
		{
			Name:        ParamLogsFlushInterval,
			Default:     platform.DefaultLogsFlushInterval.String(),
			Description: "longest the log tier waits to fill a bulk before sending what it has (Logstash pipeline.batch.delay)",
			Source:      "https://www.elastic.co/guide/en/logstash/current/logstash-settings-file.html",
		},
	}
}

// settings are the parameters after overrides, parsed.
type settings struct {
	electionTimeout        time.Duration
	mongoStatusPoll        time.Duration
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

// parseSettings applies overrides to the defaults. Unknown names are left to
// the scenario loader, which knows every platform's parameters.
func parseSettings(overrides map[string]string) (settings, error) {
	values := map[string]string{}
	for _, p := range Parameters() {
		values[p.Name] = p.Default
	}
	for k, v := range overrides {
		values[k] = v
	}
	var s settings
	var firstErr error
	duration := func(name string, dst *time.Duration) {
		v := values[name]
		if v == "topology" {
			return
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			if firstErr == nil {
				firstErr = fmt.Errorf("parameter %s: want a positive duration such as \"10s\", got %q", name, v)
			}
			return
		}
		*dst = d
	}
	integer := func(name string, dst *int) {
		n, err := strconv.Atoi(values[name])
		if err != nil || n < 1 {
			if firstErr == nil {
				firstErr = fmt.Errorf("parameter %s: want a positive whole number, got %q", name, values[name])
			}
			return
		}
		*dst = n
	}
	duration(ParamElectionTimeout, &s.electionTimeout)
	if s.electionTimeout%time.Millisecond != 0 && firstErr == nil {
		// settings.electionTimeoutMillis is an integer of milliseconds.
		firstErr = fmt.Errorf("parameter %s: want a whole number of milliseconds, got %q", ParamElectionTimeout, values[ParamElectionTimeout])
	}
	if _, set := overrides[ParamHeartbeatInterval]; set && firstErr == nil {
		// The replica-set adapter installs settings.electionTimeoutMillis
		// only; running with MongoDB's heartbeat while the scenario asked
		// for another would measure something else without saying so.
		firstErr = fmt.Errorf("parameter %s: the containers platform cannot set it (it keeps MongoDB's 2s)", ParamHeartbeatInterval)
	}
	duration(ParamMongoStatusPoll, &s.mongoStatusPoll)
	duration(ParamDelayedTimeout, &s.delayedTimeout)
	duration(ParamSnapshotInterval, &s.snapshotInterval)
	duration(ParamHealthPoll, &s.healthPoll)
	duration(ParamSyncInterval, &s.syncInterval)
	duration(ParamServerSelectionTimeout, &s.serverSelectionTimeout)
	duration(ParamLogsFlushInterval, &s.logsFlushInterval)
	integer(ParamClientWorkers, &s.clientWorkers)
	integer(ParamLogsBatchSize, &s.logsBatchSize)
	b, err := strconv.ParseBool(values[ParamLogsAckOnReceipt])
	if err != nil && firstErr == nil {
		firstErr = fmt.Errorf("parameter %s: want true or false, got %q", ParamLogsAckOnReceipt, values[ParamLogsAckOnReceipt])
	}
	s.logsAckOnReceipt = b
	return s, firstErr
}
