package containers

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
)

type readCompletion struct {
	read    uint64
	outcome platform.Outcome
	value   uint64
	member  string
	at      time.Duration
}

type readCompletions struct{ got []readCompletion } // touched only on the loop

func (c *readCompletions) ReadCompleted(read uint64, outcome platform.Outcome, value uint64, member string, at time.Duration) {
	c.got = append(c.got, readCompletion{read, outcome, value, member, at})
}

func TestPooledReaderDeliversEachReadOnTheLoopWithItsValueMemberAndArrival(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := NewWithT(t)
		s := defaultTestSettings()
		s.clientWorkers = 2
		p, _ := testPlatform(s)
		sink := &readCompletions{}
		// The adapter stands in for the driver: the first read is slow and
		// sees write 41 on east-1b; the second outlives its 1 s timeout.
		var calls atomic.Int32
		read := func(ctx context.Context) (platform.Outcome, uint64, string) {
			if calls.Add(1) == 1 {
				time.Sleep(300 * time.Millisecond)
				return platform.Acked, 41, "mongo-east-1b"
			}
			<-ctx.Done()
			return platform.Unknown, platform.ReadNothing, ""
		}
		r := p.newPooledReader(time.Second, read, sink)

		r.Read(0)
		synctest.Wait() // the first worker has taken read 0
		r.Read(1)
		g.Expect(p.loop.Run(t.Context(), 2*time.Second)).To(Succeed())
		p.stop()
		p.workers.Wait()

		g.Expect(sink.got).To(Equal([]readCompletion{
			{0, platform.Acked, 41, "mongo-east-1b", 300 * time.Millisecond},
			{1, platform.Unknown, platform.ReadNothing, "", time.Second},
		}))
	})
}
