package landscape_test

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/lsweep/lsweep/internal/testenv"
	"github.com/lsweep/lsweep/landscape"
	"github.com/lsweep/lsweep/npz"
)

// TestSequenceExtremes compares lambda_max and lambda_min at the centre of
// the two-input encoder and the causal language model (tokens head, -100
// labels) with the extreme eigenvalues of PyTorch's dense float64 Hessian
// over the same weights (make_sequence_fixtures.py): lambda_max to 1e-3
// relative, lambda_min to 1e-3 of lambda_max.
func TestSequenceExtremes(t *testing.T) {
	testenv.RequireRuntime(t)
	const dir = "../fixtures/testdata/sequence"
	for _, c := range []struct{ model, data, ref string }{
		{"encoder.onnx", "encoder_data.npz", "encoder.ref.npz"},
		{"encoder_external.onnx", "encoder_data.npz", "encoder.ref.npz"},
		{"causal_lm.onnx", "lm_data.npz", "lm.ref.npz"},
	} {
		t.Run(c.model, func(t *testing.T) {
			ref, err := npz.ReadFile(filepath.Join(dir, c.ref))
			if err != nil {
				t.Fatal(err)
			}
			l, err := landscape.Open(landscape.Config{Model: filepath.Join(dir, c.model), Data: filepath.Join(dir, c.data)})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			e, err := l.Hessian(context.Background(), 0, 0, landscape.HessianOptions{Tol: 1e-6, MaxIter: 300})
			if err != nil {
				t.Fatal(err)
			}
			wantMax, _ := ref["lambda_max"].Scalar()
			wantMin, _ := ref["lambda_min"].Scalar()
			t.Logf("lambda_max %.8g (PyTorch %.8g, relative error %.2g), lambda_min %.8g (PyTorch %.8g, error %.2g of lambda_max), %d products, %.1f s",
				e.Max, wantMax, math.Abs(e.Max-wantMax)/math.Abs(wantMax), e.Min, wantMin, math.Abs(e.Min-wantMin)/math.Abs(wantMax), e.Products, e.Seconds)
			if math.Abs(e.Max-wantMax) > 1e-3*math.Abs(wantMax) || math.Abs(e.Min-wantMin) > 1e-3*math.Abs(wantMax) {
				t.Errorf("lambda [%g, %g], PyTorch [%g, %g]", e.Min, e.Max, wantMin, wantMax)
			}
		})
	}
}
