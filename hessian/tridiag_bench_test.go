package hessian

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/lapack"
	"gonum.org/v1/gonum/lapack/gonum"
	"gonum.org/v1/gonum/mat"
)

// The tridiagonal eigensolver against gonum's, on the matrices Lanczos makes: T_m after m steps on a
// Hessian-like spectrum (a bulk near zero, a few outliers on both sides), at m = 10, 50, 100 and 300.
//
// What each variant computes:
//
//	ql-row       tridiagEigen: the eigenvalues and one row of the eigenvector matrix (O(m²))
//	dsterf       gonum's Dsterf: the eigenvalues only (O(m²)); a lower bound, since it gives no row
//	dsteqr       gonum's Dsteqr with EVTridiag: the eigenvalues and all eigenvectors (O(m³))
//	eigensym     gonum's mat.EigenSym on T as a dense symmetric matrix, with vectors (O(m³), plus the reduction)
//
// Lanczos solves T_j after every product j, so a run of m products costs the sum over j <= m: O(m³) with ql-row,
// O(m⁴) with dsteqr or eigensym.

// lanczosT returns α and β of the Lanczos tridiagonal T_m of a diagonal operator with a Hessian-like spectrum.
func lanczosT(m int) (alpha, beta []float64) {
	rng := rand.New(rand.NewPCG(uint64(m), 99))
	const n = 2000
	eig := make(diagOp, n)
	for i := range eig {
		eig[i] = 0.05 * rng.NormFloat64()
	}
	copy(eig, []float64{40, 25, 12, 9, -3, -1.5})
	kr := newKrylov(eig, m)
	kr.start(randomUnit(rng, n, nil))
	for j := 0; j < m; j++ {
		b, err := kr.step(context.Background())
		if err != nil {
			panic(err)
		}
		if j < m-1 {
			kr.extend(b)
		}
	}
	return kr.alpha, kr.beta
}

type diagOp []float64

func (d diagOp) Len() int { return len(d) }

func (d diagOp) Apply(_ context.Context, dst, v []float64) error {
	for i, x := range d {
		dst[i] = x * v[i]
	}
	return nil
}

var tridiagSizes = []int{10, 50, 100, 300}

func BenchmarkTridiag(b *testing.B) {
	for _, m := range tridiagSizes {
		alpha, beta := lanczosT(m)
		d, e, z := make([]float64, m), make([]float64, m), make([]float64, m*m)
		work := make([]float64, 2*m)
		b.Run(fmt.Sprintf("ql-row/m=%d", m), func(b *testing.B) {
			for b.Loop() {
				copy(d, alpha)
				copy(e, beta)
				clear(z[:m])
				z[m-1] = 1
				if err := tridiagEigen(d, e, z[:m]); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("dsterf/m=%d", m), func(b *testing.B) {
			for b.Loop() {
				copy(d, alpha)
				copy(e, beta)
				if !(gonum.Implementation{}).Dsterf(m, d, e) {
					b.Fatal("Dsterf failed")
				}
			}
		})
		b.Run(fmt.Sprintf("dsteqr/m=%d", m), func(b *testing.B) {
			for b.Loop() {
				copy(d, alpha)
				copy(e, beta)
				if !(gonum.Implementation{}).Dsteqr(lapack.EVTridiag, m, d, e, z, m, work) {
					b.Fatal("Dsteqr failed")
				}
			}
		})
		b.Run(fmt.Sprintf("eigensym/m=%d", m), func(b *testing.B) {
			t := mat.NewSymDense(m, nil)
			for i := range m {
				t.SetSym(i, i, alpha[i])
				if i+1 < m {
					t.SetSym(i, i+1, beta[i])
				}
			}
			var es mat.EigenSym
			for b.Loop() {
				if !es.Factorize(t, true) {
					b.Fatal("EigenSym failed")
				}
			}
		})
	}
}

// The accuracy half of the comparison: on the same matrices, tridiagEigen's eigenvalues and last row agree with
// Dsteqr's to a few units of rounding relative to ‖T‖, and Dsteqr's own eigenpairs have residuals of that order.
// The eigenvalues near zero are in a cluster (the bulk), where the eigenvectors are ill-determined: the last
// components are compared only for eigenvalues separated from their neighbours by 1e-6 ‖T‖.
func TestTridiagAgainstDsteqr(t *testing.T) {
	for _, m := range tridiagSizes {
		t.Run(fmt.Sprintf("m=%d", m), func(t *testing.T) {
			alpha, beta := lanczosT(m)
			d := append([]float64(nil), alpha...)
			e := append(append([]float64(nil), beta...), 0)
			z := make([]float64, m)
			z[m-1] = 1
			if err := tridiagEigen(d, e, z); err != nil {
				t.Fatal(err)
			}
			sortPairs(d, z)

			gd := append([]float64(nil), alpha...)
			ge := append([]float64(nil), beta...)
			gz := make([]float64, m*m)
			if !(gonum.Implementation{}).Dsteqr(lapack.EVTridiag, m, gd, ge, gz, m, make([]float64, 2*m)) {
				t.Fatal("Dsteqr failed")
			}
			normT := math.Max(math.Abs(gd[0]), math.Abs(gd[m-1]))
			var worstVal, worstRow, worstRes float64
			for i := range m {
				worstVal = math.Max(worstVal, math.Abs(d[i]-gd[i])/normT)
				gap := math.Inf(1)
				if i > 0 {
					gap = gd[i] - gd[i-1]
				}
				if i+1 < m {
					gap = math.Min(gap, gd[i+1]-gd[i])
				}
				if gap > 1e-6*normT {
					worstRow = math.Max(worstRow, math.Abs(math.Abs(z[i])-math.Abs(gz[(m-1)*m+i])))
				}
				// ‖T s − θ s‖ for Dsteqr's pair i.
				var r2 float64
				for row := range m {
					v := alpha[row]*gz[row*m+i] - gd[i]*gz[row*m+i]
					if row > 0 {
						v += beta[row-1] * gz[(row-1)*m+i]
					}
					if row+1 < m {
						v += beta[row] * gz[(row+1)*m+i]
					}
					r2 += v * v
				}
				worstRes = math.Max(worstRes, math.Sqrt(r2)/normT)
			}
			t.Logf("‖T‖ %.3g: eigenvalues differ by %.2g ‖T‖, last components by %.2g; Dsteqr residuals %.2g ‖T‖",
				normT, worstVal, worstRow, worstRes)
			if worstVal > 1e-13 || worstRow > 1e-10 || worstRes > 1e-13 {
				t.Errorf("eigenvalues differ by %g ‖T‖, last components by %g, residuals %g ‖T‖", worstVal, worstRow,
					worstRes)
			}
		})
	}
}
