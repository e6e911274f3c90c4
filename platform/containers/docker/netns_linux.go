package docker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// dialFrom opens a TCP connection to address from inside the network
// namespace of process pid and returns how long the handshake took: one
// round trip through the node's rules (a refused connection is answered
// after one round trip too, and counts). A socket belongs to the namespace
// it was created in, so the calling thread enters the namespace for the
// dial only.
func dialFrom(ctx context.Context, pid int, address string, timeout time.Duration) (time.Duration, error) {
	runtime.LockOSThread()
	own, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return 0, fmt.Errorf("open own network namespace: %w", err)
	}
	defer own.Close()
	target, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", pid))
	if err != nil {
		runtime.UnlockOSThread()
		return 0, fmt.Errorf("open network namespace of pid %d: %w", pid, err)
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return 0, fmt.Errorf("enter network namespace of pid %d: %w", pid, err)
	}
	dialer := net.Dialer{Timeout: timeout}
	began := time.Now()
	conn, dialErr := dialer.DialContext(ctx, "tcp", address)
	took := time.Since(began)
	if err := unix.Setns(int(own.Fd()), unix.CLONE_NEWNET); err != nil {
		// The thread stays locked, so the runtime discards it instead of
		// running other goroutines in the wrong namespace.
		if conn != nil {
			_ = conn.Close()
		}
		return 0, fmt.Errorf("return to own network namespace: %w", err)
	}
	runtime.UnlockOSThread()
	if conn != nil {
		_ = conn.Close()
	}
	if dialErr != nil && !errors.Is(dialErr, syscall.ECONNREFUSED) {
		return 0, fmt.Errorf("connect to %s from the namespace of pid %d: %w", address, pid, dialErr)
	}
	return took, nil
}
