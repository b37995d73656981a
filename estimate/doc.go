// Package estimate decides when the mean of a finite population, read in a
// fixed random order, is known well enough: the per-sample losses of a
// dataset evaluated on growing prefixes of a seeded permutation, stopped
// as soon as the running standard error says the prefix mean is within a
// tolerance of the mean over every sample. It is pure arithmetic and knows
// nothing of models.
//
// # The rule
//
// A Plan looks at prefixes of n_1 < n_2 < ... < n_K = N samples (First,
// 2*First, 4*First, ..., then all N). At a look with n < N samples of mean
// m and sample standard deviation s it forms the standard error of m as an
// estimate of the population mean mu, with the finite-population
// correction of sampling without replacement,
//
//	se = s/sqrt(n) * sqrt((N-n)/(N-1)),
//
// and stops when
//
//	z*se*(1+Rel) <= Rel*|m| + Abs,      z = Phi^-1(1 - Delta/(2(K-1))).
//
// The last look uses every sample and is exact (se = 0).
//
// # The guarantee, and its limits
//
// The stopping time is data-dependent, so a fixed-n interval would not do:
// the bound is a union (Bonferroni) bound over the K-1 looks that may stop
// early. At each of them the interval m ± z*se misses mu with probability
// at most Delta/(K-1) (by the normal approximation of the prefix mean of a
// random permutation, the finite-population central limit theorem), so
// with probability at least 1-Delta every interval the point could stop at
// holds mu, and in particular the one it stops at. On that event
// |m - mu| <= z*se, and the stopping condition makes z*se <= Rel*|mu| +
// Abs (because |mu| >= |m| - z*se): the reported mean is within the
// tolerance of the full-data mean, whenever the point stops.
//
// The bound is as good as the normal approximation at the first look. A
// population whose spread comes from a few rare, large losses (a share
// well below 1/First of the samples) can show no such loss in the first
// prefix and stop too early; the coverage tests use skewed and
// heavy-tailed populations (exponential, log-normal, a two-point mixture
// with 10% large values) and meet 1-Delta, but no finite-sample bound is
// claimed for unbounded losses.
package estimate
