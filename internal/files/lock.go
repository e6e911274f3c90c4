package files

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// LockName is the lock file a command holds in its output folder while it
// may write there.
const LockName = ".chaosdrill.lock"

// ErrLocked is an output folder another chaosdrill command holds.
var ErrLocked = errors.New("in use by another chaosdrill command")

// Lock is the hold of one command on an output folder: while it is held, no
// other chaosdrill command can take the folder, so two runs never write into
// one folder at once. The lock is the operating system's (flock on Unix),
// so a command that is killed lets go of it with its process.
type Lock struct {
	dir     string
	file    *os.File
	created string // the outermost folder LockFolder created; "" if dir existed
}

// LockFolder takes the lock on dir, creating the folder (and its missing
// parents) if needed. It does not wait: if another command holds the folder
// it returns an error wrapping ErrLocked that names that command's process.
func LockFolder(dir string) (*Lock, error) {
	created, err := mkdirAllCreated(dir)
	if err != nil {
		return nil, err
	}
	l := &Lock{dir: dir, created: created}
	path := filepath.Join(dir, LockName)
	// A holder that releases between our open and our lock removes the
	// file it locked; locking that removed file would lock nothing, so
	// the lock is taken again on the file now at the path.
	for attempt := 0; attempt < 10; attempt++ {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			l.removeCreated()
			return nil, fmt.Errorf("lock %s: %w", dir, err)
		}
		held, err := tryLock(f)
		if err != nil || !held {
			f.Close()
			l.removeCreated()
			if err != nil {
				return nil, fmt.Errorf("lock %s: %w", dir, err)
			}
			return nil, fmt.Errorf("%s: %w%s", dir, ErrLocked, holder(path))
		}
		if same, err := samePath(f, path); err != nil || !same {
			unlock(f)
			f.Close()
			continue
		}
		_ = f.Truncate(0)
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
		l.file = f
		return l, nil
	}
	l.removeCreated()
	return nil, fmt.Errorf("%s: %w (its lock file keeps changing)", dir, ErrLocked)
}

// holder names the process that holds the lock file at path, as far as
// the file says.
func holder(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	pid := strings.TrimSpace(string(b))
	if _, err := strconv.Atoi(pid); err != nil {
		return ""
	}
	return " (process " + pid + ")"
}

func samePath(f *os.File, path string) (bool, error) {
	held, err := f.Stat()
	if err != nil {
		return false, err
	}
	now, err := os.Stat(path)
	if err != nil {
		return false, nil
	}
	return os.SameFile(held, now), nil
}

// Release removes the lock file and lets the folder go; what was written
// stays.
func (l *Lock) Release() error {
	if l == nil || l.file == nil {
		return nil
	}
	err := os.Remove(filepath.Join(l.dir, LockName))
	unlock(l.file)
	if cerr := l.file.Close(); err == nil {
		err = cerr
	}
	l.file = nil
	return err
}

// Abandon releases the lock and removes the folders LockFolder created, if
// they hold nothing else: after an interrupt the command leaves nothing new
// behind.
func (l *Lock) Abandon() error {
	err := l.Release()
	if l != nil {
		l.removeCreated()
	}
	return err
}

// removeCreated removes, innermost first, the folders LockFolder created
// that are empty.
func (l *Lock) removeCreated() { removeCreated(l.dir, l.created) }

// removeCreated removes dir and its parents up to created (the outermost
// folder mkdirAllCreated made for dir), innermost first, as long as each
// is empty; nothing when created is "".
func removeCreated(dir, created string) {
	if created == "" {
		return
	}
	for p := filepath.Clean(dir); ; p = filepath.Dir(p) {
		if os.Remove(p) != nil || p == filepath.Clean(created) {
			return
		}
	}
}

// mkdirAllCreated creates dir and its missing parents, and returns the
// outermost folder it created ("" when dir existed).
func mkdirAllCreated(dir string) (string, error) {
	clean := filepath.Clean(dir)
	outermost := ""
	for p := clean; ; p = filepath.Dir(p) {
		if _, err := os.Stat(p); err == nil {
			break
		}
		outermost = p
		if filepath.Dir(p) == p {
			break
		}
	}
	if err := os.MkdirAll(clean, 0o755); err != nil {
		// MkdirAll may have made some of the parents before failing (a
		// name too long, a full disk): remove those it made, innermost
		// first, each only if empty. The failing ones were never made, so
		// errors are expected and skipped.
		if outermost != "" {
			for p := clean; ; p = filepath.Dir(p) {
				_ = os.Remove(p)
				if p == outermost || filepath.Dir(p) == p {
					break
				}
			}
		}
		return "", fmt.Errorf("create %s: %w", dir, err)
	}
	return outermost, nil
}
