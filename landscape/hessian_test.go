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
	"github.com/lsweep/lsweep/fixtures"
	"github.com/lsweep/lsweep/hessian"
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

// TestLanczosAgainstDenseHessian builds the whole Hessian of a tiny MLP and a
// tiny CNN column by column from the same finite differences of gradients,
// diagonalises it with gonum, and checks that Lanczos finds its extremes.
// The CNN's ReLUs become Tanh: with 3,200 ReLU activations a finite
// difference along a unit vector crosses kinks often enough to make the
// column-by-column matrix noise, while Lanczos's random directions average
// over them (TestLambdaMaxAgainstPyTorch shows the effect on a ResNet).
func TestLanczosAgainstDenseHessian(t *testing.T) {
	testenv.RequireRuntime(t)
	smoothCNN := fixtures.ConvNet()
	for _, n := range smoothCNN.Model.GetGraph().GetNode() {
		if n.GetOpType() == "Relu" {
			n.OpType = proto.String("Tanh")
		}
	}
	for _, tiny := range []*fixtures.Tiny{fixtures.GemmTransB1(), smoothCNN} {
		t.Run(tiny.Name, func(t *testing.T) {
			dir := t.TempDir()
			modelPath := filepath.Join(dir, "model.onnx")
			data, _ := proto.Marshal(tiny.Model)
			os.WriteFile(modelPath, data, 0o644)
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
			defer l.Close()
			ev := l.Engine()
			var names []string
			var x0 []float64
			for _, p := range l.Params() {
				if p.Name != "" && len(p.Shape) >= 2 {
					names = append(names, p.Name)
					x0 = append(x0, p.Values...)
				}
			}
			n := len(x0)
			grad := func(ctx context.Context, dst, x []float64) error {
				values := map[string][]float64{}
				off := 0
				for _, p := range l.Params() {
					if len(p.Shape) >= 2 {
						values[p.Name] = x[off : off+len(p.Values)]
						off += len(p.Values)
					}
				}
				_, g, err := ev.Gradient(ctx, values, 0)
				if err != nil {
					return err
				}
				off = 0
				for _, name := range names {
					copy(dst[off:], g[name])
					off += len(g[name])
				}
				return nil
			}
			op := &hessian.FiniteDifference{Grad: grad, X: x0, Float32: true}
			dense := mat.NewSymDense(n, nil)
			col := make([]float64, n)
			unit := make([]float64, n)
			cols := make([][]float64, n)
			for j := 0; j < n; j++ {
				unit[j] = 1
				if err := op.Apply(context.Background(), col, unit); err != nil {
					t.Fatal(err)
				}
				unit[j] = 0
				cols[j] = append([]float64(nil), col...)
			}
			for i := 0; i < n; i++ {
				for j := i; j < n; j++ {
					dense.SetSym(i, j, (cols[i][j]+cols[j][i])/2)
				}
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
			t.Logf("%d parameters: dense [%.6g, %.6g], Lanczos [%.6g, %.6g] in %d products", n, wantMin, wantMax, res.Min, res.Max, res.Products)
			if math.Abs(res.Max-wantMax) > 1e-3*math.Abs(wantMax) || math.Abs(res.Min-wantMin) > 1e-3*scale {
				t.Errorf("Lanczos [%g, %g], dense [%g, %g]", res.Min, res.Max, wantMin, wantMax)
			}
		})
	}
}
