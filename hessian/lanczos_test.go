package hessian_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/lsweep/lsweep/hessian"
)

type spectrumCase struct {
	name string
	eig  []float64
	// dense: rotate by a random orthogonal matrix into a dense operator, else use the diagonal operator.
	dense bool
	// maxProducts is a generous bound on the products the tight tolerance may take.
	maxProducts int
}

func spectrumCases() []spectrumCase {
	clustered := append(linspace(1, 90, 270), linspace(100-1e-2, 100, 30)...)
	rankDef := append(make([]float64, 100), linspace(1, 50, 50)...)
	return []spectrumCase{
		{name: "positive-definite-1..100-diagonal", eig: linspace(1, 100, 1000), maxProducts: 250},
		{name: "positive-definite-1..100-dense", eig: linspace(1, 100, 200), dense: true, maxProducts: 150},
		{name: "indefinite-30..50-dense", eig: linspace(-30, 50, 200), dense: true, maxProducts: 150},
		{name: "indefinite-30..50-diagonal", eig: linspace(-30, 50, 2000), maxProducts: 300},
		{name: "clustered-max-dense", eig: clustered, dense: true, maxProducts: 300},
		{name: "rank-deficient-dense", eig: rankDef, dense: true, maxProducts: 60},
		{name: "negative-definite-dense", eig: linspace(-5, -1, 50), dense: true, maxProducts: 50},
		{name: "n=1", eig: []float64{-3}, dense: true, maxProducts: 1},
		{name: "n=2", eig: []float64{1, 3}, dense: true, maxProducts: 2},
		{name: "n=2-equal", eig: []float64{2, 2}, dense: true, maxProducts: 2},
		{name: "zero", eig: make([]float64, 10), maxProducts: 1},
	}
}

func (c spectrumCase) operator(rng *rand.Rand) hessian.Operator {
	if !c.dense {
		return diagonal(slices.Clone(c.eig))
	}
	// Shuffle so that the extremes are not the first and last basis directions.
	eig := slices.Clone(c.eig)
	rng.Shuffle(len(eig), func(i, j int) { eig[i], eig[j] = eig[j], eig[i] })
	return hessian.NewDense(len(eig), rotated(eig, rng))
}

// Known spectra, with a tight tolerance: both extremes to 1e-6 relative (absolute, relative to the spectral
// scale, for an extreme at zero), within the spectrum's bounds, in a reasonable number of products.
func TestLanczosKnownSpectra(t *testing.T) {
	ctx := context.Background()
	for _, c := range spectrumCases() {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(11, uint64(len(c.eig))))
			op := c.operator(rng)
			lo, hi := slices.Min(c.eig), slices.Max(c.eig)
			scale := math.Max(math.Abs(lo), math.Abs(hi))
			res, err := hessian.Lanczos(ctx, op, rng, &hessian.Options{Tol: 1e-10, MaxIter: 400})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Converged {
				t.Errorf("not converged after %d products", res.Products)
			}
			errMin := math.Abs(res.Min-lo) / math.Max(math.Abs(lo), scale*1e-300)
			errMax := math.Abs(res.Max-hi) / math.Max(math.Abs(hi), scale*1e-300)
			if lo == 0 {
				errMin = math.Abs(res.Min) / scale
			}
			if hi == 0 {
				errMax = math.Abs(res.Max) / scale
			}
			if scale == 0 {
				errMin, errMax = math.Abs(res.Min), math.Abs(res.Max)
			}
			t.Logf("n=%d: min %.15g (rel err %.2g), max %.15g (rel err %.2g), %d products, residuals %.2g %.2g",
				len(c.eig), res.Min, errMin, res.Max, errMax, res.Products, res.MinResidual, res.MaxResidual)
			if errMin > 1e-6 || errMax > 1e-6 {
				t.Errorf("min %.15g max %.15g, want %g %g", res.Min, res.Max, lo, hi)
			}
			// Ritz values lie inside the spectrum (up to rounding).
			if slack := 1e-12 * scale; res.Min < lo-slack || res.Max > hi+slack {
				t.Errorf("Ritz values [%g, %g] outside the spectrum [%g, %g]", res.Min, res.Max, lo, hi)
			}
			if res.Products > c.maxProducts {
				t.Errorf("%d products, want at most %d", res.Products, c.maxProducts)
			}
		})
	}
}

// The default tolerance: what accuracy and how many products it buys on the same problems.
func TestLanczosDefaultTol(t *testing.T) {
	ctx := context.Background()
	for _, c := range spectrumCases() {
		if len(c.eig) < 50 {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(12, uint64(len(c.eig))))
			op := c.operator(rng)
			lo, hi := slices.Min(c.eig), slices.Max(c.eig)
			scale := math.Max(math.Abs(lo), math.Abs(hi))
			res, err := hessian.Lanczos(ctx, op, rng, nil)
			if err != nil {
				t.Fatal(err)
			}
			errMin, errMax := math.Abs(res.Min-lo)/scale, math.Abs(res.Max-hi)/scale
			t.Logf("min err %.2g, max err %.2g (relative to the spectral scale), ratio %.6g (exact %.6g), "+
				"%d products, converged %v", errMin, errMax, res.Ratio(), math.Abs(lo/hi), res.Products, res.Converged)
			// The residual test bounds the error by Tol·max(|θ|, Tol‖T‖); a residual-sized error is the worst case.
			if errMin > 1e-3 || errMax > 1e-3 {
				t.Errorf("min %g max %g, want %g %g", res.Min, res.Max, lo, hi)
			}
			// The 1000 and 2000 evenly spaced eigenvalues leave the extremes with relative gaps of 1e-4: their
			// residuals fall slowly, although the Ritz values are already good. The others must converge.
			if !res.Converged && len(c.eig) <= 300 {
				t.Errorf("not converged in %d products", res.Products)
			}
		})
	}
}

// Lanczos on an explicit Hessian: the logistic regression's at a point, against its eigenvalues from a long run
// (the full Krylov space: exact).
func TestLanczosLogisticHessian(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(5, 6))
	l := newLogistic(300, 60, rng)
	w := normal(60, rng)
	h := l.hessian(w)
	exact, err := hessian.Lanczos(ctx, h, rand.New(rand.NewPCG(1, 1)), &hessian.Options{MaxIter: 60, Tol: 1e-300})
	if err != nil || !exact.Converged || exact.Products > 60 {
		t.Fatalf("full run: %+v, %v", exact, err)
	}
	res, err := hessian.Lanczos(ctx, h, rng, &hessian.Options{Tol: 1e-9})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("min %.12g max %.12g (full run %.12g %.12g), %d products", res.Min, res.Max, exact.Min, exact.Max,
		res.Products)
	if math.Abs(res.Min-exact.Min) > 1e-8*exact.Max || math.Abs(res.Max-exact.Max) > 1e-8*exact.Max {
		t.Errorf("min %g max %g, want %g %g", res.Min, res.Max, exact.Min, exact.Max)
	}
}

func TestLanczosDeterministic(t *testing.T) {
	ctx := context.Background()
	op := diagonal(linspace(-1, 7, 500))
	run := func(seed uint64) hessian.Result {
		res, err := hessian.Lanczos(ctx, op, rand.New(rand.NewPCG(seed, 0)), nil)
		must(err)
		return res
	}
	if a, b := run(1), run(1); a != b {
		t.Errorf("same seed, different results: %+v %+v", a, b)
	}
	a, err := hessian.Lanczos(ctx, op, nil, nil)
	must(err)
	b, err := hessian.Lanczos(ctx, op, nil, nil)
	must(err)
	if a != b {
		t.Errorf("nil rng, different results: %+v %+v", a, b)
	}
	if c := run(2); math.Abs(c.Max-7) > 1e-2 || math.Abs(c.Min+1) > 1e-2 {
		t.Errorf("another seed: %+v", c)
	}
}

func TestLanczosMaxIter(t *testing.T) {
	op := diagonal(linspace(1, 100, 5000))
	res, err := hessian.Lanczos(context.Background(), op, rand.New(rand.NewPCG(1, 2)),
		&hessian.Options{Tol: 1e-12, MaxIter: 7})
	if err != nil {
		t.Fatal(err)
	}
	if res.Products != 7 || res.Converged {
		t.Errorf("%+v, want 7 products, not converged", res)
	}
	if res.Min < 1 || res.Max > 100 || res.Min >= res.Max {
		t.Errorf("Ritz values [%g, %g] outside [1, 100]", res.Min, res.Max)
	}
}

// countingOp counts products and can cancel a context, fail, or return NaN at a given product.
type countingOp struct {
	hessian.Operator
	n       int
	at      int
	cancel  context.CancelFunc
	err     error
	poison  bool
	lastCtx context.Context
}

func (c *countingOp) Apply(ctx context.Context, dst, v []float64) error {
	c.n++
	c.lastCtx = ctx
	if c.n == c.at {
		switch {
		case c.cancel != nil:
			c.cancel()
		case c.err != nil:
			return c.err
		case c.poison:
			must(c.Operator.Apply(ctx, dst, v))
			dst[len(dst)/2] = math.NaN()
			return nil
		}
	}
	return c.Operator.Apply(ctx, dst, v)
}

func TestLanczosCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	op := &countingOp{Operator: diagonal(linspace(1, 100, 1000)), at: 5, cancel: cancel}
	res, err := hessian.Lanczos(ctx, op, rand.New(rand.NewPCG(1, 2)), &hessian.Options{Tol: 1e-12})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	// The fifth product completed (cancellation is seen before the next one) and its estimates are kept.
	if res.Products != 5 || op.n != 5 || res.Converged {
		t.Errorf("%+v after %d calls, want 5 products, not converged", res, op.n)
	}
	if !(res.Min >= 1 && res.Max <= 100 && res.Max > 50) {
		t.Errorf("estimates kept: [%g, %g]", res.Min, res.Max)
	}
	if op.lastCtx != ctx {
		t.Error("the context was not passed to the operator")
	}
}

func TestLanczosErrors(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("boom")
	op := &countingOp{Operator: diagonal(linspace(1, 2, 100)), at: 3, err: boom}
	res, err := hessian.Lanczos(ctx, op, nil, nil)
	if !errors.Is(err, boom) || res.Products != 2 {
		t.Errorf("failing product: %+v, %v", res, err)
	}
	t.Logf("error: %v", err)

	op = &countingOp{Operator: diagonal(linspace(1, 2, 100)), at: 2, poison: true}
	if _, err := hessian.Lanczos(ctx, op, nil, nil); !errors.Is(err, hessian.ErrNotFinite) {
		t.Errorf("NaN product: err = %v", err)
	}

	if _, err := hessian.Lanczos(ctx, diagonal(nil), nil, nil); !errors.Is(err, hessian.ErrEmpty) {
		t.Errorf("empty operator: err = %v", err)
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	res, err = hessian.Lanczos(cctx, diagonal(linspace(1, 2, 10)), nil, nil)
	if !errors.Is(err, context.Canceled) || res.Products != 0 {
		t.Errorf("cancelled before the start: %+v, %v", res, err)
	}
}

func TestRatio(t *testing.T) {
	for _, c := range []struct {
		min, max, want float64
	}{
		{-1, 4, 0.25},
		{1, 4, 0.25},
		{-5, -1, 5},
		{0, 3, 0},
		{-2, 0, math.NaN()},
		{0, 0, math.NaN()},
	} {
		got := hessian.Result{Min: c.min, Max: c.max}.Ratio()
		if got != c.want && !(math.IsNaN(got) && math.IsNaN(c.want)) {
			t.Errorf("Ratio(%g, %g) = %g, want %g", c.min, c.max, got, c.want)
		}
	}
}

func TestDense(t *testing.T) {
	// Only the upper triangle is read.
	d := hessian.NewDense(2, []float64{1, 2, 99, 3})
	dst := make([]float64, 2)
	must(d.Apply(context.Background(), dst, []float64{1, 1}))
	if dst[0] != 3 || dst[1] != 5 || d.At(1, 0) != 2 || d.Len() != 2 {
		t.Errorf("got %v", dst)
	}
	defer func() {
		if recover() == nil {
			t.Error("NewDense with 3 values for n=2 did not panic")
		}
	}()
	hessian.NewDense(2, []float64{1, 2, 3})
}
