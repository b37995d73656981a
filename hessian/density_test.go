package hessian_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/lsweep/lsweep/hessian"
)

// Each run's weights sum to 1, and the first and second moments of the density estimate tr(H)/n and tr(H²)/n
// within 3 standard errors over the runs.
func TestSLQMoments(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(23, 24))
	bulk := make([]float64, 195)
	for i := range bulk {
		bulk[i] = 0.05 * rng.NormFloat64()
	}
	for _, c := range []struct {
		name  string
		eig   []float64
		dense bool
		steps int
	}{
		{"diagonal-hessian-like", append(slices.Clone(bulk), 40, 25, 12, -3, -1.5), false, 30},
		{"dense-hessian-like", append(slices.Clone(bulk), 40, 25, 12, -3, -1.5), true, 30},
		{"dense-indefinite", linspace(-30, 50, 150), true, 20},
		{"dense-repeated", append(linspace(-1, 5, 110), 10, 10, 10, 7, 7, -4, -4, -4), true, 40},
		{"diagonal-negative", linspace(-9, -1, 300), false, 10},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := len(c.eig)
			var op hessian.Operator = diagonal(slices.Clone(c.eig))
			if c.dense {
				op = hessian.NewDense(n, rotated(c.eig, rng))
			}
			var m1, m2 float64
			for _, v := range c.eig {
				m1 += v / float64(n)
				m2 += v * v / float64(n)
			}
			const runs = 40
			d, err := hessian.SLQ(ctx, op, rng, &hessian.DensityOptions{Runs: runs, Steps: c.steps})
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Runs) != runs || d.Products > runs*c.steps {
				t.Fatalf("%d runs, %d products", len(d.Runs), d.Products)
			}
			for r, q := range d.Runs {
				var s float64
				for _, w := range q.Weights {
					s += w
					if w < 0 {
						t.Errorf("run %d: negative weight %g", r, w)
					}
				}
				if math.Abs(s-1) > 1e-12 || len(q.Nodes) != len(q.Weights) || !slices.IsSorted(q.Nodes) {
					t.Errorf("run %d: weights sum to 1%+.2g; %d nodes, %d weights, sorted %v", r, s-1,
						len(q.Nodes), len(q.Weights), slices.IsSorted(q.Nodes))
				}
				// Nodes are Ritz values: inside the spectrum.
				lo, hi := slices.Min(c.eig), slices.Max(c.eig)
				if slack := 1e-12 * math.Max(-lo, hi); q.Nodes[0] < lo-slack || q.Nodes[len(q.Nodes)-1] > hi+slack {
					t.Errorf("run %d: nodes [%g, %g] outside [%g, %g]", r, q.Nodes[0], q.Nodes[len(q.Nodes)-1], lo, hi)
				}
			}
			g1, se1 := d.Moment(1)
			g2, se2 := d.Moment(2)
			g0, _ := d.Moment(0)
			t.Logf("moment 1: %.5g ± %.2g (exact %.5g, %.2f SE); moment 2: %.5g ± %.2g (exact %.5g, %.2f SE); "+
				"%d products", g1, se1, m1, math.Abs(g1-m1)/se1, g2, se2, m2, math.Abs(g2-m2)/se2, d.Products)
			if math.Abs(g0-1) > 1e-12 {
				t.Errorf("moment 0 = %g", g0)
			}
			// On a diagonal operator every run's moments below 2·Steps are exact (zᵢ² = 1, as for Trace), and the
			// standard errors 0: allow rounding.
			if math.Abs(g1-m1) > 3*se1+1e-13*m2 || math.Abs(g2-m2) > 3*se2+1e-13*m2 {
				t.Errorf("moments %g ± %g and %g ± %g, want %g and %g", g1, se1, g2, se2, m1, m2)
			}
		})
	}
}

// The first moment of a run is α₁ = qᵀHq and the second α₁² + β₁² = ‖Hq‖², for the run's unit start vector q =
// z/√n: the same Rademacher z as Trace draws from the same generator, so n times the first moments are Trace's
// samples.
func TestSLQFirstMomentIsHutchinson(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(4, 4))
	const n = 64
	op := hessian.NewDense(n, rotated(linspace(-2, 9, n), rng))
	d, err := hessian.SLQ(ctx, op, rand.New(rand.NewPCG(7, 7)), &hessian.DensityOptions{Runs: 5, Steps: 12})
	must(err)
	tr, err := hessian.Trace(ctx, op, rand.New(rand.NewPCG(7, 7)), &hessian.TraceOptions{Probes: 5, Tol: -1})
	must(err)
	for r, q := range d.Runs {
		var s float64
		for j, x := range q.Nodes {
			s += q.Weights[j] * x
		}
		if math.Abs(n*s-tr.Samples[r]) > 1e-10*math.Abs(tr.Samples[r]) {
			t.Errorf("run %d: n·moment 1 = %.15g, Hutchinson sample %.15g", r, n*s, tr.Samples[r])
		}
	}
}

// Known quadratures. With as many steps as distinct eigenvalues the run is exact: on a diagonal operator the
// Rademacher start has (uᵢ·q)² = 1/n, so each distinct eigenvalue is a node with weight multiplicity/n, and the
// run stops when the Krylov space becomes invariant. On a dense matrix with n distinct eigenvalues, n steps give
// the eigenvalues themselves.
func TestSLQExact(t *testing.T) {
	ctx := context.Background()
	t.Run("diagonal-repeated", func(t *testing.T) {
		eig := append(append(slices.Repeat([]float64{-1}, 5), slices.Repeat([]float64{0}, 10)...), 3, 3, 3, 3, 3)
		rand.New(rand.NewPCG(1, 1)).Shuffle(len(eig), func(i, j int) { eig[i], eig[j] = eig[j], eig[i] })
		d, err := hessian.SLQ(ctx, diagonal(eig), nil, &hessian.DensityOptions{Runs: 3})
		must(err)
		if d.Products != 9 {
			t.Errorf("%d products, want 3 per run", d.Products)
		}
		for r, q := range d.Runs {
			want := []float64{-1, 0, 3}
			wantW := []float64{0.25, 0.5, 0.25}
			if len(q.Nodes) != 3 {
				t.Fatalf("run %d: nodes %v", r, q.Nodes)
			}
			for i := range want {
				if math.Abs(q.Nodes[i]-want[i]) > 1e-13 || math.Abs(q.Weights[i]-wantW[i]) > 1e-13 {
					t.Errorf("run %d: nodes %v weights %v, want %v %v", r, q.Nodes, q.Weights, want, wantW)
				}
			}
		}
	})
	t.Run("dense-full", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(2, 2))
		eig := linspace(-5, 5, 30)
		a := rotated(eig, rng)
		d, err := hessian.SLQ(ctx, hessian.NewDense(30, a), rng, &hessian.DensityOptions{Steps: 1000})
		must(err)
		ref := eigenSym(t, a)
		q := d.Runs[0]
		if d.Products != 30 || len(q.Nodes) != 30 {
			t.Fatalf("%d products, %d nodes", d.Products, len(q.Nodes))
		}
		for i, v := range q.Nodes {
			if math.Abs(v-ref[i]) > 1e-10 {
				t.Errorf("node %d: %.15g, want %.15g", i, v, ref[i])
			}
		}
	})
}

// The smoothed curve: PyHessian's grid and width by default, a density that integrates to 1, with peaks at
// isolated eigenvalues whose areas are their weights.
func TestDensityCurve(t *testing.T) {
	eig := append(linspace(-0.5, 0.5, 96), 30, 20, -4, 10)
	d, err := hessian.SLQ(context.Background(), diagonal(eig), rand.New(rand.NewPCG(1, 1)),
		&hessian.DensityOptions{Runs: 4, Steps: 40})
	must(err)
	// PyHessian's σ, for its grid [-4.01, 30.01]; the grid 4σ wider on each side.
	wantSigma := math.Sqrt(1e-5 * 34.02)
	if s := d.Sigma(nil); math.Abs(s-wantSigma) > 1e-15 {
		t.Errorf("default sigma %g, want %g", s, wantSigma)
	}
	lo, hi := d.Range()
	if math.Abs(lo-(-4.01-4*wantSigma)) > 1e-9 || math.Abs(hi-(30.01+4*wantSigma)) > 1e-9 {
		t.Errorf("range [%g, %g], want [-4.01, 30.01] and 4σ", lo, hi)
	}
	x, y := d.Curve(nil)
	if len(x) != hessian.DefaultBins || len(y) != len(x) || x[0] != lo || math.Abs(x[len(x)-1]-hi) > 1e-12 {
		t.Fatalf("%d points from %g to %g", len(x), x[0], x[len(x)-1])
	}
	var area float64 // trapezoidal rule
	for i := 1; i < len(y); i++ {
		area += (y[i-1] + y[i]) / 2 * (x[i] - x[i-1])
	}
	// The grid ends 0.01 + 4σ beyond the extreme nodes: the Gaussians of the nodes at -4 and 30 (weight 1/100
	// each) lose almost nothing outside it.
	lost := 2 * 0.01 * 0.5 * math.Erfc((0.01+4*wantSigma)/wantSigma/math.Sqrt2)
	// Each outlier is a node of weight 1/100 in every run (a diagonal operator, a Rademacher start): its peak
	// is 0.01/(σ√(2π)) high.
	peak := 0.01 / (wantSigma * math.Sqrt(2*math.Pi))
	at30 := d.At(30, wantSigma)
	t.Logf("area %.6f (%.6f outside the grid); peak at 30: %.5g (want %.5g); σ %.4g", area, lost, at30, peak, wantSigma)
	if math.Abs(area+lost-1) > 1e-6 {
		t.Errorf("the curve integrates to %g", area)
	}
	if math.Abs(at30-peak) > 1e-6*peak {
		t.Errorf("peak at 30: %g, want %g", at30, peak)
	}
	// A wide Gaussian on a set grid.
	x, y = d.Curve(&hessian.SmoothOptions{Sigma: 1, Bins: 5, Lo: -10, Hi: 40})
	if !slices.Equal(x, []float64{-10, 2.5, 15, 27.5, 40}) || y[1] < y[0] || y[1] < y[4] {
		t.Errorf("grid %v values %v", x, y)
	}
	// No runs.
	var empty hessian.Density
	if x, y := empty.Curve(nil); x != nil || y != nil || empty.At(0, 1) != 0 {
		t.Errorf("empty density: %v %v", x, y)
	}
	if m, se := empty.Moment(1); !math.IsNaN(m) || !math.IsNaN(se) {
		t.Errorf("empty density: moment %g ± %g", m, se)
	}
	if v := d.At(0, 0); !math.IsNaN(v) {
		t.Errorf("At with sigma 0: %g", v)
	}
}

// The default Gaussian is PyHessian's up to a range of about 1,000 and one grid step beyond, so that the
// grid's points draw every peak within 12% of its height (a peak between two points is at most half a step, half
// a standard deviation, from the nearer: exp(−1/8) = 0.88), and the curve's Riemann sum stays 1. A Sigma that is
// set is used as it is, however narrow.
func TestDensityCurveWide(t *testing.T) {
	for _, c := range []struct {
		name    string
		top     float64
		opts    *hessian.SmoothOptions
		pyhess  bool // the Gaussian is PyHessian's
		sampled bool // and narrow peaks are drawn to 12%
	}{
		{"range-40", 40, nil, true, true},
		{"range-900", 900, nil, true, true},
		{"range-30000", 30000, nil, false, true},
		{"range-30000-bins-200000", 30000, &hessian.SmoothOptions{Bins: 200000}, true, true},
		{"range-30000-set-grid", 30000, &hessian.SmoothOptions{Lo: -1000, Hi: 31000}, false, true},
		{"range-30000-set-sigma", 30000, &hessian.SmoothOptions{Sigma: 0.5}, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(5, 6))
			eig := make(diagonal, 2000)
			for i := range eig {
				eig[i] = 0.05 * rng.NormFloat64()
			}
			outliers := []float64{c.top, 0.57 * c.top, 0.3 * c.top, 0.083 * c.top, -0.02 * c.top}
			copy(eig, outliers)
			d, err := hessian.SLQ(context.Background(), eig, rng, &hessian.DensityOptions{Runs: 2, Steps: 60})
			must(err)
			x, y := d.Curve(c.opts)
			sigma, step := d.Sigma(c.opts), x[1]-x[0]
			lo, hi := d.Runs[0].Nodes[0], d.Runs[0].Nodes[len(d.Runs[0].Nodes)-1]
			lo = (lo+d.Runs[1].Nodes[0])/2 - 0.01
			hi = (hi+d.Runs[1].Nodes[len(d.Runs[1].Nodes)-1])/2 + 0.01
			if c.opts != nil && c.opts.Hi != 0 {
				lo, hi = c.opts.Lo, c.opts.Hi
			}
			py := math.Sqrt(1e-5 * (hi - lo))
			t.Logf("σ %.4g (PyHessian's %.4g), step %.4g", sigma, py, step)
			switch {
			case c.opts != nil && c.opts.Sigma > 0:
				if sigma != c.opts.Sigma {
					t.Errorf("σ %g, want the one set, %g", sigma, c.opts.Sigma)
				}
			case c.pyhess:
				if math.Abs(sigma-py) > 1e-12*py || sigma < step {
					t.Errorf("σ %g, want PyHessian's %g, at least the step %g", sigma, py, step)
				}
			default:
				if math.Abs(sigma-step) > 1e-9*step || sigma < py {
					t.Errorf("σ %g, want the step %g, more than PyHessian's %g", sigma, step, py)
				}
			}
			for _, o := range outliers {
				var top float64
				for i := range x {
					if math.Abs(x[i]-o) < 4*sigma {
						top = math.Max(top, y[i])
					}
				}
				peak := d.At(o, sigma)
				if c.sampled && top < 0.88*peak || top > peak*(1+1e-12) {
					t.Errorf("outlier %g: drawn at %.4g, peak %.4g", o, top, peak)
				}
			}
			if c.sampled {
				var sum float64
				for _, v := range y {
					sum += v * step
				}
				if math.Abs(sum-1) > 1e-3 {
					t.Errorf("Riemann sum %g", sum)
				}
			}
		})
	}
}

func TestSLQEdges(t *testing.T) {
	ctx := context.Background()
	if _, err := hessian.SLQ(ctx, diagonal(nil), nil, nil); !errors.Is(err, hessian.ErrEmpty) {
		t.Errorf("empty: %v", err)
	}
	// Defaults: one run of 100 steps (fewer when the space is smaller).
	d, err := hessian.SLQ(ctx, diagonal(linspace(1, 2, 500)), nil, nil)
	if err != nil || len(d.Runs) != 1 || d.Products != 100 || len(d.Runs[0].Nodes) != 100 {
		t.Errorf("defaults: %d runs, %d products, %v", len(d.Runs), d.Products, err)
	}
	if _, se := d.Moment(1); !math.IsNaN(se) {
		t.Errorf("one run: standard error %g", se)
	}
	// Cancelled in the second run: the first is kept.
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	op := &countingOp{Operator: diagonal(linspace(1, 2, 50)), at: 13, cancel: cancel}
	d, err = hessian.SLQ(cctx, op, nil, &hessian.DensityOptions{Runs: 3, Steps: 10})
	if !errors.Is(err, context.Canceled) || len(d.Runs) != 1 || d.Products != 13 {
		t.Errorf("cancelled: %d runs, %d products, %v", len(d.Runs), d.Products, err)
	}
}
