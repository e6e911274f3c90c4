package containers

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
)

// The loop runs on wall-clock time, so its tests run in a synctest bubble
// (fake clock, no real sleeping). synctest.Test needs a *testing.T, which a
// Ginkgo spec does not have; these are plain tests asserting with Gomega.

type firing struct {
	name string
	at   time.Duration
}

func record(log *[]firing, name string) platform.Handler {
	return platform.HandlerFunc(func(now time.Duration) { *log = append(*log, firing{name, now}) })
}

func TestLoopFiresHandlersInTimeOrderAtTheirTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := NewWithT(t)
		l := newWallLoop()
		l.begin()
		var log []firing
		l.At(3*time.Second, record(&log, "c"))
		l.At(1*time.Second, record(&log, "a"))
		l.At(2*time.Second, record(&log, "b1"))
		l.At(2*time.Second, record(&log, "b2"))

		g.Expect(l.Run(t.Context(), 10*time.Second)).To(Succeed())

		g.Expect(log).To(Equal([]firing{{"a", time.Second}, {"b1", 2 * time.Second}, {"b2", 2 * time.Second}, {"c", 3 * time.Second}}))
	})
}

func TestLoopFiresAHandlerScheduledInThePastAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := NewWithT(t)
		l := newWallLoop()
		l.begin()
		var log []firing
		l.At(5*time.Second, platform.HandlerFunc(func(now time.Duration) {
			l.At(time.Second, record(&log, "late"))
		}))

		g.Expect(l.Run(t.Context(), 6*time.Second)).To(Succeed())

		g.Expect(log).To(Equal([]firing{{"late", 5 * time.Second}}))
	})
}

func TestLoopRunReturnsWhenScenarioTimeReachesUntil(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := NewWithT(t)
		l := newWallLoop()
		l.begin()
		var log []firing
		l.At(4*time.Second, record(&log, "at-until"))
		l.At(5*time.Second, record(&log, "after-until"))

		g.Expect(l.Run(t.Context(), 4*time.Second)).To(Succeed())

		g.Expect(l.Now()).To(Equal(4 * time.Second))
		g.Expect(log).To(Equal([]firing{{"at-until", 4 * time.Second}}))

		g.Expect(l.Run(t.Context(), 6*time.Second)).To(Succeed())
		g.Expect(log).To(HaveLen(2))
	})
}

func TestLoopDeliversWorkPostedFromOtherGoroutinesOnTheLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := NewWithT(t)
		l := newWallLoop()
		l.begin()
		var delivered []time.Duration // touched only on the loop: the race detector checks that
		for _, d := range []time.Duration{1500 * time.Millisecond, 700 * time.Millisecond} {
			go func() {
				time.Sleep(d)
				l.post(func(now time.Duration) { delivered = append(delivered, now) })
			}()
		}

		g.Expect(l.Run(t.Context(), 2*time.Second)).To(Succeed())

		g.Expect(delivered).To(Equal([]time.Duration{700 * time.Millisecond, 1500 * time.Millisecond}))
	})
}

func TestLoopRunEndsWithTheContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := NewWithT(t)
		l := newWallLoop()
		l.begin()
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()

		err := l.Run(ctx, time.Hour)

		g.Expect(err).To(MatchError(context.DeadlineExceeded))
		g.Expect(l.Now()).To(Equal(3 * time.Second))
	})
}

func TestLoopTellsWhichHandlerIsFiringAndRunsWorkLeftForAfterIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := NewWithT(t)
		l := newWallLoop()
		l.begin()
		var log []string
		var seen []uint64
		for _, at := range []time.Duration{time.Second, 2 * time.Second} {
			l.At(at, platform.HandlerFunc(func(now time.Duration) {
				firing, firingAt, ok := l.handler()
				g.Expect(ok).To(BeTrue())
				g.Expect(firingAt).To(Equal(now))
				seen = append(seen, firing)
				l.afterHandler(func() { log = append(log, "after "+now.String()) })
				log = append(log, "in "+now.String())
			}))
		}

		g.Expect(l.Run(t.Context(), 3*time.Second)).To(Succeed())

		g.Expect(log).To(Equal([]string{"in 1s", "after 1s", "in 2s", "after 2s"}))
		g.Expect(seen[0]).NotTo(Equal(seen[1]), "each handler is its own firing")
		_, _, ok := l.handler()
		g.Expect(ok).To(BeFalse(), "outside a handler")
		ran := false
		l.afterHandler(func() { ran = true })
		g.Expect(ran).To(BeTrue(), "outside a handler the work runs at once")
	})
}

func TestAJobRunsAtItsPhaseThenEveryIntervalAndNotWhileItsNodeIsDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := NewWithT(t)
		background, stop := context.WithCancel(context.Background())
		p := &Platform{loop: newWallLoop(), jobs: newJobs(), background: background, stop: stop}
		p.loop.begin()
		var passes []time.Duration
		p.schedule(&job{
			name: "sync", interval: time.Minute, phase: 17 * time.Second,
			pass:    func(context.Context) { passes = append(passes, p.loop.Now()) },
			blocked: func(down map[string]bool, _ func(a, b string) bool) bool { return down["s3-east"] },
		})

		time.Sleep(2*time.Minute + 30*time.Second)
		synctest.Wait()
		g.Expect(passes).To(Equal([]time.Duration{17 * time.Second, 77 * time.Second, 137 * time.Second}))

		p.jobs.nodeDown("s3-east")
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		g.Expect(passes).To(HaveLen(3), "no pass while the endpoint is down")

		p.jobs.nodeUp("s3-east")
		time.Sleep(time.Minute)
		synctest.Wait()
		g.Expect(passes).To(HaveLen(4))
		g.Expect(passes[3]).To(Equal(317*time.Second), "back on its phase")

		p.stop()
		p.workers.Wait()
	})
}
