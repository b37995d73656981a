package hessian

import (
	"errors"
	"math"
)

// errTridiag is returned when the QL iteration on the tridiagonal matrix does not converge.
var errTridiag = errors.New("hessian: tridiagonal eigenvalues did not converge")

// tridiagEigen computes the eigenvalues of the m×m symmetric tridiagonal matrix with diagonal d[0:m] and
// off-diagonal e[0:m-1] (e[i] = T[i][i+1]; e[m-1] is scratch), together with the last component of each
// normalised eigenvector, by the implicit QL method with Wilkinson shifts (tql2 of EISPACK, as in JAMA).
//
// On return d holds the eigenvalues (unsorted), e is destroyed, and z[k] is the last component of the
// eigenvector of d[k]. On entry z must hold the last row of the identity (z[m-1] = 1, the rest 0). Only that row
// of the eigenvector matrix is accumulated: the plane rotations act on columns, so each row evolves
// independently, and the last row is all that Lanczos residual estimates need. This costs O(m²) instead of O(m³).
func tridiagEigen(d, e, z []float64) error {
	m := len(d)
	if m == 0 {
		return nil
	}
	e[m-1] = 0
	var f, tst1 float64
	const eps = eps64
	for l := 0; l < m; l++ {
		// Find a small sub-diagonal element.
		tst1 = math.Max(tst1, math.Abs(d[l])+math.Abs(e[l]))
		k := l
		for k < m-1 && math.Abs(e[k]) > eps*tst1 {
			k++
		}
		// If k == l, d[l] is an eigenvalue; otherwise iterate.
		for iter := 0; k > l; iter++ {
			if iter == 60 {
				return errTridiag
			}
			// Implicit shift.
			g := d[l]
			p := (d[l+1] - g) / (2 * e[l])
			r := math.Hypot(p, 1)
			if p < 0 {
				r = -r
			}
			d[l] = e[l] / (p + r)
			d[l+1] = e[l] * (p + r)
			dl1 := d[l+1]
			h := g - d[l]
			for i := l + 2; i < m; i++ {
				d[i] -= h
			}
			f += h
			// Implicit QL transformation.
			p = d[k]
			c, c2, c3 := 1.0, 1.0, 1.0
			el1 := e[l+1]
			var s, s2 float64
			for i := k - 1; i >= l; i-- {
				c3 = c2
				c2 = c
				s2 = s
				g = c * e[i]
				h = c * p
				r = math.Hypot(p, e[i])
				e[i+1] = s * r
				s = e[i] / r
				c = p / r
				p = c*d[i] - s*g
				d[i+1] = h + s*(c*g+s*d[i])
				// Accumulate the rotation in the last row of the eigenvector matrix.
				h = z[i+1]
				z[i+1] = s*z[i] + c*h
				z[i] = c*z[i] - s*h
			}
			p = -s * s2 * c3 * el1 * e[l] / dl1
			e[l] = s * p
			d[l] = c * p
			if !(math.Abs(e[l]) > eps*tst1) {
				break
			}
		}
		d[l] += f
		e[l] = 0
	}
	for _, v := range d {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return errTridiag
		}
	}
	return nil
}
