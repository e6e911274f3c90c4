package simulator

import (
	"context"
	"fmt"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// ticker fires every period until stop, noting each firing in log; with
// cont it goes on to its next firing through Sim.Continue, as the runner's
// workloads do, otherwise through At.
type ticker struct {
	s         *Sim
	name      string
	period    time.Duration
	stop      time.Duration
	next      time.Duration
	cont      bool
	log       *[]string
	continued *int
	onFire    func(now time.Duration)
}

func (k *ticker) Fire(now time.Duration) {
	for k.next < k.stop {
		*k.log = append(*k.log, fmt.Sprintf("%s@%s", k.name, now))
		if k.onFire != nil {
			k.onFire(now)
		}
		k.next += k.period
		if !k.cont {
			k.s.At(k.next, k)
			return
		}
		if !k.s.Continue(k.next, k) {
			return
		}
		*k.continued++
		now = k.next
	}
}

var _ = Describe("Sim.Continue", func() {
	// run schedules three tickers whose periods meet (ties at the same
	// instant) and a handler that queues another at its own instant, and
	// runs the loop in two slices; it returns what fired, when, in order.
	run := func(cont bool) (log []string, continued int) {
		s, _ := newTestSim(nil, 1, nil)
		for _, p := range []struct {
			name   string
			period time.Duration
		}{{"a", time.Millisecond}, {"b", 5 * time.Millisecond}, {"c", 7 * time.Millisecond}} {
			k := &ticker{s: s, name: p.name, period: p.period, stop: 400 * time.Millisecond, cont: cont, log: &log, continued: &continued}
			if p.name == "b" {
				k.onFire = func(now time.Duration) {
					if now%(15*time.Millisecond) == 0 {
						s.At(now, platform.HandlerFunc(func(now time.Duration) { log = append(log, fmt.Sprintf("tie@%s", now)) }))
					}
				}
			}
			s.At(0, k)
		}
		Expect(s.Run(context.Background(), 123*time.Millisecond)).To(Succeed())
		Expect(s.Now()).To(Equal(123 * time.Millisecond))
		Expect(s.Run(context.Background(), time.Second)).To(Succeed())
		return log, continued
	}

	It("fires every handler at the time and in the order At would", func() {
		queued, none := run(false)
		Expect(none).To(BeZero())
		continuedLog, continued := run(true)
		Expect(continued).To(BeNumerically(">", 50), "the spec must exercise continuations")
		Expect(continuedLog).To(Equal(queued))
		Expect(len(queued)).To(BeNumerically(">", 250))
	})

	It("lets Run look at its context while one handler goes on by itself", func() {
		s, _ := newTestSim(nil, 1, nil)
		ctx, cancel := context.WithCancel(context.Background())
		var log []string
		continued := 0
		k := &ticker{s: s, name: "w", period: time.Microsecond, stop: 100 * time.Millisecond, cont: true, log: &log, continued: &continued}
		k.onFire = func(time.Duration) {
			if len(log) == 10 {
				cancel()
			}
		}
		s.At(0, k)
		Expect(s.Run(ctx, time.Second)).To(MatchError(context.Canceled))
		Expect(len(log)).To(BeNumerically("<=", 10+ctxCheckEvery+1))
	})

	It("does not go past the end of the Run in progress", func() {
		s, _ := newTestSim(nil, 1, nil)
		var log []string
		continued := 0
		k := &ticker{s: s, name: "w", period: 4 * time.Millisecond, stop: time.Second, cont: true, log: &log, continued: &continued}
		s.At(0, k)
		Expect(s.Run(context.Background(), 10*time.Millisecond)).To(Succeed())
		Expect(log).To(Equal([]string{"w@0s", "w@4ms", "w@8ms"}))
		Expect(s.Now()).To(Equal(10 * time.Millisecond))
		Expect(s.Run(context.Background(), 13*time.Millisecond)).To(Succeed())
		Expect(log).To(HaveLen(4))
		Expect(log[3]).To(Equal("w@12ms"))
	})
})
