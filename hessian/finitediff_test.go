package hessian_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lsweep/lsweep/hessian"
)

// For a quadratic ½xᵀAx − bᵀx the gradient Ax − b is linear, so the central difference has no truncation error:
// only rounding remains.
func TestFiniteDifferenceQuadratic(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(21, 22))
	const n = 50
	a := rotated(linspace(-3, 10, n), rng)
	b := normal(n, rng)
	grad64 := func(_ context.Context, dst, x []float64) error {
		for i := 0; i < n; i++ {
			var s float64
			for j := 0; j < n; j++ {
				s += a[i*n+j] * x[j]
			}
			dst[i] = s - b[i]
		}
		return nil
	}
	grad32 := func(_ context.Context, dst, x []float64) error {
		for i := 0; i < n; i++ {
			var s float32
			for j := 0; j < n; j++ {
				s += float32(a[i*n+j]) * float32(x[j])
			}
			dst[i] = float64(s - float32(b[i]))
		}
		return nil
	}
	op := hessian.NewDense(n, a)
	for _, c := range []struct {
		name    string
		grad    hessian.GradientFunc
		float32 bool
		xscale  float64
		tol     float64
	}{
		{"float64", grad64, false, 1, 1e-7},
		{"float64-large-x", grad64, false, 1e3, 1e-7},
		{"float32", grad32, true, 1, 2e-3},
		{"float32-large-x", grad32, true, 1e3, 2e-3},
	} {
		t.Run(c.name, func(t *testing.T) {
			x := normal(n, rng)
			for i := range x {
				x[i] *= c.xscale
			}
			fd := &hessian.FiniteDifference{Grad: c.grad, X: x, Float32: c.float32}
			worst := 0.0
			for trial := 0; trial < 5; trial++ {
				v := normal(n, rng)
				got, want := make([]float64, n), make([]float64, n)
				must(fd.Apply(ctx, got, v))
				must(op.Apply(ctx, want, v))
				worst = math.Max(worst, relErr(got, want))
			}
			t.Logf("worst relative error %.2g", worst)
			if worst > c.tol {
				t.Errorf("relative error %g > %g", worst, c.tol)
			}
		})
	}
}

// Logistic regression is not quadratic: its Hessian-vector product is known in closed form. The function is
// also rescaled, f_s(x) = f(x/s) at X = s·w, so that the same problem is met at ‖X‖ from 0.3 to 30000: the
// step rule, relative to 1 + ‖X‖, must keep the relative error about the same. (At X = 0 the rule assumes a
// function of scale 1: only s = 1 there; see TestFiniteDifferenceStep.)
func TestFiniteDifferenceLogistic(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(31, 32))
	const n = 40
	l := newLogistic(500, n, rng)
	for _, wnorm := range []float64{0, 0.3, 3} {
		w := normal(n, rng)
		nw := math.Sqrt(dotp(w, w))
		for i := range w {
			w[i] *= wnorm / nw
		}
		for _, s := range []float64{1, 10, 1e4} {
			if wnorm == 0 && s != 1 {
				continue
			}
			for _, f32 := range []bool{false, true} {
				grad, tol := l.grad64, 1e-6
				if f32 {
					grad, tol = l.grad32, 5e-3
				}
				x := make([]float64, n)
				for i := range x {
					x[i] = s * w[i]
				}
				fd := &hessian.FiniteDifference{Grad: scaled(grad, s), X: x, Float32: f32}
				worst := 0.0
				for trial := 0; trial < 5; trial++ {
					v := normal(n, rng)
					got, want := make([]float64, n), make([]float64, n)
					must(fd.Apply(ctx, got, v))
					l.hv(want, w, v)
					for i := range want {
						want[i] /= s * s
					}
					worst = math.Max(worst, relErr(got, want))
				}
				t.Logf("|w| %-4g s %-6g |X| %-8.3g float32 %-5v: worst relative error %.2g", wnorm, s,
					wnorm*s, f32, worst)
				if worst > tol {
					t.Errorf("|w| %g s %g float32 %v: relative error %g > %g", wnorm, s, f32, worst, tol)
				}
			}
		}
	}
}

// A function of tiny arguments (f(x/s) with s = 1e-5, at X = s·w, ‖w‖ = 3) defeats the default step with float32
// gradients, since the rule assumes scales of order 1 near X = 0; Step (the rule in the variable x/s) fixes it.
func TestFiniteDifferenceStep(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(41, 42))
	const n, s = 20, 1e-5
	l := newLogistic(100, n, rng)
	w := normal(n, rng)
	nw := math.Sqrt(dotp(w, w))
	x := make([]float64, n)
	for i := range w {
		w[i] *= 3 / nw
		x[i] = s * w[i]
	}
	v := normal(n, rng)
	want := make([]float64, n)
	l.hv(want, w, v)
	for i := range want {
		want[i] /= s * s
	}
	nv := math.Sqrt(dotp(v, v))
	fd64 := &hessian.FiniteDifference{Grad: scaled(l.grad64, s), X: x}
	if got, rule := fd64.StepFor(v), math.Sqrt(0x1p-52)*(1+3*s)/nv; math.Abs(got-rule) > 1e-15*rule {
		t.Errorf("StepFor = %g, want the default rule's %g", got, rule)
	}
	fd32 := &hessian.FiniteDifference{Grad: scaled(l.grad64, s), X: []float64{3, 4}, Float32: true}
	if got, rule := fd32.StepFor([]float64{0, 2}), math.Sqrt(0x1p-23)*(1+5)/2; got != rule {
		t.Errorf("float32 StepFor = %g, want %g", got, rule)
	}
	fd := &hessian.FiniteDifference{Grad: scaled(l.grad32, s), X: x, Float32: true}
	got := make([]float64, n)
	must(fd.Apply(ctx, got, v))
	bad := relErr(got, want)

	fd.Step = math.Sqrt(0x1p-23) * s * (1 + 3) / nv
	if fd.StepFor(v) != fd.Step {
		t.Errorf("StepFor = %g with Step = %g", fd.StepFor(v), fd.Step)
	}
	must(fd.Apply(ctx, got, v))
	good := relErr(got, want)
	t.Logf("relative error %.2g with the default step, %.2g with Step", bad, good)
	if good > 5e-3 || bad < 10*good {
		t.Errorf("relative error %g with the default step, %g with Step", bad, good)
	}
}

// Lanczos on finite-difference products of the logistic regression's float32 gradient finds the extremes of its
// exact Hessian.
func TestFiniteDifferenceLanczos(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(51, 52))
	const n = 60
	l := newLogistic(300, n, rng)
	w := normal(n, rng)
	exact, err := hessian.Lanczos(ctx, l.hessian(w), rng, &hessian.Options{MaxIter: n, Tol: 1e-300})
	must(err)
	for _, f32 := range []bool{false, true} {
		// float64 gradients with a tight Tol; float32 ones with the default.
		grad, tol, opts := l.grad64, 1e-6, &hessian.Options{Tol: 1e-8}
		if f32 {
			grad, tol, opts = l.grad32, 2e-3, nil
		}
		fd := &hessian.FiniteDifference{Grad: scaled(grad, 1), X: w, Float32: f32}
		res, err := hessian.Lanczos(ctx, fd, rand.New(rand.NewPCG(1, 2)), opts)
		must(err)
		errMin := math.Abs(res.Min-exact.Min) / exact.Max
		errMax := math.Abs(res.Max-exact.Max) / exact.Max
		t.Logf("float32 %v: min %.8g (exact %.8g), max %.8g (exact %.8g): errors %.2g %.2g of λmax, %d products, "+
			"converged %v", f32, res.Min, exact.Min, res.Max, exact.Max, errMin, errMax, res.Products, res.Converged)
		if errMin > tol || errMax > tol || !res.Converged {
			t.Errorf("float32 %v: %+v, want min %g max %g", f32, res, exact.Min, exact.Max)
		}
	}
}

func TestFiniteDifferenceEdges(t *testing.T) {
	ctx := context.Background()
	calls := 0
	boom := errors.New("boom")
	fd := &hessian.FiniteDifference{
		Grad: func(_ context.Context, dst, x []float64) error {
			calls++
			if calls == 2 {
				return boom
			}
			copy(dst, x)
			return nil
		},
		X: []float64{1, 2, 3},
	}
	if fd.Len() != 3 {
		t.Errorf("Len = %d", fd.Len())
	}
	dst := []float64{7, 7, 7}
	must(fd.Apply(ctx, dst, make([]float64, 3)))
	if calls != 0 || dst[0] != 0 || dst[1] != 0 || dst[2] != 0 || fd.StepFor(make([]float64, 3)) != 0 {
		t.Errorf("zero v: dst %v after %d gradient calls", dst, calls)
	}
	err := fd.Apply(ctx, dst, []float64{1, 0, 0})
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want boom", err)
	}
	t.Logf("error: %v", err)
	// The identity gradient has Hessian I.
	calls = 10
	must(fd.Apply(ctx, dst, []float64{1, -2, 0.5}))
	if relErr(dst, []float64{1, -2, 0.5}) > 1e-8 {
		t.Errorf("identity: %v", dst)
	}
}

func dotp(x, y []float64) float64 {
	var s float64
	for i := range x {
		s += x[i] * y[i]
	}
	return s
}
