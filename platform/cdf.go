package platform

import "math"

// CDF is the share of the distribution's values at or below v, from 0 to
// 1: where an observed value stands among those the distribution assumes
// (a rehearsal sets the engineer's measured delay beside the file's
// operator_delay this way). A fixed distribution is a step at its value.
func (d Distribution) CDF(v float64) float64 {
	switch d.Shape {
	case ShapeLogNormal:
		if v <= 0 {
			return 0
		}
		sigma := d.sigma()
		if !(sigma > 0) {
			return step(v, d.Median)
		}
		return 0.5 * math.Erfc(-(math.Log(v)-math.Log(d.Median))/(sigma*math.Sqrt2))
	case ShapeUniform:
		if d.Max <= d.Min {
			return step(v, d.Min)
		}
		return math.Min(1, math.Max(0, (v-d.Min)/(d.Max-d.Min)))
	}
	return step(v, d.Value)
}

func step(v, at float64) float64 {
	if v < at {
		return 0
	}
	return 1
}
