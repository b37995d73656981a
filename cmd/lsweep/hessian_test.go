package main_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/lsweep/lsweep/npz"
)

// TestHessianAt checks the JSON fields of one point and lambda_max against
// PyTorch's value for the trained MLP (all 1797 samples).
func TestHessianAt(t *testing.T) {
	requireRuntime(t)
	r := run(t, "hessian", mlpModel, digitsData, "--at", "0", "--json", "--hessian-tol", "1e-6")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var got struct {
		Min   float64  `json:"lambda_min"`
		Max   float64  `json:"lambda_max"`
		Ratio *float64 `json:"ratio"`
		HVPs  int      `json:"hvps"`
		Secs  float64  `json:"seconds"`
		Check *struct {
			Slope   float64  `json:"slope"`
			SlopeFD float64  `json:"slope_fd"`
			SlopeOK bool     `json:"slope_ok"`
			Kinks   []string `json:"kinks"`
		} `json:"check"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatal(err)
	}
	// The self-check in snake case like the other fields; on this ReLU MLP
	// the slope agrees with the differences and Relu is named as a kink.
	if c := got.Check; c == nil || !c.SlopeOK || c.Slope == 0 || math.Abs(c.Slope-c.SlopeFD) > 1e-2*math.Abs(c.Slope) || !slices.Contains(c.Kinks, "Relu") {
		t.Errorf("check %+v in %s", got.Check, r.stdout)
	}
	ref, err := npz.ReadFile("../../fixtures/testdata/digits/mlp_logsoftmax.hess.npz")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := ref["lambda_max_all"].Scalar()
	if math.Abs(got.Max-want) > 1e-4*want || got.Ratio == nil || math.Abs(*got.Ratio-math.Abs(got.Min/got.Max)) > 1e-12 || got.HVPs < 2 || got.Secs <= 0 {
		t.Errorf("got %+v (ratio %v); PyTorch lambda_max %g", got, got.Ratio, want)
	}
}

// TestRunHessianMap: run --hessian stores the eigenvalues and the ratio with
// the loss and draws the convexity maps.
func TestRunHessianMap(t *testing.T) {
	requireRuntime(t)
	out := filepath.Join(t.TempDir(), "out")
	r := run(t, "run", mlpModel, digitsData, "--hessian", "--x", "-1:1:3", "--y", "-1:1:3", "--samples", "300", "--out", out, "--quiet")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	f, err := npz.ReadFile(filepath.Join(out, "surface.npz"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range []string{"loss", "acc", "lambda_min", "lambda_max", "ratio"} {
		a, ok := f[ch]
		if !ok || len(a.Shape) != 2 || a.Shape[0] != 3 || a.Shape[1] != 3 {
			t.Fatalf("%s: %v", ch, a)
		}
	}
	for i := range f["ratio"].Data {
		mn, mx, ratio := f["lambda_min"].Data[i], f["lambda_max"].Data[i], f["ratio"].Data[i]
		if !(mx > 0) || math.Abs(ratio-math.Abs(mn/mx)) > 1e-12 {
			t.Errorf("point %d: lambda [%g, %g], ratio %g", i, mn, mx, ratio)
		}
	}
	for _, name := range []string{"convexity.png", "ratio_signed.png"} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Error(err)
		}
	}
}

// TestSpectrum checks lsweep spectrum on the trained MLP: its largest
// eigenvalue is PyTorch's lambda_max, the top eigenvalues come in order, the
// trace has a standard error, and the files are written.
func TestSpectrum(t *testing.T) {
	requireRuntime(t)
	out := filepath.Join(t.TempDir(), "spec")
	r := run(t, "spectrum", mlpModel, digitsData, "--json", "--out", out, "--hessian-tol", "1e-6", "--trace-probes", "20", "--density-runs", "2", "--density-steps", "30")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var got struct {
		TopK struct {
			Values []float64 `json:"values"`
		} `json:"top_k"`
		Trace struct {
			Estimate float64 `json:"estimate"`
			StdErr   float64 `json:"std_err"`
			Probes   int     `json:"probes"`
		} `json:"trace"`
		Density struct {
			Runs int `json:"runs"`
		} `json:"density"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	ref, err := npz.ReadFile("../../fixtures/testdata/digits/mlp_logsoftmax.hess.npz")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := ref["lambda_max_all"].Scalar()
	v := got.TopK.Values
	if len(v) != 5 || math.Abs(v[0]-want) > 1e-4*want {
		t.Fatalf("top 5 %v; PyTorch lambda_max %g", v, want)
	}
	for i := 1; i < len(v); i++ {
		if v[i] > v[i-1] {
			t.Errorf("top eigenvalues out of order: %v", v)
		}
	}
	if got.Trace.Probes != 20 || got.Trace.StdErr <= 0 || got.Trace.Estimate < v[0] || got.Density.Runs != 2 {
		t.Errorf("trace or density: %+v", got)
	}
	for _, f := range []string{"spectrum.json", "spectrum.npz", "density.png"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}
