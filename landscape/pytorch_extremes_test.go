package landscape_test

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/lsweep/lsweep/dataset"
	"github.com/lsweep/lsweep/internal/testenv"
	"github.com/lsweep/lsweep/landscape"
	"github.com/lsweep/lsweep/npz"
)

// firstOf writes the first n samples of the dataset at path (labels from
// yKey) as x and y of a new npz and returns its path.
func firstOf(t testing.TB, path, yKey string, n int) string {
	t.Helper()
	d, err := dataset.Load(path, dataset.Options{YKey: yKey})
	if err != nil {
		t.Fatal(err)
	}
	n = min(n, d.N())
	per := d.SampleLen()
	x := &npz.Array{Shape: append([]int{n}, d.XShape[1:]...), DType: "float32", Data: d.X[:n*per]}
	y := &npz.Array{Shape: []int{n}, DType: "int64", Data: d.Y[:n]}
	out := filepath.Join(t.TempDir(), "first.npz")
	if err := npz.WriteFile(out, []npz.Entry{{Name: "x", Array: x}, {Name: "y", Array: y}}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestExtremesAgainstPyTorch compares lambda_max and lambda_min at the
// centre of every committed classifier with PyTorch's float64 double-backward
// values on the same 256 samples (fixtures/gen/make_hvp_refs.py): lambda_max
// to 1e-3 relative and lambda_min to 1e-3 of lambda_max (ResNet-20: 1e-2, at
// a looser Lanczos tolerance, for time).
func TestExtremesAgainstPyTorch(t *testing.T) {
	testenv.RequireRuntime(t)
	const td = "../fixtures/testdata"
	for _, c := range []struct {
		model, data, yKey string
		tol, rel          float64
	}{
		{"digits/mlp_logsoftmax", "digits/data.npz", "", 1e-6, 1e-3},
		{"digits/mlp_softmax", "digits/data.npz", "", 1e-6, 1e-3},
		{"digits/mlp_sigmoid", "digits/data.npz", "y_even", 1e-6, 1e-3},
		{"digits/resnet_skip", "digits/data.npz", "", 1e-6, 1e-3},
		{"digits/resnet_noskip", "digits/data.npz", "", 1e-6, 1e-3},
		{"batch/small", "batch/train.npz", "", 1e-6, 1e-3},
		{"batch/large", "batch/train.npz", "", 1e-6, 1e-3},
		{"batch/small_wd", "batch/train.npz", "", 1e-6, 1e-3},
		{"batch/large_wd", "batch/train.npz", "", 1e-6, 1e-3},
		{"cifar/resnet20", "cifar/hess_data.npz", "", 1e-4, 1e-2},
	} {
		t.Run(filepath.Base(c.model), func(t *testing.T) {
			ref, err := npz.ReadFile(filepath.Join(td, c.model+".hvp.npz"))
			if err != nil {
				t.Fatal(err)
			}
			l, err := landscape.Open(landscape.Config{Model: filepath.Join(td, c.model+".onnx"), Data: firstOf(t, filepath.Join(td, c.data), c.yKey, 256)})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			e, err := l.Hessian(context.Background(), 0, 0, landscape.HessianOptions{Tol: c.tol, MaxIter: 300})
			if err != nil {
				t.Fatal(err)
			}
			wantMax, _ := ref["lambda_max_256"].Scalar()
			wantMin, _ := ref["lambda_min_256"].Scalar()
			t.Logf("lambda_max %.8g (PyTorch %.8g), lambda_min %.6g (PyTorch %.6g), %d products, %.1f s; check: %v",
				e.Max, wantMax, e.Min, wantMin, e.Products, e.Seconds, e.Check)
			if math.Abs(e.Max-wantMax) > c.rel*math.Abs(wantMax) || math.Abs(e.Min-wantMin) > c.rel*math.Abs(wantMax) {
				t.Errorf("lambda [%g, %g], PyTorch [%g, %g]", e.Min, e.Max, wantMin, wantMax)
			}
		})
	}
}
