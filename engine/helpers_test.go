package engine

import (
	"errors"
	"os"
	"testing"
)

// requireRuntime skips the test when the ONNX Runtime library is missing,
// unless CI is set: CI installs it, so there it must not skip.
func requireRuntime(tb testing.TB) {
	tb.Helper()
	if _, err := Init(""); err != nil {
		if errors.Is(err, ErrNoRuntime) && os.Getenv("CI") == "" {
			tb.Skipf("ONNX Runtime not installed: %v", err)
		}
		tb.Fatal(err)
	}
}
