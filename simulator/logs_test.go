package simulator

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
)

// logsCluster lists the Elasticsearch nodes of the ion topology.
func logsCluster(s *Sim) []string {
	var names []string
	for _, n := range s.topo.Services[1].Nodes {
		names = append(names, n.Name)
	}
	return names
}

// outcomes counts the outcomes of ops.
func outcomes(rec *recorder, ops []uint64) map[platform.Outcome]int {
	count := map[platform.Outcome]int{}
	for _, id := range ops {
		count[rec.outcomes[id]]++
	}
	return count
}

var _ = Describe("the log tier when the whole cluster is down (issue 9.6)", func() {
	const every = 2 * time.Millisecond
	// wholeClusterOutage kills every Elasticsearch node at 1m and starts
	// them again at 3m, then runs until end.
	wholeClusterOutage := func(params map[string]string, end time.Duration) (*Sim, *recorder, []uint64) {
		s, rec := newTestSim(nil, 7, params)
		w := drive(s, "logs", 0, every, end-time.Minute)
		Expect(s.Run(esCtx, time.Minute)).To(Succeed())
		for _, n := range logsCluster(s) {
			Expect(s.Faults().Kill(esCtx, n)).To(Succeed())
		}
		Expect(s.Run(esCtx, 3*time.Minute)).To(Succeed())
		for _, n := range logsCluster(s) {
			Expect(s.Faults().Start(esCtx, n)).To(Succeed())
		}
		Expect(s.Run(esCtx, end)).To(Succeed())
		return s, rec, esOps(0, w)
	}

	It("keeps taking events: the apps are not refused while the cluster is down", func() {
		_, rec, ops := wholeClusterOutage(nil, 10*time.Minute)
		Expect(outcomes(rec, ops)[platform.Failed]).To(BeZero())
	})

	It("with Retry_Limit 1 loses hundreds of events it acknowledged on receipt; with a high limit none (fluent/fluent-bit#2412)", func() {
		s, rec, ops := wholeClusterOutage(map[string]string{"logs.ack_on_receipt": "true", "logs.retry_limit": "1"}, 10*time.Minute)
		lost := esLostAcked(s, rec, "logs", ops)
		Expect(len(lost)).To(BeNumerically(">", 100))
		for _, id := range lost {
			// Only events of the outage: received after the kill (or in a
			// bulk in flight at it) and before the cluster was back.
			Expect(rec.completed[id]).To(BeNumerically(">=", time.Minute-time.Second))
			Expect(rec.completed[id]).To(BeNumerically("<", 3*time.Minute+esParam(s, "es.node_boot_time")))
		}

		// The eighth retry waits up to retry_wait * 2^8 (about 21 min):
		// run long enough for every retry to land.
		s, rec, ops = wholeClusterOutage(map[string]string{"logs.ack_on_receipt": "true", "logs.retry_limit": "20"}, 30*time.Minute)
		Expect(esLostAcked(s, rec, "logs", ops)).To(BeEmpty())
	})

	It("acknowledges nothing it later drops unless logs.ack_on_receipt is set: the apps time out instead", func() {
		s, rec, ops := wholeClusterOutage(map[string]string{"logs.retry_limit": "1"}, 10*time.Minute)
		Expect(esLostAcked(s, rec, "logs", ops)).To(BeEmpty())
		Expect(outcomes(rec, ops)[platform.Unknown]).To(BeNumerically(">", 100))
	})

	It("refuses new events once its buffer is full, and loses none of those", func() {
		// 1 MB holds 2,000 events of 500 bytes: four seconds at this rate.
		s, rec, ops := wholeClusterOutage(map[string]string{"logs.buffer_mb": "1", "logs.ack_on_receipt": "true", "logs.retry_limit": "20"}, 30*time.Minute)
		count := outcomes(rec, ops)
		Expect(count[platform.Failed]).To(BeNumerically(">", 50_000))
		Expect(esLostAcked(s, rec, "logs", ops)).To(BeEmpty())
		var refused []time.Duration
		for _, id := range ops {
			if rec.outcomes[id] == platform.Failed {
				refused = append(refused, rec.completed[id])
			}
		}
		// Refused only while the buffer held the outage's first events.
		for _, at := range refused {
			Expect(at).To(BeNumerically(">", time.Minute))
			Expect(at).To(BeNumerically("<", 3*time.Minute+esParam(s, "es.node_boot_time")+time.Second))
		}
	})

	It("is lost with its region: when every node of the region is down it refuses events and drops what it held", func() {
		s, rec := newTestSim(nil, 8, map[string]string{"logs.ack_on_receipt": "true"})
		w := drive(s, "logs", 0, every, 3*time.Minute)
		Expect(s.Run(esCtx, time.Minute)).To(Succeed())
		for _, n := range (platform.Selector{Kind: platform.SelectRegion, Value: "us-east-1"}).Static(s.topo) {
			Expect(s.Faults().Kill(esCtx, n)).To(Succeed())
		}
		Expect(s.Run(esCtx, 4*time.Minute)).To(Succeed())
		count := outcomes(rec, esOps(0, w))
		Expect(count[platform.Failed]).To(BeNumerically(">", 50_000))
		Expect(esOf(s).tier.lost).To(BeTrue())
	})
})

var _ = Describe("the log tier's retry backoff (issue 17.7)", func() {
	It("draws each wait between scheduler.base and min(scheduler.cap, base * 2^n), as Fluent Bit does", func() {
		s, _ := newTestSim(nil, 1, nil)
		t := esOf(s).tier
		base, limit := esParam(s, "logs.retry_wait"), esParam(s, "logs.retry_cap")
		Expect(limit).To(Equal(2000 * time.Second))
		for n := 1; n <= 40; n++ {
			upper := limit
			if n < 20 {
				upper = min(limit, base<<n)
			}
			longest := time.Duration(0)
			for range 200 {
				w := t.backoffBefore(n)
				Expect(w).To(BeNumerically(">=", base))
				Expect(w).To(BeNumerically("<=", upper))
				longest = max(longest, w)
			}
			// The draws cover the range, not only its bottom.
			Expect(longest).To(BeNumerically(">", base+(upper-base)/2), "retry %d", n)
		}
	})

	It("indexes everything the tier took during a 4-hour block within scheduler.cap of the cluster's return", func() {
		// The case: with the uncapped backoff about 37,000 events
		// were still not indexed 90 minutes after a 4-hour block ended.
		s, rec := newTestSim(nil, 3, map[string]string{"logs.ack_on_receipt": "true", "logs.retry_limit": "1000"})
		block := 4 * time.Hour
		w := drive(s, "logs", 0, 100*time.Millisecond, time.Minute+block)
		Expect(s.Run(esCtx, time.Minute)).To(Succeed())
		for _, n := range logsCluster(s) {
			Expect(s.Faults().Pause(esCtx, n)).To(Succeed())
		}
		Expect(s.Run(esCtx, time.Minute+block)).To(Succeed())
		for _, n := range logsCluster(s) {
			Expect(s.Faults().Resume(esCtx, n)).To(Succeed())
		}
		// Back within an election; the next retry of each bulk comes at
		// most scheduler.cap (2000 s, Fluent Bit's default) later, and
		// takes a bulk round trip.
		settled := time.Minute + block + 2000*time.Second + time.Minute
		Expect(s.Run(esCtx, settled)).To(Succeed())
		ops := esOps(0, w)
		Expect(outcomes(rec, ops)[platform.Acked]).To(Equal(len(ops)))
		Expect(esLostAcked(s, rec, "logs", ops)).To(BeEmpty())
	})
})
