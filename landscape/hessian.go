package landscape

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/lsweep/lsweep/engine"
	"github.com/lsweep/lsweep/hessian"
	"github.com/lsweep/lsweep/normalize"
)

// HVP methods: how Hessian-vector products are computed.
const (
	// HVPExact is the exact product, by forward-mode differentiation of the
	// gradient graph (autodiff.HVPModel): the Hessian PyTorch's double
	// backward differentiates, with ReLU'' = 0 and MaxPool routed through its
	// argmax.
	HVPExact = "exact"
	// HVPFiniteDifference is the central difference of two float32
	// gradients (hessian.FiniteDifference): the fallback for a model with an
	// op that has no second-order rule. Across ReLU and max-pool kinks it
	// measures a smoothed curvature (lambda_max 24% to 43% too large on the
	// ReLU networks measured).
	HVPFiniteDifference = "fd"
)

// HessianOptions configures the extreme eigenvalues of the Hessian at a
// point. The zero value means: every sample, exact products, package
// hessian's default tolerance and iteration cap, seed 0.
type HessianOptions struct {
	Samples int     // gradients over a deterministic subset of this many samples; 0: all
	Tol     float64 // Lanczos relative tolerance; 0: hessian.DefaultTol
	MaxIter int     // Hessian-vector products at most; 0: hessian.DefaultMaxIter
	Seed    uint64  // start vector of the Lanczos iteration
	HVP     string  // HVPExact ("" too) or HVPFiniteDifference
}

// Eigen is the result of Hessian: the extreme eigenvalues of the Hessian of
// the loss with respect to the weights the directions perturb.
type Eigen struct {
	hessian.Result
	Seconds float64
}

// weightPoint returns the weights the Hessian is taken with respect to (the
// Weight params), the values of every tensor at th + a*X + b*Y, and the
// weights there as one vector in the order of the weights.
func (l *Landscape) weightPoint(a, b float64) (weights []normalize.Param, values map[string][]float64, x []float64) {
	if l.Y == nil {
		b = 0
	}
	point := normalize.Point(nil, l.params, l.X, l.Y, a, b)
	n := 0
	for _, p := range l.params {
		if p.Kind == normalize.Weight {
			weights = append(weights, p)
			n += len(p.Values)
		}
	}
	x = make([]float64, 0, n)
	for _, p := range weights {
		if v, ok := point[p.Name]; ok {
			x = append(x, v...)
		} else {
			x = append(x, p.Values...)
		}
	}
	values = make(map[string][]float64, len(point))
	for name, v := range point {
		values[name] = v
	}
	return weights, values, x
}

// HessianOperator returns the Hessian of the mean loss with respect to the
// model's weights (the tensors the method perturbs, concatenated in the
// order of Params) at th + a*X + b*Y, as a hessian.Operator whose products
// are computed as opts.HVP says, over opts.Samples samples.
func (l *Landscape) HessianOperator(a, b float64, opts HessianOptions) (hessian.Operator, error) {
	weights, values, x := l.weightPoint(a, b)
	switch opts.HVP {
	case "", HVPExact:
		return &exactHVP{l: l, weights: weights, values: values, samples: opts.Samples, n: len(x)}, nil
	case HVPFiniteDifference:
		grad := func(ctx context.Context, dst, x []float64) error {
			off := 0
			for _, p := range weights {
				values[p.Name] = x[off : off+len(p.Values)]
				off += len(p.Values)
			}
			_, g, err := l.ev.Gradient(ctx, values, opts.Samples)
			if err != nil {
				return err
			}
			return gather(dst, weights, g)
		}
		return &hessian.FiniteDifference{Grad: grad, X: x, Float32: true}, nil
	}
	return nil, fmt.Errorf("landscape: unknown Hessian-vector product method %q (want %q or %q)", opts.HVP, HVPExact, HVPFiniteDifference)
}

// gather copies the per-weight slices of g into dst, in the order of weights.
func gather(dst []float64, weights []normalize.Param, g map[string][]float64) error {
	off := 0
	for _, p := range weights {
		gv, ok := g[p.Name]
		if !ok || len(gv) != len(p.Values) {
			return fmt.Errorf("landscape: no derivative for weight %q", p.Name)
		}
		copy(dst[off:], gv)
		off += len(p.Values)
	}
	return nil
}

// exactHVP is the exact Hessian-vector product of engine.HessianVector.
type exactHVP struct {
	l       *Landscape
	weights []normalize.Param
	values  map[string][]float64
	samples int
	n       int
	last    engine.HVP // the last product's loss and slope, for the self-check
}

func (h *exactHVP) Len() int { return h.n }

func (h *exactHVP) Apply(ctx context.Context, dst, v []float64) error {
	dir := make(map[string][]float64, len(h.weights))
	off := 0
	for _, p := range h.weights {
		dir[p.Name] = v[off : off+len(p.Values)]
		off += len(p.Values)
	}
	r, err := h.l.ev.HessianVector(ctx, h.values, dir, h.samples)
	if err != nil {
		return err
	}
	h.last = r
	return gather(dst, h.weights, r.Product)
}

// Hessian returns the smallest and largest eigenvalues of the Hessian of the
// mean loss with respect to the model's weights (the tensors the method
// perturbs) at th + a*X + b*Y, by Lanczos on Hessian-vector products
// (HessianOperator).
func (l *Landscape) Hessian(ctx context.Context, a, b float64, opts HessianOptions) (Eigen, error) {
	start := time.Now()
	op, err := l.HessianOperator(a, b, opts)
	if err != nil {
		return Eigen{}, err
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x6865737369616e))
	res, err := hessian.Lanczos(ctx, op, rng, &hessian.Options{Tol: opts.Tol, MaxIter: opts.MaxIter})
	if err != nil {
		return Eigen{}, err
	}
	return Eigen{Result: res, Seconds: time.Since(start).Seconds()}, nil
}

// HessianChannels are the values WithHessian computes at each point.
var HessianChannels = []string{"loss", "acc", "lambda_min", "lambda_max", "ratio"}

// WithHessian is a sweep.Evaluator that adds to the loss and accuracy of a
// Landscape the extreme Hessian eigenvalues and |lambda_min/lambda_max| at
// every point: the paper's convexity map.
type WithHessian struct {
	L    *Landscape
	Opts HessianOptions
}

// Evaluate returns loss, accuracy, lambda_min, lambda_max and the ratio.
func (w WithHessian) Evaluate(ctx context.Context, a, b float64) ([]float64, error) {
	r, err := w.L.At(ctx, a, b)
	if err != nil {
		return nil, err
	}
	e, err := w.L.Hessian(ctx, a, b, w.Opts)
	if err != nil {
		return nil, err
	}
	ratio := e.Ratio()
	if math.IsInf(ratio, 0) {
		ratio = math.NaN()
	}
	return []float64{r.Loss, r.Accuracy, e.Min, e.Max, ratio}, nil
}

// Identity adds the Hessian options to the landscape's identity.
func (w WithHessian) Identity() map[string]any {
	id := w.L.Identity()
	id["hessian_samples"] = w.Opts.Samples
	id["hessian_tol"] = w.Opts.Tol
	id["hessian_max_iter"] = w.Opts.MaxIter
	id["hessian_seed"] = w.Opts.Seed
	return id
}
