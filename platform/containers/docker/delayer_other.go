//go:build !linux

package docker

import (
	"errors"
	"time"
)

type delayer struct {
	pid   int
	delay time.Duration
}

func openDelayer(int, uint16, time.Duration) (*delayer, error) {
	return nil, errors.New("added latency needs Linux (nfnetlink_queue in the container's network namespace)")
}

func (*delayer) Close() {}
