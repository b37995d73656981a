package hessian_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/lsweep/lsweep/hessian"
)

// diagonal is the operator diag(d): the cheapest problem with a known spectrum.
type diagonal []float64

func (d diagonal) Len() int { return len(d) }

func (d diagonal) Apply(_ context.Context, dst, v []float64) error {
	for i, x := range d {
		dst[i] = x * v[i]
	}
	return nil
}

// linspace returns n values evenly spaced from a to b inclusive.
func linspace(a, b float64, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		if n == 1 {
			x[i] = a
			continue
		}
		x[i] = a + (b-a)*float64(i)/float64(n-1)
	}
	return x
}

// orthogonal returns a random n×n orthogonal matrix (row-major), by Gram-Schmidt (twice) on normal columns.
func orthogonal(n int, rng *rand.Rand) []float64 {
	cols := make([][]float64, n)
	for j := range cols {
		c := make([]float64, n)
		for {
			for i := range c {
				c[i] = rng.NormFloat64()
			}
			for pass := 0; pass < 2; pass++ {
				for _, p := range cols[:j] {
					var s float64
					for i := range c {
						s += p[i] * c[i]
					}
					for i := range c {
						c[i] -= s * p[i]
					}
				}
			}
			var nn float64
			for _, x := range c {
				nn += x * x
			}
			if nn > 1e-20 {
				nn = math.Sqrt(nn)
				for i := range c {
					c[i] /= nn
				}
				break
			}
		}
		cols[j] = c
	}
	q := make([]float64, n*n)
	for j, c := range cols {
		for i, x := range c {
			q[i*n+j] = x
		}
	}
	return q
}

// rotated returns Q diag(eig) Qᵀ for a random orthogonal Q, as a row-major slice.
func rotated(eig []float64, rng *rand.Rand) []float64 {
	n := len(eig)
	q := orthogonal(n, rng)
	a := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			var s float64
			for k, l := range eig {
				s += q[i*n+k] * l * q[j*n+k]
			}
			a[i*n+j] = s
			a[j*n+i] = s
		}
	}
	return a
}

// logistic is L2-regularised logistic regression on fixed data: the mean of log(1 + exp(-t_i a_i·w)) over the
// rows a_i of A (m×n) with labels t_i = ±1, plus mu/2 ‖w‖², as a function of the weights w. Its gradient and
// Hessian-vector product are known in closed form.
type logistic struct {
	m, n int
	a    []float64 // m×n row-major
	t    []float64
	mu   float64
}

func newLogistic(m, n int, rng *rand.Rand) *logistic {
	l := &logistic{m: m, n: n, a: make([]float64, m*n), t: make([]float64, m), mu: 1e-2}
	for i := range l.a {
		l.a[i] = rng.NormFloat64() / math.Sqrt(float64(n))
	}
	for i := range l.t {
		l.t[i] = 1
		if rng.IntN(2) == 0 {
			l.t[i] = -1
		}
	}
	return l
}

func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

// grad64 is the gradient in float64.
func (l *logistic) grad64(dst, w []float64) {
	for j := range dst {
		dst[j] = l.mu * w[j]
	}
	for i := 0; i < l.m; i++ {
		row := l.a[i*l.n : (i+1)*l.n]
		var z float64
		for j, x := range row {
			z += x * w[j]
		}
		c := -l.t[i] * sigmoid(-l.t[i]*z) / float64(l.m)
		for j, x := range row {
			dst[j] += c * x
		}
	}
}

// grad32 is the same gradient computed in float32 arithmetic from float32(w), as an ONNX gradient graph would.
func (l *logistic) grad32(dst, w []float64) {
	w32 := make([]float32, l.n)
	for j, x := range w {
		w32[j] = float32(x)
	}
	g := make([]float32, l.n)
	mu := float32(l.mu)
	for j := range g {
		g[j] = mu * w32[j]
	}
	inv := float32(1) / float32(l.m)
	for i := 0; i < l.m; i++ {
		row := l.a[i*l.n : (i+1)*l.n]
		var z float32
		for j, x := range row {
			z += float32(x) * w32[j]
		}
		ti := float32(l.t[i])
		c := -ti * float32(sigmoid(float64(-ti*z))) * inv
		for j, x := range row {
			g[j] += c * float32(x)
		}
	}
	for j, x := range g {
		dst[j] = float64(x)
	}
}

// hv is the exact Hessian-vector product at w: mean of σ(z)(1-σ(z)) (a·v) a, plus mu v.
func (l *logistic) hv(dst, w, v []float64) {
	for j := range dst {
		dst[j] = l.mu * v[j]
	}
	for i := 0; i < l.m; i++ {
		row := l.a[i*l.n : (i+1)*l.n]
		var z, av float64
		for j, x := range row {
			z += x * w[j]
			av += x * v[j]
		}
		s := sigmoid(z)
		c := s * (1 - s) * av / float64(l.m)
		for j, x := range row {
			dst[j] += c * x
		}
	}
}

// hessian returns the explicit Hessian at w.
func (l *logistic) hessian(w []float64) *hessian.Dense {
	n := l.n
	h := make([]float64, n*n)
	e := make([]float64, n)
	col := make([]float64, n)
	for j := 0; j < n; j++ {
		e[j] = 1
		l.hv(col, w, e)
		e[j] = 0
		for i := range col {
			h[i*n+j] = col[i]
		}
	}
	return hessian.NewDense(n, h)
}

// scaled returns the gradient of x -> f(x/s) given that of f: g(x/s)/s; its Hessian is H(x/s)/s².
func scaled(grad func(dst, w []float64), s float64) hessian.GradientFunc {
	return func(_ context.Context, dst, x []float64) error {
		w := make([]float64, len(x))
		for i, v := range x {
			w[i] = v / s
		}
		grad(dst, w)
		for i := range dst {
			dst[i] /= s
		}
		return nil
	}
}

func relErr(got, want []float64) float64 {
	var num, den float64
	for i := range got {
		num += (got[i] - want[i]) * (got[i] - want[i])
		den += want[i] * want[i]
	}
	if den == 0 {
		return math.Sqrt(num)
	}
	return math.Sqrt(num / den)
}

func normal(n int, rng *rand.Rand) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	return x
}

func must(err error) {
	if err != nil {
		panic(fmt.Sprint("unexpected error: ", err))
	}
}
