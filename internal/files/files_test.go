package files

import (
	"context"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestReadRegularRefusesWhatIsNotAPlainFileAndWhatIsTooLarge(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{fifo, "/dev/zero", dir} {
		if _, err := ReadRegular(path, 1<<20); !errors.Is(err, ErrNotRegular) {
			t.Errorf("%s: want ErrNotRegular, got %v", path, err)
		}
	}
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, 11), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadRegular(big, 10); !errors.Is(err, ErrTooLarge) {
		t.Errorf("want ErrTooLarge, got %v", err)
	}
	if b, err := ReadRegular(big, 11); err != nil || len(b) != 11 {
		t.Errorf("a file at the limit: got %d bytes, %v", len(b), err)
	}
}

func TestLockFolderRefusesASecondHolderUntilReleased(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	first, err := LockFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LockFolder(dir); !errors.Is(err, ErrLocked) {
		t.Fatalf("second lock: want ErrLocked, got %v", err)
	}
	if err := first.Release(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, LockName)); !os.IsNotExist(err) {
		t.Fatalf("the lock file is left after release: %v", err)
	}
	second, err := LockFolder(dir)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	if err := second.Release(); err != nil {
		t.Fatal(err)
	}
}

func TestAbandonRemovesOnlyTheEmptyFoldersTheLockCreated(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "new", "deeper")
	l, err := LockFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Abandon(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "new")); !os.IsNotExist(err) {
		t.Fatalf("the folders the lock created are left: %v", err)
	}
	if _, err := os.Stat(root); err != nil {
		t.Fatalf("a folder that existed before was removed: %v", err)
	}
}

func TestWriteAllWritesEveryFileOrNone(t *testing.T) {
	dir := t.TempDir()
	set := []File{
		{Name: "a", Write: func(w io.Writer) error { _, err := io.WriteString(w, "A"); return err }},
		{Name: "b", Write: func(w io.Writer) error { return errors.New("disk full") }},
	}
	if err := WriteAll(context.Background(), dir, set, nil); err == nil {
		t.Fatal("want the write error")
	}
	if names, _ := os.ReadDir(dir); len(names) != 0 {
		t.Fatalf("a failed write left %v", names)
	}
	set[1].Write = func(w io.Writer) error { _, err := io.WriteString(w, "B"); return err }
	if err := WriteAll(context.Background(), dir, set, nil); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "b")); string(b) != "B" {
		t.Fatalf("b holds %q", b)
	}
	if names, _ := os.ReadDir(dir); len(names) != 2 {
		t.Fatalf("want a and b only, got %v", names)
	}
}

func TestAppendRegularAppendsToAFileAndRefusesAFIFOWithoutWaiting(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "summary.md")
	for _, part := range []string{"a\n", "b\n"} {
		if err := AppendRegular(path, []byte(part)); err != nil {
			t.Fatal(err)
		}
	}
	if b, _ := os.ReadFile(path); string(b) != "a\nb\n" {
		t.Fatalf("got %q", b)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	// Nobody reads it: a blocking open would never return.
	for _, p := range []string{fifo, dir, "/dev/null"} {
		if err := AppendRegular(p, []byte("x")); !errors.Is(err, ErrNotRegular) {
			t.Errorf("%s: want ErrNotRegular, got %v", p, err)
		}
	}
}

// text is a File writing s.
func text(name, s string) File {
	return File{Name: name, Write: func(w io.Writer) error { _, err := io.WriteString(w, s); return err }}
}

func contents(t *testing.T, dir string) map[string]string {
	t.Helper()
	got := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			got[e.Name()] = "<folder>"
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		got[e.Name()] = string(b)
	}
	return got
}

func TestWriteAllMovesNothingWhenADestinationIsAFolder(t *testing.T) {
	dir := t.TempDir()
	if err := WriteAll(context.Background(), dir, []File{text("a", "old a"), text("c", "old c")}, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := WriteAll(context.Background(), dir, []File{text("a", "new a"), text("b", "new b"), text("c", "new c")}, nil)
	if err == nil || !strings.Contains(err.Error(), "is a folder, not a file: nothing was moved") {
		t.Fatalf("want the folder named, got %v", err)
	}
	want := map[string]string{"a": "old a", "b": "<folder>", "c": "old c"}
	if got := contents(t, dir); !maps.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestWriteAllPutsBackWhatItReplacedWhenAMoveFails(t *testing.T) {
	dir := t.TempDir()
	if err := WriteAll(context.Background(), dir, []File{text("a", "old a"), text("c", "old c")}, nil); err != nil {
		t.Fatal(err)
	}
	FailMove = func(name string) error {
		if name == "c" {
			return errors.New("no space left on device")
		}
		return nil
	}
	defer func() { FailMove = nil }()
	err := WriteAll(context.Background(), dir, []File{text("a", "new a"), text("b", "new b"), text("c", "new c")}, nil)
	if err == nil || !strings.Contains(err.Error(), "move c into place: no space left on device: "+dir+" is as it was") {
		t.Fatalf("got %v", err)
	}
	want := map[string]string{"a": "old a", "c": "old c"}
	if got := contents(t, dir); !maps.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	FailMove = nil
	if err := WriteAll(context.Background(), dir, []File{text("a", "new a"), text("b", "new b"), text("c", "new c")}, nil); err != nil {
		t.Fatal(err)
	}
	want = map[string]string{"a": "new a", "b": "new b", "c": "new c"}
	if got := contents(t, dir); !maps.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// A folder that cannot be made (its name is too long) leaves none of the
// parents made on the way to it (a breaker trial's --out n1/n2/<300 chars>).
func TestLockFolderThatCannotBeMadeLeavesNoParents(t *testing.T) {
	root := t.TempDir()
	long := strings.Repeat("x", 300)
	if _, err := LockFolder(filepath.Join(root, "n1", "n2", long)); err == nil {
		t.Fatal("a 300-character folder name was accepted")
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Fatalf("left behind %v", entries)
	}
}
