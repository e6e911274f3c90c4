package platform_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.yaml.in/yaml/v3"

	"github.com/chaosdrill/chaosdrill/platform"
)

var _ = Describe("durations in a scenario", func() {
	// A user who writes a duration too long for the clock has written a
	// well-formed value; the error must say it is too long, not that it is
	// not a duration (a breaker trial's 99999999h).
	It("says a well-formed duration too long for the clock overflows, and a malformed one is malformed", func() {
		var d platform.Duration
		err := yaml.Unmarshal([]byte(`"99999999h"`), &d)
		Expect(err).To(MatchError(ContainSubstring(`"99999999h" overflows: the longest duration the clock holds is 2562047h0m0s`)))
		_, err = parseDistribution(`{median: 99999999h}`)
		Expect(err).To(MatchError(ContainSubstring("overflows")))

		Expect(yaml.Unmarshal([]byte(`"ten minutes"`), &d)).To(MatchError(ContainSubstring(`want a duration such as "30s"`)))
		Expect(yaml.Unmarshal([]byte(`"1h30m"`), &d)).To(Succeed())
		Expect(d.D()).To(Equal(90 * time.Minute))
		v, err := platform.ParseDuration("2562047h")
		Expect(err).NotTo(HaveOccurred())
		Expect(v).To(Equal(2562047 * time.Hour))
	})
})
