package reports

import (
	"fmt"
	"strings"
	"time"
)

// sampledTable lists what the run drew from its seed (Report.Sampled): each
// fault time, operator delay, parameter and burst phase by name, and the
// link latencies in one row (their range and count; report.json has each).
func sampledTable(r *Report) table {
	t := table{Headers: []string{"drawn for", "value"}}
	var links []time.Duration
	names := make([]string, 0, len(r.Sampled))
	for name := range r.Sampled {
		names = append(names, name)
	}
	sortStrings(names)
	for _, name := range names {
		value := r.Sampled[name]
		if strings.HasPrefix(name, "latency.") {
			if d, err := time.ParseDuration(value); err == nil {
				links = append(links, d)
				continue
			}
		}
		t.Rows = append(t.Rows, []string{name, RoundDurations(value)})
	}
	if len(links) > 0 {
		lo, hi := links[0], links[0]
		for _, d := range links {
			lo, hi = min(lo, d), max(hi, d)
		}
		t.Rows = append(t.Rows, []string{fmt.Sprintf("link latencies (%d links)", len(links)), FormatDuration(lo) + " to " + FormatDuration(hi)})
	}
	return t
}
