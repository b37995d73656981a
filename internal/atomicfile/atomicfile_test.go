package atomicfile_test

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/lsweep/lsweep/internal/atomicfile"
)

// names returns the names in dir, sorted.
func names(t *testing.T, dir string) []string {
	t.Helper()
	d, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	got, err := d.Readdirnames(-1)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	return got
}

// holds checks that dir holds the named files and no others.
func holds(t *testing.T, dir string, want ...string) {
	t.Helper()
	if got := names(t, dir); !slices.Equal(got, want) {
		t.Errorf("the folder holds %q, want %q", got, want)
	}
}

// check checks that the file at path holds data with permissions perm.
func check(t *testing.T, path, data string, perm fs.FileMode) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != data {
		t.Errorf("%s holds %q, want %q", path, b, data)
	}
	if runtime.GOOS == "windows" {
		return
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != perm {
		t.Errorf("%s has mode %v (%v), want %v", path, st.Mode(), err, perm)
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.txt")
	if err := atomicfile.WriteFile(path, []byte("one"), 0o644); err != nil {
		t.Fatal(err)
	}
	check(t, path, "one", 0o644)
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}

	// A replaced file gets the permissions given, whatever it had.
	if err := atomicfile.WriteFile(path, []byte("two"), 0o640); err != nil {
		t.Fatal(err)
	}
	check(t, path, "two", 0o640)

	// KeepPerm keeps them.
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := atomicfile.KeepPerm(path, 0o644); got != 0o600 && runtime.GOOS != "windows" {
		t.Errorf("KeepPerm of a file with mode 0600 = %v", got)
	}
	if got := atomicfile.KeepPerm(filepath.Join(dir, "none"), 0o644); got != 0o644 {
		t.Errorf("KeepPerm of no file = %v, want 0644", got)
	}
	if got := atomicfile.KeepPerm(dir, 0o644); got != 0o644 {
		t.Errorf("KeepPerm of a folder = %v, want 0644", got)
	}
	holds(t, dir, "a.txt")

	// A relative path, in the working folder.
	t.Chdir(dir)
	if err := atomicfile.WriteFile("b.txt", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	check(t, "b.txt", "", 0o644)
	holds(t, dir, "a.txt", "b.txt")
}

// TestWriteTemp checks where and under what name Write writes, and that
// RemoveTemps removes such files and no others.
func TestWriteTemp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.npz")
	var during []string
	err := atomicfile.Write(path, 0o644, func(w io.Writer) error {
		during = names(t, dir)
		_, err := io.WriteString(w, "data")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	check(t, path, "data", 0o644)
	if len(during) != 1 || !strings.HasPrefix(during[0], ".s.npz.") || !strings.HasSuffix(during[0], ".tmp") {
		t.Fatalf("while writing the folder holds %q, want one file .s.npz.*.tmp", during)
	}

	// What a killed write leaves, beside files that are not its.
	keep := []string{".s.npz.tmp", ".s.npzx.1.tmp", ".t.npz.1.tmp", "s.npz", "s.npz.1.tmp"}
	for _, name := range append([]string{during[0], ".s.npz.2.tmp"}, keep...) {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := atomicfile.RemoveTemps(path); err != nil {
		t.Fatal(err)
	}
	holds(t, dir, keep...)
	if err := atomicfile.RemoveTemps(filepath.Join(dir, "none", "s.npz")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("RemoveTemps in a missing folder: %v, want fs.ErrNotExist", err)
	}
}

// TestWriteFailure checks that a failed write leaves the old file as it
// was and no temporary file behind.
func TestWriteFailure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.txt")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	fail := errors.New("fill failed")
	err := atomicfile.Write(path, 0o644, func(w io.Writer) error {
		io.WriteString(w, "half")
		return fail
	})
	if err != fail {
		t.Errorf("Write with a failing fill: %v, want the fill's error itself", err)
	}
	check(t, path, "old", 0o600)
	holds(t, dir, "a.txt")

	// A failed rename, onto a folder that is not empty.
	if err := os.MkdirAll(filepath.Join(dir, "d", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, "d"), []byte("new"), 0o644); err == nil {
		t.Error("WriteFile onto a folder: no error")
	}
	holds(t, dir, "a.txt", "d")

	// A folder that does not exist.
	err = atomicfile.WriteFile(filepath.Join(dir, "none", "a.txt"), []byte("new"), 0o644)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("WriteFile into a missing folder: %v, want fs.ErrNotExist", err)
	}
}

func TestWriteNew(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "manifest.json")
	if err := atomicfile.WriteNew(path, []byte("first"), 0o644); err != nil {
		t.Fatal(err)
	}
	check(t, path, "first", 0o644)
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	err := atomicfile.WriteNew(path, []byte("second"), 0o644)
	if !errors.Is(err, fs.ErrExist) {
		t.Errorf("WriteNew onto a file: %v, want fs.ErrExist", err)
	}
	check(t, path, "first", 0o600)
	holds(t, dir, "manifest.json")
}
