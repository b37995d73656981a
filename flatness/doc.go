// Package flatness judges how flat two models' loss landscapes are around
// their weights, and says whether the candidate is meaningfully sharper than
// the base: the check a CI job runs on a new version of a model. It is pure
// Go, numbers in and verdicts out; pipeline.Compare evaluates the models
// (through ONNX Runtime) and hands the slices to it.
//
// Both models are measured the same way, with the same random seeds, so
// that the noise of the random directions cancels in the differences: along
// K random directions d_k, normalised filter by filter as in Li et al.,
// "Visualizing the Loss Landscape of Neural Nets" (NeurIPS 2018), it
// evaluates each model's mean loss over the data at th + a*d_k for a in
// [-r, r] (1-D slices). Measure turns one model's slices into metrics, each
// with its values along every direction and their spread:
//
//	centre_loss     the loss at th
//	mean_increase   L(th ± r d_k) - L(th), the two ends averaged, then the mean over directions
//	worst_increase  the largest L(th ± r d_k) - L(th) over directions and ends
//	rise_radius     the distance at which the loss first rises by a given amount (lower is sharper)
//	curvature       the second derivative along d_k at th (central difference), mean over directions
//	lambda_max      the Hessian's largest eigenvalue, estimated by the evaluating side
//	                (pipeline.Lanczos; unavailable without an estimator)
//
// Judge compares one metric of two models: a difference within the noise
// band, the spread across directions of the paired differences, is no
// difference whatever its sign; beyond it a metric is worse (sharper) or
// better, and a checked metric fails when it is worse by more than its
// threshold, a percentage of the base value. Decide turns the metrics into a
// verdict, Pass or Fail; Conclude does all of it for a Report's slices.
// Options holds the measurement's settings and the rule, with its
// defaults.
//
// The Report holds every number, the slices themselves, and writes itself
// as a terminal table (WriteText), JSON with stable field names
// (WriteJSON), Markdown for a CI job summary (WriteMarkdown), and a
// picture of the overlaid slices (Curves, SavePlot).
//
// With filter normalisation the metrics do not change when a ReLU network's
// layer is scaled by c and the next by 1/c, which computes the same
// function; with unnormalised directions (normalize.NormNone) the rescaled
// model looks sharper. That is the paper's point, and what pipeline's
// TestCompareRescaled checks.
package flatness
