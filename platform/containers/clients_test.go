package containers

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
)

// These run in a synctest bubble: the workers block on a fake adapter and
// the loop's wall clock is fake, so no test sleeps for real.

type completion struct {
	op      uint64
	outcome platform.Outcome
	at      time.Duration
}

type completions struct{ got []completion } // touched only on the loop

func (c *completions) Completed(op uint64, outcome platform.Outcome, at time.Duration) {
	c.got = append(c.got, completion{op, outcome, at})
}
func (c *completions) Observed(platform.Event) {}

func testPlatform(s settings) (*Platform, *completions) {
	sink := &completions{}
	background, stop := context.WithCancel(context.Background())
	p := &Platform{
		cfg:  platform.Config{Completions: sink, Events: sink},
		set:  s,
		loop: newWallLoop(), background: background, stop: stop,
	}
	p.loop.begin()
	return p, sink
}

func defaultTestSettings() settings {
	s, err := parseSettings(nil)
	if err != nil {
		panic(err)
	}
	return s
}

func TestPooledClientDeliversEachOutcomeOnTheLoopAtTheTimeItArrived(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := NewWithT(t)
		s := defaultTestSettings()
		s.clientWorkers = 2
		p, sink := testPlatform(s)
		write := func(ctx context.Context, op uint64) platform.Outcome {
			time.Sleep(time.Duration(op) * 100 * time.Millisecond)
			return platform.Acked
		}
		c := p.newPooledClient(platform.WorkloadConfig{Timeout: 10 * time.Second}, write, nil)

		c.Write(3)
		c.Write(1)
		g.Expect(p.loop.Run(t.Context(), time.Second)).To(Succeed())
		p.stop()
		p.workers.Wait()

		g.Expect(sink.got).To(Equal([]completion{{1, platform.Acked, 100 * time.Millisecond}, {3, platform.Acked, 300 * time.Millisecond}}))
	})
}

func TestPooledClientBoundsAWriteByTheTimeoutCountedFromWhenItWasIssued(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := NewWithT(t)
		s := defaultTestSettings()
		s.clientWorkers = 1
		p, sink := testPlatform(s)
		// The adapter answers Failed when its deadline passed before it
		// could send, as the real ones do.
		write := func(ctx context.Context, op uint64) platform.Outcome {
			if ctx.Err() != nil {
				return platform.Failed
			}
			select {
			case <-ctx.Done():
				return platform.Unknown
			case <-time.After(3 * time.Second):
				return platform.Acked
			}
		}
		c := p.newPooledClient(platform.WorkloadConfig{Timeout: 2 * time.Second}, write, nil)

		c.Write(1) // holds the only worker until its 2 s run out
		c.Write(2) // waited in the queue for all of its 2 s
		g.Expect(p.loop.Run(t.Context(), 5*time.Second)).To(Succeed())
		p.stop()
		p.workers.Wait()

		g.Expect(sink.got).To(Equal([]completion{{1, platform.Unknown, 2 * time.Second}, {2, platform.Failed, 2 * time.Second}}))
	})
}

type fakeBulk struct {
	mu      sync.Mutex
	batches [][]uint64
	answer  platform.Outcome
}

func (f *fakeBulk) bulk(_ context.Context, ops []uint64, outcomes []platform.Outcome) {
	f.mu.Lock()
	f.batches = append(f.batches, slices.Clone(ops))
	f.mu.Unlock()
	time.Sleep(50 * time.Millisecond)
	for i := range outcomes {
		outcomes[i] = f.answer
	}
}

func TestLogTierAcknowledgesAnEventOnlyAfterElasticsearchAcknowledgedIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := NewWithT(t)
		s := defaultTestSettings()
		s.clientWorkers, s.logsBatchSize, s.logsFlushInterval = 8, 3, 200*time.Millisecond
		p, sink := testPlatform(s)
		es := &fakeBulk{answer: platform.Failed}
		c := p.newLogsClient(platform.WorkloadConfig{Timeout: 10 * time.Second}, es.bulk, nil)

		for op := range uint64(4) {
			c.Write(op)
		}
		g.Expect(p.loop.Run(t.Context(), time.Second)).To(Succeed())
		p.stop()
		p.workers.Wait()

		g.Expect(es.batches).To(Equal([][]uint64{{0, 1, 2}, {3}}), "a full batch goes at once, the rest after the flush interval")
		g.Expect(sink.got).To(ConsistOf(
			completion{0, platform.Failed, 50 * time.Millisecond},
			completion{1, platform.Failed, 50 * time.Millisecond},
			completion{2, platform.Failed, 50 * time.Millisecond},
			completion{3, platform.Failed, 250 * time.Millisecond},
		))
	})
}

func TestLogTierAcknowledgingOnReceiptAcksBeforeElasticsearchAnswers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := NewWithT(t)
		s := defaultTestSettings()
		s.logsAckOnReceipt = true
		p, sink := testPlatform(s)
		es := &fakeBulk{answer: platform.Failed}
		c := p.newLogsClient(platform.WorkloadConfig{Timeout: 10 * time.Second}, es.bulk, nil)

		c.Write(7)
		g.Expect(p.loop.Run(t.Context(), time.Second)).To(Succeed())
		p.stop()
		p.workers.Wait()

		g.Expect(sink.got).To(Equal([]completion{{7, platform.Acked, 0}}))
		g.Expect(es.batches).To(Equal([][]uint64{{7}}), "the event is still sent")
	})
}
