package scenarios

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/chaosdrill/chaosdrill/internal/files"
	"github.com/chaosdrill/chaosdrill/platform"
)

// Defaults applied to fields a scenario leaves out.
const (
	// DefaultTimeout is how long a workload waits for a write's answer
	// before counting it unknown. A harness choice, equal to MongoDB's
	// default electionTimeoutMillis (10 s,
	// https://www.mongodb.com/docs/manual/reference/replica-configuration/#mongodb-rsconf-rsconf.settings.electionTimeoutMillis):
	// a write outlives the detection of a failure, not a whole outage.
	DefaultTimeout = 10 * time.Second
	// DefaultWriteConcern is MongoDB's own default write concern since 5.0
	// (https://www.mongodb.com/docs/manual/reference/mongodb-defaults/#default-write-concern).
	DefaultWriteConcern = "majority"
)

// Option changes how a scenario is loaded.
type Option func(*options)

type options struct {
	parameters      []platform.Parameter
	checkParameters bool
	ctx             context.Context
	nodeName        func(node string) string
	edits           []func(root *yaml.Node) error
	// platformName and otherPlatform name the platform checked and the
	// other one; otherParameters are the other's parameter names.
	platformName, otherPlatform string
	otherParameters             map[string]bool
}

// WithParameters makes the loader check the names under `parameters:`
// against the model parameters a platform knows, and their values against
// the form of each default (a duration, a number).
func WithParameters(known []platform.Parameter) Option {
	return func(o *options) {
		o.parameters = known
		o.checkParameters = true
	}
}

// WithParameterPlatforms names the platform whose parameters
// WithParameters gave ("sim" or "containers"), and the other platform's
// parameters: an unknown parameter only the other platform takes is
// refused as that platform's only, and the hint names the listing of this
// platform's parameters.
func WithParameterPlatforms(name, other string, otherKnown []platform.Parameter) Option {
	return func(o *options) {
		o.platformName, o.otherPlatform = name, other
		o.otherParameters = map[string]bool{}
		for _, p := range otherKnown {
			o.otherParameters[p.Name] = true
		}
	}
}

// WithContext makes loading stop when ctx ends (an interrupt): Load and
// Parse then return ctx's error, not an *Error.
func WithContext(ctx context.Context) Option {
	return func(o *options) { o.ctx = ctx }
}

// WithNodeNames makes the loader check the names a platform derives from
// node names (the containers platform's DNS aliases and container names):
// none may be empty and no two nodes may share one.
func WithNodeNames(derive func(node string) string) Option {
	return func(o *options) { o.nodeName = derive }
}

// Load reads and checks the scenario file at path. Bad input returns an
// *Error listing every problem; the scenario is only returned when there are
// none. Only a regular file of at most MaxFileBytes is read: a folder, a
// FIFO or a device is refused at once (errors.Is files.ErrNotRegular), as is
// a larger file.
func Load(path string, opts ...Option) (*Scenario, error) {
	data, err := files.ReadRegular(path, MaxFileBytes)
	if err != nil {
		return nil, fmt.Errorf("read scenario: %w", err)
	}
	return Parse(path, data, opts...)
}

// Parse checks a scenario held in memory; path names it in problems and in
// Scenario.Path.
func Parse(path string, data []byte, opts ...Option) (*Scenario, error) {
	o := options{ctx: context.Background()}
	for _, opt := range opts {
		opt(&o)
	}
	if err := o.ctx.Err(); err != nil {
		return nil, err
	}
	root, problems := parseYAML(data)
	if len(problems) > 0 {
		return nil, &Error{File: path, Problems: problems}
	}
	if err := o.applyEdits(path, root); err != nil {
		return nil, err
	}
	if err := o.ctx.Err(); err != nil {
		return nil, err
	}
	var s Scenario
	doc := newDocument(o.ctx)
	doc.decode(root, reflect.ValueOf(&s).Elem(), "")
	if doc.err != nil {
		return nil, doc.err
	}
	c := &checker{doc: doc, scenario: &s, options: o}
	if !doc.stopped {
		// A document decoded only in part would draw complaints about
		// everything it did not get to.
		c.check()
	}
	if err := o.ctx.Err(); err != nil {
		return nil, err
	}
	problems = append(doc.problems, c.problems...)
	if len(problems) > 0 {
		sortProblems(problems)
		return nil, &Error{File: path, Problems: capProblems(problems)}
	}
	s.Path = path
	s.Topology.Resolved = c.topology
	applyDefaults(&s)
	return &s, nil
}

var yamlErrorLine = regexp.MustCompile(`^yaml: line (\d+): `)

// parseYAML returns the document's root mapping, or the problems that stop
// it being one.
func parseYAML(data []byte) (*yaml.Node, []Problem) {
	decoder := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := decoder.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, []Problem{{Line: 1, Message: "the file is empty; a scenario needs at least name, topology, duration and workloads"}}
		}
		return nil, []Problem{syntaxProblem(data, err)}
	}
	var next yaml.Node
	switch err := decoder.Decode(&next); {
	case err == nil:
		return nil, []Problem{{Line: next.Line, Column: next.Column, Message: "a scenario file holds one YAML document; another starts here"}}
	case !errors.Is(err, io.EOF):
		return nil, []Problem{syntaxProblem(data, err)}
	}
	body := root.Content[0]
	if body.Kind != yaml.MappingNode {
		return nil, []Problem{{Line: body.Line, Column: body.Column, Message: "a scenario is a mapping (name: ..., topology: ..., ...), got " + describe(body)}}
	}
	return body, nil
}

func syntaxProblem(data []byte, err error) Problem {
	message := err.Error()
	line := 1
	if m := yamlErrorLine.FindStringSubmatch(message); m != nil {
		line, _ = strconv.Atoi(m[1])
		message = message[len(m[0]):]
	}
	message = strings.TrimPrefix(message, "yaml: ")
	// The parser names a tab in the indentation vaguely ("found character
	// that cannot start any token"), and often on the line before it.
	if tabLine, column, ok := indentingTab(data, line, line+1); ok {
		return Problem{Line: tabLine, Column: column, Message: "YAML syntax: a tab indents this line; YAML indents with spaces only (the parser says: " + message + ")"}
	}
	return Problem{Line: line, Column: syntaxColumn(data, line, message), Message: "YAML syntax: " + message}
}

// syntaxColumn places a YAML syntax error on its line, since the parser
// names the line only: at the second ':' of a line where a mapping value
// is not allowed (key: value: more), at the first character no token can
// start with, else where the line's content starts.
func syntaxColumn(data []byte, line int, message string) int {
	text := lineText(data, line)
	if text == nil {
		return 0
	}
	start := len(text) - len(bytes.TrimLeft(text, " \t"))
	switch {
	case strings.Contains(message, "mapping values are not allowed"):
		if first := bytes.IndexByte(text, ':'); first >= 0 {
			if second := bytes.IndexByte(text[first+1:], ':'); second >= 0 {
				return first + 1 + second + 1
			}
		}
	case strings.Contains(message, "cannot start any token"):
		if i := bytes.IndexAny(text[start:], "@`\t%"); i >= 0 {
			return start + i + 1
		}
	}
	return start + 1
}

// lineText returns line (1-based) of data without its end, nil past the
// end.
func lineText(data []byte, line int) []byte {
	for i := 1; len(data) > 0 || i == line; i++ {
		end := bytes.IndexByte(data, '\n')
		if end < 0 {
			end = len(data)
		}
		if i == line {
			return bytes.TrimRight(data[:end], "\r")
		}
		if end == len(data) {
			return nil
		}
		data = data[end+1:]
	}
	return nil
}

// capProblems keeps the first MaxProblems problems and says how many more
// there were.
func capProblems(ps []Problem) []Problem {
	if len(ps) <= MaxProblems {
		return ps
	}
	more := len(ps) - MaxProblems
	last := ps[MaxProblems-1]
	return append(ps[:MaxProblems:MaxProblems], Problem{Line: last.Line, Column: last.Column,
		Message: fmt.Sprintf("and %d more problems after these %d (fix these first)", more, MaxProblems)})
}

// indentingTab finds the first line from first to last whose indentation
// holds a tab, and the column of that tab.
func indentingTab(data []byte, first, last int) (line, column int, ok bool) {
	for i, text := range bytes.Split(data, []byte("\n")) {
		if i+1 < first {
			continue
		}
		if i+1 > last {
			break
		}
		for j, c := range text {
			if c == '\t' {
				return i + 1, j + 1, true
			}
			if c != ' ' {
				break
			}
		}
	}
	return 0, 0, false
}

func applyDefaults(s *Scenario) {
	if s.BaselineExpectations == nil || *s.BaselineExpectations {
		stated := map[string]bool{}
		for _, e := range s.Expect {
			stated[e.Service] = true
		}
		for _, w := range s.Workloads {
			if !stated[w.Service] {
				s.Expect = append(s.Expect, Baseline(w.Service))
				stated[w.Service] = true
			}
		}
	}
	for i := range s.Workloads {
		w := &s.Workloads[i]
		if w.Timeout == 0 {
			w.Timeout = platform.Duration(DefaultTimeout)
		}
		if w.Arrival == "" {
			w.Arrival = ArrivalPoisson
		}
		if w.Reads() {
			if w.ReadPreference == "" {
				w.ReadPreference = platform.ReadPrimary
			}
			if w.ReadConcern == "" {
				w.ReadConcern = platform.ReadConcernLocal
			}
			continue
		}
		if w.WriteConcern == "" && s.Topology.Resolved != nil {
			if svc, ok := s.Topology.Resolved.Service(w.Service); ok && svc.Kind == platform.KindMongo {
				w.WriteConcern = DefaultWriteConcern
			}
		}
	}
}
