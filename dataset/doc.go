// Package dataset reads a model's evaluation data, inputs x and labels or
// targets y, from NumPy files: an .npz archive or a folder of .npy files.
//
// Load reads both arrays in NumPy's own layout, checks them against each
// other, and converts them to float64 in C (row-major) order; CheckInput and
// CheckLabels then compare them with a model and explain a mismatch in terms
// of the NumPy call that would fix the data. Options.Samples keeps an evenly
// spaced, deterministic subset of the samples.
//
// The package reads .npy files with its own small reader rather than
// codeberg.org/sbinet/npyio, because npyio v0.14.0 returns Fortran-ordered
// arrays in storage order (silently wrong values), panics on a header without
// a newline, allocates whatever size a header declares (a fatal out-of-memory
// on a bad file), reads only into a slice of the stored type and is 2-3 times
// slower even behind a bufio.Reader, while the format is a short header and
// raw data that convert to float64 in one loop after every declared size has
// been checked against the bytes present.
//
// Errors start with "dataset: " and the path (and entry, where there is one)
// and match one of the Err sentinels, or a file-system error such as
// fs.ErrNotExist, with errors.Is.
package dataset
