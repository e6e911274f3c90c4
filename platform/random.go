package platform

import (
	"hash/fnv"
	"math/rand/v2"
)

// RandomStream returns the random stream named name of the run whose root
// seed is seed: a PCG generator seeded with (seed, FNV-1a of name). Each
// purpose that draws random numbers (the simulator's election timers, the
// runner's operator delays, a workload's arrivals) takes its own named
// stream, so adding a stream, or drawing more from one, never shifts the
// numbers of another, and the same seed draws the same numbers on every
// platform.
func RandomStream(seed uint64, name string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(name))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// Sampler is implemented by a platform that draws values of its own from
// the run's seed (the simulator draws each link's latency), so that the
// report can list them beside the runner's draws. Keys name what was drawn
// (latency.NODE|NODE); values are as a scenario file writes them (30.9ms).
type Sampler interface {
	Sampled() map[string]string
}
