package regularfile_test

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/lsweep/lsweep/internal/regularfile"
)

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("no FIFO here: %v", err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(fifo, link); err != nil {
		t.Fatal(err)
	}
	if _, err := regularfile.Check(file, false); err != nil {
		t.Errorf("regular file: %v", err)
	}
	for _, p := range []string{fifo, link} {
		// Open must return at once with the error, not block.
		if f, err := regularfile.Open(p); !errors.Is(err, regularfile.ErrNotRegular) {
			t.Errorf("%s: error %v, want ErrNotRegular", p, err)
			if f != nil {
				f.Close()
			}
		}
	}
	if _, err := regularfile.Check(dir, false); !errors.Is(err, regularfile.ErrNotRegular) {
		t.Errorf("folder: %v", err)
	}
	if _, err := regularfile.Check(dir, true); err != nil {
		t.Errorf("folder allowed: %v", err)
	}
}
