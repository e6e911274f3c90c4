package reports

import (
	"fmt"
	"time"

	"github.com/chaosdrill/chaosdrill/scenarios"
)

// checkExpectations gives one result per bound set in each expectation, in
// the order the scenario lists them.
func checkExpectations(expect []scenarios.Expectation, services map[string]*ServiceReport) []ExpectationResult {
	results := []ExpectationResult{}
	for _, e := range expect {
		s, measured := services[e.Service]
		add := func(bound string, pass func() bool, observed func() string) {
			r := ExpectationResult{Name: e.Service + ": " + bound, Service: e.Service}
			if !measured {
				r.Observed = "no writes recorded for the service"
			} else {
				r.Pass = pass()
				r.Observed = observed()
			}
			results = append(results, r)
		}
		lost := func() string { return fmt.Sprintf("%d lost writes", s.Lost) }
		rto := func() string {
			if s.RTO == nil {
				return "never recovered"
			}
			return "rto " + formatSeconds(*s.RTO)
		}
		if e.LostWrites != nil {
			add(fmt.Sprintf("lost writes <= %d", *e.LostWrites),
				func() bool { return s.Lost <= int64(*e.LostWrites) }, lost)
		}
		if e.MinLost != nil {
			add(fmt.Sprintf("lost writes >= %d", *e.MinLost),
				func() bool { return s.Lost >= int64(*e.MinLost) }, lost)
		}
		if e.RTOMax != nil {
			add("rto <= "+e.RTOMax.String(),
				func() bool { return s.RTO != nil && duration(*s.RTO) <= e.RTOMax.D() }, rto)
		}
		if e.RTOMin != nil {
			// A service that never came back was out for at least any bound.
			add("rto >= "+e.RTOMin.String(),
				func() bool { return s.RTO == nil || duration(*s.RTO) >= e.RTOMin.D() }, rto)
		}
		if e.RPOMax != nil {
			add("rpo <= "+e.RPOMax.String(),
				func() bool { return duration(s.RPO) <= e.RPOMax.D() },
				func() string { return "rpo " + formatSeconds(s.RPO) })
		}
		if e.Recovers != nil {
			bound := "recovers"
			if !*e.Recovers {
				bound = "does not recover"
			}
			add(bound, func() bool { return (s.RTO != nil) == *e.Recovers }, func() string {
				if s.RTO == nil {
					return "never recovered"
				}
				return "recovered, rto " + formatSeconds(*s.RTO)
			})
		}
	}
	return results
}

// formatSeconds writes report seconds as a Go duration rounded to the
// millisecond ("12.345s", "1m30s").
func formatSeconds(s float64) string {
	return duration(s).Round(time.Millisecond).String()
}

// formatOptionalSeconds writes a nil time as never.
func formatOptionalSeconds(s *float64, never string) string {
	if s == nil {
		return never
	}
	return formatSeconds(*s)
}
