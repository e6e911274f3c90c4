package docker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/moby/moby/api/types/system"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	"golang.org/x/sys/unix"

	"github.com/chaosdrill/chaosdrill/platform"
)

// Problem is one thing on this machine in the way of a live run, with what
// to do about it.
type Problem struct {
	What string // what is wrong, e.g. "not running as root"
	Fix  string // what to do, e.g. "run chaosdrill with sudo -E"
}

func (p Problem) Error() string { return p.What + " (" + p.Fix + ")" }

// Host is the Docker engine a live run would use, and this machine.
type Host struct {
	docker *testcontainers.DockerClient
	info   system.Info
}

// InspectHost connects to Docker and reads what the checks need. Its error
// wraps platform.ErrEnvironment when Docker cannot be reached.
func InspectHost(ctx context.Context) (*Host, error) {
	docker, err := connect(ctx)
	if err != nil {
		return nil, err
	}
	info, err := docker.Client.Info(ctx, client.InfoOptions{})
	if err != nil {
		_ = docker.Close()
		return nil, fmt.Errorf("%w: ask Docker about itself: %v", platform.ErrEnvironment, err)
	}
	return &Host{docker: docker, info: info.Info}, nil
}

// Close lets the connection go.
func (h *Host) Close() error { return h.docker.Close() }

// Address names the Docker engine, as the client reaches it.
func (h *Host) Address() string { return h.docker.DaemonHost() }

// Version is the engine's version.
func (h *Host) Version() string { return h.info.ServerVersion }

// MemoryBytes is the memory the engine's host has.
func (h *Host) MemoryBytes() int64 { return h.info.MemTotal }

// Remote returns a Problem when the engine is not on this machine: the
// platform publishes container ports on the engine host's loopback and
// reaches them at 127.0.0.1, and network faults run in the containers'
// network namespaces on that host, so a remote engine cannot work.
func (h *Host) Remote() *Problem {
	return remoteProblem(h.docker.DaemonHost())
}

func remoteProblem(daemonHost string) *Problem {
	u, err := url.Parse(daemonHost)
	if err != nil {
		return &Problem{What: fmt.Sprintf("the Docker address %q cannot be read", daemonHost), Fix: "set DOCKER_HOST to the engine's socket, e.g. unix:///var/run/docker.sock"}
	}
	switch u.Scheme {
	case "unix", "npipe":
		return nil
	case "tcp", "http", "https":
		host := u.Hostname()
		if host == "localhost" {
			return nil
		}
		if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
			return nil
		}
	}
	return &Problem{
		What: fmt.Sprintf("the Docker engine at %s is not on this machine: the live platform reaches container ports on 127.0.0.1 and applies network faults in the containers' namespaces, on the engine's host", daemonHost),
		Fix:  "run chaosdrill on the Docker host itself (or unset DOCKER_HOST to use its local socket)",
	}
}

// NetworkFaultProblems lists what keeps the network faults (partition,
// added latency) and the topology's link latencies from being applied:
// they run iptables-restore through nsenter in each container's network
// namespace and hold delayed packets on an NFQUEUE socket there, so they
// need root on the Docker host, the two tools, a daemon on this kernel and
// the kernel's nfnetlink_queue.
func (h *Host) NetworkFaultProblems() []Problem {
	var problems []Problem
	if p := h.Remote(); p != nil {
		problems = append(problems, *p)
	}
	root := os.Geteuid() == 0
	if !root {
		problems = append(problems, Problem{
			What: "not running as root: network faults and link latencies enter the containers' network namespaces",
			Fix:  "run chaosdrill (or the test binary) with sudo -E",
		})
	}
	for tool, pkg := range map[string]string{"nsenter": "util-linux", "iptables-restore": "iptables"} {
		if _, err := exec.LookPath(tool); err != nil {
			problems = append(problems, Problem{What: tool + " is not on the PATH", Fix: "install " + pkg + " (e.g. apt-get install " + pkg + ")"})
		}
	}
	var own unix.Utsname
	if err := unix.Uname(&own); err == nil {
		kernel := unix.ByteSliceToString(own.Release[:])
		if h.info.KernelVersion != "" && h.info.KernelVersion != kernel {
			problems = append(problems, Problem{
				What: fmt.Sprintf("the Docker daemon runs on kernel %s, this process on %s (a VM such as Docker Desktop's?): the containers' network namespaces are not reachable from here", h.info.KernelVersion, kernel),
				Fix:  "run chaosdrill on a Linux host whose Docker engine runs natively",
			})
		}
	}
	if root {
		if err := checkPacketQueue(); err != nil {
			problems = append(problems, Problem{What: "the kernel's packet queue (nfnetlink_queue) cannot be used: " + err.Error(), Fix: "load it (modprobe nfnetlink_queue) or use a distribution kernel"})
		}
	}
	return problems
}

// probeQueue is a queue number no rule sends packets to, bound for a moment
// in this process's own namespace to see that the kernel serves queues.
const probeQueue = 65000

func checkPacketQueue() error {
	d, err := openDelayer(os.Getpid(), map[uint16]time.Duration{probeQueue: time.Millisecond})
	if err != nil {
		return err
	}
	d.Close()
	return nil
}

// NetworkFaultsUsable says, as an error wrapping platform.ErrEnvironment,
// why network faults and link latencies cannot be applied here; nil when
// they can.
func NetworkFaultsUsable(ctx context.Context) error {
	h, err := InspectHost(ctx)
	if err != nil {
		return err
	}
	defer h.Close()
	problems := h.NetworkFaultProblems()
	if len(problems) == 0 {
		return nil
	}
	texts := make([]string, len(problems))
	for i, p := range problems {
		texts[i] = p.Error()
	}
	return fmt.Errorf("%w: network faults cannot be applied here: %s", platform.ErrEnvironment, strings.Join(texts, "; "))
}

// MissingImages lists the images of images that are not on the engine.
func (h *Host) MissingImages(ctx context.Context, images []string) ([]string, error) {
	var missing []string
	seen := map[string]bool{}
	for _, image := range images {
		if seen[image] {
			continue
		}
		seen[image] = true
		if _, err := h.docker.ImageInspect(ctx, image); err != nil {
			if !isNotFound(err) {
				return nil, fmt.Errorf("%w: look for image %s: %v", platform.ErrEnvironment, image, err)
			}
			missing = append(missing, image)
		}
	}
	return missing, nil
}

func isNotFound(err error) bool {
	var notFound interface{ NotFound() }
	return errors.As(err, &notFound) || strings.Contains(strings.ToLower(err.Error()), "no such image")
}
