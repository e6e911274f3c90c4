package mongo

import (
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gstruct"
)

// psaConfig is the primary-secondary-arbiter set as replSetGetConfig
// returns it, after replSetInitiate with ConfigFor(psaTopology()).
func psaConfig() rsConfig {
	cfg := roundTripConfig(ConfigFor(psaTopology(), hostOf).raw())
	cfg.Version = 4
	if cfg.Extra == nil {
		cfg.Extra = map[string]any{}
	}
	cfg.Extra["term"] = int64(2)
	cfg.Extra["protocolVersion"] = int64(1)
	return cfg
}

func intPtr(n int) *int           { return &n }
func floatPtr(f float64) *float64 { return &f }

var _ = Describe("an arbiter in replSetInitiate's configuration", func() {
	It("is sent as arbiterOnly with priority 0 and one vote, and without the hidden flag or tags its topology gave it", func() {
		doc := encoded(ConfigFor(psaTopology(), hostOf).raw())
		arbiter := doc.Lookup("members", "2").Document()
		Expect(arbiter.Lookup("host").StringValue()).To(Equal("mongo-arbiter:27017"))
		Expect(arbiter.Lookup("arbiterOnly").Boolean()).To(BeTrue())
		Expect(arbiter.Lookup("priority").Double()).To(BeZero())
		Expect(arbiter.Lookup("votes").AsInt64()).To(BeEquivalentTo(1))
		Expect(arbiter.Lookup("hidden").Boolean()).To(BeFalse())
		_, err := arbiter.LookupErr("tags")
		Expect(err).To(HaveOccurred(), "no tags on an arbiter")
		for _, i := range []string{"0", "1"} {
			_, err := doc.Lookup("members", i).Document().LookupErr("arbiterOnly")
			Expect(err).To(HaveOccurred(), "data-bearing members carry no arbiterOnly field (the default is false)")
		}
	})

	It("is part of what a lost replSetInitiate reply is compared on", func() {
		want := ConfigFor(psaTopology(), hostOf)
		have := roundTripConfig(want.raw())
		have.Members[2].ArbiterOnly = false
		Expect(want.raw().differsFrom(have)).To(ContainSubstring("arbiterOnly false, want true"))
		Expect(want.raw().differsFrom(roundTripConfig(want.raw()))).To(BeEmpty())
	})

	It("can never be promoted by a forced reconfiguration, and is kept as it is when it answers", func() {
		cfg := psaConfig()
		_, err := cfg.forced([]string{"mongo-arbiter:27017", "mongo-b:27017"}, "mongo-arbiter:27017")
		Expect(err).To(MatchError(ContainSubstring("is an arbiter")))
		next, err := cfg.forced([]string{"mongo-arbiter:27017", "mongo-b:27017"}, "mongo-b:27017")
		Expect(err).NotTo(HaveOccurred())
		Expect(next.Members).To(ContainElement(gstruct.MatchFields(gstruct.IgnoreExtras, gstruct.Fields{
			"Host": Equal("mongo-arbiter:27017"), "ArbiterOnly": BeTrue(), "Priority": BeZero(), "Votes": Equal(1),
		})))
		Expect(documentedConfigProblems(encoded(next))).To(BeEmpty())
	})
})

var _ = Describe("mongo.reconfigure-member's replSetReconfig", func() {
	It("takes the unavailable secondary of a PSA set out of the vote and back, as MongoDB's workaround does, within the documented rules", func() {
		cfg := psaConfig()
		out, err := cfg.reconfiguring("mongo-b:27017", intPtr(0), floatPtr(0))
		Expect(err).NotTo(HaveOccurred())
		Expect(out.Members[1]).To(gstruct.MatchFields(gstruct.IgnoreExtras, gstruct.Fields{"Host": Equal("mongo-b:27017"), "Votes": Equal(0), "Priority": BeZero()}))
		Expect(out.Members[0]).To(Equal(cfg.Members[0]), "the other members are left as they are")
		Expect(out.Members[2]).To(Equal(cfg.Members[2]))
		Expect(out.Version).To(Equal(cfg.Version + 1))
		Expect(out.Extra).NotTo(HaveKey("term"), "a reconfig document carries no term")
		Expect(out.Extra).To(HaveKey("protocolVersion"))
		Expect(cfg.Members[1].Votes).To(Equal(1), "the current configuration is left as it was")
		Expect(documentedConfigProblems(encoded(out))).To(BeEmpty())

		back, err := roundTripConfig(out).reconfiguring("mongo-b:27017", intPtr(1), floatPtr(1))
		Expect(err).NotTo(HaveOccurred())
		Expect(back.Members[1]).To(gstruct.MatchFields(gstruct.IgnoreExtras, gstruct.Fields{"Votes": Equal(1), "Priority": Equal(1.0)}))
		Expect(documentedConfigProblems(encoded(back))).To(BeEmpty())
	})

	It("changes only what it is given", func() {
		out, err := psaConfig().reconfiguring("mongo-a:27017", nil, floatPtr(5))
		Expect(err).NotTo(HaveOccurred())
		Expect(out.Members[0]).To(gstruct.MatchFields(gstruct.IgnoreExtras, gstruct.Fields{"Votes": Equal(1), "Priority": Equal(5.0)}))
	})

	DescribeTable("refuses what the server would refuse, saying why",
		func(host string, votes *int, priority *float64, want string) {
			_, err := psaConfig().reconfiguring(host, votes, priority)
			Expect(err).To(MatchError(ContainSubstring(want)))
		},
		Entry("an arbiter's vote", "mongo-arbiter:27017", intPtr(0), nil, "is an arbiter"),
		Entry("an arbiter's priority", "mongo-arbiter:27017", nil, floatPtr(1), "is an arbiter"),
		Entry("no vote for an electable member", "mongo-b:27017", intPtr(0), nil, "a non-voting member must have priority 0"),
		Entry("votes 2", "mongo-b:27017", intPtr(2), nil, "want 0 or 1"),
		Entry("priority 1001", "mongo-b:27017", nil, floatPtr(1001), "want 0..1000"),
		Entry("a member not configured", "mongo-c:27017", intPtr(0), floatPtr(0), "not in the configuration"),
		Entry("nothing to change", "mongo-b:27017", nil, nil, "new votes, a new priority, or both"),
	)

	It("refuses a priority for a hidden member", func() {
		_, err := roundTripConfig(ionConfig()).reconfiguring("mongo-west-1a:27017", nil, floatPtr(1))
		Expect(err).To(MatchError(ContainSubstring("a hidden member must have priority 0")))
	})
})

var _ = Describe("a member too stale to catch up (RS102), in replSetGetStatus", func() {
	It("is read from the stale member's own answer: tooStale, its own entry RECOVERING, and the message it gives", func() {
		t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		// As the stale member itself answers (4.4+: tooStale).
		reply := bson.D{
			{Key: "set", Value: "ion-rs"},
			{Key: "myState", Value: 3},
			{Key: "tooStale", Value: true},
			{Key: "members", Value: bson.A{
				bson.D{{Key: "_id", Value: 0}, {Key: "name", Value: "mongo-east-1a:27017"}, {Key: "health", Value: 1.0}, {Key: "stateStr", Value: "PRIMARY"}, {Key: "optimeDate", Value: t0}},
				bson.D{{Key: "_id", Value: 2}, {Key: "name", Value: "mongo-west-1a:27017"}, {Key: "health", Value: 1.0}, {Key: "stateStr", Value: "RECOVERING"}, {Key: "optimeDate", Value: t0.Add(-8 * time.Minute)},
					{Key: "infoMessage", Value: "could not find member to sync from"}, {Key: "self", Value: true}},
				bson.D{{Key: "_id", Value: 3}, {Key: "name", Value: "mongo-arbiter:27017"}, {Key: "health", Value: 1.0}, {Key: "stateStr", Value: "ARBITER"},
					{Key: "lastHeartbeatMessage", Value: ""}},
			}},
		}
		b, err := bson.Marshal(reply)
		Expect(err).NotTo(HaveOccurred())
		var raw rawStatus
		Expect(bson.Unmarshal(b, &raw)).To(Succeed())
		st := raw.status()
		Expect(st.TooStale).To(BeTrue())
		Expect(st.Self).To(Equal("mongo-west-1a:27017"))
		Expect(st.Members[1]).To(gstruct.MatchFields(gstruct.IgnoreExtras, gstruct.Fields{"State": Equal("RECOVERING"), "Info": Equal("could not find member to sync from")}))
		Expect(st.Members[2].Lag).To(BeZero(), "an arbiter holds no data: no lag")
	})

	It("is read from another member's view through the heartbeat message older servers give", func() {
		raw := rawStatus{Set: "ion-rs", Members: []rawMemberStatus{
			{Name: "p:27017", Health: 1, StateStr: "PRIMARY", Self: true},
			{Name: "s:27017", Health: 1, StateStr: "RECOVERING", LastHeartbeatMsg: "error RS102 too stale to catch up"},
		}}
		st := raw.status()
		Expect(st.TooStale).To(BeFalse(), "the primary is not stale")
		Expect(st.Members[1].Info).To(ContainSubstring("too stale"))
	})
})
