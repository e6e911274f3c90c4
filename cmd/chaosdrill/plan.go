package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/platform/containers"
	"github.com/chaosdrill/chaosdrill/scenarios"
)

// printPlan prints what a run of sc would do, without doing any of it:
// the workloads and how many writes they issue, each fault with the nodes
// its selectors resolve to in the topology (a role is resolved only when
// the fault fires) and what triggers it, the runbook chain, the
// expectations (the baseline ones marked), and on the containers platform
// the images and network it would create (images: what the containers
// platform planned for this scenario, nil on the simulator).
func printPlan(out io.Writer, sc *scenarios.Scenario, platformName string, images []containers.NeededImage) error {
	t := sc.Topology.Resolved
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "PLAN of %s on %s: topology %s, duration %s (dry run: nothing is started)\n", sc.Name, platformName, t.Name, sc.Duration)
	if len(sc.Parameters) > 0 {
		var parts []string
		for _, name := range platform.SortedKeys(sc.Parameters) {
			parts = append(parts, name+"="+sc.Parameters[name].String())
		}
		fmt.Fprintf(w, "PARAMETERS\t%s\n", strings.Join(parts, ", "))
	}

	fmt.Fprintln(w, "\nWORKLOADS")
	for _, wl := range sc.Workloads {
		ops := math.Ceil(float64(sc.Duration.D()) / float64(wl.Interval()))
		what := "writes"
		if wl.Reads() {
			what = "reads"
		}
		detail := fmt.Sprintf("%g %s/s, about %.0f %s, timeout %s", wl.Rate, what, ops, what, wl.Timeout)
		if wl.WriteConcern != "" {
			detail += ", write concern " + wl.WriteConcern
		}
		if wl.Reads() {
			detail += ", read preference " + wl.ReadPreference
			if len(wl.ReadPreferenceTags) > 0 {
				sets := make([]string, 0, len(wl.ReadPreferenceTags))
				for _, set := range wl.ReadPreferenceTags {
					sets = append(sets, platform.FormatParams(set))
				}
				detail += " with tag sets [" + strings.Join(sets, ", ") + "]"
			}
			detail += ", read concern " + wl.ReadConcern
		}
		fmt.Fprintf(w, "  %s\t%s\n", wl.Service, detail)
	}

	fmt.Fprintln(w, "\nFAULTS")
	if len(sc.Faults) == 0 {
		fmt.Fprintln(w, "  none")
	}
	for _, f := range sc.Faults {
		target := f.Target
		selectors := []string{f.Target}
		if f.Kind == scenarios.FaultPartition {
			target = strings.Join(f.Between, " | ")
			selectors = f.Between
		}
		var sides []string
		for _, text := range selectors {
			sides = append(sides, resolveForPlan(t, text))
		}
		what := f.Kind
		if f.Kind == scenarios.FaultLatency {
			what += " +" + f.Latency.String()
		}
		heal := ""
		if f.Heal > 0 {
			heal = ", healed " + f.Heal.String() + " later"
		}
		fmt.Fprintf(w, "  %s\t%s %s\t%s%s\thits %s\n", f.Name, what, target, trigger(f.At, f.After, f.AfterEvent, delayText(f.Delay > 0, f.Delay.String()), "delay"), heal, strings.Join(sides, " | "))
	}

	fmt.Fprintln(w, "\nRUNBOOK")
	if len(sc.Runbook) == 0 {
		fmt.Fprintln(w, "  none")
	}
	for _, st := range sc.Runbook {
		optional := ""
		if st.Optional {
			optional = " (optional: not needed if its event never comes)"
		}
		fmt.Fprintf(w, "  %s\t%s %s on %s\t%s%s\n", st.Name, st.Action, platform.FormatParams(st.Params), st.Service(t),
			trigger(st.At, st.After, st.AfterEvent, delayText(!st.OperatorDelay.Fixed() || st.OperatorDelay.Value > 0, st.OperatorDelay.String()), "operator delay"), optional)
	}

	fmt.Fprintln(w, "\nEXPECTATIONS")
	for _, e := range sc.Expect {
		baseline := ""
		if e.Baseline {
			baseline = " (baseline)"
		}
		fmt.Fprintf(w, "  %s\t%s%s\n", e.Service, strings.Join(bounds(e), ", "), baseline)
	}

	if platformName == "containers" {
		imageOf := map[string]string{}
		for _, need := range images {
			for _, node := range need.Nodes {
				imageOf[node] = need.Image
			}
		}
		fmt.Fprintln(w, "\nCONTAINERS (one per node of the services the scenario uses, on one bridge network per run named chaosdrill-RUNID, everything labelled chaosdrill.run=RUNID)")
		for _, n := range t.Nodes() {
			image, started := imageOf[n.Name]
			if !started {
				image = "not started: no workload uses " + n.Service
			}
			fmt.Fprintf(w, "  %s\t%s\timage %s\talias %s\n", n.Name, n.Service, image, containerAlias(n.Name))
		}
		fmt.Fprintln(w, "  (containers that runbook steps add, such as mongo.add-member or logs.restore-snapshot, are created when the step runs)")
	}
	return w.Flush()
}

// resolveForPlan names the nodes a selector hits in the topology; a role is
// resolved by the platform when the fault fires.
func resolveForPlan(t *platform.Topology, text string) string {
	sel, err := platform.ParseSelector(t, text)
	if err != nil {
		return "?"
	}
	if sel.Kind == platform.SelectRole {
		return "whoever is " + sel.Value + " when it fires"
	}
	return strings.Join(sel.Static(t), ", ")
}

// delayText is the delay's text when there is one.
func delayText(some bool, text string) string {
	if !some {
		return ""
	}
	return text
}

// trigger says when a fault or step starts; delay is "" when none is added
// to its trigger, else its text (a duration, or a distribution drawn from
// the seed).
func trigger(at *scenarios.Time, after, afterEvent string, delay string, delayWord string) string {
	var when string
	switch {
	case at != nil:
		return "at " + at.String()
	case after != "" && afterEvent != "":
		when = fmt.Sprintf("on the first %s after %s", afterEvent, after)
	case after != "":
		when = "after " + after
	default:
		when = "on the first " + afterEvent
	}
	if delay != "" {
		when += fmt.Sprintf(" + %s %s", delayWord, delay)
	}
	return when
}

// bounds lists an expectation's bounds as the reports word them.
func bounds(e scenarios.Expectation) []string {
	var b []string
	if e.LostWrites != nil {
		b = append(b, fmt.Sprintf("lost writes <= %d", *e.LostWrites))
	}
	if e.MinLost != nil {
		b = append(b, fmt.Sprintf("lost writes >= %d", *e.MinLost))
	}
	durations := []struct {
		word  string
		value *platform.Duration
	}{{"rto <=", e.RTOMax}, {"rto >=", e.RTOMin}, {"rpo <=", e.RPOMax}, {"full redundancy <=", e.RedundancyMax},
		{"write latency p99 <=", e.LatencyP99Max}, {"added members caught up <=", e.CaughtUpMax}}
	for _, d := range durations {
		if d.value != nil {
			b = append(b, d.word+" "+d.value.String())
		}
	}
	if e.UnknownMax != nil {
		b = append(b, fmt.Sprintf("unknown writes <= %d", *e.UnknownMax))
	}
	if e.StaleReadsMax != nil {
		b = append(b, fmt.Sprintf("stale reads <= %d", *e.StaleReadsMax))
	}
	if e.DirtyReadsMax != nil {
		b = append(b, fmt.Sprintf("dirty reads <= %d", *e.DirtyReadsMax))
	}
	if e.Recovers != nil {
		if *e.Recovers {
			b = append(b, "recovers")
		} else {
			b = append(b, "does not recover")
		}
	}
	return b
}

// plannedImages asks the containers platform which image each node of sc
// would run, with the --image flags, the environment and the scenario's
// images: applied, without starting anything.
func plannedImages(ctx context.Context, sc *scenarios.Scenario) ([]containers.NeededImage, error) {
	opts, err := liveOptions(ctx)
	if err != nil {
		return nil, err
	}
	cfg := platform.Config{RunID: "dry-run", Topology: sc.Topology.Resolved, Images: sc.Images, Completions: discard{}, Events: discard{}}
	for _, w := range sc.Workloads {
		cfg.Workloads = append(cfg.Workloads, platform.WorkloadConfig{Service: w.Service})
	}
	planned, err := containers.New(cfg, opts...)
	if err != nil {
		return nil, badInput(err)
	}
	return planned.Images(), nil
}
