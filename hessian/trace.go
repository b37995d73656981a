package hessian

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
)

// Defaults for the zero TraceOptions.
const (
	// DefaultProbes is the default maximum number of probes of Trace: PyHessian's maxIter.
	DefaultProbes = 100
	// DefaultTraceTol is the default relative standard error at which Trace stops.
	DefaultTraceTol = 1e-2
	// DefaultMinProbes is the default number of probes Trace makes before it may stop early: fewer samples
	// make the standard error itself too uncertain to stop on.
	DefaultMinProbes = 10
)

// TraceOptions controls Trace. The zero value, and a nil *TraceOptions, give the defaults.
type TraceOptions struct {
	// Probes is the maximum number of probe vectors (one product each); zero or negative means DefaultProbes.
	Probes int
	// Tol is the relative standard error to stop at: Trace stops early once StdErr <= Tol·|Trace|, after at
	// least MinProbes probes. Zero means DefaultTraceTol; negative means never stop early.
	Tol float64
	// MinProbes is the number of probes before an early stop; zero or negative means DefaultMinProbes. It is
	// capped at Probes.
	MinProbes int
}

// TraceResult is Hutchinson's estimate of a trace.
type TraceResult struct {
	// Trace is the mean of Samples: an unbiased estimate of tr(H).
	Trace float64
	// StdErr is the standard error of Trace: the samples' standard deviation (with m−1 in the denominator)
	// divided by sqrt(m), for m samples. It is NaN for a single sample.
	StdErr float64
	// Probes is the number of probes made (len(Samples)).
	Probes int
	// Samples are the values zᵀHz, in the order drawn.
	Samples []float64
}

// Trace estimates the trace of the operator op by Hutchinson's method: the mean of zᵀHz over probe vectors z
// of independent Rademacher components (±1 with probability ½ each), drawn from rng, with its standard error.
// Each sample is unbiased, E[zᵀHz] = tr(H), with variance 2 Σ_{i≠j} H_ij²: the off-diagonal part of H is all
// the noise, so a diagonal operator gives its trace exactly with every probe (zᵢ² = 1), and StdErr 0.
// Rademacher probes have the smallest variance of all probes with independent components.
//
// Trace makes up to Probes probes and stops early when the relative standard error reaches Tol (see
// TraceOptions). If rng is nil, a generator with a fixed seed is used. A nil opts means the defaults.
//
// If the context is cancelled or a product fails, Trace returns the estimate from the probes completed, with
// the error (ctx.Err() as it is, a product's error wrapped with its number); a product with NaN or ±Inf gives
// an error wrapping ErrNotFinite. It returns ErrEmpty if op.Len() is zero.
func Trace(ctx context.Context, op Operator, rng *rand.Rand, opts *TraceOptions) (TraceResult, error) {
	n := op.Len()
	if n <= 0 {
		return TraceResult{}, ErrEmpty
	}
	probes, tol, minProbes := DefaultProbes, DefaultTraceTol, DefaultMinProbes
	if opts != nil {
		if opts.Probes > 0 {
			probes = opts.Probes
		}
		if opts.Tol != 0 {
			tol = opts.Tol
		}
		if opts.MinProbes > 0 {
			minProbes = opts.MinProbes
		}
	}
	minProbes = min(minProbes, probes)
	if rng == nil {
		rng = rand.New(rand.NewPCG(1, 2))
	}
	var (
		res      TraceResult
		mean, m2 float64 // Welford's running mean and sum of squared deviations
		z        = make([]float64, n)
		hz       = make([]float64, n)
	)
	res.StdErr = math.NaN()
	for i := 0; i < probes; i++ {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		rademacher(rng, z)
		if err := op.Apply(ctx, hz, z); err != nil {
			return res, fmt.Errorf("hessian: product %d: %w", i+1, err)
		}
		s := dot(z, hz)
		if math.IsNaN(s) || math.IsInf(s, 0) {
			return res, fmt.Errorf("hessian: product %d: %w", i+1, ErrNotFinite)
		}
		res.Samples = append(res.Samples, s)
		// Welford's update keeps the mean exact when every sample is the same (a diagonal operator), and
		// m2 exactly zero.
		k := float64(i + 1)
		d := s - mean
		mean += d / k
		m2 += d * (s - mean)
		res.Trace, res.Probes = mean, i+1
		if i > 0 {
			res.StdErr = math.Sqrt(m2 / (k - 1) / k)
		}
		if tol > 0 && res.Probes >= minProbes && res.StdErr <= tol*math.Abs(mean) {
			break
		}
	}
	return res, nil
}
