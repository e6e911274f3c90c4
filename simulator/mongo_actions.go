package simulator

import (
	"fmt"
	"strconv"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

// action carries out a runbook step on the replica set. Steps that cannot
// start (bad parameters) return an error; steps that start and then find
// the set unable to do them report the error through done.
func (m *mongoModel) action(a platform.Action, done platform.ActionDone) error {
	finish := func(err error) { done.ActionDone(a.Name, err, m.s.now) }
	switch a.Action {
	case platform.ActionMongoForceReconfigure:
		x := m.member(a.Params["promote"])
		if x == nil {
			return fmt.Errorf("force-reconfigure %s: %w: %q is not a member", m.spec.Name, platform.ErrUnknownNode, a.Params["promote"])
		}
		m.s.after(m.set.forceReconfig, platform.HandlerFunc(func(time.Duration) { m.forceReconfigure(x, finish) }))
		return nil
	case platform.ActionMongoAddMember:
		return m.addMember(a.Params, finish)
	case platform.ActionMongoSetWriteConcern:
		concern, err := parseConcern(m.spec, a.Params["write_concern"])
		if err != nil {
			return fmt.Errorf("set write concern: %w", err)
		}
		// The clients are redeployed with the new concern; writes already
		// in flight keep the one they were sent with.
		m.s.after(0, platform.HandlerFunc(func(time.Duration) {
			m.concern = concern
			m.recount()
			finish(nil)
		}))
		return nil
	case platform.ActionMongoStepDown:
		m.s.after(0, platform.HandlerFunc(func(time.Duration) {
			switch p := m.primary; {
			case p == nil:
				finish(fmt.Errorf("step down %s: no primary", m.spec.Name))
			case m.stepDown != nil:
				finish(fmt.Errorf("step down %s: a step-down is already in progress (ConflictingOperationInProgress)", m.spec.Name))
			default:
				m.startStepDown(p, finish)
			}
		}))
		return nil
	}
	return fmt.Errorf("%w: %q on mongo service %q", platform.ErrUnknownAction, a.Action, m.spec.Name)
}

func (m *mongoModel) member(name string) *mongoMember {
	for _, x := range m.members {
		if x.name() == name {
			return x
		}
	}
	return nil
}

// forceReconfigure installs, on promote, a config holding only the members
// it can reach, with promote electable (priority at least 1, not hidden, one
// vote) and the version raised by 100000 as a forced reconfig does
// (https://www.mongodb.com/docs/manual/tutorial/reconfigure-replica-set-with-unavailable-members/).
// Members left out stay REMOVED if they come back, so writes only they
// held are gone for good. The step is done when a primary is elected in the
// new config.
func (m *mongoModel) forceReconfigure(x *mongoMember, finish func(error)) {
	if !m.s.up(x.node) || !x.inConfig {
		finish(fmt.Errorf("force-reconfigure %s: member %q is not running", m.spec.Name, x.name()))
		return
	}
	m.materializeAll()
	var kept []string
	for _, y := range m.members {
		y.inConfig = y.inConfig && m.s.up(y.node) && m.s.reachable(x.node, y.node)
		if y.inConfig {
			kept = append(kept, y.name())
			y.lastHeard = m.s.now
			y.timerSeq++
			y.timerArmed = false
		}
	}
	x.priority = max(x.priority, 1)
	x.hidden = false
	x.votes = 1
	m.configVersion += 100000
	m.clientRegion = x.node.Region
	m.recount()
	m.s.emit(m.spec.Name, platform.EventReconfigured, x.name(), fmt.Sprintf("forced, version %d, members %v", m.configVersion, kept))
	if p := m.newestPrimary(); p != nil {
		m.settle()
		finish(nil)
		return
	}
	m.electedHooks = append(m.electedHooks, func(*mongoMember) { finish(nil) })
	if m.voters == 1 {
		// A single-node set elects itself at once (singleNodePromptElection).
		m.runElection(x, "singleNodePromptElection", true)
		return
	}
	m.settle()
}

// addMember starts a new member in zone; it joins as a non-voting member in
// initial sync (MongoDB 5.0+ newlyAdded) and becomes a voting secondary
// when the sync ends. The sync takes mongo.initial_sync_base plus
// mongo.initial_sync_per_document for every document the primary holds.
func (m *mongoModel) addMember(params map[string]string, finish func(error)) error {
	name, zone := params["name"], params["zone"]
	region, ok := m.s.topo.RegionOfZone(zone)
	if !ok {
		return fmt.Errorf("add member to %s: zone %q is not in the topology", m.spec.Name, zone)
	}
	if _, err := m.s.node(name); err == nil || name == "" {
		return fmt.Errorf("add member to %s: node name %q is empty or taken", m.spec.Name, name)
	}
	priority := 1.0
	if v := params["priority"]; v != "" {
		p, err := strconv.ParseFloat(v, 64)
		if err != nil || p < 0 || p > 1000 {
			return fmt.Errorf("add member to %s: priority %q is not a number from 0 to 1000", m.spec.Name, v)
		}
		priority = p
	}
	p := m.primary
	if p == nil {
		return fmt.Errorf("add member to %s: the set has no primary to add it to", m.spec.Name)
	}
	n := m.s.addNode(platform.Node{Name: name, Service: m.spec.Name, Kind: platform.KindMongo, Region: region, Zone: zone})
	x := &mongoMember{node: n, priority: priority, votes: 1, inConfig: true, syncing: true, lastHeard: m.s.now}
	for _, y := range m.members {
		if y.node.Region == region && len(y.tags) > 0 {
			x.tags = y.tags
			break
		}
	}
	m.members = append(m.members, x)
	m.byNode[n.index] = x
	m.configVersion++
	m.recount()
	m.netSig = m.networkSignature()
	m.materializeAll()
	docs := p.applied
	m.s.after(m.set.initialSyncBase+time.Duration(docs)*m.set.initialSyncPerDoc, platform.HandlerFunc(func(time.Duration) {
		m.materializeAll()
		src := m.primary
		switch {
		case !m.s.up(x.node):
			finish(fmt.Errorf("add member %q to %s: it went down during initial sync", name, m.spec.Name))
			return
		case src == nil:
			finish(fmt.Errorf("add member %q to %s: no primary to sync from", name, m.spec.Name))
			return
		}
		x.log, x.applied = src.log, src.applied
		x.syncing = false
		m.recount()
		m.s.emit(m.spec.Name, platform.EventMemberAdded, name, fmt.Sprintf("%d documents", docs))
		m.settle()
		finish(nil)
	}))
	m.settle()
	return nil
}
