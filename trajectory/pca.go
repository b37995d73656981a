// Package trajectory computes the plane of a training run's path, as Li et
// al., "Visualizing the Loss Landscape of Neural Nets" (NeurIPS 2018), draw
// it: the two principal components of the checkpoints' differences from
// the final model, and each checkpoint's coordinates on them.
//
// It is pure arithmetic on flat float64 vectors: the caller (package
// pipeline) reads the models and chooses the weights that take part.
//
// Fit does what scikit-learn's PCA(n_components=2).fit does, as the
// reference implementation's projection.py calls it: it centres the rows,
// takes the full SVD of the centred matrix, and fixes each component's sign
// as svd_flip(u, v, u_based_decision=True) does (scikit-learn up to 1.4,
// the reference's): the entry of the left singular vector largest in
// magnitude (the first on a tie) is made positive. The explained variance
// ratio of component k is S_k^2 over the sum of all S_j^2. Project is the
// reference's cosine projection, dot(d, v)/|v|, applied to the differences
// themselves, not centred.
package trajectory

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Errors Fit returns for inputs that define no plane.
var (
	// ErrTooFew: fewer than three vectors; centred, two span a line at most.
	ErrTooFew = errors.New("a plane needs at least three checkpoints")
	// ErrIdentical: every vector is the same, so there is no variance.
	ErrIdentical = errors.New("all checkpoints have the same weights: there is no variance to analyse")
	// ErrLine: the centred vectors span a line, so the second component is
	// undefined.
	ErrLine = errors.New("the checkpoints lie on one line: the second principal component is undefined")
)

// lineTol is the ratio S_2/S_1 below which the second component is taken
// as rounding noise.
const lineTol = 1e-10

// PCA is the result of Fit.
type PCA struct {
	// Components are the two principal axes, unit vectors of the rows'
	// length.
	Components [2][]float64
	// Ratio is the fraction of the variance each component explains.
	Ratio [2]float64
	// Singular holds every singular value of the centred matrix, largest
	// first (min(rows, len(row)) of them).
	Singular []float64
	// Mean is the mean row, which Fit subtracts.
	Mean []float64
}

// Fit returns the two principal components of rows, which must all have
// the same length. It returns ErrTooFew, ErrIdentical or ErrLine (wrapped)
// when the rows define no plane.
func Fit(rows [][]float64) (*PCA, error) {
	n := len(rows)
	if n < 3 {
		return nil, fmt.Errorf("trajectory: %d vectors: %w", n, ErrTooFew)
	}
	p := len(rows[0])
	for i, r := range rows {
		if len(r) != p {
			return nil, fmt.Errorf("trajectory: vector %d has %d values, vector 0 %d", i, len(r), p)
		}
	}
	if p < 2 {
		return nil, fmt.Errorf("trajectory: vectors of %d values span no plane", p)
	}
	same := true
	for _, r := range rows[1:] {
		for j, v := range r {
			if v != rows[0][j] {
				same = false
				break
			}
		}
	}
	if same {
		return nil, fmt.Errorf("trajectory: %w", ErrIdentical)
	}
	mean := make([]float64, p)
	for _, r := range rows {
		for j, v := range r {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	c := mat.NewDense(n, p, nil)
	for i, r := range rows {
		row := c.RawRowView(i)
		for j, v := range r {
			row[j] = v - mean[j]
		}
	}
	var svd mat.SVD
	if !svd.Factorize(c, mat.SVDThin) {
		return nil, errors.New("trajectory: the SVD did not converge")
	}
	s := svd.Values(nil)
	if s[0] == 0 {
		return nil, fmt.Errorf("trajectory: %w", ErrIdentical)
	}
	if s[1] <= lineTol*s[0] {
		return nil, fmt.Errorf("trajectory: S2/S1 = %.3g: %w", s[1]/s[0], ErrLine)
	}
	var u, v mat.Dense
	svd.UTo(&u)
	svd.VTo(&v)
	var total float64
	for _, x := range s {
		total += x * x
	}
	res := &PCA{Singular: s, Mean: mean}
	for k := range 2 {
		// svd_flip, u-based: the largest |U[i,k]| (the first on a tie) is
		// made positive.
		best, at := -1.0, 0
		for i := range n {
			if a := math.Abs(u.At(i, k)); a > best {
				best, at = a, i
			}
		}
		sign := 1.0
		if u.At(at, k) < 0 {
			sign = -1
		}
		comp := make([]float64, p)
		for j := range comp {
			comp[j] = sign * v.At(j, k)
		}
		res.Components[k] = comp
		res.Ratio[k] = s[k] * s[k] / total
	}
	return res, nil
}

// Project returns the reference's cosine projection of d onto v,
// dot(d, v)/|v|; 0 if v is zero. It panics if the lengths differ.
func Project(d, v []float64) float64 {
	if len(d) != len(v) {
		panic(fmt.Sprintf("trajectory: project %d values onto %d", len(d), len(v)))
	}
	var dot, vv float64
	for i, x := range v {
		dot += d[i] * x
		vv += x * x
	}
	if vv == 0 {
		return 0
	}
	return dot / math.Sqrt(vv)
}
