package reports

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// outageWindowsListed bounds the outage windows listed per service in a
// report (the longest ones); the count and the total are always complete.
const outageWindowsListed = 100

// OutageWindow is one outage of a service (the package documentation
// defines it, under Measures). Start is the issue of its first unserved
// write; End the earliest acknowledgement of a served write issued since,
// null when none came within the run. Failed, Unknown and Lost count its
// unserved writes by outcome (Lost: acknowledged, then missing on
// read-back).
type OutageWindow struct {
	Start   float64  `json:"start_seconds"`
	End     *float64 `json:"end_seconds"`
	Seconds *float64 `json:"seconds"`
	Failed  int64    `json:"writes_failed"`
	Unknown int64    `json:"writes_unknown"`
	Lost    int64    `json:"writes_lost"`
}

// outageWindow is an OutageWindow while the ledger is read: times as
// durations.
type outageWindow struct {
	start, end            time.Duration
	open                  bool
	failed, unknown, lost int64
}

func (w *outageWindow) length() time.Duration { return w.end - w.start }

// outages follows one service's writes in issue order and keeps its
// outage windows: the longest few, the count, the total time, and the
// longest one that matters for the RTO. The window being read ends at the
// earliest acknowledgement of a served write issued since it started
// (current.end, noAck while there is none); it closes once a write is
// issued at or after that, since none issued later can be acknowledged
// earlier.
type outages struct {
	// current is the window being read, when inWindow.
	current  outageWindow
	inWindow bool

	listed []outageWindow // at most outageWindowsListed, the longest so far
	count  int64
	total  time.Duration

	// rto is the longest window that ended after the reference fault (or
	// is open), counted from the fault if it began before, when hasRTO.
	rto    outageWindow
	hasRTO bool
}

// noAck is the end of a window no served write has ended yet.
const noAck = time.Duration(math.MaxInt64)

// issued closes the window in progress if a write issued at invoked comes
// after its end: the client had seen the service again by then. faultAt is
// the reference fault (hasFault false: none).
func (o *outages) issued(invoked time.Duration, hasFault bool, faultAt time.Duration) {
	if o.inWindow && invoked >= o.current.end {
		o.inWindow = false
		o.close(o.current, hasFault, faultAt)
	}
}

// unserved notes a write issued at invoked that was not served: it starts
// a window, or joins the one in progress, counted by outcome.
func (o *outages) unserved(invoked time.Duration, failed, unknown, lost int64) {
	if !o.inWindow {
		o.inWindow = true
		o.current = outageWindow{start: invoked, end: noAck}
	}
	o.current.failed += failed
	o.current.unknown += unknown
	o.current.lost += lost
}

// served notes a served write acknowledged at acked: the window in
// progress ends there at the latest.
func (o *outages) served(acked time.Duration) {
	if o.inWindow {
		o.current.end = min(o.current.end, acked)
	}
}

// finish closes the window still in progress at the end of the run: at its
// end, or open (counted in the total up to runEnd) when no served write
// ended it.
func (o *outages) finish(runEnd time.Duration, hasFault bool, faultAt time.Duration) {
	if !o.inWindow {
		return
	}
	o.inWindow = false
	if o.current.end == noAck {
		o.current.open = true
		o.current.end = max(runEnd, o.current.start)
	}
	o.close(o.current, hasFault, faultAt)
}

func (o *outages) close(w outageWindow, hasFault bool, faultAt time.Duration) {
	o.count++
	o.total += w.length()
	if hasFault && (w.open || w.end > faultAt) {
		// An outage the fault caused starts with it at the earliest: the
		// writes in flight when it hit, or acknowledged just before and
		// lost with it (the RPO), are in the window but not in the RTO.
		since := w
		since.start = max(w.start, faultAt)
		if !o.hasRTO || longer(since, o.rto) {
			o.rto, o.hasRTO = since, true
		}
	}
	if len(o.listed) < outageWindowsListed {
		o.listed = append(o.listed, w)
		return
	}
	shortest := 0
	for i := range o.listed {
		if longer(o.listed[shortest], o.listed[i]) {
			shortest = i
		}
	}
	if longer(w, o.listed[shortest]) {
		o.listed[shortest] = w
	}
}

// longer orders windows by length, an open one above any closed one.
func longer(a, b outageWindow) bool {
	if a.open != b.open {
		return a.open
	}
	return a.length() > b.length()
}

// report lists the kept windows in time order.
func (o *outages) report() []OutageWindow {
	slices.SortFunc(o.listed, func(a, b outageWindow) int { return cmp.Compare(a.start, b.start) })
	out := make([]OutageWindow, 0, len(o.listed))
	for _, w := range o.listed {
		r := OutageWindow{Start: seconds(w.start), Failed: w.failed, Unknown: w.unknown, Lost: w.lost}
		if !w.open {
			r.End = secondsPointer(w.end)
			r.Seconds = secondsPointer(w.length())
		}
		out = append(out, r)
	}
	return out
}
