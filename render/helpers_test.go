package render_test

import (
	"math"

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
