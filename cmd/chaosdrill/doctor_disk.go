package main

import (
	"github.com/chaosdrill/chaosdrill/platform/containers/docker"
	"github.com/chaosdrill/chaosdrill/scenarios"
)

// diskFindings: the disk faults (a tmpfs and a FUSE mount per faulted node
// on the Docker host) block a scenario that has one, and are only a
// warning for the library at large.
func diskFindings(host *docker.Host, sc *scenarios.Scenario) []finding {
	need := "the library's disk-fault scenarios"
	blocks := false
	if sc != nil {
		need, blocks = "", false
		for _, f := range sc.Faults {
			if f.Kind == scenarios.FaultDiskSlow || f.Kind == scenarios.FaultDiskError || f.Kind == scenarios.FaultDiskFull {
				need, blocks = "the scenario's "+f.Kind+" faults", true
				break
			}
		}
		if need == "" {
			return nil
		}
	}
	problems := host.DiskFaultProblems()
	if len(problems) == 0 {
		return []finding{{what: "disk faults can be applied: root, Linux, /dev/fuse, the Docker daemon on this host"}}
	}
	var findings []finding
	for _, p := range problems {
		findings = append(findings, finding{blocks: blocks, warn: !blocks, what: "disk faults (needed for " + need + "): " + p.What, fix: p.Fix})
	}
	return findings
}
