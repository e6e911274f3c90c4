package reports

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/chaosdrill/chaosdrill/platform"
)

// table is a rendering-neutral table shared by the Markdown and HTML
// writers, so that both show the same numbers.
type table struct {
	Headers []string
	Rows    [][]string
}

// answer is one of the questions an operator rehearsing a failover asks,
// answered from the measurements.
type answer struct {
	Question string
	Lines    []string
}

// timelineEntriesListed bounds the merged timeline in report.md; report.json
// has every event.
const timelineEntriesListed = 60

func servicesTable(r *Report) table {
	t := table{Headers: []string{"service", "acked", "failed", "unknown (present)", "lost", "lost after fault", "RTO", "RPO", "full redundancy", "last sync age", "latency p50 / p99 / max"}}
	for _, name := range r.ServiceNames() {
		s := r.Services[name]
		unknown := fmt.Sprintf("%d (%d)", s.Unknown, s.UnknownPresent)
		lost, lostAfter, rpo := strconv.FormatInt(s.Lost, 10), strconv.FormatInt(s.LostAfterFault, 10), formatSeconds(s.RPO)
		if s.ReadBack == ReadBackFailed {
			unknown = fmt.Sprintf("%d (%s)", s.Unknown, notReadBack)
			lost, lostAfter, rpo = notReadBack, notReadBack, notReadBack
		}
		t.Rows = append(t.Rows, []string{
			name,
			strconv.FormatInt(s.Acked, 10),
			strconv.FormatInt(s.Failed, 10),
			unknown,
			lost,
			lostAfter,
			formatOptionalSeconds(s.RTO, "never"),
			rpo,
			formatOptionalSeconds(s.Redundancy, "-"),
			formatOptionalSeconds(s.LastSyncAge, "-"),
			fmt.Sprintf("%s / %s / %s ms", formatMilliseconds(s.WriteLatency.P50), formatMilliseconds(s.WriteLatency.P99), formatMilliseconds(s.WriteLatency.Max)),
		})
	}
	return t
}

// readsTable has a row per service that was read: its reads by class and
// the members that served them. It has no rows when nothing was read.
func readsTable(r *Report) table {
	t := table{Headers: []string{"service", "ok", "stale", "dirty", "failed", "unknown", "served by"}}
	for _, name := range r.ServiceNames() {
		reads := r.Services[name].Reads
		if reads == nil {
			continue
		}
		var served []string
		for _, member := range platform.SortedKeys(reads.ServedBy) {
			served = append(served, fmt.Sprintf("%s %d", member, reads.ServedBy[member]))
		}
		stale, dirty := strconv.FormatInt(reads.Stale, 10), strconv.FormatInt(reads.Dirty, 10)
		if r.Services[name].ReadBack == ReadBackFailed {
			stale, dirty = notReadBack, notReadBack
		}
		t.Rows = append(t.Rows, []string{name, strconv.FormatInt(reads.OK, 10), stale, dirty,
			strconv.FormatInt(reads.Failed, 10), strconv.FormatInt(reads.Unknown, 10), strings.Join(served, ", ")})
	}
	return t
}

// outagesTable lists every service's outage windows, as report.json keeps
// them (the longest 100 per service), in time order per service.
func outagesTable(r *Report) table {
	t := table{Headers: []string{"service", "from", "to", "length", "failed", "unknown", "lost"}}
	for _, name := range r.ServiceNames() {
		s := r.Services[name]
		for _, w := range s.OutageWindows {
			lost := strconv.FormatInt(w.Lost, 10)
			if s.ReadBack == ReadBackFailed {
				lost = notReadBack
			}
			t.Rows = append(t.Rows, []string{name, formatSeconds(w.Start), formatOptionalSeconds(w.End, "end of run"),
				formatOptionalSeconds(w.Seconds, "-"), strconv.FormatInt(w.Failed, 10), strconv.FormatInt(w.Unknown, 10), lost})
		}
	}
	return t
}

// notReadBack stands in a table for a count the read-back should have
// given.
const notReadBack = "not measured (read-back failed)"

func faultsTable(r *Report) table {
	t := table{Headers: []string{"fault", "kind", "target", "nodes", "status", "at", "healed", "why not / error"}}
	for _, f := range r.Faults {
		why := f.Reason
		if f.Error != "" && !strings.Contains(why, f.Error) {
			why = strings.TrimPrefix(why+"; "+f.Error, "; ")
		}
		t.Rows = append(t.Rows, []string{f.Name, f.Kind, f.Target, strings.Join(f.Nodes, ", "), statusLabel(f.Status),
			formatOptionalSeconds(f.At, "never"), formatOptionalSeconds(f.HealedAt, "never"), why})
	}
	return t
}

func runbookTable(r *Report) table {
	t := table{Headers: []string{"step", "action", "status", "started", "done", "why not / error"}}
	for _, s := range r.Runbook {
		why := s.Reason
		if s.Error != "" {
			why = s.Error
		}
		t.Rows = append(t.Rows, []string{s.Name, s.Action, statusLabel(s.Status), formatOptionalSeconds(s.StartedAt, "never"), formatOptionalSeconds(s.DoneAt, "never"), why})
	}
	return t
}

// statusLabel shouts the statuses that cost the verdict.
func statusLabel(status string) string {
	if status == StatusNotRehearsed || status == StatusFailed {
		return strings.ToUpper(status)
	}
	return status
}

// resultLabel is how a check's result reads in a table: pass quietly, the
// others in capitals.
func resultLabel(result string) string {
	if result == VerdictPass {
		return result
	}
	return strings.ToUpper(result)
}

func expectationsTable(r *Report) table {
	t := table{Headers: []string{"result", "check", "observed"}}
	for _, e := range r.Expectations {
		t.Rows = append(t.Rows, []string{resultLabel(e.Result), e.Name, e.Observed})
	}
	return t
}

// verdictSentence says in one sentence what the verdict rests on.
func verdictSentence(r *Report) string {
	if r.Verdict == VerdictError {
		if r.Error == nil {
			return "The run could not complete."
		}
		return fmt.Sprintf("The run could not complete: %s failed: %s", r.Error.Phase, r.Error.Message)
	}
	counts := map[string]int{}
	for _, e := range r.Expectations {
		counts[effectiveResult(r, e)]++
	}
	total := len(r.Expectations)
	if r.Verdict == VerdictPass {
		skipped := 0
		for _, s := range r.Runbook {
			if s.Status == StatusSkipped {
				skipped++
			}
		}
		held := fmt.Sprintf("all %d checks held", total)
		if total == 1 {
			held = "its one check held"
		}
		if skipped > 0 {
			return fmt.Sprintf("Everything the scenario schedules happened (but %s, which %s not needed), and %s.", plural(skipped, "optional runbook step"), plural2(skipped, "was", "were"), held)
		}
		return fmt.Sprintf("Everything the scenario schedules happened, and %s.", held)
	}
	var parts []string
	for _, v := range []struct{ result, words string }{
		{VerdictFail, "failed"},
		{VerdictNotRehearsed, "not rehearsed (part of the scenario did not happen as written)"},
		{VerdictUnverified, "unverified (could not be checked)"},
	} {
		if counts[v.result] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[v.result], v.words))
		}
	}
	why := uncheckedReasons(r)
	if len(parts) > 0 {
		why = append([]string{strings.Join(parts, ", ")}, why...)
	}
	if len(why) == 0 {
		why = []string{"the report holds nothing that says why"}
	}
	return fmt.Sprintf("%d of %s held; %s.", counts[VerdictPass], plural(total, "check"), strings.Join(why, "; "))
}

// plural writes n and the noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// plural2 picks the singular or the plural word for n.
func plural2(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

type timelineEntry struct {
	at      float64
	what    string
	routine bool // a sync pass, a snapshot, a lag sample: platform.RoutineEvent
}

// timelineTable merges faults, runbook steps and platform events into one
// list in time order. With limit > 0 and more entries than that, it leaves
// out the routine events first (a week of sync passes must not push a
// health-yellow out of the table), then keeps the first limit entries, and
// says how many it left out.
func timelineTable(r *Report, limit int) (table, int) {
	var entries []timelineEntry
	for _, f := range r.Faults {
		if f.At == nil {
			continue
		}
		entries = append(entries, timelineEntry{at: *f.At, what: fmt.Sprintf("fault %s: %s %s (%s)", f.Name, f.Kind, f.Target, strings.Join(f.Nodes, ", "))})
		if f.HealedAt != nil {
			entries = append(entries, timelineEntry{at: *f.HealedAt, what: "fault " + f.Name + " healed"})
		}
	}
	for _, s := range r.Runbook {
		if s.StartedAt == nil {
			continue
		}
		entries = append(entries, timelineEntry{at: *s.StartedAt, what: fmt.Sprintf("runbook %s: %s started", s.Name, s.Action)})
		if s.DoneAt != nil {
			done := "runbook " + s.Name + " done"
			if s.Error != "" {
				done = "runbook " + s.Name + " gave up: " + s.Error
			}
			entries = append(entries, timelineEntry{at: *s.DoneAt, what: done})
		}
	}
	for _, e := range r.Events {
		what := e.Service + " " + e.What
		if e.Node != "" {
			what += " " + e.Node
		}
		if e.Detail != "" {
			what += " (" + RoundDurations(e.Detail) + ")"
		}
		entries = append(entries, timelineEntry{e.At, what, platform.RoutineEvent(e.What)})
	}
	slices.SortStableFunc(entries, func(a, b timelineEntry) int {
		return cmp.Compare(a.at, b.at)
	})
	omitted := 0
	if limit > 0 && len(entries) > limit {
		all := len(entries)
		entries = slices.DeleteFunc(entries, func(e timelineEntry) bool { return e.routine })
		entries = entries[:min(limit, len(entries))]
		omitted = all - len(entries)
	}
	t := table{Headers: []string{"at", "what"}}
	for _, e := range entries {
		t.Rows = append(t.Rows, []string{formatSeconds(e.at), e.what})
	}
	return t, omitted
}

// answers answers, per service and in numbers, how far behind the standby
// was, how long until writes came back and how long until full redundancy.
func answers(r *Report) []answer {
	names := r.ServiceNames()
	behind := answer{Question: "How far behind was the standby?"}
	back := answer{Question: "How long until writes came back?"}
	redundant := answer{Question: "How long until full redundancy?"}
	for _, name := range names {
		s := r.Services[name]
		if len(s.ReplicationLag) > 0 {
			var parts []string
			for _, node := range sortedKeys(s.ReplicationLag) {
				parts = append(parts, fmt.Sprintf("%s%s %s", node, r.nodeRegion(node), formatSeconds(s.ReplicationLag[node])))
			}
			behind.Lines = append(behind.Lines, fmt.Sprintf("%s: at the fault (%s) its members were behind the primary by: %s.", name, formatOptionalSeconds(s.FaultAt, "-"), strings.Join(parts, ", ")))
			if len(s.ReplicationLagUnmeasured) > 0 {
				behind.Lines = append(behind.Lines, fmt.Sprintf("%s: no lag was measured at the fault for %s.", name, strings.Join(s.ReplicationLagUnmeasured, ", ")))
			}
		}
		if s.LastSyncAge != nil {
			behind.Lines = append(behind.Lines, fmt.Sprintf("%s: the last completed sync or snapshot before the fault was %s old.", name, formatSeconds(*s.LastSyncAge)))
		}
		if s.ReadBack == ReadBackFailed {
			behind.Lines = append(behind.Lines, fmt.Sprintf("%s: unknown; its read-back failed, so no lost write could be counted (%s).", name, s.ReadBackError))
		}
		if s.Lost > 0 {
			behind.Lines = append(behind.Lines, fmt.Sprintf("%s: %d acknowledged writes were lost (%d of them acknowledged after the fault); RPO %s.", name, s.Lost, s.LostAfterFault, formatSeconds(s.RPO)))
		}

		switch {
		case s.FaultAt == nil:
			back.Lines = append(back.Lines, name+": no fault in this run.")
		case s.OutageStart == nil:
			back.Lines = append(back.Lines, fmt.Sprintf("%s: never interrupted; every write after the fault (%s) was served.", name, formatSeconds(*s.FaultAt)))
		case s.RTO == nil:
			back.Lines = append(back.Lines, fmt.Sprintf("%s: not within the run; no write issued from %s on was served (fault at %s, run ended at %s).", name, formatSeconds(*s.OutageStart), formatSeconds(*s.FaultAt), formatSeconds(r.DurationSeconds)))
		default:
			back.Lines = append(back.Lines, fmt.Sprintf("%s: RTO %s, its longest outage: no write issued from %s on was served until one was acknowledged at %s (fault at %s; %s).", name, formatSeconds(*s.RTO), formatSeconds(*s.OutageStart), formatSeconds(*s.OutageStart+*s.RTO), formatSeconds(*s.FaultAt), outagesPhrase(s)))
		}

		if len(s.MembersCaughtUp) > 0 {
			var parts []string
			for _, member := range sortedKeys(s.MembersCaughtUp) {
				parts = append(parts, fmt.Sprintf("%s%s %s", member, r.nodeRegion(member), formatSeconds(s.MembersCaughtUp[member])))
			}
			redundant.Lines = append(redundant.Lines, fmt.Sprintf("%s: members added by the runbook caught up this long after their step started: %s.", name, strings.Join(parts, ", ")))
		}
		switch {
		case s.FaultAt == nil:
		case s.Redundancy != nil:
			redundant.Lines = append(redundant.Lines, fmt.Sprintf("%s: %s after the fault.", name, formatSeconds(*s.Redundancy)))
		default:
			redundant.Lines = append(redundant.Lines, name+": no redundancy-restored event after the fault within the run.")
		}
	}
	if len(behind.Lines) == 0 {
		behind.Lines = []string{"No replication lag, sync or lost write was measured in this run."}
	}
	if len(redundant.Lines) == 0 {
		redundant.Lines = []string{"No fault in this run."}
	}
	if len(back.Lines) == 0 {
		back.Lines = []string{"No writes in this run."}
	}
	return []answer{behind, back, redundant}
}

// outagesPhrase counts a service's outage windows and their total length.
func outagesPhrase(s *ServiceReport) string {
	if s.OutageWindowsTotal == 1 {
		return "1 outage window in the run"
	}
	return fmt.Sprintf("%d outage windows in the run, %s unavailable in all", s.OutageWindowsTotal, formatSeconds(s.UnavailableSeconds))
}

// nodeRegion is " (region)" for a node of the topology, else empty.
func (r *Report) nodeRegion(node string) string {
	if r.Topology == nil {
		return ""
	}
	for _, n := range r.Topology.Nodes {
		if n.Name == node && n.Region != "" {
			return " (" + n.Region + ")"
		}
	}
	return ""
}

func sortedKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func formatMilliseconds(ms float64) string {
	return strconv.FormatFloat(ms, 'f', 3, 64)
}
