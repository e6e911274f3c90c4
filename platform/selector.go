package platform

import (
	"fmt"
	"strings"
)

// Selector kinds: what a fault aims at. Fault domains nest node < az <
// region; a role is resolved when the fault fires (the primary at that
// moment); service is every node of a service.
const (
	SelectNode    = "node"
	SelectZone    = "az"
	SelectRegion  = "region"
	SelectRole    = "role"
	SelectService = "service"
)

// Roles a platform resolves at fault time, by service kind.
var Roles = map[string][]string{
	KindMongo:   {"primary", "secondary"},
	KindElastic: {"master"},
}

// Selector aims a fault: "node:mongo-east-1a", "az:us-east-1b",
// "region:us-east-1", "role:mongo:primary", "service:logs".
type Selector struct {
	Kind  string
	Value string // for roles: "SERVICE:ROLE"
}

func (s Selector) String() string { return s.Kind + ":" + s.Value }

// ParseSelector parses and checks a selector against the topology.
func ParseSelector(t *Topology, text string) (Selector, error) {
	kind, value, ok := strings.Cut(text, ":")
	if !ok || value == "" {
		return Selector{}, fmt.Errorf("selector %q: want KIND:VALUE with KIND one of node, az, region, role, service", text)
	}
	s := Selector{Kind: kind, Value: value}
	switch kind {
	case SelectNode:
		if _, ok := t.Node(value); !ok {
			return s, fmt.Errorf("selector %q: no node %q in topology %q", text, value, t.Name)
		}
	case SelectZone:
		if _, ok := t.RegionOfZone(value); !ok {
			return s, fmt.Errorf("selector %q: no zone %q in topology %q", text, value, t.Name)
		}
	case SelectRegion:
		if !t.HasRegion(value) {
			return s, fmt.Errorf("selector %q: no region %q in topology %q", text, value, t.Name)
		}
	case SelectService:
		if _, ok := t.Service(value); !ok {
			return s, fmt.Errorf("selector %q: no service %q in topology %q", text, value, t.Name)
		}
	case SelectRole:
		svcName, role, ok := strings.Cut(value, ":")
		svc, found := t.Service(svcName)
		if !ok || !found {
			return s, fmt.Errorf("selector %q: want role:SERVICE:ROLE with a service of topology %q", text, t.Name)
		}
		valid := false
		for _, r := range Roles[svc.Kind] {
			valid = valid || r == role
		}
		if !valid {
			return s, fmt.Errorf("selector %q: service %q (%s) has roles %v", text, svcName, svc.Kind, Roles[svc.Kind])
		}
	default:
		return s, fmt.Errorf("selector %q: unknown kind %q (want node, az, region, role or service)", text, kind)
	}
	return s, nil
}

// Static resolves a selector that does not depend on the platform's state
// (everything but roles) to node names, in topology order.
func (s Selector) Static(t *Topology) []string {
	var names []string
	for _, n := range t.Nodes() {
		switch {
		case s.Kind == SelectNode && n.Name == s.Value,
			s.Kind == SelectZone && n.Zone == s.Value,
			s.Kind == SelectRegion && n.Region == s.Value,
			s.Kind == SelectService && n.Service == s.Value:
			names = append(names, n.Name)
		}
	}
	return names
}
