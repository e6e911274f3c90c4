//go:build !linux

package docker

import (
	"context"
	"errors"
	"time"
)

type delayer struct{}

func openDelayer(int, map[uint16]time.Duration) (*delayer, error) {
	return nil, errors.New("added latency needs Linux (nfnetlink_queue in the container's network namespace)")
}

func (*delayer) sameDelays(int, map[uint16]time.Duration) bool { return false }

func (*delayer) Close() {}

func dialFrom(context.Context, int, string, time.Duration) (time.Duration, error) {
	return 0, errors.New("measuring a link from inside a container needs Linux")
}
