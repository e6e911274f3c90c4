package docker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// Disk volumes (see the Disk faults section of the package doc). A node
// given a data directory gets a volume of its own on the Docker host:
//
//	<tmp>/chaosdrill-disk-<run>-<node>/backing   tmpfs, size=<bytes>: the real, size-limited store
//	<tmp>/chaosdrill-disk-<run>-<node>/mnt       a FUSE passthrough over backing, served by the harness
//
// and mnt is bind-mounted into the container at the data directory. Every
// I/O of the node's server goes through the harness's FUSE server, which can
// hold it (latency, a throughput cap) or fail it (EIO); filling the volume
// writes a ballast file into backing until the tmpfs refuses with ENOSPC,
// so the node's writes fail for real and statfs reports it 100% used.

// diskDirPrefix names a volume's folder, so Cleanup finds what a killed
// harness left mounted.
const diskDirPrefix = "chaosdrill-disk-"

// ballastName is the file that fills a volume, in its backing store.
const ballastName = ".chaosdrill-ballast"

// diskMode is what a volume does to the I/O that goes through it.
type diskMode uint8

const (
	diskHealthy diskMode = iota
	diskSlowed
	diskFailing
)

// diskVolume is one node's data volume.
type diskVolume struct {
	dir, backing, mount string
	server              *fuse.Server

	mu      sync.Mutex
	mode    diskMode
	latency time.Duration
	rate    float64   // bytes per second, 0: no cap
	next    time.Time // the cap's next free instant
}

// newDiskVolume mounts a size-limited tmpfs and the FUSE passthrough over it.
func newDiskVolume(runID, node string, bytes int64) (*diskVolume, error) {
	dir := filepath.Join(os.TempDir(), diskDirPrefix+runID+"-"+dnsLabel(node))
	v := &diskVolume{dir: dir, backing: filepath.Join(dir, "backing"), mount: filepath.Join(dir, "mnt")}
	for _, d := range []string{v.backing, v.mount} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("disk volume of %s: %w", node, err)
		}
	}
	if err := writeOwnerFile(dir); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("disk volume of %s: %w", node, err)
	}
	if err := unix.Mount("tmpfs", v.backing, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, fmt.Sprintf("size=%d,mode=0777", bytes)); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("disk volume of %s: mount a %d-byte tmpfs on %s (needs root): %w", node, bytes, v.backing, err)
	}
	root := &fs.LoopbackRoot{Path: v.backing}
	var st syscall.Stat_t
	if err := syscall.Stat(v.backing, &st); err != nil {
		v.close()
		return nil, fmt.Errorf("disk volume of %s: %w", node, err)
	}
	root.Dev = uint64(st.Dev)
	rootNode := &faultyNode{LoopbackNode: &fs.LoopbackNode{RootData: root}, volume: v}
	root.RootNode = rootNode
	// Attributes are not cached, so the container sees what the backing
	// store holds at once (a ballast removed, a file another writer grew).
	zero := time.Duration(0)
	server, err := fs.Mount(v.mount, rootNode, &fs.Options{
		EntryTimeout: &zero, AttrTimeout: &zero, NegativeTimeout: &zero,
		MountOptions: fuse.MountOptions{
			// The servers in the containers run as their own users.
			AllowOther: true,
			FsName:     "chaosdrill-" + dnsLabel(node),
			Name:       "chaosdrill",
			// mount(2) directly, as root: no fusermount needed.
			DirectMount: true,
		},
	})
	if err != nil {
		v.close()
		return nil, fmt.Errorf("disk volume of %s: mount the FUSE file system on %s (needs root and /dev/fuse): %w", node, v.mount, err)
	}
	v.server = server
	return v, nil
}

// close unmounts the FUSE file system and the tmpfs and removes the
// folder. A mount still in use (a container not yet removed) is detached
// lazily.
func (v *diskVolume) close() error {
	var errs []error
	if v.server != nil {
		if err := v.server.Unmount(); err != nil {
			if err := unix.Unmount(v.mount, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
				errs = append(errs, fmt.Errorf("unmount %s: %w", v.mount, err))
			}
		}
		v.server = nil
	}
	if err := unix.Unmount(v.backing, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		errs = append(errs, fmt.Errorf("unmount %s: %w", v.backing, err))
	}
	if err := os.RemoveAll(v.dir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// set changes what the volume does to I/O from now on.
func (v *diskVolume) set(mode diskMode, latency time.Duration, rate float64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.mode, v.latency, v.rate, v.next = mode, latency, rate, time.Time{}
}

// admit holds an I/O of n bytes as the volume's state says, and says
// whether it fails.
func (v *diskVolume) admit(n int, write bool) syscall.Errno {
	v.mu.Lock()
	mode, latency, rate := v.mode, v.latency, v.rate
	var wait time.Duration
	if mode == diskSlowed {
		wait = latency
		if rate > 0 && n > 0 {
			// One queue for the volume: each transfer waits for those
			// before it at the capped rate.
			now := time.Now()
			start := v.next
			if start.Before(now) {
				start = now
			}
			v.next = start.Add(time.Duration(float64(n) / rate * float64(time.Second)))
			wait += v.next.Sub(now)
		}
	}
	v.mu.Unlock()
	if mode == diskFailing && write {
		return syscall.EIO
	}
	if wait > 0 {
		time.Sleep(wait)
	}
	return 0
}

// fill writes a ballast file into the backing store until the tmpfs is full.
func (v *diskVolume) fill() error {
	f, err := os.OpenFile(filepath.Join(v.backing, ballastName), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("fill %s: %w", v.backing, err)
	}
	defer f.Close()
	chunk := make([]byte, 1<<20)
	for size := len(chunk); size > 0; {
		_, err := f.Write(chunk[:size])
		switch {
		case errors.Is(err, syscall.ENOSPC):
			size /= 2 // the last pages
		case err != nil:
			return fmt.Errorf("fill %s: %w", v.backing, err)
		}
	}
	return nil
}

// usage is the share of the backing store in use, in percent.
func (v *diskVolume) usage() (float64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(v.backing, &st); err != nil {
		return 0, err
	}
	if st.Blocks == 0 {
		return 0, nil
	}
	return 100 * float64(st.Blocks-st.Bavail) / float64(st.Blocks), nil
}

// heal removes the ballast and lets every I/O through again.
func (v *diskVolume) heal() error {
	v.set(diskHealthy, 0, 0)
	if err := os.Remove(filepath.Join(v.backing, ballastName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove the ballast of %s: %w", v.backing, err)
	}
	return nil
}

// faultyNode is a loopback node whose files go through the volume.
type faultyNode struct {
	*fs.LoopbackNode
	volume *diskVolume
}

var (
	_ fs.NodeWrapChilder = (*faultyNode)(nil)
	_ fs.NodeOpener      = (*faultyNode)(nil)
	_ fs.NodeCreater     = (*faultyNode)(nil)
)

func (n *faultyNode) WrapChild(_ context.Context, ops fs.InodeEmbedder) fs.InodeEmbedder {
	return &faultyNode{LoopbackNode: ops.(*fs.LoopbackNode), volume: n.volume}
}

func (n *faultyNode) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	fh, fuseFlags, errno := n.LoopbackNode.Open(ctx, flags)
	if errno != 0 {
		return nil, 0, errno
	}
	return &faultyFile{LoopbackFile: fh.(*fs.LoopbackFile), volume: n.volume}, fuseFlags, 0
}

func (n *faultyNode) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	if errno := n.volume.admit(0, true); errno != 0 {
		return nil, nil, 0, errno
	}
	inode, fh, fuseFlags, errno := n.LoopbackNode.Create(ctx, name, flags, mode, out)
	if errno != 0 {
		return nil, nil, 0, errno
	}
	return inode, &faultyFile{LoopbackFile: fh.(*fs.LoopbackFile), volume: n.volume}, fuseFlags, 0
}

// faultyFile is an open file of the volume. It does not hand its
// descriptor to the kernel (FUSE passthrough), so every read and write
// comes to the harness.
type faultyFile struct {
	*fs.LoopbackFile
	volume *diskVolume
}

func (f *faultyFile) PassthroughFd() (int, bool) { return -1, false }

func (f *faultyFile) Read(ctx context.Context, buf []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	if errno := f.volume.admit(len(buf), false); errno != 0 {
		return nil, errno
	}
	return f.LoopbackFile.Read(ctx, buf, off)
}

func (f *faultyFile) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	if errno := f.volume.admit(len(data), true); errno != 0 {
		return 0, errno
	}
	return f.LoopbackFile.Write(ctx, data, off)
}

func (f *faultyFile) Writev(ctx context.Context, data [][]byte, off int64) (uint32, syscall.Errno) {
	n := 0
	for _, d := range data {
		n += len(d)
	}
	if errno := f.volume.admit(n, true); errno != 0 {
		return 0, errno
	}
	return f.LoopbackFile.Writev(ctx, data, off)
}

func (f *faultyFile) Fsync(ctx context.Context, flags uint32) syscall.Errno {
	if errno := f.volume.admit(0, true); errno != 0 {
		return errno
	}
	return f.LoopbackFile.Fsync(ctx, flags)
}

func (f *faultyFile) Allocate(ctx context.Context, off uint64, size uint64, mode uint32) syscall.Errno {
	if errno := f.volume.admit(0, true); errno != 0 {
		return errno
	}
	return f.LoopbackFile.Allocate(ctx, off, size, mode)
}

// cleanupDisks unmounts and removes the disk volumes a run left (any
// chaosdrill run when runID is ""), found by their folder in the mount
// table, whose folder remove accepts (by its owner file).
func cleanupDisks(runID string, remove func(dir string) bool) (int, error) {
	mounts, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return 0, nil // not Linux with procfs: nothing of ours can be mounted
	}
	prefix := filepath.Join(os.TempDir(), diskDirPrefix+runID)
	var errs []error
	dirs := map[string]bool{}
	var points []string
	for _, line := range strings.Split(string(mounts), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 || !strings.HasPrefix(fields[1], prefix) || !remove(filepath.Dir(fields[1])) {
			continue
		}
		points = append(points, fields[1])
		dirs[filepath.Dir(fields[1])] = true
	}
	// FUSE mounts (mnt) before the tmpfs under them (backing).
	for i := len(points) - 1; i >= 0; i-- {
		if err := unix.Unmount(points[i], unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
			errs = append(errs, fmt.Errorf("unmount %s: %w", points[i], err))
		}
	}
	for dir := range dirs {
		if err := os.RemoveAll(dir); err != nil {
			errs = append(errs, err)
		}
	}
	return len(dirs), errors.Join(errs...)
}
