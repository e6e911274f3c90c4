package sweep

import (
	"fmt"
	"math"
	"reflect"

	"github.com/chaosdrill/chaosdrill/reports"
	"github.com/chaosdrill/chaosdrill/scenarios"
)

// Figures a sweep keeps per service and seed, in this order; the names are
// their keys in sweep.json. RTO is +Inf for a service that never recovered
// (null in sweep.json); a figure that could not be measured is NaN (left
// out of sweep.json, and Unmeasured says why).
const (
	MetricRTO        = "rto_seconds"          // seconds from the fault to the first write acknowledged after the outage
	MetricRPO        = "rpo_seconds"          // seconds of acknowledged writes lost
	MetricLost       = "lost_writes"          // acknowledged writes the read-back did not find
	MetricUnknown    = "unknown_writes"       // writes whose outcome the client never learned
	MetricLatencyP50 = "write_latency_p50_ms" // the seed's median acknowledged write latency, ms
	MetricLatencyP99 = "write_latency_p99_ms" // the seed's 99th percentile acknowledged write latency, ms
)

// Metrics lists the figures in the order a Figures array holds them.
var Metrics = []string{MetricRTO, MetricRPO, MetricLost, MetricUnknown, MetricLatencyP50, MetricLatencyP99}

const (
	iRTO = iota
	iRPO
	iLost
	iUnknown
	iP50
	iP99
	nMetrics
)

// metricIndex returns the place of a metric in Figures, or -1.
func metricIndex(name string) int {
	for i, m := range Metrics {
		if m == name {
			return i
		}
	}
	return -1
}

// Figures are one service's figures in one seed, indexed as Metrics.
type Figures [nMetrics]float64

// ServiceSeed is what a sweep keeps of one service in one seed.
type ServiceSeed struct {
	Figures Figures
	// Unmeasured says why figures are NaN: "not-rehearsed" (a fault or
	// step the service depends on did not happen: nothing is measured),
	// "unverified: no write acknowledged" (nothing is measured) or
	// "unverified: read-back failed" (lost writes and RPO are not); ""
	// when every figure was measured.
	Unmeasured string
}

// Reasons a service's figures were not measured.
const (
	UnmeasuredNotRehearsed = "not-rehearsed"
	UnmeasuredNoAcks       = "unverified: no write acknowledged"
	UnmeasuredReadBack     = "unverified: read-back failed"
)

// Seed is what a sweep keeps of one run: its seed, verdict, the checks
// that did not pass (name -> result) and, per service of the sweep (in
// Result.Services order), its figures.
type Seed struct {
	Seed     uint64
	Verdict  string
	Unmet    map[string]string
	Services []ServiceSeed
}

// ExpectationRows is how many checks the report of any run of sc starts
// with: one per bound of each expectation (every pointer field of
// scenarios.Expectation is one bound and one check), in the file's order.
// These checks are in every report; the ones after them (a fault or step
// that did not happen, a read-back that failed) only in the reports where
// they did not pass.
func ExpectationRows(sc *scenarios.Scenario) int {
	n := 0
	for _, e := range sc.Expect {
		v := reflect.ValueOf(e)
		for i := range v.NumField() {
			if f := v.Field(i); f.Kind() == reflect.Pointer && !f.IsNil() {
				n++
			}
		}
	}
	return n
}

// Summarise keeps of a report what a sweep needs; services names the
// services of the sweep. The report can then be dropped.
func Summarise(rep *reports.Report, services []string) Seed {
	s := Seed{Seed: rep.Seed, Verdict: rep.Verdict, Services: make([]ServiceSeed, len(services))}
	notRehearsed := map[string]bool{}
	for _, c := range rep.Expectations {
		if c.Result == reports.VerdictPass {
			continue
		}
		if s.Unmet == nil {
			s.Unmet = map[string]string{}
		}
		s.Unmet[c.Name] = c.Result
		if c.Result == reports.VerdictNotRehearsed && c.Service != "" {
			notRehearsed[c.Service] = true
		}
	}
	for i, name := range services {
		r, ok := rep.Services[name]
		var f Figures
		if !ok {
			for j := range f {
				f[j] = math.NaN()
			}
			s.Services[i] = ServiceSeed{Figures: f, Unmeasured: UnmeasuredNoAcks}
			continue
		}
		f[iRTO] = math.Inf(1)
		if r.RTO != nil {
			f[iRTO] = *r.RTO
		}
		f[iRPO] = r.RPO
		f[iLost] = float64(r.Lost)
		f[iUnknown] = float64(r.Unknown)
		f[iP50] = r.WriteLatency.P50
		f[iP99] = r.WriteLatency.P99
		why := ""
		switch {
		case notRehearsed[name]:
			why = UnmeasuredNotRehearsed
		case r.Acked == 0:
			why = UnmeasuredNoAcks
		case r.ReadBack == reports.ReadBackFailed:
			why = UnmeasuredReadBack
		}
		s.Services[i] = ServiceSeed{Figures: blank(f, why), Unmeasured: why}
	}
	return s
}

// blank sets to NaN the figures that why says were not measured.
func blank(f Figures, why string) Figures {
	switch why {
	case "":
	case UnmeasuredReadBack:
		f[iLost], f[iRPO] = math.NaN(), math.NaN()
	default:
		for i := range f {
			f[i] = math.NaN()
		}
	}
	return f
}

// maxFigure bounds a figure read from a file: more writes than a scenario
// may issue (scenarios.MaxOperations) and more seconds or milliseconds
// than it may last (a week) are both far below it, and whole numbers up to
// it are exact in a float64.
const maxFigure = 1 << 40

// checkSeed checks what Decode cannot take on trust in a seed read from a
// file.
func checkSeed(s Seed, services int) error {
	if !isVerdict(s.Verdict) {
		return fmt.Errorf("seed %d: verdict %q is not one of %v", s.Seed, s.Verdict, reports.Verdicts)
	}
	for name, result := range s.Unmet {
		if result == reports.VerdictPass || !isVerdict(result) || result == reports.VerdictError {
			return fmt.Errorf("seed %d: check %q: result %q is not one of fail, not-rehearsed, unverified", s.Seed, name, result)
		}
	}
	if len(s.Services) != services {
		return fmt.Errorf("seed %d: %d services, the sweep has %d", s.Seed, len(s.Services), services)
	}
	for _, svc := range s.Services {
		want := blank(Figures{}, svc.Unmeasured)
		for i, x := range svc.Figures {
			switch {
			case math.IsNaN(want[i]) != math.IsNaN(x):
				return fmt.Errorf("seed %d: %s is %v, which does not agree with unmeasured %q", s.Seed, Metrics[i], x, svc.Unmeasured)
			case math.IsInf(x, -1) || x < 0:
				return fmt.Errorf("seed %d: %s is %v; figures are never negative", s.Seed, Metrics[i], x)
			case x > maxFigure && !math.IsInf(x, 1):
				return fmt.Errorf("seed %d: %s is %v, more than any run measures", s.Seed, Metrics[i], x)
			case math.IsInf(x, 1) && i != iRTO:
				return fmt.Errorf("seed %d: %s is unbounded; only an RTO can be (never recovered)", s.Seed, Metrics[i])
			}
		}
	}
	return nil
}

func isVerdict(v string) bool {
	for _, w := range reports.Verdicts {
		if v == w {
			return true
		}
	}
	return false
}
