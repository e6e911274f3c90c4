package main

import (
	"bytes"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/runner"
)

var _ = Describe("a live run's progress line", func() {
	due := 14*time.Minute + 2*time.Second
	snapshot := runner.Progress{At: 12*time.Minute + 400*time.Millisecond, Duration: 25 * time.Minute,
		Ops:          []runner.ServiceOps{{Service: "mongo", Ops: 144000}, {Service: "logs", Ops: 360000}},
		ActiveFaults: []string{"lose-east"}, NextStep: "promote-west", NextStepAt: &due}

	It("says the wall time, how far the scenario got, operations per service, the faults in force and the next step", func() {
		Expect(progressLine(snapshot, 12*time.Minute+31*time.Second)).To(Equal(
			"12m31s elapsed · scenario 12m0s of 25m0s · ops: mongo 144000, logs 360000 · faults: lose-east · next: promote-west at 14m2s"))
		waiting := snapshot
		waiting.ActiveFaults, waiting.NextStepAt = nil, nil
		Expect(progressLine(waiting, time.Second)).To(HaveSuffix("faults: none · next: promote-west (waiting for its trigger)"))
		waiting.NextStep = ""
		Expect(progressLine(waiting, time.Second)).To(HaveSuffix("runbook: all steps started"))
	})

	It("never shows the scenario further than its duration", func() {
		for _, at := range []time.Duration{90*time.Second + 600*time.Millisecond, 89*time.Second + 700*time.Millisecond, 95 * time.Second} {
			end := runner.Progress{At: at, Duration: 90 * time.Second}
			want := "scenario 1m30s of 1m30s"
			if at < 90*time.Second {
				want = "scenario 1m29s of 1m30s"
			}
			Expect(progressLine(end, time.Minute)).To(ContainSubstring(want), "%s", at)
		}
	})

	It("is a plain line every 30 s when standard error is not a terminal, and log lines pass through whole", func() {
		var out bytes.Buffer
		clock := time.Unix(0, 0)
		p := &liveProgress{plain: &out, started: clock, now: func() time.Time { return clock }}
		for range 65 {
			clock = clock.Add(time.Second)
			p.update(snapshot)
		}
		p.log(&out, "%8s  fault %s", "12m0s", "lose-east")
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		Expect(lines).To(HaveLen(4))
		Expect(lines[0]).To(HavePrefix("1s elapsed"))
		Expect(lines[1]).To(HavePrefix("31s elapsed"))
		Expect(lines[2]).To(HavePrefix("1m1s elapsed"))
		Expect(lines[3]).To(Equal("   12m0s  fault lose-east"))
		Expect(out.String()).NotTo(ContainSubstring("\r"))
	})
})
