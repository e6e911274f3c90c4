package platform

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Parameter kinds: the form of a parameter's values.
const (
	ParamDuration = "duration" // a Go duration: "10s", "250ms"
	ParamInt      = "int"      // a whole number
	ParamFloat    = "float"    // a finite number
	ParamBool     = "bool"     // exactly true or false
)

// Default ranges of the parameter kinds, for a parameter that sets no Min
// or Max of its own. They keep every value a model reads inside what its
// arithmetic can take: no negative time, no duration that could overflow
// time.Duration once added to a scenario's time, no count or rate large
// enough to mean unbounded work.
const (
	// MaxParameterDuration is the longest duration any parameter takes: as
	// long as the longest scenario (a week).
	MaxParameterDuration = 7 * 24 * time.Hour
	// MinPeriod is the shortest period a periodic parameter takes (see
	// [Parameter.Periodic]): a period of zero would repeat forever at one
	// instant, and none of the modelled systems polls, checks or flushes
	// more than once a millisecond.
	MinPeriod = time.Millisecond
	// MaxParameterNumber bounds whole-number and floating-point parameters
	// (counts, sizes, rates in MB/s, fractions).
	MaxParameterNumber = 1_000_000
	// MaxPercent bounds a percentage parameter (see [Parameter.Percent]):
	// a share of a disk, a watermark.
	MaxPercent = 100
)

// Percent reports whether the parameter is a percentage (its name ends in
// "_percent" or "_watermark", e.g. disk.usage_percent,
// es.flood_stage_watermark): its values are from 0 to MaxPercent.
func (p Parameter) Percent() bool {
	return strings.HasSuffix(p.Name, "_percent") || strings.HasSuffix(p.Name, "_watermark")
}

// Periodic reports whether the parameter is the period of something that
// repeats (its name ends in "_interval", e.g. mongo.heartbeat_interval):
// its values must be at least MinPeriod, and a scenario may not ask for
// more repetitions of it than the scenario loader's limit.
func (p Parameter) Periodic() bool { return strings.HasSuffix(p.Name, "_interval") }

// ValueKind is the parameter's Kind, or when it sets none the form of its
// Default (a periodic parameter whose default is a placeholder such as
// "topology" takes durations). Empty when neither says: any text is taken.
func (p Parameter) ValueKind() string {
	if p.Kind != "" {
		return p.Kind
	}
	d := p.Default
	switch {
	case d == "true" || d == "false":
		return ParamBool
	case isInt(d):
		return ParamInt
	case isFloat(d):
		return ParamFloat
	case isDuration(d), p.Periodic():
		return ParamDuration
	}
	return ""
}

func isInt(s string) bool { _, err := strconv.Atoi(s); return err == nil }

func isFloat(s string) bool { _, err := strconv.ParseFloat(s, 64); return err == nil }

func isDuration(s string) bool { _, err := time.ParseDuration(s); return err == nil }

// Range returns the inclusive bounds the parameter's values must lie in,
// written in its form: its own Min and Max, else its kind's default range
// (a percentage's up to MaxPercent).
// Both are empty for booleans and for text.
func (p Parameter) Range() (lowest, highest string) {
	lowest, highest = p.Min, p.Max
	switch p.ValueKind() {
	case ParamDuration:
		if lowest == "" {
			lowest = "0s"
			if p.Periodic() {
				lowest = MinPeriod.String()
			}
		}
		if highest == "" {
			highest = MaxParameterDuration.String()
		}
	case ParamInt, ParamFloat:
		if lowest == "" {
			lowest = "0"
		}
		if highest == "" {
			highest = strconv.Itoa(MaxParameterNumber)
			if p.Percent() {
				highest = strconv.Itoa(MaxPercent)
			}
		}
	}
	return lowest, highest
}

// Check reports whether value is acceptable for the parameter: of its kind
// (a duration, a whole number, a finite number, exactly true or false) and
// inside its range. Its own default is always acceptable. The error says
// what is wanted ("want a duration from 1ms to 168h0m0s, got \"0s\"").
func (p Parameter) Check(value string) error {
	if value == p.Default {
		return nil
	}
	lowest, highest := p.Range()
	switch kind := p.ValueKind(); kind {
	case ParamBool:
		if value != "true" && value != "false" {
			return fmt.Errorf("want true or false, got %q", value)
		}
	case ParamDuration:
		lo, _ := time.ParseDuration(lowest)
		hi, _ := time.ParseDuration(highest)
		d, err := time.ParseDuration(value)
		if err != nil || d < lo || d > hi {
			if lo == hi {
				return fmt.Errorf("want %s, the only value it takes, got %q", lo, value)
			}
			return fmt.Errorf("want a duration from %s to %s, got %q", lo, hi, value)
		}
		if step, err := time.ParseDuration(p.Step); err == nil && step > 0 && d%step != 0 {
			return fmt.Errorf("want a whole number of %s, got %q", step, value)
		}
	case ParamInt:
		lo, _ := strconv.Atoi(lowest)
		hi, _ := strconv.Atoi(highest)
		n, err := strconv.Atoi(value)
		if err != nil || n < lo || n > hi {
			return fmt.Errorf("want a whole number from %d to %d, got %q", lo, hi, value)
		}
	case ParamFloat:
		lo, _ := strconv.ParseFloat(lowest, 64)
		hi, _ := strconv.ParseFloat(highest, 64)
		f, err := strconv.ParseFloat(value, 64)
		// NaN compares false with everything, so it is refused by name.
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < lo || f > hi {
			return fmt.Errorf("want a finite number from %s to %s, got %q", lowest, highest, value)
		}
	}
	return nil
}
