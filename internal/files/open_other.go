//go:build !unix

package files

import "os"

// openNonBlocking opens path for reading; other systems have no FIFOs that
// block an open.
func openNonBlocking(path string) (*os.File, error) { return os.Open(path) }
