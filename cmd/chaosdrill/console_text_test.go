package main

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/chaosdrill/chaosdrill/reports"
)

var _ = Describe("what a run prints as it goes", Ordered, func() {
	// The run's lines go to standard error; the summary to standard output.
	var dir, stdout, md string
	BeforeAll(func() {
		dir = GinkgoT().TempDir()
		var code int
		var summary string
		code, summary, stdout = chaosdrill(dir, "run", library("east-region-outage"), "--seed", "1", "--out", "o")
		Expect(code).To(Equal(exitPass), summary)
		md = string(readFile(filepath.Join(dir, "o", "report.md")))
	})

	It("writes a runbook step's parameters as the dry run does, {key: value} with sorted keys, never Go's map syntax", func() {
		Expect(stdout).To(ContainSubstring("runbook artifacts-to-west: artifacts.failover {region: us-west-1}\n"))
		Expect(stdout).To(ContainSubstring("runbook rebuild-console: roles.rebuild {region: us-west-1, role: console}\n"))
		Expect(stdout).NotTo(ContainSubstring("map["))
		code, plan, _ := chaosdrill(dir, "run", library("east-region-outage"), "--dry-run")
		Expect(code).To(Equal(exitPass))
		Expect(plan).To(ContainSubstring("roles.rebuild {region: us-west-1, role: console}"))
	})

	It("rounds every time to the millisecond as report.md does, never a nanosecond", func() {
		Expect(stdout).NotTo(MatchRegexp(`\d\.\d{4,}(s|ms)\b`))
		Expect(md).NotTo(MatchRegexp(`\d\.\d{4,}(s|ms)\b`))
		// Each time the console prints is the time report.md prints for
		// the same step.
		started := regexp.MustCompile(`(?m)^\s*(\S+)  runbook promote-west: mongo\.force-reconfigure`).FindStringSubmatch(stdout)
		Expect(started).NotTo(BeNil(), stdout)
		Expect(md).To(ContainSubstring("| " + started[1] + " | runbook promote-west: mongo.force-reconfigure started |"))
	})

	It("shows every event of the report's timeline but the routine ones (sync passes, snapshots, lag samples)", func() {
		events := reportJSON(filepath.Join(dir, "o"))["events"].([]any)
		yellow := false
		for _, e := range events {
			e := e.(map[string]any)
			what := e["what"].(string)
			if what == "sync-completed" || what == "snapshot-completed" || what == "replication-lag" {
				continue
			}
			yellow = yellow || what == "health-yellow"
			line := reports.FormatDuration(time.Duration(e["at_seconds"].(float64)*1e6)*time.Microsecond) + "  " + e["service"].(string) + ": " + what
			if node, _ := e["node"].(string); node != "" {
				line += " " + node
			}
			Expect(stdout).To(ContainSubstring(line), "the console shows %v", e)
		}
		Expect(yellow).To(BeTrue(), "the run has a health-yellow event")
		Expect(stdout).To(MatchRegexp(`logs: health-yellow \S+ \(5 of 10 shard copies not active\)`))
		Expect(stdout).NotTo(ContainSubstring("sync-completed"))
	})
})

var _ = Describe("the lines a scripted rehearsal reads", func() {
	It("numbers every line, refuses one over the limit and goes on, and keeps a last line without a newline", func() {
		in := "status\r\n" + strings.Repeat("x", 11) + "\nshow a\n" + strings.Repeat("y", 10) + "\nabort"
		lines := newLineReader(strings.NewReader(in), 10)
		var got []string
		for {
			l, ok := lines.next()
			if !ok {
				break
			}
			switch {
			case l.err != nil:
				got = append(got, fmt.Sprintf("%d error %v fatal=%v", l.n, l.err, l.fatal))
			default:
				got = append(got, fmt.Sprintf("%d %s", l.n, l.text))
			}
		}
		Expect(got).To(Equal([]string{
			"1 status",
			"2 error line 2 is longer than 10 bytes: refused, not carried out fatal=false",
			"3 show a",
			"4 " + strings.Repeat("y", 10),
			"5 abort",
		}))
	})
})
