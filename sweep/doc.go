// Package sweep evaluates a function on a grid of points of a plane (or
// line) and keeps the results in an output folder, resumably, in one
// process or in shards: it is the bookkeeping of a loss-landscape sweep,
// and knows nothing of models, which it reaches through an Evaluator.
//
// # Grids
//
// A Grid has an x Axis and, for a 2-D grid, a y Axis, each N evenly spaced
// points from Min to Max inclusive ("-1:1:51", ParseAxis). Points are
// numbered i = iy*X.N + ix: rows are y, columns are x, everywhere in this
// package and in the files it writes, whose arrays have shape [ny, nx].
//
// # Order and shards
//
// CoarseToFine orders the points so that every prefix of the order covers
// the whole grid nearly uniformly: corners and centre first, then ever
// finer lattices. A sweep stopped early thus gives a coarse picture of the
// whole landscape rather than a fine one of a strip. A Shard ("I/N",
// ParseShard, or ShardFromEnv for MPI, Slurm and Kubernetes launchers)
// takes every N-th point of that order, so each of N processes gets an
// equal, coarse-to-fine share of the whole grid, in the manner of restic's
// --read-data-subset.
//
// # Output folder
//
// Open prepares an output folder for a run described by a Manifest and
// refuses, naming the differences, a folder that holds another run. A
// single process keeps its values in surface.npz; shard I of N keeps its
// in shard-I-of-N.npz, and Merge combines the shards into surface.npz. The
// layout (Store) is plain numpy: numpy.load("surface.npz")["loss"] is an
// array of shape (ny, nx), with NaN where "mask" is false. Files are
// rewritten atomically every Store.FlushInterval, so a run killed at any
// moment loses at most that much work, and Run, given the same points
// again, computes only the ones missing.
//
// # Adaptive runs
//
// RunAdaptive computes only where the surface needs it: a coarse lattice
// first, then refinement where a checked channel bends or where
// interpolants disagree with computed points beyond a tolerance, and the
// rest filled by an interpolant bounded by computed neighbours, marked in
// the channel EstimatedChannel. Resumption and shards work as for Run. A
// Progress that is also a ProgressTotal is told the points still to compute
// as cells are filled.
package sweep
