package simulator

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
)

var _ = Describe("a read-back asked in batches", func() {
	// The runner asks about a few million writes at a time and the models
	// reuse one presence bitset across the batches: the answer must be the
	// one a single question gets, and anything that happens between two
	// read-backs (here a write, then a kill of the primary) must show.
	It("answers as one question does, and sees what happened since", func() {
		for _, service := range []string{"mongo", "logs", "artifacts"} {
			s, _ := newTestSim(nil, 3, nil, platform.WorkloadConfig{Service: "mongo", WriteConcern: "majority"}, platform.WorkloadConfig{Service: "logs"}, platform.WorkloadConfig{Service: "artifacts"})
			drive(s, service, 0, 7*time.Millisecond, 20*time.Second)
			Expect(s.Run(context.Background(), 30*time.Second)).To(Succeed())
			client, err := s.Client(service)
			Expect(err).NotTo(HaveOccurred())
			ids := make([]uint64, 2860) // 20 s / 7 ms, and a few never written
			for i := range ids {
				ids[i] = uint64(i)
			}
			whole := make([]bool, len(ids))
			Expect(client.ReadBack(context.Background(), ids, whole)).To(Succeed())
			Expect(whole[:2800]).NotTo(ContainElement(false), "%s: every write of the first 20 s is held", service)
			Expect(whole[2858:]).To(HaveEach(false), "%s: ids never written are not", service)
			batched := make([]bool, len(ids))
			for lo := 0; lo < len(ids); lo += 97 {
				hi := min(lo+97, len(ids))
				Expect(client.ReadBack(context.Background(), ids[lo:hi], batched[lo:hi])).To(Succeed())
			}
			Expect(batched).To(Equal(whole), service)

			// A write after the first read-back is seen by the next.
			client.Write(5000)
			Expect(s.Run(context.Background(), 40*time.Second)).To(Succeed())
			late := []bool{false}
			Expect(client.ReadBack(context.Background(), []uint64{5000}, late)).To(Succeed())
			Expect(late[0]).To(BeTrue(), "%s: a write made since the last read-back", service)
		}
	})
})
