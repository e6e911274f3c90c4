package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/scenarios"
)

// Schema names the layout of report.json. It changes when a field changes
// meaning or goes away; new fields keep it. v2: the verdict has the values
// of [Verdicts] (v1 had pass and fail only); faults and runbook list every
// fault and step of the file, with a status, and a null time for one that
// never happened.
const Schema = "chaosdrill.report/v2"

// Verdicts, and the result of each check, from the worst down. A report's
// verdict is the worst result of its checks, or error.
//
//   - error: the run could not complete (the environment failed: Docker down,
//     an image missing, a server that never came up); there is nothing to
//     judge. Exit code 3.
//   - fail: an expectation was measured and missed, or a runbook step failed:
//     a finding about the platform. Exit code 1.
//   - not-rehearsed: a fault, heal or runbook step of the file did not happen
//     as written (never triggered, triggered after the end, could not be
//     injected, a node that never came back), so the run did not rehearse
//     what the file says; the expectations of a service it concerns are
//     not-rehearsed too. Exit code 1.
//   - unverified: a check could not be made: the read-back of a service
//     failed, or a service acknowledged no write to check. Exit code 1.
//   - pass: everything the file schedules happened, and every check was
//     made and held. Exit code 0.
//
// fail ranks above not-rehearsed because a missed bound is a finding even
// when another part of the file did not happen; the report lists both.
const (
	VerdictError        = "error"
	VerdictFail         = "fail"
	VerdictNotRehearsed = "not-rehearsed"
	VerdictUnverified   = "unverified"
	VerdictPass         = "pass"
)

// Verdicts lists the verdicts from the worst down.
var Verdicts = []string{VerdictError, VerdictFail, VerdictNotRehearsed, VerdictUnverified, VerdictPass}

// worse returns the worse of two verdicts or results.
func worse(a, b string) string {
	for _, v := range Verdicts {
		if a == v || b == v {
			return v
		}
	}
	return a
}

// Statuses of a fault or runbook step in report.json.
const (
	StatusRehearsed    = "rehearsed"     // fault: injected, and healed if the file heals it
	StatusDone         = "done"          // step: finished
	StatusFailed       = "failed"        // step: gave up or could not start
	StatusNotRehearsed = "not-rehearsed" // did not happen as the file says; Reason says why
	StatusSkipped      = "skipped"       // optional step whose event never came: not needed
)

// Phases of a run, named by an error report.
const (
	PhasePreflight = "preflight" // checks before anything starts (Docker reachable)
	PhaseBringUp   = "bring-up"  // building and starting the platform
	PhaseRun       = "run"       // the scenario itself
	PhaseReadBack  = "read-back" // reading every write back
	PhaseTearDown  = "tear-down" // removing what the run created
)

// lostWritesListed bounds the lost writes listed by id in a report; the count
// is always complete.
const lostWritesListed = 100

// FaultRecord is one fault of the scenario file and what became of it.
// Services are the services whose nodes the file aims it at (known before
// it fires); Nodes are the nodes it hit. At is its time when Injected.
// HealedAt is nil when it was never healed; a restart is healed when its
// nodes are back up. NotRehearsed says why the fault, or its heal, did not
// happen as the file says ("" when it did); Error is the error of an
// injection or heal that failed.
type FaultRecord struct {
	Name, Kind, Target string
	Services           []string
	Nodes              []string
	Injected           bool
	At                 time.Duration
	HealedAt           *time.Duration
	Error              string
	NotRehearsed       string
}

// StepRecord is one runbook step of the scenario file and what became of
// it. Service is the service it acts on; Member the member a
// mongo.add-member step adds. DoneAt is nil when the step never finished;
// Error is set when it failed (then DoneAt is when it gave up).
// NotRehearsed says why it did not happen as the file says; Skipped why an
// optional step was not needed.
type StepRecord struct {
	Name, Action, Service string
	Member                string
	Started               bool
	StartedAt             time.Duration
	DoneAt                *time.Duration
	Error                 string
	NotRehearsed          string
	Skipped               string
	// Rehearsal is how the step went in a rehearsal; nil in a run.
	Rehearsal *StepRehearsal
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
	// ReadBackErrors holds, by service, why its read-back failed; the
	// Present flags of its writes then mean nothing.
	ReadBackErrors map[string]string
	// Sampled holds every value the run drew from its seed, by what it
	// was drawn for (see Report.Sampled).
	Sampled map[string]string
	// Overrides are the model parameters and fields the run did not take
	// from the defaults (see Report.Overrides).
	Overrides []Override

	// Images are the container images the run started, by service kind
	// (mongo, elasticsearch, s3); nil on the simulator.
	Images map[string]string
	// VersionSkews and Upgrades are what the roles.* steps did, from a
	// platform that carries them out (platform.RoleHistory).
	VersionSkews []platform.VersionSkew
	Upgrades     []platform.Upgrade

	// Rehearsal is set when an engineer performed the runbook
	// (`chaosdrill rehearse`); nil in a run.
	Rehearsal *RehearsalRun
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
	// Sampled is every value the run drew from its seed where the file
	// gives a distribution or a window, keyed by what it was drawn for:
	// faults.NAME.at, runbook.NAME.at, runbook.NAME.operator_delay,
	// parameters.NAME, workloads.SERVICE.bursts.start, and the
	// simulator's link latencies (latency.NODE|NODE,
	// latency.client@REGION|NODE). Values are durations or numbers as the
	// file writes them. Empty when nothing was drawn; null in an error
	// report.
	Sampled map[string]string `json:"sampled"`
	// Overrides lists, in name order, what the run changed from the
	// defaults: each model parameter the file sets under `parameters:`
	// (source "file") and each field run --set NAME=VALUE changed (source
	// "--set"; it wins over the file). Empty when nothing was overridden;
	// absent from a report written before it was recorded.
	Overrides []Override `json:"overrides"`
	// VersionSkew lists the roles rebuilt on an older version of a key
	// than the newest published; Upgrades the rolling upgrades and their
	// mixed-version windows (reports/roles.go).
	VersionSkew []VersionSkewReport `json:"version_skew"`
	Upgrades    []UpgradeReport     `json:"upgrades"`
	// Error says what failed when the verdict is error; null otherwise.
	Error *RunError `json:"error"`

	// Images are the container images a live run started, by service
	// kind (mongo, elasticsearch, s3); absent on the simulator.
	Images map[string]string `json:"images,omitempty"`

	// Rehearsal is how the engineer who performed the runbook did
	// (`chaosdrill rehearse`); absent from a run's report.
	Rehearsal *RehearsalReport `json:"rehearsal,omitempty"`
}

// RunError is why a run could not complete: the phase it stopped in and
// the error.
type RunError struct {
	Phase   string `json:"phase"`
	Message string `json:"message"`
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
	// RTO is the length of the longest outage window that did not end
	// before the fault, counted from the fault if it began before (the
	// package documentation defines outage windows, under Measures): 0
	// when there is none, null when that window is still open at the end of
	// the run. OutageStart is when it started (the invocation of its first
	// write, or the fault); null when there is none.
	OutageStart *float64 `json:"outage_start_seconds"`
	RTO         *float64 `json:"rto_seconds"`
	RPO         float64  `json:"rpo_seconds"`
	// OutageWindows lists the service's longest outage windows over the
	// whole run (at most 100), in time order; OutageWindowsTotal counts
	// them all, and UnavailableSeconds adds up their lengths (an open one
	// up to the end of the run).
	OutageWindows      []OutageWindow `json:"outage_windows"`
	OutageWindowsTotal int64          `json:"outage_windows_total"`
	UnavailableSeconds float64        `json:"unavailable_seconds"`
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
	// MembersCaughtUp is, for each member a runbook step added that caught
	// up (member-caught-up), the time from its step's start.
	MembersCaughtUp map[string]float64 `json:"members_caught_up_seconds"`

	// ReadBack is "complete" when every write was looked up after recovery,
	// "failed" when the read-back could not run (ReadBackError says why):
	// Lost, LostAfterFault, UnknownPresent, RPO and LostWrites are then not
	// measured: zero here, null in report.json (see MarshalJSON), "not
	// measured (read-back failed)" wherever they are written, and the
	// service's checks are unverified. The RTO then rests on the
	// acknowledgements alone (no write is known to be lost).
	ReadBack      string `json:"read_back"`
	ReadBackError string `json:"read_back_error,omitempty"`

	Timeline Timeline `json:"timeline"`

	// Reads classifies the reads of the service's read workload; null when
	// it has none.
	Reads *ReadsReport `json:"reads"`
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

// FaultReport is one fault of the scenario file: Status rehearsed or
// not-rehearsed (Reason says why). At is null for a fault that was never
// injected.
type FaultReport struct {
	Name     string   `json:"name"`
	Kind     string   `json:"kind"`
	Target   string   `json:"target"`
	Nodes    []string `json:"nodes"`
	Status   string   `json:"status"`
	At       *float64 `json:"at_seconds"`
	HealedAt *float64 `json:"healed_at_seconds"`
	Reason   string   `json:"reason,omitempty"`
	Error    string   `json:"error,omitempty"`
}

// StepReport is one runbook step of the scenario file: Status done, failed,
// not-rehearsed or skipped (Reason says why for the last two). StartedAt
// is null for a step that never started.
type StepReport struct {
	Name      string   `json:"name"`
	Action    string   `json:"action"`
	Service   string   `json:"service"`
	Status    string   `json:"status"`
	StartedAt *float64 `json:"started_at_seconds"`
	DoneAt    *float64 `json:"done_at_seconds"`
	Reason    string   `json:"reason,omitempty"`
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

// ExpectationResult is one check of the run: a bound of the scenario's
// expect section (Baseline when the loader added it), or a fault, heal,
// runbook step or read-back that did not happen as the file says. Result is
// pass, fail, not-rehearsed or unverified (see [Verdicts]); Pass is Result
// == pass. Service is empty for a check of the schedule.
type ExpectationResult struct {
	Name     string `json:"name"`
	Service  string `json:"service"`
	Result   string `json:"result"`
	Pass     bool   `json:"pass"`
	Observed string `json:"observed"`
	Baseline bool   `json:"baseline"`
}

// Passed reports whether the verdict is pass: everything rehearsed, every
// check made and held.
func (r *Report) Passed() bool { return r.Verdict == VerdictPass }

// ExitCode is the process exit code of a verdict: 0 pass, 3 error, 1 any
// other.
func ExitCode(verdict string) int {
	switch verdict {
	case VerdictPass:
		return 0
	case VerdictError:
		return 3
	default:
		return 1
	}
}

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

// MarshalJSON writes a service's report; when its read-back failed, every
// figure that rests on the read-back (unknown_present, lost,
// lost_after_fault, rpo_seconds, lost_writes) is null: not measured, not 0.
func (s ServiceReport) MarshalJSON() ([]byte, error) {
	type plain ServiceReport
	var v any = plain(s)
	if s.ReadBack == ReadBackFailed {
		v = struct {
			plain
			UnknownPresent *int64                   `json:"unknown_present"`
			Lost           *int64                   `json:"lost"`
			LostAfterFault *int64                   `json:"lost_after_fault"`
			RPO            *float64                 `json:"rpo_seconds"`
			LostWrites     []LostWrite              `json:"lost_writes"`
			OutageWindows  []unverifiedOutageWindow `json:"outage_windows"`
		}{plain: plain(s), OutageWindows: unverifiedWindows(s.OutageWindows)}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSpace(b.Bytes()), nil
}

// unverifiedOutageWindow is an OutageWindow of a service whose read-back
// failed: how many of its acknowledged writes were lost was not measured.
type unverifiedOutageWindow struct {
	OutageWindow
	Lost *int64 `json:"writes_lost"`
}

func unverifiedWindows(ws []OutageWindow) []unverifiedOutageWindow {
	if ws == nil {
		return nil
	}
	out := make([]unverifiedOutageWindow, len(ws))
	for i, w := range ws {
		out[i].OutageWindow = w
	}
	return out
}

// UnmarshalJSON reads what MarshalJSON writes, and refuses a figure that
// depends on the read-back written as null while the read-back is not
// "failed": json would read that null as 0 lost, a measurement nobody made.
func (s *ServiceReport) UnmarshalJSON(b []byte) error {
	type plain ServiceReport
	if err := json.Unmarshal(b, (*plain)(s)); err != nil {
		return err
	}
	if s.ReadBack == ReadBackFailed {
		return nil
	}
	var measured map[string]json.RawMessage
	if err := json.Unmarshal(b, &measured); err != nil {
		return err
	}
	for _, field := range []string{"unknown_present", "lost", "lost_after_fault", "rpo_seconds"} {
		if raw, ok := measured[field]; ok && string(raw) == "null" {
			return fmt.Errorf("%s is null, but read_back is %q: a figure of a read-back that was made is a number", field, s.ReadBack)
		}
	}
	return nil
}

// Sources of an override.
const (
	OverrideFile = "file"
	OverrideSet  = "--set"
)

// Override is one model parameter or scenario field a run did not take
// from the defaults: its name, its value as written (a distribution as
// the file writes it) and where it came from (OverrideFile, OverrideSet).
type Override struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Source string `json:"source"`
}

// OverridesText writes overrides as one line: "mongo.election_timeout=5s
// (file), workload.mongo.write_concern=multiRegion (--set)"; "none" when
// there are none.
func OverridesText(overrides []Override) string {
	if len(overrides) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(overrides))
	for _, o := range overrides {
		parts = append(parts, o.Name+"="+o.Value+" ("+o.Source+")")
	}
	return strings.Join(parts, ", ")
}

// OverridesDiffer says how two reports' overrides differ ("" when they
// are the same): a comparison of runs that changed different knobs
// compares different experiments.
func OverridesDiffer(base, new *Report) string {
	a, b := OverridesText(base.Overrides), OverridesText(new.Overrides)
	if a == b {
		return ""
	}
	return fmt.Sprintf("%s: the runs overrode different parameters (base: %s; new: %s), so they are different experiments", new.Scenario, a, b)
}
