package simulator

import (
	"fmt"
	"strconv"
	"strings"
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
		if x.arbiter {
			return fmt.Errorf("force-reconfigure %s: %q is an arbiter: it holds no data and cannot be primary", m.spec.Name, x.name())
		}
		m.s.after(m.set.forceReconfig, platform.HandlerFunc(func(time.Duration) { m.forceReconfigure(x, finish) }))
		return nil
	case platform.ActionMongoAddMember:
		return m.addMember(a.Params, finish)
	case platform.ActionMongoReconfigMember:
		return m.reconfigureMember(a.Params, finish)
	case platform.ActionMongoResyncMember:
		return m.resyncMember(a.Params, finish)
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
	m.setClientRegion(x.node.Region)
	m.recount()
	m.s.emit(m.spec.Name, platform.EventReconfigured, x.name(), fmt.Sprintf("forced, version %d, members %s", m.configVersion, strings.Join(kept, ", ")))
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

// addMember starts a new member in zone and adds it to the set as a
// newlyAdded member (MongoDB 5.0+: no vote until it is SECONDARY), seeded
// by an initial sync or from the last backup (seed); the step is done when
// it leaves STARTUP2 (member-added), and its lag is reported until it is
// caught up (member-caught-up).
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
	source, err := syncSource(params)
	if err != nil {
		return fmt.Errorf("add member to %s: %w", m.spec.Name, err)
	}
	if m.primary == nil {
		return fmt.Errorf("add member to %s: the set has no primary to add it to", m.spec.Name)
	}
	n := m.s.addNode(platform.Node{Name: name, Service: m.spec.Name, Kind: platform.KindMongo, Region: region, Zone: zone})
	x := &mongoMember{node: n, priority: priority, votes: 1, inConfig: true, newlyAdded: true, lastHeard: m.s.now}
	for _, y := range m.members {
		if y.node.Region == region && len(y.tags) > 0 {
			x.tags = y.tags
			break
		}
	}
	m.members = append(m.members, x)
	m.byNode[n.index] = x
	m.configVersion++
	m.netSig = m.networkSignature()
	m.seed(x, source, finish)
	return nil
}

// reconfigureMember changes one member's votes and/or priority with a
// non-forced rs.reconfig on the primary: MongoDB's workaround for a
// primary-secondary-arbiter set whose secondary is down or lagging (votes
// 0, priority 0, so that w: "majority" needs the primary alone;
// https://www.mongodb.com/docs/manual/tutorial/mitigate-psa-performance-issues/).
// The primary needs a majority of the voters of both configs to install it
// (https://www.mongodb.com/docs/manual/reference/command/replSetReconfig/);
// it takes mongo.reconfig_duration, and the step is done then.
func (m *mongoModel) reconfigureMember(params map[string]string, finish func(error)) error {
	name := params["member"]
	x := m.member(name)
	switch {
	case x == nil || !x.inConfig:
		return fmt.Errorf("reconfigure %s: %w: %q is not a member", m.spec.Name, platform.ErrUnknownNode, name)
	case x.arbiter:
		return fmt.Errorf("reconfigure %s: %q is an arbiter, whose votes (1) and priority (0) are fixed", m.spec.Name, name)
	}
	votes, priority := x.votes, x.priority
	_, givesVotes := params["votes"]
	_, givesPriority := params["priority"]
	if !givesVotes && !givesPriority {
		return fmt.Errorf("reconfigure %s: give member %q new votes, a new priority, or both", m.spec.Name, name)
	}
	if v, given := params["votes"]; given {
		n, err := strconv.Atoi(v)
		if err != nil || (n != 0 && n != 1) {
			return fmt.Errorf("reconfigure %s: votes %q is not 0 or 1", m.spec.Name, v)
		}
		votes = n
	}
	if v, given := params["priority"]; given {
		p, err := strconv.ParseFloat(v, 64)
		if err != nil || p < 0 || p > 1000 {
			return fmt.Errorf("reconfigure %s: priority %q is not a number from 0 to 1000", m.spec.Name, v)
		}
		priority = p
	}
	switch {
	case votes == 0 && priority != 0:
		return fmt.Errorf("reconfigure %s: a non-voting member must have priority 0 (member %q)", m.spec.Name, name)
	case x.hidden && priority != 0:
		return fmt.Errorf("reconfigure %s: a hidden member must have priority 0 (member %q)", m.spec.Name, name)
	}
	m.s.after(m.set.reconfig, platform.HandlerFunc(func(time.Duration) {
		p := m.primary
		switch {
		case p == nil:
			finish(fmt.Errorf("reconfigure %s: no primary to run rs.reconfig on", m.spec.Name))
			return
		case p == x && priority == 0:
			finish(fmt.Errorf("reconfigure %s: %q is the primary; step it down before making it unelectable", m.spec.Name, name))
			return
		}
		m.materializeAll()
		oldVotes, oldPriority := x.votes, x.priority
		x.votes, x.priority = votes, priority
		m.recount()
		if !m.seesMajority(p) {
			x.votes, x.priority = oldVotes, oldPriority
			m.recount()
			finish(fmt.Errorf("reconfigure %s: the primary cannot reach a majority of the voting members to install the new config", m.spec.Name))
			return
		}
		m.configVersion++
		m.s.emit(m.spec.Name, platform.EventReconfigured, name, fmt.Sprintf("version %d: votes %d, priority %v", m.configVersion, votes, priority))
		m.settle()
		finish(nil)
	}))
	return nil
}
