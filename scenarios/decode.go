package scenarios

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
	"go.yaml.in/yaml/v3"
)

// document decodes a YAML node tree into the scenario types by walking both
// together, guided by the types' yaml tags. Doing the walk here rather than
// in yaml.Node.Decode gives every problem (unknown field, wrong type, bad
// duration) its field path and position, lets decoding go on past a bad
// field, and leaves an index from field path to node for the checks that
// follow.
type document struct {
	nodes map[string]*yaml.Node // field path -> the node of its value
	// keys holds the key nodes of map entries (parameters, params): a
	// problem with an entry points at its name.
	keys     map[string]*yaml.Node
	problems []Problem
	// bad holds the paths whose value could not be decoded, and badInside
	// every path that contains one, so that related answers in the depth
	// of a path rather than the number of bad values.
	bad       map[string]bool
	badInside map[string]bool

	// values counts the values decoded, an alias again each time it is
	// used; past MaxValues decoding stops. ctx is checked every few
	// thousand values; err is its error once it has ended.
	values  int
	stopped bool
	ctx     context.Context
	err     error

	// expanding holds the aliases being decoded, so that an anchor that
	// contains itself is reported instead of recursing forever; expansions
	// caps the work a file of nested aliases can cause.
	expanding  map[*yaml.Node]bool
	expansions int
}

// maxAliasExpansions bounds alias expansion ("billion laughs"); a scenario
// file has a handful of aliases at most.
const maxAliasExpansions = 10000

func newDocument(ctx context.Context) *document {
	return &document{nodes: map[string]*yaml.Node{}, keys: map[string]*yaml.Node{}, expanding: map[*yaml.Node]bool{},
		bad: map[string]bool{}, badInside: map[string]bool{}, ctx: ctx}
}

var durationType = reflect.TypeFor[platform.Duration]()

// count accounts for one more decoded value and reports whether decoding
// goes on: not past MaxValues, nor once the context has ended.
func (d *document) count(n *yaml.Node, path string) bool {
	if d.stopped {
		return false
	}
	d.values++
	if d.values&4095 == 0 {
		if err := d.ctx.Err(); err != nil {
			d.err, d.stopped = err, true
			return false
		}
	}
	if d.values > MaxValues {
		if d.expansions > 0 {
			d.fail(n, path, "the file holds more than %s values once its aliases are expanded (each use of an alias counts its whole value); a scenario holds at most %s", thousands(MaxValues), thousands(MaxValues))
		} else {
			d.fail(n, path, "the file holds more than %s values; a scenario holds at most %s", thousands(MaxValues), thousands(MaxValues))
		}
		d.stopped = true
		return false
	}
	return true
}

var (
	topologyRefType = reflect.TypeFor[TopologyRef]()
	unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()
)

// YAML short tags of the scalars the format uses.
const (
	tagNull  = "!!null"
	tagStr   = "!!str"
	tagInt   = "!!int"
	tagFloat = "!!float"
	tagBool  = "!!bool"
	tagMerge = "!!merge"
)

func (d *document) problem(n *yaml.Node, path, format string, args ...any) {
	d.problems = append(d.problems, Problem{Line: n.Line, Column: n.Column, Path: path, Message: fmt.Sprintf(format, args...)})
}

// fail records a value that could not be decoded; checks on related paths
// are then skipped, since the zero value left behind would only cause
// follow-on complaints.
func (d *document) fail(n *yaml.Node, path, format string, args ...any) {
	d.problem(n, path, format, args...)
	if d.bad[path] {
		return
	}
	d.bad[path] = true
	for p := path; p != ""; {
		p = parentPath(p)
		d.badInside[p] = true
	}
}

// has reports whether the file gives the field a (non-null) value.
func (d *document) has(path string) bool {
	n, ok := d.nodes[path]
	return ok && n.ShortTag() != tagNull
}

// position returns the line and column of the field, or of its nearest
// ancestor the file has (a missing field is reported where its parent is).
func (d *document) position(path string) (line, column int) {
	if k, ok := d.keys[path]; ok {
		return k.Line, k.Column
	}
	for p := path; ; p = parentPath(p) {
		if n, ok := d.nodes[p]; ok {
			return n.Line, n.Column
		}
		if p == "" {
			return 1, 1
		}
	}
}

// related reports whether path is, contains or lies inside a field that
// could not be decoded.
func (d *document) related(path string) bool {
	if d.badInside[path] {
		return true
	}
	for p := path; ; p = parentPath(p) {
		if d.bad[p] {
			return true
		}
		if p == "" {
			return false
		}
	}
}

func parentPath(p string) string {
	if strings.HasSuffix(p, "]") {
		return p[:strings.LastIndexByte(p, '[')]
	}
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

func fieldPath(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

func indexPath(parent string, i int) string { return fmt.Sprintf("%s[%d]", parent, i) }

// decode stores node n into out, whose type is one the scenario format uses.
func (d *document) decode(n *yaml.Node, out reflect.Value, path string) {
	if !d.count(n, path) {
		return
	}
	d.nodes[path] = n
	if n.Kind == yaml.AliasNode {
		target, ok := d.enterAlias(n, path)
		if !ok {
			return
		}
		defer delete(d.expanding, target)
		n = target
	}
	if n.ShortTag() == tagNull {
		return
	}
	t := out.Type()
	switch {
	case t == topologyRefType:
		d.decodeTopologyRef(n, out.Addr().Interface().(*TopologyRef), path)
	case t.Kind() == reflect.Pointer:
		v := reflect.New(t.Elem())
		before := len(d.bad)
		d.decode(n, v.Elem(), path)
		if len(d.bad) == before {
			out.Set(v)
		}
	case reflect.PointerTo(t).Implements(unmarshalerType):
		if t == durationType && n.Kind == yaml.ScalarNode && durationOverflows(n.Value) {
			d.fail(n, path, "%s overflows: the longest duration a scenario may hold is %s", n.Value, MaxDuration)
			return
		}
		if err := n.Decode(out.Addr().Interface()); err != nil {
			d.fail(n, path, "%s", strings.TrimPrefix(err.Error(), "yaml: "))
			return
		}
		// A duration near time.Duration's limits would overflow once the
		// runner adds it to a time; no scenario needs one over a week.
		if t == durationType {
			if v := out.Interface().(platform.Duration); v.D() > MaxDuration || v.D() < -MaxDuration {
				d.fail(n, path, "%s is longer than the longest duration a scenario may hold, %s", v, MaxDuration)
			}
		}
	case t.Kind() == reflect.Struct:
		d.decodeStruct(n, out, path)
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.fail(n, path, "want a list, got %s", describe(n))
			return
		}
		s := reflect.MakeSlice(t, len(n.Content), len(n.Content))
		for i, item := range n.Content {
			d.decode(item, s.Index(i), indexPath(path, i))
		}
		out.Set(s)
	case t.Kind() == reflect.Map:
		if n.Kind != yaml.MappingNode {
			d.fail(n, path, "want a mapping, got %s", describe(n))
			return
		}
		m := reflect.MakeMap(t)
		for _, p := range d.pairs(n, path) {
			v := reflect.New(t.Elem()).Elem()
			before := len(d.bad)
			d.keys[fieldPath(path, p.key.Value)] = p.key
			d.decode(p.value, v, fieldPath(path, p.key.Value))
			if len(d.bad) == before && !d.stopped {
				m.SetMapIndex(reflect.ValueOf(p.key.Value).Convert(t.Key()), v)
			}
		}
		out.Set(m)
	case t.Kind() == reflect.String:
		// Any scalar is text: `write_concern: 1` and `nodes: 3` mean "1"
		// and "3".
		if n.Kind != yaml.ScalarNode {
			d.fail(n, path, "want a string, got %s", describe(n))
			return
		}
		out.SetString(n.Value)
	case t.Kind() == reflect.Bool:
		d.decodeScalar(n, out, path, "true or false", tagBool)
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		d.decodeScalar(n, out, path, "a whole number", tagInt)
	case t.Kind() == reflect.Float64 || t.Kind() == reflect.Float32:
		d.decodeScalar(n, out, path, "a number", tagInt, tagFloat)
	default:
		panic(fmt.Sprintf("scenarios: no decoding for %v at %s", t, path))
	}
}

func (d *document) decodeScalar(n *yaml.Node, out reflect.Value, path, want string, tags ...string) {
	tag := n.ShortTag()
	for _, ok := range tags {
		if n.Kind == yaml.ScalarNode && tag == ok {
			if err := n.Decode(out.Addr().Interface()); err != nil {
				d.fail(n, path, "want %s, got %s", want, describe(n))
				return
			}
			// No value of the format is meant to be infinite or not a
			// number (.nan, .inf): every comparison with NaN is false, so
			// it would pass any range check.
			if out.Kind() == reflect.Float64 || out.Kind() == reflect.Float32 {
				if f := out.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
					d.fail(n, path, "want a finite number, got %s", n.Value)
				}
			}
			return
		}
	}
	d.fail(n, path, "want %s, got %s", want, describe(n))
}

func (d *document) decodeTopologyRef(n *yaml.Node, ref *TopologyRef, path string) {
	switch {
	case n.Kind == yaml.ScalarNode && n.ShortTag() == tagStr:
		ref.Builtin = n.Value
	case n.Kind == yaml.MappingNode:
		t := new(platform.Topology)
		d.decode(n, reflect.ValueOf(t).Elem(), path)
		ref.Inline = t
	default:
		d.fail(n, path, "want the name of a built-in topology (%s) or an inline topology, got %s",
			strings.Join(platform.SortedKeys(platform.BuiltinTopologies()), ", "), describe(n))
	}
}

func (d *document) decodeStruct(n *yaml.Node, out reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "want a mapping, got %s", describe(n))
		return
	}
	fields := yamlFields(out.Type())
	for _, p := range d.pairs(n, path) {
		i, ok := fields[p.key.Value]
		if !ok {
			d.problem(p.key, fieldPath(path, p.key.Value), "unknown field %q%s",
				p.key.Value, suggestion(p.key.Value, platform.SortedKeys(fields), "fields"))
			continue
		}
		d.decode(p.value, out.Field(i), fieldPath(path, p.key.Value))
	}
}

// yamlFields maps the field names a struct accepts in YAML to field indexes.
func yamlFields(t reflect.Type) map[string]int {
	fields := map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = i
	}
	return fields
}

type pair struct{ key, value *yaml.Node }

// pairs lists a mapping's entries, expanding merge keys (<<: *base) so that
// explicit entries win, and reports keys given twice.
func (d *document) pairs(n *yaml.Node, path string) []pair {
	var explicit, merged []pair
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, value := n.Content[i], n.Content[i+1]
		if key.Kind == yaml.ScalarNode && key.ShortTag() == tagMerge {
			merged = append(merged, d.mergePairs(value, path)...)
			continue
		}
		if key.Kind != yaml.ScalarNode {
			d.fail(key, path, "want a plain key, got %s", describe(key))
			continue
		}
		if first, ok := seen[key.Value]; ok {
			d.problem(key, fieldPath(path, key.Value), "%q is given twice (first at line %d)", key.Value, first.Line)
			continue
		}
		seen[key.Value] = key
		explicit = append(explicit, pair{key, value})
	}
	for _, p := range merged {
		if _, ok := seen[p.key.Value]; !ok {
			seen[p.key.Value] = p.key
			explicit = append(explicit, p)
		}
	}
	return explicit
}

// enterAlias resolves an alias for decoding; the caller removes the target
// from d.expanding when done.
func (d *document) enterAlias(n *yaml.Node, path string) (*yaml.Node, bool) {
	target := n.Alias
	d.expansions++
	switch {
	case d.expanding[target]:
		d.fail(n, path, "alias *%s refers to a value that contains it", n.Value)
		return nil, false
	case d.expansions > maxAliasExpansions:
		d.fail(n, path, "more than %d alias expansions", maxAliasExpansions)
		return nil, false
	}
	d.expanding[target] = true
	return target, true
}

func (d *document) mergePairs(v *yaml.Node, path string) []pair {
	if v.Kind == yaml.AliasNode {
		target, ok := d.enterAlias(v, path)
		if !ok {
			return nil
		}
		defer delete(d.expanding, target)
		v = target
	}
	if !d.count(v, path) {
		return nil
	}
	switch v.Kind {
	case yaml.MappingNode:
		// Each merged entry is a value decoded later; count them now, so
		// that a merge of many aliases cannot gather millions first.
		d.values += len(v.Content) / 2
		if !d.count(v, path) {
			return nil
		}
		return d.pairs(v, path)
	case yaml.SequenceNode:
		var ps []pair
		for _, item := range v.Content {
			ps = append(ps, d.mergePairs(item, path)...)
		}
		return ps
	default:
		d.fail(v, path, "a merge (<<) wants a mapping or a list of mappings, got %s", describe(v))
		return nil
	}
}

// describe names what a node holds for "want X, got Y" messages.
func describe(n *yaml.Node) string {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.ShortTag() {
	case tagInt, tagFloat:
		return "the number " + n.Value
	case tagBool:
		return n.Value
	}
	return fmt.Sprintf("%q", n.Value)
}

// goDuration is the syntax time.ParseDuration reads.
var goDuration = regexp.MustCompile(`^[-+]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))+$`)

// durationOverflows reports whether text is a duration in Go's syntax too
// large for time.Duration (about 292 years), which ParseDuration refuses
// with the same words as a typo.
func durationOverflows(text string) bool {
	if !goDuration.MatchString(text) {
		return false
	}
	_, err := time.ParseDuration(text)
	return err != nil
}
