package pipeline_test

import (
	"path/filepath"
	"testing"

	"github.com/lsweep/lsweep/internal/fixtures"
)

const (
	digits     = "../fixtures/testdata/digits"
	digitsData = digits + "/data.npz"
	batch      = "../fixtures/testdata/batch"
)

// rescaled writes a copy of a ReLU network in which layer first (its
// weight and bias) is multiplied by c and layer next's weight by 1/c: the
// same function, by positive homogeneity, but weights of other sizes (see
// fixtures.RescaledMLP).
func rescaled(t testing.TB, model, first, next string, c float64) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "rescaled.onnx")
	if err := fixtures.RescaledMLP(model, path, first, next, c); err != nil {
		t.Fatal(err)
	}
	return path
}

// flatInput writes a copy of a model whose input is declared [N, 64]
// rather than [N, 1, 8, 8]: a model that takes other inputs (see
// fixtures.FlatInputMLP).
func flatInput(t testing.TB, model string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "flat.onnx")
	if err := fixtures.FlatInputMLP(model, path); err != nil {
		t.Fatal(err)
	}
	return path
}
