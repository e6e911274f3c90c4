package reports_test

import (
	"bytes"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/reports"
)

var _ = Describe("version skew and rolling upgrades in the report", func() {
	It("says how old the newest version was, and counts the writes an upgrade spoiled in its window", func() {
		ledger := &reports.Ledger{}
		// Acknowledged before the upgrade; one failed, one unknown and one
		// lost inside it; more failed after its window closed.
		writeSteadily(ledger, "logs", 0, 10*time.Second, time.Second, ackedFor(time.Millisecond))
		at := func(d time.Duration, o platform.Outcome, present bool) {
			id := ledger.Invoke(ledger.ServiceIndex("logs"), d)
			ledger.Complete(id, o, d+time.Millisecond)
			ledger.SetPresent(uint64(id), present)
		}
		at(12*time.Second, platform.Failed, false)
		at(13*time.Second, platform.Unknown, false)
		at(14*time.Second, platform.Acked, false)
		at(40*time.Second, platform.Failed, false)
		from, until := 11*time.Second, 30*time.Second
		run := &reports.Run{Scenario: "s", Duration: time.Minute, Ledger: ledger,
			VersionSkews: []platform.VersionSkew{{Step: "rebuild", Role: "elasticsearch", Region: "us-west-1", Key: "elasticsearch", Version: "1", Newest: "2",
				NewestPublishedAt: 5 * time.Second, At: 50 * time.Second}},
			Upgrades: []platform.Upgrade{{Step: "upgrade", Role: "elasticsearch", Service: "logs", Key: "elasticsearch", From: "1", To: "2",
				StartedAt: 10 * time.Second, MixedFrom: &from, MixedUntil: &until, Done: true,
				NodesRestarted: []platform.NodeRestart{{Node: "es-1", StoppedAt: 10 * time.Second, StartedAt: &from, HealthyAt: &until}}}},
		}
		r := reports.Build(run)
		Expect(r.VersionSkew).To(HaveLen(1))
		Expect(r.VersionSkew[0].NewestAgeSeconds).To(Equal(45.0))
		u := r.Upgrades[0]
		Expect(*u.MixedWindowSeconds).To(Equal(19.0))
		Expect([]int64{u.WritesFailed, u.WritesUnknown, u.WritesLost}).To(Equal([]int64{1, 1, 1}))
		Expect(u.Nodes).To(HaveLen(1))

		var md bytes.Buffer
		Expect(reports.WriteMarkdown(&md, r)).To(Succeed())
		Expect(md.String()).To(ContainSubstring("## Version skew"))
		Expect(md.String()).To(ContainSubstring("| elasticsearch | us-west-1 | elasticsearch | 1 | 2 | 45s |"))
		Expect(md.String()).To(ContainSubstring("## Rolling upgrades"))
	})
})
