package platform

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a time.Duration written in scenario files as a Go duration
// string ("90s", "1m30s", "250ms").
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// UnmarshalYAML accepts a duration string. A bare number is refused: its unit
// would be a guess.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		return fmt.Errorf("want a duration such as \"30s\" or \"2m\", got %q", n.Value)
	}
	v, err := ParseDuration(n.Value)
	if errors.Is(err, ErrDurationOverflow) {
		return err
	}
	if err != nil {
		return fmt.Errorf("want a duration such as \"30s\" or \"2m\", got %q", n.Value)
	}
	*d = Duration(v)
	return nil
}

// ErrDurationOverflow is a well-formed duration too long for the clock.
var ErrDurationOverflow = errors.New("overflows")

// durationSyntax is Go's duration grammar (https://pkg.go.dev/time#ParseDuration),
// so that a duration ParseDuration refuses can be told apart as too long.
var durationSyntax = regexp.MustCompile(`^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$`)

// ParseDuration reads a Go duration ("90s", "1h30m"). A well-formed one
// beyond time.Duration's range (about 2,562,047h) is ErrDurationOverflow,
// said as such, not as a malformed value.
func ParseDuration(text string) (time.Duration, error) {
	v, err := time.ParseDuration(text)
	if err != nil && durationSyntax.MatchString(text) {
		return 0, fmt.Errorf("%q %w: the longest duration the clock holds is %s", text, ErrDurationOverflow, time.Duration(math.MaxInt64).Truncate(time.Hour))
	}
	return v, err
}

// MarshalYAML writes the duration string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// MarshalJSON writes the duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}
