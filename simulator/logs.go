package simulator

import (
	"math/rand/v2"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

const (
	logstashSettings   = "https://www.elastic.co/guide/en/logstash/current/logstash-settings-file.html"
	fluentBitRetries   = "https://docs.fluentbit.io/manual/administration/scheduling-and-retries"
	fluentBitBuffering = "https://docs.fluentbit.io/manual/administration/backpressure"
)

var logsParameters = []paramDef{
	integer("logs.bulk_size", platform.DefaultLogsBulkSize,
		"events the log tier sends to Elasticsearch in one bulk request (Logstash pipeline.batch.size)", logstashSettings),
	duration("logs.flush_interval", platform.DefaultLogsFlushInterval,
		"longest the tier waits to fill a bulk before sending what it has (Logstash pipeline.batch.delay)", logstashSettings),
	boolean("logs.ack_on_receipt", platform.DefaultLogsAckOnReceipt,
		"acknowledge an event to the app as soon as the tier has it, instead of once Elasticsearch acknowledged it; events the tier then loses were acknowledged",
		"https://www.elastic.co/guide/en/logstash/current/persistent-queues.html"),
	integer("logs.retry_limit", 1,
		"times the tier retries a bulk Elasticsearch rejected or could not take (no master, no active primary, no node answering) before discarding its events (Fluent Bit Retry_Limit; a large number stands for no_limits)",
		fluentBitRetries),
	duration("logs.retry_wait", 5*time.Second,
		"base of the tier's backoff: the wait before retry n is drawn uniformly between this and min(retry_cap, retry_wait * 2^n) (Fluent Bit scheduler.base)",
		fluentBitRetries),
	duration("logs.retry_cap", 2000*time.Second,
		"longest wait before a retry, however many came before (Fluent Bit scheduler.cap)",
		fluentBitRetries),
	float("logs.buffer_mb", 256,
		"MB of events the tier holds while they wait for Elasticsearch (received, not yet indexed or discarded); when it is full the tier pauses its input and refuses new events, as Fluent Bit does at Mem_Buf_Limit. Fluent Bit sets no default; 256 MB is its storage.max_chunks_up default (128) times its 2 MB chunk, a reasoned default",
		fluentBitBuffering),
}

// tierEvent is one app event the tier received.
type tierEvent struct {
	id      uint64
	issued  time.Duration
	arrival time.Duration
	shard   uint32
	done    bool // the app has its answer
}

// bulk is one bulk request in flight. It covers the events lo..hi (absolute
// indices) or, for a retry, the listed ones. due is when its response
// reaches the app; never while a shard it writes to is stalled.
type bulk struct {
	sent    time.Duration
	due     time.Duration
	seq     uint64
	lo, hi  uint64
	items   []uint64
	retry   bool
	attempt int
	shards  uint64 // bit s set when it writes to shard s (all bits past 64 shards)
}

func (b *bulk) first() uint64 {
	if b.retry {
		return b.items[0]
	}
	return b.lo
}

type refusal struct {
	op uint64
	at time.Duration
}

// logTier is the log aggregation tier in front of the cluster: it takes
// events from apps, bulk-indexes them and answers each app once
// Elasticsearch acknowledged its event (or on receipt, if so configured).
//
// It runs on the app hosts of its cluster's region, not on the
// Elasticsearch nodes: when every node of the cluster is down it keeps
// taking events into its buffer and retries them with a capped backoff,
// discarding a bulk's events once it has retried retry_limit times (Fluent
// Bit's scheduler); when the buffer is full it refuses new events. It is
// lost, with everything it buffered, only with its region (every node the
// topology places there down).
type logTier struct {
	m       *elasticModel
	cluster *esCluster
	lost    bool

	ackOnReceipt bool
	bulkSize     int
	flush        time.Duration
	retryLimit   int
	retryWait    time.Duration
	retryCap     time.Duration
	// bufferEvents is the buffer's capacity; buffered the events in it.
	bufferEvents int
	buffered     int
	primaryWait  time.Duration
	timeout      time.Duration
	appLatency   time.Duration
	jitter       *jitter
	backoff      *rand.Rand

	// events holds the events from absolute index base on; open is the
	// first not yet in a bulk, cursor the first whose answer may still be
	// owed to the app.
	events      []tierEvent
	base        uint64
	open        uint64
	cursor      uint64
	lastArrival time.Duration

	pending []*bulk // min-heap on (due, seq)
	seq     uint64
	free    []*bulk

	refused     []refusal
	refusedHead int

	// compactAt is the length events must reach before compact looks again
	// after a look that found a retry still holding the oldest events:
	// looking on every call would cost the number of bulks in flight per
	// event (issue 17.7).
	compactAt int
}

func newLogTier(m *elasticModel) *logTier {
	p := m.s.params
	return &logTier{
		m:            m,
		cluster:      m.cluster,
		ackOnReceipt: p.boolean("logs.ack_on_receipt"),
		bulkSize:     max(1, p.integer("logs.bulk_size")),
		flush:        p.duration("logs.flush_interval"),
		retryLimit:   p.integer("logs.retry_limit"),
		retryWait:    p.duration("logs.retry_wait"),
		retryCap:     p.duration("logs.retry_cap"),
		bufferEvents: int(p.float("logs.buffer_mb") * 1e6 / float64(max(1, p.integer("es.event_bytes")))),
		primaryWait:  p.duration("es.primary_wait_timeout"),
		timeout:      m.s.workload(m.spec.Name).Timeout,
		appLatency:   m.s.topo.EffectiveLatency().InterZone.D(),
		jitter:       m.s.newJitter("logs/jitter"),
		backoff:      m.s.rand("logs/backoff"),
	}
}

func (t *logTier) event(abs uint64) *tierEvent { return &t.events[abs-t.base] }
func (t *logTier) end() uint64                 { return t.base + uint64(len(t.events)) }

// write takes an app's event; apps run in the tier's region. due is the
// first moment the event may give advance something to do: when it closes
// a bulk (the first of one, at the flush interval; the last, at once) or
// becomes the oldest event whose app waits (its answer on receipt or at
// its timeout); a later event of a bulk changes nothing before the bulk
// closes, and the app of an event behind an unanswered one hears after it.
func (t *logTier) write(op uint64) (due time.Duration) {
	now := t.m.s.now
	one := t.appLatency + t.jitter.draw()
	if t.lost || t.buffered >= t.bufferEvents {
		// Nothing listens (connection refused), or the buffer is full and
		// the input paused.
		at := now + 2*one
		if n := len(t.refused); n > t.refusedHead && t.refused[n-1].at > at {
			at = t.refused[n-1].at
		}
		t.refused = append(t.refused, refusal{op: op, at: at})
		return at
	}
	arrival := max(now+one, t.lastArrival)
	t.lastArrival = arrival
	t.buffered++
	t.events = append(t.events, tierEvent{id: op, issued: now, arrival: arrival, shard: uint32(shardOf(op, len(t.cluster.shards)))})
	due = t.answerAt(&t.events[len(t.events)-1])
	switch t.end() - 1 - t.open {
	case 0:
		due = min(due, arrival+t.flush)
		if t.bulkSize == 1 {
			due = arrival
		}
	case uint64(t.bulkSize) - 1:
		due = arrival
	}
	return due
}

// advance sends the bulks whose time has come and delivers, in time order,
// every answer due by now. next is when it next has something to do.
func (t *logTier) advance(now time.Duration) (next time.Duration) {
	nextBulk := t.sendBulks(now)
	for {
		const (
			none = iota
			fromRefused
			fromBulk
			fromCursor
		)
		source, at := none, never
		if t.refusedHead < len(t.refused) {
			source, at = fromRefused, t.refused[t.refusedHead].at
		}
		if len(t.pending) > 0 && t.pending[0].due < at {
			source, at = fromBulk, t.pending[0].due
		}
		if ct, ok := t.cursorAt(); ok && ct < at {
			source, at = fromCursor, ct
		}
		if source == none || at > now {
			next = min(at, nextBulk)
			break
		}
		switch source {
		case fromRefused:
			r := t.refused[t.refusedHead]
			t.m.s.complete(r.op, platform.Failed, r.at)
			t.refusedHead++
			if t.refusedHead == len(t.refused) {
				t.refused, t.refusedHead = t.refused[:0], 0
			}
		case fromBulk:
			t.deliver(t.popBulk())
		case fromCursor:
			e := t.event(t.cursor)
			if t.ackOnReceipt {
				t.m.s.complete(e.id, platform.Acked, at)
			} else {
				t.m.s.complete(e.id, platform.Unknown, at)
			}
			e.done = true
			t.cursor++
		}
	}
	t.compact()
	return next
}

// cursorAt is when the app of the oldest unanswered event hears: on receipt,
// or at its timeout.
func (t *logTier) cursorAt() (time.Duration, bool) {
	for t.cursor < t.end() {
		e := t.event(t.cursor)
		if e.done {
			t.cursor++
			continue
		}
		return t.answerAt(e), true
	}
	return 0, false
}

// answerAt is when the app of e hears unless its bulk answers first: on
// receipt, or at its timeout.
func (t *logTier) answerAt(e *tierEvent) time.Duration {
	if t.ackOnReceipt {
		return e.arrival + t.appLatency
	}
	return e.issued + t.timeout
}

// sendBulks cuts the received events into bulks: one is sent when it is
// full or when its first event has waited the flush interval. next is when
// the next bulk closes (never if no event waits for one).
func (t *logTier) sendBulks(now time.Duration) (next time.Duration) {
	for t.open < t.end() {
		first := t.event(t.open)
		closeAt := first.arrival + t.flush
		if last := t.open + uint64(t.bulkSize) - 1; last < t.end() {
			closeAt = min(closeAt, t.event(last).arrival)
		}
		if first.arrival > now || closeAt > now {
			return closeAt
		}
		b := t.newBulk()
		b.sent, b.lo, b.hi = closeAt, t.open, t.open
		for b.hi < t.end() && b.hi-b.lo < uint64(t.bulkSize) && t.event(b.hi).arrival <= closeAt {
			b.shards |= shardBit(t.event(b.hi).shard)
			b.hi++
		}
		t.open = b.hi
		t.send(b)
	}
	return never
}

func shardBit(s uint32) uint64 {
	if s >= 64 {
		return ^uint64(0)
	}
	return 1 << s
}

func (t *logTier) newBulk() *bulk {
	if n := len(t.free); n > 0 {
		b := t.free[n-1]
		t.free = t.free[:n-1]
		items := b.items[:0]
		*b = bulk{items: items}
		return b
	}
	return &bulk{}
}

func (t *logTier) send(b *bulk) {
	t.seq++
	b.seq = t.seq
	b.due = t.dueOf(b)
	t.pending = append(t.pending, b)
	t.up(len(t.pending) - 1)
}

// dueOf is when the response to b reaches the app, given the shards' gates
// now: the slowest shard it writes to, a stalled one holding it back until
// the state changes, an unavailable one until the bulk timeout.
func (t *logTier) dueOf(b *bulk) time.Duration {
	c := t.cluster
	if t.refusedByCluster() {
		return b.sent + 2*t.appLatency
	}
	done := b.sent
	unavailable := false
	for s, sh := range c.shards {
		if b.shards&shardBit(uint32(s)) == 0 {
			continue
		}
		switch sh.gate {
		case gateStalled:
			return never
		case gateUnavailable:
			unavailable = true
		default:
			done = max(done, max(b.sent, sh.readyAt)+sh.path)
		}
	}
	if unavailable {
		done = max(done, b.sent+t.primaryWait)
	}
	return done + t.appLatency
}

// deliver applies a bulk's response: events of shards with an active
// primary are indexed (and acknowledged to their apps); the others failed
// and are retried, up to the retry limit, after a backoff.
func (t *logTier) deliver(b *bulk) {
	c := t.cluster
	refused := t.refusedByCluster()
	var retry *bulk
	apply := func(abs uint64) {
		e := t.event(abs)
		sh := c.shards[e.shard]
		if sh.gate == gateOpen && !refused {
			t.buffered--
			sh.log.append(e.id)
			if !t.ackOnReceipt && !e.done {
				t.m.s.complete(e.id, platform.Acked, b.due)
				e.done = true
			}
			return
		}
		if b.attempt >= t.retryLimit {
			t.buffered-- // discarded
			return
		}
		if retry == nil {
			retry = t.newBulk()
			retry.retry, retry.attempt = true, b.attempt+1
		}
		retry.items = append(retry.items, abs)
		retry.shards |= shardBit(e.shard)
	}
	if b.retry {
		for _, abs := range b.items {
			apply(abs)
		}
	} else {
		for abs := b.lo; abs < b.hi; abs++ {
			apply(abs)
		}
	}
	if retry != nil {
		retry.sent = b.due + t.backoffBefore(retry.attempt)
		t.send(retry)
	}
	t.free = append(t.free, b)
}

// backoffBefore draws the wait before retry n (n >= 1) as Fluent Bit's
// scheduler does: uniform between the base and min(cap, base * 2^n).
func (t *logTier) backoffBefore(n int) time.Duration {
	if t.retryWait <= 0 {
		return 0
	}
	upper := t.retryCap
	if n < 32 && t.retryWait<<n > 0 && t.retryWait<<n < upper {
		upper = t.retryWait << n
	}
	if upper <= t.retryWait {
		return t.retryWait
	}
	return t.retryWait + time.Duration(t.backoff.Int64N(int64(upper-t.retryWait)+1))
}

// refusedByCluster reports whether no node of the cluster accepts a
// connection (every one killed, stopped or still booting): a bulk fails at
// once instead of waiting for a master.
func (t *logTier) refusedByCluster() bool {
	for i, n := range t.cluster.nodes {
		if n.sn.state == nodePaused || t.cluster.alive(i) {
			return false
		}
	}
	return true
}

// clusterChanged recomputes when each bulk in flight completes, after a
// change of the shards' gates.
func (t *logTier) clusterChanged() {
	if t.lost {
		if !t.regionDown() {
			t.lost = false
		}
		return
	}
	if t.regionDown() {
		t.lose()
		return
	}
	for _, b := range t.pending {
		b.due = t.dueOf(b)
	}
	for i := len(t.pending)/2 - 1; i >= 0; i-- {
		t.down(i)
	}
}

// regionDown reports whether every node the topology places in the tier's
// region is down: the region is lost, and the app hosts the tier runs on
// with it.
func (t *logTier) regionDown() bool {
	for _, n := range t.m.s.nodes {
		if n.Region == t.cluster.region && n.state != nodeDown {
			return false
		}
	}
	return true
}

// lose drops everything the tier held: apps still waiting hear that the
// connection broke.
func (t *logTier) lose() {
	now := t.m.s.now
	for abs := t.cursor; abs < t.end(); abs++ {
		if e := t.event(abs); !e.done {
			t.m.s.complete(e.id, platform.Unknown, now)
			e.done = true
		}
	}
	t.events, t.base, t.open, t.cursor = t.events[:0], t.end(), t.end(), t.end()
	t.free = append(t.free, t.pending...)
	t.pending = t.pending[:0]
	t.buffered, t.compactAt = 0, 0
	t.lost = true
}

// attach points the tier at a restored cluster; a lost tier starts afresh
// there.
func (t *logTier) attach(c *esCluster) {
	t.cluster = c
	t.lost = false
}

// compact drops the events nothing refers to any more.
func (t *logTier) compact() {
	live := min(t.open, t.cursor)
	if live-t.base < 4096 || (live-t.base)*2 < uint64(len(t.events)) || len(t.events) < t.compactAt {
		return
	}
	for _, b := range t.pending {
		live = min(live, b.first())
	}
	if (live-t.base)*2 < uint64(len(t.events)) {
		// A retry holds most of the events: look again once they doubled.
		t.compactAt = 2 * len(t.events)
		return
	}
	t.compactAt = 0
	n := copy(t.events, t.events[live-t.base:])
	t.events = t.events[:n]
	t.base = live
}

// --- the bulk heap ---

func (t *logTier) less(i, j int) bool {
	a, b := t.pending[i], t.pending[j]
	if a.due != b.due {
		return a.due < b.due
	}
	return a.seq < b.seq
}

func (t *logTier) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !t.less(i, parent) {
			return
		}
		t.pending[i], t.pending[parent] = t.pending[parent], t.pending[i]
		i = parent
	}
}

func (t *logTier) down(i int) {
	n := len(t.pending)
	for {
		l, r, small := 2*i+1, 2*i+2, i
		if l < n && t.less(l, small) {
			small = l
		}
		if r < n && t.less(r, small) {
			small = r
		}
		if small == i {
			return
		}
		t.pending[i], t.pending[small] = t.pending[small], t.pending[i]
		i = small
	}
}

func (t *logTier) popBulk() *bulk {
	top := t.pending[0]
	last := len(t.pending) - 1
	t.pending[0] = t.pending[last]
	t.pending[last] = nil
	t.pending = t.pending[:last]
	if last > 0 {
		t.down(0)
	}
	return top
}
