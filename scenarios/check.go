package scenarios

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

// checker runs the checks that need more than one field: names that must
// exist in the topology, triggers that must point at something, bounds that
// depend on the scenario's duration. Each problem is placed at the line of
// the field it names.
type checker struct {
	doc      *document
	scenario *Scenario
	options  options
	// topology is the resolved topology, nil when the file does not give a
	// usable one; checks against it are then skipped.
	topology *platform.Topology
	// all holds the faults then the runbook steps, in file order; triggers
	// indexes them by name.
	all      []*trigger
	triggers map[string]*trigger
	problems []Problem
	// added maps the name of each member a runbook step adds to the first
	// step that adds it (built on first use).
	added map[string]int
}

// trigger is what faults and runbook steps share: a name and what starts
// them.
type trigger struct {
	path       string // "faults[2]", "runbook[0]"
	what       string // "fault", "runbook step"
	name       string
	at         *Time
	after      string
	afterEvent string
	optional   bool
}

func (c *checker) add(path, format string, args ...any) {
	if c.doc.related(path) {
		return
	}
	line, column := c.doc.position(path)
	c.problems = append(c.problems, Problem{Line: line, Column: column, Path: path, Message: fmt.Sprintf(format, args...)})
}

func (c *checker) check() {
	s := c.scenario
	if s.Name == "" {
		c.add("name", "a scenario needs a name")
	}
	switch {
	case s.Duration > 0:
	case c.doc.has("duration"):
		c.add("duration", "duration must be positive, got %s", s.Duration)
	default:
		c.add("duration", "a scenario needs a duration, e.g. 15m")
	}
	c.checkTopology()
	c.checkParameters()
	c.checkImages()
	c.checkWorkloads()
	c.collectTriggers()
	for i := range s.Faults {
		c.checkFault(i)
	}
	for i := range s.Runbook {
		c.checkStep(i)
	}
	c.checkTriggers()
	for i := range s.Expect {
		c.checkExpectation(i)
	}
	c.checkSweep()
	c.checkNames()
	c.checkNodeNames()
	c.checkLimits()
	if s.BaselineExpectations != nil && !*s.BaselineExpectations && len(s.Expect) == 0 && len(s.Workloads) > 0 {
		c.add("baseline_expectations", "false, and no expectation under expect: no run of this scenario could fail; "+
			"add one, e.g. expect: [{service: %s, lost_writes_max: 0, recovers: true}], or drop baseline_expectations", s.Workloads[0].Service)
	}
}

func (c *checker) checkTopology() {
	ref := &c.scenario.Topology
	switch {
	case ref.Inline != nil:
		c.topology = ref.Inline
	case ref.Builtin != "":
		builtins := platform.BuiltinTopologies()
		build, ok := builtins[ref.Builtin]
		if !ok {
			c.add("topology", "no built-in topology %q%s", ref.Builtin, suggestion(ref.Builtin, platform.SortedKeys(builtins), "built-in topologies"))
			return
		}
		c.topology = build()
	default:
		c.add("topology", "a scenario needs a topology: a built-in name (%s) or an inline topology",
			strings.Join(platform.SortedKeys(platform.BuiltinTopologies()), ", "))
		return
	}
	for _, e := range c.topology.Validate() {
		c.add(fieldPath("topology", e.Path), "%s", e.Message)
	}
}

// checkImages accepts an image per service kind.
func (c *checker) checkImages() {
	kinds := []string{platform.KindMongo, platform.KindElastic, platform.KindS3}
	for _, kind := range platform.SortedKeys(c.scenario.Images) {
		path := fieldPath("images", kind)
		if !slices.Contains(kinds, kind) {
			c.add(path, "no service kind %q%s", kind, suggestion(kind, kinds, "service kinds"))
		} else if strings.TrimSpace(c.scenario.Images[kind]) == "" {
			c.add(path, "want an image reference such as mongo:8.0")
		}
	}
}

// platformWord names a platform for a reader: sim is the simulator.
func platformWord(name string) string {
	if name == "sim" {
		return "simulator"
	}
	return name
}

func (c *checker) checkParameters() {
	if !c.options.checkParameters {
		return
	}
	known := map[string]platform.Parameter{}
	var names []string
	for _, p := range c.options.parameters {
		known[p.Name] = p
		names = append(names, p.Name)
	}
	for _, name := range platform.SortedKeys(c.scenario.Parameters) {
		path := fieldPath("parameters", name)
		value := c.scenario.Parameters[name]
		p, ok := known[name]
		if !ok {
			listing := "chaosdrill list --parameters"
			if c.options.platformName != "" && c.options.platformName != "sim" {
				listing += " --platform " + c.options.platformName
			}
			if c.options.otherParameters[name] {
				c.add(path, "%q is a %s-only parameter: the %s platform has no such knob (see `%s`)",
					name, platformWord(c.options.otherPlatform), platformWord(c.options.platformName), listing)
				continue
			}
			hint := suggestion(name, names, "")
			if !strings.HasPrefix(hint, ";") {
				hint = " (see `" + listing + "`)"
			}
			c.add(path, "unknown parameter %q%s", name, hint)
			continue
		}
		if !value.Fixed() {
			c.checkParameterDistribution(path, name, p, value)
			continue
		}
		// Every parameter has a kind and a range (platform.Parameter.Check).
		if err := p.Check(value.Text); err != nil {
			c.add(path, "%v (default %s)", err, p.Default)
			continue
		}
		if p.Periodic() && p.ValueKind() == platform.ParamDuration {
			if d, err := time.ParseDuration(value.Text); err == nil {
				c.checkPeriod(path, d)
			}
		}
	}
}

func (c *checker) service(path, name string) (*platform.ServiceSpec, bool) {
	if c.topology == nil {
		return nil, false
	}
	svc, ok := c.topology.Service(name)
	if !ok {
		c.add(path, "no service %q in topology %q%s", name, c.topology.Name, suggestion(name, c.serviceNames(), "services"))
	}
	return svc, ok
}

func (c *checker) serviceNames() []string {
	var names []string
	for _, s := range c.topology.Services {
		names = append(names, s.Name)
	}
	return names
}

func (c *checker) checkWorkloads() {
	s := c.scenario
	if len(s.Workloads) == 0 {
		c.add("workloads", "a scenario needs at least one workload, e.g. {service: mongo, rate: 100}")
	}
	first := map[[2]string]int{}
	for i, w := range s.Workloads {
		p := indexPath("workloads", i)
		op := w.Op
		switch op {
		case "", OpWrite:
			op = OpWrite
		case OpRead:
		default:
			c.add(p+".op", "unknown op %q (want write or read)%s", w.Op, suggestion(w.Op, []string{OpWrite, OpRead}, "ops"))
		}
		what := "writes"
		if w.Reads() {
			what = "reads"
		}
		if w.Service == "" {
			c.add(p+".service", "a workload needs a service")
		} else if j, dup := first[[2]string{w.Service, op}]; dup {
			c.add(p+".service", "service %q already has a %s workload (workloads[%d]); give it one with the total rate", w.Service, op, j)
		} else {
			first[[2]string{w.Service, op}] = i
		}
		switch {
		case w.Rate > 0 && !math.IsInf(w.Rate, 0):
		case !c.doc.has(p + ".rate"):
			c.add(p+".rate", "a workload needs a rate (%s per second)", what)
		default:
			c.add(p+".rate", "rate must be a positive number of %s per second, got %v", what, w.Rate)
		}
		if w.Timeout < 0 {
			c.add(p+".timeout", "timeout must not be negative, got %s", w.Timeout)
		}
		c.checkArrivals(i)
		c.checkReadFields(p, w)
		if w.Service == "" {
			continue
		}
		svc, ok := c.service(p+".service", w.Service)
		if ok && w.Reads() {
			c.checkReadWorkload(p, svc, w)
			continue
		}
		if !ok || w.WriteConcern == "" {
			continue
		}
		if svc.Kind != platform.KindMongo {
			c.add(p+".write_concern", "write_concern is for mongo services; %q is %s", svc.Name, svc.Kind)
			continue
		}
		if msg := checkWriteConcern(svc, w.WriteConcern); msg != "" {
			c.add(p+".write_concern", "%s", msg)
		}
	}
}

// checkReadFields refuses the read settings on a write workload and the
// write concern on a read workload.
func (c *checker) checkReadFields(p string, w Workload) {
	if w.Reads() {
		if w.WriteConcern != "" {
			c.add(p+".write_concern", "write_concern is for writes; this workload reads (read_concern sets what its reads may return)")
		}
		return
	}
	for _, f := range []struct {
		field string
		set   bool
	}{{"read_preference", w.ReadPreference != ""}, {"read_preference_tags", len(w.ReadPreferenceTags) > 0}, {"read_concern", w.ReadConcern != ""}} {
		if f.set {
			c.add(p+"."+f.field, "%s is for reads; add op: read to make this a read workload", f.field)
		}
	}
}

// checkReadWorkload checks a read workload against its service: a mongo
// service with a write workload (reads are checked against its writes), a
// read preference and concern MongoDB accepts together, and tag sets that
// some member a read preference can select carries.
func (c *checker) checkReadWorkload(p string, svc *platform.ServiceSpec, w Workload) {
	if svc.Kind != platform.KindMongo {
		c.add(p+".op", "op: read is supported for mongo services only; %q is %s (its writes are read back after recovery)", svc.Name, svc.Kind)
		return
	}
	if !slices.ContainsFunc(c.scenario.Workloads, func(o Workload) bool { return o.Service == w.Service && !o.Reads() }) {
		c.add(p+".op", "a read workload on %q needs a write workload on it too: its reads are checked against those writes", w.Service)
	}
	preference := w.ReadPreference
	if preference != "" && !slices.Contains(platform.ReadPreferences, preference) {
		c.add(p+".read_preference", "unknown read_preference %q%s", preference, suggestion(preference, platform.ReadPreferences, "read preferences"))
	}
	if w.ReadConcern != "" && !slices.Contains(platform.ReadConcerns, w.ReadConcern) {
		c.add(p+".read_concern", "unknown read_concern %q%s", w.ReadConcern, suggestion(w.ReadConcern, platform.ReadConcerns, "read concerns"))
	}
	primary := preference == "" || preference == platform.ReadPrimary
	if w.ReadConcern == platform.ReadConcernLinearizable && !primary {
		// https://www.mongodb.com/docs/manual/reference/read-concern-linearizable/
		c.add(p+".read_concern", "linearizable reads go to the primary only; read_preference %q cannot be used with it", preference)
	}
	if len(w.ReadPreferenceTags) == 0 {
		return
	}
	if primary {
		// https://www.mongodb.com/docs/manual/core/read-preference-tags/
		c.add(p+".read_preference_tags", "tag sets cannot be used with read_preference primary (the primary is one member); use primaryPreferred, secondary, secondaryPreferred or nearest")
		return
	}
	for i, set := range w.ReadPreferenceTags {
		if len(set) == 0 {
			continue
		}
		matched := slices.ContainsFunc(svc.Members, func(m platform.MongoMember) bool {
			if m.Hidden || m.Arbiter {
				return false
			}
			for k, v := range set {
				if m.Tags[k] != v {
					return false
				}
			}
			return true
		})
		if !matched {
			c.add(indexPath(p+".read_preference_tags", i), "no member of %q that a read can select (not hidden, not an arbiter) has the tags %s, so reads with this set never find a server", svc.Name, platform.FormatParams(set))
		}
	}
}

// checkWriteConcern accepts the w values MongoDB accepts for the replica
// set: "majority", a member count from 1 to the number of members, or a
// custom write mode (settings.getLastErrorModes)
// (https://www.mongodb.com/docs/manual/reference/write-concern/#w-option).
func checkWriteConcern(svc *platform.ServiceSpec, w string) string {
	if w == "majority" {
		return ""
	}
	if _, ok := svc.WriteModes[w]; ok {
		return ""
	}
	// Arbiters hold no data, so they acknowledge no write.
	dataBearing := 0
	for _, m := range svc.Members {
		if !m.Arbiter {
			dataBearing++
		}
	}
	if n, err := strconv.Atoi(w); err == nil {
		if n >= 1 && n <= dataBearing {
			return ""
		}
		if dataBearing < len(svc.Members) {
			return fmt.Sprintf("write_concern %d: replica set %q has %d members, %d of them data-bearing (an arbiter acknowledges no write), so want 1..%d", n, svc.Name, len(svc.Members), dataBearing, dataBearing)
		}
		return fmt.Sprintf("write_concern %d: replica set %q has %d members, so want 1..%d", n, svc.Name, len(svc.Members), dataBearing)
	}
	valid := []string{"majority", "1.." + strconv.Itoa(dataBearing)}
	valid = append(valid, platform.SortedKeys(svc.WriteModes)...)
	return fmt.Sprintf("unknown write_concern %q (want one of %s)", w, strings.Join(valid, ", "))
}

// collectTriggers names every fault (defaulting to fault-N) and runbook step
// and reports names used twice; `after:` refers to them.
func (c *checker) collectTriggers() {
	s := c.scenario
	c.triggers = map[string]*trigger{}
	var all []*trigger
	for i := range s.Faults {
		f := &s.Faults[i]
		all = append(all, &trigger{path: indexPath("faults", i), what: "fault", name: f.Name, at: f.At, after: f.After, afterEvent: f.AfterEvent})
	}
	for i := range s.Runbook {
		st := &s.Runbook[i]
		all = append(all, &trigger{path: indexPath("runbook", i), what: "runbook step", name: st.Name, at: st.At, after: st.After, afterEvent: st.AfterEvent, optional: st.Optional})
	}
	c.all = all
	// Explicit names first, so that a default name never takes one a later
	// entry gives explicitly.
	for _, t := range all {
		if t.name == "" {
			continue
		}
		if other, dup := c.triggers[t.name]; dup {
			c.add(t.path+".name", "name %q is already used by %s", t.name, other.path)
			continue
		}
		c.triggers[t.name] = t
	}
	for i := range s.Faults {
		f := &s.Faults[i]
		if f.Name != "" {
			continue
		}
		f.Name = fmt.Sprintf("fault-%d", i+1)
		all[i].name = f.Name
		if other, dup := c.triggers[f.Name]; dup {
			c.add(all[i].path, "its default name %q is already used by %s; give this fault a name", f.Name, other.path)
			continue
		}
		c.triggers[f.Name] = all[i]
	}
	for i := range s.Runbook {
		if s.Runbook[i].Name == "" {
			c.add(indexPath("runbook", i)+".name", "a runbook step needs a name")
		}
	}
}

func (c *checker) selector(path, text string) (platform.Selector, bool) {
	if c.topology == nil {
		return platform.Selector{}, false
	}
	sel, err := platform.ParseSelector(c.topology, text)
	if err != nil {
		c.add(path, "%v%s", err, c.selectorHint(sel))
		return sel, false
	}
	return sel, true
}

// selectorHint suggests the node, zone, region or service a selector that
// names none probably meant.
func (c *checker) selectorHint(sel platform.Selector) string {
	t := c.topology
	var names []string
	var what string
	switch sel.Kind {
	case platform.SelectNode:
		if _, ok := t.Node(sel.Value); ok {
			return ""
		}
		for _, n := range t.Nodes() {
			names = append(names, n.Name)
		}
		what = "nodes"
	case platform.SelectZone:
		if _, ok := t.RegionOfZone(sel.Value); ok {
			return ""
		}
		names, what = t.Zones(), "zones"
	case platform.SelectRegion:
		if t.HasRegion(sel.Value) {
			return ""
		}
		for _, r := range t.Regions {
			names = append(names, r.Name)
		}
		what = "regions"
	case platform.SelectService:
		if _, ok := t.Service(sel.Value); ok {
			return ""
		}
		names, what = c.serviceNames(), "services"
	default:
		return ""
	}
	return suggestion(sel.Value, names, what)
}

// faultSelector checks a fault's selector. A node that does not exist yet
// is a valid target when a runbook step the fault waits for (through its
// after chain) creates it (mongo.add-member).
func (c *checker) faultSelector(path, text string, t *trigger) (platform.Selector, bool) {
	if c.topology == nil {
		return platform.Selector{}, false
	}
	sel, err := platform.ParseSelector(c.topology, text)
	if err == nil {
		return sel, true
	}
	if sel.Kind == platform.SelectNode {
		if slices.Contains(c.createdBefore(t), sel.Value) {
			return sel, true
		}
		if step, ok := c.creator(sel.Value); ok {
			c.add(path, "node %q is created by runbook step %q; a fault on it must come after that step (after: %s, or after a fault or step that follows it)", sel.Value, step, step)
			return sel, false
		}
	}
	c.add(path, "%v%s", err, c.selectorHint(sel))
	return sel, false
}

// createdBefore lists the nodes created by the add-member steps that t
// waits for, directly or through other faults and steps.
func (c *checker) createdBefore(t *trigger) []string {
	var names []string
	seen := map[string]bool{}
	for next := c.triggers[t.after]; next != nil && !seen[next.name]; next = c.triggers[next.after] {
		seen[next.name] = true
		for _, st := range c.scenario.Runbook {
			if st.Name == next.name && st.Action == platform.ActionMongoAddMember && st.Params["name"] != "" {
				names = append(names, st.Params["name"])
			}
		}
	}
	return names
}

// creator names the add-member step that creates node, if any.
func (c *checker) creator(node string) (string, bool) {
	for _, st := range c.scenario.Runbook {
		if st.Action == platform.ActionMongoAddMember && st.Params["name"] == node {
			return st.Name, true
		}
	}
	return "", false
}

func (c *checker) checkFault(i int) {
	f := &c.scenario.Faults[i]
	p := indexPath("faults", i)
	switch {
	case f.Kind == "":
		c.add(p+".kind", "a fault needs a kind (%s)", strings.Join(FaultKinds, ", "))
	case !slices.Contains(FaultKinds, f.Kind):
		c.add(p+".kind", "unknown fault kind %q%s", f.Kind, suggestion(f.Kind, FaultKinds, "kinds"))
	case f.Kind == FaultPartition:
		c.checkPartition(f, p, c.all[i])
	default:
		if len(f.Between) > 0 {
			c.add(p+".between", "between is for partition faults; a %s fault takes a target", f.Kind)
		}
		if f.Target == "" {
			c.add(p+".target", "a %s fault needs a target: node:NAME, az:ZONE, region:REGION, role:SERVICE:ROLE or service:NAME", f.Kind)
		} else {
			c.faultSelector(p+".target", f.Target, c.all[i])
		}
	}
	if f.Kind == FaultLatency && f.Latency <= 0 {
		c.add(p+".latency", "a latency fault needs a positive latency, e.g. 200ms")
	}
	if f.Kind != FaultLatency && f.Kind != FaultDiskSlow && c.doc.has(p+".latency") {
		c.add(p+".latency", "latency is for latency faults, not %s", f.Kind)
	}
	c.checkDiskFault(f, p)
	if f.Heal < 0 {
		c.add(p+".heal", "heal must not be negative, got %s", f.Heal)
	}
	if f.Kind == FaultRestart && c.doc.has(p+".heal") {
		c.add(p+".heal", "a restart starts the node again at once; it takes no heal")
	}
	// A heal the run cannot reach is a heal that never happens; a fault
	// that lasts to the end leaves heal out.
	if d := c.scenario.Duration; f.At != nil && f.Heal > 0 && d > 0 && f.At.Latest < d && f.At.Latest+f.Heal >= d {
		c.add(p+".heal", "the heal would come at %s (at %s + heal %s), not before the scenario's end (duration %s); leave heal out for a fault that lasts to the end",
			f.At.Latest+f.Heal, f.At.Latest, f.Heal, d)
	}
	// A triggered fault comes no sooner than its trigger's earliest time
	// plus its delay: a heal that cannot come before the end even then
	// never happens.
	// The same reckoning for the fault itself: one whose earliest time is
	// past the end can never fire. One due exactly at the end is left to
	// the run, which reports it not rehearsed (issue 7's rolling restart
	// cut to 2m30s, whose last restart is due at 2m30s at the earliest).
	if d := c.scenario.Duration; f.At == nil && f.Delay >= 0 && d > 0 {
		if earliest := c.earliest(c.all[i], map[*trigger]bool{}) + f.Delay; earliest > d {
			field := p + ".delay"
			if !c.doc.has(field) {
				field = p
			}
			c.add(field, "the fault can never come within the scenario: %s at the earliest (its trigger, then delay %s), and the duration is %s", earliest, f.Delay, d)
		}
	}
	if d := c.scenario.Duration; f.At == nil && f.Heal > 0 && f.Delay >= 0 && d > 0 {
		if earliest := c.earliest(c.all[i], map[*trigger]bool{}) + f.Delay; earliest < d && earliest+f.Heal >= d {
			c.add(p+".heal", "the heal can never come before the scenario's end: the fault comes at %s at the earliest (its trigger, then delay %s), so the heal (%s later) at %s or after, and the duration is %s; leave heal out for a fault that lasts to the end",
				earliest, f.Delay, f.Heal, earliest+f.Heal, d)
		}
	}
	if f.Delay < 0 {
		c.add(p+".delay", "delay must not be negative, got %s", f.Delay)
	}
	if f.At != nil && c.doc.has(p+".delay") {
		c.add(p+".delay", "delay is for after and after_event; with at, add it to at")
	}
}

// earliest is the soonest t can fire: its time's earliest, else the
// soonest the fault or step it comes after can (a fault's delay added),
// else (an event) the start.
func (c *checker) earliest(t *trigger, seen map[*trigger]bool) platform.Duration {
	if t == nil || seen[t] {
		return 0
	}
	seen[t] = true
	switch {
	case t.at != nil:
		return max(0, t.at.Earliest)
	case t.after != "":
		before := c.triggers[t.after]
		if before == nil {
			return 0
		}
		soonest := c.earliest(before, seen)
		for _, f := range c.scenario.Faults {
			if f.Name == before.name && before.what == "fault" && f.At == nil && f.Delay > 0 {
				soonest += f.Delay
			}
		}
		return soonest
	}
	return 0
}

func (c *checker) checkPartition(f *Fault, p string, t *trigger) {
	if f.Target != "" {
		c.add(p+".target", "a partition takes between: [SIDE, SIDE], not target")
	}
	if len(f.Between) != 2 {
		c.add(p+".between", "a partition needs between with exactly two sides, e.g. [region:us-east-1, region:us-west-1]; got %d", len(f.Between))
		return
	}
	var sides [2]platform.Selector
	for j, text := range f.Between {
		sel, ok := c.faultSelector(indexPath(p+".between", j), text, t)
		if !ok {
			return
		}
		sides[j] = sel
	}
	// Roles resolve when the fault fires; only static sides can be
	// compared now.
	left := sides[0].Static(c.topology)
	var shared []string
	for _, n := range sides[1].Static(c.topology) {
		if slices.Contains(left, n) {
			shared = append(shared, n)
		}
	}
	if len(shared) > 0 {
		c.add(p+".between", "the two sides share nodes %s; a node cannot be cut off from itself", strings.Join(shared, ", "))
	}
}

// actionServiceKind is the kind of service each runbook action works on.
var actionServiceKind = map[string]string{
	platform.ActionMongoForceReconfigure: platform.KindMongo,
	platform.ActionMongoAddMember:        platform.KindMongo,
	platform.ActionMongoStepDown:         platform.KindMongo,
	platform.ActionMongoSetWriteConcern:  platform.KindMongo,
	platform.ActionMongoReconfigMember:   platform.KindMongo,
	platform.ActionMongoResyncMember:     platform.KindMongo,
	platform.ActionLogsRestoreSnapshot:   platform.KindElastic,
	platform.ActionArtifactsFailover:     platform.KindS3,
	platform.ActionArtifactsPublish:      platform.KindS3,
	platform.ActionArtifactsDelete:       platform.KindS3,
	platform.ActionRolesRebuild:          platform.KindS3,
	platform.ActionRolesUpgrade:          platform.KindS3,
}

func (c *checker) checkStep(i int) {
	st := &c.scenario.Runbook[i]
	p := indexPath("runbook", i)
	switch d := st.OperatorDelay; {
	case c.doc.has(p+".operator_delay") && !d.Duration:
		c.add(p+".operator_delay", "want a duration such as \"2m\" or a distribution of durations, got %s", d)
	case d.Lowest() < 0:
		c.add(p+".operator_delay", "operator_delay must not be negative, got %s", d)
	}
	catalog := platform.ActionCatalog()
	var names []string
	var info *platform.ActionInfo
	for j := range catalog {
		names = append(names, catalog[j].Name)
		if catalog[j].Name == st.Action {
			info = &catalog[j]
		}
	}
	switch {
	case st.Action == "":
		c.add(p+".action", "a runbook step needs an action (%s)", strings.Join(names, ", "))
		return
	case info == nil:
		c.add(p+".action", "unknown runbook action %q%s", st.Action, suggestion(st.Action, names, "actions"))
		return
	}
	pp := p + ".params"
	for _, name := range platform.SortedKeys(st.Params) {
		if _, ok := info.Params[name]; !ok {
			c.add(fieldPath(pp, name), "action %s takes no parameter %q%s", st.Action, name, suggestion(name, platform.SortedKeys(info.Params), "it takes"))
		}
	}
	for _, name := range info.Required {
		if st.Params[name] == "" {
			c.add(fieldPath(pp, name), "action %s needs parameter %q (%s)", st.Action, name, info.Params[name])
		}
	}
	if c.topology != nil {
		c.checkStepParams(i, pp)
	}
}

// checkStepParams checks the values of a step's parameters against the
// topology and the members earlier steps add.
func (c *checker) checkStepParams(i int, pp string) {
	st := &c.scenario.Runbook[i]
	t := c.topology
	var svc *platform.ServiceSpec
	kind := actionServiceKind[st.Action]
	if name, given := st.Params["service"]; given {
		if s, ok := c.service(fieldPath(pp, "service"), name); ok {
			if kind != "" && s.Kind != kind {
				c.add(fieldPath(pp, "service"), "action %s works on a %s service; %q is %s", st.Action, kind, name, s.Kind)
			} else {
				svc = s
			}
		}
	} else if kind != "" {
		var candidates []*platform.ServiceSpec
		for j := range t.Services {
			if t.Services[j].Kind == kind {
				candidates = append(candidates, &t.Services[j])
			}
		}
		switch len(candidates) {
		case 0:
			c.add(fieldPath(pp, "service"), "action %s needs a %s service; topology %q has none", st.Action, kind, t.Name)
		case 1:
			svc = candidates[0]
		default:
			c.add(fieldPath(pp, "service"), "topology %q has %d %s services; name one with params.service", t.Name, len(candidates), kind)
		}
	}
	for _, name := range platform.SortedKeys(st.Params) {
		value, path := st.Params[name], fieldPath(pp, name)
		switch name {
		case "promote", "member":
			if svc != nil && !c.isMember(svc, value, i) {
				c.add(path, "%q is not a member of replica set %q%s", value, svc.Name, suggestion(value, c.members(svc, i), "members"))
			}
		case "votes":
			// https://www.mongodb.com/docs/manual/reference/replica-configuration/#mongodb-rsconf-rsconf.members-n-.votes
			if value != "0" && value != "1" {
				c.add(path, "votes must be 0 or 1, got %q", value)
			}
		case "source":
			if value != "initial-sync" && value != "backup" {
				c.add(path, "source must be initial-sync or backup, got %q", value)
			}
		case "zone":
			if _, ok := t.RegionOfZone(value); !ok {
				c.add(path, "no zone %q in topology %q%s", value, t.Name, suggestion(value, t.Zones(), "zones"))
			}
		case "region":
			if !t.HasRegion(value) {
				var regions []string
				for _, r := range t.Regions {
					regions = append(regions, r.Name)
				}
				c.add(path, "no region %q in topology %q%s", value, t.Name, suggestion(value, regions, "regions"))
			}
		case "write_concern":
			if svc != nil {
				if msg := checkWriteConcern(svc, value); msg != "" {
					c.add(path, "%s", msg)
				}
			}
		case "nodes":
			if n, err := strconv.Atoi(value); err != nil || n < 1 {
				c.add(path, "nodes must be a positive whole number, got %q", value)
			}
		case "priority":
			// https://www.mongodb.com/docs/manual/reference/replica-configuration/#mongodb-rsconf-rsconf.members-n-.priority
			if v, err := strconv.ParseFloat(value, 64); err != nil || !(v >= 0 && v <= 1000) {
				c.add(path, "priority must be a number from 0 to 1000, got %q", value)
			}
		case "key", "role":
			if svc != nil {
				c.checkArtifactParam(svc, st.Action, name, value, path)
			}
		case "name":
			if st.Action != platform.ActionMongoAddMember {
				continue
			}
			if _, taken := t.Node(value); taken || c.addedBefore(value, i) {
				c.add(path, "node %q already exists; a new member needs a new name", value)
			}
		}
	}
}

// addedBefore reports whether a runbook step before step i adds a member
// named name.
func (c *checker) addedBefore(name string, i int) bool {
	if c.added == nil {
		c.added = map[string]int{}
		for j, st := range c.scenario.Runbook {
			if st.Action != platform.ActionMongoAddMember || st.Params["name"] == "" {
				continue
			}
			if _, seen := c.added[st.Params["name"]]; !seen {
				c.added[st.Params["name"]] = j
			}
		}
	}
	j, ok := c.added[name]
	return ok && j < i
}

// addedMembers lists the members that runbook steps before step i add.
func (c *checker) addedMembers(i int) []string {
	var names []string
	for _, st := range c.scenario.Runbook[:i] {
		if st.Action == platform.ActionMongoAddMember && st.Params["name"] != "" {
			names = append(names, st.Params["name"])
		}
	}
	return names
}

func (c *checker) members(svc *platform.ServiceSpec, step int) []string {
	var names []string
	for _, m := range svc.Members {
		names = append(names, m.Name)
	}
	return append(names, c.addedMembers(step)...)
}

func (c *checker) isMember(svc *platform.ServiceSpec, name string, step int) bool {
	return slices.ContainsFunc(svc.Members, func(m platform.MongoMember) bool { return m.Name == name }) || c.addedBefore(name, step)
}

// checkTriggers checks what starts each fault and step: one of at, after
// and after_event (or after with after_event), pointing at something that
// exists, with no loop of afters.
func (c *checker) checkTriggers() {
	for _, t := range c.all {
		c.checkTrigger(t)
	}
	c.checkAfterLoops()
}

func (c *checker) checkTrigger(t *trigger) {
	var given []string
	if t.at != nil || c.doc.has(t.path+".at") {
		given = append(given, "at")
	}
	if t.after != "" {
		given = append(given, "after")
	}
	if t.afterEvent != "" {
		given = append(given, "after_event")
	}
	// after and after_event together mean: the first such event once the
	// named fault or step has happened (a rolling restart's "when the
	// cluster is green again").
	combined := len(given) == 2 && t.after != "" && t.afterEvent != ""
	switch {
	case len(given) == 0:
		c.add(t.path, "a %s needs one of at, after or after_event", t.what)
		return
	case len(given) > 1 && !combined:
		c.add(t.path+"."+given[1], "a %s takes one of at, after and after_event (or after with after_event); got %s", t.what, strings.Join(given, " and "))
		return
	}
	duration := c.scenario.Duration
	switch {
	case t.at != nil && !t.at.Fixed():
		c.checkWindow(t)
	case t.at != nil && t.at.Earliest < 0:
		c.add(t.path+".at", "at must not be negative, got %s", *t.at)
	case t.at != nil && duration > 0 && t.at.Earliest >= duration:
		c.add(t.path+".at", "%s at %s is after the scenario's end (duration %s)", t.what, *t.at, duration)
	case t.after == t.name && t.after != "":
		c.add(t.path+".after", "a %s cannot run after itself", t.what)
	case t.after != "":
		if _, ok := c.triggers[t.after]; !ok {
			c.add(t.path+".after", "no fault or runbook step named %q%s", t.after, suggestion(t.after, platform.SortedKeys(c.triggers), "names"))
		}
	}
	if t.afterEvent != "" {
		c.checkEvent(t.path+".after_event", t.afterEvent)
	}
	if t.optional && t.afterEvent == "" {
		c.add(t.path+".optional", "optional is for a step that answers an event which may not come (after_event); a step at a time or after another always runs")
	}
}

// checkEvent accepts SERVICE:EVENT when a service of that name exists and
// its kind emits the event: a trigger on anything else would wait forever.
func (c *checker) checkEvent(path, text string) {
	service, what, ok := strings.Cut(text, ":")
	if !ok || service == "" || what == "" {
		c.add(path, "want SERVICE:EVENT, e.g. mongo:%s; got %q", platform.EventPrimaryElected, text)
		return
	}
	svc, ok := c.service(path, service)
	if !ok || platform.EmitsEvent(svc.Kind, what) {
		return
	}
	var events []string
	for _, e := range platform.EventCatalog(svc.Kind) {
		events = append(events, e.What)
	}
	hint := suggestion(what, events, "its events")
	if strings.HasPrefix(hint, ";") {
		hint += " (see `chaosdrill list events`)"
	}
	c.add(path, "service %q (%s) emits no event %q, so this would wait forever%s", service, svc.Kind, what, hint)
}

// checkAfterLoops reports each loop of afters once, at its member that
// comes first in the file, as "a -> b -> a". Each fault or step names at
// most one other with after, so the afters form chains that end, or end in
// a loop; one walk that colours what it has seen finds every loop in time
// linear in the number of faults and steps.
func (c *checker) checkAfterLoops() {
	index := make(map[*trigger]int, len(c.all))
	for i, t := range c.all {
		index[t] = i
	}
	const (
		unseen = iota
		onPath
		done
	)
	state := make([]uint8, len(c.all))
	for start := range c.all {
		if state[start] != unseen {
			continue
		}
		var path []int
		i := start
		for {
			state[i] = onPath
			path = append(path, i)
			t := c.all[i]
			next, ok := c.triggers[t.after]
			if !ok || t.after == "" || t.after == t.name {
				break // no after, a missing one, or after itself: checkTrigger reports those
			}
			j := index[next]
			if state[j] == done {
				break
			}
			if state[j] == onPath {
				c.reportLoop(path[slices.Index(path, j):])
				break
			}
			i = j
		}
		for _, k := range path {
			state[k] = done
		}
	}
}

// reportLoop reports the loop of afters through the triggers of loop (each
// after the next), starting from its member that comes first in the file.
func (c *checker) reportLoop(loop []int) {
	first := slices.Index(loop, slices.Min(loop))
	// Walking the afters goes against file order's reading "a after c":
	// list the loop as the first member, then what it runs after.
	names := make([]string, 0, len(loop)+1)
	for k := range loop {
		names = append(names, c.all[loop[(first+k)%len(loop)]].name)
	}
	names = append(names, names[0])
	t := c.all[loop[first]]
	c.add(t.path+".after", "after forms a loop: %s", strings.Join(names, " -> "))
}

func (c *checker) hasWorkload(service string) bool {
	return slices.ContainsFunc(c.scenario.Workloads, func(w Workload) bool { return w.Service == service })
}

func (c *checker) checkExpectation(i int) {
	e := c.scenario.Expect[i]
	p := indexPath("expect", i)
	if e.Service == "" {
		c.add(p+".service", "an expectation needs a service")
	} else if _, ok := c.service(p+".service", e.Service); ok && !c.hasWorkload(e.Service) {
		c.add(p+".service", "service %q has no workload, so a run has nothing to measure; add one under workloads", e.Service)
	}
	counts := []struct {
		field string
		value *int
	}{{"lost_writes_max", e.LostWrites}, {"lost_writes_min", e.MinLost}, {"unknown_max", e.UnknownMax},
		{"stale_reads_max", e.StaleReadsMax}, {"dirty_reads_max", e.DirtyReadsMax}}
	for _, b := range counts {
		if b.value != nil && *b.value < 0 {
			c.add(p+"."+b.field, "%s must not be negative, got %d", b.field, *b.value)
		}
	}
	durations := []struct {
		field string
		value *platform.Duration
	}{{"rto_max", e.RTOMax}, {"rto_min", e.RTOMin}, {"rpo_max", e.RPOMax}, {"redundancy_max", e.RedundancyMax},
		{"latency_p99_max", e.LatencyP99Max}, {"caught_up_max", e.CaughtUpMax}}
	for _, b := range durations {
		if b.value != nil && *b.value < 0 {
			c.add(p+"."+b.field, "%s must not be negative, got %s", b.field, *b.value)
		}
	}
	if e.LostWrites != nil && e.MinLost != nil && *e.MinLost > *e.LostWrites {
		c.add(p+".lost_writes_min", "lost_writes_min %d is more than lost_writes_max %d", *e.MinLost, *e.LostWrites)
	}
	if e.RTOMin != nil && e.RTOMax != nil && *e.RTOMin > *e.RTOMax {
		c.add(p+".rto_min", "rto_min %s is more than rto_max %s", *e.RTOMin, *e.RTOMax)
	}
	if c.topology == nil || e.Service == "" {
		return
	}
	svc, ok := c.topology.Service(e.Service)
	if !ok {
		return
	}
	if e.RedundancyMax != nil {
		switch {
		case !platform.EmitsEvent(svc.Kind, platform.EventRedundancyRestored):
			c.add(p+".redundancy_max", "service %q (%s) reports no %s event, so its time to full redundancy cannot be measured", svc.Name, svc.Kind, platform.EventRedundancyRestored)
		case len(c.scenario.Faults) == 0:
			c.add(p+".redundancy_max", "redundancy_max is measured from a fault; the scenario has none")
		}
	}
	for _, f := range []struct {
		field string
		set   bool
	}{{"stale_reads_max", e.StaleReadsMax != nil}, {"dirty_reads_max", e.DirtyReadsMax != nil}} {
		if f.set && !slices.ContainsFunc(c.scenario.Workloads, func(w Workload) bool { return w.Service == svc.Name && w.Reads() }) {
			c.add(p+"."+f.field, "%s bounds the reads of %q, which has no read workload; add one, e.g. {service: %s, op: read, rate: 100}", f.field, svc.Name, svc.Name)
		}
	}
	if e.CaughtUpMax != nil {
		switch {
		case svc.Kind != platform.KindMongo:
			c.add(p+".caught_up_max", "caught_up_max is for mongo services, whose runbook adds members; %q is %s", svc.Name, svc.Kind)
		case !c.addsMember(svc.Name):
			c.add(p+".caught_up_max", "no runbook step adds a member to %q (%s), so nothing could catch up", svc.Name, platform.ActionMongoAddMember)
		}
	}
}

// addsMember reports whether a runbook step adds a member to the service.
func (c *checker) addsMember(service string) bool {
	return slices.ContainsFunc(c.scenario.Runbook, func(st Step) bool {
		return st.Action == platform.ActionMongoAddMember && st.Service(c.topology) == service
	})
}
