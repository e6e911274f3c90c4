//go:build !linux

package docker

import (
	"errors"
	"time"
)

// Disk volumes need Linux: tmpfs, FUSE and mount(2) on the Docker host.

var errDiskVolumes = errors.New("disk faults need the harness on a Linux Docker host (tmpfs and FUSE mounts)")

type diskMode uint8

const (
	diskHealthy diskMode = iota
	diskSlowed
	diskFailing
)

type diskVolume struct{ mount string }

func newDiskVolume(string, string, int64) (*diskVolume, error) { return nil, errDiskVolumes }
func (v *diskVolume) close() error                             { return nil }
func (v *diskVolume) set(diskMode, time.Duration, float64)     {}
func (v *diskVolume) fill() error                              { return errDiskVolumes }
func (v *diskVolume) heal() error                              { return errDiskVolumes }
func (v *diskVolume) usage() (float64, error)                  { return 0, errDiskVolumes }
func cleanupDisks(string, func(string) bool) (int, error)      { return 0, nil }
