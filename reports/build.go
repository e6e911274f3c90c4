package reports

import (
	"cmp"
	"context"
	"math"
	"math/bits"
	"slices"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/scenarios"
)

// Latency histogram bounds, in microseconds: one microsecond is below any
// write here, an hour above any write timeout; 3 significant digits keep
// percentiles within 0.1%.
const (
	latencyLowestMicros  = 1
	latencyHighestMicros = int64(time.Hour / time.Microsecond)
	latencySignificant   = 3
)

// latencyCounts counts write latencies, in microseconds within the
// histogram's bounds, into the layout of an hdrhistogram's counts for
// those bounds, and hands them over as a Histogram once the pass is done:
// recording into the Histogram a write at a time (two calls, a range
// check and a total) was a third of the report's pass over a long
// history (BenchmarkBuild).
type latencyCounts []int64

// latencySubBuckets is log2 of the histogram's sub-buckets per bucket:
// 3 significant digits need single-unit resolution up to 2,000, so 2,048.
const latencySubBuckets = 11

func newLatencyCounts() latencyCounts {
	return make(latencyCounts, latencyCountsLen())
}

// latencyCountsLen is the length of the histogram's counts, asked of it
// once.
var latencyCountsLen = sync.OnceValue(func() int {
	return len(hdrhistogram.New(latencyLowestMicros, latencyHighestMicros, latencySignificant).Export().Counts)
})

// record counts a latency of micros (0 <= micros <= latencyHighestMicros)
// where the histogram's RecordValue would (countsIndexFor, for a lowest
// value of 1): its bucket is how many bits micros has beyond the
// sub-buckets', and its slot in the bucket its top bits, of which the
// upper half of the sub-buckets holds all but bucket 0's.
func (c latencyCounts) record(micros int64) {
	const half = 1 << (latencySubBuckets - 1)
	bucket := bits.Len64(uint64(micros)|(1<<latencySubBuckets-1)) - latencySubBuckets
	c[(bucket+1)*half+int(micros>>bucket)-half]++
}

// histogram is a Histogram of the latencies counted, which takes c over.
func (c latencyCounts) histogram() *hdrhistogram.Histogram {
	return hdrhistogram.Import(&hdrhistogram.Snapshot{
		LowestTrackableValue:  latencyLowestMicros,
		HighestTrackableValue: latencyHighestMicros,
		SignificantFigures:    latencySignificant,
		Counts:                c,
	})
}

// A service timeline is cut into at most timelineBuckets buckets, of the
// smallest of timelineWidths that keeps within that and holds on average at
// least timelineWritesPerBucket writes: narrower buckets than the spacing of
// writes would draw a comb of empty bars.
const (
	timelineBuckets         = 120
	timelineWritesPerBucket = 2
)

var timelineWidths = []time.Duration{
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour,
}

// serviceTally gathers one service's numbers in the passes over the ledger.
type serviceTally struct {
	name   string
	report *ServiceReport

	hasFault bool
	faultAt  time.Duration
	// verified is false when the service's read-back failed: its Present
	// flags mean nothing, so no write counts as lost or as found.
	verified bool

	outages outages

	hasLost    bool
	oldestLost time.Duration
	newestLost time.Duration
	latency    latencyCounts
	latencyMax time.Duration

	timelineWidth time.Duration
	timelineLen   int
	// bucket is the timeline bucket of the writes invoked in [bucketFrom,
	// bucketUntil): the last one a write fell in, so that a run of writes
	// in one bucket costs no division each.
	bucket                  int
	bucketFrom, bucketUntil time.Duration
}

// timelineBucket is the index of the timeline bucket of a write invoked at
// invoked; times outside the timeline count in its first or last bucket.
func (t *serviceTally) timelineBucket(invoked time.Duration) int {
	if invoked >= t.bucketFrom && invoked < t.bucketUntil {
		return t.bucket
	}
	b := max(min(int(invoked/t.timelineWidth), t.timelineLen-1), 0)
	t.bucket = b
	t.bucketFrom, t.bucketUntil = time.Duration(math.MinInt64), time.Duration(math.MaxInt64)
	if b > 0 {
		t.bucketFrom = time.Duration(b) * t.timelineWidth
	}
	if b < t.timelineLen-1 {
		t.bucketUntil = time.Duration(b+1) * t.timelineWidth
	}
	return b
}

// lagNearFault is how far from the reference fault a replication-lag
// sample may be and still answer "how far behind was it at the fault": the
// simulator measures at the fault itself, the containers platform just
// before injecting it (bounded by its 500 ms status query). A sample taken
// at a later heal, against another primary, answers another question.
const lagNearFault = 2 * time.Second

// Build measures a run: outcome counts, RTO, RPO and redundancy per
// service, and the verdict of each expectation. It reads run and does not
// change it; the same run gives the same report.
func Build(run *Run) *Report {
	report, _ := BuildContext(context.Background(), run)
	return report
}

// BuildContext is Build that stops when ctx ends, returning ctx's error:
// over the ledger of a long run (a simulated week, 10^8 writes) the pass
// takes seconds, and an interrupt must not wait for it. It checks ctx
// every chunk of the ledger.
func BuildContext(ctx context.Context, run *Run) (*Report, error) {
	ledger := run.Ledger
	if ledger == nil {
		ledger = &Ledger{}
	}
	report := &Report{
		Schema:          Schema,
		Scenario:        run.Scenario,
		Description:     run.Description,
		Platform:        run.Platform,
		Images:          run.Images,
		Seed:            run.Seed,
		DurationSeconds: seconds(run.Duration),
		Topology:        topologyReport(run.Topology),
		Services:        make(map[string]*ServiceReport, len(ledger.Services)),
		Faults:          faultReports(run.Faults),
		Runbook:         stepReports(run.Steps),
		Events:          eventReports(run.Events),
		VersionSkew:     versionSkewReports(run.VersionSkews),
		Upgrades:        upgradeReports(run),
		Sampled:         make(map[string]string, len(run.Sampled)),
		Overrides:       append([]Override{}, run.Overrides...),
		Rehearsal:       rehearsalReport(run),
	}
	for k, v := range run.Sampled {
		report.Sampled[k] = v
	}

	span := run.Duration
	if last, ok := ledger.Last(); ok && last >= span {
		span = last + 1
	}
	opsPerService := make([]int64, len(ledger.Services))
	for i := range opsPerService {
		opsPerService[i] = ledger.Issued(uint16(i))
	}

	tallies := make([]*serviceTally, len(ledger.Services))
	for i, name := range ledger.Services {
		t := &serviceTally{
			name: name,
			report: &ServiceReport{
				LostWrites:      []LostWrite{},
				ReplicationLag:  map[string]float64{},
				MembersCaughtUp: map[string]float64{},
				ReadBack:        ReadBackComplete,
			},
			latency:  newLatencyCounts(),
			verified: true,
		}
		if reason, failed := run.ReadBackErrors[name]; failed {
			t.verified = false
			t.report.ReadBack = ReadBackFailed
			t.report.ReadBackError = reason
		}
		width := timelineWidth(span, opsPerService[i])
		t.timelineWidth = width
		// Rounded up without span+width, which overflows for a span near
		// time.Duration's limit.
		t.timelineLen = int(span / width)
		if span%width != 0 {
			t.timelineLen++
		}
		t.report.Timeline = Timeline{
			BucketSeconds: seconds(width),
			Acked:         make([]int64, t.timelineLen),
			Lost:          make([]int64, t.timelineLen),
			Failed:        make([]int64, t.timelineLen),
			Unknown:       make([]int64, t.timelineLen),
		}
		if fault, ok := referenceFault(run.Faults, run.Topology, name); ok {
			t.hasFault = true
			t.faultAt = fault.At
			t.report.Fault = fault.Name
			t.report.FaultAt = secondsPointer(fault.At)
		}
		tallies[i] = t
		report.Services[name] = t.report
	}

	if err := countOutcomes(ctx, ledger, tallies); err != nil {
		return nil, err
	}
	classifyReads(ledger, tallies)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, t := range tallies {
		t.finish(run.Events, run.Steps, span)
		t.report.ReplicationLagUnmeasured = unmeasuredMembers(run.Topology, t.name, t.report.ReplicationLag)
	}

	report.Expectations = checks(run, report.Services)
	report.Verdict = VerdictPass
	for _, e := range report.Expectations {
		report.Verdict = worse(report.Verdict, e.Result)
	}
	return report, nil
}

// Values of ServiceReport.ReadBack.
const (
	ReadBackComplete = "complete"
	ReadBackFailed   = "failed"
)

// BuildError is the report of a run that could not complete: verdict error,
// what failed and in which phase, and whatever the run recorded before
// (faults, steps, events); no service is measured. CI keeps it as the
// run's artifact.
func BuildError(run *Run, phase string, err error) *Report {
	report := &Report{
		Schema:          Schema,
		Scenario:        run.Scenario,
		Description:     run.Description,
		Platform:        run.Platform,
		Images:          run.Images,
		Seed:            run.Seed,
		Verdict:         VerdictError,
		DurationSeconds: seconds(run.Duration),
		Topology:        topologyReport(run.Topology),
		Services:        map[string]*ServiceReport{},
		Faults:          faultReports(run.Faults),
		Runbook:         stepReports(run.Steps),
		Events:          eventReports(run.Events),
		Expectations:    []ExpectationResult{},
		VersionSkew:     versionSkewReports(run.VersionSkews),
		Upgrades:        upgradeReports(run),
		Overrides:       append([]Override{}, run.Overrides...),
	}
	report.MarkError(phase, err)
	return report
}

// MarkError turns a report into an error report: a run measured in full
// whose tear-down then failed is still an environment failure.
func (r *Report) MarkError(phase string, err error) {
	r.Verdict = VerdictError
	r.Error = &RunError{Phase: phase, Message: err.Error()}
}

// countOutcomes is the one pass over the ledger: counts, latency, lost
// writes, the timeline and the outage windows.
func countOutcomes(ctx context.Context, ledger *Ledger, tallies []*serviceTally) error {
	return ledger.eachChunk(func(first uint64, ops []Op, present []uint64) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		for i := range ops {
			countOutcome(first+uint64(i), &ops[i], present[i/64]&(1<<(i%64)) != 0, tallies)
		}
		return nil
	})
}

// countOutcome counts write id, op, in its service's tally; present is
// what the read-back found of it (op.Present is not read).
func countOutcome(id uint64, op *Op, present bool, tallies []*serviceTally) {
	t := tallies[op.Service]
	s := t.report
	bucket := t.timelineBucket(op.Invoked)
	t.outages.issued(op.Invoked, t.hasFault, t.faultAt)
	if op.Outcome == platform.Acked {
		s.Acked++
		latency := op.Completed - op.Invoked
		t.latencyMax = max(t.latencyMax, latency)
		// Clamped into the histogram's range, so recording cannot fail.
		t.latency.record(min(max(int64(latency/time.Microsecond), 0), latencyHighestMicros))
		if present || !t.verified {
			s.Timeline.Acked[bucket]++
			t.outages.served(op.Completed)
			return
		}
		s.Lost++
		s.Timeline.Lost[bucket]++
		if !t.hasLost || op.Completed < t.oldestLost {
			t.oldestLost = op.Completed
		}
		if !t.hasLost || op.Completed > t.newestLost {
			t.newestLost = op.Completed
		}
		t.hasLost = true
		if t.hasFault && op.Completed > t.faultAt {
			s.LostAfterFault++
		}
		// An acknowledgement that did not survive is no service: a
		// cut-off w:1 primary acking into the void is part of the outage.
		t.outages.unserved(op.Invoked, 0, 0, 1)
		if len(s.LostWrites) < lostWritesListed {
			s.LostWrites = append(s.LostWrites, LostWrite{Op: id, AckedAt: seconds(op.Completed)})
		}
		return
	}
	if op.Outcome == platform.Failed {
		s.Failed++
		s.Timeline.Failed[bucket]++
		t.outages.unserved(op.Invoked, 1, 0, 0)
		return
	}
	s.Unknown++
	s.Timeline.Unknown[bucket]++
	if present && t.verified {
		s.UnknownPresent++
	}
	t.outages.unserved(op.Invoked, 0, 1, 0)
}

// finish derives the measures that need the whole ledger or the events;
// runEnd is where an outage still open at the end is counted up to.
func (t *serviceTally) finish(events []platform.Event, steps []StepRecord, runEnd time.Duration) {
	s := t.report
	t.outages.finish(runEnd, t.hasFault, t.faultAt)
	s.OutageWindows = t.outages.report()
	s.OutageWindowsTotal = t.outages.count
	s.UnavailableSeconds = seconds(t.outages.total)
	if s.Acked > 0 {
		// The histogram answers with the top of a value's bucket; no
		// percentile can exceed the exact maximum.
		maxMicros := int64(t.latencyMax.Round(time.Microsecond) / time.Microsecond)
		histogram := t.latency.histogram()
		percentile := func(q float64) float64 {
			return microsToMilliseconds(min(histogram.ValueAtQuantile(q), maxMicros))
		}
		s.WriteLatency = Latency{P50: percentile(50), P90: percentile(90), P99: percentile(99), Max: milliseconds(t.latencyMax)}
	}
	t.latency = nil
	t.caughtUp(events, steps)
	if !t.hasFault {
		// Without a fault there is nothing to recover from or to lose data
		// to; lost writes still count against the expectations.
		zero := 0.0
		s.RTO = &zero
		return
	}
	switch o := t.outages.rto; {
	case !t.outages.hasRTO:
		zero := 0.0
		s.RTO = &zero
	case o.open:
		s.OutageStart = secondsPointer(o.start)
	default:
		s.OutageStart = secondsPointer(o.start)
		s.RTO = secondsPointer(o.length())
	}
	if t.hasLost {
		// The span of acknowledged data lost: up to the fault for data the
		// fault cut off, and on past it for acknowledgements given after it
		// (a cut-off w:1 primary's).
		end := t.newestLost
		if t.hasFault {
			end = max(end, t.faultAt)
		}
		s.RPO = seconds(end - t.oldestLost)
	}

	lastSync := -1
	lagBefore := map[string]platform.Event{}
	lagAfter := map[string]platform.Event{}
	for i, e := range events {
		if e.Service != t.name {
			continue
		}
		switch e.What {
		case platform.EventRedundancyRestored:
			if e.At >= t.faultAt && s.Redundancy == nil {
				s.Redundancy = secondsPointer(e.At - t.faultAt)
			}
		case platform.EventSyncCompleted, platform.EventSnapshotCompleted:
			if e.At <= t.faultAt && (lastSync < 0 || e.At >= events[lastSync].At) {
				lastSync = i
			}
		case platform.EventReplicationLag:
			switch {
			case e.At < t.faultAt-lagNearFault || e.At > t.faultAt+lagNearFault:
			case e.At <= t.faultAt:
				if prior, ok := lagBefore[e.Node]; !ok || e.At >= prior.At {
					lagBefore[e.Node] = e
				}
			default:
				if prior, ok := lagAfter[e.Node]; !ok || e.At < prior.At {
					lagAfter[e.Node] = e
				}
			}
		}
	}
	if lastSync >= 0 {
		s.LastSyncAge = secondsPointer(t.faultAt - events[lastSync].At)
	}
	// The lag at the fault is the last one measured at or just before it;
	// a platform that measures only once the fault is in gives the first
	// one just after.
	for node, e := range lagAfter {
		if _, ok := lagBefore[node]; !ok {
			lagBefore[node] = e
		}
	}
	for node, e := range lagBefore {
		if lag, err := time.ParseDuration(e.Detail); err == nil {
			s.ReplicationLag[node] = seconds(lag)
		}
	}
}

// caughtUp measures, for each member a runbook step added to the service,
// the time from the step's start to the member's first member-caught-up
// event after it.
func (t *serviceTally) caughtUp(events []platform.Event, steps []StepRecord) {
	for _, st := range steps {
		if st.Service != t.name || st.Member == "" || !st.Started {
			continue
		}
		for _, e := range events {
			if e.Service == t.name && e.What == platform.EventMemberCaughtUp && e.Node == st.Member && e.At >= st.StartedAt {
				t.report.MembersCaughtUp[st.Member] = seconds(e.At - st.StartedAt)
				break
			}
		}
	}
}

// unmeasuredMembers lists the data-bearing members of a mongo service that
// have no replication-lag sample at the fault while others do (a member
// down or still syncing then), so that the report says so instead of
// leaving them out. Members added later by the runbook did not exist then.
func unmeasuredMembers(topology *platform.Topology, service string, lag map[string]float64) []string {
	missing := []string{}
	if topology == nil || len(lag) == 0 {
		return missing
	}
	spec, ok := topology.Service(service)
	if !ok || spec.Kind != platform.KindMongo {
		return missing
	}
	for _, m := range spec.Members {
		if _, measured := lag[m.Name]; !measured && !m.Arbiter {
			missing = append(missing, m.Name)
		}
	}
	return missing
}

// referenceFault is the fault a service is measured from: the first
// injected fault to hit one of its nodes, else the first injected fault of
// the run.
func referenceFault(faults []FaultRecord, topology *platform.Topology, service string) (FaultRecord, bool) {
	faults = slices.DeleteFunc(slices.Clone(faults), func(f FaultRecord) bool { return !f.Injected })
	if len(faults) == 0 {
		return FaultRecord{}, false
	}
	ordered := faults
	slices.SortStableFunc(ordered, func(a, b FaultRecord) int { return cmp.Compare(a.At, b.At) })
	if topology != nil {
		own := map[string]bool{}
		for _, n := range topology.Nodes() {
			if n.Service == service {
				own[n.Name] = true
			}
		}
		// A slowed disk degrades a service without interrupting it: the
		// service is measured from a fault that can interrupt it, if one
		// hits it (disk-slow on the west standby, then the east lost).
		for _, degrading := range []bool{false, true} {
			for _, f := range ordered {
				if (f.Kind == scenarios.FaultDiskSlow) != degrading {
					continue
				}
				for _, n := range f.Nodes {
					if own[n] {
						return f, true
					}
				}
			}
		}
	}
	return ordered[0], true
}

func timelineWidth(span time.Duration, writes int64) time.Duration {
	for _, w := range timelineWidths {
		if span <= w*timelineBuckets && (writes == 0 || float64(writes)*w.Seconds() >= timelineWritesPerBucket*span.Seconds()) {
			return w
		}
	}
	last := timelineWidths[len(timelineWidths)-1]
	return (span/timelineBuckets + last - 1) / last * last
}

func microsToMilliseconds(us int64) float64 { return float64(us) / 1e3 }

func topologyReport(t *platform.Topology) *TopologyReport {
	if t == nil {
		return nil
	}
	r := &TopologyReport{Name: t.Name, Nodes: []NodeReport{}}
	for _, n := range t.Nodes() {
		r.Nodes = append(r.Nodes, NodeReport{Name: n.Name, Service: n.Service, Region: n.Region, Zone: n.Zone})
	}
	return r
}

func faultReports(faults []FaultRecord) []FaultReport {
	out := make([]FaultReport, 0, len(faults))
	for _, f := range faults {
		nodes := append([]string{}, f.Nodes...)
		fr := FaultReport{Name: f.Name, Kind: f.Kind, Target: f.Target, Nodes: nodes, Status: StatusRehearsed, Reason: f.NotRehearsed, Error: f.Error}
		if f.NotRehearsed != "" {
			fr.Status = StatusNotRehearsed
		}
		if f.Injected || f.Error != "" {
			fr.At = secondsPointer(f.At)
		}
		if f.HealedAt != nil {
			fr.HealedAt = secondsPointer(*f.HealedAt)
		}
		out = append(out, fr)
	}
	return out
}

func stepReports(steps []StepRecord) []StepReport {
	out := make([]StepReport, 0, len(steps))
	for _, s := range steps {
		sr := StepReport{Name: s.Name, Action: s.Action, Service: s.Service, Error: s.Error}
		switch {
		case s.Error != "":
			sr.Status = StatusFailed
		case s.NotRehearsed != "":
			sr.Status, sr.Reason = StatusNotRehearsed, s.NotRehearsed
		case s.Skipped != "":
			sr.Status, sr.Reason = StatusSkipped, s.Skipped
		case s.DoneAt != nil:
			sr.Status = StatusDone
		default:
			sr.Status, sr.Reason = StatusNotRehearsed, "never finished"
		}
		if s.Started {
			sr.StartedAt = secondsPointer(s.StartedAt)
		}
		if s.DoneAt != nil {
			sr.DoneAt = secondsPointer(*s.DoneAt)
		}
		out = append(out, sr)
	}
	return out
}

// eventReports keeps the events in time order; events at the same time keep
// the order the loop delivered them in.
func eventReports(events []platform.Event) []EventReport {
	out := make([]EventReport, 0, len(events))
	for _, e := range events {
		out = append(out, EventReport{At: seconds(e.At), Service: e.Service, What: e.What, Node: e.Node, Detail: e.Detail})
	}
	slices.SortStableFunc(out, func(a, b EventReport) int { return cmp.Compare(a.At, b.At) })
	return out
}

func sortStrings(s []string) { slices.Sort(s) }
