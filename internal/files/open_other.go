//go:build !unix

package files

import "os"

// openNonBlocking opens path for reading; other systems have no FIFOs that
// block an open.
func openNonBlocking(path string) (*os.File, error) { return os.Open(path) }

// openAppendNonBlocking opens path for appending, creating it if needed.
func openAppendNonBlocking(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
}
