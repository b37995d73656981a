// Package npz reads and writes NumPy's .npy and .npz files.
//
// An Array holds an n-dimensional array of any NumPy bool, integer or float
// dtype as float64 values in C (row-major) order, with the dtype it was
// stored as or is to be stored as. ReadNPY and WriteNPY read and write one
// .npy array on a stream; Open, ReadFile and WriteFile read and write .npz
// archives, the zip files of .npy entries that numpy.savez and
// numpy.savez_compressed write and numpy.load reads.
//
// Reading accepts format versions 1.0, 2.0 and 3.0, either byte order, C
// and Fortran order, and stored or deflated archive entries; it converts
// the values to float64 without scaling (integers beyond 2^53 lose
// precision). Every size a file declares is checked against the bytes
// present before memory is allocated for it, and a file that declares more
// than it holds costs no more memory than it holds, so a damaged or hostile
// file gives an error, never a crash.
//
// Writing produces what numpy.save and numpy.savez produce: little-endian,
// C order, format version 1.0 (2.0 if the header needs it), the data
// aligned to 64 bytes. Values are converted to the array's dtype: rounded
// to nearest even for float32 and float16, and checked to be integers in
// range for integer dtypes and bool.
//
// The package has its own small reader rather than using
// codeberg.org/sbinet/npyio, because npyio v0.14.0 returns Fortran-ordered
// arrays in storage order (silently wrong values), panics on a header
// without a newline, allocates whatever size a header declares (a fatal
// out-of-memory on a bad file), reads only into a slice of the stored type
// and is 2-3 times slower even behind a bufio.Reader, while the format is a
// short header and raw data that convert to float64 in one loop.
//
// Errors are of type *Error, which says which file and entry they concern,
// and match ErrFormat, ErrDType or ErrValue, or a file-system error such as
// fs.ErrNotExist, with errors.Is.
package npz
