package render_test

import (
	"context"
	"math"
	"math/rand/v2"

	"github.com/lsweep/lsweep/hessian"
	"github.com/lsweep/lsweep/render"
)

// linspace returns n equally spaced values from a to b.
func linspace(a, b float64, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = a + (b-a)*float64(i)/float64(n-1)
	}
	return v
}

// bowl is a loss surface with a minimum of 0.01 at the origin, walls rising
// towards 10, and a ridge along x = 0.5.
func bowl(x, y float64) float64 {
	return 0.01 + 4*(x*x+0.6*y*y) + 3*math.Exp(-(x-0.5)*(x-0.5)/0.01)*(1+y)/2
}

// bowlGrid returns the bowl on an n x m grid over [-1, 1] x [-0.8, 0.8].
func bowlGrid(n, m int) *render.Grid {
	return render.NewGrid(linspace(-1, 1, n), linspace(-0.8, 0.8, m), bowl)
}

// holes returns the bowl with NaN holes: a block and scattered points.
func holes(n int) *render.Grid {
	g := bowlGrid(n, n)
	for r := n / 5; r < n/5+n/6; r++ {
		for c := n / 2; c < n/2+n/4; c++ {
			g.Set(c, r, math.NaN())
		}
	}
	for k := 0; k < n; k += 7 {
		g.Set((k*3)%n, (k*5)%n, math.NaN())
	}
	return g
}

// wavy is a surface with values in a narrow linear range.
func wavy(x, y float64) float64 {
	return 2 + math.Sin(3*x)*math.Cos(2*y) + 0.3*x
}

// interpolation returns two 1-D curves with accuracies like the paper's
// interpolation between two minimizers (at 0 and 1), one flat and one
// sharp, with a gap in the second.
func interpolation() []render.Curve {
	xs := linspace(-0.5, 1.5, 81)
	mk := func(label string, sharp float64, gap bool) render.Curve {
		c := render.Curve{Label: label, X: xs, Loss: make([]float64, len(xs)), Acc: make([]float64, len(xs))}
		for i, a := range xs {
			l := 0.01 + 3*(1-math.Exp(-sharp*a*a))*(1-math.Exp(-2*(a-1)*(a-1)))
			c.Loss[i] = l
			c.Acc[i] = 0.98 / (1 + math.Exp(4*(l-1)))
			if gap && i > 50 && i < 56 {
				c.Loss[i], c.Acc[i] = math.NaN(), math.NaN()
			}
		}
		return c
	}
	return []render.Curve{mk("small batch (256)", 3, false), mk("large batch (8192)", 20, true)}
}

// spectrum returns the eigenvalue density of a synthetic Hessian, as
// stochastic Lanczos quadrature estimates it: a bulk of 1990 eigenvalues
// near 0 and outliers at 40, 25, 12, 9, 5, -0.8, -1.5 and -3, five runs of 80
// steps, smoothed on PyHessian's grid.
func spectrum() (x, y []float64) {
	rng := rand.New(rand.NewPCG(1, 2))
	eig := make(diagonal, 1998)
	for i := range eig {
		eig[i] = 0.05 * rng.NormFloat64()
	}
	copy(eig, []float64{40, 25, 12, 9, 5, -0.8, -1.5, -3})
	d, err := hessian.SLQ(context.Background(), eig, rng, &hessian.DensityOptions{Runs: 5, Steps: 80})
	if err != nil {
		panic(err)
	}
	return d.Curve(nil)
}

// wideSpectrum returns the density, by three runs of 80 steps, of 1,994
// eigenvalues near zero and outliers from -40 to 30,000: a range where
// PyHessian's Gaussian is narrower than its grid's step.
func wideSpectrum() (x, y []float64) {
	rng := rand.New(rand.NewPCG(5, 6))
	eig := make(diagonal, 2000)
	for i := range eig {
		eig[i] = 0.05 * rng.NormFloat64()
	}
	copy(eig, []float64{30000, 17000, 9000, 2500, 400, -40})
	d, err := hessian.SLQ(context.Background(), eig, rng, &hessian.DensityOptions{Runs: 3, Steps: 80})
	if err != nil {
		panic(err)
	}
	return d.Curve(nil)
}

// bulkSpectrum returns the density of 500 positive eigenvalues spread as
// the squares of normal numbers (a Marchenko-Pastur-like bulk in [0, 3]) by
// two runs of 60 steps, smoothed with standard deviation sigma (0 means
// PyHessian's).
func bulkSpectrum(sigma float64) (x, y []float64) {
	rng := rand.New(rand.NewPCG(3, 4))
	eig := make(diagonal, 500)
	for i := range eig {
		z := rng.NormFloat64()
		eig[i] = 0.3 * z * z
	}
	d, err := hessian.SLQ(context.Background(), eig, rng, &hessian.DensityOptions{Runs: 2, Steps: 60})
	if err != nil {
		panic(err)
	}
	return d.Curve(&hessian.SmoothOptions{Sigma: sigma})
}

// diagonal is the operator diag(d).
type diagonal []float64

func (d diagonal) Len() int { return len(d) }

func (d diagonal) Apply(_ context.Context, dst, v []float64) error {
	for i, x := range d {
		dst[i] = x * v[i]
	}
	return nil
}
