package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"

	"github.com/spf13/cobra"

	"github.com/lsweep/lsweep/landscape"
)

const hessianLong = `Compute the paper's convexity map: at every point th + a*x + b*y of a grid
(the grid, directions and output folder exactly as "lsweep run"), the loss and
accuracy and the smallest and largest eigenvalues of the Hessian of the loss
with respect to the perturbed weights, and |lambda_min/lambda_max|. Where
positive curvature dominates the ratio is small; chaotic regions of a landscape
have large ratios. surface.npz gains lambda_min, lambda_max and ratio; the
pictures gain convexity.png (|lambda_min/lambda_max|, 0 to 0.5 like the
reference) and ratio_signed.png (lambda_min/lambda_max).

The eigenvalues come from Lanczos iterations with full reorthogonalisation on
exact Hessian-vector products: lsweep builds, from the ONNX model, a graph that
computes the gradient and its forward-mode derivative along a direction, and
ONNX Runtime runs it (the Hessian PyTorch's double backward gives: ReLU'' = 0,
max pooling through its argmax). --hvp fd uses central differences of two
gradients instead, for a model with an op that has no second-order rule; across
ReLU kinks they measure a smoothed curvature. Each point costs a few tens of
products: --hessian-samples computes them on a subset of the data.

Every point checks itself: along the first Lanczos vector v, the exact slope
g.v and curvature v.Hv are compared with central differences of losses. On a
model without kinks a disagreement beyond float32 noise stops the run with an
error; across kinks (ReLU, max pooling) the differences measure something else
and the disagreement is only reported. --at A[,B] computes one point and
prints it with its check (--json: lambda_min, lambda_max, ratio, hvps,
converged, seconds, check).`

// runHessianAt computes and prints the eigenvalues at one point.
func runHessianAt(cmd *cobra.Command, opts runOptions, modelPath, dataPath string) error {
	l, at, err := openAt(cmd, opts.at, &opts.dirs, modelPath, dataPath, opts.runtime, opts.data)
	if err != nil {
		return err
	}
	defer l.Close()
	e, err := l.Hessian(cmd.Context(), at[0], append(at, 0)[1], opts.hess)
	if err != nil {
		return err
	}
	out := struct {
		At        []float64        `json:"at"`
		LambdaMin float64          `json:"lambda_min"`
		LambdaMax float64          `json:"lambda_max"`
		Ratio     *float64         `json:"ratio"`
		HVPs      int              `json:"hvps"`
		Converged bool             `json:"converged"`
		Seconds   float64          `json:"seconds"`
		HVP       string           `json:"hvp"`
		Check     *landscape.Check `json:"check,omitempty"`
	}{At: at, LambdaMin: e.Min, LambdaMax: e.Max, HVPs: e.Products, Converged: e.Converged, Seconds: e.Seconds, HVP: cmp.Or(opts.hess.HVP, landscape.HVPExact), Check: e.Check}
	if r := e.Ratio(); !math.IsNaN(r) && !math.IsInf(r, 0) {
		out.Ratio = &r
	}
	w := cmd.OutOrStdout()
	if opts.json {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	fmt.Fprintf(w, "lambda_min  %.6g\n", out.LambdaMin)
	fmt.Fprintf(w, "lambda_max  %.6g\n", out.LambdaMax)
	if out.Ratio != nil {
		fmt.Fprintf(w, "ratio       %.4g (|lambda_min/lambda_max|)\n", *out.Ratio)
	}
	fmt.Fprintf(w, "hvps        %d (converged: %v)\n", out.HVPs, out.Converged)
	fmt.Fprintf(w, "seconds     %.2f\n", out.Seconds)
	if e.Check != nil {
		fmt.Fprintf(w, "check       %v\n", e.Check)
	}
	return nil
}
