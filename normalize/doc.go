// Package normalize makes the directions in weight space along which a loss
// landscape is drawn: random directions normalised filter-wise as in Li et
// al., "Visualizing the Loss Landscape of Neural Nets" (NeurIPS 2018),
// interpolation directions between models, and the .npz files that hold
// them.
//
// The package knows nothing of ONNX: a caller describes each tensor of the
// model with a Param (its name, shape, values and Kind, and for weights the
// axis whose slices each produce one output unit) and gets Directions back.
// Values are held in float32, as ONNX weights and direction files hold
// them (half the memory of float64, which matters for models of a hundred
// million weights); every value is computed in float64 and rounded once.
//
// # Directions
//
// A Direction holds a value per element of each tensor it moves, keyed by
// tensor name; a tensor it does not hold is not moved (its direction is
// zero). Random draws i.i.d. N(0, 1) entries for the Weight tensors (and
// the Embedding tensors when Options.Embeddings is set), in the order of the
// params slice and row-major within each tensor, and only for them, so the
// same seed gives the same raw draw for two models whose drawn tensors come
// in the same order with the same sizes. Normalize then scales
// the draw as Options.Norm says:
//
//	filter  every filter j of every Weight tensor: d[j] <- d[j] / (||d[j]|| + 1e-10) * ||th[j]||
//	layer   every Weight tensor: d <- d / (||d|| + 1e-10) * ||th||
//	weight  d <- d * th, element by element
//	none    d unchanged
//
// with Frobenius norms. Filter j is the set of elements with index j along
// Param.FilterAxis (0 for a Conv weight [M, C, kH, kW] or a Gemm weight with
// transB = 1, 1 for ConvTranspose [C, M, kH, kW], Gemm with transB = 0 and
// MatMul weights [in, out]); -1 makes the whole tensor one filter. Because a
// filter-normalised direction scales with its filter, the plot does not
// change when a filter is rescaled and a following BatchNorm (or positive
// homogeneity) undoes it, which is the point of the method.
//
// Tensors of the other kinds, Trainable (biases, BatchNorm scale and shift)
// and State (BatchNorm running mean and variance), are left out of the
// direction with Ignore "biasbn", the default, as the paper does. With
// Ignore "none" their direction is the tensor itself (d = th, so that the
// point a d moves it to (1 + a) th): always for Trainable tensors, for
// State tensors only with DirType "states".
//
// Embedding tensors (token embeddings [V, D], position tables, class
// tokens; FilterAxis is the row axis) stay out of random directions whatever
// Ignore says, unless Options.Embeddings is set: then they are drawn and
// normalised like weights, one filter per row (a token's row, a position's
// row), so that ||d[j]|| = ||th[j]|| for every row j.
//
// Difference gives the direction from one model to another, to - from,
// unnormalised, for interpolation plots and planes through three models;
// with DirType "states" it includes the running statistics, which must move
// with the weights for the loss between two models to be right.
//
// # Files and reproducibility
//
// Save writes directions to one .npz file with entries "x/<name>" and
// "y/<name>", float32, each shaped like its tensor, which numpy.load reads;
// Load reads them back and checks them against the model. A direction
// reloaded from its file is the direction that was saved, bit for bit, and
// so is every point that Point computes from it: a resumed run computes the
// same points.
package normalize
