package hessian

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
)

// krylov is the Lanczos process that Lanczos, Largest, Smallest and SLQ share: products with the operator, the
// three-term recurrence and full reorthogonalisation, building the orthonormal basis q_0, q_1, ... and the
// tridiagonal matrix T with diagonal alpha and off-diagonal beta.
//
// Every new vector is also kept orthogonal to the vectors in locked (converged eigenvectors, for deflation):
// the process then runs on the operator restricted to their orthogonal complement.
type krylov struct {
	op     Operator
	n      int
	locked [][]float64

	basis       [][]float64
	alpha, beta []float64
	w, coef     []float64
	// products counts the products made since the krylov was made, over all starts.
	products int
}

func newKrylov(op Operator, maxDim int) *krylov {
	n := op.Len()
	return &krylov{
		op:    op,
		n:     n,
		w:     make([]float64, n),
		coef:  make([]float64, 0, maxDim),
		alpha: make([]float64, 0, maxDim),
		beta:  make([]float64, 0, maxDim),
	}
}

// start discards the basis and starts again from q, which must have unit norm and be orthogonal to the locked
// vectors. The krylov keeps q.
func (k *krylov) start(q []float64) {
	k.basis = append(k.basis[:0], q)
	k.alpha = k.alpha[:0]
	k.beta = k.beta[:0]
}

// step multiplies the last basis vector q_j by the operator, subtracts α_j q_j and β_{j-1} q_{j-1}, and
// reorthogonalises against the whole basis and the locked vectors, twice. It appends α_j and leaves the residual
// in k.w; it returns the residual's norm, β_j. The context is checked before the product.
func (k *krylov) step(ctx context.Context) (float64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	j := len(k.basis) - 1
	qj := k.basis[j]
	w := k.w
	if err := k.op.Apply(ctx, w, qj); err != nil {
		return 0, fmt.Errorf("hessian: product %d: %w", k.products+1, err)
	}
	k.products++
	for _, v := range w {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("hessian: product %d: %w", k.products, ErrNotFinite)
		}
	}
	a := dot(qj, w)
	axpy(-a, qj, w)
	if j > 0 {
		axpy(-k.beta[j-1], k.basis[j-1], w)
	}
	// Full reorthogonalisation against the whole basis, twice ("twice is enough"). The component along q_j is
	// folded into α_j; the others are what the three-term recurrence lost to rounding (or to the asymmetry of an
	// approximate operator) and are dropped. So are the components along locked vectors: for an exact
	// eigenvector u, H q has none (uᵀHq = λ uᵀq = 0), and what an approximate one leaves is of the size of its
	// residual.
	for pass := 0; pass < 2; pass++ {
		k.coef = resize(k.coef, j+1)
		project(k.coef, k.basis, w)
		a += k.coef[j]
		if len(k.locked) > 0 {
			k.coef = resize(k.coef, len(k.locked))
			project(k.coef, k.locked, w)
		}
	}
	k.alpha = append(k.alpha, a)
	return norm(w), nil
}

// extend appends β_j = b and the next basis vector w/b. It must follow step, with b > 0.
func (k *krylov) extend(b float64) {
	k.beta = append(k.beta, b)
	next := make([]float64, k.n)
	for i, v := range k.w {
		next[i] = v / b
	}
	k.basis = append(k.basis, next)
}

// ritz computes the eigenvalues of T (the current α, β) into d and one row of its eigenvector matrix into z:
// row row of the m×m matrix whose columns are T's normalised eigenvectors (the last row gives residual
// estimates, the first the quadrature weights of stochastic Lanczos quadrature). The eigenvalues are sorted in
// increasing order, z with them. The slices are reused when they are long enough, and returned.
func (k *krylov) ritz(d, z []float64, row int) ([]float64, []float64, error) {
	m := len(k.alpha)
	d = append(d[:0], k.alpha...)
	e := make([]float64, m)
	copy(e, k.beta[:m-1])
	if cap(z) < m {
		z = make([]float64, m)
	}
	z = z[:m]
	clear(z)
	z[row] = 1
	if err := tridiagEigen(d, e, z); err != nil {
		return d, z, err
	}
	sortPairs(d, z)
	return d, z, nil
}

// resize returns s with length m, reallocated if its capacity is less.
func resize(s []float64, m int) []float64 {
	if cap(s) < m {
		return make([]float64, m, 2*m)
	}
	return s[:m]
}

// sortPairs sorts d in increasing order and applies the same permutation to z (insertion sort: the values come
// out of the QL iteration nearly sorted, and m is small).
func sortPairs(d, z []float64) {
	for i := 1; i < len(d); i++ {
		for j := i; j > 0 && d[j] < d[j-1]; j-- {
			d[j], d[j-1] = d[j-1], d[j]
			z[j], z[j-1] = z[j-1], z[j]
		}
	}
}

// randomUnit returns a unit vector of independent normal components drawn from rng, made orthogonal to the
// vectors of against (twice). It returns nil if, after ten draws, nothing of norm at least 1e-8 of the draw is
// left: the vectors of against then span the space, as far as rounding can tell.
func randomUnit(rng *rand.Rand, n int, against [][]float64) []float64 {
	q := make([]float64, n)
	coef := make([]float64, len(against))
	for try := 0; try < 10; try++ {
		for i := range q {
			q[i] = rng.NormFloat64()
		}
		n0 := norm(q)
		if len(against) > 0 {
			project(coef, against, q)
			project(coef, against, q)
		}
		if nq := norm(q); nq > 1e-8*n0 {
			scale(1/nq, q)
			return q
		}
	}
	return nil
}

// rademacher fills z with independent random signs ±1, 64 from each draw of rng.
func rademacher(rng *rand.Rand, z []float64) {
	var bits uint64
	for i := range z {
		if i%64 == 0 {
			bits = rng.Uint64()
		}
		z[i] = 1
		if bits&1 != 0 {
			z[i] = -1
		}
		bits >>= 1
	}
}
