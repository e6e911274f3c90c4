package simulator

import (
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
)

// The network model of issue 9 ("real variance"): each link draws its
// latency once per run from its class's distribution (median and p99 per
// class), so that replication lag, and the writes a region loss takes with
// it, vary with the seed while one seed stays reproducible.
var _ = Describe("link latency", func() {
	node := func(s *Sim, name string) *simNode {
		n, err := s.node(name)
		mongoMust(err)
		return n
	}
	eastWest := func(seed uint64, t *platform.Topology) time.Duration {
		s, _ := newTestSim(t, seed, nil)
		return s.latency(node(s, east1a), node(s, west1a))
	}

	It("draws each link's latency from its class: the same on one seed, spread over seeds around the class's median", func() {
		var draws []time.Duration
		for seed := uint64(1); seed <= 200; seed++ {
			d := eastWest(seed, nil)
			Expect(eastWest(seed, nil)).To(Equal(d), "seed %d draws the same again", seed)
			draws = append(draws, d)
		}
		slices.Sort(draws)
		class := platform.DefaultLinkLatency.InterRegion
		Expect(draws[len(draws)/2]).To(BeNumerically("~", class.Median.D(), time.Millisecond))
		Expect(draws[len(draws)-1]).To(BeNumerically(">", class.Median.D()+2*time.Millisecond), "a tail above the median")
		// Draws are to the microsecond, so a few seeds of 200 coincide.
		Expect(len(slices.Compact(draws))).To(BeNumerically(">", 190), "seeds draw their own east-west latency")
	})

	It("keeps both directions of a link, and a pair's draw, independent of the other links", func() {
		s, _ := newTestSim(nil, 5, nil)
		a, b := node(s, east1a), node(s, west1a)
		Expect(s.latency(a, b)).To(Equal(s.latency(b, a)))
		// The same pair on a topology with one more service: its links
		// are named by their ends, so adding nodes draws nothing new for it.
		bigger := platform.Ion()
		bigger.Services = append(bigger.Services, platform.ServiceSpec{Name: "extra", Kind: platform.KindS3, PrimaryRegion: "us-west-1",
			Endpoints: []platform.S3Endpoint{{Name: "s3-extra-west", Region: "us-west-1"}}})
		Expect(eastWest(5, bigger)).To(Equal(s.latency(a, b)))
	})

	It("keeps a latency the topology gives plainly fixed on every seed, and records only what it drew", func() {
		fixed := platform.Ion()
		fixed.Latency.InterRegion = platform.LinkDelay{Median: platform.Duration(70 * time.Millisecond)}
		for seed := uint64(1); seed <= 5; seed++ {
			Expect(eastWest(seed, fixed)).To(Equal(70 * time.Millisecond))
		}
		s, _ := newTestSim(fixed, 1, nil)
		sampled := s.Sampled()
		Expect(sampled).NotTo(HaveKey("latency." + east1a + "|" + west1a))
		Expect(sampled).To(HaveKeyWithValue("latency."+east1a+"|"+east1b, s.latency(node(s, east1a), node(s, east1b)).String()))
		Expect(sampled).To(HaveKey("latency.client@us-east-1|" + east1a))
	})

	It("draws the latency of a client's path to a node, inter-zone in its own region and inter-region across", func() {
		s, _ := newTestSim(nil, 3, nil)
		east, west := node(s, east1a), node(s, west1a)
		near := s.clientLatency("us-east-1", east)
		far := s.clientLatency("us-east-1", west)
		Expect(near).To(BeNumerically("<", 10*time.Millisecond))
		Expect(far).To(BeNumerically(">", 20*time.Millisecond))
		Expect(s.Sampled()).To(HaveKeyWithValue("latency.client@us-east-1|"+west1a, far.String()))
	})

	It("varies the west standby's lag at a region loss, and so the writes it loses, with the seed", func() {
		const interval = time.Millisecond
		const fault = 20 * time.Second
		lags := map[time.Duration]bool{}
		lost := map[int]bool{}
		for seed := uint64(1); seed <= 10; seed++ {
			s, rec := mongoSim(seed, "majority", nil)
			drive(s, "mongo", 0, interval, fault+time.Second)
			mongoRunTo(s, fault)
			mongoMust(s.Faults().Kill(mongoCtx, east1a))
			mongoMust(s.Faults().Kill(mongoCtx, east1b))
			mongoRunTo(s, fault+15*time.Second)
			// The runbook promotes the standby, so that there is a
			// primary to read back from.
			actions := newMongoActions()
			mongoMust(s.StartAction(mongoCtx, platform.Action{Name: "promote", Action: platform.ActionMongoForceReconfigure, Params: map[string]string{"promote": west1a}}, actions))
			mongoRunTo(s, fault+time.Minute)
			Expect(actions.errs).To(HaveKeyWithValue("promote", BeNil()))
			for _, e := range rec.eventsOf(platform.EventReplicationLag) {
				if e.Node == west1a && e.At == fault {
					lag, err := time.ParseDuration(e.Detail)
					mongoMust(err)
					lags[lag] = true
				}
			}
			lost[len(mongoLost(s, rec))] = true
		}
		// With writes 1 ms apart, writes evenly spaced: only the drawn
		// latency moves the lag.
		Expect(len(lags)).To(BeNumerically(">=", 5))
		Expect(len(lost)).To(BeNumerically(">=", 3))
	})
})
