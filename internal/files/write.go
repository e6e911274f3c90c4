package files

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
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
// moved into place, in the order of set. A reader never sees a torn file.
//
// Before anything is moved, every destination is checked: one that cannot
// be replaced by a file (a folder of that name) fails the write with dir
// as it was. Each file a destination already holds is kept (a hard link,
// else a copy, in the temporary folder) until every move has succeeded; a
// move that fails puts back what the moves before it replaced (and removes
// what they added), so dir holds either the whole new set or what it held
// before, never a mix. Files of dir not in set are left as they are.
//
// When ctx ends before the moves start, or a write fails, the temporary
// folder is removed and dir gains nothing (the folders WriteAll created
// are removed again); the moves, a few system calls,
// are not interrupted. progress, if not nil, is told each file's name once
// it is written.
func WriteAll(ctx context.Context, dir string, set []File, progress func(name string)) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	created, err := mkdirAllCreated(dir)
	if err != nil {
		return err
	}
	// On failure, the folders created here go again if they hold nothing.
	tmp, err := os.MkdirTemp(dir, TempPrefix)
	if err != nil {
		removeCreated(dir, created)
		return fmt.Errorf("create temporary folder: %w", err)
	}
	defer func() {
		if rerr := os.RemoveAll(tmp); rerr != nil && err == nil {
			err = fmt.Errorf("remove temporary folder: %w", rerr)
		}
		if err != nil {
			removeCreated(dir, created)
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
	return moveAll(dir, tmp, set)
}

// FailMove, when not nil, is called before each file is moved into place
// and may fail the move, as a full disk would: a seam for the specs (here
// and the CLI's) only; nothing else sets it.
var FailMove func(name string) error

// moveAll moves the files of set from tmp into dir, all or none (see
// WriteAll).
func moveAll(dir, tmp string, set []File) error {
	for _, f := range set {
		st, err := os.Lstat(filepath.Join(dir, f.Name))
		switch {
		case err == nil && st.IsDir():
			return fmt.Errorf("%s is a folder, not a file: nothing was moved into %s", filepath.Join(dir, f.Name), dir)
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("check %s: %w: nothing was moved into %s", filepath.Join(dir, f.Name), err, dir)
		}
	}
	// Keep what each destination holds, before any move.
	kept := make([]bool, len(set))
	for i, f := range set {
		dest := filepath.Join(dir, f.Name)
		if _, err := os.Lstat(dest); err != nil {
			continue
		}
		if err := keep(dest, filepath.Join(tmp, keptPrefix+f.Name)); err != nil {
			return fmt.Errorf("keep the previous %s: %w: nothing was moved into %s", f.Name, err, dir)
		}
		kept[i] = true
	}
	for i, f := range set {
		err := error(nil)
		if FailMove != nil {
			err = FailMove(f.Name)
		}
		if err == nil {
			err = os.Rename(filepath.Join(tmp, f.Name), filepath.Join(dir, f.Name))
		}
		if err != nil {
			err = fmt.Errorf("move %s into place: %w", f.Name, err)
			if rerr := rollBack(dir, tmp, set[:i], kept); rerr != nil {
				return fmt.Errorf("%w; and %v", err, rerr)
			}
			return fmt.Errorf("%w: %s is as it was", err, dir)
		}
	}
	return nil
}

// keptPrefix names, in the temporary folder, what a destination held
// before the moves.
const keptPrefix = ".kept-"

// keep makes kept hold what dest holds, without touching dest: a hard
// link, or where the file system has none a copy (a symbolic link is
// linked or copied as a link).
func keep(dest, kept string) error {
	if err := os.Link(dest, kept); err == nil {
		return nil
	}
	st, err := os.Lstat(dest)
	if err != nil {
		return err
	}
	if st.Mode()&fs.ModeSymlink != 0 {
		target, err := os.Readlink(dest)
		if err != nil {
			return err
		}
		return os.Symlink(target, kept)
	}
	in, err := os.Open(dest)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(kept, os.O_WRONLY|os.O_CREATE|os.O_EXCL, st.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// rollBack undoes the moves of moved: each destination gets back what it
// held (kept), or is removed if it held nothing.
func rollBack(dir, tmp string, moved []File, kept []bool) error {
	var failed []string
	for i := len(moved) - 1; i >= 0; i-- {
		dest := filepath.Join(dir, moved[i].Name)
		var err error
		if kept[i] {
			err = os.Rename(filepath.Join(tmp, keptPrefix+moved[i].Name), dest)
		} else {
			err = os.Remove(dest)
		}
		if err != nil {
			failed = append(failed, fmt.Sprintf("%s (%v)", moved[i].Name, err))
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("could not put back the previous %s in %s: it now holds a mix of old and new files", strings.Join(failed, ", "), dir)
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
