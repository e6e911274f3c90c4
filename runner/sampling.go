package runner

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/scenarios"
)

// sampler draws what a scenario leaves to chance: fault and step times
// from their windows, operator delays and model parameters from their
// distributions, workload arrivals and the phase of their bursts. Each
// purpose draws from its own stream of the run's seed, named
// "runner/PURPOSE/NAME" (platform.RandomStream, the way the simulator
// splits its streams), so one seed draws the same values on every platform
// and adding a fault or a step never moves another's draw. The runner does
// this, not the platform, so that a live run draws what the simulator
// draws.
type sampler struct {
	seed uint64
	// drawn records every value drawn, by the field of the file it was
	// drawn for (faults.NAME.at, runbook.NAME.operator_delay,
	// parameters.NAME, workloads.SERVICE.bursts.start); the report lists
	// them.
	drawn map[string]string
}

func newSampler(seed uint64) *sampler { return &sampler{seed: seed, drawn: map[string]string{}} }

func (s *sampler) stream(purpose, name string) *rand.Rand {
	return platform.RandomStream(s.seed, "runner/"+purpose+"/"+name)
}

// parameters returns the run's parameter overrides as the platform takes
// them, a distribution drawn once.
func (s *sampler) parameters(values map[string]scenarios.ParameterValue) map[string]string {
	if len(values) == 0 {
		return nil
	}
	out := make(map[string]string, len(values))
	for _, name := range platform.SortedKeys(values) {
		v := values[name]
		out[name] = v.Sample(s.stream("parameter", name))
		if !v.Fixed() {
			s.drawn["parameters."+name] = out[name]
		}
	}
	return out
}

// faultAt is when fault f is due, if the file gives it a time.
func (s *sampler) faultAt(f scenarios.Fault) *time.Duration {
	return s.time(f.At, "fault-at", f.Name, "faults."+f.Name+".at")
}

// stepAt is when step st is due, if the file gives it a time.
func (s *sampler) stepAt(st scenarios.Step) *time.Duration {
	return s.time(st.At, "step-at", st.Name, "runbook."+st.Name+".at")
}

func (s *sampler) time(t *scenarios.Time, purpose, name, field string) *time.Duration {
	if t == nil {
		return nil
	}
	at := t.Sample(s.stream(purpose, name))
	if !t.Fixed() {
		s.drawn[field] = at.String()
	}
	return &at
}

// operatorDelay is how long the operator of step st takes on this run.
func (s *sampler) operatorDelay(st scenarios.Step) time.Duration {
	d := st.OperatorDelay.SampleDuration(s.stream("operator-delay", st.Name))
	if !st.OperatorDelay.Fixed() {
		s.drawn["runbook."+st.Name+".operator_delay"] = d.String()
	}
	return d
}

// arrivals builds workload w's arrival process; no write comes at or after
// stop.
func (s *sampler) arrivals(w scenarios.Workload, stop time.Duration) arrivals {
	a := arrivals{perNano: w.Rate / float64(time.Second), stop: stop}
	// A service's read workload draws from streams of its own, not its
	// write workload's (which would make reads arrive with the writes).
	name, field := w.Service, "workloads."+w.Service
	if w.Reads() {
		name, field = w.Service+"/reads", "workloads."+w.Service+".reads"
	}
	a.interval = w.Interval() // saturates: a rate too low for its interval to fit gives one write
	if w.Arrival != scenarios.ArrivalConstant {
		a.poisson = true
		a.random = s.stream("arrivals", name)
	}
	if b := w.Bursts; b != nil {
		a.bursts = true
		a.every, a.length, a.factor = b.Every.D(), b.Length.D(), b.Factor
		if b.Start != nil {
			a.start = b.Start.D()
		} else {
			phase := platform.Distribution{Shape: platform.ShapeUniform, Duration: true, Max: float64(a.every)}
			a.start = phase.SampleDuration(s.stream("bursts", name))
			s.drawn[field+".bursts.start"] = a.start.String()
		}
	}
	return a
}

// arrivals is a workload's arrival process: a Poisson process (exponential
// gaps from its own stream) or evenly spaced writes, at the workload's rate,
// or at factor times it during a burst. It is a value inside the workload
// handler, so drawing the next arrival allocates nothing.
type arrivals struct {
	poisson  bool
	random   *rand.Rand
	perNano  float64       // the mean rate, writes per nanosecond
	interval time.Duration // 1/rate, the constant gap outside bursts

	bursts               bool
	every, length, start time.Duration
	factor               float64

	stop time.Duration // the end of the workload: nothing is drawn past it
}

// first is the time of the first write: at once for evenly spaced writes,
// one gap in for a Poisson process (which has no write at time 0).
func (a *arrivals) first() time.Duration {
	if !a.poisson {
		return 0
	}
	return a.after(0)
}

// after is the time of the write after one at t.
func (a *arrivals) after(t time.Duration) time.Duration {
	if !a.bursts {
		if !a.poisson {
			return later(t, float64(a.interval))
		}
		return later(t, a.random.ExpFloat64()/a.perNano)
	}
	// With bursts the rate is piecewise constant: spend one write's worth
	// of the integrated rate (1 for evenly spaced writes, an exponential
	// draw for Poisson), moving across rate changes as needed. For a
	// Poisson process this is exact (a Poisson process of varying rate is
	// one of rate 1 in the integrated rate's time).
	work := 1.0
	if a.poisson {
		work = a.random.ExpFloat64()
	}
	for {
		if t >= a.stop {
			// A rate so low (or a lull so deep) that no write comes
			// before the end: do not walk the cycles to the clock's end.
			return math.MaxInt64
		}
		rate, until := a.rateAt(t)
		gap := work / rate
		if gap <= float64(until-t) {
			return later(t, math.Round(gap))
		}
		work -= float64(until-t) * rate
		t = until
	}
}

// rateAt is the rate at t, in writes per nanosecond, and when it next
// changes.
func (a *arrivals) rateAt(t time.Duration) (float64, time.Duration) {
	if t < a.start {
		return a.perNano, a.start
	}
	phase := (t - a.start) % a.every
	cycle := t - phase
	if phase < a.length {
		return a.perNano * a.factor, cycle + a.length
	}
	return a.perNano, cycle + a.every
}

// later is t plus gap nanoseconds, at least 1 ns later, saturating at the
// largest time.Duration instead of wrapping: a gap too long for the clock
// (a tiny rate) means no further write, never a write storm at a wrapped,
// negative time.
func later(t time.Duration, gap float64) time.Duration {
	if !(gap < float64(math.MaxInt64-t)) {
		return math.MaxInt64
	}
	return t + max(1, time.Duration(gap))
}
