package docker

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/chaosdrill/chaosdrill/platform"
)

// DiskFaultProblems lists what keeps the disk faults (disk-slow, disk-error,
// disk-full) from being applied: the harness mounts a size-limited tmpfs and
// a FUSE file system per faulted node on the Docker host and bind-mounts it
// into the container, so it needs Linux, root, /dev/fuse and a daemon on
// this host (the bind mount names a path of this host).
func (h *Host) DiskFaultProblems() []Problem {
	var problems []Problem
	if p := h.Remote(); p != nil {
		problems = append(problems, *p)
	}
	if runtime.GOOS != "linux" {
		problems = append(problems, Problem{What: "disk faults need Linux (tmpfs and FUSE mounts on the Docker host)", Fix: "run chaosdrill on the Linux host of the Docker engine"})
		return problems
	}
	if os.Geteuid() != 0 {
		problems = append(problems, Problem{
			What: "not running as root: disk faults mount a tmpfs and a FUSE file system on the Docker host for each faulted node",
			Fix:  "run chaosdrill (or the test binary) with sudo -E",
		})
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		problems = append(problems, Problem{What: "/dev/fuse is missing: " + err.Error(), Fix: "load the fuse module (modprobe fuse), or on a container host give the harness the device"})
	}
	return problems
}

// DiskFaultsUsable says, as an error wrapping platform.ErrEnvironment,
// why the disk faults cannot be applied here; nil when they can.
func DiskFaultsUsable(ctx context.Context) error {
	h, err := InspectHost(ctx)
	if err != nil {
		return err
	}
	defer h.Close()
	problems := h.DiskFaultProblems()
	if len(problems) == 0 {
		return nil
	}
	texts := make([]string, len(problems))
	for i, p := range problems {
		texts[i] = p.Error()
	}
	return fmt.Errorf("%w: disk faults cannot be applied here: %s", platform.ErrEnvironment, strings.Join(texts, "; "))
}
