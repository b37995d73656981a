package engine_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/lsweep/lsweep/dataset"
	"github.com/lsweep/lsweep/engine"
	"github.com/lsweep/lsweep/internal/fixtures"
	"github.com/lsweep/lsweep/internal/onnxpb"
	"github.com/lsweep/lsweep/internal/testenv"
	"github.com/lsweep/lsweep/onnx"
)

// directionalCheck compares the gradient at values with central differences
// of Evaluate's loss along random directions v: g.v against
// (L(th+eps v) - L(th-eps v)) / 2 eps. Directions scale each entry by the
// weight's magnitude (plus 0.05), like filter-normalised ones; tensors in
// skip get no direction. It returns the largest relative error, relative to
// max(|fd|, 1e-3 ||g|| ||v||).
func directionalCheck(t *testing.T, e *engine.Evaluator, values map[string][]float64, grad map[string][]float64, dirs int, eps float64, skip map[string]bool, seed uint64) float64 {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 5))
	worst := 0.0
	for k := 0; k < dirs; k++ {
		plus, minus := map[string][]float64{}, map[string][]float64{}
		var gv, gg, vv float64
		for name, th := range values {
			g := grad[name]
			if g == nil {
				plus[name], minus[name] = th, th
				continue
			}
			p, m := make([]float64, len(th)), make([]float64, len(th))
			for i, x := range th {
				v := r.NormFloat64() * (math.Abs(x) + 0.05)
				if skip[name] {
					v = 0
				}
				p[i], m[i] = x+eps*v, x-eps*v
				gv += g[i] * v
				gg += g[i] * g[i]
				vv += v * v
			}
			plus[name], minus[name] = p, m
		}
		// The loss of a ReLU network has kinks: a finite difference that
		// straddles one is off by O(eps), so take the best of a few steps.
		rel, fdBest := math.Inf(1), 0.0
		last := eps
		for _, h := range []float64{eps, eps / 3, eps / 10} {
			for name, th := range values {
				if grad[name] == nil {
					continue
				}
				for i, x := range th {
					d := (plus[name][i] - x) / last * h
					plus[name][i], minus[name][i] = x+d, x-d
				}
			}
			lp, err := e.Evaluate(context.Background(), plus)
			if err != nil {
				t.Fatal(err)
			}
			lm, err := e.Evaluate(context.Background(), minus)
			if err != nil {
				t.Fatal(err)
			}
			fd := (lp.Loss - lm.Loss) / (2 * h)
			if r := math.Abs(gv-fd) / max(math.Abs(fd), 1e-3*math.Sqrt(gg*vv)); r < rel {
				rel, fdBest = r, fd
			}
			last = h
		}
		t.Logf("direction %d: g.v %.6g, finite difference %.6g, relative error %.2g", k, gv, fdBest, rel)
		worst = max(worst, rel)
	}
	return worst
}

// weightValues returns the Evaluator's weights at base + scale * N(0,1) * |base|.
func weightValues(e *engine.Evaluator, scale float64, seed uint64) map[string][]float64 {
	r := rand.New(rand.NewPCG(seed, 3))
	out := map[string][]float64{}
	for _, p := range e.Params() {
		if p.Role != onnx.RoleWeight {
			continue
		}
		base := e.Base(p.Name)
		v := make([]float64, len(base))
		for i, b := range base {
			v[i] = b + scale*r.NormFloat64()*math.Abs(b)
		}
		out[p.Name] = v
	}
	return out
}

// TestGradientFixtures checks Evaluator.Gradient on every tiny fixture with
// a head: its loss equals Evaluate's, and its gradient agrees with finite
// differences of Evaluate's loss along random directions, at the fixture's
// weights and at perturbed ones. Batches of 3 on 7 samples leave a partial
// last batch (and FixedBatch1 runs rewritten to a dynamic batch).
func TestGradientFixtures(t *testing.T) {
	testenv.RequireRuntime(t)
	for _, tiny := range fixtures.All() {
		if tiny.Head == "" {
			continue
		}
		t.Run(tiny.Name, func(t *testing.T) {
			m := writeModel(t, tiny)
			d := tinyData(tiny, 7)
			e, err := engine.New(m, d, engine.Options{BatchSize: 3, Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			skip := map[string]bool{}
			for _, p := range e.Params() {
				if p.Role == onnx.RoleWeight && p.DType != onnx.Float {
					// float16 rounding of th + eps v swamps the difference.
					skip[p.Name] = true
				}
			}
			for point, scale := range []float64{0, 0.3} {
				values := weightValues(e, scale, uint64(point+1))
				l, grad, err := e.Gradient(context.Background(), values, 0)
				if err != nil {
					t.Fatal(err)
				}
				res, err := e.Evaluate(context.Background(), values)
				if err != nil {
					t.Fatal(err)
				}
				if math.Abs(l-res.Loss) > 1e-5*math.Abs(res.Loss) {
					t.Errorf("point %d: Gradient's loss %.8g, Evaluate's %.8g", point, l, res.Loss)
				}
				for _, p := range e.Params() {
					if p.Role == onnx.RoleWeight && len(grad[p.Name]) != int(p.Size()) {
						t.Fatalf("gradient of %q has %d values, want %d", p.Name, len(grad[p.Name]), p.Size())
					}
				}
				if rel := directionalCheck(t, e, values, grad, 3, 1e-3, skip, uint64(point)); rel > 1e-2 {
					t.Errorf("point %d: directional derivative off by %.3g (relative)", point, rel)
				}
			}
		})
	}
}

// TestGradientSubset checks that a subset of samples is the evenly spaced
// one: its loss equals Evaluate's on a dataset of those samples.
func TestGradientSubset(t *testing.T) {
	testenv.RequireRuntime(t)
	tiny := fixtures.ConvNet()
	m := writeModel(t, tiny)
	d := tinyData(tiny, 10)
	e, err := engine.New(m, d, engine.Options{BatchSize: 2, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	l, _, err := e.Gradient(context.Background(), nil, 4)
	if err != nil {
		t.Fatal(err)
	}
	sub := &dataset.Dataset{Path: d.Path, XKey: "x", YKey: "y", XDType: d.XDType, YDType: d.YDType, YIsInteger: true,
		XShape: append([]int{4}, d.XShape[1:]...), YShape: []int{4}}
	per := d.SampleLen()
	for _, i := range []int{0, 2, 5, 7} { // floor(j*10/4)
		sub.X = append(sub.X, d.X[i*per:(i+1)*per]...)
		sub.Y = append(sub.Y, d.Y[i])
	}
	e2, err := engine.New(m, sub, engine.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	res, err := e2.Evaluate(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(l-res.Loss) > 1e-5*res.Loss {
		t.Errorf("loss on the subset of 4: %.8g, Evaluate on those samples %.8g", l, res.Loss)
	}
	// Setting a bias (not differentiated) is honoured too.
	bias := append([]float64(nil), e.Base("fc.bias")...)
	bias[0] += 0.5
	l1, _, err := e.Gradient(context.Background(), map[string][]float64{"fc.bias": bias}, 0)
	if err != nil {
		t.Fatal(err)
	}
	res1, err := e.Evaluate(context.Background(), map[string][]float64{"fc.bias": bias})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(l1-res1.Loss) > 1e-5*res1.Loss {
		t.Errorf("with fc.bias set: Gradient's loss %.8g, Evaluate's %.8g", l1, res1.Loss)
	}
}

// TestGradientCancel checks that a cancelled context stops Gradient.
func TestGradientCancel(t *testing.T) {
	testenv.RequireRuntime(t)
	tiny := fixtures.ConvNet()
	e, err := engine.New(writeModel(t, tiny), tinyData(tiny, 10), engine.Options{BatchSize: 2, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := e.Gradient(ctx, nil, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Gradient returned %v", err)
	}
}

// TestGradientDigits checks the gradient of the PyTorch-exported digits
// models on the whole dataset: Gradient's loss against PyTorch's, and
// directional derivatives against finite differences of Evaluate, at the
// trained weights and at perturbed ones.
func TestGradientDigits(t *testing.T) {
	testenv.RequireRuntime(t)
	for _, c := range []struct{ model, yKey string }{
		{"resnet_skip", "y"},
		{"resnet_noskip", "y"},
		{"resnet_skip_folded", "y"},
		{"mlp_logsoftmax", "y"},
		{"mlp_softmax", "y"},
		{"mlp_sigmoid", "y_even"},
	} {
		t.Run(c.model, func(t *testing.T) {
			e := digitsEvaluator(t, c.model, c.yKey)
			ref := digitsRef(t, c.model)
			want, _ := ref["loss"].Scalar()
			for point, scale := range []float64{0, 0.2} {
				values := weightValues(e, scale, uint64(point+7))
				l, grad, err := e.Gradient(context.Background(), values, 0)
				if err != nil {
					t.Fatal(err)
				}
				if point == 0 {
					t.Logf("loss %.8g, PyTorch %.8g", l, want)
					if math.Abs(l-want) > 1e-4*want {
						t.Errorf("Gradient's loss %.8g, PyTorch's %.8g", l, want)
					}
				}
				if rel := directionalCheck(t, e, values, grad, 3, 1e-3, nil, uint64(point)); rel > 1e-2 {
					t.Errorf("point %d: directional derivative off by %.3g (relative)", point, rel)
				}
			}
		})
	}
}

// TestGradientStates checks Gradient with BatchNorm running statistics set
// (the "states" variant of the method): the gradient model is rebuilt with
// them, its loss equals Evaluate's and its gradient agrees with finite
// differences; and back at the untouched statistics, it is rebuilt again.
func TestGradientStates(t *testing.T) {
	testenv.RequireRuntime(t)
	e := digitsEvaluator(t, "resnet_skip", "")
	values := weightValues(e, 0.1, 3)
	for _, p := range e.Params() {
		if p.Role == onnx.RoleBNMean {
			v := append([]float64(nil), e.Base(p.Name)...)
			for i := range v {
				v[i] += 0.05
			}
			values[p.Name] = v
		}
	}
	for _, vals := range []map[string][]float64{values, weightValues(e, 0.1, 3)} {
		l, grad, err := e.Gradient(context.Background(), vals, 0)
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.Evaluate(context.Background(), vals)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("loss %.8g, Evaluate %.8g", l, res.Loss)
		if math.Abs(l-res.Loss) > 1e-5*res.Loss {
			t.Errorf("Gradient's loss %.8g, Evaluate's %.8g", l, res.Loss)
		}
		if rel := directionalCheck(t, e, vals, grad, 2, 1e-3, nil, 9); rel > 1e-2 {
			t.Errorf("directional derivative off by %.3g (relative)", rel)
		}
	}
}

// TestGradientFixedBatch checks a model exported with a fixed batch of 4 on
// 7 samples: the last batch is padded with copies of its last sample, which
// Gradient must not count.
func TestGradientFixedBatch(t *testing.T) {
	testenv.RequireRuntime(t)
	tiny := fixtures.GemmTransB1()
	g := tiny.Model.GetGraph()
	for _, vi := range append(g.GetInput(), g.GetOutput()...) {
		dim := vi.GetType().GetTensorType().GetShape().GetDim()[0]
		dim.Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: 4}
	}
	m := writeModel(t, tiny)
	d := tinyData(tiny, 7)
	e, err := engine.New(m, d, engine.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e.BatchSize() != 4 {
		t.Fatalf("batch size %d, want the fixed 4", e.BatchSize())
	}
	values := weightValues(e, 0.3, 4)
	l, grad, err := e.Gradient(context.Background(), values, 0)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Evaluate(context.Background(), values)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(l-res.Loss) > 1e-5*res.Loss {
		t.Errorf("Gradient's loss %.8g, Evaluate's %.8g", l, res.Loss)
	}
	if rel := directionalCheck(t, e, values, grad, 3, 1e-3, nil, 4); rel > 1e-2 {
		t.Errorf("directional derivative off by %.3g (relative)", rel)
	}
}

// TestGradientExternalData checks a model whose tensors live in an external
// data file: the gradient model keeps referring to it.
func TestGradientExternalData(t *testing.T) {
	testenv.RequireRuntime(t)
	dir := t.TempDir()
	tiny, err := fixtures.ExternalData(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := onnx.Load(filepath.Join(dir, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(m, tinyData(tiny, 7), engine.Options{BatchSize: 3, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	values := weightValues(e, 0.2, 5)
	values["fc1.bias"] = []float64{0.1, 0.2, 0.3, 0.4, 0.5}
	l, grad, err := e.Gradient(context.Background(), values, 0)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Evaluate(context.Background(), values)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(l-res.Loss) > 1e-5*res.Loss {
		t.Errorf("Gradient's loss %.8g, Evaluate's %.8g", l, res.Loss)
	}
	if rel := directionalCheck(t, e, values, grad, 2, 1e-3, nil, 5); rel > 1e-2 {
		t.Errorf("directional derivative off by %.3g (relative)", rel)
	}
}
