package landscape

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/lsweep/lsweep/hessian"
	"github.com/lsweep/lsweep/normalize"
)

// HessianOptions configures the extreme eigenvalues of the Hessian at a
// point. The zero value means: every sample, package hessian's default
// tolerance and iteration cap, seed 0.
type HessianOptions struct {
	Samples int     // gradients over a deterministic subset of this many samples; 0: all
	Tol     float64 // Lanczos relative tolerance; 0: hessian.DefaultTol
	MaxIter int     // Hessian-vector products at most; 0: hessian.DefaultMaxIter
	Seed    uint64  // start vector of the Lanczos iteration
}

// Eigen is the result of Hessian: the extreme eigenvalues of the Hessian of
// the loss with respect to the weights the directions perturb.
type Eigen struct {
	hessian.Result
	Seconds float64
}

// Hessian returns the smallest and largest eigenvalues of the Hessian of the
// mean loss with respect to the model's weights (the tensors the method
// perturbs) at th + a*X + b*Y, by Lanczos on Hessian-vector products taken as
// central differences of gradients (package hessian), the gradients coming
// from the gradient graph of engine.Evaluator.Gradient.
func (l *Landscape) Hessian(ctx context.Context, a, b float64, opts HessianOptions) (Eigen, error) {
	start := time.Now()
	if l.Y == nil {
		b = 0
	}
	point := normalize.Point(nil, l.params, l.X, l.Y, a, b)
	var weights []normalize.Param
	n := 0
	for _, p := range l.params {
		if p.Kind == normalize.Weight {
			weights = append(weights, p)
			n += len(p.Values)
		}
	}
	x := make([]float64, 0, n)
	for _, p := range weights {
		if v, ok := point[p.Name]; ok {
			x = append(x, v...)
		} else {
			x = append(x, p.Values...)
		}
	}
	values := make(map[string][]float64, len(point))
	for name, v := range point {
		values[name] = v
	}
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
		off = 0
		for _, p := range weights {
			gv, ok := g[p.Name]
			if !ok || len(gv) != len(p.Values) {
				return fmt.Errorf("landscape: no gradient for weight %q", p.Name)
			}
			copy(dst[off:], gv)
			off += len(p.Values)
		}
		return nil
	}
	op := &hessian.FiniteDifference{Grad: grad, X: x, Float32: true}
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
