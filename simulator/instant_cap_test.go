package simulator

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
)

// again is a handler that schedules itself at the time it fires: a timer
// of zero length, the way a model loops at one instant.
type again struct {
	s     *Sim
	fired int
}

func (a *again) Fire(now time.Duration) {
	a.fired++
	a.s.At(now, a)
}

var _ = Describe("the event loop's cap on events at one virtual instant", func() {
	It("stops a run whose time stands still with an error that says so", func() {
		rec := newRecorder()
		s, err := New(platform.Config{Topology: platform.Ion(), Seed: 1, Completions: rec, Events: rec})
		Expect(err).NotTo(HaveOccurred())
		Expect(s.Start(context.Background())).To(Succeed())
		loop := &again{s: s}
		s.At(time.Second, loop)

		err = s.Run(context.Background(), time.Minute)

		Expect(err).To(MatchError(ContainSubstring("more than 1000000 events at virtual time 1s")))
		// The models' own events at 1s count too.
		Expect(loop.fired).To(BeNumerically("~", MaxEventsAtOneInstant, 100))
	})

	It("refuses the parameter values that would loop, before the model is built", func() {
		rec := newRecorder()
		_, err := New(platform.Config{Topology: platform.Ion(), Seed: 1, Completions: rec, Events: rec,
			Parameters: map[string]string{"mongo.election_timeout": "0s"}})
		Expect(err).To(MatchError(ContainSubstring(`parameter "mongo.election_timeout": want a duration from 1ms to 168h0m0s, got "0s"`)))
	})
})
