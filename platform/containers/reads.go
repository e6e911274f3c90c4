package containers

import (
	"context"
	"fmt"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/platform/adapters/mongo"
)

// Reader makes the reader of a read workload on a mongo service: a
// replica-set client of its own with the workload's read preference and
// read concern (the driver's server selection and the server's read
// concern do the work), reconnected with the write workloads after a
// forced reconfiguration, and a pool of workers like the write clients'.
// It creates the index the reads walk; it is called after Start.
func (p *Platform) Reader(cfg platform.ReadConfig, done platform.ReadCompletions) (platform.Reader, error) {
	m, ok := p.mongos[cfg.Service]
	if !ok {
		return nil, fmt.Errorf("reader %s: read workloads are for mongo services: %w", cfg.Service, platform.ErrUnknownService)
	}
	query, err := mongo.NewReadQuery(mongo.ReadSettings{Preference: cfg.Preference, TagSets: cfg.TagSets, Concern: cfg.Concern})
	if err != nil {
		return nil, fmt.Errorf("reader %s: %w", cfg.Service, err)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultWriteTimeout
	}
	ctx, cancel := context.WithTimeout(p.background, p.opts.serviceTimeout)
	defer cancel()
	w, err := m.newWorkload(ctx, mongo.Options{Timeout: cfg.Timeout, ServerSelectionTimeout: p.set.serverSelectionTimeout})
	if err != nil {
		return nil, fmt.Errorf("reader %s: %w", cfg.Service, err)
	}
	if err := w.current.Load().EnsureReadIndex(ctx); err != nil {
		return nil, fmt.Errorf("%w: reader %s: %v", platform.ErrEnvironment, cfg.Service, err)
	}
	read := func(ctx context.Context) (platform.Outcome, uint64, string) {
		outcome, value, host := w.current.Load().ReadNewest(ctx, query)
		member := ""
		if host != "" {
			member = m.nodeOfHost(host)
		}
		return outcome, value, member
	}
	return p.newPooledReader(cfg.Timeout, read, done), nil
}

// pooledReader hands each read to a bounded pool of workers that run it
// and post the outcome on the loop, with the time it arrived. A read that
// waited in the queue has less of its timeout left: the clock starts when
// the workload issued it.
type pooledReader struct {
	timeout time.Duration
	queue   *opQueue
}

func (p *Platform) newPooledReader(timeout time.Duration, read func(context.Context) (platform.Outcome, uint64, string), done platform.ReadCompletions) *pooledReader {
	r := &pooledReader{timeout: timeout, queue: newOpQueue()}
	for range p.set.clientWorkers {
		p.goBackground(func(ctx context.Context) {
			for {
				item, ok := r.queue.pop(ctx, nil)
				if !ok {
					return
				}
				readCtx, cancel := context.WithDeadline(ctx, item.deadline)
				outcome, value, member := read(readCtx)
				cancel()
				if ctx.Err() != nil {
					return // closing: the loop is gone
				}
				at := p.loop.Now()
				p.loop.post(func(time.Duration) { done.ReadCompleted(item.op, outcome, value, member, at) })
			}
		})
	}
	return r
}

// Read queues read id; it never blocks the loop.
func (r *pooledReader) Read(id uint64) {
	r.queue.push(newQueuedOp(id, r.timeout))
}
