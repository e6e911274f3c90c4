package mongo_test

import (
	"context"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/platform/adapters/mongo"
)

// memberName is the address the server is known by, as a replica-set
// member's host would be; tests reach it only through Resolve.
const memberName = "mongo-east-1a:27017"

func connect(ctx context.Context, m *mapping, change func(*mongo.Options)) *mongo.Client {
	o := mongo.Options{
		Hosts:                  []string{memberName},
		Resolve:                m.Resolve,
		Database:               "ion",
		Collection:             "writes",
		WriteConcern:           "1",
		Timeout:                2 * time.Second,
		ServerSelectionTimeout: 500 * time.Millisecond,
	}
	if change != nil {
		change(&o)
	}
	c, err := mongo.Connect(ctx, "run1", o)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func(ctx SpecContext) { _ = c.Close(ctx) })
	return c
}

func ids(from, to uint64) []uint64 {
	var out []uint64
	for op := from; op <= to; op++ {
		out = append(out, op)
	}
	return out
}

var _ = Describe("Client against FerretDB", func() {
	var (
		server *ferret
		m      *mapping
	)

	BeforeEach(func() {
		server = startFerret(GinkgoT().TempDir())
		m = &mapping{}
		m.Set(server.addr)
	})

	It("acknowledges writes, reads them back, and reports ids never written as absent", func(ctx SpecContext) {
		c := connect(ctx, m, nil)
		for _, op := range ids(1, 20) {
			Expect(c.Write(ctx, op)).To(Equal(platform.Acked), "op %d", op)
		}
		all := ids(1, 25)
		present := make([]bool, len(all))
		Expect(c.ReadBack(ctx, all, present)).To(Succeed())
		for i, op := range all {
			Expect(present[i]).To(Equal(op <= 20), "op %d", op)
		}
	})

	It("keeps runs apart: another run's ids are absent", func(ctx SpecContext) {
		c := connect(ctx, m, nil)
		Expect(c.Write(ctx, 7)).To(Equal(platform.Acked))
		other, err := mongo.Connect(ctx, "run2", mongo.Options{
			Hosts: []string{memberName}, Resolve: m.Resolve, Database: "ion", Collection: "writes", WriteConcern: "1",
		})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx SpecContext) { _ = other.Close(ctx) })
		present := []bool{true}
		Expect(other.ReadBack(ctx, []uint64{7}, present)).To(Succeed())
		Expect(present[0]).To(BeFalse())
	})

	It("counts a write whose id is already stored (a retry of an applied write) as acknowledged", func(ctx SpecContext) {
		c := connect(ctx, m, nil)
		Expect(c.Write(ctx, 5)).To(Equal(platform.Acked))
		Expect(c.Write(ctx, 5)).To(Equal(platform.Acked))
	})

	It("reads back more ids than one query batch holds", func(ctx SpecContext) {
		c := connect(ctx, m, nil)
		for _, op := range []uint64{1, 999, 1000, 1001, 2500} {
			Expect(c.Write(ctx, op)).To(Equal(platform.Acked))
		}
		all := ids(1, 2600)
		present := make([]bool, len(all))
		Expect(c.ReadBack(ctx, all, present)).To(Succeed())
		var found []uint64
		for i, ok := range present {
			if ok {
				found = append(found, all[i])
			}
		}
		Expect(found).To(Equal([]uint64{1, 999, 1000, 1001, 2500}))
	})

	It("fails a write that could not be sent because the connection was refused", func(ctx SpecContext) {
		m.Set(closedPort())
		c := connect(ctx, m, nil)
		Expect(c.Write(ctx, 1)).To(Equal(platform.Failed))
	})

	It("calls a write whose reply never came back unknown, and the write did happen", func(ctx SpecContext) {
		p := startProxy(server.addr)
		m.Set(p.Addr())
		// The timeout is long enough for the insert to reach the server on
		// a loaded machine; the server applies it whether or not the reply
		// gets back, so the read-back waits for it rather than assuming it
		// landed before the client gave up.
		c := connect(ctx, m, func(o *mongo.Options) { o.Timeout = 2 * time.Second })
		Expect(c.Write(ctx, 1)).To(Equal(platform.Acked)) // connection established
		p.dropReplies.Store(true)
		Expect(c.Write(ctx, 2)).To(Equal(platform.Unknown))

		m.Set(server.addr)
		fresh := connect(ctx, m, nil)
		Eventually(func() []bool {
			present := make([]bool, 2)
			Expect(fresh.ReadBack(ctx, []uint64{1, 2}, present)).To(Succeed())
			return present
		}).WithTimeout(10 * time.Second).Should(Equal([]bool{true, true}))
	})

	It("calls a write whose connection was reset after sending unknown", func(ctx SpecContext) {
		p := startProxy(server.addr)
		m.Set(p.Addr())
		c := connect(ctx, m, func(o *mongo.Options) { o.Timeout = 5 * time.Second })
		Expect(c.Write(ctx, 1)).To(Equal(platform.Acked))
		p.dropReplies.Store(true)
		outcome := make(chan platform.Outcome, 1)
		go func() { outcome <- c.Write(ctx, 2) }()
		time.Sleep(200 * time.Millisecond) // let the insert reach the server
		p.Cut()
		Eventually(outcome).WithTimeout(5 * time.Second).Should(Receive(Equal(platform.Unknown)))
	})

	It("never acknowledges a write that is missing after the server dies mid-write and comes back", func(ctx SpecContext) {
		dir := GinkgoT().TempDir()
		first := startFerret(dir)
		p := startProxy(first.addr)
		m.Set(p.Addr())
		c := connect(ctx, m, func(o *mongo.Options) { o.Timeout = time.Second })

		const writers = 8
		var (
			mu       sync.Mutex
			outcomes = map[uint64]platform.Outcome{}
			wg       sync.WaitGroup
			acked    = make(chan struct{}, 1000)
		)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer GinkgoRecover()
				defer wg.Done()
				notAcked := 0
				for i := uint64(0); notAcked < 3 && i < 5000; i++ {
					op := i*writers + uint64(w) + 1
					out := c.Write(ctx, op)
					mu.Lock()
					outcomes[op] = out
					mu.Unlock()
					if out == platform.Acked {
						select {
						case acked <- struct{}{}:
						default:
						}
					} else {
						notAcked++
					}
				}
			}()
		}
		for range 50 {
			Eventually(acked).WithTimeout(10 * time.Second).Should(Receive())
		}
		p.Cut() // the host is gone: connections reset, nothing listens
		first.Stop()
		wg.Wait()

		second := startFerret(dir) // same data, new port
		m.Set(second.addr)
		var written []uint64
		counts := map[platform.Outcome]int{}
		for op, out := range outcomes {
			written = append(written, op)
			counts[out]++
		}
		Expect(counts[platform.Acked]).To(BeNumerically(">=", 50))
		Expect(counts[platform.Unknown] + counts[platform.Failed]).To(BeNumerically(">=", writers))
		present := make([]bool, len(written))
		Expect(c.ReadBack(ctx, written, present)).To(Succeed()) // the same client follows the new port
		for i, op := range written {
			if outcomes[op] == platform.Acked {
				Expect(present[i]).To(BeTrue(), "acknowledged op %d is missing", op)
			}
			if outcomes[op] == platform.Failed {
				Expect(present[i]).To(BeFalse(), "failed op %d is present", op)
			}
		}
	})

	Describe("admin helpers (FerretDB is a standalone server: the replica-set commands exist only on real mongod, proven by the live suite)", func() {
		It("names a standalone server as its own primary", func(ctx SpecContext) {
			c := connect(ctx, m, nil)
			Expect(c.Primary(ctx)).To(Equal(memberName))
		})

		It("reports that a server without a replica set has no replica-set status", func(ctx SpecContext) {
			c := connect(ctx, m, nil)
			_, err := c.Status(ctx)
			Expect(err).To(MatchError(ContainSubstring("get mongo replica set status")))
			_, err = mongo.StatusAt(ctx, server.addr)
			Expect(err).To(MatchError(ContainSubstring("get mongo replica set status from " + server.addr)))
		})

		It("reports the server's refusal of replSetInitiate", func(ctx SpecContext) {
			err := mongo.Initiate(ctx, server.addr, mongo.ReplicaSetConfig{
				Name: "ion-rs", Members: []mongo.MemberConfig{{Host: memberName, Priority: 1}},
			})
			Expect(err).To(MatchError(ContainSubstring("initiate mongo replica set ion-rs")))
		})

		It("reports that a config cannot be read for a forced reconfig", func(ctx SpecContext) {
			err := mongo.ForceReconfigure(ctx, server.addr, []string{memberName}, memberName)
			Expect(err).To(MatchError(ContainSubstring("force-reconfigure mongo: read config")))
		})
	})
})
