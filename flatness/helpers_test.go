package flatness_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/lsweep/lsweep/internal/onnxpb"
	"github.com/lsweep/lsweep/onnx"
)

const (
	digits     = "../fixtures/testdata/digits"
	digitsData = digits + "/data.npz"
	batch      = "../fixtures/testdata/batch"
)

// rescaled writes a copy of a ReLU network in which layer first (its
// weight and bias) is multiplied by c and layer next's weight by 1/c: the
// same function, by positive homogeneity, but weights of other sizes.
func rescaled(t testing.TB, model, first, next string, c float64) string {
	t.Helper()
	m, err := onnx.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	scale := map[string]float64{first + ".weight": c, first + ".bias": c, next + ".weight": 1 / c}
	var names []string
	for name := range scale {
		names = append(names, name)
	}
	patch, err := m.NewPatcher(names)
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range scale {
		v, err := m.Value(name)
		if err != nil {
			t.Fatal(err)
		}
		for i := range v {
			v[i] *= s
		}
		if err := patch.Set(name, v); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "rescaled.onnx")
	if err := os.WriteFile(path, patch.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// flatInput writes a copy of a model whose input is declared [N, 64]
// rather than [N, 1, 8, 8] (the MLPs flatten it first, so the graph still
// runs): a model that takes other inputs.
func flatInput(t testing.TB, model string) string {
	t.Helper()
	m, err := onnx.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	shape := m.Graph().GetInput()[0].GetType().GetTensorType().GetShape()
	shape.Dim = shape.Dim[:2]
	shape.Dim[1].Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: 64}
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "flat.onnx")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
