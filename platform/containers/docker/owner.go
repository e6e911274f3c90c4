package docker

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Owner labels: the process that created a run's containers, networks and
// data volumes, so that Cleanup can tell a run that is still going from one
// whose harness died. A process is named by its host, its PID and its start
// time (the PID alone is reused once the process is gone).
const (
	LabelOwnerHost  = "chaosdrill.owner.host"
	LabelOwnerPID   = "chaosdrill.owner.pid"
	LabelOwnerStart = "chaosdrill.owner.start"
)

// Owner is the process that created a run's resources.
type Owner struct {
	Host string
	PID  int
	// Start is the process's start time as /proc/PID/stat gives it (clock
	// ticks since boot, field 22), or "" where there is no procfs.
	Start string
}

func (o Owner) String() string {
	s := fmt.Sprintf("pid %d on %s", o.PID, o.Host)
	if o.Start != "" {
		s += " (started at tick " + o.Start + ")"
	}
	return s
}

// labels are the owner's labels.
func (o Owner) labels() map[string]string {
	return map[string]string{LabelOwnerHost: o.Host, LabelOwnerPID: strconv.Itoa(o.PID), LabelOwnerStart: o.Start}
}

// ownerOf reads the owner labels; ok is false when they are missing (a run
// of an older chaosdrill).
func ownerOf(labels map[string]string) (Owner, bool) {
	host, pidText := labels[LabelOwnerHost], labels[LabelOwnerPID]
	pid, err := strconv.Atoi(pidText)
	if host == "" || err != nil || pid <= 0 {
		return Owner{}, false
	}
	return Owner{Host: host, PID: pid, Start: labels[LabelOwnerStart]}, true
}

var (
	selfOnce sync.Once
	self     Owner
)

// CurrentOwner is this process as an Owner.
func CurrentOwner() Owner {
	selfOnce.Do(func() {
		host, err := os.Hostname()
		if err != nil || host == "" {
			host = "unknown-host"
		}
		pid := os.Getpid()
		start, _ := processStart(pid)
		self = Owner{Host: host, PID: pid, Start: start}
	})
	return self
}

// ownerState is what Cleanup knows of a run's owner.
type ownerState uint8

const (
	ownerGone    ownerState = iota // the process ended: its run is abandoned
	ownerRunning                   // the process still runs: its run may be going
	ownerUnknown                   // no owner labels, or another host's process
)

// state says whether o still runs, as seen from this host. A process on
// another host (a Docker daemon several machines share) cannot be looked
// at, so it is unknown.
func (o Owner) state() (ownerState, string) {
	here := CurrentOwner()
	if o.Host != here.Host {
		return ownerUnknown, fmt.Sprintf("its owner, %s, is on another host, so whether it still runs cannot be told", o)
	}
	start, err := processStart(o.PID)
	switch {
	case err == nil && o.Start != "" && start != o.Start:
		return ownerGone, fmt.Sprintf("its owner, %s, ended (pid %d is another process now)", o, o.PID)
	case err == nil:
		return ownerRunning, fmt.Sprintf("its owner, %s, is still running", o)
	case errors.Is(err, errNoProcfs):
		// No procfs: ask the kernel whether the PID exists at all.
		if pidExists(o.PID) {
			return ownerRunning, fmt.Sprintf("its owner, %s, is still running", o)
		}
		return ownerGone, fmt.Sprintf("its owner, %s, ended", o)
	default:
		return ownerGone, fmt.Sprintf("its owner, %s, ended", o)
	}
}

var errNoProcfs = errors.New("no /proc on this system")

// processStart reads a process's start time from /proc/PID/stat (field 22,
// starttime, in clock ticks since boot:
// https://man7.org/linux/man-pages/man5/proc_pid_stat.5.html). It fails
// with os.ErrNotExist when there is no such process, errNoProcfs where
// there is no procfs.
func processStart(pid int) (string, error) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		return "", errNoProcfs
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", err
	}
	// The command name (field 2) is in parentheses and may hold spaces or
	// parentheses itself: count fields after the last ')'.
	text := string(stat)
	end := strings.LastIndexByte(text, ')')
	if end < 0 {
		return "", fmt.Errorf("/proc/%d/stat: no command field", pid)
	}
	fields := strings.Fields(text[end+1:])
	// fields[0] is field 3 (state), so field 22 is fields[19].
	if len(fields) < 20 {
		return "", fmt.Errorf("/proc/%d/stat: %d fields", pid, len(fields)+2)
	}
	return fields[19], nil
}

// ownerFileName is the file in a data volume's folder that names its owner
// (folders on the host carry no labels).
const ownerFileName = "owner"

// writeOwnerFile records this process as the owner of dir.
func writeOwnerFile(dir string) error {
	o := CurrentOwner()
	text := LabelOwnerHost + "=" + o.Host + "\n" + LabelOwnerPID + "=" + strconv.Itoa(o.PID) + "\n" + LabelOwnerStart + "=" + o.Start + "\n"
	return os.WriteFile(filepath.Join(dir, ownerFileName), []byte(text), 0o644)
}

// readOwnerFile reads the owner of dir; ok is false when it names none.
func readOwnerFile(dir string) (Owner, bool) {
	text, err := os.ReadFile(filepath.Join(dir, ownerFileName))
	if err != nil {
		return Owner{}, false
	}
	labels := map[string]string{}
	for _, line := range strings.Split(string(text), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			labels[k] = v
		}
	}
	return ownerOf(labels)
}
