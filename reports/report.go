package reports

import (
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/scenarios"
)

// Schema names the layout of report.json. It changes when a field changes
// meaning or goes away; new fields keep it.
const Schema = "chaosdrill.report/v1"

// Verdicts.
const (
	VerdictPass = "pass"
	VerdictFail = "fail"
)

// lostWritesListed bounds the lost writes listed by id in a report; the count
// is always complete.
const lostWritesListed = 100

// FaultRecord is one fault as the runner injected it. Nodes are the nodes it
// actually hit; HealedAt is nil when it was never healed.
type FaultRecord struct {
	Name, Kind, Target string
	Nodes              []string
	At                 time.Duration
	HealedAt           *time.Duration
	Error              string
}

// StepRecord is one runbook step as the runner carried it out. DoneAt is nil
// when the step never finished.
type StepRecord struct {
	Name, Action string
	StartedAt    time.Duration
	DoneAt       *time.Duration
	Error        string
}

// Run is everything a finished run produced: what was asked (scenario,
// expectations), what happened (faults, steps, events) and the history of
// writes (Ledger). Build turns it into a Report.
type Run struct {
	Scenario, Description, Platform string
	Seed                            uint64
	Duration                        time.Duration
	Topology                        *platform.Topology // nil: every service is measured from the first fault
	Ledger                          *Ledger
	Faults                          []FaultRecord
	Steps                           []StepRecord
	Events                          []platform.Event
	Expect                          []scenarios.Expectation
}

// Report is the outcome of a run as written to report.json. Times are
// seconds of scenario time, rounded to the microsecond; a nil pointer is a
// time that never came (written as null).
type Report struct {
	Schema          string                    `json:"schema"`
	Scenario        string                    `json:"scenario"`
	Description     string                    `json:"description"`
	Platform        string                    `json:"platform"`
	Seed            uint64                    `json:"seed"`
	Verdict         string                    `json:"verdict"`
	DurationSeconds float64                   `json:"duration_seconds"`
	Topology        *TopologyReport           `json:"topology"`
	Services        map[string]*ServiceReport `json:"services"`
	Faults          []FaultReport             `json:"faults"`
	Runbook         []StepReport              `json:"runbook"`
	Events          []EventReport             `json:"events"`
	Expectations    []ExpectationResult       `json:"expectations"`
}

// TopologyReport names the topology and where each node ran, so that a
// report can say which region a lagging member was in.
type TopologyReport struct {
	Name  string       `json:"name"`
	Nodes []NodeReport `json:"nodes"`
}

// NodeReport is one node of the topology.
type NodeReport struct {
	Name    string `json:"name"`
	Service string `json:"service"`
	Region  string `json:"region"`
	Zone    string `json:"zone,omitempty"`
}

// ServiceReport is what happened to one service's writes.
//
// Lost writes are a subset of Acked, and UnknownPresent a subset of Unknown.
// Writes still pending when the run ended count as Unknown.
type ServiceReport struct {
	Acked          int64 `json:"acked"`
	Failed         int64 `json:"failed"`
	Unknown        int64 `json:"unknown"`
	UnknownPresent int64 `json:"unknown_present"`
	Lost           int64 `json:"lost"`
	// LostAfterFault counts lost writes acknowledged after the reference
	// fault (e.g. by a cut-off primary under w:1); they do not widen the RPO.
	LostAfterFault int64 `json:"lost_after_fault"`

	// Fault is the reference fault the service is measured from, FaultAt
	// its time; empty and null when the run had no fault.
	Fault   string   `json:"fault"`
	FaultAt *float64 `json:"fault_at_seconds"`
	// OutageStart is the invocation of the first write after the fault that
	// was not acknowledged; null when the fault did not affect the service.
	OutageStart *float64 `json:"outage_start_seconds"`
	// RTO is null when writes never came back before the end of the run.
	RTO *float64 `json:"rto_seconds"`
	RPO float64  `json:"rpo_seconds"`
	// Redundancy is the time from the fault to the service's first
	// redundancy-restored event after it.
	Redundancy *float64 `json:"redundancy_seconds"`

	WriteLatency Latency     `json:"write_latency_ms"`
	LostWrites   []LostWrite `json:"lost_writes"`
	// LastSyncAge is the age, at the fault, of the last sync-completed or
	// snapshot-completed event of the service before it.
	LastSyncAge *float64 `json:"last_sync_age_seconds"`
	// ReplicationLag is each member's lag behind the primary of the moment
	// at the fault (0 for that primary), from the replication-lag events
	// within 2 s of it; ReplicationLagUnmeasured names the data-bearing
	// members of the topology with no such sample (down or syncing then).
	ReplicationLag           map[string]float64 `json:"replication_lag_seconds"`
	ReplicationLagUnmeasured []string           `json:"replication_lag_unmeasured"`

	Timeline Timeline `json:"timeline"`
}

// Latency gives percentiles of acknowledged write latency in milliseconds.
// Percentiles come from an HDR histogram at 3 significant digits (within
// 0.1% of the exact value); Max is exact.
type Latency struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// LostWrite is one acknowledged write that the read-back did not find.
type LostWrite struct {
	Op      uint64  `json:"op"`
	AckedAt float64 `json:"acked_at_seconds"`
}

// Timeline counts the service's writes by outcome, bucketed by invocation
// time: bucket i covers [i*BucketSeconds, (i+1)*BucketSeconds). Acked
// excludes the lost writes, which are counted in Lost, so the four series
// add up to every write issued.
type Timeline struct {
	BucketSeconds float64 `json:"bucket_seconds"`
	Acked         []int64 `json:"acked"`
	Lost          []int64 `json:"lost"`
	Failed        []int64 `json:"failed"`
	Unknown       []int64 `json:"unknown"`
}

// FaultReport is one injected fault.
type FaultReport struct {
	Name     string   `json:"name"`
	Kind     string   `json:"kind"`
	Target   string   `json:"target"`
	Nodes    []string `json:"nodes"`
	At       float64  `json:"at_seconds"`
	HealedAt *float64 `json:"healed_at_seconds"`
	Error    string   `json:"error,omitempty"`
}

// StepReport is one runbook step.
type StepReport struct {
	Name      string   `json:"name"`
	Action    string   `json:"action"`
	StartedAt float64  `json:"started_at_seconds"`
	DoneAt    *float64 `json:"done_at_seconds"`
	Error     string   `json:"error,omitempty"`
}

// EventReport is one platform event.
type EventReport struct {
	At      float64 `json:"at_seconds"`
	Service string  `json:"service"`
	What    string  `json:"what"`
	Node    string  `json:"node"`
	Detail  string  `json:"detail"`
}

// ExpectationResult is one checked bound of a scenario's expect section.
type ExpectationResult struct {
	Name     string `json:"name"`
	Service  string `json:"service"`
	Pass     bool   `json:"pass"`
	Observed string `json:"observed"`
}

// Passed reports whether every expectation held.
func (r *Report) Passed() bool { return r.Verdict == VerdictPass }

// ServiceNames lists the report's services in name order, the order every
// rendering uses.
func (r *Report) ServiceNames() []string {
	names := make([]string, 0, len(r.Services))
	for name := range r.Services {
		names = append(names, name)
	}
	sortStrings(names)
	return names
}

// seconds rounds to the microsecond so that report.json does not depend on
// float noise below what any clock here measures.
func seconds(d time.Duration) float64 {
	return float64(d.Round(time.Microsecond)/time.Microsecond) / 1e6
}

func secondsPointer(d time.Duration) *float64 {
	s := seconds(d)
	return &s
}

// milliseconds rounds to the microsecond as seconds does.
func milliseconds(d time.Duration) float64 {
	return float64(d.Round(time.Microsecond)/time.Microsecond) / 1e3
}

// duration turns report seconds back into a duration for display.
func duration(s float64) time.Duration {
	return time.Duration(s*1e6+0.5*sign(s)) * time.Microsecond
}

func sign(x float64) float64 {
	if x < 0 {
		return -1
	}
	return 1
}
