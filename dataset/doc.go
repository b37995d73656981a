// Package dataset reads a model's evaluation data, inputs and labels or
// targets, from NumPy files: an .npz archive or a folder of .npy files.
//
// Each model input (Options.Inputs) is read from the entry of its name, or
// the one Options.InputKeys maps it to; a one-input model also takes "x"
// (Options.XKey). Labels come from "y", else "labels" (Options.YKey).
// Load reads the arrays in NumPy's own layout, checks them against each
// other, and converts them to float64 in C (row-major) order (integers stay
// exact up to 2^53); CheckInput, CheckLabels and CheckTokenLabels then
// compare them with a model and explain a mismatch in terms of the entry,
// the input and the NumPy call that would fix the data. Options.Samples
// keeps an evenly spaced, deterministic subset of the samples, of every
// entry alike.
//
// The arrays are read with package npz (github.com/lsweep/lsweep/npz),
// which checks every size a file declares against the bytes present before
// it allocates memory for it.
//
// Errors start with "dataset: " and the path (and entry, where there is one)
// and match one of the Err sentinels, or a file-system error such as
// fs.ErrNotExist, with errors.Is.
package dataset
