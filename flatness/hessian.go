package flatness

import (
	"context"
	"errors"
	"fmt"

	"github.com/lsweep/lsweep/autodiff"

	"github.com/lsweep/lsweep/dataset"
	"github.com/lsweep/lsweep/engine"
	"github.com/lsweep/lsweep/landscape"
	"github.com/lsweep/lsweep/loss"
	"github.com/lsweep/lsweep/normalize"
)

// ---------------------------------------------------------------------------
// HOOK: lambda_max. The Hessian needs the gradient graph of a model, which is
// being built elsewhere (engine.Evaluator.Gradient, package hessian). Until a
// LambdaMaxer is plugged into Options.LambdaMax, a comparison with
// Options.Hessian set reports lambda_max as unavailable, with
// ReasonNoHessian, and goes on; nothing else depends on it.
// ---------------------------------------------------------------------------

// ErrUnavailable marks a metric that cannot be computed for a model. A
// LambdaMaxer returns an error wrapping it (a model whose ops have no
// gradient, say) to have the metric reported as unavailable, with the
// error's text as the reason, rather than to fail the comparison.
var ErrUnavailable = errors.New("flatness: metric unavailable")

// Reasons reported for an unavailable lambda_max.
const (
	ReasonNotRequested = "not requested (--hessian)"
	ReasonNoHessian    = "no Hessian estimator given (Options.LambdaMax)"
)

// LambdaMaxer estimates the largest eigenvalue of the Hessian of a model's
// mean loss with respect to its weights. Compare calls it once per model,
// after the slices, when Options.Hessian is set.
type LambdaMaxer interface {
	// LambdaMax returns the largest eigenvalue of the Hessian at the
	// target's stored weights, over the tensors the comparison's
	// directions move (target.Params, Kind Weight, and others as
	// target.Normalize says), and its uncertainty (a Lanczos residual,
	// say; 0 if unknown). An error wrapping ErrUnavailable makes the
	// metric unavailable; any other error fails the comparison.
	LambdaMax(ctx context.Context, target HessianTarget) (Estimate, error)
}

// HessianTarget is what a LambdaMaxer is asked about: one model of a
// comparison, its data and the evaluation settings the slices used.
type HessianTarget struct {
	Model     string          // the model file
	Data      string          // the data file or folder
	Dataset   dataset.Options // entry names and subset, as for the slices
	Engine    engine.Options  // library, device, threads, batch size, output and head
	Head      loss.Head       // the head the slices' loss used
	Params    []normalize.Param
	Normalize normalize.Options // which tensors the directions move
	Seed      uint64            // for a random start vector
	// Evaluator is the comparison's evaluator of this model, open for the
	// duration of the call, for estimators that reuse it.
	Evaluator *engine.Evaluator
}

// Estimate is an estimated eigenvalue.
type Estimate struct {
	Value  float64
	Spread float64 // uncertainty of Value; 0 if unknown
	Note   string  // a sentence for the report, or ""
}

// LambdaMaxFunc adapts a function to LambdaMaxer.
type LambdaMaxFunc func(ctx context.Context, target HessianTarget) (Estimate, error)

// LambdaMax calls f.
func (f LambdaMaxFunc) LambdaMax(ctx context.Context, target HessianTarget) (Estimate, error) {
	return f(ctx, target)
}

// Lanczos returns the LambdaMaxer lsweep uses: the largest eigenvalue of the
// Hessian with respect to the model's weights, by Lanczos on the
// Hessian-vector products opts.HVP selects, exact by default
// (landscape.Landscape.Hessian), with the Lanczos residual as its spread. A
// model whose ops have no gradient rule makes the metric unavailable.
func Lanczos(opts landscape.HessianOptions) LambdaMaxer {
	return LambdaMaxFunc(func(ctx context.Context, t HessianTarget) (Estimate, error) {
		l, err := landscape.Open(landscape.Config{Model: t.Model, Data: t.Data, Dataset: t.Dataset, Engine: t.Engine, Seed: t.Seed, Normalize: t.Normalize})
		if err != nil {
			return Estimate{}, err
		}
		defer l.Close()
		o := opts
		o.Seed = t.Seed
		e, err := l.Hessian(ctx, 0, 0, o)
		if errors.Is(err, autodiff.ErrNoGradient) {
			return Estimate{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		if err != nil {
			return Estimate{}, err
		}
		note := fmt.Sprintf("%d Hessian-vector products", e.Products)
		if !e.Converged {
			note += ", not converged"
		}
		return Estimate{Value: e.Max, Spread: e.MaxResidual, Note: note}, nil
	})
}
