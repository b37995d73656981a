package landscape

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
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
	// Check is the self-check of the exact products (nil with
	// HVPFiniteDifference).
	Check *Check
}

// ErrSelfCheck is returned (wrapped) by Hessian when, on a model whose loss
// is smooth in its weights, the exact products disagree with differences of
// losses beyond float32 noise: the numbers would be wrong.
var ErrSelfCheck = errors.New("landscape: Hessian self-check failed")

// Check compares, along the unit vector v that Lanczos starts from, the slope
// g.v and the curvature v.Hv of the exact product with central differences
// of the loss over the same samples (package engine's float64 sum of the
// model's own outputs, an independent computation), each extrapolated from
// the steps e and 2e (Richardson: the e^2 error terms cancel):
//
//	D(e) = (L(w + e v) - L(w - e v)) / 2e,  g.v ~ (4 D(e) - D(2e)) / 3
//	C(e) = (L(w + e v) - 2 L(w) + L(w - e v)) / e^2,  v.Hv ~ (4 C(e) - C(2e)) / 3
//
// The step makes e^2 |v.Hv| about 2e-3 |L|, far above the rounding of float32
// losses, within 2% of the weights' norm. Five losses are computed. Where the model has kinks (Relu,
// MaxPool, ...) the differences cross some of them and measure a smoothed
// curvature, so a disagreement there is reported, not an error.
type Check struct {
	Step        float64  `json:"step"`         // e
	Loss        float64  `json:"loss"`         // L(w)
	Slope       float64  `json:"slope"`        // g.v, exact
	SlopeFD     float64  `json:"slope_fd"`     // g.v by differences of losses
	Curvature   float64  `json:"curvature"`    // v.Hv, exact
	CurvatureFD float64  `json:"curvature_fd"` // v.Hv by differences of losses
	Kinks       []string `json:"kinks,omitempty"`
	SlopeOK     bool     `json:"slope_ok"`
	CurvatureOK bool     `json:"curvature_ok"`
	// CurvatureBelowNoise says that |v.Hv| is too small to be measured by
	// differences of float32 losses: CurvatureOK is then true unchecked.
	CurvatureBelowNoise bool `json:"curvature_below_noise"`
}

// OK reports whether both quantities agree.
func (c *Check) OK() bool { return c.SlopeOK && c.CurvatureOK }

// String describes the check in one line.
func (c *Check) String() string {
	s := fmt.Sprintf("g.v %.6g (differences %.6g), v.Hv %.6g (differences %.6g), step %.3g", c.Slope, c.SlopeFD, c.Curvature, c.CurvatureFD, c.Step)
	switch {
	case c.OK() && c.CurvatureBelowNoise:
		s += ": slope agrees; curvature below float32 noise, not checked"
	case c.OK():
		s += ": agree"
	case len(c.Kinks) > 0:
		s += fmt.Sprintf(": differ, as expected across kinks of %s", strings.Join(c.Kinks, ", "))
	default:
		s += ": DISAGREE"
	}
	return s
}

// checkTol is the relative disagreement Check allows beyond rounding noise.
// On the Tanh MLP fixture the extrapolated differences agree with the exact
// slope and curvature to 3e-5 and 1e-5.
const checkTol = 2e-3

// lossNoise is the relative rounding of a mean loss computed from float32
// outputs, generously: the differences' tolerances are multiples of it.
const lossNoise = 1e-6

// selfCheck runs the Check of the exact product h along its first vector.
func (l *Landscape) selfCheck(ctx context.Context, h *exactHVP, samples int) (*Check, error) {
	v, hv := h.firstV, h.firstHv
	c := &Check{Slope: h.first.Slope, Kinks: l.ev.Kinks()}
	for i := range v {
		c.Curvature += v[i] * hv[i]
	}
	at := func(e float64) (float64, error) {
		values := make(map[string][]float64, len(h.values))
		for name, x := range h.values {
			values[name] = x
		}
		off := 0
		for _, p := range h.weights {
			base := h.values[p.Name]
			if base == nil {
				base = l.ev.Base(p.Name)
			}
			x := make([]float64, len(base))
			for j := range x {
				x[j] = base[j] + e*v[off+j]
			}
			values[p.Name] = x
			off += len(p.Values)
		}
		r, err := l.ev.EvaluateSubset(ctx, values, samples)
		return r.Loss, err
	}
	l0, err := at(0)
	if err != nil {
		return nil, err
	}
	c.Loss = l0
	scale := max(math.Abs(l0), 1e-4)
	wnorm := 0.0
	for _, p := range h.weights {
		for _, x := range p.Values {
			wnorm += float64(x) * float64(x)
		}
	}
	e := math.Sqrt(2e-3 * scale / max(math.Abs(c.Curvature), 1e-12))
	e = min(max(e, 1e-6), 0.02*(1+math.Sqrt(wnorm)))
	c.Step = e
	var ls [5]float64 // at -2e, -e, 0, e, 2e
	for k := range ls {
		if k == 2 {
			ls[k] = l0
		} else if ls[k], err = at(float64(k-2) * e); err != nil {
			return nil, err
		}
	}
	d1 := (ls[3] - ls[1]) / (2 * e)
	d2 := (ls[4] - ls[0]) / (4 * e)
	c1 := (ls[3] - 2*ls[2] + ls[1]) / (e * e)
	c2 := (ls[4] - 2*ls[2] + ls[0]) / (4 * e * e)
	c.SlopeFD = (4*d1 - d2) / 3
	c.CurvatureFD = (4*c1 - c2) / 3
	// Rounding noise of the losses, amplified by the difference formulas.
	noise := lossNoise * scale
	c.SlopeOK = math.Abs(c.SlopeFD-c.Slope) <= checkTol*math.Abs(c.Slope)+2*noise/e
	curvNoise := 8 * noise / (e * e)
	c.CurvatureBelowNoise = curvNoise > 0.5*math.Abs(c.Curvature)
	c.CurvatureOK = c.CurvatureBelowNoise || math.Abs(c.CurvatureFD-c.Curvature) <= checkTol*math.Abs(c.Curvature)+curvNoise
	return c, nil
}

// weightPoint returns the weights the Hessian is taken with respect to (the
// params the directions draw for), the values of every tensor at th + a*X + b*Y, and the
// weights there as one vector in the order of the weights.
func (l *Landscape) weightPoint(a, b float64) (weights []normalize.Param, values map[string][]float64, x []float64, err error) {
	point, err := l.ev.MoveValues(l.move(a, b))
	if err != nil {
		return nil, nil, nil, err
	}
	n := 0
	for _, p := range l.params {
		if l.cfg.Normalize.Draws(p.Kind) {
			weights = append(weights, p)
			n += len(p.Values)
		}
	}
	x = make([]float64, 0, n)
	for _, p := range weights {
		if v, ok := point[p.Name]; ok {
			x = append(x, v...)
		} else {
			x = append(x, l.ev.Base(p.Name)...)
		}
	}
	return weights, point, x, nil
}

// HessianOperator returns the Hessian of the mean loss with respect to the
// model's weights (the tensors the method perturbs, concatenated in the
// order of Params) at th + a*X + b*Y, as a hessian.Operator whose products
// are computed as opts.HVP says, over opts.Samples samples.
func (l *Landscape) HessianOperator(a, b float64, opts HessianOptions) (hessian.Operator, error) {
	weights, values, x, err := l.weightPoint(a, b)
	if err != nil {
		return nil, err
	}
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
	// The first product, for the self-check.
	first           engine.HVP
	firstV, firstHv []float64
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
	if err := gather(dst, h.weights, r.Product); err != nil {
		return err
	}
	if h.firstV == nil {
		h.first, h.firstV, h.firstHv = r, slices.Clone(v), slices.Clone(dst)
	}
	return nil
}

// Hessian returns the smallest and largest eigenvalues of the Hessian of the
// mean loss with respect to the model's weights (the tensors the method
// perturbs) at th + a*X + b*Y, by Lanczos on Hessian-vector products
// (HessianOperator). With exact products it then checks itself (Check): on a
// smooth model a disagreement is an error wrapping ErrSelfCheck, returned
// with the Eigen it concerns.
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
	out := Eigen{Result: res}
	if h, ok := op.(*exactHVP); ok && h.firstV != nil {
		c, err := l.selfCheck(ctx, h, opts.Samples)
		if err != nil {
			return Eigen{}, err
		}
		out.Check = c
		if !c.OK() && len(c.Kinks) == 0 {
			out.Seconds = time.Since(start).Seconds()
			return out, fmt.Errorf("%w at (%g, %g): %v", ErrSelfCheck, a, b, c)
		}
	}
	out.Seconds = time.Since(start).Seconds()
	return out, nil
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
	return w.L.values(r, r.Loss, r.Accuracy, e.Min, e.Max, ratio), nil
}

// Channels returns the names of the values Evaluate returns.
func (w WithHessian) Channels() []string {
	if w.L.cfg.Tolerance != nil {
		return slices.Concat(HessianChannels, ToleranceChannels)
	}
	return HessianChannels
}

// Identity adds the Hessian options to the landscape's identity.
func (w WithHessian) Identity() map[string]any {
	id := w.L.Identity()
	id["hessian_samples"] = w.Opts.Samples
	id["hessian_tol"] = w.Opts.Tol
	id["hessian_max_iter"] = w.Opts.MaxIter
	id["hessian_seed"] = w.Opts.Seed
	id["hessian_hvp"] = cmp.Or(w.Opts.HVP, HVPExact)
	return id
}
