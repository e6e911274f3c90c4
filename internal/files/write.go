package files

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// File is one file of a set written by WriteAll: its name in the folder and
// what writes its contents.
type File struct {
	Name  string
	Write func(io.Writer) error
}

// TempPrefix starts the name of the temporary folder WriteAll writes into;
// a folder of that name left by a killed process can be removed.
const TempPrefix = ".chaosdrill-tmp-"

// WriteAll writes a set of files into dir (created if needed) as one: each
// file is written in full into a temporary folder inside dir (same file
// system, so a rename moves it), and only once all are written are they
// renamed into place. A reader never sees a torn file. When ctx ends before
// the renames start, or a write fails, the temporary folder is removed and
// dir gains nothing; the renames, a few system calls, are not interrupted.
// progress, if not nil, is told each file's name once it is written.
func WriteAll(ctx context.Context, dir string, set []File, progress func(name string)) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create folder: %w", err)
	}
	tmp, err := os.MkdirTemp(dir, TempPrefix)
	if err != nil {
		return fmt.Errorf("create temporary folder: %w", err)
	}
	defer func() {
		if rerr := os.RemoveAll(tmp); rerr != nil && err == nil {
			err = fmt.Errorf("remove temporary folder: %w", rerr)
		}
	}()
	for _, f := range set {
		if err := writeOne(ctx, filepath.Join(tmp, f.Name), f.Write); err != nil {
			return fmt.Errorf("write %s: %w", f.Name, err)
		}
		if progress != nil {
			progress(f.Name)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, f := range set {
		if err := os.Rename(filepath.Join(tmp, f.Name), filepath.Join(dir, f.Name)); err != nil {
			return fmt.Errorf("move %s into place: %w", f.Name, err)
		}
	}
	return nil
}

func writeOne(ctx context.Context, path string, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	buffered := bufio.NewWriter(contextWriter{ctx, f})
	if err := write(buffered); err != nil {
		f.Close()
		return err
	}
	if err := buffered.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// contextWriter fails every write once ctx has ended, so that a large file
// stops being written within one buffer of an interrupt.
type contextWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c contextWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

// AppendRegular appends data to the regular file at path, creating it if
// it does not exist. Anything else is refused with an error wrapping
// ErrNotRegular, before a byte is written: a FIFO nobody reads would block
// the open (or the write) forever, and a device is no place for a summary.
// The file is opened without blocking and checked again once open, so a
// FIFO swapped in after the first check cannot hang the command either.
func AppendRegular(path string, data []byte) error {
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		return fmt.Errorf("%s: %w (%s)", path, ErrNotRegular, describeMode(st.Mode()))
	}
	f, err := openAppendNonBlocking(path)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return fmt.Errorf("%s: %w (%s)", path, ErrNotRegular, describeMode(st.Mode()))
	}
	_, werr := f.Write(data)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	return werr
}
