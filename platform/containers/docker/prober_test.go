package docker

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("Prober", func() {
	It("records each outage once, from the first failed probe to the first answer", func(ctx SpecContext) {
		var down atomic.Bool
		probe := func(context.Context) error {
			if down.Load() {
				return errors.New("refused")
			}
			return nil
		}
		prober := NewProber(probe, time.Millisecond, 10*time.Millisecond)
		prober.Start(ctx)
		Eventually(prober.Transitions).Should(HaveLen(1))
		down.Store(true)
		Eventually(prober.Outages).Should(ConsistOf(HaveField("End", BeZero())))
		down.Store(false)
		Eventually(func() []Outage { return prober.Outages() }).Should(ConsistOf(HaveField("End", Not(BeZero()))))
		prober.Stop()

		transitions := prober.Transitions()
		Expect(transitions).To(HaveLen(3))
		Expect(transitions[0].Up).To(BeTrue())
		Expect(transitions[1].Up).To(BeFalse())
		Expect(transitions[1].Err).To(MatchError("refused"))
		Expect(transitions[2].Up).To(BeTrue())
		Expect(prober.Outages()[0].Start).To(Equal(transitions[1].At))
		Expect(prober.Outages()[0].End).To(Equal(transitions[2].At))
	})
})
