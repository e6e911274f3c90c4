package platform

import (
	"context"
	"errors"
	"time"
)

// Outcome is what a client was told about one operation. Only Acked writes can
// be lost; Unknown ones (timeouts, broken connections) may or may not have
// happened and are counted apart.
type Outcome uint8

const (
	Pending Outcome = iota // issued, no answer yet
	Acked                  // the client was told it succeeded
	Failed                 // the client was told it did not happen
	Unknown                // timed out or the connection broke
)

func (o Outcome) String() string {
	switch o {
	case Acked:
		return "acked"
	case Failed:
		return "failed"
	case Unknown:
		return "unknown"
	default:
		return "pending"
	}
}

// Event is something the platform observed about itself, delivered on the
// loop: a primary elected, cluster health turning yellow, a sync completing.
// What is a short kebab-case word from the Event* constants so that
// scenarios can trigger on it (`after_event: mongo:primary-elected`).
type Event struct {
	At      time.Duration `json:"at"`
	Service string        `json:"service"`
	What    string        `json:"what"`
	Node    string        `json:"node,omitempty"`
	Detail  string        `json:"detail,omitempty"`
}

// Events the platforms emit. A platform may emit others; these are the ones
// the reports and scenario triggers rely on.
const (
	EventNodeDown           = "node-down"            // a node stopped answering (killed, stopped, paused, cut off)
	EventNodeUp             = "node-up"              // it answers again
	EventPrimaryElected     = "primary-elected"      // mongo: Node became primary
	EventPrimaryLost        = "primary-lost"         // mongo: no primary any more (step-down or loss)
	EventRollback           = "rollback"             // mongo: Node rolled back writes; Detail says how many
	EventMasterElected      = "master-elected"       // elasticsearch: Node became master
	EventHealthGreen        = "health-green"         // elasticsearch cluster health
	EventHealthYellow       = "health-yellow"        //
	EventHealthRed          = "health-red"           //
	EventSnapshotCompleted  = "snapshot-completed"   // elasticsearch: a snapshot reached the repository
	EventSnapshotPartial    = "snapshot-partial"     // elasticsearch: a snapshot was stored PARTIAL (shards failed); Detail names them
	EventSyncCompleted      = "sync-completed"       // s3: a cross-region sync pass finished; Detail names the destination region
	EventRedundancyRestored = "redundancy-restored"  // the service has all its copies again (time to full redundancy)
	EventRestoreCompleted   = "restore-completed"    // elasticsearch: a snapshot restore finished
	EventMemberAdded        = "member-added"         // mongo: a new member finished initial sync
	EventReconfigured       = "reconfigured"         // mongo: a (forced) reconfig was installed
	EventEndpointFailedOver = "endpoint-failed-over" // s3 / logs: clients now use another region
	EventReplicationLag     = "replication-lag"      // mongo: Detail gives a member's lag behind the primary at a fault
)

// Handler is work scheduled on a Loop.
type Handler interface {
	Fire(now time.Duration)
}

// HandlerFunc adapts a function to Handler. Hot paths use a long-lived value
// instead, so that scheduling does not allocate a closure.
type HandlerFunc func(now time.Duration)

// Fire calls f.
func (f HandlerFunc) Fire(now time.Duration) { f(now) }

// Loop is the platform's single event loop. Time is measured from the start
// of the scenario (after bring-up).
type Loop interface {
	// Now is the current scenario time.
	Now() time.Duration
	// At schedules h to fire on the loop at time t (at once if t is past).
	// Handlers scheduled for the same time fire in the order they were
	// scheduled.
	At(t time.Duration, h Handler)
	// Run delivers handlers, completions and events in time order until the
	// scenario time reaches until, or ctx ends (then it returns ctx.Err()).
	Run(ctx context.Context, until time.Duration) error
}

// Continuer is a Loop on which the handler firing now may carry on to a
// later time itself instead of being scheduled there: a workload issuing its
// next write saves a trip through the loop's queue, the bulk of a
// simulated run's cost. Continue(t, h) either moves the loop's clock to t,
// exactly as firing h at t after At(t, h) would (everything due before t
// has happened, nothing else is due at t before h), and returns true, so
// the caller goes on with its work at t; or it schedules h at t as At does
// and returns false. Firing order and time are the same either way.
type Continuer interface {
	Continue(t time.Duration, h Handler) bool
}

// Completions receives the outcome of each write, on the loop.
type Completions interface {
	Completed(op uint64, outcome Outcome, at time.Duration)
}

// Events receives platform events, on the loop.
type Events interface {
	Observed(Event)
}

// Client is a workload's handle on one service.
type Client interface {
	// Write issues write number op (unique in the run). It returns at once;
	// the outcome arrives later through Config.Completions. Write is called
	// on the loop.
	Write(op uint64)
	// ReadBack reports, after recovery, which writes are present: present[i]
	// for ids[i]. It is called after the loop has stopped.
	ReadBack(ctx context.Context, ids []uint64, present []bool) error
}

// WorkloadConfig configures the client of one service.
type WorkloadConfig struct {
	Service string
	// WriteConcern applies to mongo: "1", "majority", a number of members, or
	// the name of a write mode from the topology (e.g. "multiRegion").
	WriteConcern string
	// Timeout after which a write that got no answer is Unknown.
	Timeout time.Duration
}

// Config is what every Platform is built from.
type Config struct {
	RunID      string
	Topology   *Topology
	Seed       uint64
	Parameters map[string]string // model parameter overrides by name
	Workloads  []WorkloadConfig
	// Completions and Events are called on the loop.
	Completions Completions
	Events      Events

	// Images are container images by service kind (mongo, elasticsearch,
	// s3) from the scenario; platforms without containers ignore them.
	Images map[string]string

	// Runbook lists the scenario's runbook steps, so that a platform can
	// refuse, before anything starts, a step it could not carry out.
	Runbook []Action

	// DiskNodes are the nodes a disk fault of the scenario may hit (every
	// node of a service a role selector names): the live platform gives
	// them a data volume it can fill, slow down and fail.
	DiskNodes []string
}

// Faults are the fault primitives, aimed at one node (or two groups of
// nodes for a partition). Each is undone by its pair: Kill and Stop by Start,
// Pause by Resume, Partition by Heal, AddLatency by RemoveLatency. They are
// called on the loop and take effect at the loop's current time.
type Faults interface {
	Kill(ctx context.Context, node string) error  // SIGKILL: gone at once, connections reset
	Stop(ctx context.Context, node string) error  // graceful shutdown
	Start(ctx context.Context, node string) error // start a killed or stopped node again, with its data
	Pause(ctx context.Context, node string) error // frozen: connections stay open, nothing answers
	Resume(ctx context.Context, node string) error
	Partition(ctx context.Context, a, b []string) error // no traffic between the two groups, both ways
	Heal(ctx context.Context, a, b []string) error
	AddLatency(ctx context.Context, node string, extra time.Duration) error // on every link of the node
	RemoveLatency(ctx context.Context, node string) error
}

// Action is one runbook step to carry out.
type Action struct {
	Name   string            // the step's name in the scenario
	Action string            // one of the Action* constants
	Params map[string]string // action-specific, see ActionCatalog
}

// ActionDone is told when a runbook action has finished (err nil) or given
// up. It is called on the loop.
type ActionDone interface {
	ActionDone(name string, err error, at time.Duration)
}

// Runbook actions. Their parameters are documented in ActionCatalog.
const (
	ActionMongoForceReconfigure = "mongo.force-reconfigure"
	ActionMongoAddMember        = "mongo.add-member"
	ActionMongoStepDown         = "mongo.step-down"
	ActionMongoSetWriteConcern  = "mongo.set-write-concern"
	ActionMongoReconfigMember   = "mongo.reconfigure-member"
	ActionMongoResyncMember     = "mongo.resync-member"
	ActionLogsRestoreSnapshot   = "logs.restore-snapshot"
	ActionArtifactsFailover     = "artifacts.failover"
)

// ActionInfo documents a runbook action for `chaosdrill list` and the loader.
type ActionInfo struct {
	Name        string
	Description string
	Params      map[string]string // name -> meaning; all listed params are accepted, Required ones must be set
	Required    []string
}

// ActionCatalog lists every runbook action a platform must carry out.
func ActionCatalog() []ActionInfo {
	return append([]ActionInfo{
		{
			Name:        ActionMongoForceReconfigure,
			Description: "force-reconfigure the replica set onto the members that still answer, making `promote` electable (priority 1, not hidden, 1 vote)",
			Params: map[string]string{
				"service": "the mongo service (default: the topology's only one)",
				"promote": "member to make electable",
			},
			Required: []string{"promote"},
		},
		{
			Name:        ActionMongoAddMember,
			Description: "start a new member in `zone` and add it to the replica set; done when its initial sync finished (member-added), then reported until it is caught up (member-caught-up)",
			Params: map[string]string{
				"service":  "the mongo service",
				"name":     "the new member's node name",
				"zone":     "zone to place it in",
				"priority": "its priority (default 1)",
				"source":   "initial-sync (default: clone the data from the primary) or backup (restore the last backup of a member's data, then catch up from the oplog; a full initial sync if the oplog no longer covers the gap)",
			},
			Required: []string{"name", "zone"},
		},
		{
			Name:        ActionMongoStepDown,
			Description: "ask the current primary to step down",
			Params:      map[string]string{"service": "the mongo service"},
		},
		{
			Name:        ActionMongoSetWriteConcern,
			Description: "redeploy the clients with another write concern (e.g. majority once a multi-region mode can no longer be met)",
			Params: map[string]string{
				"service":       "the mongo service",
				"write_concern": "\"1\", \"majority\", a member count, or a write mode of the topology",
			},
			Required: []string{"write_concern"},
		},
		{
			Name:        ActionMongoReconfigMember,
			Description: "change one member's votes and/or priority with rs.reconfig on the primary (not forced), e.g. votes 0 and priority 0 for the unavailable secondary of a primary-secondary-arbiter set (MongoDB's PSA workaround); done once a majority of the voting members have the new config",
			Params: map[string]string{
				"service":  "the mongo service",
				"member":   "the member to change",
				"votes":    "its new votes, 0 or 1 (default: unchanged)",
				"priority": "its new priority, 0 to 1000 (default: unchanged; a non-voting member must have 0)",
			},
			Required: []string{"member"},
		},
		{
			Name:        ActionMongoResyncMember,
			Description: "wipe a member that is too stale to catch up (RS102, stuck in RECOVERING) and sync it again; done when its initial sync finished, then reported until it is caught up",
			Params: map[string]string{
				"service": "the mongo service",
				"member":  "the member to resync",
				"source":  "initial-sync (default) or backup (restore the last backup of a member's data, then catch up from the oplog)",
			},
			Required: []string{"member"},
		},
		{
			Name:        ActionLogsRestoreSnapshot,
			Description: "create a new Elasticsearch cluster in `region` and restore the newest complete snapshot found in that region's bucket (or the newest at all with `partial`); the log tier then writes to it",
			Params: map[string]string{
				"service": "the elasticsearch service",
				"region":  "region to build the new cluster in",
				"nodes":   "number of nodes of the new cluster (default: as many as the old one)",
				"partial": "\"true\" to allow restoring a PARTIAL snapshot, its failed shards recreated empty (default false: PARTIAL snapshots are skipped, as Elasticsearch refuses them)",
			},
			Required: []string{"region"},
		},
		{
			Name:        ActionArtifactsFailover,
			Description: "point the artifact clients at the bucket in `region`",
			Params: map[string]string{
				"service": "the s3 service",
				"region":  "region whose endpoint clients use from now on",
			},
			Required: []string{"region"},
		},
	}, artifactActions()...)
}

// Platform is one environment a scenario runs on: the embedded simulator
// ("sim") or real containers ("containers").
type Platform interface {
	Name() string
	// Start brings the topology up and waits until every service is ready.
	// Scenario time 0 is the end of Start.
	Start(ctx context.Context) error
	Loop() Loop
	// Client returns the workload client of a service.
	Client(service string) (Client, error)
	Faults() Faults
	// Role resolves a role selector such as "mongo:primary" or
	// "logs:master" to the node(s) that hold it now.
	Role(role string) ([]string, error)
	// StartAction begins a runbook action. An error means it could not
	// start; otherwise done is told when it ends.
	StartAction(ctx context.Context, a Action, done ActionDone) error
	// Reader makes the reader of a read workload (see ReadConfig); it is
	// called after Start. A service that cannot be read (only mongo
	// services can) gives an error wrapping ErrUnknownService.
	Reader(cfg ReadConfig, done ReadCompletions) (Reader, error)
	// Close releases everything Start created. It is safe to call more than
	// once and after a failed Start.
	Close() error
}

// ImageReporter is a Platform that runs container images. RanImages names
// the image each service kind it started ran (kind -> image reference), for
// the report; the runner asks after Start.
type ImageReporter interface {
	RanImages() map[string]string
}

// Parameter documents one model parameter: a number every model uses
// (a timeout, an interval, a latency), its default and where that default
// comes from. Scenarios override them by name under `parameters:`.
//
// Every value is checked before a run (see [Parameter.Check]): Kind says its
// form, and Min and Max, when set, narrow the kind's default range.
type Parameter struct {
	Name        string `json:"name"`
	Default     string `json:"default"`
	Description string `json:"description"`
	Source      string `json:"source"` // documentation URL
	// Kind is the form of its values: ParamDuration, ParamInt, ParamFloat
	// or ParamBool. Empty: the form of Default.
	Kind string `json:"kind,omitempty"`
	// Min and Max bound its values, inclusive, written in its form ("1ms",
	// "1", "0.5"). Empty: the bound of the kind's default range.
	Min string `json:"min,omitempty"`
	Max string `json:"max,omitempty"`
	// Step, for a duration, is the resolution its values must be whole
	// multiples of ("1ms" for a setting the server takes in integer
	// milliseconds). Empty: any.
	Step string `json:"step,omitempty"`
}

// Errors shared by platforms; callers compare with errors.Is.
var (
	ErrUnknownNode    = errors.New("platform: unknown node")
	ErrUnknownService = errors.New("platform: unknown service")
	ErrUnknownRole    = errors.New("platform: unknown role")
	ErrUnknownAction  = errors.New("platform: unknown runbook action")
	// ErrEnvironment wraps failures of the environment (Docker down, image
	// missing, a server that never came up): exit code 3.
	ErrEnvironment = errors.New("platform: environment failure")
)
