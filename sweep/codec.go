package sweep

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strings"

	"github.com/chaosdrill/chaosdrill/scenarios"
)

// Limits of what Decode reads.
const (
	// MaxSeeds is the most seeds one sweep runs (with a what-if, seeds ×
	// values): about 7 hours of the simulator on one core at the library's
	// speed; a larger one is several sweeps.
	MaxSeeds = 1_000_000
	// MaxShards is the most shards a sweep is spread over.
	MaxShards = 10_000
	// MaxFileBytes bounds a sweep.json read back (a million seeds of
	// three services take about 600 MB).
	MaxFileBytes = 1 << 30
)

// MarshalJSON writes one seed on one line: the figures of each service in
// Result.Services order, a figure that was not measured left out (and
// unmeasured saying why), an RTO that never came as null.
func (s Seed) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"seed":%d,"verdict":%s`, s.Seed, quote(s.Verdict))
	if len(s.Unmet) > 0 {
		unmet, err := json.Marshal(s.Unmet)
		if err != nil {
			return nil, err
		}
		b.WriteString(`,"unmet":`)
		b.Write(unmet)
	}
	b.WriteString(`,"services":[`)
	for i, svc := range s.Services {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('{')
		first := true
		for m, x := range svc.Figures {
			if math.IsNaN(x) {
				continue
			}
			if !first {
				b.WriteByte(',')
			}
			first = false
			value := "null"
			if !math.IsInf(x, 1) {
				v, err := json.Marshal(x)
				if err != nil {
					return nil, err
				}
				value = string(v)
			}
			fmt.Fprintf(&b, `"%s":%s`, Metrics[m], value)
		}
		if svc.Unmeasured != "" {
			if !first {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"unmeasured":%s`, quote(svc.Unmeasured))
		}
		b.WriteByte('}')
	}
	b.WriteString("]}")
	return b.Bytes(), nil
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (s *Seed) UnmarshalJSON(data []byte) error {
	var raw struct {
		Seed     *uint64                       `json:"seed"`
		Verdict  string                        `json:"verdict"`
		Unmet    map[string]string             `json:"unmet"`
		Services []map[string]*json.RawMessage `json:"services"`
	}
	if err := strictUnmarshal(data, &raw); err != nil {
		return err
	}
	if raw.Seed == nil {
		return errors.New("a seed without its number")
	}
	*s = Seed{Seed: *raw.Seed, Verdict: raw.Verdict, Unmet: raw.Unmet, Services: make([]ServiceSeed, len(raw.Services))}
	for i, fields := range raw.Services {
		var svc ServiceSeed
		for m := range svc.Figures {
			svc.Figures[m] = math.NaN()
		}
		for key, value := range fields {
			if key == "unmeasured" {
				if value == nil || json.Unmarshal(*value, &svc.Unmeasured) != nil {
					return fmt.Errorf("seed %d: unmeasured is not a string", *raw.Seed)
				}
				if !slices.Contains([]string{UnmeasuredNotRehearsed, UnmeasuredNoAcks, UnmeasuredReadBack}, svc.Unmeasured) {
					return fmt.Errorf("seed %d: unmeasured %q is not a reason a sweep gives", *raw.Seed, svc.Unmeasured)
				}
				continue
			}
			m := metricIndex(key)
			if m < 0 {
				return fmt.Errorf("seed %d: unknown figure %q", *raw.Seed, key)
			}
			if value == nil {
				if m != iRTO {
					return fmt.Errorf("seed %d: %s is null; only an RTO can be (never recovered)", *raw.Seed, key)
				}
				svc.Figures[m] = math.Inf(1)
				continue
			}
			if err := json.Unmarshal(*value, &svc.Figures[m]); err != nil {
				return fmt.Errorf("seed %d: %s: want a number", *raw.Seed, key)
			}
		}
		s.Services[i] = svc
	}
	return nil
}

func strictUnmarshal(data []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("more than one JSON value")
	}
	return nil
}

// Encode writes the result as sweep.json: indented, each seed on a line of
// its own.
func (r *Result) Encode(w io.Writer) error {
	var b bytes.Buffer
	b.WriteString("{\n")
	fields := []struct {
		key   string
		value any
	}{{"schema", r.Schema}, {"scenario", r.Scenario}, {"scenario_sha256", r.ScenarioSHA256}}
	if r.ScenarioFile != "" {
		fields = append(fields, struct {
			key   string
			value any
		}{"scenario_file", r.ScenarioFile})
	}
	fields = append(fields, []struct {
		key   string
		value any
	}{{"platform", r.Platform}, {"chaosdrill_version", r.Version}, {"from", r.From}, {"seeds", r.Seeds}}...)
	if r.Shard != nil {
		fields = append(fields, struct {
			key   string
			value any
		}{"shard", r.Shard})
	}
	if r.Partial != nil {
		fields = append(fields, struct {
			key   string
			value any
		}{"partial", r.Partial})
	}
	fields = append(fields, []struct {
		key   string
		value any
	}{{"vary", r.Vary}, {"gates", r.Gates}, {"services", r.Services}, {"checks", r.Checks}}...)
	for _, f := range fields {
		if err := field(&b, "  ", f.key, f.value); err != nil {
			return err
		}
		b.WriteString(",\n")
	}
	b.WriteString("  \"variants\": [")
	for i, v := range r.Variants {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n    {\n")
		vfields := []struct {
			key   string
			value any
		}{{"value", v.Value}, {"seeds_run", v.SeedsRun}, {"verdicts", v.Verdicts}, {"checks", v.Checks}, {"gates", v.Gates},
			{"services", v.Services}, {"worst", v.Worst}}
		for _, f := range vfields {
			if err := field(&b, "      ", f.key, f.value); err != nil {
				return err
			}
			b.WriteString(",\n")
		}
		b.WriteString("      \"per_seed\": [")
		for k, s := range v.PerSeed {
			if k > 0 {
				b.WriteByte(',')
			}
			row, err := s.MarshalJSON()
			if err != nil {
				return err
			}
			b.WriteString("\n        ")
			b.Write(row)
		}
		if len(v.PerSeed) > 0 {
			b.WriteString("\n      ")
		}
		b.WriteString("]\n    }")
	}
	if len(r.Variants) > 0 {
		b.WriteString("\n  ")
	}
	b.WriteString("]\n}\n")
	_, err := w.Write(b.Bytes())
	return err
}

func field(b *bytes.Buffer, indent, key string, value any) error {
	v, err := json.MarshalIndent(value, indent, "  ")
	if err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	fmt.Fprintf(b, "%s%q: %s", indent, key, v)
	return nil
}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Decode reads a sweep.json (a whole sweep or a shard) and checks it
// whole: its layout, every seed (in range, in its shard, once, in order,
// with figures a sweep can give), and that its summary is the one its
// seeds give. Any problem is an error saying what; data is never trusted
// past it.
func Decode(data []byte) (*Result, error) {
	var r Result
	if err := strictUnmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("not a sweep.json: %w", err)
	}
	if err := r.check(); err != nil {
		return nil, err
	}
	var again bytes.Buffer
	if err := r.recompute().Encode(&again); err != nil {
		return nil, err
	}
	var written bytes.Buffer
	if err := r.Encode(&written); err != nil {
		return nil, err
	}
	if !bytes.Equal(again.Bytes(), written.Bytes()) {
		return nil, errors.New("its summary does not agree with its seeds (was it edited, or written by another chaosdrill version?)")
	}
	return &r, nil
}

// recompute aggregates the result's own seeds again.
func (r *Result) recompute() *Result {
	seeds := make([][]Seed, len(r.Variants))
	for i, v := range r.Variants {
		seeds[i] = v.PerSeed
	}
	return Aggregate(r.sweep(), seeds, r.Partial)
}

func (r *Result) sweep() Sweep {
	return Sweep{Scenario: r.Scenario, ScenarioSHA256: r.ScenarioSHA256, ScenarioFile: r.ScenarioFile, Platform: r.Platform, Version: r.Version,
		From: r.From, Seeds: r.Seeds, Shard: r.Shard, Vary: r.Vary, Gates: r.Gates, Services: r.Services, Checks: r.Checks}
}

// check checks the layout and the seeds.
func (r *Result) check() error {
	switch {
	case r.Schema != Schema:
		return fmt.Errorf("schema %q: want %q", r.Schema, Schema)
	case r.Scenario == "" || scenarios.CheckName(r.Scenario) != nil:
		return fmt.Errorf("scenario %q is not a scenario name", r.Scenario)
	case !sha256Hex.MatchString(r.ScenarioSHA256):
		return fmt.Errorf("scenario_sha256 %q is not a SHA-256 in hex", r.ScenarioSHA256)
	case r.Platform != "sim":
		return fmt.Errorf("platform %q: sweeps run on the simulator (sim)", r.Platform)
	case r.Seeds == 0 || r.Seeds > MaxSeeds:
		return fmt.Errorf("seeds %d: a sweep runs 1 to %d seeds", r.Seeds, MaxSeeds)
	case r.From > math.MaxUint64-(r.Seeds-1):
		return fmt.Errorf("from %d with %d seeds runs past the last seed", r.From, r.Seeds)
	case r.Shard != nil && (r.Shard.Count < 1 || r.Shard.Count > MaxShards || r.Shard.Index < 1 || r.Shard.Index > r.Shard.Count):
		return fmt.Errorf("shard %d/%d: want i/n with 1 <= i <= n <= %d", r.Shard.Index, r.Shard.Count, MaxShards)
	case r.Shard != nil && uint64(r.Shard.Count) > r.Seeds:
		return fmt.Errorf("shard %s of a sweep of %d seeds: more shards than seeds", r.Shard, r.Seeds)
	case r.Partial != nil && r.Partial.Reason == "":
		return errors.New("partial without a reason")
	}
	if err := checkVary(r.Vary); err != nil {
		return err
	}
	for i, g := range r.Gates {
		if err := checkGate(g); err != nil {
			return fmt.Errorf("gates[%d]: %w", i, err)
		}
	}
	if !slices.IsSorted(r.Services) || len(slices.Compact(slices.Clone(r.Services))) != len(r.Services) || slices.Contains(r.Services, "") {
		return fmt.Errorf("services %q: want distinct names in order", r.Services)
	}
	if len(slices.Compact(slices.Sorted(slices.Values(r.Checks)))) != len(r.Checks) {
		return errors.New("checks are listed twice")
	}
	want := 1
	if r.Vary != nil {
		want = len(r.Vary.Values)
	}
	if len(r.Variants) != want {
		return fmt.Errorf("%d variants for %d values", len(r.Variants), want)
	}
	expected := r.expectedSeeds()
	runs := 0
	for i, v := range r.Variants {
		label := "the sweep"
		if r.Vary != nil {
			label = r.Vary.Name + "=" + r.Vary.Values[i]
			if v.Value == nil || *v.Value != r.Vary.Values[i] {
				return fmt.Errorf("variant %d is not %s", i+1, label)
			}
		} else if v.Value != nil {
			return fmt.Errorf("variant 1 has a value, %q, but nothing is varied", *v.Value)
		}
		if err := r.checkSeeds(v.PerSeed, expected); err != nil {
			return fmt.Errorf("%s: %w", label, err)
		}
		if i > 0 && len(v.PerSeed) != len(r.Variants[0].PerSeed) && r.Partial == nil {
			return fmt.Errorf("%s ran %d seeds, the first value %d", label, len(v.PerSeed), len(r.Variants[0].PerSeed))
		}
		runs += len(v.PerSeed)
	}
	if runs > MaxSeeds {
		return fmt.Errorf("%d runs; a sweep holds at most %d", runs, MaxSeeds)
	}
	return nil
}

// expectedSeeds is how many seeds the result should hold per variant.
func (r *Result) expectedSeeds() uint64 {
	if r.Shard == nil {
		return r.Seeds
	}
	n := uint64(r.Shard.Count)
	k := uint64(r.Shard.Index - 1)
	if k >= r.Seeds {
		return 0
	}
	return (r.Seeds-1-k)/n + 1
}

// InShard reports whether the seed at offset k of a sweep belongs to shard
// (every shard, when nil).
func InShard(shard *Shard, k uint64) bool {
	return shard == nil || k%uint64(shard.Count) == uint64(shard.Index-1)
}

func (r *Result) checkSeeds(seeds []Seed, expected uint64) error {
	for i, s := range seeds {
		if s.Seed < r.From || s.Seed-r.From >= r.Seeds {
			return fmt.Errorf("seed %d is outside the sweep's seeds %d to %d", s.Seed, r.From, r.From+r.Seeds-1)
		}
		if !InShard(r.Shard, s.Seed-r.From) {
			return fmt.Errorf("seed %d is not one of shard %s", s.Seed, r.Shard)
		}
		if i > 0 && s.Seed <= seeds[i-1].Seed {
			return fmt.Errorf("seed %d comes after seed %d: seeds are listed once, in order", s.Seed, seeds[i-1].Seed)
		}
		if err := checkSeed(s, len(r.Services)); err != nil {
			return err
		}
	}
	switch {
	case r.Partial == nil && uint64(len(seeds)) != expected:
		return fmt.Errorf("%d seeds, but the sweep (not marked partial) runs %d here", len(seeds), expected)
	case uint64(len(seeds)) > expected:
		return fmt.Errorf("%d seeds, more than the %d it runs", len(seeds), expected)
	}
	return nil
}

func checkVary(v *Vary) error {
	if v == nil {
		return nil
	}
	switch {
	case v.Name == "":
		return errors.New("vary without a name")
	case len(v.Values) < 2 || len(v.Values) > MaxVaryValues:
		return fmt.Errorf("vary %s: %d values, want 2 to %d", v.Name, len(v.Values), MaxVaryValues)
	case len(slices.Compact(slices.Sorted(slices.Values(v.Values)))) != len(v.Values):
		return fmt.Errorf("vary %s: a value is listed twice", v.Name)
	}
	return nil
}

func checkGate(g scenarios.Gate) error {
	if _, _, ok := g.Bound(); !ok {
		return errors.New("a gate has one bound")
	}
	if (g.Quantile == nil) == (g.AtLeast == nil) {
		return errors.New("a gate has a quantile or at_least")
	}
	for _, q := range []*float64{g.Quantile, g.AtLeast} {
		if q != nil && !(*q > 0 && *q <= 1) {
			return fmt.Errorf("share %g is not in (0, 1]", *q)
		}
	}
	if g.Verdict != "" && (g.Verdict != scenarios.GateVerdictPass || g.Service != "" || g.Quantile != nil) {
		return errors.New("a verdict gate is verdict: pass with at_least")
	}
	if g.Verdict == "" && g.Service == "" {
		return errors.New("a gate on a figure names its service")
	}
	for _, b := range []*int{g.LostWritesMax, g.UnknownMax} {
		if b != nil && *b < 0 {
			return errors.New("a bound is never negative")
		}
	}
	return nil
}

// MergeError is a shard that cannot be merged, and which file it is.
type MergeError struct {
	File string
	Err  error
}

func (e *MergeError) Error() string { return e.File + ": " + e.Err.Error() }
func (e *MergeError) Unwrap() error { return e.Err }

// Merge combines the shards of one sweep (files names them, for errors)
// into the result of the whole sweep: the same bytes as the sweep run
// unsharded. Every shard must be whole (not partial) and of the same sweep
// (scenario file, version, seeds, what-if, gates), each index once, and
// none missing. One unsharded result merges into itself.
func Merge(files []string, shards []*Result) (*Result, error) {
	if len(shards) == 0 {
		return nil, errors.New("nothing to merge")
	}
	first := shards[0]
	seen := map[int]string{}
	for i, r := range shards {
		bad := func(format string, a ...any) error { return &MergeError{File: files[i], Err: fmt.Errorf(format, a...)} }
		if r.Partial != nil {
			return nil, bad("it is partial (%s): run that shard again", r.Partial.Reason)
		}
		if diff := differs(first, r); diff != "" {
			return nil, bad("not a shard of the same sweep as %s: %s", files[0], diff)
		}
		switch {
		case r.Shard == nil && len(shards) > 1:
			return nil, bad("a whole sweep, not a shard; merge shards (sweep --shard i/n) of one sweep")
		case r.Shard == nil:
			continue
		case first.Shard == nil || r.Shard.Count != first.Shard.Count:
			return nil, bad("shard %s, but %s is one of %s", r.Shard, files[0], shardCount(first.Shard))
		}
		if other, ok := seen[r.Shard.Index]; ok {
			return nil, bad("shard %s again (%s is shard %s too)", r.Shard, other, r.Shard)
		}
		seen[r.Shard.Index] = files[i]
	}
	if first.Shard != nil {
		var missing []string
		for i := 1; i <= first.Shard.Count; i++ {
			if _, ok := seen[i]; !ok {
				missing = append(missing, fmt.Sprintf("%d/%d", i, first.Shard.Count))
			}
		}
		if len(missing) > 0 {
			return nil, &MergeError{File: files[0], Err: fmt.Errorf("shards %s of this sweep are missing", strings.Join(missing, ", "))}
		}
	}
	seeds := make([][]Seed, len(first.Variants))
	for _, r := range shards {
		for i, v := range r.Variants {
			seeds[i] = append(seeds[i], v.PerSeed...)
		}
	}
	s := first.sweep()
	s.Shard = nil
	return Aggregate(s, seeds, nil), nil
}

func shardCount(s *Shard) string {
	if s == nil {
		return "no shard (a whole sweep)"
	}
	return fmt.Sprintf("%d shards", s.Count)
}

// differs names the first thing that makes b another sweep than a.
func differs(a, b *Result) string {
	j := func(v any) string { out, _ := json.Marshal(v); return string(out) }
	for _, f := range []struct{ name, a, b string }{
		{"scenario", a.Scenario, b.Scenario},
		{"scenario file (scenario_sha256)", a.ScenarioSHA256, b.ScenarioSHA256},
		{"chaosdrill version", a.Version, b.Version},
		{"platform", a.Platform, b.Platform},
		{"seeds (from, count)", fmt.Sprint(a.From, a.Seeds), fmt.Sprint(b.From, b.Seeds)},
		{"what-if (vary)", j(a.Vary), j(b.Vary)},
		{"gates", j(a.Gates), j(b.Gates)},
		{"services", j(a.Services), j(b.Services)},
		{"checks", j(a.Checks), j(b.Checks)},
	} {
		if f.a != f.b {
			return fmt.Sprintf("its %s differ: %s here, %s there", f.name, f.b, f.a)
		}
	}
	return ""
}
