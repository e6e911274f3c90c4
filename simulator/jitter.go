package simulator

import (
	"math/bits"
	"math/rand/v2"
	"time"

	"github.com/chaosdrill/chaosdrill/platform"
)

// jitter draws the extra delay of each write's trip (uniform in
// [0, net.jitter_max)) from a stream of the run's seed. It draws exactly
// what rand.Rand.Int64N(jitterMax) over platform.RandomStream(seed, name)
// would, but calls the PCG generator directly: every client write draws
// once (about 1.7 million draws an east-region-outage seed), and
// rand.Rand's call through its Source interface was about a tenth of the
// log tier's write.
type jitter struct {
	src rand.PCG
	max time.Duration // net.jitter_max; no jitter when not positive
}

// newJitter is the jitter stream name of the run's seed.
func (s *Sim) newJitter(name string) *jitter {
	j := &jitter{max: s.params.duration("net.jitter_max")}
	platform.Reseed(&j.src, s.cfg.Seed, name)
	return j
}

// draw returns the next delay, 0 without jitter (drawing nothing then, as
// the models never drew without jitter). The reduction to [0, max) is
// math/rand/v2's (Rand.uint64n, Lemire's multiply-and-reject), so the
// numbers are the same as Int64N's on every platform.
func (j *jitter) draw() time.Duration {
	if j.max <= 0 {
		return 0
	}
	n := uint64(j.max)
	if n&(n-1) == 0 {
		return time.Duration(j.src.Uint64() & (n - 1))
	}
	hi, lo := bits.Mul64(j.src.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(j.src.Uint64(), n)
		}
	}
	return time.Duration(hi)
}
