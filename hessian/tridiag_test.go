package hessian

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

// sturmCount returns the number of eigenvalues of the symmetric tridiagonal (d, e) that are less than x.
func sturmCount(d, e []float64, x float64) int {
	count := 0
	q := 1.0
	for i := range d {
		off := 0.0
		if i > 0 {
			off = e[i-1] * e[i-1] / q
		}
		q = d[i] - x - off
		if q == 0 {
			q = -1e-300
		}
		if q < 0 {
			count++
		}
	}
	return count
}

func runTridiag(t *testing.T, d, e []float64) (vals, last []float64) {
	t.Helper()
	m := len(d)
	vals = append([]float64(nil), d...)
	ee := append(append([]float64(nil), e...), 0)
	last = make([]float64, m)
	last[m-1] = 1
	if err := tridiagEigen(vals, ee[:m], last); err != nil {
		t.Fatal(err)
	}
	return vals, last
}

// The 1-D Laplacian tridiag(-1, 2, -1) of order m has eigenvalues 2 - 2cos(jπ/(m+1)) and eigenvectors
// sin(ijπ/(m+1)) normalised by sqrt(2/(m+1)), so the last components are known too.
func TestTridiagLaplacian(t *testing.T) {
	for _, m := range []int{1, 2, 3, 10, 100} {
		d := make([]float64, m)
		e := make([]float64, m-1)
		for i := range d {
			d[i] = 2
		}
		for i := range e {
			e[i] = -1
		}
		vals, last := runTridiag(t, d, e)
		type pair struct{ v, z float64 }
		got := make([]pair, m)
		for i := range vals {
			got[i] = pair{vals[i], math.Abs(last[i])}
		}
		sort.Slice(got, func(a, b int) bool { return got[a].v < got[b].v })
		for j := 1; j <= m; j++ {
			th := float64(j) * math.Pi / float64(m+1)
			want := 2 - 2*math.Cos(th)
			wantZ := math.Sqrt(2/float64(m+1)) * math.Abs(math.Sin(float64(m)*th))
			if g := got[j-1]; math.Abs(g.v-want) > 1e-13 || math.Abs(g.z-wantZ) > 1e-12 {
				t.Errorf("m=%d j=%d: eigenvalue %.16g last component %.16g, want %.16g %.16g", m, j, g.v, g.z,
					want, wantZ)
			}
		}
	}
}

// Random tridiagonal matrices, with a few exact zeros among the off-diagonal elements (split problems):
// each computed eigenvalue must sit where the Sturm count says, the trace and the Frobenius norm must be kept,
// and the last components must form a unit vector.
func TestTridiagRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 50; trial++ {
		m := 1 + rng.IntN(80)
		d := make([]float64, m)
		e := make([]float64, max(m-1, 0))
		var trace, frob float64
		for i := range d {
			d[i] = rng.NormFloat64() * 10
			trace += d[i]
			frob += d[i] * d[i]
		}
		for i := range e {
			if rng.IntN(10) > 0 {
				e[i] = rng.NormFloat64()
			}
			frob += 2 * e[i] * e[i]
		}
		vals, last := runTridiag(t, d, e)
		var sum, sq, zz float64
		for i, v := range vals {
			sum += v
			sq += v * v
			zz += last[i] * last[i]
		}
		if math.Abs(sum-trace) > 1e-12*math.Sqrt(frob)*float64(m) || math.Abs(sq-frob) > 1e-12*frob*float64(m) {
			t.Errorf("trial %d: trace %g vs %g, sum of squares %g vs %g", trial, sum, trace, sq, frob)
		}
		if math.Abs(zz-1) > 1e-12 {
			t.Errorf("trial %d: last components have norm² %g", trial, zz)
		}
		sort.Float64s(vals)
		scale := math.Sqrt(frob)
		for i, v := range vals {
			// Exactly i eigenvalues lie below v - δ, and i+1 at most below v + δ.
			delta := 1e-12 * scale
			if lo := sturmCount(d, e, v-delta); lo > i {
				t.Errorf("trial %d: %d eigenvalues below the %d-th computed one %g", trial, lo, i, v)
			}
			if hi := sturmCount(d, e, v+delta); hi < i+1 {
				t.Errorf("trial %d: only %d eigenvalues up to the %d-th computed one %g", trial, hi, i, v)
			}
		}
	}
}

func TestTridiag2x2(t *testing.T) {
	// [[a, b], [b, c]]: eigenvalues (a+c)/2 ± sqrt(((a-c)/2)² + b²).
	a, b, c := 3.0, 2.0, -1.0
	vals, last := runTridiag(t, []float64{a, c}, []float64{b})
	r := math.Hypot((a-c)/2, b)
	lo, hi := (a+c)/2-r, (a+c)/2+r
	sort.Float64s(vals)
	if math.Abs(vals[0]-lo) > 1e-15*r || math.Abs(vals[1]-hi) > 1e-15*r {
		t.Errorf("eigenvalues %v, want %g %g", vals, lo, hi)
	}
	if math.Abs(last[0]*last[0]+last[1]*last[1]-1) > 1e-15 {
		t.Errorf("last components %v", last)
	}
}
