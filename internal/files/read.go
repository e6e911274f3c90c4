package files

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// Errors of ReadRegular; callers compare with errors.Is.
var (
	// ErrNotRegular is a path that names a folder, a FIFO, a device or a
	// socket: reading one could block forever (a FIFO with no writer) or
	// never end (/dev/zero).
	ErrNotRegular = errors.New("not a regular file")
	// ErrTooLarge is a file over the caller's size limit.
	ErrTooLarge = errors.New("file too large")
)

// ReadRegular returns the contents of the regular file at path, refusing
// anything else and anything over limit bytes. The file is opened without
// blocking (a FIFO swapped in after the check would otherwise hang the
// open) and checked again once open; at most limit+1 bytes are read
// whatever the file claims its size is.
func ReadRegular(path string, limit int64) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := regular(path, st, limit); err != nil {
		return nil, err
	}
	f, err := openNonBlocking(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err = f.Stat()
	if err != nil {
		return nil, err
	}
	if err := regular(path, st, limit); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: %w: more than %d bytes", path, ErrTooLarge, limit)
	}
	return data, nil
}

func regular(path string, st os.FileInfo, limit int64) error {
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s: %w (%s)", path, ErrNotRegular, describeMode(st.Mode()))
	}
	if st.Size() > limit {
		return fmt.Errorf("%s: %w: %d bytes, the limit is %d", path, ErrTooLarge, st.Size(), limit)
	}
	return nil
}

// describeMode names what a non-regular path is, for the message.
func describeMode(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a device"
	default:
		return "not a plain file"
	}
}
