package engine_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lsweep/lsweep/engine"
	"github.com/lsweep/lsweep/internal/fixtures"
	"github.com/lsweep/lsweep/internal/testenv"
)

// TestCUDAWithoutProvider asks for CUDA from the CPU library the tests
// load: New must refuse before making a session, in one line that names the
// missing provider library and how to get one.
func TestCUDAWithoutProvider(t *testing.T) {
	testenv.RequireRuntime(t)
	rt, _ := engine.Init("")
	if _, err := os.Stat(filepath.Join(filepath.Dir(rt.Path), "libonnxruntime_providers_cuda.so")); err == nil {
		t.Skipf("%s has the CUDA provider beside it", rt.Path)
	}
	tiny := fixtures.GemmTransB1()
	_, err := engine.New(writeModel(t, tiny), tinyData(tiny, 4), engine.Options{Device: "cuda"})
	if !errors.Is(err, engine.ErrNoCUDA) {
		t.Fatalf("err = %v, want ErrNoCUDA", err)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") || !strings.Contains(msg, "libonnxruntime_providers_cuda.so") || !strings.Contains(msg, "install-onnxruntime.sh --cuda") {
		t.Errorf("message: %q", msg)
	}
}
