package landscape_test

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/lsweep/lsweep/internal/testenv"
	"github.com/lsweep/lsweep/landscape"
	"github.com/lsweep/lsweep/normalize"
	"github.com/lsweep/lsweep/onnx"
)

const (
	digits     = "../fixtures/testdata/digits"
	digitsData = digits + "/data.npz"
)

// curve returns the 1-D landscape of a model along its seed-1 random
// direction at the given coordinates.
func curve(t *testing.T, model string, norm normalize.Norm, coords []float64) []float64 {
	t.Helper()
	l, err := landscape.Open(landscape.Config{
		Model: model, Data: digitsData, Seed: 1,
		Normalize: normalize.Options{Norm: norm},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var out []float64
	for _, a := range coords {
		r, err := l.At(context.Background(), a, 0)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r.Loss)
	}
	return out
}

// rescaleFilter writes a copy of the digits ResNet in which output channel j
// of conv (followed by BatchNormalization bn) is multiplied by c, and the
// BatchNorm statistics of that channel are changed so that the network
// computes the same function: mean' = c mean and var' + eps = c^2 (var + eps).
func rescaleFilter(t *testing.T, conv, bn string, j int, c float64) string {
	t.Helper()
	m, err := onnx.Load(filepath.Join(digits, "resnet_skip.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	const eps = 1e-5 // PyTorch's BatchNorm2d default, which the export keeps
	var names []string
	for _, p := range m.Params() {
		if p.DType.IsFloat() {
			names = append(names, p.Name)
		}
	}
	patch, err := m.NewPatcher(names)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := m.Value(conv)
	per := len(w) / 16
	for i := j * per; i < (j+1)*per; i++ {
		w[i] *= c
	}
	mean, _ := m.Value(bn + ".running_mean")
	variance, _ := m.Value(bn + ".running_var")
	mean[j] *= c
	variance[j] = c*c*(variance[j]+eps) - eps
	for name, v := range map[string][]float64{conv: w, bn + ".running_mean": mean, bn + ".running_var": variance} {
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

func maxRelDiff(a, b []float64) float64 {
	var m float64
	for i := range a {
		m = max(m, math.Abs(a[i]-b[i])/math.Abs(b[i]))
	}
	return m
}

// TestFilterNormInvariance shows the paper's point: rescaling a filter and
// undoing it in the BatchNorm after it leaves the network's function, and so
// its filter-normalised landscape, unchanged, while the landscape along a
// raw Gaussian direction changes.
func TestFilterNormInvariance(t *testing.T) {
	testenv.RequireRuntime(t)
	coords := []float64{-1, -0.6, -0.3, 0, 0.3, 0.6, 1}
	orig := filepath.Join(digits, "resnet_skip.onnx")
	scaled := rescaleFilter(t, "block1.conv1.weight", "block1.bn1", 3, 3.7)

	a := curve(t, orig, normalize.NormFilter, coords)
	b := curve(t, scaled, normalize.NormFilter, coords)
	if d := math.Abs(a[3]-b[3]) / a[3]; d > 1e-5 {
		t.Fatalf("the rescaled network is not the same function: centre losses %g and %g", a[3], b[3])
	}
	d := maxRelDiff(b, a)
	t.Logf("filter-normalised: max relative difference %.2g; losses %v", d, a)
	if d > 1e-5 {
		t.Errorf("filter-normalised curves differ by %g: %v vs %v", d, a, b)
	}
	ra := curve(t, orig, normalize.NormNone, coords)
	rb := curve(t, scaled, normalize.NormNone, coords)
	dr := maxRelDiff(rb, ra)
	t.Logf("unnormalised: max relative difference %.2g", dr)
	if dr < 1e-3 {
		t.Errorf("unnormalised curves should differ, max relative difference %g", dr)
	}
}

// TestFoldedBatchNormInvariance: an eval-mode export folds BatchNorm into the
// convolutions, scaling each filter by gamma/sqrt(var+eps) (all positive in
// this fixture); the filter-normalised landscape is the same either way.
func TestFoldedBatchNormInvariance(t *testing.T) {
	testenv.RequireRuntime(t)
	coords := []float64{-1, -0.5, 0, 0.5, 1}
	kept := curve(t, filepath.Join(digits, "resnet_skip.onnx"), normalize.NormFilter, coords)
	folded := curve(t, filepath.Join(digits, "resnet_skip_folded.onnx"), normalize.NormFilter, coords)
	d := maxRelDiff(folded, kept)
	t.Logf("kept vs folded, filter-normalised: max relative difference %.2g", d)
	if d > 1e-5 {
		t.Errorf("curves differ by %g: %v vs %v", d, kept, folded)
	}
	rk := curve(t, filepath.Join(digits, "resnet_skip.onnx"), normalize.NormNone, coords)
	rf := curve(t, filepath.Join(digits, "resnet_skip_folded.onnx"), normalize.NormNone, coords)
	if dr := maxRelDiff(rf, rk); dr < 1e-3 {
		t.Errorf("unnormalised curves should differ, max relative difference %g", dr)
	} else {
		t.Logf("kept vs folded, unnormalised: max relative difference %.2g", dr)
	}
}
