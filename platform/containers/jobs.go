package containers

import (
	"context"
	"sync"
	"time"
)

// jobs are the harness's periodic jobs that stand for the platform's own
// (the cross-region bucket sync, the Elasticsearch snapshots), and what
// keeps them from running: a job stops at the instant a fault takes down a
// node it needs, or cuts the link between two of them, and starts again
// once that is undone. A pass under way at the fault instant is cancelled
// then, so nothing it would have copied after the fault counts.
//
// Each job runs every interval from its phase: the topology's pinned
// sync_phase or snapshot_phase, else one drawn from the run's seed by
// platform.JobPhase, the simulator's own draw, so that a scenario and seed
// see the same schedule on both platforms, and ticks do not coincide with
// the whole-minute times faults are written at (which would let a pass
// starting at the fault instant copy everything before the region went).
type jobs struct {
	mu   sync.Mutex
	down map[string]bool    // nodes a fault took down
	cut  map[[2]string]bool // node pairs a partition cut apart
	list []*job
}

type job struct {
	name     string
	interval time.Duration
	phase    time.Duration // first pass at this scenario time
	pass     func(ctx context.Context)
	// blocked reports whether the job cannot run with these nodes down and
	// these pairs cut.
	blocked func(down map[string]bool, cut func(a, b string) bool) bool

	stopped bool               // guarded by jobs.mu
	cancel  context.CancelFunc // the pass under way; guarded by jobs.mu
}

func newJobs() *jobs {
	return &jobs{down: map[string]bool{}, cut: map[[2]string]bool{}}
}

func (j *jobs) isCut(a, b string) bool {
	if a > b {
		a, b = b, a
	}
	return j.cut[[2]string{a, b}]
}

// update recomputes which jobs are stopped and cancels the pass of each job
// that stops now. Callers hold j.mu.
func (j *jobs) update() {
	for _, job := range j.list {
		stopped := job.blocked(j.down, j.isCut)
		if stopped && !job.stopped && job.cancel != nil {
			job.cancel()
			job.cancel = nil
		}
		job.stopped = stopped
	}
}

// isDown reports whether a fault took node down.
func (j *jobs) isDown(node string) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.down[node]
}

// nodeDown marks node down (a kill, stop or pause was issued on it).
func (j *jobs) nodeDown(node string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.down[node] = true
	j.update()
}

// nodeUp marks node up again (it started or resumed).
func (j *jobs) nodeUp(node string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	delete(j.down, node)
	j.update()
}

// partition marks every pair across a and b cut (cut true) or healed.
func (j *jobs) partition(a, b []string, cut bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, x := range a {
		for _, y := range b {
			pair := [2]string{min(x, y), max(x, y)}
			if cut {
				j.cut[pair] = true
			} else {
				delete(j.cut, pair)
			}
		}
	}
	j.update()
}

// add registers a job; it does not run until run is called.
func (j *jobs) add(jb *job) {
	j.mu.Lock()
	defer j.mu.Unlock()
	jb.stopped = jb.blocked(j.down, j.isCut)
	j.list = append(j.list, jb)
}

// begin starts one pass of jb unless it is stopped, with a context the
// next fault on its nodes cancels; ok is false when it is stopped.
func (j *jobs) begin(ctx context.Context, jb *job) (context.Context, func(), bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if jb.stopped {
		return nil, nil, false
	}
	passCtx, cancel := context.WithCancel(ctx)
	jb.cancel = cancel
	return passCtx, func() {
		j.mu.Lock()
		jb.cancel = nil
		j.mu.Unlock()
		cancel()
	}, true
}

// schedule runs jb on its phase and interval, on the platform's clock, until
// the platform closes.
func (p *Platform) schedule(jb *job) {
	p.jobs.add(jb)
	p.goBackground(func(ctx context.Context) {
		next := jb.phase
		for {
			wait := time.NewTimer(max(0, next-p.loop.Now()))
			select {
			case <-ctx.Done():
				wait.Stop()
				return
			case <-wait.C:
			}
			// A pass longer than the interval skips the ticks it
			// overran, keeping the phase.
			for next <= p.loop.Now() {
				next += jb.interval
			}
			passCtx, end, ok := p.jobs.begin(ctx, jb)
			if !ok {
				continue
			}
			jb.pass(passCtx)
			end()
		}
	})
}
