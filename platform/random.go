package platform

import "math/rand/v2"

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
