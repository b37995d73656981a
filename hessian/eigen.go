package hessian

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/lapack"
	"gonum.org/v1/gonum/lapack/gonum"
)

// EigenOptions controls Largest and Smallest. The zero value, and a nil *EigenOptions, give the defaults.
type EigenOptions struct {
	// Tol is the residual tolerance; zero or negative means DefaultTol. A Ritz pair (θ, y) has converged when
	// its residual ‖Hy − θy‖, estimated as |β_m s_m| from the tridiagonal matrix, is at most Tol·‖T‖, or at the
	// level of rounding (64 ε ‖T‖), where ‖T‖ is the largest |θ| among the run's Ritz values and the eigenvalues
	// already found. The eigenvalue's error is at most the residual, and usually far smaller (about
	// residual²/gap).
	Tol float64
	// MaxIter is the maximum number of operator products, over all runs; zero or negative means 200 + 20k.
	// The basis of one run takes up to 8·n bytes per product.
	MaxIter int
	// Runs is the maximum number of Lanczos runs; zero or negative means as many as needed (within MaxIter).
	// One run from one start vector sees each eigenvalue once, however often it is repeated: in exact
	// arithmetic the Krylov space holds only the start vector's component in each eigenspace. So after the
	// first run the search starts again from a new random vector orthogonal to the eigenvectors found
	// (deflation), and goes on until a run finds nothing that belongs among the k wanted. The last run is a check
	// that usually costs fewer products than the first. Runs = 1 skips it: cheaper, and right unless an
	// eigenvalue among the k wanted is repeated.
	Runs int
	// Vectors asks for the eigenvectors too.
	Vectors bool
}

// Eigen holds eigenvalues found by Largest or Smallest.
type Eigen struct {
	// Values are the eigenvalues, largest first for Largest, smallest first for Smallest; a repeated eigenvalue
	// appears as often as it was found.
	Values []float64
	// Vectors[i] is a unit eigenvector of Values[i] (the Ritz vector), if EigenOptions.Vectors was set, with
	// the sign that makes its component of largest magnitude positive; the vectors are orthogonal to each other
	// up to rounding and the residuals.
	Vectors [][]float64
	// Residuals[i] is the residual estimate of Values[i]: ‖Hy − θy‖ for the Ritz pair, in exact arithmetic for
	// a symmetric operator. (After deflation, it omits the part along the deflated eigenvectors, which is of the
	// size of their own residuals.) Values[i] is within Residuals[i] of an eigenvalue.
	Residuals []float64
	// Products is the number of operator products made, and Runs the number of Lanczos runs.
	Products, Runs int
	// Converged reports whether all the values met the tolerance (or came from an invariant subspace).
	Converged bool
}

// Largest computes the k largest eigenvalues (the most positive) of the symmetric operator op, and their
// eigenvectors if asked, by Lanczos with full reorthogonalisation, as Lanczos does, from start vectors of
// independent normal components drawn from rng. A run stops when its k largest Ritz pairs have converged (see
// EigenOptions.Tol), or, in runs after the first, when its largest converged Ritz values fall below the k-th
// value found; see EigenOptions.Runs for why there is more than one run.
//
// If k exceeds op.Len(), all op.Len() eigenvalues are computed. If rng is nil, a generator with a fixed seed is
// used, so the result is still deterministic; a given rng state always gives the same result. A nil opts means
// the defaults.
//
// If the context is cancelled, a product fails or contains NaN or ±Inf, or MaxIter products are spent, Largest
// returns what it has (Converged false; Values may then hold fewer than k values) with, except in the last
// case, an error as Lanczos's. It returns ErrEmpty if op.Len() is zero and an error if k < 1.
func Largest(ctx context.Context, op Operator, k int, rng *rand.Rand, opts *EigenOptions) (Eigen, error) {
	return extreme(ctx, op, k, rng, opts, 1)
}

// Smallest computes the k smallest eigenvalues (the most negative) of op, and their eigenvectors if asked, as
// Largest computes the largest. Values come smallest first.
func Smallest(ctx context.Context, op Operator, k int, rng *rand.Rand, opts *EigenOptions) (Eigen, error) {
	return extreme(ctx, op, k, rng, opts, -1)
}

// eigenpair is a found eigenvalue in the signed order of extreme: t = sign·θ, largest wanted.
type eigenpair struct {
	t, res float64
	vec    []float64
}

func extreme(ctx context.Context, op Operator, k int, rng *rand.Rand, opts *EigenOptions, sign float64) (Eigen,
	error) {
	n := op.Len()
	if n <= 0 {
		return Eigen{}, ErrEmpty
	}
	if k < 1 {
		return Eigen{}, fmt.Errorf("hessian: %d eigenvalues asked for, want at least 1", k)
	}
	k = min(k, n)
	tol, maxIter, maxRuns, vectors := DefaultTol, 200+20*k, 0, false
	if opts != nil {
		if opts.Tol > 0 {
			tol = opts.Tol
		}
		if opts.MaxIter > 0 {
			maxIter = opts.MaxIter
		}
		maxRuns = opts.Runs
		vectors = opts.Vectors
	}
	if rng == nil {
		rng = rand.New(rand.NewPCG(1, 2))
	}
	// Deflation needs the Ritz vectors of every run but the last.
	needVectors := vectors || maxRuns != 1

	var (
		found  []eigenpair // sorted, largest t first; at most k
		locked [][]float64 // every Ritz vector found, for deflation
		out    Eigen
		err    error
	)

	kr := newKrylov(op, min(maxIter, n))
	converged := true
	for maxRuns <= 0 || out.Runs < maxRuns {
		left := maxIter - kr.products
		if left <= 0 {
			converged = false
			break
		}
		q := randomUnit(rng, n, locked)
		if q == nil {
			break // the eigenvectors found span the space
		}
		kr.locked = locked
		kr.start(q)
		out.Runs++
		maxDim := min(left, n-len(locked))
		tau := math.Inf(-1) // the k-th value found, which a new one must exceed
		if len(found) == k {
			tau = found[k-1].t
		}
		scale := 0.0
		for _, p := range found {
			scale = math.Max(scale, math.Abs(p.t))
		}

		var (
			d, z     []float64
			b        float64
			m        int
			done     bool
			complete bool // the run spans the rest of the space: its Ritz values are all the eigenvalues left
		)
		// wanted returns the index of the i-th wanted Ritz value among the m in increasing order.
		wanted := func(i int) int {
			if sign < 0 {
				return i
			}
			return m - 1 - i
		}
		for !done {
			var bj float64
			if bj, err = kr.step(ctx); err != nil {
				break
			}
			b = bj
			m++
			if d, z, err = kr.ritz(d, z, m-1); err != nil {
				break
			}
			normT := math.Max(scale, math.Max(math.Abs(d[0]), math.Abs(d[m-1])))
			floor := 64 * eps64 * normT
			complete = m == n-len(locked)
			invariant := b <= floor || complete
			// Walk down the Ritz values from the wanted end. The run is done when the first k have converged, or
			// when a converged one falls below tau with all those before it converged.
			done = invariant
			for i := 0; i < min(k, m) && !done; i++ {
				j := wanted(i)
				r := math.Abs(b * z[j])
				if r > tol*normT && r > floor {
					break
				}
				done = i == k-1 || sign*d[j] < tau
			}
			if done || m == maxDim {
				break
			}
			kr.extend(b)
		}
		if m == 0 {
			converged = false
			break
		}
		// The run's wanted Ritz pairs, from T_m.
		var want []int
		if needVectors {
			for i := 0; i < min(k, m); i++ {
				want = append(want, wanted(i))
			}
		}
		vals, res, vecs, rerr := ritzPairs(kr, m, b, want)
		if rerr != nil && err == nil {
			err = rerr
		}
		if vals == nil {
			converged = false
			break
		}
		changed := false
		slack := tol * math.Max(scale, math.Max(math.Abs(vals[0]), math.Abs(vals[m-1])))
		for i := 0; i < min(k, m); i++ {
			j := wanted(i)
			p := eigenpair{t: sign * vals[j], res: res[j]}
			if vecs != nil {
				p.vec = vecs[j]
			}
			if len(found) == k && p.t <= found[k-1].t {
				break
			}
			if p.t > tau+slack {
				changed = true
			}
			found = insertPair(found, p, k)
			if p.vec != nil {
				locked = append(locked, p.vec)
			}
		}
		if err != nil || !done {
			converged = false
			break
		}
		if !changed || complete {
			break
		}
	}
	out.Products = kr.products
	out.Converged = converged && err == nil
	for _, p := range found {
		out.Values = append(out.Values, sign*p.t)
		out.Residuals = append(out.Residuals, p.res)
		if vectors {
			out.Vectors = append(out.Vectors, p.vec)
		}
	}
	return out, err
}

// insertPair inserts p into found, which is sorted by decreasing t, and keeps at most k pairs.
func insertPair(found []eigenpair, p eigenpair, k int) []eigenpair {
	i, _ := slices.BinarySearchFunc(found, p.t, func(q eigenpair, t float64) int {
		switch {
		case q.t > t:
			return -1
		case q.t < t:
			return 1
		}
		return 0
	})
	found = slices.Insert(found, i, p)
	if len(found) > k {
		found = found[:k]
	}
	return found
}

// ritzPairs returns the Ritz values of T_m (the first m values of kr.alpha and m-1 of kr.beta) in increasing
// order, their residual estimates |b s_m|, and the Ritz vectors Q_m s (normalised) of the values whose indices
// are in want (vecs[i] is nil for the others, and vecs is nil if want is empty), with Q_m the first m basis
// vectors. The eigenvectors s of T_m come from gonum's Dsteqr: see tridiag.go for why the
// iteration uses tridiagEigen instead. It returns nil values if the tridiagonal eigenproblem fails.
func ritzPairs(kr *krylov, m int, b float64, want []int) (vals, res []float64, vecs [][]float64, err error) {
	vals = append([]float64(nil), kr.alpha[:m]...)
	e := append(make([]float64, 0, m), kr.beta[:m-1]...)
	res = make([]float64, m)
	if len(want) == 0 {
		e = append(e, 0)
		z := make([]float64, m)
		z[m-1] = 1
		if err := tridiagEigen(vals, e, z); err != nil {
			return nil, nil, nil, err
		}
		sortPairs(vals, z)
		for i := range res {
			res[i] = math.Abs(b * z[i])
		}
		return vals, res, nil, nil
	}
	s := make([]float64, m*m) // row-major: column i is the eigenvector of vals[i]
	if !(gonum.Implementation{}).Dsteqr(lapack.EVTridiag, m, vals, e, s, m, make([]float64, max(1, 2*m-2))) {
		return nil, nil, nil, errTridiag
	}
	for i := range m {
		res[i] = math.Abs(b * s[(m-1)*m+i])
	}
	vecs = make([][]float64, m)
	for _, i := range want {
		y := make([]float64, kr.n)
		for j := range m {
			axpy(s[j*m+i], kr.basis[j], y)
		}
		// Unit norm, and the sign that makes the component of largest magnitude positive.
		big := 0
		for j, x := range y {
			if math.Abs(x) > math.Abs(y[big]) {
				big = j
			}
		}
		if ny := math.Copysign(norm(y), y[big]); ny != 0 {
			scale(1/ny, y)
		}
		vecs[i] = y
	}
	return vals, res, vecs, nil
}
