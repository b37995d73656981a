package flatness

import "errors"

// ErrUnavailable marks a metric that cannot be computed for a model. The
// estimator of lambda_max that the evaluating side plugs in
// (pipeline.CompareOptions.LambdaMax) returns an error wrapping it (for a
// model whose ops have no gradient, say) to have the metric reported as
// unavailable, with the error's text as the reason, rather than to fail
// the comparison.
var ErrUnavailable = errors.New("flatness: metric unavailable")

// Reasons reported for an unavailable lambda_max.
const (
	ReasonNotRequested = "not requested (--hessian)"
	ReasonNoHessian    = "no Hessian estimator given (Options.LambdaMax)"
)

// Estimate is an estimated eigenvalue.
type Estimate struct {
	Value  float64
	Spread float64 // uncertainty of Value; 0 if unknown
	Note   string  // a sentence for the report, or ""
}
