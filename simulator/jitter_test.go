package simulator

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
)

var _ = Describe("jitter", func() {
	It("draws what rand.Rand.Int64N over the same stream draws", func() {
		// A power of two, the default, odd and huge bounds (the last makes
		// Lemire's rejection loop run).
		for _, bound := range []time.Duration{1, 1024, 200 * time.Microsecond, 7919, 1<<62 + 12345} {
			j := &jitter{max: bound}
			platform.Reseed(&j.src, 42, "mongo/jitter/mongo")
			want := platform.RandomStream(42, "mongo/jitter/mongo")
			for i := range 10000 {
				Expect(j.draw()).To(Equal(time.Duration(want.Int64N(int64(bound)))), "bound %d, draw %d", bound, i)
			}
		}
	})

	It("draws nothing without jitter", func() {
		j := &jitter{}
		platform.Reseed(&j.src, 7, "logs/jitter")
		Expect(j.draw()).To(BeZero())
		Expect(j.src.Uint64()).To(Equal(platform.RandomStream(7, "logs/jitter").Uint64()))
	})
})
