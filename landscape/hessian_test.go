package landscape_test

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
	"google.golang.org/protobuf/proto"

	"github.com/lsweep/lsweep/dataset"
	"github.com/lsweep/lsweep/engine"
	"github.com/lsweep/lsweep/hessian"
	"github.com/lsweep/lsweep/internal/fixtures"
	"github.com/lsweep/lsweep/internal/testenv"
	"github.com/lsweep/lsweep/landscape"
	"github.com/lsweep/lsweep/npz"
	"github.com/lsweep/lsweep/onnx"
)

// firstSamples is the digits data cut to its first n samples, as the
// PyTorch references of fixtures/gen/make_hessian_refs.py use them.
func firstSamples(t *testing.T, n int) *dataset.Dataset {
	d, err := dataset.Load(digitsData, dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	per := d.SampleLen()
	d.X, d.Y = d.X[:n*per], d.Y[:n]
	d.XShape[0], d.YShape[0] = n, n
	return d
}

// TestGradientAgainstPyTorch compares lsweep's gradient graph, run by ONNX
// Runtime, with PyTorch's autograd gradient saved at fixture generation
// (first 256 samples, float64).
func TestGradientAgainstPyTorch(t *testing.T) {
	testenv.RequireRuntime(t)
	for _, name := range []string{"mlp_logsoftmax", "resnet_skip"} {
		t.Run(name, func(t *testing.T) {
			ref, err := npz.ReadFile(filepath.Join(digits, name+".hess.npz"))
			if err != nil {
				t.Fatal(err)
			}
			m, err := onnx.Load(filepath.Join(digits, name+".onnx"))
			if err != nil {
				t.Fatal(err)
			}
			e, err := engine.New(m, firstSamples(t, 256), engine.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			l, g, err := e.Gradient(context.Background(), nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			wantLoss, _ := ref["loss_256"].Scalar()
			var diff, norm float64
			for key, a := range ref {
				w, ok := strings.CutPrefix(key, "grad256/")
				if !ok {
					continue
				}
				got := g[w]
				if len(got) != len(a.Data) {
					t.Fatalf("%s: %d gradient values, PyTorch %d", w, len(got), len(a.Data))
				}
				for i := range got {
					diff += (got[i] - a.Data[i]) * (got[i] - a.Data[i])
					norm += a.Data[i] * a.Data[i]
				}
			}
			rel := math.Sqrt(diff / norm)
			t.Logf("loss %.9g (PyTorch %.9g); gradient relative error %.2g", l, wantLoss, rel)
			if rel > 1e-4 || math.Abs(l-wantLoss) > 1e-5*wantLoss {
				t.Errorf("gradient relative error %g, loss %g vs %g", rel, l, wantLoss)
			}
		})
	}
}

// TestLambdaMaxAgainstPyTorch compares lambda_max at the trained MLP with
// PyTorch's (autograd Hessian-vector products, converged to 1e-8) over all
// 1797 samples. For the ResNet the values are reported, not asserted: a
// float32 finite difference across ReLU kinks measures a smoothed curvature
// (see package hessian).
func TestLambdaMaxAgainstPyTorch(t *testing.T) {
	testenv.RequireRuntime(t)
	for _, c := range []struct {
		name   string
		assert bool
	}{{"mlp_logsoftmax", true}, {"resnet_skip", true}} {
		ref, err := npz.ReadFile(filepath.Join(digits, c.name+".hess.npz"))
		if err != nil {
			t.Fatal(err)
		}
		l, err := landscape.Open(landscape.Config{Model: filepath.Join(digits, c.name+".onnx"), Data: digitsData})
		if err != nil {
			t.Fatal(err)
		}
		e, err := l.Hessian(context.Background(), 0, 0, landscape.HessianOptions{Tol: 1e-6})
		l.Close()
		if err != nil {
			t.Fatal(err)
		}
		wantMax, _ := ref["lambda_max_all"].Scalar()
		wantMin, _ := ref["lambda_min_all"].Scalar()
		rel := math.Abs(e.Max-wantMax) / wantMax
		t.Logf("%s: check: %v", c.name, e.Check)
		t.Logf("%s: lambda_max %.6g (PyTorch %.6g, relative error %.2g), lambda_min %.4g (PyTorch %.4g), %d products, %.1f s",
			c.name, e.Max, wantMax, rel, e.Min, wantMin, e.Products, e.Seconds)
		if c.assert && rel > 1e-3 {
			t.Errorf("%s: lambda_max %g, PyTorch %g", c.name, e.Max, wantMax)
		}
	}
}

// tinyLandscape writes a tiny fixture and 32 random samples for it to a
// temporary folder and opens a Landscape over them.
func tinyLandscape(t *testing.T, tiny *fixtures.Tiny) *landscape.Landscape {
	t.Helper()
	dir := t.TempDir()
	modelPath := filepath.Join(dir, "model.onnx")
	data, err := proto.Marshal(tiny.Model)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(modelPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	x := fixtures.RandomInput(tiny, 32, 5)
	shape := make([]int, len(x.Shape))
	for i, s := range x.Shape {
		shape[i] = int(s)
	}
	y := &npz.Array{Shape: []int{32}, DType: "int64"}
	for _, v := range fixtures.Labels(tiny, 32, 6) {
		y.Data = append(y.Data, float64(v))
	}
	dataPath := filepath.Join(dir, "data.npz")
	if err := npz.WriteFile(dataPath, []npz.Entry{{Name: "x", Array: &npz.Array{Shape: shape, DType: "float32", Data: x.Data}}, {Name: "y", Array: y}}); err != nil {
		t.Fatal(err)
	}
	l, err := landscape.Open(landscape.Config{Model: modelPath, Data: dataPath})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// denseHessian builds the matrix of op column by column from products with
// unit vectors and returns it with the largest asymmetry |H_ij - H_ji|
// relative to max |H_ij|.
func denseHessian(t *testing.T, op hessian.Operator) (*mat.SymDense, float64) {
	t.Helper()
	n := op.Len()
	cols := make([][]float64, n)
	unit := make([]float64, n)
	for j := 0; j < n; j++ {
		unit[j] = 1
		cols[j] = make([]float64, n)
		if err := op.Apply(context.Background(), cols[j], unit); err != nil {
			t.Fatal(err)
		}
		unit[j] = 0
	}
	dense := mat.NewSymDense(n, nil)
	var asym, big float64
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			dense.SetSym(i, j, (cols[i][j]+cols[j][i])/2)
			asym = max(asym, math.Abs(cols[i][j]-cols[j][i]))
			big = max(big, math.Abs(cols[i][j]))
		}
	}
	return dense, asym / big
}

// TestLanczosAgainstDenseHessian builds the whole Hessian of tiny models
// (an MLP and a CNN with ReLUs, an MLP with Tanh) column by column from exact
// products, checks that it is symmetric (the products are the derivative of
// one gradient: an asymmetric matrix would show a wrong second-order rule),
// diagonalises it with gonum, and checks that Lanczos finds its extremes.
func TestLanczosAgainstDenseHessian(t *testing.T) {
	testenv.RequireRuntime(t)
	for _, tiny := range []*fixtures.Tiny{fixtures.GemmTransB1(), fixtures.ConvNet(), fixtures.SmoothMLP()} {
		t.Run(tiny.Name, func(t *testing.T) {
			l := tinyLandscape(t, tiny)
			op, err := l.HessianOperator(0, 0, landscape.HessianOptions{})
			if err != nil {
				t.Fatal(err)
			}
			n := op.Len()
			dense, asym := denseHessian(t, op)
			if asym > 1e-5 {
				t.Errorf("the Hessian is not symmetric: max |H_ij - H_ji| / max |H_ij| = %.3g", asym)
			}
			var eig mat.EigenSym
			if !eig.Factorize(dense, false) {
				t.Fatal("dense eigendecomposition failed")
			}
			vals := eig.Values(nil)
			wantMin, wantMax := vals[0], vals[n-1]
			res, err := hessian.Lanczos(context.Background(), op, rand.New(rand.NewPCG(1, 2)), &hessian.Options{Tol: 1e-8, MaxIter: n})
			if err != nil {
				t.Fatal(err)
			}
			scale := math.Max(math.Abs(wantMin), math.Abs(wantMax))
			t.Logf("%d parameters: asymmetry %.2g; dense [%.6g, %.6g], Lanczos [%.6g, %.6g] in %d products", n, asym, wantMin, wantMax, res.Min, res.Max, res.Products)
			if math.Abs(res.Max-wantMax) > 1e-6*math.Abs(wantMax) || math.Abs(res.Min-wantMin) > 1e-6*scale {
				t.Errorf("Lanczos [%g, %g], dense [%g, %g]", res.Min, res.Max, wantMin, wantMax)
			}
		})
	}
}
