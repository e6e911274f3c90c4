package mongo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
)

// The live platform sends these documents to real mongod servers, which
// cannot run here; so each one is checked against the rules the server
// documents, field by field, as the server would receive it (BSON-encoded).

// Replica-set configuration rules, from
// https://www.mongodb.com/docs/manual/reference/replica-configuration/ :
// members[n]._id a unique non-negative integer; members[n].host a unique
// "host:port"; priority a number 0..1000; votes 0 or 1; "a hidden member
// must have priority 0"; "non-voting members must have priority 0"; "a
// replica set can have up to 50 members but only 7 voting members";
// settings.electionTimeoutMillis a positive integer; and each
// settings.getLastErrorModes mode a document of {tag: n}, n a positive
// integer, naming a tag some member carries
// (https://www.mongodb.com/docs/manual/tutorial/configure-replica-set-tag-sets/).
// A mode needing more distinct values than the members have is accepted
// but can never be met (writes with it wait); satisfiableModes checks that
// apart, for the configurations the harness initiates.
const (
	maxMembers       = 50
	maxVotingMembers = 7
	maxPriority      = 1000
)

// documentedConfigProblems lists every rule the encoded configuration doc
// breaks; none means the server's documented grammar accepts it.
func documentedConfigProblems(doc bson.Raw) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	if name, ok := doc.Lookup("_id").StringValueOK(); !ok || name == "" {
		add("_id: want the replica set name, a non-empty string")
	}
	if version, ok := doc.Lookup("version").AsInt64OK(); !ok || version < 1 {
		add("version: want a positive integer")
	}
	members, err := doc.Lookup("members").Array().Values()
	if err != nil || len(members) == 0 {
		return append(problems, "members: want a non-empty array")
	}
	if len(members) > maxMembers {
		add("members: %d members, at most %d", len(members), maxMembers)
	}
	ids, hosts := map[int64]bool{}, map[string]bool{}
	voters := 0
	tagValues := map[string]map[string]bool{}
	for i, value := range members {
		m, ok := value.DocumentOK()
		if !ok {
			add("members[%d]: want a document", i)
			continue
		}
		id, ok := intValue(m.Lookup("_id"))
		switch {
		case !ok || id < 0:
			add("members[%d]._id: want a non-negative integer", i)
		case ids[id]:
			add("members[%d]._id: %d is used twice", i, id)
		}
		ids[id] = true
		host, ok := m.Lookup("host").StringValueOK()
		if !ok || !validHostPort(host) {
			add("members[%d].host: %q is not host:port", i, host)
		}
		if hosts[host] {
			add("members[%d].host: %s is listed twice", i, host)
		}
		hosts[host] = true
		priority := 1.0 // the documented default
		if v, err := m.LookupErr("priority"); err == nil {
			var ok bool
			if priority, ok = v.AsFloat64OK(); !ok || priority < 0 || priority > maxPriority {
				add("members[%d].priority: want a number 0..%d", i, maxPriority)
			}
		}
		votes := int64(1)
		if v, err := m.LookupErr("votes"); err == nil {
			var ok bool
			if votes, ok = intValue(v); !ok || (votes != 0 && votes != 1) {
				add("members[%d].votes: want 0 or 1", i)
			}
		}
		voters += int(votes)
		if votes == 0 && priority != 0 {
			add("members[%d]: a non-voting member must have priority 0", i)
		}
		if v, err := m.LookupErr("hidden"); err == nil {
			hidden, ok := v.BooleanOK()
			if !ok {
				add("members[%d].hidden: want a boolean", i)
			}
			if hidden && priority != 0 {
				add("members[%d]: a hidden member must have priority 0", i)
			}
		}
		if v, err := m.LookupErr("tags"); err == nil {
			tags, ok := v.DocumentOK()
			if !ok {
				add("members[%d].tags: want a document", i)
				continue
			}
			elements, _ := tags.Elements()
			for _, e := range elements {
				text, ok := e.Value().StringValueOK()
				if !ok {
					add("members[%d].tags.%s: tag values are strings", i, e.Key())
					continue
				}
				if tagValues[e.Key()] == nil {
					tagValues[e.Key()] = map[string]bool{}
				}
				tagValues[e.Key()][text] = true
			}
		}
	}
	if voters > maxVotingMembers {
		add("members: %d voting members, at most %d", voters, maxVotingMembers)
	}
	if voters == 0 {
		add("members: no voting member")
	}
	settings, err := doc.LookupErr("settings")
	if err != nil {
		return problems
	}
	if v, err := settings.Document().LookupErr("electionTimeoutMillis"); err == nil {
		if ms, ok := intValue(v); !ok || ms <= 0 {
			add("settings.electionTimeoutMillis: want a positive integer of milliseconds")
		}
	}
	if v, err := settings.Document().LookupErr("getLastErrorModes"); err == nil {
		modes, _ := v.Document().Elements()
		for _, mode := range modes {
			if mode.Key() == "majority" {
				add("settings.getLastErrorModes.majority: the name is reserved")
			}
			rules, _ := mode.Value().Document().Elements()
			if len(rules) == 0 {
				add("settings.getLastErrorModes.%s: want at least one {tag: count}", mode.Key())
			}
			for _, rule := range rules {
				n, ok := intValue(rule.Value())
				switch {
				case !ok || n < 1:
					add("settings.getLastErrorModes.%s.%s: want a positive integer", mode.Key(), rule.Key())
				case len(tagValues[rule.Key()]) == 0:
					add("settings.getLastErrorModes.%s.%s: no member carries tag %q", mode.Key(), rule.Key(), rule.Key())
				}
			}
		}
	}
	return problems
}

// unsatisfiableModes names the write modes of doc that need more distinct
// values of a tag than its members carry: a write with such a mode waits
// for acknowledgements that can never come.
func unsatisfiableModes(doc bson.Raw) []string {
	values := map[string]map[string]bool{}
	members, _ := doc.Lookup("members").Array().Values()
	for _, value := range members {
		tags, err := value.Document().LookupErr("tags")
		if err != nil {
			continue
		}
		elements, _ := tags.Document().Elements()
		for _, e := range elements {
			if values[e.Key()] == nil {
				values[e.Key()] = map[string]bool{}
			}
			values[e.Key()][e.Value().StringValue()] = true
		}
	}
	var out []string
	modes, err := doc.LookupErr("settings", "getLastErrorModes")
	if err != nil {
		return nil
	}
	elements, _ := modes.Document().Elements()
	for _, mode := range elements {
		rules, _ := mode.Value().Document().Elements()
		for _, rule := range rules {
			if n, _ := intValue(rule.Value()); int(n) > len(values[rule.Key()]) {
				out = append(out, fmt.Sprintf("%s needs %d distinct %s values, the members have %d", mode.Key(), n, rule.Key(), len(values[rule.Key()])))
			}
		}
	}
	return out
}

func intValue(v bson.RawValue) (int64, bool) {
	switch v.Type {
	case bson.TypeInt32, bson.TypeInt64:
		return v.AsInt64(), true
	}
	return 0, false
}

func validHostPort(address string) bool {
	host, port, err := net.SplitHostPort(address)
	if err != nil || host == "" {
		return false
	}
	n, err := strconv.Atoi(port)
	return err == nil && n >= 1 && n <= 65535
}

func nonVotingTopology() platform.ServiceSpec {
	zero := 0
	spec, _ := platform.Ion().ServiceOfKind(platform.KindMongo)
	out := *spec
	out.Members = append(out.Members, platform.MongoMember{Name: "mongo-west-1b", Zone: "us-west-1b", Priority: 0, Votes: &zero, Tags: map[string]string{"region": "us-west-1"}})
	return out
}

func sevenVoters() platform.ServiceSpec {
	spec := platform.ServiceSpec{Name: "big", Kind: platform.KindMongo, ReplicaSet: "big-rs"}
	for i := range 7 {
		spec.Members = append(spec.Members, platform.MongoMember{Name: fmt.Sprintf("m%d", i), Zone: "z", Priority: 1, Tags: map[string]string{"zone": fmt.Sprintf("z%d", i%3)}})
	}
	spec.WriteModes = map[string]map[string]int{"threeZones": {"zone": 3}}
	return spec
}

func hostOf(name string) string { return name + ":27017" }

var _ = Describe("the replica-set documents the live platform sends, against MongoDB's documented rules", func() {
	DescribeTable("replSetInitiate's configuration",
		func(spec platform.ServiceSpec) {
			cfg := ConfigFor(spec, hostOf)
			cfg.ElectionTimeout = 10 * time.Second
			doc := encoded(cfg.raw())
			Expect(documentedConfigProblems(doc)).To(BeEmpty())
			Expect(unsatisfiableModes(doc)).To(BeEmpty())
		},
		Entry("ion: a hidden priority-0 standby and a multi-region write mode", func() platform.ServiceSpec {
			spec, _ := platform.Ion().ServiceOfKind(platform.KindMongo)
			return *spec
		}()),
		Entry("a non-voting member", nonVotingTopology()),
		Entry("seven voters and a three-zone write mode", sevenVoters()),
	)

	It("sends the election timeout as a whole number of milliseconds, never 0 for a sub-millisecond value", func() {
		for _, d := range []time.Duration{10 * time.Second, 1500 * time.Millisecond, 2500 * time.Microsecond} {
			cfg := ReplicaSetConfig{Name: "rs", Members: []MemberConfig{{Host: "a:27017", Priority: 1}}, ElectionTimeout: d}
			doc := encoded(cfg.raw())
			Expect(doc.Lookup("settings", "electionTimeoutMillis").Type).To(Equal(bson.TypeInt64))
			Expect(documentedConfigProblems(doc)).To(BeEmpty(), "%v", d)
		}
	})

	It("keeps the rules through a forced reconfiguration and the two member additions after it", func() {
		current := roundTripConfig(ionConfig())
		forced, err := current.forced([]string{"mongo-west-1a:27017"}, "mongo-west-1a:27017")
		Expect(err).NotTo(HaveOccurred())
		Expect(documentedConfigProblems(encoded(forced))).To(BeEmpty())

		added, err := roundTripConfig(forced).adding(MemberConfig{Host: "mongo-west-1b:27017", Priority: 1, Tags: map[string]string{"region": "us-west-1"}})
		Expect(err).NotTo(HaveOccurred())
		added, err = roundTripConfig(added).adding(MemberConfig{Host: "mongo-west-1c:27017", Priority: 1, Tags: map[string]string{"region": "us-west-1"}})
		Expect(err).NotTo(HaveOccurred())
		Expect(documentedConfigProblems(encoded(added))).To(BeEmpty())
		Expect(added.Members).To(HaveLen(3))
	})

	It("keeps a multi-region write mode through the forced reconfiguration, which one region can no longer meet", func() {
		// This is why the runbook of east-region-outage-multiregion sets
		// the clients to majority after the forced reconfiguration.
		current := roundTripConfig(ionConfig())
		forced, err := current.forced([]string{"mongo-west-1a:27017"}, "mongo-west-1a:27017")
		Expect(err).NotTo(HaveOccurred())
		Expect(unsatisfiableModes(encoded(forced))).To(ConsistOf(ContainSubstring("multiRegion needs 2 distinct region values, the members have 1")))
	})

	DescribeTable("the check itself catches each documented violation",
		func(breakIt func(*rsConfig), want string) {
			cfg := roundTripConfig(ionConfig())
			breakIt(&cfg)
			Expect(documentedConfigProblems(encoded(cfg))).To(ContainElement(ContainSubstring(want)))
		},
		Entry("hidden with a priority", func(c *rsConfig) { c.Members[2].Priority = 1 }, "hidden member must have priority 0"),
		Entry("votes 2", func(c *rsConfig) { c.Members[0].Votes = 2 }, "want 0 or 1"),
		Entry("non-voting with a priority", func(c *rsConfig) { c.Members[1].Votes = 0 }, "non-voting member must have priority 0"),
		Entry("a repeated _id", func(c *rsConfig) { c.Members[1].ID = 0 }, "used twice"),
		Entry("a host without a port", func(c *rsConfig) { c.Members[1].Host = "mongo-east-1b" }, "not host:port"),
		Entry("a priority above 1000", func(c *rsConfig) { c.Members[0].Priority = 1001 }, "priority"),
		Entry("a write mode on a tag no member has", func(c *rsConfig) {
			c.Extra = map[string]any{"settings": bson.D{{Key: "getLastErrorModes", Value: bson.D{{Key: "twoRacks", Value: bson.D{{Key: "rack", Value: 2}}}}}}}
		}, "no member carries tag"),
		Entry("eight voters", func(c *rsConfig) {
			for i := range 5 {
				c.Members = append(c.Members, rsMember{ID: 10 + i, Host: fmt.Sprintf("extra-%d:27017", i), Priority: 1, Votes: 1})
			}
		}, "8 voting members"),
	)
})

// Write concern documents, https://www.mongodb.com/docs/manual/reference/write-concern/ :
// w is a non-negative integer, "majority", or the name of a custom write
// concern from settings.getLastErrorModes; j a boolean; wtimeout a
// non-negative integer of milliseconds.
var _ = Describe("the write concern documents the workload sends, against MongoDB's documented grammar", func() {
	modes := platform.Ion().Services[0].WriteModes

	It("sends w as a positive integer, majority, or a mode the replica set defines, and nothing else", func() {
		for _, spelling := range []string{"", "majority", "1", "2", "multiRegion"} {
			wc, err := parseWriteConcern(spelling)
			Expect(err).NotTo(HaveOccurred())
			Expect(wc.Journal).To(BeNil(), "j is left to the server default")
			switch w := wc.W.(type) {
			case int:
				Expect(w).To(BeNumerically(">=", 1), "%q: w 0 is unacknowledged", spelling)
			case string:
				if w != "majority" {
					Expect(modes).To(HaveKey(w), "%q names no settings.getLastErrorModes mode", spelling)
				}
			default:
				Fail(fmt.Sprintf("%q: w is a %T", spelling, w))
			}
		}
	})
})

var _ = Describe("replSetInitiate when its reply was lost", func() {
	want := ReplicaSetConfig{
		Name:            "ion-rs",
		ElectionTimeout: 10 * time.Second,
		WriteModes:      map[string]map[string]int{"multiRegion": {"region": 2}},
		Members: []MemberConfig{
			{ID: 0, Host: "a:27017", Priority: 2, Tags: map[string]string{"region": "east"}},
			{ID: 1, Host: "b:27017", Priority: 0, Hidden: true, Tags: map[string]string{"region": "west"}},
		},
	}
	alreadyInitialized := mongo.CommandError{Code: codeAlreadyInitialized, Name: "AlreadyInitialized", Message: "already initialized"}

	// installed is the configuration as replSetGetConfig returns it: the
	// server adds its own defaults.
	installed := func(cfg ReplicaSetConfig) rsConfig {
		out := roundTripConfig(cfg.raw())
		settings := bson.D{
			{Key: "chainingAllowed", Value: true},
			{Key: "heartbeatIntervalMillis", Value: int32(2000)},
			{Key: "electionTimeoutMillis", Value: int32(cfg.ElectionTimeout.Milliseconds())},
			{Key: "getLastErrorModes", Value: bson.D{{Key: "multiRegion", Value: bson.D{{Key: "region", Value: int32(2)}}}}},
		}
		out.Extra = map[string]any{"settings": settings, "protocolVersion": int64(1), "term": int64(1)}
		return out
	}

	It("is success when the set was initiated with the same configuration", func() {
		err := initiate(want, func(bson.D) error { return alreadyInitialized }, func() (rsConfig, error) { return installed(want), nil })
		Expect(err).NotTo(HaveOccurred())
	})

	It("is an error naming the difference when the set has another configuration", func() {
		other := want
		other.Members = append([]MemberConfig(nil), want.Members...)
		other.Members[1].Priority, other.Members[1].Hidden = 1, false
		err := initiate(want, func(bson.D) error { return alreadyInitialized }, func() (rsConfig, error) { return installed(other), nil })
		Expect(err).To(MatchError(And(ContainSubstring("another configuration"), ContainSubstring("b:27017"))))

		slower := want
		slower.ElectionTimeout = 5 * time.Second
		err = initiate(want, func(bson.D) error { return alreadyInitialized }, func() (rsConfig, error) { return installed(slower), nil })
		Expect(err).To(MatchError(ContainSubstring("electionTimeoutMillis 5000, want 10000")))
	})

	It("passes any other error on, and an unreadable configuration too", func() {
		refused := errors.New("connection refused")
		Expect(initiate(want, func(bson.D) error { return refused }, nil)).To(MatchError(refused))
		err := initiate(want, func(bson.D) error { return alreadyInitialized }, func() (rsConfig, error) { return rsConfig{}, refused })
		Expect(err).To(MatchError(refused))
	})
})

var _ = Describe("maxTimeMS", func() {
	It("is a positive whole number of milliseconds, never 0 (no limit) for a nearly spent deadline", func() {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Microsecond)
		defer cancel()
		ms, err := maxTimeMS(ctx, time.Minute)
		if err == nil {
			Expect(ms).To(BeNumerically(">=", 1))
		} else {
			Expect(err).To(MatchError(context.DeadlineExceeded))
		}
		ms, err = maxTimeMS(context.Background(), 60*time.Second)
		Expect(err).NotTo(HaveOccurred())
		Expect(ms).To(BeEquivalentTo(60000))
	})

	It("refuses a deadline already past", func() {
		ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		defer cancel()
		_, err := maxTimeMS(ctx, time.Minute)
		Expect(err).To(MatchError(context.DeadlineExceeded))
	})
})

var _ = Describe("replication lag", func() {
	It("uses the members' millisecond wall times, where optimeDate would read a 30 ms lag as 0 or 1 s", func() {
		second := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		primary := rawMemberStatus{Name: "p:27017", Health: 1, StateStr: "PRIMARY", OptimeDate: second.Add(time.Second), LastAppliedWallTime: second.Add(1010 * time.Millisecond)}
		behind := rawMemberStatus{Name: "s:27017", Health: 1, StateStr: "SECONDARY", OptimeDate: second, LastAppliedWallTime: second.Add(980 * time.Millisecond)}
		st := rawStatus{Set: "rs", Members: []rawMemberStatus{primary, behind}}.status()
		Expect(st.Members[1].Lag).To(Equal(30 * time.Millisecond))
		Expect(st.Members[0].Lag).To(BeZero(), "the primary has no lag")
	})

	It("falls back to optimeDate when a member reports no wall time", func() {
		second := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		primary := rawMemberStatus{Name: "p:27017", Health: 1, StateStr: "PRIMARY", OptimeDate: second.Add(2 * time.Second), LastAppliedWallTime: second.Add(2 * time.Second)}
		old := rawMemberStatus{Name: "s:27017", Health: 1, StateStr: "SECONDARY", OptimeDate: second}
		st := rawStatus{Set: "rs", Members: []rawMemberStatus{primary, old}}.status()
		Expect(st.Members[1].Lag).To(Equal(2 * time.Second))
	})

	It("reads lastAppliedWallTime from the field replSetGetStatus names it by", func() {
		at := time.Date(2026, 1, 2, 3, 4, 5, 123e6, time.UTC)
		b, err := bson.Marshal(bson.D{{Key: "set", Value: "rs"}, {Key: "members", Value: bson.A{
			bson.D{{Key: "name", Value: "p:27017"}, {Key: "health", Value: 1.0}, {Key: "stateStr", Value: "PRIMARY"}, {Key: "lastAppliedWallTime", Value: at}},
		}}})
		Expect(err).NotTo(HaveOccurred())
		var raw rawStatus
		Expect(bson.Unmarshal(b, &raw)).To(Succeed())
		Expect(raw.Members[0].LastAppliedWallTime.Equal(at)).To(BeTrue())
	})
})
