//go:build unix

package files

import (
	"os"
	"syscall"
)

// openNonBlocking opens path for reading with O_NONBLOCK, so that opening
// a FIFO returns at once instead of waiting for a writer. Reads from a
// regular file are not affected by the flag.
func openNonBlocking(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}

// openAppendNonBlocking opens path for appending, creating it if needed,
// with O_NONBLOCK: opening a FIFO with no reader fails at once (ENXIO)
// instead of waiting for one.
func openAppendNonBlocking(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NONBLOCK, 0o644)
}
