package simulator

import (
	"fmt"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

// mongoStepDown is a replSetStepDown in progress. From the moment the
// command arrives the primary refuses writes and kills the ones in
// progress; it steps down once the writes it had accepted are
// majority-replicated and an electable secondary has caught up with them,
// and if that does not happen within secondaryCatchUpPeriodSecs
// (mongo.step_down_catch_up) it gives up and takes writes again, having
// lost nothing (https://www.mongodb.com/docs/manual/reference/command/replSetStepDown/#behavior,
// "Writes During Stepdown").
type mongoStepDown struct {
	p        *mongoMember
	since    time.Duration // when the command arrived
	deadline time.Duration // since + mongo.step_down_catch_up
	n        int           // entries of p's log a successor must hold: every write p accepted
	finish   func(error)
	seq      int // invalidates the check scheduled before the last change
}

// startStepDown begins replSetStepDown on primary p; finish is told when p
// has stepped down (nil) or gave up (the command's error).
func (m *mongoModel) startStepDown(p *mongoMember, finish func(error)) {
	now := m.s.now
	m.materializeAll()
	// Writes still on their way to p arrive at a primary that refuses
	// them: the driver retries them through server selection.
	p.log.truncateAfter(now)
	p.steppingDown = true
	m.stepDown = &mongoStepDown{p: p, since: now, deadline: now + m.set.stepDownCatchUp, n: p.log.len(), finish: finish}
	if m.clientPrimary == p {
		// The primary's hello now says isWritablePrimary: false; the
		// streaming monitor learns it and the driver selects again.
		m.startSelecting(now)
	}
	m.settle()
}

// scheduleStepDown (re)plans the step-down in progress under the states
// settle just established: the hand-off when a successor will be caught
// up before the deadline, else giving up at the deadline.
func (m *mongoModel) scheduleStepDown() {
	sd := m.stepDown
	if sd == nil {
		return
	}
	p := sd.p
	if !p.isPrimary || p != m.primary || !m.s.up(p.node) {
		m.endStepDown(fmt.Errorf("step down %s: %s stopped being primary while it waited for a secondary to catch up", m.spec.Name, p.name()))
		return
	}
	sd.seq++
	seq := sd.seq
	current := func() bool { return m.stepDown == sd && sd.seq == seq }
	if y, at := m.successor(p, sd.n); y != nil && at <= sd.deadline {
		m.s.timer(at, platform.HandlerFunc(func(time.Duration) {
			if current() {
				m.completeStepDown()
			}
		}))
		return
	}
	m.s.timer(sd.deadline, platform.HandlerFunc(func(time.Duration) {
		if current() {
			m.endStepDown(fmt.Errorf("step down %s: no electable secondary caught up within secondaryCatchUpPeriodSecs (%v; ExceededTimeLimit); %s stays primary and takes writes again",
				m.spec.Name, m.set.stepDownCatchUp, p.name()))
			m.settle()
		}
	}))
}

// completeStepDown hands over to the successor that has just caught up.
func (m *mongoModel) completeStepDown() {
	sd := m.stepDown
	m.materializeAll()
	y, at := m.successor(sd.p, sd.n)
	if y == nil || at > m.s.now {
		m.settle() // something changed since; plan again
		return
	}
	m.stepDown = nil
	sd.p.steppingDown = false
	sd.p.frozenUntil = sd.since + m.set.stepDownFreeze
	m.handOffTo(sd.p, y, sd.n, m.s.now)
	m.settle()
	// The command returns once the primary has stepped down; the
	// successor's election follows.
	sd.finish(nil)
}

// endStepDown ends the attempt with err; the primary takes writes again.
func (m *mongoModel) endStepDown(err error) {
	sd := m.stepDown
	m.stepDown = nil
	sd.p.steppingDown = false
	sd.finish(err)
}
