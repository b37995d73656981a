package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lsweep/lsweep/flatness"
	"github.com/lsweep/lsweep/internal/testenv"
	"github.com/lsweep/lsweep/normalize"
	"github.com/lsweep/lsweep/pipeline"
)

func compare(t *testing.T, base, candidate, data string, opts *pipeline.CompareOptions) *flatness.Report {
	t.Helper()
	r, err := pipeline.Compare(context.Background(), flatness.Model{Path: base}, flatness.Model{Path: candidate}, data, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestCompareSelf: a model compared with itself (a copy, so that nothing is
// shared but the bytes) passes, every difference exactly zero.
func TestCompareSelf(t *testing.T) {
	testenv.RequireRuntime(t)
	model := digits + "/mlp_logsoftmax.onnx"
	b, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	cp := filepath.Join(t.TempDir(), "copy.onnx")
	if err := os.WriteFile(cp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	r := compare(t, model, cp, digitsData, nil)
	if r.Verdict != flatness.Pass || r.Finding != flatness.FindingSame || !r.SameArchitecture || !r.SameDraws {
		t.Errorf("verdict %s, finding %s, same architecture %v, same draws %v", r.Verdict, r.Finding, r.SameArchitecture, r.SameDraws)
	}
	for _, m := range r.Metrics {
		if m.Name == flatness.LambdaMax {
			if m.Available || m.Reason != flatness.ReasonNotRequested {
				t.Errorf("lambda_max: available %v, reason %q", m.Available, m.Reason)
			}
			continue
		}
		if !m.Available || m.Difference != 0 || m.Change != 0 || m.Status != flatness.StatusSame || !m.Pass {
			t.Errorf("%s: difference %v change %v status %s pass %v", m.Name, m.Difference, m.Change, m.Status, m.Pass)
		}
		for k := range m.Base.PerDirection {
			if m.Base.PerDirection[k] != m.Candidate.PerDirection[k] {
				t.Errorf("%s along direction %d: %v and %v", m.Name, k, m.Base.PerDirection[k], m.Candidate.PerDirection[k])
			}
		}
	}
	if len(r.BaseSlices.Loss) != flatness.DefaultDirections || len(r.X) != flatness.DefaultPoints {
		t.Errorf("%d slices of %d points, want %d of %d", len(r.BaseSlices.Loss), len(r.X), flatness.DefaultDirections, flatness.DefaultPoints)
	}
	// The slices rise away from the centre: the directions do something.
	if m, _ := r.Metric(flatness.MeanIncrease); !(m.Base.Value > 0.1) {
		t.Errorf("mean increase %v: the slices are flat", m.Base.Value)
	}
}

// TestCompareRescaled is the paper's point: a ReLU net with one layer scaled
// by c and the next by 1/c computes the same function. With unnormalised
// directions it looks much sharper (its second layer's weights are c times
// smaller, so the same raw step moves them c times as far, relatively);
// with filter normalisation (and layer or weight scaling) the directions
// scale with the weights and the verdict is "same".
func TestCompareRescaled(t *testing.T) {
	testenv.RequireRuntime(t)
	model := digits + "/mlp_logsoftmax.onnx"
	sharp := rescaled(t, model, "fc1", "fc2", 10)
	for _, c := range []struct {
		norm             normalize.Norm
		verdict, finding string
	}{
		{normalize.NormFilter, flatness.Pass, flatness.FindingSame},
		{normalize.NormLayer, flatness.Pass, flatness.FindingSame},
		{normalize.NormWeight, flatness.Pass, flatness.FindingSame},
		{normalize.NormNone, flatness.Fail, flatness.FindingSharper},
	} {
		t.Run(string(c.norm), func(t *testing.T) {
			o := &pipeline.CompareOptions{}
			o.Normalize.Norm = c.norm
			r := compare(t, model, sharp, digitsData, o)
			if r.Verdict != c.verdict || r.Finding != c.finding {
				t.Errorf("verdict %s finding %s, want %s %s: %s", r.Verdict, r.Finding, c.verdict, c.finding, r.Summary)
			}
			for _, m := range r.Metrics {
				if !m.Available {
					continue
				}
				t.Logf("%-15s base %.6g candidate %.6g change %+.3g%% noise %.3g %s", m.Name, m.Base.Value, m.Candidate.Value, m.Change, m.Noise, m.Status)
				if c.norm != normalize.NormNone && math.Abs(m.Change) > 1e-3 {
					t.Errorf("%s changed by %g%% for the same function", m.Name, m.Change)
				}
			}
			if c.norm == normalize.NormNone {
				m, _ := r.Metric(flatness.MeanIncrease)
				if m.Status != flatness.StatusWorse || m.Pass || m.Worsening < 100 {
					t.Errorf("mean increase: status %s pass %v worsening %g%%", m.Status, m.Pass, m.Worsening)
				}
			}
		})
	}
}

// TestCompareSeeds: two comparisons with different seeds measure each
// model's metrics within their reported spread (the intervals value ±
// spread overlap), and agree on the verdict.
func TestCompareSeeds(t *testing.T) {
	testenv.RequireRuntime(t)
	var reports []*flatness.Report
	for _, seed := range []uint64{1, 2} {
		reports = append(reports, compare(t, batch+"/small_wd.onnx", batch+"/large_wd.onnx", batch+"/train.npz", &pipeline.CompareOptions{Options: flatness.Options{Seed: seed}}))
	}
	r1, r2 := reports[0], reports[1]
	if r1.Verdict != r2.Verdict || r1.Finding != r2.Finding {
		t.Errorf("seed 1: %s (%s), seed 2: %s (%s)", r1.Verdict, r1.Finding, r2.Verdict, r2.Finding)
	}
	for i, m1 := range r1.Metrics {
		m2 := r2.Metrics[i]
		if !m1.Available {
			continue
		}
		for _, s := range []struct {
			who    string
			s1, s2 flatness.Sample
		}{{"base", m1.Base, m2.Base}, {"candidate", m1.Candidate, m2.Candidate}} {
			t.Logf("%-15s %-9s seed 1: %.4g ± %.3g, seed 2: %.4g ± %.3g", m1.Name, s.who, s.s1.Value, s.s1.Spread, s.s2.Value, s.s2.Spread)
			if math.Abs(s.s1.Value-s.s2.Value) > s.s1.Spread+s.s2.Spread+1e-12 {
				t.Errorf("%s of %s: %g ± %g with seed 1, %g ± %g with seed 2", m1.Name, s.who, s.s1.Value, s.s1.Spread, s.s2.Value, s.s2.Spread)
			}
		}
		if m1.Name != flatness.CentreLoss && m1.Base.PerDirection[0] == m2.Base.PerDirection[0] {
			t.Errorf("%s: the seeds gave the same first direction", m1.Name)
		}
	}
}

// TestCompareBatchFixtures checks the finding of Li et al. (2018) on the
// batch fixtures: with filter-normalised directions the model trained with
// a large batch is sharper than the one trained with a small batch, with
// and without weight decay.
func TestCompareBatchFixtures(t *testing.T) {
	testenv.RequireRuntime(t)
	for name, wd := range map[string]string{"no weight decay": "", "weight decay": "_wd"} {
		t.Run(name, func(t *testing.T) {
			r := compare(t, batch+"/small"+wd+".onnx", batch+"/large"+wd+".onnx", batch+"/train.npz", nil)
			t.Log(r.Summary)
			if r.Verdict != flatness.Fail || r.Finding != flatness.FindingSharper {
				t.Errorf("verdict %s, finding %s: %s", r.Verdict, r.Finding, r.Summary)
			}
			for _, name := range []string{flatness.MeanIncrease, flatness.WorstIncrease, flatness.RiseRadius} {
				if m, _ := r.Metric(name); m.Status != flatness.StatusWorse {
					t.Errorf("%s: %s, want worse", name, m.Status)
				}
			}
		})
	}
}

// TestCompareArchitectures: models of different architectures are compared
// by their metrics, and the report says so.
func TestCompareArchitectures(t *testing.T) {
	testenv.RequireRuntime(t)
	r := compare(t, digits+"/mlp_logsoftmax.onnx", digits+"/resnet_skip.onnx", digitsData, &pipeline.CompareOptions{Options: flatness.Options{Directions: 2, Points: 5}})
	if r.SameArchitecture || r.SameDraws {
		t.Errorf("same architecture %v, same draws %v", r.SameArchitecture, r.SameDraws)
	}
	if len(r.Notes) == 0 || !strings.Contains(r.Notes[0], "different architectures") {
		t.Errorf("notes %q do not say the architectures differ", r.Notes)
	}
	// Same weights, other heads: not the same architecture, but the same draws.
	r = compare(t, digits+"/mlp_logsoftmax.onnx", digits+"/mlp_softmax.onnx", digitsData, &pipeline.CompareOptions{Options: flatness.Options{Directions: 2, Points: 5}})
	if r.SameArchitecture || !r.SameDraws {
		t.Errorf("logsoftmax vs softmax MLP: same architecture %v, same draws %v", r.SameArchitecture, r.SameDraws)
	}
}

// TestCompareIncompatible: models on other inputs or label sets are refused
// before anything is evaluated.
func TestCompareIncompatible(t *testing.T) {
	testenv.RequireRuntime(t)
	mlp := digits + "/mlp_logsoftmax.onnx"
	for _, c := range []struct {
		name, candidate string
		want            []string
	}{
		{"classes", digits + "/mlp_sigmoid.onnx", []string{"10 classes", "2 classes", "label set"}},
		{"inputs", flatInput(t, mlp), []string{"different inputs", "[N 1 8 8]", "[N 64]"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := pipeline.Compare(context.Background(), flatness.Model{Path: mlp}, flatness.Model{Path: c.candidate}, digitsData, nil)
			if !errors.Is(err, flatness.ErrIncompatible) {
				t.Fatalf("error %v, want ErrIncompatible", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// cancelAfter cancels a context after n evaluations.
type cancelAfter struct {
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Start(total, done int) {}
func (c *cancelAfter) Finish()               {}
func (c *cancelAfter) Step(done int) {
	if done >= c.n {
		c.cancel()
	}
}

// TestCompareInterrupted: a cancelled comparison returns what it computed.
func TestCompareInterrupted(t *testing.T) {
	testenv.RequireRuntime(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// 2 centres, then 2 * 4 evaluations per direction: cancel during the fourth.
	o := &pipeline.CompareOptions{Options: flatness.Options{Directions: 6, Points: 5}, Progress: &cancelAfter{n: 2 + 3*8 + 3, cancel: cancel}}
	model := digits + "/mlp_logsoftmax.onnx"
	r, err := pipeline.Compare(ctx, flatness.Model{Path: model}, flatness.Model{Path: model}, digitsData, o)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if r == nil || !r.Partial || r.Settings.Directions != 3 || len(r.CandidateSlices.Loss) != 3 {
		t.Fatalf("report %+v, want a partial one of 3 directions", r)
	}
	if r.Verdict != flatness.Pass {
		t.Errorf("verdict %s", r.Verdict)
	}
}

// TestHessianHook: lambda_max comes from CompareOptions.LambdaMax when one is
// given, and is reported unavailable, with the reason, when not.
func TestHessianHook(t *testing.T) {
	testenv.RequireRuntime(t)
	model := digits + "/mlp_logsoftmax.onnx"
	fixed := func(values map[string]float64) pipeline.LambdaMaxer {
		return pipeline.LambdaMaxFunc(func(ctx context.Context, tg pipeline.HessianTarget) (flatness.Estimate, error) {
			if tg.Evaluator == nil || len(tg.Params) == 0 || tg.Head == "" {
				t.Errorf("target %+v lacks the evaluator, the params or the head", tg)
			}
			v, ok := values[tg.Model]
			if !ok {
				return flatness.Estimate{}, errors.New("boom")
			}
			if v < 0 {
				return flatness.Estimate{}, fmt.Errorf("no gradient for op Foo: %w", flatness.ErrUnavailable)
			}
			return flatness.Estimate{Value: v, Spread: 0.1}, nil
		})
	}
	other := rescaled(t, model, "fc1", "fc2", 2)
	cases := []struct {
		name    string
		hessian bool
		lm      pipeline.LambdaMaxer
		status  string
		reason  string
		pass    bool
		err     string
	}{
		{"not requested", false, nil, flatness.StatusUnavailable, flatness.ReasonNotRequested, true, ""},
		{"no estimator", true, nil, flatness.StatusUnavailable, flatness.ReasonNoHessian, true, ""},
		{"estimator", true, fixed(map[string]float64{model: 10, other: 15}), flatness.StatusWorse, "", false, ""},
		{"estimator, same", true, fixed(map[string]float64{model: 10, other: 10.1}), flatness.StatusSame, "", true, ""},
		{"model unsupported", true, fixed(map[string]float64{model: 10, other: -1}), flatness.StatusUnavailable, "no gradient for op Foo", true, ""},
		{"estimator fails", true, fixed(map[string]float64{model: 10}), "", "", false, "boom"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := &pipeline.CompareOptions{Options: flatness.Options{Directions: 2, Points: 3, Hessian: c.hessian}, LambdaMax: c.lm}
			r, err := pipeline.Compare(context.Background(), flatness.Model{Path: model}, flatness.Model{Path: other}, digitsData, o)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			m, _ := r.Metric(flatness.LambdaMax)
			if m.Status != c.status || !strings.Contains(m.Reason, c.reason) || m.Pass != c.pass {
				t.Errorf("status %s reason %q pass %v, want %s %q %v", m.Status, m.Reason, m.Pass, c.status, c.reason, c.pass)
			}
		})
	}
}

// TestBadOptions: options are checked before any file is read.
func TestBadOptions(t *testing.T) {
	cases := []struct {
		name string
		opts flatness.Options
		want string
	}{
		{"one direction", flatness.Options{Directions: 1}, "at least 2"},
		{"even points", flatness.Options{Points: 20}, "odd"},
		{"negative radius", flatness.Options{Radius: -1}, "radius"},
		{"infinite radius", flatness.Options{Radius: math.Inf(1)}, "radius"},
		{"negative rise", flatness.Options{Rise: -0.1}, "rise"},
		{"negative noise", flatness.Options{Noise: -1}, "noise"},
		{"unknown metric", flatness.Options{Thresholds: map[string]float64{"sharpness": 5}}, `"sharpness"`},
		{"negative threshold", flatness.Options{Thresholds: map[string]float64{flatness.Curvature: -5}}, "curvature"},
		{"NaN threshold", flatness.Options{Thresholds: map[string]float64{flatness.Curvature: math.NaN()}}, "threshold"},
		{"unknown norm", flatness.Options{}, "normalisation"},
	}
	cases[len(cases)-1].opts.Normalize.Norm = "batch"
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := pipeline.Compare(context.Background(), flatness.Model{Path: "absent-a.onnx"}, flatness.Model{Path: "absent-b.onnx"}, "absent.npz", &pipeline.CompareOptions{Options: c.opts})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one mentioning %q", err, c.want)
			}
		})
	}
}
