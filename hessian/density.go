package hessian

import (
	"context"
	"math"
	"math/rand/v2"
)

// Defaults for the zero DensityOptions and SmoothOptions.
const (
	// DefaultSLQRuns is the default number of stochastic Lanczos quadrature runs: PyHessian's n_v.
	DefaultSLQRuns = 1
	// DefaultSLQSteps is the default number of Lanczos steps per run: PyHessian's iter.
	DefaultSLQSteps = 100
	// DefaultBins is the default number of grid points of Density.Curve: PyHessian's num_bins.
	DefaultBins = 10000
	// DefaultVariance is PyHessian's sigma_squared: the smoothing Gaussian's variance is DefaultVariance times
	// max(1, hi − lo), where [lo, hi] is the grid's range, unless that makes it narrower than a grid step (see
	// SmoothOptions.Sigma).
	DefaultVariance = 1e-5
)

// DensityOptions controls SLQ. The zero value, and a nil *DensityOptions, give the defaults.
type DensityOptions struct {
	// Runs is the number of Lanczos runs from independent random starts; zero or negative means DefaultSLQRuns.
	// The runs' spread is what tells how far to trust the density (see Density.Runs).
	Runs int
	// Steps is the number of Lanczos steps (products) per run, and so the number of nodes of each run's
	// quadrature; zero or negative means DefaultSLQSteps. It is capped at the operator's length. A run of m steps
	// integrates polynomials of degree up to 2m−1 exactly against its start vector's spectral measure.
	Steps int
}

// Quadrature is one run of stochastic Lanczos quadrature: the Gauss quadrature of the spectral measure of H
// seen from the run's start vector q, Σ_i (uᵢ·q)² δ(λᵢ), where H uᵢ = λᵢ uᵢ. Its nodes are the Ritz values θ_j of
// the run's tridiagonal matrix T, and its weights τ_j² the squared first components of T's normalised
// eigenvectors. For any f, Σ_j τ_j² f(θ_j) ≈ qᵀf(H)q, exact for polynomials of degree up to 2m−1.
type Quadrature struct {
	// Nodes are in increasing order; Weights sum to 1.
	Nodes, Weights []float64
}

// Density is an estimate of the spectral density of a symmetric operator by stochastic Lanczos quadrature:
// φ(t) = (1/n) Σ_i δ(t − λᵢ), estimated by the average of the runs' quadratures. Since the start vectors are
// random unit vectors, E[qᵀf(H)q] = tr f(H)/n: the k-th moment Σ_j τ_j² θ_j^k of a run estimates tr(Hᵏ)/n
// (exactly for k < 2m, apart from the randomness of q).
type Density struct {
	// Runs are the quadratures of the runs, in the order made.
	Runs []Quadrature
	// Products is the number of operator products made.
	Products int
}

// SLQ estimates the eigenvalue density of the symmetric operator op by stochastic Lanczos quadrature, as
// PyHessian's density() does: Runs Lanczos runs of Steps steps each (with full reorthogonalisation), each from
// a start vector of independent Rademacher components (normalised) drawn from rng, and for each the Ritz values
// and the squared first components of the tridiagonal matrix's eigenvectors. A run ends early if its Krylov
// space becomes invariant (β = 0); its quadrature is then the exact spectral measure of its start vector.
// (PyHessian goes on from a new random vector orthogonal to the basis instead; the nodes that adds have weight
// 0.)
//
// If rng is nil, a generator with a fixed seed is used. A nil opts means the defaults. If the context is
// cancelled or a product fails, SLQ returns the runs completed, with the error as Lanczos does. It returns
// ErrEmpty if op.Len() is zero.
func SLQ(ctx context.Context, op Operator, rng *rand.Rand, opts *DensityOptions) (*Density, error) {
	n := op.Len()
	if n <= 0 {
		return nil, ErrEmpty
	}
	runs, steps := DefaultSLQRuns, DefaultSLQSteps
	if opts != nil {
		if opts.Runs > 0 {
			runs = opts.Runs
		}
		if opts.Steps > 0 {
			steps = opts.Steps
		}
	}
	steps = min(steps, n)
	if rng == nil {
		rng = rand.New(rand.NewPCG(1, 2))
	}
	dens := &Density{}
	kr := newKrylov(op, steps)
	for r := 0; r < runs; r++ {
		q := make([]float64, n)
		rademacher(rng, q)
		scale(1/math.Sqrt(float64(n)), q)
		kr.start(q)
		var normT float64
		for j := 0; j < steps; j++ {
			b, err := kr.step(ctx)
			dens.Products = kr.products
			if err != nil {
				return dens, err
			}
			normT = math.Max(normT, math.Abs(kr.alpha[j])+b)
			if j > 0 {
				normT = math.Max(normT, math.Abs(kr.alpha[j])+b+kr.beta[j-1])
			}
			if b <= 64*eps64*normT || j == steps-1 {
				break
			}
			kr.extend(b)
		}
		nodes, weights, err := kr.ritz(nil, nil, 0)
		if err != nil {
			return dens, err
		}
		for i, z := range weights {
			weights[i] = z * z
		}
		dens.Runs = append(dens.Runs, Quadrature{Nodes: nodes, Weights: weights})
	}
	return dens, nil
}

// Moment returns the runs' mean of the k-th moment Σ_j τ_j² θ_j^k, an estimate of tr(Hᵏ)/n, and its standard
// error over the runs (NaN for one run). Moment 0 is 1 up to rounding. It returns NaN, NaN for a Density with
// no runs.
func (d *Density) Moment(k int) (mean, stdErr float64) {
	if len(d.Runs) == 0 {
		return math.NaN(), math.NaN()
	}
	var m2 float64
	for i, q := range d.Runs {
		var s float64
		for j, t := range q.Nodes {
			s += q.Weights[j] * math.Pow(t, float64(k))
		}
		delta := s - mean
		mean += delta / float64(i+1)
		m2 += delta * (s - mean)
	}
	r := float64(len(d.Runs))
	if r < 2 {
		return mean, math.NaN()
	}
	return mean, math.Sqrt(m2 / (r - 1) / r)
}

// pyRange returns PyHessian's range of the density's grid: the mean over the runs of the smallest node, less
// 0.01, and of the largest node, plus 0.01; NaN, NaN without runs.
func (d *Density) pyRange() (lo, hi float64) {
	if len(d.Runs) == 0 {
		return math.NaN(), math.NaN()
	}
	for _, q := range d.Runs {
		lo += q.Nodes[0]
		hi += q.Nodes[len(q.Nodes)-1]
	}
	r := float64(len(d.Runs))
	return lo/r - 0.01, hi/r + 0.01
}

// pySigma is PyHessian's standard deviation for a grid from lo to hi.
func pySigma(lo, hi float64) float64 { return math.Sqrt(DefaultVariance * math.Max(1, hi-lo)) }

// Range returns the default range of Curve's grid: PyHessian's range, from the mean over the runs of the
// smallest node, less 0.01, to the mean of the largest node, plus 0.01, widened by 4 standard deviations of the
// default Gaussian (see SmoothOptions.Sigma) on each side. (PyHessian's own grid ends half a standard deviation
// or so beyond the outermost nodes, which cuts the outermost peaks in half.) It returns NaN, NaN for a Density
// with no runs.
func (d *Density) Range() (lo, hi float64) { return d.grid(nil) }

// SmoothOptions controls Density.Curve. The zero value, and a nil *SmoothOptions, give PyHessian's Gaussian
// (widened where the spectrum is so wide that it would be narrower than a grid step) on the grid of Range.
type SmoothOptions struct {
	// Sigma is the standard deviation of the Gaussian that replaces each node. Zero or negative means
	// PyHessian's, sqrt(DefaultVariance · max(1, hi − lo)), where [lo, hi] is PyHessian's grid range (see Range)
	// or [Lo, Hi] if set, but no less than the step of Curve's grid. PyHessian's is about 0.03 for a spectrum 100
	// wide: narrow enough to resolve the outliers, and to draw a bulk as a comb of spikes unless the runs have
	// many nodes there. The grid step wins only when hi − lo exceeds about 1,000 with the default Bins: there
	// PyHessian's Gaussian is narrower than the step, and a peak drawn from the grid's points comes out at any
	// height down to none, depending on where the points fall. (Six outliers of weight 1/2000 each in a spectrum
	// 30,000 wide: with PyHessian's σ = 0.55 and a step of 3, peaks of height 3.6e-4 came out between 8.4e-5 and
	// 3.4e-4; with σ = 3, one step, all six between 6.2e-5 and 6.6e-5, the height for that σ.) With σ at least
	// one step, every peak is drawn within 12% of its height.
	Sigma float64
	// Bins is the number of grid points; zero or negative means DefaultBins. Values below 2 are raised to 2.
	Bins int
	// Lo and Hi are the grid's ends. If both are zero, the grid is PyHessian's widened by 4 Sigma on each side
	// (see Range).
	Lo, Hi float64
}

// Sigma returns the standard deviation Curve uses with opts (nil means the defaults): opts.Sigma if positive,
// otherwise the default rule (see SmoothOptions.Sigma). It returns NaN for a Density with no runs and no range
// in opts.
func (d *Density) Sigma(opts *SmoothOptions) float64 {
	if opts != nil && opts.Sigma > 0 {
		return opts.Sigma
	}
	bins := float64(opts.bins())
	if opts != nil && (opts.Lo != 0 || opts.Hi != 0) {
		return math.Max(pySigma(opts.Lo, opts.Hi), math.Abs(opts.Hi-opts.Lo)/(bins-1))
	}
	lo, hi := d.pyRange()
	s := pySigma(lo, hi)
	// The grid is hi − lo + 8σ wide, in bins − 1 steps: σ = (hi − lo)/(bins − 9) is exactly one step. With
	// fewer than 10 bins the 8σ alone make the step longer than σ, whatever σ is.
	if bins > 9 {
		s = math.Max(s, (hi-lo)/(bins-9))
	}
	return s
}

// bins returns the number of grid points of Curve with opts.
func (opts *SmoothOptions) bins() int {
	if opts != nil && opts.Bins > 0 {
		return max(opts.Bins, 2)
	}
	return DefaultBins
}

// grid returns the ends of Curve's grid: Lo and Hi if set, otherwise PyHessian's range widened by 4 standard
// deviations of the Gaussian in use.
func (d *Density) grid(opts *SmoothOptions) (lo, hi float64) {
	if opts != nil && (opts.Lo != 0 || opts.Hi != 0) {
		return opts.Lo, opts.Hi
	}
	lo, hi = d.pyRange()
	s := d.Sigma(opts)
	return lo - 4*s, hi + 4*s
}

// At returns the smoothed density at t: the average over the runs of Σ_j τ_j² g(t − θ_j), where g is the
// normal density of standard deviation sigma. It integrates to 1 over the real line. It returns 0 for a
// Density with no runs, and NaN if sigma is not positive.
func (d *Density) At(t, sigma float64) float64 {
	if !(sigma > 0) {
		return math.NaN()
	}
	if len(d.Runs) == 0 {
		return 0
	}
	c := 1 / (sigma * math.Sqrt(2*math.Pi))
	var s float64
	for _, q := range d.Runs {
		for j, x := range q.Nodes {
			u := (t - x) / sigma
			s += q.Weights[j] * math.Exp(-u*u/2)
		}
	}
	return c * s / float64(len(d.Runs))
}

// Curve evaluates the smoothed density (see At) on Bins evenly spaced points from Lo to Hi, as PyHessian's
// density_generate does, and returns the points and the values. With the zero options the Gaussian is
// PyHessian's unless the spectrum is very wide (see SmoothOptions.Sigma), and so is the grid but for its ends
// (see Range). Unlike PyHessian, Curve does not rescale the values so that their Riemann sum on the grid is 1:
// the curve is the density itself, which integrates to 1 over the real line; the two agree when Sigma spans a
// grid step or more and the grid covers the nodes. It returns nil slices for a Density with no runs and no
// range in opts.
func (d *Density) Curve(opts *SmoothOptions) (t, phi []float64) {
	lo, hi := d.grid(opts)
	if math.IsNaN(lo) || math.IsNaN(hi) {
		return nil, nil
	}
	bins := opts.bins()
	sigma := d.Sigma(opts)
	t = make([]float64, bins)
	phi = make([]float64, bins)
	for i := range t {
		t[i] = lo + (hi-lo)*float64(i)/float64(bins-1)
		phi[i] = d.At(t[i], sigma)
	}
	return t, phi
}
