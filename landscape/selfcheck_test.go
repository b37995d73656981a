package landscape

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/lsweep/lsweep/internal/fixtures"
	"github.com/lsweep/lsweep/internal/testenv"
	"github.com/lsweep/lsweep/npz"
)

// smoothLandscape opens the Tanh MLP fixture over 64 random samples.
func smoothLandscape(t *testing.T) *Landscape {
	t.Helper()
	tiny := fixtures.SmoothMLP()
	dir := t.TempDir()
	data, err := proto.Marshal(tiny.Model)
	if err != nil {
		t.Fatal(err)
	}
	modelPath := filepath.Join(dir, "smooth.onnx")
	if err := os.WriteFile(modelPath, data, 0o644); err != nil {
		t.Fatal(err)
	}
	x := fixtures.RandomInput(tiny, 64, 3)
	y := &npz.Array{Shape: []int{64}, DType: "int64"}
	for _, v := range fixtures.Labels(tiny, 64, 4) {
		y.Data = append(y.Data, float64(v))
	}
	dataPath := filepath.Join(dir, "data.npz")
	if err := npz.WriteFile(dataPath, []npz.Entry{{Name: "x", Array: &npz.Array{Shape: []int{64, 6}, DType: "float32", Data: x.Data}}, {Name: "y", Array: y}}); err != nil {
		t.Fatal(err)
	}
	l, err := Open(Config{Model: modelPath, Data: dataPath})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// TestSelfCheck checks that on a smooth model the exact slope and curvature
// agree with differences of losses, and that a wrong product (its curvature
// off by 5%, or its slope by 5%) makes Hessian fail with ErrSelfCheck.
func TestSelfCheck(t *testing.T) {
	testenv.RequireRuntime(t)
	l := smoothLandscape(t)
	ctx := context.Background()
	e, err := l.Hessian(ctx, 0.3, 0, HessianOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := e.Check
	if c == nil {
		t.Fatal("no check with exact products")
	}
	t.Logf("%v", c)
	if len(c.Kinks) != 0 || !c.OK() || c.CurvatureBelowNoise {
		t.Errorf("check on a smooth model: %+v", c)
	}

	op, err := l.HessianOperator(0.3, 0, HessianOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h := op.(*exactHVP)
	v := make([]float64, h.Len())
	for i := range v {
		v[i] = float64(i%7) - 3
	}
	dst := make([]float64, h.Len())
	if err := h.Apply(ctx, dst, v); err != nil {
		t.Fatal(err)
	}
	good, err := l.selfCheck(ctx, h, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !good.OK() {
		t.Errorf("check of a correct product: %v", good)
	}
	wrongHv := slices.Clone(h.firstHv)
	for i := range wrongHv {
		wrongHv[i] *= 1.05
	}
	h.firstHv = wrongHv
	if bad, err := l.selfCheck(ctx, h, 0); err != nil || bad.CurvatureOK {
		t.Errorf("a curvature 5%% off passes the check: %v (%v)", bad, err)
	}
	h.firstHv = good2(h, v)
	h.first.Slope *= 1.05
	if bad, err := l.selfCheck(ctx, h, 0); err != nil || bad.SlopeOK {
		t.Errorf("a slope 5%% off passes the check: %v (%v)", bad, err)
	}
	if !errors.Is(errors.Join(ErrSelfCheck), ErrSelfCheck) {
		t.Fatal("ErrSelfCheck")
	}
}

// good2 recomputes the product of h along v.
func good2(h *exactHVP, v []float64) []float64 {
	dst := make([]float64, h.Len())
	slope := h.first.Slope
	h.firstV = nil
	if err := h.Apply(context.Background(), dst, v); err != nil {
		panic(err)
	}
	h.first.Slope = slope
	return dst
}
