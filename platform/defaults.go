package platform

import "time"

// Defaults of the knobs both platforms have. The simulator and the live
// platform take these same values, so that one scenario means the same
// thing on either; each platform documents the knob (its name under
// `parameters:`, description and source) in its own parameter table.
const (
	// DefaultElectionTimeout is settings.electionTimeoutMillis, MongoDB's
	// default (https://www.mongodb.com/docs/manual/reference/replica-configuration/#mongodb-rsconf-rsconf.settings.electionTimeoutMillis).
	DefaultElectionTimeout = 10 * time.Second
	// DefaultHeartbeatInterval is how often replica-set members heartbeat
	// each other (https://www.mongodb.com/docs/manual/core/replica-set-elections/).
	DefaultHeartbeatInterval = 2 * time.Second
	// DefaultDelayedTimeout is index.unassigned.node_left.delayed_timeout,
	// Elasticsearch's default
	// (https://www.elastic.co/docs/deploy-manage/distributed-architecture/shard-allocation-relocation-recovery/delaying-allocation-when-node-leaves).
	DefaultDelayedTimeout = time.Minute
	// DefaultServerSelectionTimeout is the MongoDB driver's
	// serverSelectionTimeoutMS default
	// (https://www.mongodb.com/docs/drivers/go/current/connect/connection-options/).
	DefaultServerSelectionTimeout = 30 * time.Second
	// DefaultLogsBulkSize is how many events the log tier sends in one bulk
	// request: Logstash's pipeline.batch.size default
	// (https://www.elastic.co/guide/en/logstash/current/logstash-settings-file.html).
	DefaultLogsBulkSize = 125
	// DefaultLogsFlushInterval is the longest the log tier waits to fill a
	// bulk: Logstash's pipeline.batch.delay default (same source).
	DefaultLogsFlushInterval = 50 * time.Millisecond
	// DefaultLogsAckOnReceipt: the tier acknowledges an event only once
	// Elasticsearch acknowledged it.
	DefaultLogsAckOnReceipt = false
)
