package engine_test

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/lsweep/lsweep/dataset"
	"github.com/lsweep/lsweep/engine"
	"github.com/lsweep/lsweep/internal/testenv"
	"github.com/lsweep/lsweep/onnx"
)

// TestHessianVectorDeterministic checks that the gradient and the product
// over a dataset have the same bits whatever the number of sessions and
// threads that share its batches.
func TestHessianVectorDeterministic(t *testing.T) {
	testenv.RequireRuntime(t)
	var want engine.HVP
	var wantGrad map[string][]float64
	for k, opts := range []engine.Options{{Sessions: 1, BatchSize: 100}, {Sessions: 2, BatchSize: 100}, {Sessions: 3, BatchSize: 100}, {Threads: 1, BatchSize: 100}, {Threads: 3, Sessions: 1, BatchSize: 100}} {
		m, err := onnx.Load(filepath.Join(digits, "resnet_skip.onnx"))
		if err != nil {
			t.Fatal(err)
		}
		d, err := dataset.Load(filepath.Join(digits, "data.npz"), dataset.Options{})
		if err != nil {
			t.Fatal(err)
		}
		e, err := engine.New(m, d, opts)
		if err != nil {
			t.Fatal(err)
		}
		dir := map[string][]float64{}
		rng := rand.New(rand.NewPCG(3, 4))
		for _, p := range e.Params() {
			if p.Role != onnx.RoleWeight {
				continue
			}
			v := make([]float64, p.Size())
			for i := range v {
				v[i] = rng.NormFloat64()
			}
			dir[p.Name] = v
		}
		got, err := e.HessianVector(context.Background(), nil, dir, 700)
		if err != nil {
			t.Fatal(err)
		}
		_, grad, err := e.Gradient(context.Background(), nil, 700)
		if err != nil {
			t.Fatal(err)
		}
		e.Close()
		if k == 0 {
			want, wantGrad = got, grad
			t.Logf("loss %.9g, slope %.9g", got.Loss, got.Slope)
			var gv float64
			for name, g := range grad {
				for i, x := range g {
					gv += x * dir[name][i]
				}
			}
			if math.Abs(gv-got.Slope) > 1e-5*math.Abs(gv) {
				t.Errorf("slope %.9g, gradient . direction %.9g", got.Slope, gv)
			}
			continue
		}
		if got.Loss != want.Loss || got.Slope != want.Slope {
			t.Errorf("%+v: loss %v slope %v, one session: %v %v", opts, got.Loss, got.Slope, want.Loss, want.Slope)
		}
		for name, v := range want.Product {
			if !slices.Equal(v, got.Product[name]) {
				t.Errorf("%+v: product for %s differs from one session's", opts, name)
			}
			if !slices.Equal(wantGrad[name], grad[name]) {
				t.Errorf("%+v: gradient for %s differs from one session's", opts, name)
			}
		}
	}
}
