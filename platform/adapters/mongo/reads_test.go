package mongo_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/platform/adapters/mongo"
)

// The read path against FerretDB, a standalone server: a direct connection
// sends every read to it whatever the read preference, so what read
// preferences and concerns select on a replica set is proven only by the
// live suite; here, the query, the value it returns, the member it names
// and the outcome classes.
var _ = Describe("ReadNewest against FerretDB", func() {
	var (
		server *ferret
		m      *mapping
	)

	BeforeEach(func() {
		server = startFerret(GinkgoT().TempDir())
		m = &mapping{}
		m.Set(server.addr)
	})

	query := func(s mongo.ReadSettings) *mongo.ReadQuery {
		GinkgoHelper()
		q, err := mongo.NewReadQuery(s)
		Expect(err).NotTo(HaveOccurred())
		return q
	}

	It("returns nothing before the run's first write, then the newest write of the run and the member that served it", func(ctx SpecContext) {
		c := connect(ctx, m, nil)
		Expect(c.EnsureReadIndex(ctx)).To(Succeed())
		q := query(mongo.ReadSettings{})

		outcome, value, member := c.ReadNewest(ctx, q)
		Expect(outcome).To(Equal(platform.Acked))
		Expect(value).To(Equal(platform.ReadNothing))
		Expect(member).To(Equal(memberName))

		for _, op := range []uint64{3, 17, 9} {
			Expect(c.Write(ctx, op)).To(Equal(platform.Acked))
		}
		outcome, value, member = c.ReadNewest(ctx, q)
		Expect(outcome).To(Equal(platform.Acked))
		Expect(value).To(BeEquivalentTo(17))
		Expect(member).To(Equal(memberName))
		Expect(c.EnsureReadIndex(ctx)).To(Succeed(), "creating it again does nothing")
	})

	It("sees only its own run's writes", func(ctx SpecContext) {
		c := connect(ctx, m, nil)
		Expect(c.Write(ctx, 40)).To(Equal(platform.Acked))
		other, err := mongo.Connect(ctx, "run2", mongo.Options{
			Hosts: []string{memberName}, Resolve: m.Resolve, Database: "ion", Collection: "writes", WriteConcern: "1",
		})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { _ = other.Close(ctx) })
		Expect(other.Write(ctx, 2)).To(Equal(platform.Acked))

		_, value, _ := other.ReadNewest(ctx, query(mongo.ReadSettings{Concern: platform.ReadConcernLocal}))
		Expect(value).To(BeEquivalentTo(2))
	})

	It("fails a read that could not be sent, and calls one whose reply never came back unknown", func(ctx SpecContext) {
		p := startProxy(server.addr)
		m.Set(p.Addr())
		c := connect(ctx, m, func(o *mongo.Options) { o.Timeout = 500 * time.Millisecond })
		Expect(c.Write(ctx, 1)).To(Equal(platform.Acked))
		q := query(mongo.ReadSettings{})

		p.dropReplies.Store(true)
		short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		defer cancel()
		outcome, value, member := c.ReadNewest(short, q)
		Expect(outcome).To(Equal(platform.Unknown))
		Expect(value).To(Equal(platform.ReadNothing))
		Expect(member).To(BeEmpty())

		m.Set(closedPort())
		refused := connect(ctx, m, nil)
		outcome, _, _ = refused.ReadNewest(ctx, q)
		Expect(outcome).To(Equal(platform.Failed))
	})

	DescribeTable("refuses settings MongoDB refuses",
		func(s mongo.ReadSettings, message string) {
			_, err := mongo.NewReadQuery(s)
			Expect(err).To(MatchError(ContainSubstring(message)))
		},
		Entry("an unknown preference", mongo.ReadSettings{Preference: "closest"}, "unknown read preference"),
		Entry("tag sets with primary", mongo.ReadSettings{TagSets: []map[string]string{{"region": "us-east-1"}}}, "tag sets cannot be used with read preference primary"),
		Entry("linearizable on a secondary", mongo.ReadSettings{Preference: platform.ReadSecondary, Concern: platform.ReadConcernLinearizable}, "linearizable reads go to the primary only"),
		Entry("an unknown concern", mongo.ReadSettings{Concern: "snapshot"}, `unknown read concern "snapshot"`),
	)

	It("accepts every read preference with tag sets, and every read concern", func() {
		for _, pref := range platform.ReadPreferences {
			for _, concern := range platform.ReadConcerns {
				s := mongo.ReadSettings{Preference: pref, Concern: concern}
				if pref != platform.ReadPrimary {
					s.TagSets = []map[string]string{{"region": "us-east-1"}, {}}
				}
				_, err := mongo.NewReadQuery(s)
				if concern == platform.ReadConcernLinearizable && pref != platform.ReadPrimary {
					Expect(err).To(HaveOccurred())
					continue
				}
				Expect(err).NotTo(HaveOccurred(), "%s %s", pref, concern)
			}
		}
	})
})
