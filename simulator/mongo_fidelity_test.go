package simulator

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
)

// The specs below replay the published behaviours that issues 9 and 17 found
// the model getting wrong, each with its source.

var _ = Describe("mongo: added latency", func() {
	// Issue 17.6. A write crosses the link to the primary twice (the request
	// and the answer), so one-way latency added on the primary is paid
	// twice by w:1 writes, and four times by w:majority ones (the oplog
	// leaves the primary and the secondary's acknowledgement comes back
	// through it too). Latency is a property of the link at the moment a
	// message crosses it, not of the moment the driver found the primary.
	const interval = 10 * time.Millisecond
	const fault, extra = 30 * time.Second, 2 * time.Second
	meanAfter := func(concern string) time.Duration {
		s, rec := mongoSim(3, concern, nil)
		drive(s, "mongo", 0, interval, 60*time.Second)
		mongoRunTo(s, fault)
		mongoMust(s.Faults().AddLatency(mongoCtx, east1a, extra))
		mongoRunTo(s, 80*time.Second)
		return mongoMeanLatency(rec, 0, interval, fault+time.Second, 50*time.Second)
	}

	It("applies to the request leg too: 2 s one way on the primary makes w:1 writes take about 4 s", func() {
		link := platform.DefaultLinkLatency.InterZone.D()
		Expect(meanAfter("1")).To(BeNumerically("~", 2*(extra+link), 10*time.Millisecond))
	})

	It("applies to every leg of a w:majority write: about 8 s", func() {
		Expect(meanAfter("majority")).To(BeNumerically("~", 4*extra, 50*time.Millisecond))
	})
})
