package landscape_test

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/lsweep/lsweep/hessian"
	"github.com/lsweep/lsweep/internal/fixtures"
	"github.com/lsweep/lsweep/internal/testenv"
	"github.com/lsweep/lsweep/landscape"
	"github.com/lsweep/lsweep/npz"
)

// TestSpectrumAgainstDenseHessian computes the spectrum of tiny models (an
// MLP and a CNN with ReLUs, 45 and 192 weights) from exact products and
// compares it with the dense Hessian's eigendecomposition: the top 5
// eigenvalues to 1e-6 relative, the trace estimate within 3 standard errors
// of the exact trace, the density's first two moments within 3 standard
// errors of tr(H)/n and tr(H^2)/n. Save writes what it computed.
func TestSpectrumAgainstDenseHessian(t *testing.T) {
	testenv.RequireRuntime(t)
	for _, tiny := range []*fixtures.Tiny{fixtures.GemmTransB1(), fixtures.ConvNet()} {
		t.Run(tiny.Name, func(t *testing.T) {
			l := tinyLandscape(t, tiny)
			op, err := l.HessianOperator(0, 0, landscape.HessianOptions{})
			if err != nil {
				t.Fatal(err)
			}
			n := op.Len()
			dense, _ := denseHessian(t, op)
			var eig mat.EigenSym
			if !eig.Factorize(dense, false) {
				t.Fatal("dense eigendecomposition failed")
			}
			vals := eig.Values(nil) // ascending
			var tr, tr2 float64
			for _, v := range vals {
				tr += v
				tr2 += v * v
			}
			s, err := l.Spectrum(context.Background(), 0, 0, landscape.SpectrumOptions{
				Hessian: landscape.HessianOptions{Tol: 1e-9, Seed: 3},
				Trace:   hessian.TraceOptions{Probes: 200, Tol: -1},
				Density: hessian.DensityOptions{Runs: 20, Steps: 30},
			})
			if err != nil {
				t.Fatal(err)
			}
			scale := math.Max(math.Abs(vals[0]), math.Abs(vals[n-1]))
			for i, v := range s.Top.Values {
				if want := vals[n-1-i]; math.Abs(v-want) > 1e-6*scale {
					t.Errorf("eigenvalue %d: %.9g, dense %.9g", i+1, v, want)
				}
			}
			if len(s.Top.Values) != landscape.DefaultTopK {
				t.Errorf("%d top eigenvalues", len(s.Top.Values))
			}
			if d := math.Abs(s.Trace.Trace - tr); d > 3*s.Trace.StdErr {
				t.Errorf("trace %.6g ± %.2g, exact %.6g (%.1f standard errors)", s.Trace.Trace, s.Trace.StdErr, tr, d/s.Trace.StdErr)
			}
			m1, se1 := s.Density.Moment(1)
			m2, se2 := s.Density.Moment(2)
			if math.Abs(m1-tr/float64(n)) > 3*se1 || math.Abs(m2-tr2/float64(n)) > 3*se2 {
				t.Errorf("density moments %.6g ± %.2g and %.6g ± %.2g, dense %.6g and %.6g", m1, se1, m2, se2, tr/float64(n), tr2/float64(n))
			}
			t.Logf("%d weights: top %.6g (dense %.6g ... %.6g); trace %.5g ± %.2g (exact %.5g); moments %.5g, %.5g (dense %.5g, %.5g); %d products",
				n, s.Top.Values, vals[n-1], vals[n-5], s.Trace.Trace, s.Trace.StdErr, tr, m1, m2, tr/float64(n), tr2/float64(n), s.Products)

			dir := t.TempDir()
			if err := s.Save(dir); err != nil {
				t.Fatal(err)
			}
			var j struct {
				TopK  struct{ Values []float64 } `json:"top_k"`
				Trace struct {
					Estimate float64 `json:"estimate"`
				} `json:"trace"`
			}
			b, err := os.ReadFile(filepath.Join(dir, "spectrum.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &j); err != nil || len(j.TopK.Values) != 5 || j.Trace.Estimate != s.Trace.Trace {
				t.Errorf("spectrum.json: %v %s", err, b)
			}
			f, err := npz.ReadFile(filepath.Join(dir, "spectrum.npz"))
			if err != nil {
				t.Fatal(err)
			}
			if w := f["density_weights"]; w == nil || len(w.Shape) != 2 || w.Shape[0] != 20 || len(f["density_x"].Data) != len(s.CurveX) {
				t.Errorf("spectrum.npz entries: %v", f)
			}
		})
	}
}
