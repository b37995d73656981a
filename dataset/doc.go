// Package dataset reads a model's evaluation data, inputs x and labels or
// targets y, from NumPy files: an .npz archive or a folder of .npy files.
//
// Load reads both arrays in NumPy's own layout, checks them against each
// other, and converts them to float64 in C (row-major) order; CheckInput and
// CheckLabels then compare them with a model and explain a mismatch in terms
// of the NumPy call that would fix the data. Options.Samples keeps an evenly
// spaced, deterministic subset of the samples.
//
// The arrays are read with package npz (github.com/lsweep/lsweep/npz),
// which checks every size a file declares against the bytes present before
// it allocates memory for it.
//
// Errors start with "dataset: " and the path (and entry, where there is one)
// and match one of the Err sentinels, or a file-system error such as
// fs.ErrNotExist, with errors.Is.
package dataset
