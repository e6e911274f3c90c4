package reports

import (
	"fmt"
	"strings"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

// Performers of a runbook step in a rehearsal (StepRehearsal.By).
const (
	ByEngineer = "engineer" // the engineer did it; the platform's state showed when it was done
	ByHarness  = "harness"  // the engineer handed it back: the harness did it, as `run` does
	BySkipped  = "skipped"  // the engineer skipped it: not rehearsed
)

// RehearsalRun is what a rehearsal adds to a run: when the engineer
// stopped it, if they did. Each step's own timings are in its
// StepRecord.Rehearsal.
type RehearsalRun struct {
	// StoppedAt is the scenario time the engineer aborted the rehearsal;
	// nil when it ran to its end.
	StoppedAt *time.Duration
}

// StepRehearsal is how one runbook step went in a rehearsal. The step's
// StepRecord.StartedAt and DoneAt are when the engineer began and when the
// platform's state showed the step's effect (for a step handed back, when
// the harness's action began and ended, as in a run).
type StepRehearsal struct {
	// TriggeredAt is when its trigger fired and the engineer was told;
	// nil when it never became due.
	TriggeredAt *time.Duration
	By          string // ByEngineer, ByHarness, BySkipped; "" while nobody took it up
	// BegunAt is when the engineer said they began, or typed its action
	// (the first time); nil if they never said.
	BegunAt *time.Duration
	// StateAt is when the platform's state first showed the step's effect
	// (Goal); nil if it never did. Seen says what it saw.
	StateAt *time.Duration
	Goal    string
	Seen    string
	// Unwatched says why the platform could not watch for Goal ("" when it
	// could): the step is then done when its action reports done.
	Unwatched string
	// AssumedDelay is the file's operator_delay for the step.
	AssumedDelay platform.Distribution
	Attempts     []Attempt
}

// Attempt is one action the engineer typed for a step, and how the
// platform took it.
type Attempt struct {
	At     time.Duration
	Action string // the action and its parameters as typed
	Error  string // why the platform refused or gave it up ("" when it was carried out)
}

// RehearsalReport is the rehearsal section of report.json: how the humans
// did, step by step, beside what the scenario assumed and beside earlier
// rehearsals of the same scenario. The RTO and RPO of the services above it
// are the ones the humans achieved.
type RehearsalReport struct {
	// Speed is how many seconds of scenario time ran per wall second (the
	// simulator's tabletop); 1 on containers.
	Speed float64 `json:"speed"`
	// StartedAt is the wall-clock time the rehearsal began, RFC 3339.
	StartedAt string `json:"started_at"`
	// StoppedAtSeconds is the scenario time the engineer aborted it; null
	// when it ran to its end.
	StoppedAtSeconds *float64     `json:"stopped_at_seconds"`
	Steps            []StepTiming `json:"steps"`
	// History lists the earlier rehearsals of the same scenario found in
	// the history folder, oldest first.
	History []RehearsalHistory `json:"history"`
}

// StepTiming is one runbook step of a rehearsal. Times are scenario
// seconds; a null is a time that never came.
type StepTiming struct {
	Name        string   `json:"name"`
	Action      string   `json:"action"`
	PerformedBy string   `json:"performed_by"`
	TriggeredAt *float64 `json:"triggered_at_seconds"`
	BegunAt     *float64 `json:"begun_at_seconds"`
	DoneAt      *float64 `json:"done_at_seconds"`
	// ReactionSeconds is from the trigger to when the engineer began: what
	// the file's operator_delay assumes.
	ReactionSeconds *float64 `json:"reaction_seconds"`
	// ToDoneSeconds is from the trigger to when the platform's state
	// showed the step's effect.
	ToDoneSeconds *float64 `json:"to_done_seconds"`
	Goal          string   `json:"goal"`
	Seen          string   `json:"seen,omitempty"`
	Unwatched     string   `json:"unwatched,omitempty"`
	// AssumedDelay is the file's operator_delay as it writes it;
	// AssumedMedianSeconds its median (its value, when fixed).
	AssumedDelay         string  `json:"assumed_operator_delay"`
	AssumedMedianSeconds float64 `json:"assumed_median_seconds"`
	// ReactionPercentile is where the reaction stands among the delays the
	// file assumes (0-100): 50 is its median, 90 its p90. Null without a
	// reaction, or when the file fixes the delay (a fixed delay has no
	// spread to stand in).
	ReactionPercentile *float64        `json:"reaction_percentile"`
	Attempts           []AttemptReport `json:"attempts"`
}

// AttemptReport is one action the engineer typed.
type AttemptReport struct {
	At     float64 `json:"at_seconds"`
	Action string  `json:"action"`
	Error  string  `json:"error,omitempty"`
}

// RehearsalHistory is one earlier rehearsal of the scenario, from its
// report.json.
type RehearsalHistory struct {
	// Folder is the rehearsal's folder, relative to the history folder.
	Folder    string `json:"folder"`
	StartedAt string `json:"started_at"`
	Platform  string `json:"platform"`
	Verdict   string `json:"verdict"`
	Aborted   bool   `json:"aborted"`
	// Reaction and ToDone are each step's seconds (null: never came).
	Reaction map[string]*float64 `json:"reaction_seconds"`
	ToDone   map[string]*float64 `json:"to_done_seconds"`
	// RTO and RPO are each service's, as that rehearsal achieved them.
	RTO map[string]*float64 `json:"rto_seconds"`
	RPO map[string]float64  `json:"rpo_seconds"`
}

// rehearsalReport builds the rehearsal section; nil for a run that was not
// a rehearsal. Speed, StartedAt and History are the caller's to fill.
func rehearsalReport(run *Run) *RehearsalReport {
	if run.Rehearsal == nil {
		return nil
	}
	out := &RehearsalReport{Speed: 1, Steps: []StepTiming{}, History: []RehearsalHistory{}}
	if run.Rehearsal.StoppedAt != nil {
		out.StoppedAtSeconds = secondsPointer(*run.Rehearsal.StoppedAt)
	}
	for _, s := range run.Steps {
		t := StepTiming{Name: s.Name, Action: s.Action, Attempts: []AttemptReport{}}
		if h := s.Rehearsal; h != nil {
			t.PerformedBy, t.Goal, t.Seen, t.Unwatched = h.By, h.Goal, h.Seen, h.Unwatched
			t.AssumedDelay = h.AssumedDelay.String()
			t.AssumedMedianSeconds = seconds(time.Duration(assumedMedian(h.AssumedDelay)))
			t.TriggeredAt = optionalSeconds(h.TriggeredAt)
			t.BegunAt = optionalSeconds(h.BegunAt)
			t.DoneAt = optionalSeconds(h.StateAt)
			if h.By == ByHarness && s.DoneAt != nil && s.Error == "" && h.StateAt == nil {
				// Handed back and finished by its action, with no state
				// seen (or none watched): the action's end is the best
				// time there is.
				t.DoneAt = secondsPointer(*s.DoneAt)
			}
			if h.TriggeredAt != nil {
				if h.BegunAt != nil {
					reaction := *h.BegunAt - *h.TriggeredAt
					t.ReactionSeconds = secondsPointer(reaction)
					if !h.AssumedDelay.Fixed() {
						p := 100 * h.AssumedDelay.CDF(float64(reaction))
						p = float64(int64(p*10+0.5)) / 10
						t.ReactionPercentile = &p
					}
				}
				if t.DoneAt != nil {
					toDone := duration(*t.DoneAt) - *h.TriggeredAt
					t.ToDoneSeconds = secondsPointer(toDone)
				}
			}
			for _, a := range h.Attempts {
				t.Attempts = append(t.Attempts, AttemptReport{At: seconds(a.At), Action: a.Action, Error: a.Error})
			}
		}
		out.Steps = append(out.Steps, t)
	}
	return out
}

// assumedMedian is the median of an operator_delay: its value when fixed,
// the midpoint of a uniform one.
func assumedMedian(d platform.Distribution) float64 {
	switch d.Shape {
	case platform.ShapeLogNormal:
		return d.Median
	case platform.ShapeUniform:
		return (d.Min + d.Max) / 2
	}
	return d.Value
}

func optionalSeconds(d *time.Duration) *float64 {
	if d == nil {
		return nil
	}
	return secondsPointer(*d)
}

// HistoryOf makes the history entry of a stored rehearsal report.
func HistoryOf(folder string, r *Report) RehearsalHistory {
	h := RehearsalHistory{Folder: folder, Platform: r.Platform, Verdict: r.Verdict,
		Reaction: map[string]*float64{}, ToDone: map[string]*float64{}, RTO: map[string]*float64{}, RPO: map[string]float64{}}
	if r.Rehearsal != nil {
		h.StartedAt = r.Rehearsal.StartedAt
		h.Aborted = r.Rehearsal.StoppedAtSeconds != nil
		for _, s := range r.Rehearsal.Steps {
			h.Reaction[s.Name], h.ToDone[s.Name] = s.ReactionSeconds, s.ToDoneSeconds
		}
	}
	for name, s := range r.Services {
		h.RTO[name], h.RPO[name] = s.RTO, s.RPO
	}
	return h
}

// rehearsalTable sets each step's timings beside the file's assumption.
func rehearsalTable(r *Report) table {
	t := table{Headers: []string{"step", "performed by", "triggered", "engineer began", "reaction", "assumed operator_delay", "reaction's percentile of it", "done state", "to done"}}
	if r.Rehearsal == nil {
		return t
	}
	for _, s := range r.Rehearsal.Steps {
		by := s.PerformedBy
		if by == "" {
			by = "-"
		}
		percentile := "-"
		if s.ReactionPercentile != nil {
			percentile = fmt.Sprintf("p%.0f", *s.ReactionPercentile)
		}
		goal := s.Goal
		if s.Unwatched != "" {
			goal += " (not watched: " + s.Unwatched + ")"
		}
		t.Rows = append(t.Rows, []string{s.Name, by, formatOptionalSeconds(s.TriggeredAt, "never"), formatOptionalSeconds(s.BegunAt, "-"),
			formatOptionalSeconds(s.ReactionSeconds, "-"), s.AssumedDelay, percentile, goal, formatOptionalSeconds(s.ToDoneSeconds, "never")})
	}
	return t
}

// historyTable lists this rehearsal and the earlier ones: each step's time
// to done and each service's RTO.
func historyTable(r *Report) table {
	if r.Rehearsal == nil {
		return table{}
	}
	var steps []string
	for _, s := range r.Rehearsal.Steps {
		steps = append(steps, s.Name)
	}
	services := r.ServiceNames()
	headers := []string{"rehearsal", "platform", "verdict"}
	for _, s := range steps {
		headers = append(headers, s+" to done")
	}
	for _, s := range services {
		headers = append(headers, s+" RTO")
	}
	t := table{Headers: headers}
	this := HistoryOf("this one", r)
	for _, h := range append(append([]RehearsalHistory{}, r.Rehearsal.History...), this) {
		name := h.Folder
		if h.Aborted {
			name += " (aborted)"
		}
		row := []string{name, h.Platform, h.Verdict}
		for _, s := range steps {
			row = append(row, formatOptionalSeconds(h.ToDone[s], "never"))
		}
		for _, s := range services {
			row = append(row, formatOptionalSeconds(h.RTO[s], "never"))
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// rehearsalSentence says how the rehearsal ended, for report.md.
func rehearsalSentence(r *Report) string {
	if r.Rehearsal == nil {
		return ""
	}
	var parts []string
	if r.Platform == "sim" {
		parts = append(parts, fmt.Sprintf("A tabletop rehearsal on the simulator at %g times wall speed", r.Rehearsal.Speed))
	} else {
		parts = append(parts, "A rehearsal on "+r.Platform)
	}
	if r.Rehearsal.StartedAt != "" {
		parts[0] += ", begun " + r.Rehearsal.StartedAt
	}
	if r.Rehearsal.StoppedAtSeconds != nil {
		parts = append(parts, fmt.Sprintf("the engineer aborted it at %s: what was due after that was not rehearsed", formatSeconds(*r.Rehearsal.StoppedAtSeconds)))
	}
	return strings.Join(parts, "; ") + ". The RTO and RPO above are the ones the people rehearsing achieved."
}

// rehearsal checks a stored rehearsal section: known performers, times in
// range.
func (v *validator) rehearsal(r *RehearsalReport) {
	if r == nil {
		return
	}
	if !(r.Speed > 0) {
		v.add("rehearsal.speed: %v, want a positive number", r.Speed)
	}
	v.seconds("rehearsal.stopped_at_seconds", r.StoppedAtSeconds)
	for i, s := range r.Steps {
		p := fmt.Sprintf("rehearsal.steps[%d]", i)
		switch s.PerformedBy {
		case "", ByEngineer, ByHarness, BySkipped:
		default:
			v.add("%s.performed_by: %q is not one of engineer, harness, skipped", p, s.PerformedBy)
		}
		v.seconds(p+".triggered_at_seconds", s.TriggeredAt)
		v.seconds(p+".begun_at_seconds", s.BegunAt)
		v.seconds(p+".done_at_seconds", s.DoneAt)
		v.seconds(p+".reaction_seconds", s.ReactionSeconds)
		v.seconds(p+".to_done_seconds", s.ToDoneSeconds)
	}
}
