package scenarios

import "github.com/chaosdrill/chaosdrill/platform"

// Scenario is one scenario file: where it runs (Topology), what traffic goes
// through it (Workloads), what breaks and when (Faults), how operators
// recover (Runbook), and what must hold at the end (Expect).
type Scenario struct {
	Name        string            `yaml:"name" json:"name"`
	Description string            `yaml:"description" json:"description"`
	Topology    TopologyRef       `yaml:"topology" json:"topology"`
	Duration    platform.Duration `yaml:"duration" json:"duration"`
	// Parameters override model parameters by name (see `chaosdrill list
	// --parameters`), e.g. mongo.election_timeout: 5s, or draw them once
	// per run from a distribution, e.g. {min: 10s, max: 12s}.
	Parameters map[string]ParameterValue `yaml:"parameters,omitempty" json:"parameters,omitempty"`
	Workloads  []Workload                `yaml:"workloads" json:"workloads"`
	Faults     []Fault                   `yaml:"faults,omitempty" json:"faults,omitempty"`
	Runbook    []Step                    `yaml:"runbook,omitempty" json:"runbook,omitempty"`
	Expect     []Expectation             `yaml:"expect,omitempty" json:"expect,omitempty"`
	// BaselineExpectations false opts out of the baseline expectations
	// (see [Baseline]) that every service with a workload and no expectation
	// of its own otherwise gets. A file that opts out must then state at
	// least one expectation itself. Nil (the field left out) means true.
	BaselineExpectations *bool `yaml:"baseline_expectations,omitempty" json:"baseline_expectations,omitempty"`
	// Sweep holds what a sweep over many seeds must show (its gates).
	Sweep *SweepSettings `yaml:"sweep,omitempty" json:"sweep,omitempty"`

	// Images overrides the live platform's container image per service
	// kind (mongo, elasticsearch, s3), e.g. mongo: registry.example/mongo:8.0.
	// The simulator ignores it.
	Images map[string]string `yaml:"images,omitempty" json:"images,omitempty"`

	// Path is the file the scenario was loaded from (not part of the file).
	Path string `yaml:"-" json:"-"`
}

// TopologyRef is either the name of a built-in topology (`topology: ion`) or
// a topology written inline. Resolved holds the result after loading.
type TopologyRef struct {
	Builtin  string             `yaml:"-" json:"-"`
	Inline   *platform.Topology `yaml:"-" json:"-"`
	Resolved *platform.Topology `yaml:"-" json:"-"`
}

// Workload drives one service at a mean rate of writes, or of reads (Op
// read), arriving as a Poisson process (the default) or evenly spaced,
// optionally in bursts. A service has at most one write workload and one
// read workload; a read workload needs a write workload on its service,
// since its reads are checked against those writes.
type Workload struct {
	Service string `yaml:"service" json:"service"`
	// Op is "write" (the default) or "read" (mongo services only).
	Op   string  `yaml:"op,omitempty" json:"op,omitempty"`
	Rate float64 `yaml:"rate" json:"rate"` // operations per second, > 0
	// Arrival is how operations arrive: ArrivalPoisson (the default) or
	// ArrivalConstant.
	Arrival string `yaml:"arrival,omitempty" json:"arrival,omitempty"`
	// Bursts, if set, change the rate periodically.
	Bursts *Bursts `yaml:"bursts,omitempty" json:"bursts,omitempty"`
	// WriteConcern (mongo writes only): "1", "majority", a member count,
	// or a write mode of the topology. Default "majority".
	WriteConcern string `yaml:"write_concern,omitempty" json:"write_concern,omitempty"`
	// ReadPreference (reads only): primary (the default),
	// primaryPreferred, secondary, secondaryPreferred or nearest.
	ReadPreference string `yaml:"read_preference,omitempty" json:"read_preference,omitempty"`
	// ReadPreferenceTags (reads with a preference other than primary): tag
	// sets tried in order; the first that an eligible member matches
	// selects among those members, and an empty set matches any.
	ReadPreferenceTags []map[string]string `yaml:"read_preference_tags,omitempty" json:"read_preference_tags,omitempty"`
	// ReadConcern (reads only): local (the default), majority, or
	// linearizable (with read_preference primary only).
	ReadConcern string `yaml:"read_concern,omitempty" json:"read_concern,omitempty"`
	// Timeout after which an unanswered operation counts as unknown.
	// Default 10s.
	Timeout platform.Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
}

// Workload operations.
const (
	OpWrite = "write"
	OpRead  = "read"
)

// Reads reports whether the workload reads.
func (w Workload) Reads() bool { return w.Op == OpRead }

// Fault kinds.
const (
	FaultKill      = "kill"
	FaultStop      = "stop"
	FaultPause     = "pause"
	FaultRestart   = "restart" // stop then start at once (a rolling-restart step)
	FaultPartition = "partition"
	FaultLatency   = "latency"
	// Disk faults on a node's data volume (the seed's EBS lesson): slowed
	// (latency and/or throughput_mb), failing with I/O errors, or full.
	FaultDiskSlow  = "disk-slow"
	FaultDiskError = "disk-error"
	FaultDiskFull  = "disk-full"
)

// FaultKinds lists the fault kinds in the order `chaosdrill list` shows them.
var FaultKinds = []string{FaultKill, FaultStop, FaultPause, FaultRestart, FaultPartition, FaultLatency, FaultDiskSlow, FaultDiskError, FaultDiskFull}

// Fault is one scheduled fault. It fires at a time (At) or after another
// fault or runbook step, or a platform event (After / AfterEvent, plus
// Delay). With both After and AfterEvent it fires on the first such event
// once the named fault or step has happened; AfterEvent alone counts the
// first one since the scenario started. It heals after Heal if set (not for
// restart).
type Fault struct {
	Name string `yaml:"name,omitempty" json:"name,omitempty"`
	Kind string `yaml:"kind" json:"kind"`
	// Target selects nodes: "node:NAME", "az:ZONE", "region:REGION",
	// "role:SERVICE:ROLE" (e.g. role:mongo:primary), "service:NAME".
	// Not used by partition.
	Target string `yaml:"target,omitempty" json:"target,omitempty"`
	// Between is the two sides of a partition, each a selector as above.
	Between []string `yaml:"between,omitempty" json:"between,omitempty"`
	// Latency is the extra one-way latency added by a latency fault, or
	// the latency added to every I/O by a disk-slow fault.
	Latency platform.Duration `yaml:"latency,omitempty" json:"latency,omitempty"`
	// ThroughputMB caps a disk-slow fault's volume at this many MB/s
	// (0: no cap).
	ThroughputMB float64 `yaml:"throughput_mb,omitempty" json:"throughput_mb,omitempty"`

	// At is a fixed time or a window each run draws its time from.
	At         *Time             `yaml:"at,omitempty" json:"at,omitempty"`
	After      string            `yaml:"after,omitempty" json:"after,omitempty"`             // name of a fault or runbook step
	AfterEvent string            `yaml:"after_event,omitempty" json:"after_event,omitempty"` // "service:what", e.g. mongo:primary-elected
	Delay      platform.Duration `yaml:"delay,omitempty" json:"delay,omitempty"`
	Heal       platform.Duration `yaml:"heal,omitempty" json:"heal,omitempty"` // heal this long after injecting; 0 = never
}

// Step is one runbook step: a named recovery action an operator carries out
// OperatorDelay after its trigger (a time, a fault or step, or an event).
// The delay is fixed or a distribution each run draws from (how long a
// person takes to notice, decide and act varies).
//
// A step the run never starts makes the run "not rehearsed", unless it is
// Optional: a step that answers a condition which may not arise (rebuild
// the cluster if it went red) and so has an after_event trigger. An optional
// step whose event never comes is reported as not needed; one whose event
// comes too late to start before the end is still not rehearsed.
type Step struct {
	Name          string                `yaml:"name" json:"name"`
	Action        string                `yaml:"action" json:"action"`
	Params        map[string]string     `yaml:"params,omitempty" json:"params,omitempty"`
	At            *Time                 `yaml:"at,omitempty" json:"at,omitempty"`
	After         string                `yaml:"after,omitempty" json:"after,omitempty"`
	AfterEvent    string                `yaml:"after_event,omitempty" json:"after_event,omitempty"`
	OperatorDelay platform.Distribution `yaml:"operator_delay,omitempty" json:"operator_delay,omitempty"`
	Optional      bool                  `yaml:"optional,omitempty" json:"optional,omitempty"`
}

// Service is the name of the service the step acts on: its `service`
// parameter, else the topology's only service of the kind the action works
// on ("" when neither says; the loader refuses such a step).
func (st Step) Service(t *platform.Topology) string {
	if name := st.Params["service"]; name != "" {
		return name
	}
	kind, ok := actionServiceKind[st.Action]
	if !ok || t == nil {
		return ""
	}
	name := ""
	for _, s := range t.Services {
		if s.Kind == kind {
			if name != "" {
				return ""
			}
			name = s.Name
		}
	}
	return name
}

// Expectation is a bound the run must meet for one service. Nil fields are
// not checked.
type Expectation struct {
	Service    string             `yaml:"service" json:"service"`
	LostWrites *int               `yaml:"lost_writes_max,omitempty" json:"lost_writes_max,omitempty"`
	MinLost    *int               `yaml:"lost_writes_min,omitempty" json:"lost_writes_min,omitempty"` // for scenarios that demonstrate loss
	RTOMax     *platform.Duration `yaml:"rto_max,omitempty" json:"rto_max,omitempty"`
	RTOMin     *platform.Duration `yaml:"rto_min,omitempty" json:"rto_min,omitempty"`
	RPOMax     *platform.Duration `yaml:"rpo_max,omitempty" json:"rpo_max,omitempty"`
	// Recovers requires the service to take writes again before the end.
	Recovers *bool `yaml:"recovers,omitempty" json:"recovers,omitempty"`
	// RedundancyMax bounds the time from the service's reference fault to
	// its first redundancy-restored event (full redundancy: every copy back).
	RedundancyMax *platform.Duration `yaml:"redundancy_max,omitempty" json:"redundancy_max,omitempty"`
	// LatencyP99Max bounds the 99th percentile of acknowledged write latency
	// over the whole run.
	LatencyP99Max *platform.Duration `yaml:"latency_p99_max,omitempty" json:"latency_p99_max,omitempty"`
	// UnknownMax bounds the writes whose outcome the client never learned
	// (timed out, connection broken, still pending at the end).
	UnknownMax *int `yaml:"unknown_max,omitempty" json:"unknown_max,omitempty"`
	// CaughtUpMax bounds, for every member the runbook adds to this mongo
	// service (mongo.add-member), the time from its step's start to its
	// member-caught-up event.
	CaughtUpMax *platform.Duration `yaml:"caught_up_max,omitempty" json:"caught_up_max,omitempty"`
	// StaleReadsMax and DirtyReadsMax bound the reads of the service's read
	// workload that missed a write acknowledged before they began (stale)
	// or returned a write that did not survive (dirty).
	StaleReadsMax *int `yaml:"stale_reads_max,omitempty" json:"stale_reads_max,omitempty"`
	DirtyReadsMax *int `yaml:"dirty_reads_max,omitempty" json:"dirty_reads_max,omitempty"`

	// Baseline marks an expectation the loader added (see [Baseline]), not
	// one the file states.
	Baseline bool `yaml:"-" json:"baseline,omitempty"`
}

// Baseline returns the baseline expectations of a service with a workload:
// no acknowledged write lost, and writes acknowledged again by the end. The
// loader gives them to every such service the file states no expectation
// for, unless the file sets baseline_expectations: false.
func Baseline(service string) Expectation {
	none, recovers := 0, true
	return Expectation{Service: service, LostWrites: &none, Recovers: &recovers, Baseline: true}
}
