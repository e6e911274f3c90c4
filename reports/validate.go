package reports

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chaosdrill/chaosdrill/scenarios"
)

// Limits on a stored report that Read accepts.
const (
	// MaxReportBytes is the largest report.json read (64 MiB), so that
	// decoding one stays within a few hundred MB: a week-long run with
	// 9,000 faults (near the 10,000 a file may hold) writes 11.7 MB, and
	// the library's runs under 200 KB.
	MaxReportBytes = 64 << 20
	// maxTimelineBuckets bounds a stored timeline; Build makes at most a
	// few hundred buckets, and every bucket is a bar in report.html.
	maxTimelineBuckets = 100_000
	// maxStoredSeconds bounds every time in a stored report: just above the
	// longest time.Duration (about 9.2e9 s), the most Build can write.
	maxStoredSeconds = 1e10
)

// Validate checks a report read from a file (which anyone may have
// edited) for what rendering relies on: a known verdict and statuses, a
// value for every service, timelines whose four series have one count per
// bucket, no negative count, times in range. The error lists the first
// problems found by their JSON path.
func Validate(r *Report) error {
	v := &validator{}
	v.check(r)
	if len(v.problems) == 0 {
		return nil
	}
	shown := v.problems
	if len(shown) > 10 {
		shown = append(shown[:10:10], fmt.Sprintf("and %d more", len(v.problems)-10))
	}
	return fmt.Errorf("the report does not hold together: %s", strings.Join(shown, "; "))
}

type validator struct{ problems []string }

func (v *validator) add(format string, args ...any) {
	v.problems = append(v.problems, fmt.Sprintf(format, args...))
}

func (v *validator) seconds(path string, s *float64) {
	if s != nil && (math.IsNaN(*s) || *s < -maxStoredSeconds || *s > maxStoredSeconds) {
		v.add("%s: %v seconds is out of range", path, *s)
	}
}

// length checks a stored span of time (an RTO, an RPO, an age): in
// range and not negative.
func (v *validator) length(path string, s *float64) {
	v.seconds(path, s)
	if s != nil && *s < 0 {
		v.add("%s: %v seconds, a length of time cannot be negative", path, *s)
	}
}

func (v *validator) count(path string, n int64) {
	if n < 0 {
		v.add("%s: a count cannot be negative, got %d", path, n)
	}
}

func (v *validator) check(r *Report) {
	if !slices.Contains(Verdicts, r.Verdict) {
		v.add("verdict: %q is not one of %s", r.Verdict, strings.Join(Verdicts, ", "))
	}
	if err := scenarios.CheckName(r.Scenario); err != nil {
		v.add("scenario: %v", err)
	}
	if d := r.DurationSeconds; !(d >= 0) {
		v.add("duration_seconds: %v, a scenario's duration cannot be negative", d)
	} else {
		v.seconds("duration_seconds", &d)
	}
	if r.Verdict == VerdictError && r.Error == nil {
		v.add("error: null, but the verdict is error: an error report says what failed")
	}
	if r.Verdict != VerdictError && r.Error == nil {
		// Build gives every run at least one check (each service with a
		// workload has its own or the baseline ones, and a scenario has a
		// workload); a report of no checks would pass on nothing.
		if len(r.Expectations) == 0 {
			v.add("expectations: none; a run checks at least one expectation, so a verdict other than error needs its checks")
		}
		if len(r.Services) == 0 {
			v.add("services: none; a run measures at least one service, so a verdict other than error needs its figures")
		}
	}
	v.rehearsal(r.Rehearsal)
	for i, o := range r.Overrides {
		if o.Name == "" || (o.Source != OverrideFile && o.Source != OverrideSet) {
			v.add("overrides[%d]: want a name and a source of %s or %s, got %q from %q", i, OverrideFile, OverrideSet, o.Name, o.Source)
		}
	}
	for _, name := range r.ServiceNames() {
		s := r.Services[name]
		p := "services." + name
		if err := scenarios.CheckName(name); err != nil {
			v.add("services: %v", err)
		}
		if s == nil {
			v.add("%s: null, want the service's figures", p)
			continue
		}
		for field, n := range map[string]int64{"acked": s.Acked, "failed": s.Failed, "unknown": s.Unknown, "unknown_present": s.UnknownPresent, "lost": s.Lost, "lost_after_fault": s.LostAfterFault} {
			v.count(p+"."+field, n)
		}
		// What the report says of a service must hold together: lost
		// writes are acknowledged ones, unknown writes found present are
		// unknown ones.
		if s.Lost > s.Acked || s.LostAfterFault > s.Lost || s.UnknownPresent > s.Unknown {
			v.add("%s: lost %d of %d acknowledged (%d after the fault), %d of %d unknown present: a part cannot exceed its whole", p, s.Lost, s.Acked, s.LostAfterFault, s.UnknownPresent, s.Unknown)
		}
		for field, t := range map[string]*float64{"fault_at_seconds": s.FaultAt, "outage_start_seconds": s.OutageStart} {
			v.seconds(p+"."+field, t)
		}
		for field, t := range map[string]*float64{"rto_seconds": s.RTO, "redundancy_seconds": s.Redundancy, "last_sync_age_seconds": s.LastSyncAge} {
			v.length(p+"."+field, t)
		}
		rpo := s.RPO
		v.length(p+".rpo_seconds", &rpo)
		if s.ReadBack != ReadBackComplete && s.ReadBack != ReadBackFailed {
			v.add("%s.read_back: %q, want %s or %s", p, s.ReadBack, ReadBackComplete, ReadBackFailed)
		}
		v.timeline(p+".timeline", s.Timeline)
		v.count(p+".outage_windows_total", s.OutageWindowsTotal)
		unavailable := s.UnavailableSeconds
		v.length(p+".unavailable_seconds", &unavailable)
		for i, w := range s.OutageWindows {
			wp := fmt.Sprintf("%s.outage_windows[%d]", p, i)
			start := w.Start
			v.seconds(wp+".start_seconds", &start)
			v.seconds(wp+".end_seconds", w.End)
			v.length(wp+".seconds", w.Seconds)
			for field, n := range map[string]int64{"writes_failed": w.Failed, "writes_unknown": w.Unknown, "writes_lost": w.Lost} {
				v.count(wp+"."+field, n)
			}
		}
		if rd := s.Reads; rd != nil {
			for field, n := range map[string]int64{"ok": rd.OK, "failed": rd.Failed, "unknown": rd.Unknown, "stale": rd.Stale, "dirty": rd.Dirty} {
				v.count(p+".reads."+field, n)
			}
			for member, n := range rd.ServedBy {
				v.count(p+".reads.served_by."+member, n)
			}
		}
	}
	for i, f := range r.Faults {
		p := fmt.Sprintf("faults[%d]", i)
		if f.Name != "" {
			if err := scenarios.CheckName(f.Name); err != nil {
				v.add("%s.name: %v", p, err)
			}
		}
		if f.Status != StatusRehearsed && f.Status != StatusNotRehearsed {
			v.add("%s.status: %q, want %s or %s", p, f.Status, StatusRehearsed, StatusNotRehearsed)
		}
		// A fault comes at or after the start: a file's times are not
		// negative.
		v.length(p+".at_seconds", f.At)
		v.length(p+".healed_at_seconds", f.HealedAt)
	}
	stepStatuses := []string{StatusDone, StatusFailed, StatusNotRehearsed, StatusSkipped}
	for i, s := range r.Runbook {
		p := fmt.Sprintf("runbook[%d]", i)
		if !slices.Contains(stepStatuses, s.Status) {
			v.add("%s.status: %q, want one of %s", p, s.Status, strings.Join(stepStatuses, ", "))
		}
		v.seconds(p+".started_at_seconds", s.StartedAt)
		v.seconds(p+".done_at_seconds", s.DoneAt)
	}
	for i, e := range r.Events {
		at := e.At
		v.seconds(fmt.Sprintf("events[%d].at_seconds", i), &at)
	}
	results := []string{VerdictFail, VerdictNotRehearsed, VerdictUnverified, VerdictPass}
	for i, e := range r.Expectations {
		p := fmt.Sprintf("expectations[%d]", i)
		if !slices.Contains(results, e.Result) {
			v.add("%s.result: %q, want one of %s", p, e.Result, strings.Join(results, ", "))
		}
		if e.Service != "" && r.Services[e.Service] == nil {
			v.add("%s.service: %q is not a service of the report", p, e.Service)
		}
		if e.Pass != (e.Result == VerdictPass) {
			v.add("%s.pass: %t contradicts result %q", p, e.Pass, e.Result)
		}
	}
}

func (v *validator) timeline(p string, t Timeline) {
	buckets := len(t.Acked)
	for name, series := range map[string][]int64{"lost": t.Lost, "failed": t.Failed, "unknown": t.Unknown} {
		if len(series) != buckets {
			v.add("%s.%s: %d buckets, but acked has %d; every series has one count per bucket", p, name, len(series), buckets)
		}
	}
	if buckets > maxTimelineBuckets {
		v.add("%s: %d buckets; a report holds at most %d", p, buckets, maxTimelineBuckets)
	}
	if buckets > 0 && !(t.BucketSeconds > 0 && t.BucketSeconds <= maxStoredSeconds) {
		v.add("%s.bucket_seconds: %v, want a positive width", p, t.BucketSeconds)
	}
	for name, series := range map[string][]int64{"acked": t.Acked, "lost": t.Lost, "failed": t.Failed, "unknown": t.Unknown} {
		for i, n := range series {
			if n < 0 {
				v.add("%s.%s[%d]: a count cannot be negative, got %d", p, name, i, n)
				break
			}
		}
	}
}

// RecomputeVerdict works out the verdict a stored report's own figures
// support: error when it records an error, else the worst of its checks'
// results (a check stored as passed whose bound the service's stored
// figures miss, such as "lost writes <= 0" with 5 lost, counts as failed),
// and no better than not-rehearsed while a fault or runbook step
// it lists did not happen as written, nor than fail while a step failed,
// nor than unverified while a service's read-back failed or it acknowledged
// nothing. `chaosdrill report` compares it with the stored verdict.
func RecomputeVerdict(r *Report) string {
	if r.Error != nil || r.Verdict == VerdictError {
		return VerdictError
	}
	verdict := VerdictPass
	for _, e := range r.Expectations {
		verdict = worse(verdict, effectiveResult(r, e))
	}
	if len(r.Expectations) == 0 {
		// Nothing was checked: not a pass (Validate refuses such a report).
		verdict = worse(verdict, VerdictUnverified)
	}
	for _, f := range r.Faults {
		if f.Status == StatusNotRehearsed {
			verdict = worse(verdict, VerdictNotRehearsed)
		}
	}
	for _, s := range r.Runbook {
		switch s.Status {
		case StatusFailed:
			verdict = worse(verdict, VerdictFail)
		case StatusNotRehearsed:
			verdict = worse(verdict, VerdictNotRehearsed)
		}
	}
	for _, s := range r.Services {
		if s != nil && (s.ReadBack == ReadBackFailed || s.Acked == 0) {
			verdict = worse(verdict, VerdictUnverified)
		}
	}
	return verdict
}

// effectiveResult is a check's result as its report's figures support it:
// a check stored as passed whose bound the stored figures miss failed.
func effectiveResult(r *Report, e ExpectationResult) string {
	if e.Result == VerdictPass {
		if held, known := holdsOnFigures(r, e); known && !held {
			return VerdictFail
		}
	}
	return e.Result
}

// uncheckedReasons says what in the report costs the verdict without a
// check of its own saying so: a fault or runbook step that did not happen
// as written, a step that failed, a service whose read-back failed or that
// acknowledged nothing (a run lists each as a check; an edited report may
// not), and a check stored as passed that the stored figures miss.
func uncheckedReasons(r *Report) []string {
	named := map[string]bool{}
	for _, e := range r.Expectations {
		named[e.Name] = true
	}
	var reasons []string
	for _, e := range r.Expectations {
		if e.Result == VerdictPass && effectiveResult(r, e) != VerdictPass {
			reasons = append(reasons, fmt.Sprintf("%s is stored as held, but the stored figures miss it", e.Name))
		}
	}
	for _, f := range r.Faults {
		if f.Status == StatusNotRehearsed && !named["fault "+f.Name+" rehearsed"] {
			reasons = append(reasons, fmt.Sprintf("fault %s did not happen as written", f.Name))
		}
	}
	for _, st := range r.Runbook {
		switch {
		case st.Status == StatusFailed && !named["runbook "+st.Name+" done"]:
			reasons = append(reasons, fmt.Sprintf("runbook step %s failed", st.Name))
		case st.Status == StatusNotRehearsed && !named["runbook "+st.Name+" rehearsed"]:
			reasons = append(reasons, fmt.Sprintf("runbook step %s did not happen as written", st.Name))
		}
	}
	for _, name := range r.ServiceNames() {
		s := r.Services[name]
		if s == nil {
			continue
		}
		if s.ReadBack == ReadBackFailed && !named[name+": writes read back"] {
			reasons = append(reasons, fmt.Sprintf("the read-back of %s failed", name))
		}
		if s.Acked == 0 && !named[name+": writes acknowledged"] {
			reasons = append(reasons, fmt.Sprintf("%s acknowledged no write to check", name))
		}
	}
	return reasons
}

// boundName reads the bounds Build names its checks by ("mongo: lost writes
// <= 0", "logs: rto <= 1m0s (baseline)").
var boundName = regexp.MustCompile(`^(.+): (lost writes <=|lost writes >=|unknown writes <=|stale reads <=|dirty reads <=|rto <=|rpo <=|recovers|does not recover) ?(\S*)(?: \(baseline\))?$`)

// holdsOnFigures checks one bound again against the service's stored
// figures; known is false for a check it cannot read back.
func holdsOnFigures(r *Report, e ExpectationResult) (held, known bool) {
	m := boundName.FindStringSubmatch(e.Name)
	if m == nil {
		return false, false
	}
	s := r.Services[m[1]]
	if s == nil {
		return false, false
	}
	count := func() (int64, bool) {
		n, err := strconv.ParseInt(m[3], 10, 64)
		return n, err == nil
	}
	limit := func() (time.Duration, bool) {
		d, err := time.ParseDuration(m[3])
		return d, err == nil
	}
	switch m[2] {
	case "lost writes <=":
		if n, ok := count(); ok {
			return s.Lost <= n, true
		}
	case "lost writes >=":
		if n, ok := count(); ok {
			return s.Lost >= n, true
		}
	case "unknown writes <=":
		if n, ok := count(); ok {
			return s.Unknown <= n, true
		}
	case "stale reads <=":
		if n, ok := count(); ok && s.Reads != nil {
			return s.Reads.Stale <= n, true
		}
	case "dirty reads <=":
		if n, ok := count(); ok && s.Reads != nil {
			return s.Reads.Dirty <= n, true
		}
	case "rto <=":
		if d, ok := limit(); ok {
			return s.RTO != nil && duration(*s.RTO) <= d, true
		}
	case "rpo <=":
		if d, ok := limit(); ok {
			return duration(s.RPO) <= d, true
		}
	case "recovers":
		return s.RTO != nil, true
	case "does not recover":
		return s.RTO == nil, true
	}
	return false, false
}
