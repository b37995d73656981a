// Package hessian estimates the extreme eigenvalues of a Hessian from Hessian-vector products.
//
// The convexity map of a loss landscape (Li et al. 2018) draws, at each grid point, |λmin/λmax| for the Hessian
// of the loss with respect to the perturbed weights. The Hessian is never formed: an Operator applies it to a
// vector, either exactly (Dense, for tests and small problems) or as a central finite difference of gradients
// (FiniteDifference), and Lanczos finds both extremes from one Krylov space.
//
// Everything here is float64 and pure Go. Randomness (the Lanczos start vector) is passed in, so results are
// reproducible from a seed.
package hessian
