package mongo

import (
	"context"
	"errors"
	"net"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/gstruct"

	"github.com/chaosdrill/chaosdrill/platform"
)

var _ = Describe("classify", func() {
	network := mongo.CommandError{Labels: []string{"NetworkError"}, Wrapped: errors.New("connection reset")}
	notPrimary := mongo.CommandError{Code: 10107, Name: "NotWritablePrimary"}
	steppedDown := mongo.CommandError{Code: 11602, Name: "InterruptedDueToReplStateChange"}
	duplicate := mongo.WriteException{WriteErrors: mongo.WriteErrors{{Code: 11000, Message: "E11000 duplicate key"}}}
	validation := mongo.WriteException{WriteErrors: mongo.WriteErrors{{Code: 121, Message: "Document failed validation"}}}
	wcTimeout := mongo.WriteException{WriteConcernError: &mongo.WriteConcernError{Code: 64, Name: "WriteConcernFailed"}}
	dupWithWC := mongo.WriteException{
		WriteConcernError: &mongo.WriteConcernError{Code: 64},
		WriteErrors:       mongo.WriteErrors{{Code: 11000}},
	}
	dialTimeout := &net.OpError{Op: "dial", Err: context.DeadlineExceeded}

	DescribeTable("outcome of one insert",
		func(err error, sent int, want platform.Outcome) {
			Expect(classify(err, sent)).To(Equal(want))
		},
		Entry("no error", nil, 1, platform.Acked),
		Entry("never sent: server selection timed out", errors.New("server selection error: context deadline exceeded"), 0, platform.Failed),
		Entry("never sent: even a timeout", dialTimeout, 0, platform.Failed),
		Entry("network error after sending", network, 1, platform.Unknown),
		Entry("timeout after sending", context.DeadlineExceeded, 1, platform.Unknown),
		Entry("not primary, one attempt", notPrimary, 1, platform.Failed),
		Entry("not primary on the retry after an indefinite first attempt", notPrimary, 2, platform.Unknown),
		Entry("interrupted by a step-down", steppedDown, 1, platform.Unknown),
		Entry("duplicate of our own _id", duplicate, 1, platform.Acked),
		Entry("duplicate on the retry", duplicate, 2, platform.Acked),
		Entry("validation error", validation, 1, platform.Failed),
		Entry("write concern error: applied on the primary, not confirmed", wcTimeout, 1, platform.Unknown),
		Entry("duplicate key with a write concern error", dupWithWC, 1, platform.Unknown),
		Entry("an unexplained driver error after sending", errors.New("malformed reply"), 1, platform.Unknown),
	)
})

var _ = Describe("parseWriteConcern", func() {
	It("maps the scenario's spellings onto the driver's", func() {
		for in, want := range map[string]any{"": "majority", "majority": "majority", "1": 1, "2": 2, "multiRegion": "multiRegion"} {
			wc, err := parseWriteConcern(in)
			Expect(err).NotTo(HaveOccurred())
			Expect(wc.W).To(Equal(want), "%q", in)
		}
	})
	It("refuses unacknowledged and negative write concerns", func() {
		_, err := parseWriteConcern("0")
		Expect(err).To(HaveOccurred())
		_, err = parseWriteConcern("-1")
		Expect(err).To(HaveOccurred())
	})
	It("builds a valid write concern for a tag mode", func() {
		wc, _ := parseWriteConcern("multiRegion")
		Expect(wc).To(Equal(writeconcern.Custom("multiRegion")))
	})
})

func ionConfig() rsConfig {
	one := 1
	return ReplicaSetConfig{
		Name: "ion-rs",
		Members: []MemberConfig{
			{ID: 0, Host: "mongo-east-1a:27017", Priority: 2, Tags: map[string]string{"region": "us-east-1"}},
			{ID: 1, Host: "mongo-east-1b:27017", Priority: 1, Tags: map[string]string{"region": "us-east-1"}},
			{ID: 2, Host: "mongo-west-1a:27017", Priority: 0, Hidden: true, Votes: &one, Tags: map[string]string{"region": "us-west-1"}},
		},
		ElectionTimeout: 5 * time.Second,
		WriteModes:      map[string]map[string]int{"multiRegion": {"region": 2}},
	}.raw()
}

// encoded is a config as it travels to replSetInitiate / replSetReconfig.
func encoded(cfg rsConfig) bson.Raw {
	b, err := bson.Marshal(cfg)
	Expect(err).NotTo(HaveOccurred())
	return bson.Raw(b)
}

var _ = Describe("replica-set configuration documents", func() {
	It("carries priorities, votes, hidden, tags and settings into replSetInitiate", func() {
		doc := encoded(ionConfig())
		Expect(doc.Lookup("_id").StringValue()).To(Equal("ion-rs"))
		members, _ := doc.Lookup("members").Array().Values()
		Expect(members).To(HaveLen(3))
		Expect(doc.Lookup("members", "2", "host").StringValue()).To(Equal("mongo-west-1a:27017"))
		Expect(doc.Lookup("members", "2", "priority").Double()).To(Equal(0.0))
		Expect(doc.Lookup("members", "2", "hidden").Boolean()).To(BeTrue())
		Expect(doc.Lookup("members", "2", "votes").AsInt64()).To(BeEquivalentTo(1))
		Expect(doc.Lookup("members", "2", "tags", "region").StringValue()).To(Equal("us-west-1"))
		Expect(doc.Lookup("members", "0", "priority").Double()).To(Equal(2.0))
		Expect(doc.Lookup("settings", "electionTimeoutMillis").AsInt64()).To(BeEquivalentTo(5000))
		Expect(doc.Lookup("settings", "getLastErrorModes", "multiRegion", "region").AsInt64()).To(BeEquivalentTo(2))
	})

	It("builds the topology's configuration with the members' addresses", func() {
		spec, ok := platform.Ion().ServiceOfKind(platform.KindMongo)
		Expect(ok).To(BeTrue())
		cfg := ConfigFor(*spec, func(name string) string { return name + ":27017" })
		Expect(cfg.Name).To(Equal("ion-rs"))
		Expect(cfg.Members).To(HaveLen(3))
		Expect(cfg.Members[2]).To(gstruct.MatchFields(gstruct.IgnoreExtras, gstruct.Fields{"ID": Equal(2), "Host": Equal("mongo-west-1a:27017"), "Hidden": BeTrue()}))
		Expect(cfg.WriteModes).To(HaveKey("multiRegion"))
	})

	Describe("forced reconfiguration after losing us-east", func() {
		var current rsConfig
		BeforeEach(func() {
			current = roundTripConfig(ionConfig())
			current.Version = 7
			current.Extra["term"] = int64(3)
			current.Extra["protocolVersion"] = int64(1)
		})

		It("keeps only the survivors and makes the promoted one electable", func() {
			next, err := current.forced([]string{"mongo-west-1a:27017"}, "mongo-west-1a:27017")
			Expect(err).NotTo(HaveOccurred())
			Expect(next.Members).To(HaveLen(1))
			Expect(next.Members[0]).To(gstruct.MatchFields(gstruct.IgnoreExtras, gstruct.Fields{
				"ID": Equal(2), "Priority": Equal(1.0), "Hidden": BeFalse(), "Votes": Equal(1),
				"Tags": Equal(map[string]string{"region": "us-west-1"}),
			}))
			Expect(next.Extra).NotTo(HaveKey("term"))
			Expect(next.Extra).To(HaveKey("settings"))
			Expect(next.Extra).To(HaveKey("protocolVersion"))
			Expect(next.Version).To(BeNumerically(">", current.Version))
			Expect(current.Members).To(HaveLen(3), "the current config is left as it was")
		})

		It("refuses to promote a member it does not keep, or keep one that is not configured", func() {
			_, err := current.forced([]string{"mongo-east-1b:27017"}, "mongo-west-1a:27017")
			Expect(err).To(MatchError(ContainSubstring("not among the members to keep")))
			_, err = current.forced([]string{"mongo-west-1b:27017"}, "mongo-west-1b:27017")
			Expect(err).To(MatchError(ContainSubstring("not in the configuration")))
		})
	})

	It("adds one member with the next free _id and a higher version", func() {
		current := roundTripConfig(ionConfig())
		current.Members = current.Members[2:] // after the forced reconfig: west only, _id 2
		next, err := current.adding(MemberConfig{ID: 0, Host: "mongo-west-1b:27017", Priority: 1})
		Expect(err).NotTo(HaveOccurred())
		Expect(next.Members).To(HaveLen(2))
		Expect(next.Members[1]).To(gstruct.MatchFields(gstruct.IgnoreExtras, gstruct.Fields{"ID": Equal(3), "Host": Equal("mongo-west-1b:27017"), "Votes": Equal(1)}))
		Expect(next.Version).To(Equal(current.Version + 1))
		_, err = next.adding(MemberConfig{Host: "mongo-west-1b:27017"})
		Expect(err).To(MatchError(ContainSubstring("already a member")))
	})
})

func roundTripConfig(cfg rsConfig) rsConfig {
	b, err := bson.Marshal(cfg)
	Expect(err).NotTo(HaveOccurred())
	var out rsConfig
	Expect(bson.Unmarshal(b, &out)).To(Succeed())
	return out
}

var _ = Describe("replica-set status", func() {
	It("reads members from a replSetGetStatus reply and measures each secondary's lag behind the primary", func() {
		t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		reply := bson.D{
			{Key: "set", Value: "ion-rs"},
			{Key: "myState", Value: 1},
			{Key: "members", Value: bson.A{
				bson.D{{Key: "_id", Value: 0}, {Key: "name", Value: "mongo-east-1a:27017"}, {Key: "health", Value: 1.0}, {Key: "state", Value: 1}, {Key: "stateStr", Value: "PRIMARY"}, {Key: "optimeDate", Value: t0}},
				bson.D{{Key: "_id", Value: 1}, {Key: "name", Value: "mongo-east-1b:27017"}, {Key: "health", Value: 1.0}, {Key: "state", Value: 2}, {Key: "stateStr", Value: "SECONDARY"}, {Key: "optimeDate", Value: t0.Add(-200 * time.Millisecond)}},
				bson.D{{Key: "_id", Value: 2}, {Key: "name", Value: "mongo-west-1a:27017"}, {Key: "health", Value: 1}, {Key: "state", Value: 2}, {Key: "stateStr", Value: "SECONDARY"}, {Key: "optimeDate", Value: t0.Add(-3 * time.Second)}},
				bson.D{{Key: "_id", Value: 3}, {Key: "name", Value: "mongo-west-1b:27017"}, {Key: "health", Value: 0.0}, {Key: "state", Value: 8}, {Key: "stateStr", Value: "(not reachable/healthy)"}, {Key: "optimeDate", Value: time.Unix(0, 0)}},
			}},
			{Key: "ok", Value: 1.0},
		}
		b, err := bson.Marshal(reply)
		Expect(err).NotTo(HaveOccurred())
		var raw rawStatus
		Expect(bson.Unmarshal(b, &raw)).To(Succeed())
		s := raw.status()
		Expect(s.Set).To(Equal("ion-rs"))
		Expect(s.Primary).To(Equal("mongo-east-1a:27017"))
		Expect(s.Members).To(HaveLen(4))
		Expect(s.Members[0].Lag).To(BeZero())
		Expect(s.Members[1].Lag).To(Equal(200 * time.Millisecond))
		Expect(s.Members[2]).To(gstruct.MatchFields(gstruct.IgnoreExtras, gstruct.Fields{"Healthy": BeTrue(), "Lag": Equal(3 * time.Second)}))
		Expect(s.Members[3]).To(gstruct.MatchFields(gstruct.IgnoreExtras, gstruct.Fields{"Healthy": BeFalse(), "State": Equal("(not reachable/healthy)"), "Lag": BeZero()}))
	})

	It("has no primary and no lag when no member is primary", func() {
		raw := rawStatus{Set: "ion-rs"}
		raw.Members = append(raw.Members, rawMemberStatus{Name: "mongo-west-1a:27017", Health: 1, StateStr: "SECONDARY", OptimeDate: time.Now()})
		s := raw.status()
		Expect(s.Primary).To(BeEmpty())
		Expect(s.Members[0].Lag).To(BeZero())
	})
})
