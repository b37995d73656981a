package landscape

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"time"

	"github.com/lsweep/lsweep/hessian"
	"github.com/lsweep/lsweep/internal/atomicfile"
	"github.com/lsweep/lsweep/npz"
)

// DefaultTopK is the number of largest eigenvalues Spectrum computes when
// SpectrumOptions.TopK is zero.
const DefaultTopK = 5

// SpectrumOptions configures Spectrum. The zero value computes the 5
// largest eigenvalues, the trace and the density with package hessian's
// defaults, over every sample, with exact products.
type SpectrumOptions struct {
	// Hessian gives the samples, the product method, the seed, and Tol and
	// MaxIter for the top eigenvalues.
	Hessian HessianOptions
	// TopK is the number of largest eigenvalues; 0 means DefaultTopK, a
	// negative value none.
	TopK int
	// Trace and Density configure Hutchinson's trace and the stochastic
	// Lanczos quadrature; NoTrace and NoDensity skip them.
	Trace     hessian.TraceOptions
	Density   hessian.DensityOptions
	NoTrace   bool
	NoDensity bool
	// Smooth configures the density curve; nil means PyHessian's Gaussian.
	Smooth *hessian.SmoothOptions
}

// Spectrum is what Landscape.Spectrum computes about the Hessian at a point.
type Spectrum struct {
	At       [2]float64
	Params   int                  // the Hessian's dimension: the weights' values
	Top      *hessian.Eigen       // the largest eigenvalues, largest first
	Trace    *hessian.TraceResult // Hutchinson's estimate
	Density  *hessian.Density     // the quadrature nodes and weights of every run
	CurveX   []float64            // the smoothed density's grid
	CurveY   []float64            // and its values
	Sigma    float64              // the smoothing Gaussian's standard deviation
	Products int                  // Hessian-vector products made
	Seconds  float64
	HVP      string
	Samples  int
}

// Spectrum computes, at th + a*X + b*Y, the largest eigenvalues of the
// Hessian, its trace by Hutchinson's estimator with the standard error, and
// its eigenvalue density by stochastic Lanczos quadrature smoothed with a
// Gaussian, as PyHessian does, all from the products HessianOperator makes.
// Each part draws its random vectors from its own generator seeded by
// opts.Hessian.Seed, so that skipping one does not change the others.
func (l *Landscape) Spectrum(ctx context.Context, a, b float64, opts SpectrumOptions) (*Spectrum, error) {
	start := time.Now()
	op, err := l.HessianOperator(a, b, opts.Hessian)
	if err != nil {
		return nil, err
	}
	counter := &countingOp{op: op}
	rng := func(part uint64) *rand.Rand { return rand.New(rand.NewPCG(opts.Hessian.Seed, 0x7370656374720000+part)) }
	s := &Spectrum{At: [2]float64{a, b}, Params: op.Len(), HVP: cmpOr(opts.Hessian.HVP, HVPExact), Samples: opts.Hessian.Samples}
	if k := opts.TopK; k >= 0 {
		if k == 0 {
			k = DefaultTopK
		}
		e, err := hessian.Largest(ctx, counter, k, rng(1), &hessian.EigenOptions{Tol: opts.Hessian.Tol, MaxIter: opts.Hessian.MaxIter})
		if err != nil {
			return nil, fmt.Errorf("landscape: top eigenvalues: %w", err)
		}
		s.Top = &e
	}
	if !opts.NoTrace {
		t, err := hessian.Trace(ctx, counter, rng(2), &opts.Trace)
		if err != nil {
			return nil, fmt.Errorf("landscape: trace: %w", err)
		}
		s.Trace = &t
	}
	if !opts.NoDensity {
		d, err := hessian.SLQ(ctx, counter, rng(3), &opts.Density)
		if err != nil {
			return nil, fmt.Errorf("landscape: density: %w", err)
		}
		s.Density = d
		s.CurveX, s.CurveY = d.Curve(opts.Smooth)
		s.Sigma = d.Sigma(opts.Smooth)
	}
	s.Products = counter.n
	s.Seconds = time.Since(start).Seconds()
	return s, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// countingOp counts the products of an operator.
type countingOp struct {
	op hessian.Operator
	n  int
}

func (c *countingOp) Len() int { return c.op.Len() }

func (c *countingOp) Apply(ctx context.Context, dst, v []float64) error {
	c.n++
	return c.op.Apply(ctx, dst, v)
}

// spectrumJSON is spectrum.json.
type spectrumJSON struct {
	At       [2]float64 `json:"at"`
	Params   int        `json:"params"`
	HVP      string     `json:"hvp"`
	Samples  int        `json:"samples"`
	Products int        `json:"products"`
	Seconds  float64    `json:"seconds"`
	TopK     *struct {
		Values    []float64 `json:"values"`
		Residuals []float64 `json:"residuals"`
		Converged bool      `json:"converged"`
	} `json:"top_k,omitempty"`
	Trace *struct {
		Estimate float64 `json:"estimate"`
		StdErr   float64 `json:"std_err"`
		Probes   int     `json:"probes"`
	} `json:"trace,omitempty"`
	Density *struct {
		Runs  int     `json:"runs"`
		Steps int     `json:"steps"`
		Sigma float64 `json:"sigma"`
		Lo    float64 `json:"lo"`
		Hi    float64 `json:"hi"`
	} `json:"density,omitempty"`
}

// Save writes spectrum.json (the numbers, a summary of the density) and
// spectrum.npz (top_k, trace_samples, density_nodes and density_weights
// [runs, steps], density_x and density_y: the curve) into dir, atomically.
func (s *Spectrum) Save(dir string) error {
	var j spectrumJSON
	j.At, j.Params, j.HVP, j.Samples, j.Products, j.Seconds = s.At, s.Params, s.HVP, s.Samples, s.Products, s.Seconds
	var entries []npz.Entry
	vec := func(name string, v []float64) {
		entries = append(entries, npz.Entry{Name: name, Array: &npz.Array{Shape: []int{len(v)}, DType: "float64", Data: v}})
	}
	if s.Top != nil {
		j.TopK = &struct {
			Values    []float64 `json:"values"`
			Residuals []float64 `json:"residuals"`
			Converged bool      `json:"converged"`
		}{s.Top.Values, s.Top.Residuals, s.Top.Converged}
		vec("top_k", s.Top.Values)
	}
	if s.Trace != nil {
		se := s.Trace.StdErr
		if math.IsNaN(se) {
			se = 0
		}
		j.Trace = &struct {
			Estimate float64 `json:"estimate"`
			StdErr   float64 `json:"std_err"`
			Probes   int     `json:"probes"`
		}{s.Trace.Trace, se, s.Trace.Probes}
		vec("trace_samples", s.Trace.Samples)
	}
	if s.Density != nil && len(s.Density.Runs) > 0 {
		steps := 0
		for _, r := range s.Density.Runs {
			steps = max(steps, len(r.Nodes))
		}
		nodes := make([]float64, 0, len(s.Density.Runs)*steps)
		weights := make([]float64, 0, len(s.Density.Runs)*steps)
		for _, r := range s.Density.Runs {
			// A run that ended early is padded with zero weights.
			for k := 0; k < steps; k++ {
				if k < len(r.Nodes) {
					nodes, weights = append(nodes, r.Nodes[k]), append(weights, r.Weights[k])
				} else {
					nodes, weights = append(nodes, r.Nodes[len(r.Nodes)-1]), append(weights, 0)
				}
			}
		}
		shape := []int{len(s.Density.Runs), steps}
		entries = append(entries,
			npz.Entry{Name: "density_nodes", Array: &npz.Array{Shape: shape, DType: "float64", Data: nodes}},
			npz.Entry{Name: "density_weights", Array: &npz.Array{Shape: shape, DType: "float64", Data: weights}})
		vec("density_x", s.CurveX)
		vec("density_y", s.CurveY)
		j.Density = &struct {
			Runs  int     `json:"runs"`
			Steps int     `json:"steps"`
			Sigma float64 `json:"sigma"`
			Lo    float64 `json:"lo"`
			Hi    float64 `json:"hi"`
		}{len(s.Density.Runs), steps, s.Sigma, s.CurveX[0], s.CurveX[len(s.CurveX)-1]}
	}
	b, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return fmt.Errorf("landscape: spectrum.json: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, "spectrum.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	return npz.WriteFile(filepath.Join(dir, "spectrum.npz"), entries)
}
