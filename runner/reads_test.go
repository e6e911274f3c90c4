package runner

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/reports"
)

// readingFake is the fake platform with readers: each read answers, after
// a millisecond, the newest write acknowledged so far, or the value
// staleValue says.
type readingFake struct {
	*fakePlatform
	configs    []platform.ReadConfig
	newest     uint64
	staleValue func(now time.Duration) (uint64, bool)
}

func (f *readingFake) build(cfg platform.Config) (platform.Platform, error) {
	f.cfg = cfg
	return f, nil
}

func (f *readingFake) Reader(cfg platform.ReadConfig, done platform.ReadCompletions) (platform.Reader, error) {
	f.configs = append(f.configs, cfg)
	return fakeReader{f, done}, nil
}

type fakeReader struct {
	f    *readingFake
	done platform.ReadCompletions
}

func (r fakeReader) Read(read uint64) {
	value := platform.ReadNothing
	for op, o := range r.f.outcomes {
		if o == platform.Acked && (value == platform.ReadNothing || op > value) {
			value = op
		}
	}
	if r.f.staleValue != nil {
		if v, ok := r.f.staleValue(r.f.now); ok {
			value = v
		}
	}
	r.f.At(r.f.now+time.Millisecond, platform.HandlerFunc(func(at time.Duration) {
		r.done.ReadCompleted(read, platform.Acked, value, "mongo-east-1a", at)
	}))
}

var _ = Describe("read workloads", func() {
	It("issue rate x duration reads through the platform's reader, with the workload's settings, and report them", func() {
		sc := parse(header + `
workloads:
  - {service: mongo, rate: 100, arrival: constant}
  - {service: mongo, op: read, rate: 50, arrival: constant, read_preference: nearest, read_preference_tags: [{region: us-east-1}], read_concern: majority, timeout: 3s}
`)
		fake := &readingFake{fakePlatform: newFake()}
		// From 5 s the reads return the write issued at 1 s: stale.
		fake.staleValue = func(now time.Duration) (uint64, bool) { return 100, now >= 5*time.Second }
		rep, err := Run(context.Background(), sc, fake.build, Options{Seed: 1})
		Expect(err).NotTo(HaveOccurred())

		Expect(fake.configs).To(Equal([]platform.ReadConfig{{Service: "mongo", Preference: "nearest",
			TagSets: []map[string]string{{"region": "us-east-1"}}, Concern: "majority", Timeout: 3 * time.Second}}))
		Expect(fake.cfg.Workloads).To(HaveLen(1), "the platform's write clients do not include the reads")
		mongo := rep.Services["mongo"]
		Expect(mongo.Acked).To(BeEquivalentTo(1000))
		Expect(mongo.Reads).NotTo(BeNil())
		Expect(mongo.Reads.OK + mongo.Reads.Stale).To(BeEquivalentTo(500))
		Expect(mongo.Reads.Stale).To(BeNumerically("~", 250, 1))
		Expect(mongo.Reads.ServedBy).To(Equal(map[string]int64{"mongo-east-1a": 500}))
		Expect(rep.Verdict).To(Equal(reports.VerdictPass), "the baseline bounds no read")
	})

	It("stops at bring-up, saying so, on a platform that cannot read", func() {
		sc := parse(header + `
workloads:
  - {service: mongo, rate: 100}
  - {service: mongo, op: read, rate: 10}
`)
		_, err := Run(context.Background(), sc, newFake().build, Options{})
		var runErr *Error
		Expect(err).To(BeAssignableToTypeOf(runErr))
		Expect(err.(*Error).Phase).To(Equal(reports.PhaseBringUp))
		Expect(err).To(MatchError(ContainSubstring("read workload on mongo: the fake platform cannot read mongo")))
		Expect(err).To(MatchError(platform.ErrUnknownService))
	})
})
