package hessian_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/lsweep/lsweep/hessian"
)

// topCase is an operator with a prescribed spectrum, made explicit so that gonum's mat.EigenSym can give the
// reference eigenvalues.
type topCase struct {
	name string
	eig  []float64
	// dense: rotate by a random orthogonal matrix, else keep diagonal.
	dense bool
}

func topCases() []topCase {
	bulk := func(n int, rng *rand.Rand) []float64 {
		x := make([]float64, n)
		for i := range x {
			x[i] = 0.05 * rng.NormFloat64()
		}
		return x
	}
	rng := rand.New(rand.NewPCG(8, 9))
	hessianLike := append(bulk(294, rng), 40, 25, 12, 9, -3, -1.5)
	// Repeated at both ends: 10 three times, 7 twice; -4 three times, -2 twice.
	repeated := append(linspace(-1, 5, 110), 10, 10, 10, 7, 7, -4, -4, -4, -2, -2)
	return []topCase{
		{name: "diagonal-evenly-spaced", eig: linspace(-30, 50, 300)},
		{name: "diagonal-hessian-like", eig: hessianLike},
		{name: "dense-hessian-like", eig: hessianLike, dense: true},
		{name: "dense-indefinite", eig: linspace(-30, 50, 200), dense: true},
		{name: "dense-repeated", eig: repeated, dense: true},
		{name: "diagonal-repeated", eig: repeated},
		{name: "dense-negative-definite", eig: linspace(-9, -1, 80), dense: true},
		{name: "dense-n=3", eig: []float64{2, -1, 2}, dense: true},
		{name: "dense-n=1", eig: []float64{-3}, dense: true},
	}
}

// matrix returns the row-major matrix of the case and its operator.
func (c topCase) matrix(rng *rand.Rand) ([]float64, hessian.Operator) {
	eig := slices.Clone(c.eig)
	rng.Shuffle(len(eig), func(i, j int) { eig[i], eig[j] = eig[j], eig[i] })
	n := len(eig)
	if !c.dense {
		a := make([]float64, n*n)
		for i, v := range eig {
			a[i*n+i] = v
		}
		return a, diagonal(eig)
	}
	a := rotated(eig, rng)
	return a, hessian.NewDense(n, a)
}

// eigenSym returns gonum's eigenvalues of the row-major symmetric matrix a, in increasing order.
func eigenSym(t *testing.T, a []float64) []float64 {
	n := int(math.Sqrt(float64(len(a))))
	var es mat.EigenSym
	if !es.Factorize(mat.NewSymDense(n, slices.Clone(a)), false) {
		t.Fatal("EigenSym failed")
	}
	return es.Values(nil)
}

// The k = 5 largest and smallest eigenvalues equal gonum's to 1e-8 (absolute: the spectra reach 50 in
// magnitude, and Tol 1e-10 bounds each error by a residual of at most 5e-9; the errors are near 1e-13), repeated
// ones as often as they are repeated; the eigenvectors have small residuals and are orthonormal.
func TestLargestSmallest(t *testing.T) {
	ctx := context.Background()
	const k = 5
	for _, c := range topCases() {
		for _, which := range []string{"largest", "smallest"} {
			t.Run(c.name+"/"+which, func(t *testing.T) {
				rng := rand.New(rand.NewPCG(5, uint64(len(c.eig))))
				a, op := c.matrix(rng)
				n := len(c.eig)
				ref := eigenSym(t, a)
				want := ref[:min(k, n)]
				f := hessian.Smallest
				if which == "largest" {
					f = hessian.Largest
					want = slices.Clone(ref[max(0, n-k):])
					slices.Reverse(want)
				}
				scale := math.Max(math.Abs(ref[0]), math.Abs(ref[n-1]))
				res, err := f(ctx, op, k, rng, &hessian.EigenOptions{Tol: 1e-10, Vectors: true})
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("%v (want %v): %d products in %d runs, converged %v", res.Values, want, res.Products,
					res.Runs, res.Converged)
				if !res.Converged || len(res.Values) != len(want) || len(res.Vectors) != len(want) ||
					len(res.Residuals) != len(want) {
					t.Fatalf("converged %v, %d values, %d vectors, %d residuals, want %d", res.Converged,
						len(res.Values), len(res.Vectors), len(res.Residuals), len(want))
				}
				var worst float64
				for i, v := range res.Values {
					worst = math.Max(worst, math.Abs(v-want[i]))
					if math.Abs(v-want[i]) > 1e-8 {
						t.Errorf("value %d: %.15g, want %.15g", i, v, want[i])
					}
				}
				t.Logf("largest error %.2g", worst)
				// ‖Hy − θy‖ small, and YᵀY = I.
				hy := make([]float64, n)
				for i, y := range res.Vectors {
					must(op.Apply(ctx, hy, y))
					var r float64
					for j := range hy {
						r += (hy[j] - res.Values[i]*y[j]) * (hy[j] - res.Values[i]*y[j])
					}
					if r = math.Sqrt(r); r > 1e-6*scale || r > 10*res.Residuals[i]+1e-12*scale {
						t.Errorf("vector %d: residual %g, reported %g", i, r, res.Residuals[i])
					}
					for j, x := range res.Vectors[:i+1] {
						want := 0.0
						if j == i {
							want = 1
						}
						if d := dotp(x, y); math.Abs(d-want) > 1e-8 {
							t.Errorf("vectors %d and %d: dot product %g", j, i, d)
						}
					}
				}
			})
		}
	}
}

// A single run is blind to multiplicity. On a diagonal operator with three distinct eigenvalues (10 three times,
// 7 twice, 1 twenty times), the Krylov space of one start vector is invariant after three products, and holds
// each eigenvalue once. (On the dense repeated spectra above, rounding errors seed the missing copies, and a long
// enough run finds some of them; nothing guarantees it.) The second run, deflated against 10, 7 and 1, finds 10,
// 7 and 1 (3 products) and keeps the second 10; the third finds 10, 7 and 1 again (3 products: the second 7 was
// not wanted, so not deflated) and keeps the third 10; the fourth finds 7 and 1 (2 products), nothing above 10.
func TestLargestRuns(t *testing.T) {
	ctx := context.Background()
	eig := append([]float64{10, 7, 10, 7, 10}, slices.Repeat([]float64{1}, 20)...)
	one, err := hessian.Largest(ctx, diagonal(eig), 3, nil, &hessian.EigenOptions{Tol: 1e-10, Runs: 1})
	must(err)
	all, err := hessian.Largest(ctx, diagonal(eig), 3, nil, &hessian.EigenOptions{Tol: 1e-10})
	must(err)
	t.Logf("one run: %v in %d products; all: %v in %d products, %d runs", one.Values, one.Products, all.Values,
		all.Products, all.Runs)
	near := func(got []float64, want ...float64) bool {
		if len(got) != len(want) {
			return false
		}
		for i := range got {
			if math.Abs(got[i]-want[i]) > 1e-12 {
				return false
			}
		}
		return true
	}
	if one.Runs != 1 || one.Vectors != nil || one.Products != 3 || !near(one.Values, 10, 7, 1) {
		t.Errorf("one run: %+v", one)
	}
	if all.Runs != 4 || all.Products != 11 || !near(all.Values, 10, 10, 10) || !all.Converged {
		t.Errorf("all runs: %+v, want 10 three times in 4 runs, 11 products", all)
	}
}

func TestLargestDeterministic(t *testing.T) {
	ctx := context.Background()
	op := diagonal(linspace(-1, 7, 500))
	run := func(rng *rand.Rand) hessian.Eigen {
		res, err := hessian.Largest(ctx, op, 4, rng, nil)
		must(err)
		return res
	}
	a, b := run(rand.New(rand.NewPCG(3, 3))), run(rand.New(rand.NewPCG(3, 3)))
	if !slices.Equal(a.Values, b.Values) || !slices.Equal(a.Residuals, b.Residuals) || a.Products != b.Products {
		t.Errorf("same seed, different results: %+v %+v", a, b)
	}
	a, b = run(nil), run(nil)
	if !slices.Equal(a.Values, b.Values) || a.Products != b.Products {
		t.Errorf("nil rng, different results: %+v %+v", a, b)
	}
}

func TestLargestEdges(t *testing.T) {
	ctx := context.Background()
	if _, err := hessian.Largest(ctx, diagonal(nil), 1, nil, nil); !errors.Is(err, hessian.ErrEmpty) {
		t.Errorf("empty operator: err = %v", err)
	}
	if _, err := hessian.Smallest(ctx, diagonal{1, 2}, 0, nil, nil); err == nil {
		t.Error("k = 0: no error")
	}
	// The zero operator: every value is 0, exactly.
	res, err := hessian.Largest(ctx, diagonal(make([]float64, 20)), 3, nil, nil)
	if err != nil || !slices.Equal(res.Values, []float64{0, 0, 0}) || !res.Converged {
		t.Errorf("zero operator: %+v, %v", res, err)
	}
	// MaxIter too small: what was found, not converged, no error.
	res, err = hessian.Largest(ctx, diagonal(linspace(1, 100, 5000)), 2, nil,
		&hessian.EigenOptions{Tol: 1e-12, MaxIter: 6})
	if err != nil || res.Converged || res.Products != 6 || len(res.Values) != 2 || res.Values[0] > 100 {
		t.Errorf("MaxIter 6: %+v, %v", res, err)
	}
	// Cancellation after the fourth product: the estimates so far, with the error.
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	op := &countingOp{Operator: diagonal(linspace(1, 100, 1000)), at: 4, cancel: cancel}
	res, err = hessian.Smallest(cctx, op, 2, nil, nil)
	if !errors.Is(err, context.Canceled) || res.Products != 4 || res.Converged || len(res.Values) != 2 ||
		res.Values[0] < 1 {
		t.Errorf("cancelled: %+v, %v", res, err)
	}
	boom := errors.New("boom")
	op = &countingOp{Operator: diagonal(linspace(1, 100, 1000)), at: 3, err: boom}
	if res, err := hessian.Largest(ctx, op, 1, nil, &hessian.EigenOptions{Vectors: true}); !errors.Is(err, boom) ||
		res.Products != 2 || len(res.Vectors) != 1 {
		t.Errorf("failing product: %+v, %v", res, err)
	}
}
