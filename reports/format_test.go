package reports_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/reports"
)

var _ = Describe("times as chaosdrill prints them", func() {
	It("are rounded to the millisecond, never truncated; a span under a millisecond to the microsecond", func() {
		Expect(reports.FormatDuration(3*time.Minute + 31731700*time.Microsecond)).To(Equal("3m31.732s"))
		Expect(reports.FormatDuration(2*time.Minute + 7205971210*time.Nanosecond)).To(Equal("2m7.206s"))
		Expect(reports.FormatDuration(420 * time.Microsecond)).To(Equal("420µs"))
		Expect(reports.FormatDuration(0)).To(Equal("0s"))
	})

	It("are rounded the same way inside an event's detail", func() {
		Expect(reports.RoundDurations("63366 events as of 2m7.20597121s")).To(Equal("63366 events as of 2m7.206s"))
		Expect(reports.RoundDurations("lag 33.346226ms on mongo-east-1b, s3-us-west-1")).To(Equal("lag 33ms on mongo-east-1b, s3-us-west-1"))
		Expect(reports.RoundDurations("3 members, 10s")).To(Equal("3 members, 10s"))
	})

	It("give a relative change a sign, and none to a change that rounds to nothing", func() {
		Expect(reports.FormatPercent(1)).To(Equal("+100%"))
		Expect(reports.FormatPercent(-0.004)).To(Equal("0%"))
		Expect(reports.FormatPercent(-0.25)).To(Equal("-25%"))
	})
})
