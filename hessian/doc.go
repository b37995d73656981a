// Package hessian computes spectral information about a Hessian from Hessian-vector products.
//
// The Hessian is never formed: an Operator applies it to a vector, either exactly (Dense, for tests and small
// problems) or as a central finite difference of gradients (FiniteDifference). On any Operator:
//
//	Lanczos    the smallest and largest eigenvalues, both from one Krylov space: what the convexity map of a
//	           loss landscape (Li et al. 2018) needs at each grid point, |λmin/λmax|
//	Largest    the k largest eigenvalues (Smallest: the k smallest), and their eigenvectors on request, by
//	Smallest   Lanczos runs with deflation, so that a repeated eigenvalue is found as often as it occurs
//	Trace      Hutchinson's estimate of the trace, the mean of zᵀHz over Rademacher z, with its standard error
//	SLQ        the eigenvalue density by stochastic Lanczos quadrature: Ritz values weighted by the squared
//	           first components of the tridiagonal matrix's eigenvectors, over random starts; Density.Curve
//	           smooths it with a Gaussian on a grid, as PyHessian does
//
// These are the tools PyHessian (Yao et al. 2020) offers, with one Lanczos process with full
// reorthogonalisation underneath all the Lanczos-based ones.
//
// Everything here is float64 and pure Go. Randomness (start vectors and probes) is passed in as a *rand.Rand,
// so results are reproducible from a seed; a nil *rand.Rand means a fixed seed. Options structs mean defaults
// when nil or zero. Long computations take a context, check it before each product, and on cancellation
// return what they have with the error.
package hessian
