package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/chaosdrill/chaosdrill/platform"
	"github.com/chaosdrill/chaosdrill/platform/containers"
	"github.com/chaosdrill/chaosdrill/platform/containers/docker"
	"github.com/chaosdrill/chaosdrill/scenarios"
)

// doctorTimeout bounds the whole check: a few Docker API calls.
const doctorTimeout = time.Minute

func newDoctorCommand() *cobra.Command {
	var platformName string
	cmd := &cobra.Command{
		Use:   "doctor [SCENARIO]",
		Short: "Check that this machine can run scenarios live",
		Long: `Check what a live run (--platform containers) needs from this machine, for
SCENARIO (only the services it uses) or for the built-in topology ion:
Docker on this machine, each image, root and the tools the network faults and
the topology's link latencies need (nsenter, iptables-restore, the Docker
daemon on this kernel, nfnetlink_queue), and memory for the containers'
limits. Each problem comes with what to do about it. Nothing is pulled or
started.

Honours --image, CHAOSDRILL_IMAGES, CHAOSDRILL_MEMORY_PROFILE (standard or
small) and CHAOSDRILL_LINK_LATENCY=off as a run does.

Exit codes: 0 nothing blocks a live run, 2 bad input, 3 something blocks it.`,
		Args: argsError(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch platformName {
			case "sim":
				fmt.Fprintln(cmd.OutOrStdout(), "ok      the simulator needs nothing outside this binary")
				return nil
			case "containers":
			default:
				return badInput(fmt.Errorf("--platform %q: want sim or containers", platformName))
			}
			opts, err := liveOptions(cmd.Context())
			if err != nil {
				return err
			}
			cfg := platform.Config{RunID: "doctor", Topology: platform.Ion(), Completions: discard{}, Events: discard{}}
			var sc *scenarios.Scenario
			if len(args) == 1 {
				if sc, err = loadScenario(cmd.Context(), args[0], containers.Parameters(), "containers"); err != nil {
					return err
				}
				cfg.Topology, cfg.Images = sc.Topology.Resolved, sc.Images
				for _, w := range sc.Workloads {
					cfg.Workloads = append(cfg.Workloads, platform.WorkloadConfig{Service: w.Service})
				}
			}
			planned, err := containers.New(cfg, opts...)
			if err != nil {
				return badInput(err)
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), doctorTimeout)
			defer cancel()
			blocking := examine(ctx, cmd.OutOrStdout(), planned, sc, linkLatencyOn())
			if blocking > 0 {
				return environment(fmt.Errorf("%d %s a live run here (see above)", blocking, pluralWord(blocking, "problem blocks", "problems block")))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&platformName, "platform", "containers", "which platform to check: containers (Docker) or sim")
	addImageFlag(cmd)
	return cmd
}

// discard is the event sink of a platform that is only planned.
type discard struct{}

func (discard) Completed(uint64, platform.Outcome, time.Duration) {}
func (discard) Observed(platform.Event)                           {}

func linkLatencyOn() bool {
	return strings.TrimSpace(os.Getenv(containers.LinkLatencyVariable)) != "off"
}

// finding is one line of the doctor's answer.
type finding struct {
	blocks bool
	warn   bool
	what   string
	fix    string
}

func (f finding) write(out io.Writer) {
	mark := "ok    "
	switch {
	case f.blocks:
		mark = "BLOCKS"
	case f.warn:
		mark = "warn  "
	}
	fmt.Fprintf(out, "%s  %s\n", mark, f.what)
	if f.fix != "" {
		fmt.Fprintf(out, "        do: %s\n", f.fix)
	}
}

// examine prints one finding per check and returns how many block a run.
func examine(ctx context.Context, out io.Writer, planned *containers.Platform, sc *scenarios.Scenario, links bool) int {
	var findings []finding
	host, err := docker.InspectHost(ctx)
	if err != nil {
		findings = append(findings, finding{blocks: true, what: err.Error(), fix: "start Docker, or point DOCKER_HOST at the engine's socket"})
		var images []string
		for _, need := range planned.Images() {
			images = append(images, need.Image)
		}
		findings = append(findings, finding{blocks: true, what: "images not checked, Docker being unreachable; the run needs " + strings.Join(images, ", ")})
	} else {
		defer host.Close()
		findings = append(findings, dockerFindings(host)...)
		findings = append(findings, imageFindings(ctx, host, planned)...)
		findings = append(findings, networkFindings(host, sc, links)...)
		findings = append(findings, diskFindings(host, sc)...)
		findings = append(findings, memoryFindings(host, planned))
	}
	blocking := 0
	for _, f := range findings {
		f.write(out)
		if f.blocks {
			blocking++
		}
	}
	return blocking
}

func dockerFindings(host *docker.Host) []finding {
	if p := host.Remote(); p != nil {
		return []finding{{blocks: true, what: p.What, fix: p.Fix}}
	}
	return []finding{{what: fmt.Sprintf("Docker %s at %s, on this machine", host.Version(), host.Address())}}
}

func imageFindings(ctx context.Context, host *docker.Host, planned *containers.Platform) []finding {
	var findings []finding
	for _, need := range planned.Images() {
		missing, err := host.MissingImages(ctx, []string{need.Image})
		switch {
		case err != nil:
			findings = append(findings, finding{blocks: true, what: err.Error()})
		case len(missing) > 0:
			findings = append(findings, finding{
				blocks: true,
				what:   fmt.Sprintf("image %s (%s: %s) is not on the Docker engine", need.Image, need.Kind, strings.Join(need.Nodes, ", ")),
				fix:    fmt.Sprintf("docker pull %s (a run pulls it unless %s=never), or name another with --image %s=REF or %s", need.Image, pullVariable, need.Kind, containers.ImagesVariable),
			})
		default:
			findings = append(findings, finding{what: fmt.Sprintf("image %s (%s) is present", need.Image, need.Kind)})
		}
	}
	return findings
}

// networkFindings: the network faults block a run that applies link
// latencies (every run, unless CHAOSDRILL_LINK_LATENCY=off) or whose
// scenario partitions or delays links.
func networkFindings(host *docker.Host, sc *scenarios.Scenario, links bool) []finding {
	var needs []string
	if links {
		needs = append(needs, "the topology's link latencies")
	}
	if sc != nil {
		for _, f := range sc.Faults {
			if f.Kind == scenarios.FaultPartition || f.Kind == scenarios.FaultLatency {
				needs = append(needs, "the scenario's "+f.Kind+" faults")
				break
			}
		}
	} else {
		needs = append(needs, "the library's partition scenarios")
	}
	problems := host.NetworkFaultProblems()
	if len(problems) == 0 {
		return []finding{{what: "network faults can be applied: root, nsenter, iptables-restore, the Docker daemon on this kernel, nfnetlink_queue"}}
	}
	var findings []finding
	for _, p := range problems {
		findings = append(findings, finding{
			blocks: len(needs) > 0,
			warn:   len(needs) == 0,
			what:   "network faults (needed for " + strings.Join(needs, " and ") + "): " + p.What,
			fix:    p.Fix,
		})
	}
	if links {
		findings[len(findings)-1].fix += fmt.Sprintf("; or run without link latencies (%s=off), which leaves replication lag at that of one host", containers.LinkLatencyVariable)
	}
	return findings
}

func memoryFindings(host *docker.Host, planned *containers.Platform) finding {
	needed := planned.MemoryBytes()
	total := host.MemoryBytes()
	what := fmt.Sprintf("memory: the containers' limits add up to %s before any fault; the Docker host has %s", gibibytes(needed), gibibytes(total))
	smaller := fmt.Sprintf("use a machine with at least %s, or the small profile (%s=small)", gibibytes(needed), containers.MemoryProfileVariable)
	switch {
	case needed > total:
		return finding{blocks: true, what: what, fix: smaller}
	case host.Remote() == nil:
		if available, ok := memAvailable(); ok && needed > available {
			return finding{warn: true, what: what + fmt.Sprintf(", %s of it available now", gibibytes(available)), fix: "free memory, or " + smaller}
		}
	}
	return finding{what: what}
}

func gibibytes(n int64) string {
	return strconv.FormatFloat(float64(n)/(1<<30), 'f', 2, 64) + " GiB"
}

// memAvailable reads MemAvailable from /proc/meminfo
// (https://www.kernel.org/doc/html/latest/filesystems/proc.html#meminfo).
func memAvailable() (int64, bool) {
	file, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, false
	}
	defer file.Close()
	lines := bufio.NewScanner(file)
	for lines.Scan() {
		fields := strings.Fields(lines.Text())
		if len(fields) >= 2 && fields[0] == "MemAvailable:" {
			kib, err := strconv.ParseInt(fields[1], 10, 64)
			return kib << 10, err == nil
		}
	}
	// Not found, or the file could not be read to its end (lines.Err()):
	// either way the figure is unknown, and the finding says so.
	return 0, false
}
