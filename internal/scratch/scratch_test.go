//go:build unix

package scratch

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestCreateRemovesStale checks that Create removes exactly the files of its
// kind that an ended process of this host left: not those of a running
// process, of another host, or of another kind.
func TestCreateRemovesStale(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no process to end:", err)
	}
	dead := strconv.Itoa(cmd.Process.Pid)
	live := strconv.Itoa(os.Getpid())
	files := map[string]bool{ // name: removed
		".lsweep-weights-" + host() + "-" + dead + "-123.data": true,
		".lsweep-weights-" + host() + "-" + live + "-456.data": false,
		".lsweep-weights-otherhost-" + dead + "-789.data":      false,
		".lsweep-directions-" + host() + "-" + dead + "-1.npz": false,
		"weights-" + host() + "-" + dead + "-2.data":           false,
		".lsweep-weights-" + host() + "-notapid-3.data":        false,
	}
	for name := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	path, err := Create(dir, "weights", "data")
	if err != nil {
		t.Fatal(err)
	}
	if base := filepath.Base(path); !strings.HasPrefix(base, ".lsweep-weights-"+host()+"-"+live+"-") || !strings.HasSuffix(base, ".data") {
		t.Errorf("made %s", base)
	}
	for name, removed := range files {
		_, err := os.Stat(filepath.Join(dir, name))
		if gone := os.IsNotExist(err); gone != removed {
			t.Errorf("%s: removed %v, want %v", name, gone, removed)
		}
	}
	// The file just made is its own process's: never stale while it runs.
	if s := Stale(dir, "weights"); slices.Contains(s, path) || len(s) != 0 {
		t.Errorf("stale after Create: %q", s)
	}
}
