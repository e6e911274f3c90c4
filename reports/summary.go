package reports

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Summary writes a short summary for the terminal: per service what was
// acknowledged and lost, RTO and RPO, and its reads by class; every check
// that did not pass, with its result; the verdict and what it rests on.
func Summary(w io.Writer, r *Report) {
	fmt.Fprintf(w, "scenario %s on %s, seed %d, %s\n", r.Scenario, r.Platform, r.Seed, formatSeconds(r.DurationSeconds))
	if len(r.Services) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "service\tacked\tfailed\tunknown\tlost\tRTO\tRPO\tredundancy\t")
		for _, name := range r.ServiceNames() {
			s := r.Services[name]
			lost, rpo := strconv.FormatInt(s.Lost, 10), formatSeconds(s.RPO)
			if s.ReadBack == ReadBackFailed {
				lost, rpo = notReadBack, notReadBack
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t\n", name, s.Acked, s.Failed, s.Unknown, lost,
				formatOptionalSeconds(s.RTO, "never"), rpo, formatOptionalSeconds(s.Redundancy, "-"))
		}
		tw.Flush()
		for _, name := range r.ServiceNames() {
			if reads := r.Services[name].Reads; reads != nil {
				fmt.Fprintf(w, "  %s reads: %d ok, %d stale, %d dirty, %d failed, %d unknown\n", name, reads.OK, reads.Stale, reads.Dirty, reads.Failed, reads.Unknown)
			}
		}
	}
	for _, e := range r.Expectations {
		if result := effectiveResult(r, e); result != VerdictPass {
			fmt.Fprintf(w, "%s %s: observed %s\n", strings.ToUpper(result), e.Name, e.Observed)
		}
	}
	fmt.Fprintf(w, "%s: %s\n", strings.ToUpper(r.Verdict), verdictSentence(r))
}
