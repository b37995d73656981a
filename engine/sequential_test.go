package engine_test

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/lsweep/lsweep/dataset"
	"github.com/lsweep/lsweep/engine"
	"github.com/lsweep/lsweep/estimate"
	"github.com/lsweep/lsweep/internal/testenv"
	"github.com/lsweep/lsweep/loss"
	"github.com/lsweep/lsweep/onnx"
)

// TestEvaluateSequential checks a prefix estimate against the mean of the
// same samples' losses computed one by one from the model's outputs, the
// whole-data estimate against Evaluate, and the bits across sessions.
func TestEvaluateSequential(t *testing.T) {
	testenv.RequireRuntime(t)
	ctx := context.Background()
	e := digitsEvaluator(t, "resnet_skip", "")
	// Weights moved off the minimum, where the losses spread.
	values := map[string][]float64{}
	for _, p := range e.Params() {
		if p.Role == onnx.RoleWeight {
			v := append([]float64(nil), e.Base(p.Name)...)
			for i := range v {
				v[i] *= 1 + 0.4*math.Sin(float64(i))
			}
			values[p.Name] = v
		}
	}
	n := e.Samples()
	loose := estimate.NewPlan(n, estimate.Rule{Rel: 0.2, Abs: 0.01})
	got, err := e.EvaluateSequential(ctx, values, loose, 5)
	if err != nil {
		t.Fatal(err)
	}
	if got.N >= n || got.SE <= 0 {
		t.Fatalf("a loose rule used %d of %d samples with se %g: expected an early stop", got.N, n, got.SE)
	}
	out, err := e.Predict(ctx, values)
	if err != nil {
		t.Fatal(err)
	}
	d, err := dataset.Load(filepath.Join(digits, "data.npz"), dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w := e.OutputWidth()
	var sum, sq float64
	for _, i := range estimate.Order(n, 5)[:got.N] {
		s := loss.NewSum(e.Head(), w)
		if err := loss.Add(s, out[i*w:(i+1)*w], d.Y[i:i+1]); err != nil {
			t.Fatal(err)
		}
		sum += s.Loss()
		sq += s.Loss() * s.Loss()
	}
	mean := sum / float64(got.N)
	if math.Abs(got.Loss-mean) > 1e-9*mean {
		t.Errorf("prefix of %d: loss %.12g, the samples' own mean %.12g", got.N, got.Loss, mean)
	}
	sd := math.Sqrt((sq - sum*mean) / float64(got.N-1))
	if want := sd / math.Sqrt(float64(got.N)) * math.Sqrt(float64(n-got.N)/float64(n-1)); math.Abs(got.SE-want) > 1e-6*want {
		t.Errorf("se %.9g, want %.9g", got.SE, want)
	}

	full, err := e.Evaluate(ctx, values)
	if err != nil {
		t.Fatal(err)
	}
	strict := estimate.NewPlan(n, estimate.Rule{Rel: 1e-9, Abs: 1e-12})
	all, err := e.EvaluateSequential(ctx, values, strict, 5)
	if err != nil {
		t.Fatal(err)
	}
	if all.N != n || all.SE != 0 || math.Abs(all.Loss-full.Loss) > 1e-12*full.Loss || all.Accuracy != full.Accuracy {
		t.Errorf("strict rule: %+v, want every sample and Evaluate's %+v", all, full)
	}

	// The same bits with one session and two.
	m, err := onnx.Load(filepath.Join(digits, "resnet_skip.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	one, err := engine.New(m, d, engine.Options{Threads: 1, Sessions: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	r1, err := one.EvaluateSequential(ctx, values, loose, 5)
	if err != nil {
		t.Fatal(err)
	}
	if r1.Loss != got.Loss || r1.SE != got.SE || r1.N != got.N {
		t.Errorf("one session: %+v, default sessions: %+v", r1, got)
	}
}

// TestSequentialCoverage checks the stopping rule on real per-sample
// losses (the digits ResNet's cross-entropies at moved weights, a skewed
// population): over many sample orders, the stopped estimate is within the
// tolerance of Evaluate's full-data loss at least 1 - delta of the time.
func TestSequentialCoverage(t *testing.T) {
	testenv.RequireRuntime(t)
	if testing.Short() {
		t.Skip("evaluates hundreds of prefixes")
	}
	ctx := context.Background()
	e := digitsEvaluator(t, "resnet_skip", "")
	values := map[string][]float64{}
	for _, p := range e.Params() {
		if p.Role == onnx.RoleWeight {
			v := append([]float64(nil), e.Base(p.Name)...)
			for i := range v {
				v[i] *= 1 + 0.8*math.Cos(float64(3*i))
			}
			values[p.Name] = v
		}
	}
	full, err := e.Evaluate(ctx, values)
	if err != nil {
		t.Fatal(err)
	}
	plan := estimate.NewPlan(e.Samples(), estimate.Rule{Rel: 0.1, Abs: 1e-3})
	const orders = 300
	miss, used := 0, 0
	for seed := range uint64(orders) {
		r, err := e.EvaluateSequential(ctx, values, plan, seed)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(r.Loss-full.Loss) > plan.Tolerance(full.Loss) {
			miss++
		}
		used += r.N
	}
	t.Logf("loss %.4g: %d of %d orders missed, %.0f samples of %d on average", full.Loss, miss, orders, float64(used)/orders, e.Samples())
	if limit := plan.Delta*orders + 3*math.Sqrt(plan.Delta*orders); float64(miss) > limit {
		t.Errorf("%d of %d orders missed the tolerance, delta %g allows %.1f", miss, orders, plan.Delta, limit)
	}
	if used >= orders*e.Samples() {
		t.Error("no order stopped early: the test proves nothing")
	}
}
