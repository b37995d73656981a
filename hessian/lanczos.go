package hessian

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
)

// Defaults for the zero Options.
const (
	// DefaultTol is the default relative residual tolerance. The reference loss-landscape code uses ARPACK with
	// tol 1e-2, which is the same kind of residual test; 1e-3 is stricter and costs only a few more products,
	// and an extreme Ritz value's error is usually far below its residual (about residual²/gap). Finite-difference
	// products in float32 carry relative errors of order 1e-5 to 1e-4 of ‖H‖, so a much smaller Tol buys
	// products, not accuracy.
	DefaultTol = 1e-3
	// DefaultMaxIter is the default maximum number of operator products.
	DefaultMaxIter = 100
)

// ErrEmpty is returned by Lanczos for an operator of length 0.
var ErrEmpty = errors.New("hessian: operator of length 0")

// ErrNotFinite is returned (wrapped) by Lanczos when a product contains NaN or ±Inf.
var ErrNotFinite = errors.New("hessian: product is not finite")

// Options controls Lanczos. The zero value, and a nil *Options, give the defaults.
type Options struct {
	// Tol is the relative residual tolerance of both extreme Ritz values; zero or negative means DefaultTol.
	// A Ritz value θ with residual estimate r has converged when
	//
	//	r <= Tol · max(|θ|, Tol·‖T‖)   or   r <= 64 ε ‖T‖,
	//
	// where ‖T‖ = max(|θmin|, |θmax|) and ε = 2⁻⁵². The first floor keeps an eigenvalue at or near zero (a
	// rank-deficient Hessian) from never converging in relative terms: it is then resolved to Tol² of the
	// spectral scale, which for |λmin/λmax| is an error of at most Tol². The second accepts residuals at the level
	// of rounding, below which no tolerance can be met.
	Tol float64
	// MaxIter is the maximum number of operator products (Krylov dimension); zero or negative means
	// DefaultMaxIter. It is capped at the operator's length, where the Krylov space is the whole space.
	// The basis takes up to 8·n·MaxIter bytes (240 MB for n = 300 000 and the default), and each product is
	// followed by about 8·n·k floating-point operations of reorthogonalisation at Krylov dimension k.
	MaxIter int
}

// Result holds the extreme eigenvalue estimates of Lanczos.
type Result struct {
	// Min and Max are the smallest and largest Ritz values. For a symmetric operator, Min >= λmin and
	// Max <= λmax up to rounding: the estimates approach the extremes from inside.
	Min, Max float64
	// Products is the number of operator products made.
	Products int
	// Converged reports whether both extremes met the tolerance, or an invariant subspace was found (then the
	// Ritz values are eigenvalues), or the Krylov space reached the operator's length.
	Converged bool
	// MinResidual and MaxResidual are the residual estimates |β_k s_k| of the two Ritz values: each is within
	// its residual of an eigenvalue of the operator (in exact arithmetic, for a symmetric operator).
	MinResidual, MaxResidual float64
}

// Ratio returns |Min/Max|, the convexity measure of Li et al. (2018): small where positive curvature dominates.
// It returns NaN if Max is zero.
func (r Result) Ratio() float64 {
	if r.Max == 0 {
		return math.NaN()
	}
	return math.Abs(r.Min / r.Max)
}

// Lanczos estimates the smallest and largest eigenvalues of the symmetric operator op, both from one Krylov
// space. It runs the Lanczos iteration from a start vector of independent normal components drawn from rng (so
// that, with probability one, it has a component along every eigenvector), keeps the whole basis for full
// reorthogonalisation (classical Gram-Schmidt, twice, at every step), and solves the tridiagonal eigenproblem
// after every product. It stops when both extreme Ritz values have converged (see Options.Tol), when an
// invariant subspace is found (β ≈ 0: the Ritz values are then exact), or after MaxIter products.
//
// If rng is nil, a generator with a fixed seed is used, so the result is still deterministic. A nil opts means
// the defaults.
//
// The context is checked before each product and passed to it. If it is cancelled, or a product fails,
// Lanczos returns the estimates made so far (Converged false) with the error: ctx.Err() as it is, a product's
// error wrapped with its number. A product with NaN or ±Inf gives an error wrapping ErrNotFinite. Lanczos
// returns ErrEmpty if op.Len() is zero.
func Lanczos(ctx context.Context, op Operator, rng *rand.Rand, opts *Options) (Result, error) {
	n := op.Len()
	if n <= 0 {
		return Result{}, ErrEmpty
	}
	tol, maxIter := DefaultTol, DefaultMaxIter
	if opts != nil {
		if opts.Tol > 0 {
			tol = opts.Tol
		}
		if opts.MaxIter > 0 {
			maxIter = opts.MaxIter
		}
	}
	maxIter = min(maxIter, n)
	if rng == nil {
		rng = rand.New(rand.NewPCG(1, 2))
	}

	kr := newKrylov(op, maxIter)
	kr.start(randomUnit(rng, n, nil))
	var (
		res  Result
		d, z []float64
	)
	for j := 0; j < maxIter; j++ {
		b, err := kr.step(ctx)
		res.Products = kr.products
		if err != nil {
			return res, err
		}

		// Ritz values of T_{j+1} and the last components of their eigenvectors.
		m := j + 1
		if d, z, err = kr.ritz(d, z, m-1); err != nil {
			return res, err
		}
		res.Min, res.Max = d[0], d[m-1]
		res.MinResidual, res.MaxResidual = math.Abs(b*z[0]), math.Abs(b*z[m-1])

		normT := math.Max(math.Abs(res.Min), math.Abs(res.Max))
		floor := 64 * eps64 * normT
		if b <= floor || m == n {
			// Invariant subspace, or the whole space: the Ritz values are eigenvalues.
			res.Converged = true
			return res, nil
		}
		converged := func(theta, r float64) bool {
			return r <= tol*math.Max(math.Abs(theta), tol*normT) || r <= floor
		}
		if converged(res.Min, res.MinResidual) && converged(res.Max, res.MaxResidual) {
			res.Converged = true
			return res, nil
		}
		if m == maxIter {
			break
		}
		kr.extend(b)
	}
	return res, nil
}

// project computes coef[i] = q_i·w for the basis vectors q_i, then w -= Σ coef[i] q_i: one pass of classical
// Gram-Schmidt. (Blocking over w, to keep a piece of it in cache while the basis streams past, measured slower
// than streaming whole vectors.)
func project(coef []float64, basis [][]float64, w []float64) {
	for i, q := range basis {
		coef[i] = dot(q, w)
	}
	for i, q := range basis {
		axpy(-coef[i], q, w)
	}
}

// scale computes x *= a.
func scale(a float64, x []float64) {
	for i := range x {
		x[i] *= a
	}
}
