package reports

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/scenarios"
)

// crowdedRun is a 10-minute run of two services whose faults and steps
// crowd one another: a rolling restart of four logs nodes a second apart
// (each back up 2 s later, the last never), a mongo primary kill at the
// same moment, mongo runbook steps, an outage that ends with writes back
// at 2m10s, and mongo writes lost just before the kill.
func crowdedRun() *Run {
	topology := &platform.Topology{Name: "small", Regions: []platform.Region{{Name: "east", Zones: []string{"a", "b"}}}, Services: []platform.ServiceSpec{
		{Name: "mongo", Kind: platform.KindMongo, Members: []platform.MongoMember{{Name: "m1", Zone: "a"}, {Name: "m2", Zone: "b"}, {Name: "m3", Zone: "a"}}},
		{Name: "logs", Kind: platform.KindElastic, Nodes: []platform.NodePlacement{{Name: "e1", Zone: "a"}, {Name: "e2", Zone: "b"}, {Name: "e3", Zone: "a"}, {Name: "e4", Zone: "b"}}},
	}}
	ledger := &Ledger{}
	mongo, logs := ledger.ServiceIndex("mongo"), ledger.ServiceIndex("logs")
	kill := 2 * time.Minute
	for at := time.Duration(0); at < 10*time.Minute; at += 100 * time.Millisecond {
		id := ledger.Invoke(mongo, at)
		switch {
		case at < kill-time.Second:
			ledger.Complete(id, platform.Acked, at+5*time.Millisecond)
			ledger.SetPresent(uint64(id), true)
		case at < kill:
			ledger.Complete(id, platform.Acked, at+5*time.Millisecond) // lost
		case at < kill+10*time.Second:
			ledger.Complete(id, platform.Failed, at+time.Second)
		default:
			ledger.Complete(id, platform.Acked, at+5*time.Millisecond)
			ledger.SetPresent(uint64(id), true)
		}
		id = ledger.Invoke(logs, at)
		ledger.Complete(id, platform.Acked, at+3*time.Millisecond)
		ledger.SetPresent(uint64(id), true)
	}
	var faults []FaultRecord
	for i, node := range []string{"e1", "e2", "e3", "e4"} {
		at := kill + time.Duration(i)*time.Second
		f := FaultRecord{Name: "restart-" + node + "-for-an-upgrade", Kind: scenarios.FaultRestart, Target: "node:" + node, Services: []string{"logs"}, Nodes: []string{node}, Injected: true, At: at}
		if i < 3 {
			back := at + 2*time.Second
			f.HealedAt = &back
		}
		faults = append(faults, f)
	}
	faults = append(faults, FaultRecord{Name: "kill-primary", Kind: scenarios.FaultKill, Target: "role:mongo:primary", Services: []string{"mongo"}, Nodes: []string{"m1"}, Injected: true, At: kill})
	done := func(d time.Duration) *time.Duration { return &d }
	return &Run{
		Scenario: "crowded", Platform: "sim", Seed: 1, Duration: 10 * time.Minute, Topology: topology, Ledger: ledger, Faults: faults,
		Steps: []StepRecord{
			{Name: "promote-a-member", Action: platform.ActionMongoForceReconfigure, Service: "mongo", Started: true, StartedAt: kill + time.Second, DoneAt: done(kill + 9*time.Second)},
			{Name: "add-a-member", Action: platform.ActionMongoAddMember, Service: "mongo", Started: true, StartedAt: kill + 2*time.Second, DoneAt: done(kill + 30*time.Second)},
			{Name: "reindex-the-logs", Action: platform.ActionMongoAddMember, Service: "logs", Started: true, StartedAt: kill + 3*time.Second, DoneAt: done(kill + 20*time.Second)},
		},
	}
}

// This file is inside the package, to measure the charts' geometry; ginkgo
// is not dot-imported here because its Report would hide this package's.

// labelBox is the room a chart label takes: its row's baseline and its
// extent.
type labelBox struct {
	Text        string
	Y, From, To float64
}

func laneLabels(c chartView) []labelBox {
	var boxes []labelBox
	for _, t := range c.Texts {
		if strings.HasPrefix(t.Class, "lane-") && !strings.HasSuffix(t.Text, "lost acks") {
			boxes = append(boxes, labelBox{t.Text, t.Y, t.X, t.X + textWidth(t.Text)})
		}
	}
	return boxes
}

func chartFor(r *Report, service string) chartView {
	return buildChart(r, service)
}

func textsOfClass(c chartView, class string) []svgText {
	var out []svgText
	for _, t := range c.Texts {
		if t.Class == class {
			out = append(out, t)
		}
	}
	return out
}

var _ = ginkgo.Describe("report.html charts", func() {
	var r *Report
	ginkgo.BeforeEach(func() { r = Build(crowdedRun()) })

	plotX := func(sec float64) float64 {
		return chartLeft + sec/600*(chartWidth-chartRight-chartLeft)
	}

	ginkgo.It("draws a restart as the short span it takes, and one never back up to the end", func() {
		c := chartFor(r, "logs")
		widths := map[string]float64{}
		for _, l := range c.Lanes {
			if strings.HasPrefix(l.Title, "fault restart-") {
				widths[strings.Fields(l.Title)[1]] = l.W
			}
		}
		Expect(widths).To(HaveLen(4))
		twoSeconds := plotX(2) - plotX(0)
		Expect(widths["restart-e1-for-an-upgrade:"]).To(BeNumerically("~", math.Max(twoSeconds, laneMinWidth), 0.01))
		Expect(widths["restart-e1-for-an-upgrade:"]).To(BeNumerically("<", 5))
		Expect(widths["restart-e4-for-an-upgrade:"]).To(BeNumerically("~", plotX(600)-plotX(123), 0.01), "never back up: to the end of the run")
	})

	ginkgo.It("shows on each service's chart only the faults and steps that touch it", func() {
		mongo, logs := chartFor(r, "mongo"), chartFor(r, "logs")
		names := func(c chartView) []string {
			var out []string
			for _, b := range laneLabels(c) {
				out = append(out, b.Text)
			}
			return out
		}
		Expect(names(mongo)).To(ContainElements("kill-primary", "promote-a-member", "add-a-member"))
		Expect(names(mongo)).NotTo(ContainElement(ContainSubstring("restart-")))
		Expect(names(mongo)).NotTo(ContainElement("reindex-the-logs"))
		Expect(names(logs)).To(ContainElements("restart-e1-for-an-upgrade", "reindex-the-logs"))
		Expect(names(logs)).NotTo(ContainElement("promote-a-member"))
		Expect(names(logs)).NotTo(ContainElement(HavePrefix("kill-primary")), "logs is measured from its own first restart")
	})

	ginkgo.It("marks the fault a service is measured from even when it hit another service", func() {
		run := crowdedRun()
		run.Faults = run.Faults[4:] // only the mongo kill: logs is measured from it
		c := chartFor(Build(run), "logs")
		Expect(laneLabels(c)).To(ContainElement(HaveField("Text", "kill-primary (measured from)")))
	})

	ginkgo.It("draws a fault whose injection was refused as an instant saying so, not as a fault in force", func() {
		run := crowdedRun()
		run.Faults = append(run.Faults, FaultRecord{Name: "kill-new-member", Kind: scenarios.FaultKill, Target: "node:m9", Services: []string{"mongo"},
			At: 4 * time.Minute, Error: `no node "m9"`, NotRehearsed: `could not be injected: no node "m9"`})
		c := chartFor(Build(run), "mongo")
		Expect(laneLabels(c)).To(ContainElement(HaveField("Text", "kill-new-member: not injected")))
		for _, l := range c.Lanes {
			if strings.Contains(l.Title, "kill-new-member") {
				Expect(l.W).To(Equal(laneMinWidth))
				Expect(l.Class).To(Equal("lane-refused"))
			}
		}
		for _, b := range c.Bands {
			Expect(b.Title).NotTo(ContainSubstring("kill-new-member"))
		}
	})

	ginkgo.It("marks the instant writes came back (the RTO) and the lost writes at their acknowledgement times", func() {
		s := r.Services["mongo"]
		Expect(s.RTO).NotTo(BeNil())
		Expect(s.Lost).To(BeEquivalentTo(10))
		c := chartFor(r, "mongo")
		var rto []svgLine
		for _, m := range c.Marks {
			if m.Class == "rto" {
				rto = append(rto, m)
			}
		}
		Expect(rto).To(HaveLen(1))
		Expect(rto[0].X1).To(BeNumerically("~", plotX(*s.FaultAt+*s.RTO), 0.01))
		Expect(laneLabels(c)).To(ContainElement(HaveField("Text", "outage: RTO "+formatSeconds(*s.RTO))))
		Expect(laneLabels(c)).To(ContainElement(HaveField("Text", "10 lost (RPO "+formatSeconds(s.RPO)+")")))
		Expect(c.Rug).NotTo(BeEmpty())
		for _, tick := range c.Rug {
			Expect(tick.X1).To(SatisfyAll(BeNumerically(">=", plotX(119)), BeNumerically("<=", plotX(120))))
		}
	})

	ginkgo.It("never lets two labels overlap, nor run off the chart", func() {
		for _, service := range []string{"mongo", "logs"} {
			boxes := laneLabels(chartFor(r, service))
			Expect(len(boxes)).To(BeNumerically(">=", 3))
			for i, a := range boxes {
				Expect(a.From).To(BeNumerically(">=", 0))
				Expect(a.To).To(BeNumerically("<=", chartWidth))
				for _, b := range boxes[i+1:] {
					if a.Y == b.Y {
						Expect(a.To <= b.From || b.To <= a.From).To(BeTrue(), "%s: %q and %q overlap", service, a.Text, b.Text)
					}
				}
			}
		}
	})

	ginkgo.It("puts time ticks on round times and says what the count axis counts", func() {
		c := chartFor(r, "logs")
		ticks := textsOfClass(c, "tick")
		var times []string
		for _, t := range ticks {
			if t.Anchor == "middle" {
				times = append(times, t.Text)
			}
		}
		Expect(times).To(Equal([]string{"0", "1m", "2m", "3m", "4m", "5m", "6m", "7m", "8m", "9m", "10m"}))
		var counts []string
		for _, t := range ticks {
			if t.Anchor == "end" {
				counts = append(counts, t.Text)
			}
		}
		Expect(counts).To(Equal([]string{"0", "10", "20", "30", "40", "50"}), "5 s bars of 50 writes, on a round axis")
		Expect(textsOfClass(c, "axis-title")).To(ContainElement(HaveField("Text", "writes per 5s")))
	})

	ginkgo.It("lays report.html out to print whole: no scrolling box", func() {
		var buf bytes.Buffer
		Expect(WriteHTML(&buf, r)).To(Succeed())
		html := buf.String()
		Expect(html).NotTo(ContainSubstring("overflow"))
		Expect(html).NotTo(ContainSubstring("max-height"))
		Expect(html).To(ContainSubstring("@media print"))
		Expect(html).To(MatchRegexp(`<h2>Timeline</h2>\s*<table>`))
	})
})

var _ = ginkgo.Describe("chart helpers", func() {
	ginkgo.It("packs spans into rows where none overlaps another", func() {
		rng := rand.New(rand.NewPCG(1, 2))
		for round := 0; round < 200; round++ {
			spans := make([]span, 1+rng.IntN(40))
			for i := range spans {
				from := rng.Float64() * 900
				spans[i] = span{from, from + 3 + rng.Float64()*200}
			}
			rows := packRows(spans, 1000)
			for i, a := range spans {
				for j, b := range spans {
					if i < j && rows[i] == rows[j] {
						Expect(a.to+chartLabelGap <= b.from || b.to+chartLabelGap <= a.from).To(BeTrue(), "round %d: %v and %v on row %d", round, a, b, rows[i])
					}
				}
			}
		}
	})

	ginkgo.It("leaves out, rather than overlaps, what does not fit in the rows allowed", func() {
		spans := []span{{0, 100}, {10, 100}, {20, 100}}
		Expect(packRows(spans, 2)).To(Equal([]int{0, 1, -1}))
	})

	ginkgo.It("marks any span of time at a round step, labels at least 64 units apart", func() {
		for _, span := range []float64{0.7, 3, 45, 60, 90, 359, 360, 1500, 3600, 5400, 86400, 7 * 86400, 400 * 86400, 1e10} {
			ticks := timeTicks(span, 880)
			Expect(len(ticks)).To(BeNumerically(">=", 2), "span %v", span)
			step := ticks[1] - ticks[0]
			Expect(step*880/span).To(BeNumerically(">=", chartMinTickSpacing), "span %v", span)
			round := false
			for _, s := range timeTickSteps {
				round = round || math.Abs(step-s) < 1e-9
			}
			round = round || math.Mod(step, 86400) == 0
			Expect(round).To(BeTrue(), "span %v: step %v", span, step)
			Expect(ticks[len(ticks)-1]).To(BeNumerically("<=", span*(1+1e-9)))
		}
	})

	ginkgo.It("writes tick times the short way", func() {
		for seconds, want := range map[float64]string{0: "0", 0.5: "500ms", 30: "30s", 120: "2m", 90: "1m30s", 3600: "1h", 5400: "1h30m", 172800: "2d"} {
			Expect(formatTick(seconds)).To(Equal(want), fmt.Sprint(seconds))
		}
	})

	ginkgo.It("rounds a count axis up to steps of 1, 2, 2.5 or 5 times a power of ten", func() {
		for peak, want := range map[float64][2]float64{0: {1, 1}, 1: {1, 1}, 7: {8, 2}, 2500: {2500, 500}, 7500: {8000, 2000}, 123456: {125000, 25000}} {
			top, step := countAxis(peak, 5)
			Expect([2]float64{top, step}).To(Equal(want), fmt.Sprint(peak))
		}
	})
})
