package reports

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

// checks lists every check of a run: the bounds of its expectations in the
// order the scenario lists them, then each fault, heal or runbook step that
// did not happen as the file says, then each service whose writes could not
// be checked.
func checks(run *Run, services map[string]*ServiceReport) []ExpectationResult {
	rows := checkExpectations(run, services)
	rows = append(rows, scheduleChecks(run)...)
	return append(rows, serviceChecks(services)...)
}

// notMeasuredReadBack says a figure that rests on the read-back was not
// measured.
const notMeasuredReadBack = "not measured (read-back failed)"

// taint is why a service's expectations cannot pass whatever was measured:
// result not-rehearsed or unverified, and the reason; result "" when none.
type taint struct{ result, reason string }

// serviceTaint finds what keeps a service's checks from meaning anything:
// a fault aimed at it or a runbook step acting on it that did not happen
// as written (or, for a service no fault aims at, no fault happening at
// all), a failed read-back, or no acknowledged write to check.
func serviceTaint(run *Run, service string, s *ServiceReport) taint {
	aimed, injected := false, false
	for _, f := range run.Faults {
		injected = injected || f.Injected
		if !slices.Contains(f.Services, service) {
			continue
		}
		aimed = true
		if f.NotRehearsed != "" {
			return taint{VerdictNotRehearsed, "fault " + f.Name + " was not rehearsed"}
		}
	}
	for _, st := range run.Steps {
		if st.Service == service && st.NotRehearsed != "" {
			return taint{VerdictNotRehearsed, "runbook step " + st.Name + " was not rehearsed"}
		}
	}
	if len(run.Faults) > 0 && !aimed && !injected {
		return taint{VerdictNotRehearsed, "no fault of the scenario happened"}
	}
	switch {
	case s.ReadBack == ReadBackFailed:
		return taint{VerdictUnverified, "unverified: the read-back failed"}
	case s.Acked == 0:
		return taint{VerdictUnverified, "unverified: no write was acknowledged"}
	}
	return taint{}
}

// checkExpectations gives one result per bound set in each expectation, in
// the order the scenario lists them.
func checkExpectations(run *Run, services map[string]*ServiceReport) []ExpectationResult {
	results := []ExpectationResult{}
	for _, e := range run.Expect {
		s, measured := services[e.Service]
		var why taint
		if measured {
			why = serviceTaint(run, e.Service, s)
		}
		// add records one bound; check says whether it held and what was
		// observed, or returns unmeasured when the bound could not be
		// measured at all.
		add := func(bound string, check func() (held bool, observed, unmeasured string)) {
			r := ExpectationResult{Name: e.Service + ": " + bound, Service: e.Service, Baseline: e.Baseline}
			if e.Baseline {
				r.Name += " (baseline)"
			}
			held, observed, unmeasured := false, "", ""
			if measured {
				held, observed, unmeasured = check()
			} else {
				unmeasured = "no writes recorded for the service"
			}
			switch {
			case unmeasured != "":
				r.Result, r.Observed = VerdictUnverified, unmeasured
			case held:
				r.Result, r.Observed = VerdictPass, observed
			default:
				r.Result, r.Observed = VerdictFail, observed
			}
			// Whatever was measured means nothing without the fault, or
			// without the read-back.
			if why.result != "" && !strings.HasSuffix(unmeasured, notMeasuredReadBack) {
				r.Result = why.result
				r.Observed += "; " + why.reason
			}
			r.Pass = r.Result == VerdictPass
			results = append(results, r)
		}
		readBackFailed := measured && s.ReadBack == ReadBackFailed
		lost := func() string { return fmt.Sprintf("%d lost writes", s.Lost) }
		rto := func() string {
			if s.RTO == nil {
				return "never recovered"
			}
			return "rto " + formatSeconds(*s.RTO)
		}
		if e.LostWrites != nil {
			add(fmt.Sprintf("lost writes <= %d", *e.LostWrites), func() (bool, string, string) {
				if readBackFailed {
					return false, "", "lost writes " + notMeasuredReadBack
				}
				return s.Lost <= int64(*e.LostWrites), lost(), ""
			})
		}
		if e.MinLost != nil {
			add(fmt.Sprintf("lost writes >= %d", *e.MinLost), func() (bool, string, string) {
				if readBackFailed {
					return false, "", "lost writes " + notMeasuredReadBack
				}
				return s.Lost >= int64(*e.MinLost), lost(), ""
			})
		}
		if e.RTOMax != nil {
			add("rto <= "+e.RTOMax.String(), func() (bool, string, string) {
				return s.RTO != nil && duration(*s.RTO) <= e.RTOMax.D(), rto(), ""
			})
		}
		if e.RTOMin != nil {
			// A service that never came back was out for at least any bound.
			add("rto >= "+e.RTOMin.String(), func() (bool, string, string) {
				return s.RTO == nil || duration(*s.RTO) >= e.RTOMin.D(), rto(), ""
			})
		}
		if e.RPOMax != nil {
			add("rpo <= "+e.RPOMax.String(), func() (bool, string, string) {
				if readBackFailed {
					return false, "", "rpo " + notMeasuredReadBack
				}
				return duration(s.RPO) <= e.RPOMax.D(), "rpo " + formatSeconds(s.RPO), ""
			})
		}
		if e.Recovers != nil {
			bound := "recovers"
			if !*e.Recovers {
				bound = "does not recover"
			}
			add(bound, func() (bool, string, string) {
				if s.RTO == nil {
					return !*e.Recovers, "never recovered", ""
				}
				return *e.Recovers, "recovered, rto " + formatSeconds(*s.RTO), ""
			})
		}
		if e.RedundancyMax != nil {
			add("full redundancy <= "+e.RedundancyMax.String(), func() (bool, string, string) {
				switch {
				case s.FaultAt == nil:
					return false, "", "no fault happened to measure full redundancy from"
				case s.Redundancy == nil:
					return false, "full redundancy not restored within the run", ""
				}
				return duration(*s.Redundancy) <= e.RedundancyMax.D(), "full redundancy after " + formatSeconds(*s.Redundancy), ""
			})
		}
		if e.LatencyP99Max != nil {
			add("write latency p99 <= "+e.LatencyP99Max.String(), func() (bool, string, string) {
				bound := float64(e.LatencyP99Max.D()) / float64(time.Millisecond)
				return s.WriteLatency.P99 <= bound, fmt.Sprintf("p99 %s ms", formatMilliseconds(s.WriteLatency.P99)), ""
			})
		}
		if e.UnknownMax != nil {
			add(fmt.Sprintf("unknown writes <= %d", *e.UnknownMax), func() (bool, string, string) {
				return s.Unknown <= int64(*e.UnknownMax), fmt.Sprintf("%d unknown writes", s.Unknown), ""
			})
		}
		if e.CaughtUpMax != nil {
			add("added members caught up <= "+e.CaughtUpMax.String(), func() (bool, string, string) {
				return membersCaughtUp(run.Steps, e.Service, s, e.CaughtUpMax.D())
			})
		}
		if e.StaleReadsMax != nil {
			add(fmt.Sprintf("stale reads <= %d", *e.StaleReadsMax), func() (bool, string, string) {
				return readBound(s, func(r *ReadsReport) int64 { return r.Stale }, *e.StaleReadsMax, "stale")
			})
		}
		if e.DirtyReadsMax != nil {
			add(fmt.Sprintf("dirty reads <= %d", *e.DirtyReadsMax), func() (bool, string, string) {
				return readBound(s, func(r *ReadsReport) int64 { return r.Dirty }, *e.DirtyReadsMax, "dirty")
			})
		}
	}
	return results
}

// readBound checks a bound on one class of a service's reads. It is
// unmeasured when the service was not read, or when no read returned a
// value: a bound on stale or dirty reads holds trivially over no reads.
func readBound(s *ServiceReport, count func(*ReadsReport) int64, bound int, class string) (bool, string, string) {
	switch {
	case s.Reads == nil:
		return false, "", "the service was not read"
	case s.Reads.succeeded() == 0:
		return false, "", fmt.Sprintf("no read succeeded (%d failed, %d unknown), so none could be checked", s.Reads.Failed, s.Reads.Unknown)
	}
	n := count(s.Reads)
	return n <= int64(bound), fmt.Sprintf("%d %s of %d reads that succeeded", n, class, s.Reads.succeeded()), ""
}

// membersCaughtUp checks that every member a runbook step added to service
// caught up within bound of its step's start.
func membersCaughtUp(steps []StepRecord, service string, s *ServiceReport, bound time.Duration) (bool, string, string) {
	held := true
	var parts []string
	for _, st := range steps {
		if st.Service != service || st.Member == "" {
			continue
		}
		caught, ok := s.MembersCaughtUp[st.Member]
		switch {
		case !st.Started:
			held = false
			parts = append(parts, st.Member+" never added")
		case !ok:
			held = false
			parts = append(parts, st.Member+" never caught up")
		default:
			held = held && duration(caught) <= bound
			parts = append(parts, fmt.Sprintf("%s after %s", st.Member, formatSeconds(caught)))
		}
	}
	if len(parts) == 0 {
		return false, "", "no runbook step added a member"
	}
	return held, "caught up: " + strings.Join(parts, ", "), ""
}

// scheduleChecks lists each fault, heal or runbook step of the file that
// did not happen as written, and each runbook step that failed. A run that
// passes has rehearsed everything its file says.
func scheduleChecks(run *Run) []ExpectationResult {
	var rows []ExpectationResult
	for _, f := range run.Faults {
		if f.NotRehearsed != "" {
			rows = append(rows, ExpectationResult{Name: "fault " + f.Name + " rehearsed", Result: VerdictNotRehearsed, Observed: f.NotRehearsed})
		}
	}
	for _, st := range run.Steps {
		switch {
		case st.Error != "":
			rows = append(rows, ExpectationResult{Name: "runbook " + st.Name + " done", Service: st.Service, Result: VerdictFail, Observed: st.Error})
		case st.NotRehearsed != "":
			rows = append(rows, ExpectationResult{Name: "runbook " + st.Name + " rehearsed", Service: st.Service, Result: VerdictNotRehearsed, Observed: st.NotRehearsed})
		}
	}
	return rows
}

// serviceChecks lists each service whose writes could not be checked: its
// read-back failed, or it acknowledged none. They stand whether or not the
// file states expectations for the service.
func serviceChecks(services map[string]*ServiceReport) []ExpectationResult {
	var rows []ExpectationResult
	for _, name := range platform.SortedKeys(services) {
		s := services[name]
		if s.ReadBack == ReadBackFailed {
			rows = append(rows, ExpectationResult{Name: name + ": writes read back", Service: name, Result: VerdictUnverified,
				Observed: "the read-back failed, so no write could be checked: " + s.ReadBackError})
		}
		if s.Acked == 0 {
			rows = append(rows, ExpectationResult{Name: name + ": writes acknowledged", Service: name, Result: VerdictUnverified,
				Observed: fmt.Sprintf("none of %d writes was acknowledged, so there was nothing to check", s.Failed+s.Unknown)})
		}
	}
	return rows
}

// formatSeconds writes report seconds as a Go duration rounded to the
// millisecond ("12.345s", "1m30s").
func formatSeconds(s float64) string {
	return FormatDuration(duration(s))
}

// formatOptionalSeconds writes a nil time as never.
func formatOptionalSeconds(s *float64, never string) string {
	if s == nil {
		return never
	}
	return formatSeconds(*s)
}
