package containers

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/platform/adapters/mongo"
)

// defaultWriteTimeout applies when a workload sets none; the scenario
// loader's default is the same.
const defaultWriteTimeout = 10 * time.Second

// newClient builds the workload client of one service.
func (p *Platform) newClient(ctx context.Context, w platform.WorkloadConfig) (platform.Client, error) {
	if w.Timeout <= 0 {
		w.Timeout = defaultWriteTimeout
	}
	if m, ok := p.mongos[w.Service]; ok {
		c, err := m.newWorkload(ctx, mongo.Options{
			WriteConcern:           w.WriteConcern,
			Timeout:                w.Timeout,
			ServerSelectionTimeout: p.set.serverSelectionTimeout,
		})
		if err != nil {
			return nil, fmt.Errorf("client %s: %w", w.Service, err)
		}
		return p.newPooledClient(w, c.write, c.readBack), nil
	}
	if s, ok := p.buckets[w.Service]; ok {
		return p.newPooledClient(w, s.write, s.readBack), nil
	}
	if e, ok := p.elastics[w.Service]; ok {
		return p.newLogsClient(w, e.bulk, e.readBack), nil
	}
	return nil, fmt.Errorf("client %s: %w", w.Service, platform.ErrUnknownService)
}

// pooledClient hands each write to a bounded pool of workers that call the
// adapter and post the outcome on the loop. A write that waited in the queue
// has less of its timeout left: the clock starts when the workload issued it.
type pooledClient struct {
	p        *Platform
	timeout  time.Duration
	queue    *opQueue
	readBack func(ctx context.Context, ids []uint64, present []bool) error
}

func (p *Platform) newPooledClient(w platform.WorkloadConfig, write func(context.Context, uint64) platform.Outcome, readBack func(context.Context, []uint64, []bool) error) *pooledClient {
	c := &pooledClient{p: p, timeout: w.Timeout, queue: newOpQueue(), readBack: readBack}
	for range p.set.clientWorkers {
		p.goBackground(func(ctx context.Context) {
			for {
				item, ok := c.queue.pop(ctx, nil)
				if !ok {
					return
				}
				writeCtx, cancel := context.WithDeadline(ctx, item.deadline)
				outcome := write(writeCtx, item.op)
				cancel()
				if ctx.Err() != nil {
					return // closing: the loop is gone
				}
				p.complete(item.op, outcome)
			}
		})
	}
	return c
}

// Write queues write op; it never blocks the loop.
func (c *pooledClient) Write(op uint64) {
	c.queue.push(newQueuedOp(op, c.timeout))
}

// ReadBack asks the service which writes are present.
func (c *pooledClient) ReadBack(ctx context.Context, ids []uint64, present []bool) error {
	return c.readBack(ctx, ids, present)
}

// logsClient is the log aggregation tier in front of Elasticsearch: it
// queues events and bulk-indexes them in batches (logs.batch_size, at most
// logs.flush_interval apart). By default an event is acknowledged only once
// Elasticsearch acknowledged its bulk item; with logs.ack_on_receipt it is
// acknowledged when queued, the tier's weaker variant.
type logsClient struct {
	p        *Platform
	bulk     func(ctx context.Context, ops []uint64, outcomes []platform.Outcome)
	readBack func(ctx context.Context, ids []uint64, present []bool) error
	timeout  time.Duration
	queue    *opQueue
}

func (p *Platform) newLogsClient(w platform.WorkloadConfig, bulk func(context.Context, []uint64, []platform.Outcome), readBack func(context.Context, []uint64, []bool) error) *logsClient {
	c := &logsClient{p: p, bulk: bulk, readBack: readBack, timeout: w.Timeout, queue: newOpQueue()}
	// Each flusher holds one batch in flight; a few let a stalled bulk
	// request not stop the others.
	flushers := max(1, p.set.clientWorkers/8)
	for range flushers {
		p.goBackground(c.flush)
	}
	return c
}

// Write queues event op.
func (c *logsClient) Write(op uint64) {
	if c.p.set.logsAckOnReceipt {
		c.p.complete(op, platform.Acked)
	}
	c.queue.push(newQueuedOp(op, c.timeout))
}

func (c *logsClient) flush(ctx context.Context) {
	size := c.p.set.logsBatchSize
	ops := make([]uint64, 0, size)
	outcomes := make([]platform.Outcome, size)
	for {
		first, ok := c.queue.pop(ctx, nil)
		if !ok {
			return
		}
		ops = append(ops[:0], first.op)
		deadline := first.deadline
		// The flush interval bounds how long the batch's oldest event waits,
		// counted from when it was written.
		window := time.NewTimer(time.Until(first.issued.Add(c.p.set.logsFlushInterval)))
		for len(ops) < size {
			next, ok := c.queue.pop(ctx, window.C)
			if !ok {
				break
			}
			ops = append(ops, next.op)
		}
		window.Stop()
		if ctx.Err() != nil {
			return
		}
		bulkCtx, cancel := context.WithDeadline(ctx, deadline)
		c.bulk(bulkCtx, ops, outcomes[:len(ops)])
		cancel()
		if ctx.Err() != nil || c.p.set.logsAckOnReceipt {
			continue
		}
		for i, op := range ops {
			c.p.complete(op, outcomes[i])
		}
	}
}

// ReadBack asks the cluster the tier writes to now (after a restore, the
// new one) which events are present.
func (c *logsClient) ReadBack(ctx context.Context, ids []uint64, present []bool) error {
	return c.readBack(ctx, ids, present)
}

type queuedOp struct {
	op       uint64
	issued   time.Time
	deadline time.Time
}

func newQueuedOp(op uint64, timeout time.Duration) queuedOp {
	now := time.Now()
	return queuedOp{op: op, issued: now, deadline: now.Add(timeout)}
}

// opQueue is an unbounded FIFO of writes shared by a client's workers, so
// that Write, on the loop, never blocks.
type opQueue struct {
	mu     sync.Mutex
	ops    []queuedOp
	signal chan struct{} // capacity 1: "ops may not be empty"
}

func newOpQueue() *opQueue { return &opQueue{signal: make(chan struct{}, 1)} }

func (q *opQueue) push(op queuedOp) {
	q.mu.Lock()
	q.ops = append(q.ops, op)
	q.mu.Unlock()
	q.notify()
}

func (q *opQueue) notify() {
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

// pop takes the oldest write, waiting until there is one, ctx ends or
// giveUp fires (nil: never).
func (q *opQueue) pop(ctx context.Context, giveUp <-chan time.Time) (queuedOp, bool) {
	for {
		q.mu.Lock()
		if len(q.ops) > 0 {
			op := q.ops[0]
			q.ops[0] = queuedOp{}
			q.ops = q.ops[1:]
			more := len(q.ops) > 0
			q.mu.Unlock()
			if more {
				q.notify() // wake the next worker
			}
			return op, true
		}
		q.mu.Unlock()
		select {
		case <-ctx.Done():
			return queuedOp{}, false
		case <-giveUp:
			return queuedOp{}, false
		case <-q.signal:
		}
	}
}
