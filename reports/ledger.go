package reports

import (
	"encoding/binary"
	"errors"
	"iter"
	"math/bits"
	"slices"
	"sync"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

// Op is one client write as the history records it (Jepsen's invoke/complete
// pair folded into one row). Present is filled by the read-back after
// recovery. Ledger.Op and Ledger.All hand out copies: the ledger keeps its
// writes packed.
type Op struct {
	Service   uint16 // index into Ledger.Services
	Outcome   platform.Outcome
	Present   bool
	Invoked   time.Duration
	Completed time.Duration // zero while Pending
}

// Ledger is the history of a run: every write issued, by op id (issue
// order, from 0), and every read, by read id (the index in Reads). Both are
// recorded as they are issued, so each service's writes and reads are in
// issue order.
//
// Writes are kept in chunks of chunkOps: a chunk holds full records while
// any of its writes is pending, and once all have completed and more than
// UnpackedChunks others are complete too, the oldest is packed into one
// byte per write (service and outcome) and two varints (the gap since the
// previous write's invocation and the latency, in nanoseconds), about 8
// bytes a write instead of 24, plus one bit for Present. A run's memory
// then grows by what the checker needs, not by a record per write, while a
// run of up to about two million writes (a sweep's seed) never pays for
// packing and unpacking.
type Ledger struct {
	Services []string
	Reads    []ReadOp
	// Members names the members that served reads (ReadOp.Member - 1).
	Members []string

	chunks  []*opChunk
	n       uint64   // writes invoked
	present []uint64 // bit id: the read-back found write id
	issued  []int64  // writes invoked per service
	spare   *[chunkOps]Op
	scratch []byte // packing buffer, reused
	// complete lists the chunks whose writes have all completed and that
	// are not packed yet, oldest first.
	complete []uint64
	// unpacked is how many of them stay so (UnpackedChunks unless a spec
	// set it, see export_test.go).
	unpacked    int
	unpackedSet bool
}

// UnpackedChunks is how many chunks of completed writes the ledger keeps
// as full records before it packs the oldest: 512 chunks, 2,097,152
// writes, 48 MiB. Packing and reading a packed write back cost about 50 ns
// (BenchmarkBuild, BenchmarkScenario); a sweep's seed of up to two million
// writes (east-region-outage's 40 minutes issue 1.7 million) is spared
// them, and a long run's memory still grows by about 8 bytes a write
// beyond these 48 MiB.
const UnpackedChunks = 512

// ReadOp is one client read as the history records it: when it was issued,
// what came of it and, when it succeeded, its value (the op id of the
// newest write it saw, or platform.ReadNothing) and the member that served
// it. 24 bytes, so that a long run can keep one per read.
type ReadOp struct {
	Invoked time.Duration
	Value   uint64
	Service uint16 // index into Ledger.Services
	Outcome platform.Outcome
	Member  uint8 // 1 + index into Ledger.Members; 0 when not known
}

// chunkOps is how many writes share a chunk (a power of two, so that a
// write's chunk is its id shifted).
const (
	chunkShift = 12
	chunkOps   = 1 << chunkShift
)

// opChunk is chunkOps consecutive writes: open (full records, some
// pending) or packed (meta and times, all completed).
type opChunk struct {
	open *[chunkOps]Op
	// services holds open[i].Service again, while open: a read-back scans
	// each service's ids out of 8 KiB a chunk instead of 96.
	services *[chunkOps]uint16
	pending  int
	// Packed form: write i's service<<2 | outcome is meta[i], or its
	// low/high nibble meta[i/2] when narrow (every service below 4: the
	// common topology, half a byte a write). times holds, per write,
	// uvarint(invoked - previous write's invocation) then varint(completed
	// - completion of the service's previous write in the chunk): a bulk
	// or an oplog batch acknowledges many writes at one instant, so that
	// is often one byte where the latency takes four. Both start from
	// base, the invocation of the chunk's first write.
	meta   []uint8
	narrow bool
	base   time.Duration
	times  []byte
}

// packable reports whether every write of the ledger fits the packed
// form: outcomes in two bits and at most 64 services.
func packable(service uint16, outcome platform.Outcome) bool {
	return service < 64 && outcome >= 0 && outcome < 4
}

// Len is the number of writes invoked.
func (l *Ledger) Len() uint64 { return l.n }

// Issued is the number of writes invoked on a service.
func (l *Ledger) Issued(service uint16) int64 {
	if int(service) < len(l.issued) {
		return l.issued[service]
	}
	return 0
}

// ServiceIndex returns the index of a service, adding it if new.
func (l *Ledger) ServiceIndex(name string) uint16 {
	for i, s := range l.Services {
		if s == name {
			return uint16(i)
		}
	}
	l.Services = append(l.Services, name)
	return uint16(len(l.Services) - 1)
}

// Invoke records a new write and returns its op id. Calls come in the order
// the writes are issued, at non-decreasing times.
func (l *Ledger) Invoke(service uint16, at time.Duration) uint64 {
	id := l.n
	slot := id & (chunkOps - 1)
	if slot == 0 {
		c := &opChunk{open: l.spare}
		l.spare = nil
		if c.open == nil {
			c.open = releasedRecords.Get().(*[chunkOps]Op)
		}
		c.services = releasedServices.Get().(*[chunkOps]uint16)
		l.chunks = append(l.chunks, c)
		l.present = append(l.present, make([]uint64, chunkOps/64)...)
	}
	c := l.chunks[id>>chunkShift]
	c.open[slot] = Op{Service: service, Invoked: at}
	c.services[slot] = service
	c.pending++
	l.n++
	for int(service) >= len(l.issued) {
		l.issued = append(l.issued, 0)
	}
	l.issued[service]++
	return id
}

// releasedRecords and releasedServices hold the record and service arrays
// of released ledgers for new chunks, their contents stale (a ledger reads
// a slot only once Invoke has written it): a sweep runs seed after seed,
// and the first touch of fresh arrays' pages was about a tenth of an
// east-region-outage profile.
var (
	releasedRecords  = sync.Pool{New: func() any { return new([chunkOps]Op) }}
	releasedServices = sync.Pool{New: func() any { return new([chunkOps]uint16) }}
)

// Release empties the ledger and hands its records over for the next
// ledger's writes. Call it when nothing will read the ledger again (the
// runner does once the report is built); it stays usable, as an empty
// ledger.
func (l *Ledger) Release() {
	for _, c := range l.chunks {
		if c.open != nil {
			releasedRecords.Put(c.open)
			releasedServices.Put(c.services)
		}
	}
	if l.spare != nil {
		releasedRecords.Put(l.spare)
	}
	*l = Ledger{}
}

// Complete records a write's outcome. A second completion of the same op is
// ignored: the first answer is what the client saw.
func (l *Ledger) Complete(id uint64, outcome platform.Outcome, at time.Duration) {
	if id >= l.n || outcome == platform.Pending {
		return
	}
	c := l.chunks[id>>chunkShift]
	if c.open == nil {
		return // packed: every write in it has completed
	}
	op := &c.open[id&(chunkOps-1)]
	if op.Outcome != platform.Pending {
		return
	}
	op.Outcome = outcome
	op.Completed = at
	c.pending--
	if c.pending == 0 && (id>>chunkShift) < l.n>>chunkShift {
		l.complete = append(l.complete, id>>chunkShift)
		limit := UnpackedChunks
		if l.unpackedSet {
			limit = l.unpacked
		}
		for len(l.complete) > limit {
			l.pack(l.chunks[l.complete[0]])
			l.complete = l.complete[1:]
		}
	}
}

// pack turns a full chunk whose writes have all completed into its packed
// form, when every write fits it.
func (l *Ledger) pack(c *opChunk) {
	c.narrow = true
	for i := range c.open {
		op := &c.open[i]
		if !packable(op.Service, op.Outcome) || op.Completed < op.Invoked || (i > 0 && op.Invoked < c.open[i-1].Invoked) {
			return
		}
		c.narrow = c.narrow && op.Service < 4
	}
	if c.narrow {
		c.meta = make([]uint8, chunkOps/2)
		for i := range c.meta {
			first, second := &c.open[2*i], &c.open[2*i+1]
			c.meta[i] = uint8(first.Service)<<2 | uint8(first.Outcome) | (uint8(second.Service)<<2|uint8(second.Outcome))<<4
		}
	} else {
		c.meta = make([]uint8, chunkOps)
		for i := range c.meta {
			c.meta[i] = uint8(c.open[i].Service)<<2 | uint8(c.open[i].Outcome)
		}
	}
	c.base = c.open[0].Invoked
	if cap(l.scratch) < maxPackedTimes {
		l.scratch = make([]byte, 0, maxPackedTimes)
	}
	buf := l.scratch[:0]
	prev := c.base
	var completed [64]time.Duration
	for i := range completed {
		completed[i] = c.base
	}
	for i := range c.open {
		op := &c.open[i]
		buf = binary.AppendUvarint(buf, uint64(op.Invoked-prev))
		buf = binary.AppendVarint(buf, int64(op.Completed-completed[op.Service&63]))
		prev = op.Invoked
		completed[op.Service&63] = op.Completed
	}
	// A copy of exactly the bytes used: the scratch buffer is sized for
	// the worst case, and a clipped slice would keep all of it.
	c.times = slices.Clone(buf)
	l.scratch = buf
	l.spare, c.open = c.open, nil
	releasedServices.Put(c.services)
	c.services = nil
}

// maxPackedTimes is the most bytes a chunk's times can take: two 10-byte
// varints a write.
const maxPackedTimes = chunkOps * 2 * binary.MaxVarintLen64

// SetPresent records what the read-back found of write id.
func (l *Ledger) SetPresent(id uint64, present bool) {
	if id >= l.n {
		return
	}
	if present {
		l.present[id/64] |= 1 << (id % 64)
	} else {
		l.present[id/64] &^= 1 << (id % 64)
	}
}

// Service is the service write id was issued to.
func (l *Ledger) Service(id uint64) uint16 {
	c := l.chunks[id>>chunkShift]
	if c.open != nil {
		return c.open[id&(chunkOps-1)].Service
	}
	return uint16(c.metaAt(int(id&(chunkOps-1))) >> 2)
}

// metaAt is packed write i's service<<2 | outcome.
func (c *opChunk) metaAt(i int) uint8 {
	if c.narrow {
		return c.meta[i/2] >> (4 * (i % 2)) & 15
	}
	return c.meta[i]
}

// AppendIDs appends the ids of service's writes, from id from on, to dst
// until dst is full (len(dst) == cap(dst)) or the writes end; it returns
// dst and the id to go on from. It reads the packed service bytes without
// decoding the times, so a read-back asks for a long run's ids in one pass.
func (l *Ledger) AppendIDs(dst []uint64, service uint16, from uint64) ([]uint64, uint64) {
	id := from
	for id < l.n && len(dst) < cap(dst) {
		c := l.chunks[id>>chunkShift]
		first := id &^ (chunkOps - 1)
		end := min(first+chunkOps, l.n)
		if c.open != nil {
			// As many writes as dst has room for, so that it can take them all.
			until := min(end, id+uint64(cap(dst)-len(dst)))
			dst = appendOpenIDs(dst, c.services[id-first:until-first], service, id)
			id = until
			continue
		}
		meta := uint8(service) << 2
		if id == first && c.narrow && cap(dst)-len(dst) >= chunkOps {
			dst = c.appendNarrowIDs(dst, meta, first)
			id = end
			continue
		}
		for ; id < end && len(dst) < cap(dst); id++ {
			if c.metaAt(int(id-first))&^3 == meta {
				dst = append(dst, id)
			}
		}
	}
	return dst, id
}

// appendOpenIDs appends the ids of service's writes among those from id
// first on, given their services and room in dst for all of them; like
// appendNarrowIDs, without a branch per write.
func appendOpenIDs(dst []uint64, services []uint16, service uint16, first uint64) []uint64 {
	room := dst[len(dst) : len(dst)+len(services)]
	n := 0
	for i, s := range services {
		room[n] = first + uint64(i)
		n += oneIf(s == service)
	}
	return dst[:len(dst)+n]
}

// appendNarrowIDs appends the ids of the writes of a whole narrow packed
// chunk whose service bits are meta, given room in dst for all of them.
// Each id is stored and kept or not by its match, with no branch on it:
// services interleave, so a branch would mispredict on most writes.
func (c *opChunk) appendNarrowIDs(dst []uint64, meta uint8, first uint64) []uint64 {
	room := dst[len(dst) : len(dst)+chunkOps]
	n := 0
	for i, pair := range c.meta {
		id := first + uint64(2*i)
		room[n] = id
		n += oneIf(pair&0xc == meta)
		room[n&(chunkOps-1)] = id + 1 // n <= 2i+1 < chunkOps: the mask only spares a bounds check
		n += oneIf(pair>>4&0xc == meta)
	}
	return dst[:len(dst)+n]
}

// oneIf is 1 when b holds, else 0.
func oneIf(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Present reports whether the read-back found write id.
func (l *Ledger) Present(id uint64) bool {
	return id < l.n && l.present[id/64]&(1<<(id%64)) != 0
}

// Op returns write id (0 <= id < Len). A packed write is found by decoding
// its chunk up to it; iterate with All or Chunks to read many.
func (l *Ledger) Op(id uint64) Op {
	c := l.chunks[id>>chunkShift]
	slot := int(id & (chunkOps - 1))
	var op Op
	if c.open != nil {
		op = c.open[slot]
	} else {
		ops := make([]Op, slot+1)
		c.decode(ops)
		op = ops[slot]
	}
	op.Present = l.Present(id)
	return op
}

// All yields every write in id order.
func (l *Ledger) All() iter.Seq2[uint64, Op] {
	return func(yield func(uint64, Op) bool) {
		for first, ops := range l.Chunks() {
			for i, op := range ops {
				if !yield(first+uint64(i), op) {
					return
				}
			}
		}
	}
}

// Chunks yields the writes in id order a chunk at a time: the id of the
// first and the chunk's writes, Present set, in a buffer that the next
// step reuses (a copy of eachChunk's records, which may be the ledger's
// own). A pass over a long history costs one call per 4,096 writes
// instead of one per write.
func (l *Ledger) Chunks() iter.Seq2[uint64, []Op] {
	return func(yield func(uint64, []Op) bool) {
		buf := make([]Op, chunkOps)
		_ = l.eachChunk(func(first uint64, records []Op, present []uint64) error {
			ops := buf[:len(records)]
			copy(ops, records)
			for i := range ops {
				ops[i].Present = present[i/64]&(1<<(i%64)) != 0
			}
			if !yield(first, ops) {
				return errStopped
			}
			return nil
		})
	}
}

// errStopped ends eachChunk when Chunks' consumer stops.
var errStopped = errors.New("stopped")

// eachChunk calls fn with the writes in id order a chunk at a time,
// without copying an open chunk's records: the id
// of the first, the records (an open chunk's own, which fn must not
// change, or a packed one's decoded into a buffer the next call reuses),
// Present left false, and the presence bits from the first on (write
// first+i is present when bit i%64 of present[i/64] is set). It stops at
// fn's first error and returns it. The report's pass reads 1.7M writes of
// a seed this way.
func (l *Ledger) eachChunk(fn func(first uint64, ops []Op, present []uint64) error) error {
	var buf []Op
	for ci, c := range l.chunks {
		first := uint64(ci) << chunkShift
		n := min(l.n-first, chunkOps)
		var ops []Op
		if c.open != nil {
			ops = c.open[:n:n]
		} else {
			if buf == nil {
				buf = make([]Op, chunkOps)
			}
			ops = buf[:n]
			c.decode(ops)
		}
		if err := fn(first, ops, l.present[first/64:]); err != nil {
			return err
		}
	}
	return nil
}

// Last is the invocation time of the newest write; false when there is
// none.
func (l *Ledger) Last() (time.Duration, bool) {
	if l.n == 0 {
		return 0, false
	}
	return l.Op(l.n - 1).Invoked, true
}

// decode fills ops with the first len(ops) writes of a packed chunk
// (Present left false), in one pass over its bytes.
func (c *opChunk) decode(ops []Op) {
	var completed [64]time.Duration // of each service's previous write
	for i := range completed {
		completed[i] = c.base
	}
	at, times := c.base, c.times
	for i := range ops {
		gap, n := uvarint(times)
		times = times[n:]
		sinceCompleted, n := varint(times)
		times = times[n:]
		at += time.Duration(gap)
		meta := c.metaAt(i)
		service := meta >> 2 & 63
		completed[service] += time.Duration(sinceCompleted)
		ops[i] = Op{Service: uint16(service), Outcome: platform.Outcome(meta & 3), Invoked: at, Completed: completed[service]}
	}
}

// InvokeRead records a new read and returns its read id. Calls come in the
// order the reads are issued.
func (l *Ledger) InvokeRead(service uint16, at time.Duration) uint64 {
	l.Reads = append(l.Reads, ReadOp{Service: service, Invoked: at, Value: platform.ReadNothing})
	return uint64(len(l.Reads) - 1)
}

// maxMembers is how many distinct members a ledger names; reads served by
// others record no member.
const maxMembers = 255

// CompleteRead records a read's outcome, its value and the member that
// served it ("" when not known). A second completion is ignored.
func (l *Ledger) CompleteRead(id uint64, outcome platform.Outcome, value uint64, member string) {
	r := &l.Reads[id]
	if r.Outcome != platform.Pending {
		return
	}
	r.Outcome = outcome
	if outcome != platform.Acked {
		return
	}
	r.Value = value
	if member == "" {
		return
	}
	for i, name := range l.Members {
		if name == member {
			r.Member = uint8(i + 1)
			return
		}
	}
	if len(l.Members) < maxMembers {
		l.Members = append(l.Members, member)
		r.Member = uint8(len(l.Members))
	}
}

// uvarint decodes the uvarint at the start of b as binary.Uvarint does,
// returning it and its length. A value of up to 8 bytes with 8 bytes to
// read (every one in a packed chunk but the last few) is decoded from one
// load without a branch per byte: the lengths vary from write to write, so
// binary.Uvarint's loop mispredicts, and decoding is most of the report's
// pass over a long history.
func uvarint(b []byte) (uint64, int) {
	if len(b) >= 8 {
		word := binary.LittleEndian.Uint64(b)
		// A byte below 0x80 ends the value.
		if ends := ^word & 0x8080808080808080; ends != 0 {
			last := bits.TrailingZeros64(ends) // the bit that ends it: 8n-1
			word &= uint64(2)<<last - 1
			x := word&0x7f | word>>1&(0x7f<<7) | word>>2&(0x7f<<14) | word>>3&(0x7f<<21) |
				word>>4&(0x7f<<28) | word>>5&(0x7f<<35) | word>>6&(0x7f<<42) | word>>7&(0x7f<<49)
			return x, last/8 + 1
		}
	}
	return binary.Uvarint(b)
}

// varint decodes the varint at the start of b as binary.Varint does.
func varint(b []byte) (int64, int) {
	ux, n := uvarint(b)
	return int64(ux>>1) ^ -int64(ux&1), n
}
