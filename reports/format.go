package reports

import (
	"math"
	"regexp"
	"strconv"
	"time"
)

// FormatDuration writes a time or a span the one way chaosdrill prints
// them, on the console and in every report file: a Go duration rounded to
// the millisecond ("3m31.732s"), a span shorter than a millisecond to the
// microsecond ("420µs") so that it does not read as nothing.
func FormatDuration(d time.Duration) string {
	if d != 0 && d > -time.Millisecond && d < time.Millisecond {
		return d.Round(time.Microsecond).String()
	}
	return d.Round(time.Millisecond).String()
}

// goDuration matches a Go duration with a fraction written inside free
// text (an event's detail): "2m7.20597121s", "33.346226ms".
var goDuration = regexp.MustCompile(`\b(?:\d+h)?(?:\d+m)?\d+\.\d+(?:s|ms|µs|us|ns)\b`)

// RoundDurations rewrites the Go durations inside a text, such as a
// platform event's detail, with FormatDuration, so that a timeline never
// shows one to the nanosecond beside times rounded to the millisecond.
func RoundDurations(text string) string {
	return goDuration.ReplaceAllStringFunc(text, func(s string) string {
		d, err := time.ParseDuration(s)
		if err != nil {
			return s
		}
		return FormatDuration(d)
	})
}

// FormatPercent writes a relative change as a whole percentage with its
// sign ("+12%", "-3%"), never "-0%" or "+0%": a change that rounds to
// nothing is "0%".
func FormatPercent(fraction float64) string {
	p := math.Round(fraction * 100)
	if p == 0 || math.IsNaN(p) {
		return "0%"
	}
	text := strconv.FormatFloat(p, 'f', 0, 64) + "%"
	if p > 0 {
		text = "+" + text
	}
	return text
}
