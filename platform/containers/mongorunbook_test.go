package containers

import (
	"testing"
	"testing/synctest"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/platform/adapters/mongo"
)

// The live side of the simulator's Mongo runbook: arbiters, a one-member
// reconfig, a resync, member-caught-up, member-stale and the primary's lag
// at a fault. The real mongod cannot run here, so these check the logic
// that reads replSetGetStatus answers (in the shapes MongoDB documents)
// and what the platform refuses up front; the documents it sends are
// checked in the adapter's grammar tests.

// psaTopology is scenarios/mongo-psa-secondary-down.yaml's topology.
func psaTopology() *platform.Topology {
	return &platform.Topology{
		Name:    "psa",
		Regions: []platform.Region{{Name: "us-east-1", Zones: []string{"us-east-1a", "us-east-1b", "us-east-1c"}}},
		Services: []platform.ServiceSpec{{
			Name: "mongo", Kind: platform.KindMongo, ReplicaSet: "psa-rs",
			Members: []platform.MongoMember{
				{Name: "mongo-arbiter", Zone: "us-east-1c", Arbiter: true},
				{Name: "mongo-a", Zone: "us-east-1a", Priority: 2},
				{Name: "mongo-b", Zone: "us-east-1b", Priority: 1},
			},
		}},
	}
}

// psaPlatform is a platform of psaTopology with its mongo service made, as
// Start makes it, without Docker: enough for what action() checks.
func psaPlatform(sink *recorder) (*Platform, *mongoService) {
	p, err := New(platform.Config{RunID: "psa", Topology: psaTopology(), Workloads: []platform.WorkloadConfig{{Service: "mongo"}}, Completions: sink, Events: sink})
	if err != nil {
		panic(err)
	}
	spec, _ := p.cfg.Topology.Service("mongo")
	m := newMongoService(p, spec)
	p.mongos["mongo"] = m
	return p, m
}

func member(name, state string, lag time.Duration) mongo.MemberStatus {
	return mongo.MemberStatus{Name: memberHost(name), State: state, Healthy: state != "(not reachable/healthy)", Lag: lag}
}

func statusOf(primary string, members ...mongo.MemberStatus) mongo.ReplicaSetStatus {
	st := mongo.ReplicaSetStatus{Set: "psa-rs", Members: members}
	if primary != "" {
		st.Primary = memberHost(primary)
	}
	return st
}

var _ = Describe("arbiters on the live platform", func() {
	It("initiates the set on a member that can be elected, never on the arbiter listed first", func() {
		Expect(initiator(psaTopology().Services[0].Members)).To(Equal("mongo-a"))
		hiddenFirst := []platform.MongoMember{{Name: "standby", Priority: 0, Hidden: true}, {Name: "main", Priority: 1}}
		Expect(initiator(hiddenFirst)).To(Equal("main"))
	})

	It("counts full redundancy in data-bearing members: the arbiter is no copy of the data", func() {
		_, m := psaPlatform(&recorder{})
		Expect(m.dataBearing()).To(Equal(2))
		both := statusOf("mongo-a", member("mongo-a", "PRIMARY", 0), member("mongo-b", "SECONDARY", 0), member("mongo-arbiter", "ARBITER", 0))
		Expect(redundant(both, m.dataBearing())).To(BeTrue())
		secondaryDown := statusOf("mongo-a", member("mongo-a", "PRIMARY", 0), member("mongo-b", "(not reachable/healthy)", 0), member("mongo-arbiter", "ARBITER", 0))
		Expect(redundant(secondaryDown, m.dataBearing())).To(BeFalse(), "a primary and an arbiter are one copy")
	})

	It("refuses to promote the arbiter in a forced reconfiguration", func() {
		p, _ := psaPlatform(&recorder{})
		_, err := p.action(platform.Action{Name: "promote", Action: platform.ActionMongoForceReconfigure, Params: map[string]string{"promote": "mongo-arbiter"}})
		Expect(err).To(MatchError(ContainSubstring(`promote "mongo-arbiter" is an arbiter`)))
	})
})

var _ = Describe("the Mongo runbook actions the live platform refuses up front", func() {
	var p *Platform
	BeforeEach(func() { p, _ = psaPlatform(&recorder{}) })

	act := func(action string, params map[string]string) error {
		_, err := p.action(platform.Action{Name: "the-step", Action: action, Params: params})
		return err
	}

	It("refuses source: backup, naming the step and the action, instead of syncing another way", func() {
		for _, action := range []string{platform.ActionMongoAddMember, platform.ActionMongoResyncMember} {
			err := act(action, map[string]string{"name": "mongo-c", "zone": "us-east-1c", "member": "mongo-b", "source": "backup"})
			Expect(err).To(MatchError(And(
				ContainSubstring("runbook step the-step"), ContainSubstring(action), ContainSubstring("source: backup"),
				ContainSubstring("containers platform"), ContainSubstring("initial-sync"))), action)
		}
		Expect(act(platform.ActionMongoResyncMember, map[string]string{"member": "mongo-b", "source": "snapshot"})).To(MatchError(ContainSubstring(`source "snapshot"`)))
	})

	It("refuses source: backup before anything starts: New names the step", func() {
		_, err := New(platform.Config{RunID: "psa", Topology: psaTopology(), Workloads: []platform.WorkloadConfig{{Service: "mongo"}},
			Runbook: []platform.Action{
				{Name: "drop-vote", Action: platform.ActionMongoReconfigMember, Params: map[string]string{"member": "mongo-b", "votes": "0", "priority": "0"}},
				{Name: "from-backup", Action: platform.ActionMongoAddMember, Params: map[string]string{"name": "mongo-c", "zone": "us-east-1c", "source": "backup"}},
			},
			Completions: noEvents{}, Events: noEvents{}})
		Expect(err).To(MatchError(And(ContainSubstring("runbook step from-backup"), ContainSubstring(platform.ActionMongoAddMember), ContainSubstring("source: backup"))))
		_, err = New(platform.Config{RunID: "psa", Topology: psaTopology(), Workloads: []platform.WorkloadConfig{{Service: "mongo"}},
			Runbook:     []platform.Action{{Name: "resync", Action: platform.ActionMongoResyncMember, Params: map[string]string{"member": "mongo-b"}}},
			Completions: noEvents{}, Events: noEvents{}})
		Expect(err).NotTo(HaveOccurred())
	})

	It("accepts a resync from an initial sync, the default", func() {
		Expect(act(platform.ActionMongoResyncMember, map[string]string{"member": "mongo-b"})).To(Succeed())
		Expect(act(platform.ActionMongoResyncMember, map[string]string{"member": "mongo-b", "source": "initial-sync"})).To(Succeed())
	})

	It("refuses to resync the arbiter or a node that is not a member", func() {
		Expect(act(platform.ActionMongoResyncMember, map[string]string{"member": "mongo-arbiter"})).To(MatchError(ContainSubstring("is an arbiter")))
		Expect(act(platform.ActionMongoResyncMember, map[string]string{"member": "mongo-z"})).To(MatchError(platform.ErrUnknownNode))
	})

	DescribeTable("checks a reconfigure-member's parameters as MongoDB's rules do",
		func(params map[string]string, want string) {
			err := act(platform.ActionMongoReconfigMember, params)
			if want == "" {
				Expect(err).NotTo(HaveOccurred())
				return
			}
			Expect(err).To(MatchError(ContainSubstring(want)))
		},
		Entry("the PSA workaround", map[string]string{"member": "mongo-b", "votes": "0", "priority": "0"}, ""),
		Entry("its undoing", map[string]string{"member": "mongo-b", "votes": "1", "priority": "1"}, ""),
		Entry("a priority alone", map[string]string{"member": "mongo-a", "priority": "5"}, ""),
		Entry("the arbiter", map[string]string{"member": "mongo-arbiter", "votes": "0"}, "is an arbiter"),
		Entry("votes 2", map[string]string{"member": "mongo-b", "votes": "2"}, "want 0 or 1"),
		Entry("a priority above 1000", map[string]string{"member": "mongo-b", "priority": "1001"}, "0..1000"),
		Entry("nothing to change", map[string]string{"member": "mongo-b"}, "new votes, a new priority, or both"),
		Entry("no vote with a priority", map[string]string{"member": "mongo-b", "votes": "0", "priority": "1"}, "non-voting member must have priority 0"),
		Entry("not a member", map[string]string{"member": "mongo-z", "votes": "0"}, "not a member"),
	)
})

var _ = Describe("a member too stale to catch up (RS102)", func() {
	It("is found in its own answer: tooStale, while its own entry is RECOVERING", func() {
		own := statusOf("mongo-a", member("mongo-a", "PRIMARY", 0), mongo.MemberStatus{Name: memberHost("mongo-b"), State: "RECOVERING", Healthy: true, Info: "could not find member to sync from"})
		own.TooStale, own.Self = true, memberHost("mongo-b")
		primaryView := statusOf("mongo-a", member("mongo-a", "PRIMARY", 0), member("mongo-b", "RECOVERING", 0))
		stale := tooStale(primaryView, map[string]*mongo.ReplicaSetStatus{memberHost("mongo-a"): &primaryView, memberHost("mongo-b"): &own})
		Expect(stale).To(HaveKeyWithValue(memberHost("mongo-b"), And(ContainSubstring("too stale"), ContainSubstring("RS102"), ContainSubstring("could not find member to sync from"))))
		Expect(stale).To(HaveLen(1))
	})

	It("is found through the message older servers give, in another member's view", func() {
		view := statusOf("mongo-a", member("mongo-a", "PRIMARY", 0),
			mongo.MemberStatus{Name: memberHost("mongo-b"), State: "RECOVERING", Healthy: true, Info: "error RS102 too stale to catch up"})
		Expect(tooStale(view, map[string]*mongo.ReplicaSetStatus{memberHost("mongo-b"): nil})).To(HaveKey(memberHost("mongo-b")))
	})

	It("is not any RECOVERING member: maintenance mode or a rollback recovers by itself", func() {
		view := statusOf("mongo-a", member("mongo-a", "PRIMARY", 0), member("mongo-b", "RECOVERING", 0))
		own := view
		own.Self = memberHost("mongo-b")
		Expect(tooStale(view, map[string]*mongo.ReplicaSetStatus{memberHost("mongo-b"): &own})).To(BeEmpty())
		caughtUp := statusOf("mongo-a", member("mongo-a", "PRIMARY", 0), member("mongo-b", "SECONDARY", 0))
		caughtUp.TooStale = true
		Expect(tooStale(view, map[string]*mongo.ReplicaSetStatus{memberHost("mongo-b"): &caughtUp})).To(BeEmpty(), "tooStale with its own entry not RECOVERING")
	})
})

var _ = Describe("the lag at a fault", func() {
	It("reports the primary at 0 s and each secondary, and nothing for members holding no data now", func() {
		st := statusOf("mongo-a", member("mongo-a", "PRIMARY", 0), member("mongo-b", "SECONDARY", 30*time.Millisecond),
			member("mongo-arbiter", "ARBITER", 0), member("mongo-c", "STARTUP2", 0), member("mongo-d", "(not reachable/healthy)", 0))
		Expect(lagSamples(st)).To(Equal([]lagSample{{memberHost("mongo-a"), 0}, {memberHost("mongo-b"), 30 * time.Millisecond}}))
		Expect(lagSamples(statusOf("", member("mongo-b", "SECONDARY", time.Second)))).To(BeEmpty(), "no primary, nothing to be behind")
	})
})

// events of one kind the recorder saw, as (node, detail, at).
func seen(r *recorder, what string) []platform.Event {
	var out []platform.Event
	for _, e := range r.events {
		if e.What == what {
			out = append(out, e)
		}
	}
	return out
}

func TestAStaleMemberIsReportedOnceAndAgainOnlyAfterItLeftRecovering(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := NewWithT(t)
		sink := &recorder{}
		p, m := psaPlatform(sink)
		p.loop.begin()
		stale := map[string]string{memberHost("mongo-b"): "RECOVERING: too stale to catch up (RS102)"}
		recovering := statusOf("mongo-a", member("mongo-a", "PRIMARY", 0), member("mongo-b", "RECOVERING", 0))
		unknown := statusOf("mongo-a", member("mongo-a", "PRIMARY", 0)) // mongo-b did not answer this poll

		m.reportStale(recovering, stale)
		m.reportStale(recovering, stale)
		m.reportStale(unknown, map[string]string{})
		m.reportStale(recovering, stale)
		g.Expect(p.loop.Run(t.Context(), time.Second)).To(Succeed())
		g.Expect(seen(sink, platform.EventMemberStale)).To(HaveLen(1))
		g.Expect(seen(sink, platform.EventMemberStale)[0]).To(And(HaveField("Node", "mongo-b"), HaveField("Service", "mongo"), HaveField("Detail", ContainSubstring("RS102"))))

		// Resynced: STARTUP2, then SECONDARY; stale again later.
		m.reportStale(statusOf("mongo-a", member("mongo-a", "PRIMARY", 0), member("mongo-b", "STARTUP2", 0)), map[string]string{})
		m.reportStale(recovering, stale)
		g.Expect(p.loop.Run(t.Context(), 2*time.Second)).To(Succeed())
		g.Expect(seen(sink, platform.EventMemberStale)).To(HaveLen(2))
	})
}

func TestAMemberTheRunbookAddedReportsItsLagEveryHeartbeatUntilCaughtUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := NewWithT(t)
		sink := &recorder{}
		p, m := psaPlatform(sink)
		p.loop.begin()
		lagOf := func(lag time.Duration) mongo.ReplicaSetStatus {
			return statusOf("mongo-a", member("mongo-a", "PRIMARY", 0), member("mongo-b", "SECONDARY", lag))
		}
		m.follow("mongo-b")
		// Polled every 500 ms while the lag falls from 4 min to 1 s.
		lags := []time.Duration{4 * time.Minute, 3 * time.Minute, 2 * time.Minute, time.Minute, 30 * time.Second, 20 * time.Second, 10 * time.Second, 5 * time.Second, time.Second, 500 * time.Millisecond}
		for _, lag := range lags {
			m.followCatchUp(lagOf(lag))
			time.Sleep(500 * time.Millisecond)
		}
		g.Expect(p.loop.Run(t.Context(), p.loop.Now()+time.Millisecond)).To(Succeed())

		caught := seen(sink, platform.EventMemberCaughtUp)
		g.Expect(caught).To(HaveLen(1), "reported once, and no more once caught up")
		g.Expect(caught[0]).To(And(HaveField("Node", "mongo-b"), HaveField("Detail", "1s")))
		g.Expect(caught[0].At).To(Equal(8 * 500 * time.Millisecond))
		var samples []string
		for _, e := range seen(sink, platform.EventReplicationLag) {
			samples = append(samples, e.Detail)
		}
		g.Expect(samples).To(Equal([]string{"4m0s", "30s", "1s"}), "one every heartbeat interval (2 s: at 0, 2 and 4 s), the last the one it caught up at")
	})
}

func TestAFollowedMemberStillSyncingOrWithoutAPrimaryReportsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := NewWithT(t)
		sink := &recorder{}
		p, m := psaPlatform(sink)
		p.loop.begin()
		m.follow("mongo-b")
		m.followCatchUp(statusOf("mongo-a", member("mongo-a", "PRIMARY", 0), member("mongo-b", "STARTUP2", 0)))
		m.followCatchUp(statusOf("", member("mongo-b", "SECONDARY", 0)))
		g.Expect(p.loop.Run(t.Context(), time.Second)).To(Succeed())
		g.Expect(sink.events).To(BeEmpty())
	})
}
