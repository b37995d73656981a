package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDeviceCUDAMissing runs eval and run with --device cuda on a machine
// without the CUDA provider or without CUDA: both stop with status 2 and one
// line naming what is missing, and run leaves no output folder.
func TestDeviceCUDAMissing(t *testing.T) {
	requireRuntime(t)
	out := filepath.Join(t.TempDir(), "out")
	for _, args := range [][]string{
		{"eval", digitsModel, digitsData, "--device", "cuda"},
		{"run", digitsModel, digitsData, "--device", "cuda", "--x", "-1:1:3", "--out", out},
	} {
		r := run(t, args...)
		if r.code == 0 {
			t.Skipf("%s: CUDA works here", args[0])
		}
		if r.code != 2 || strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "lsweep: engine: --device cuda: ") {
			t.Errorf("%s: status %d, stderr %q", args[0], r.code, r.stderr)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("run made its output folder")
	}
}
