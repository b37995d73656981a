// Package testenv holds test helpers that depend on what a machine has
// installed.
package testenv

import (
	"errors"
	"os"
	"testing"

	"github.com/lsweep/lsweep/engine"
)

// RequireRuntime loads the ONNX Runtime library and skips the test when it is
// missing, unless CI is set: CI installs the library, so there a missing
// library fails the test instead of hiding it.
func RequireRuntime(tb testing.TB) {
	tb.Helper()
	if _, err := engine.Init(""); err != nil {
		if errors.Is(err, engine.ErrNoRuntime) && os.Getenv("CI") == "" {
			tb.Skipf("ONNX Runtime not installed (scripts/install-onnxruntime.sh): %v", err)
		}
		tb.Fatal(err)
	}
}
