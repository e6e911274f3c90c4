package platform

import (
	"math/rand/v2"
	"time"
)

// RandomStream returns the random stream named name of the run whose root
// seed is seed: a PCG generator seeded with (seed, FNV-1a of name). Each
// purpose that draws random numbers (the simulator's election timers, the
// runner's operator delays, a workload's arrivals) takes its own named
// stream, so adding a stream, or drawing more from one, never shifts the
// numbers of another, and the same seed draws the same numbers on every
// platform.
func RandomStream(seed uint64, name string) *rand.Rand {
	return rand.New(rand.NewPCG(seed, streamKey(name)))
}

// Reseed points src at the stream RandomStream(seed, name) would draw
// from, name being the concatenation of parts: a caller that draws once
// from each of many streams (one per network link) reuses one generator
// instead of allocating one per stream. A rand.Rand over src then draws
// exactly what RandomStream's would.
func Reseed(src *rand.PCG, seed uint64, parts ...string) {
	src.Seed(seed, streamKey(parts...))
}

// streamKey is the 64-bit FNV-1a hash of the concatenated parts
// (https://datatracker.ietf.org/doc/html/draft-eastlake-fnv), computed
// here so that hashing allocates nothing; it equals hash/fnv's New64a.
func streamKey(parts ...string) uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	for _, p := range parts {
		for i := 0; i < len(p); i++ {
			h ^= uint64(p[i])
			h *= prime
		}
	}
	return h
}

// Sampler is implemented by a platform that draws values of its own from
// the run's seed (the simulator draws each link's latency), so that the
// report can list them beside the runner's draws. Keys name what was drawn
// (latency.NODE|NODE); values are as a scenario file writes them (30.9ms).
type Sampler interface {
	Sampled() map[string]string
}

// JobPhase is when a periodic job of the platform (the cross-region sync,
// the Elasticsearch snapshots) first fires in a run, both platforms
// drawing it the same way so that a scenario and seed run on the simulator
// and on containers see the same schedule: the pinned phase when the
// topology gives one (sync_phase, snapshot_phase), else a draw uniform in
// [0, interval) from the run's stream named stream (SyncPhaseStream,
// SnapshotPhaseStream). A schedule that has been running long before a
// drill begins is as likely to fire at any point of its interval. 0 when
// interval is not positive.
func JobPhase(seed uint64, pinned *Duration, interval time.Duration, stream string) time.Duration {
	if pinned != nil {
		return pinned.D()
	}
	if interval <= 0 {
		return 0
	}
	return time.Duration(RandomStream(seed, stream).Int64N(int64(interval)))
}

// SyncPhaseStream names the random stream of the phase of an S3 service's
// cross-region sync.
func SyncPhaseStream(service string) string { return "s3/sync-phase/" + service }

// SnapshotPhaseStream names the random stream of the phase of an
// Elasticsearch service's periodic snapshots.
func SnapshotPhaseStream(service string) string { return "elastic/snapshot-phase/" + service }
