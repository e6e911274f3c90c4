package scenarios

import (
	"fmt"
	"regexp"

	"github.com/chaosdrill/chaosdrill/platform"
)

// Names. Every name a scenario file gives (the scenario's, its faults' and
// runbook steps', and in an inline topology its regions, zones, services,
// nodes, replica set and write modes) is 1 to MaxNameLength characters:
// ASCII letters, digits, '.', '_' and '-', starting with a letter or a
// digit. Names become folder names (out/NAME-SEED), Docker container and
// network names and DNS aliases, and text on a terminal: this set is safe
// in all of them, and leaves no room for "../", "/", control characters or
// the ':' that separates SERVICE:EVENT and role:SERVICE:ROLE.
const (
	// MaxNameLength is a DNS label's limit (RFC 1035), which node names
	// become on the containers platform.
	MaxNameLength = 63
	// NameCharacters describes the set for messages and `--help`.
	NameCharacters = "letters, digits, '.', '_' and '-', starting with a letter or a digit"
)

var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// CheckName reports whether name follows the naming rule, saying why not.
func CheckName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("a name cannot be empty")
	case len(name) > MaxNameLength:
		return fmt.Errorf("%d characters; a name has at most %d", len(name), MaxNameLength)
	case !namePattern.MatchString(name):
		return fmt.Errorf("%s is not a valid name: use %s", Quote(name), NameCharacters)
	}
	return nil
}

// Quote writes s for a message or a terminal: in double quotes, with every
// control character, quote and non-printable byte escaped (\x1b, \n, \x00)
// so that the text can neither move the cursor, colour the screen, ring
// the bell nor break the one-line-per-problem form.
func Quote(s string) string { return fmt.Sprintf("%q", s) }

// checkNames checks every name the file gives against the naming rule.
func (c *checker) checkNames() {
	s := c.scenario
	c.checkName("name", s.Name)
	for i, f := range s.Faults {
		c.checkName(indexPath("faults", i)+".name", f.Name)
	}
	for i, st := range s.Runbook {
		c.checkName(indexPath("runbook", i)+".name", st.Name)
		if st.Params["name"] != "" {
			c.checkName(indexPath("runbook", i)+".params.name", st.Params["name"])
		}
	}
	t := s.Topology.Inline
	if t == nil {
		return // a built-in topology's names are the project's own
	}
	c.checkName("topology.name", t.Name)
	for i, r := range t.Regions {
		c.checkName(fmt.Sprintf("topology.regions[%d].name", i), r.Name)
		for j, z := range r.Zones {
			c.checkName(fmt.Sprintf("topology.regions[%d].zones[%d]", i, j), z)
		}
	}
	for i, svc := range t.Services {
		p := fmt.Sprintf("topology.services[%d]", i)
		c.checkName(p+".name", svc.Name)
		c.checkName(p+".replica_set", svc.ReplicaSet)
		for j, m := range svc.Members {
			c.checkName(fmt.Sprintf("%s.members[%d].name", p, j), m.Name)
		}
		for j, n := range svc.Nodes {
			c.checkName(fmt.Sprintf("%s.nodes[%d].name", p, j), n.Name)
		}
		for j, e := range svc.Endpoints {
			c.checkName(fmt.Sprintf("%s.endpoints[%d].name", p, j), e.Name)
		}
		for mode := range svc.WriteModes {
			c.checkName(p+".write_modes."+mode, mode)
		}
	}
}

// checkName checks one name the file gives; an empty one is left to the
// check that requires it.
func (c *checker) checkName(path, name string) {
	if name == "" {
		return
	}
	if err := CheckName(name); err != nil {
		c.add(path, "%v", err)
	}
}

// checkNodeNames checks, for a platform that derives a name of its own from
// each node's (containers: a DNS alias and a container name), that no
// node's derived name is empty and no two nodes share one, runbook-added
// members included.
func (c *checker) checkNodeNames() {
	derive := c.options.nodeName
	if derive == nil || c.topology == nil {
		return
	}
	type origin struct{ path, name string }
	taken := map[string]origin{}
	claim := func(path, name string) {
		if name == "" {
			return
		}
		derived := derive(name)
		if derived == "" {
			c.add(path, "node name %s gives no usable name on this platform", Quote(name))
			return
		}
		if other, dup := taken[derived]; dup && other.name != name {
			c.add(path, "node names %s and %s both become %s on this platform (at %s); rename one",
				Quote(other.name), Quote(name), Quote(derived), other.path)
			return
		}
		taken[derived] = origin{path, name}
	}
	for i, svc := range c.topology.Services {
		p := fmt.Sprintf("topology.services[%d]", i)
		for j, m := range svc.Members {
			claim(fmt.Sprintf("%s.members[%d].name", p, j), m.Name)
		}
		for j, n := range svc.Nodes {
			claim(fmt.Sprintf("%s.nodes[%d].name", p, j), n.Name)
		}
		for j, e := range svc.Endpoints {
			claim(fmt.Sprintf("%s.endpoints[%d].name", p, j), e.Name)
		}
	}
	for i, st := range c.scenario.Runbook {
		if name := st.Params["name"]; name != "" && st.Action == platform.ActionMongoAddMember {
			claim(indexPath("runbook", i)+".params.name", name)
		}
	}
}
