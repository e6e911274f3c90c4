package reports

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Summary writes a short summary for the terminal: per service what was
// acknowledged and lost, RTO and RPO; the expectations that failed; the
// verdict.
func Summary(w io.Writer, r *Report) {
	fmt.Fprintf(w, "scenario %s on %s, seed %d, %s\n", r.Scenario, r.Platform, r.Seed, formatSeconds(r.DurationSeconds))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "service\tacked\tfailed\tunknown\tlost\tRTO\tRPO\tredundancy\t")
	for _, name := range r.ServiceNames() {
		s := r.Services[name]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t\n", name, s.Acked, s.Failed, s.Unknown, s.Lost,
			formatOptionalSeconds(s.RTO, "never"), formatSeconds(s.RPO), formatOptionalSeconds(s.Redundancy, "-"))
	}
	tw.Flush()
	held := 0
	for _, e := range r.Expectations {
		if e.Pass {
			held++
			continue
		}
		fmt.Fprintf(w, "FAIL %s: observed %s\n", e.Name, e.Observed)
	}
	fmt.Fprintf(w, "%s: %s of %d expectations held\n", strings.ToUpper(r.Verdict), strconv.Itoa(held), len(r.Expectations))
}
