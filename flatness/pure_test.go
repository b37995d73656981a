package flatness_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestPure: the verdict needs no ONNX Runtime; nothing flatness imports
// reaches the engine or cgo.
func TestPure(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		switch {
		case dep == "runtime/cgo", strings.HasPrefix(dep, "github.com/lsweep/lsweep/engine"),
			strings.HasPrefix(dep, "github.com/lsweep/lsweep/landscape"), strings.HasPrefix(dep, "github.com/yalue/"):
			t.Errorf("flatness depends on %s", dep)
		}
	}
}
