package main_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
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
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatal(err)
	}
	ref, err := npz.ReadFile("../../fixtures/testdata/digits/mlp_logsoftmax.hess.npz")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := ref["lambda_max_all"].Scalar()
	if math.Abs(got.Max-want) > 1e-2*want || got.Ratio == nil || math.Abs(*got.Ratio-math.Abs(got.Min/got.Max)) > 1e-12 || got.HVPs < 2 || got.Secs <= 0 {
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
