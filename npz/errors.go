package npz

import (
	"errors"
	"strconv"
)

// Sentinel errors. The errors this package returns match one of these with
// errors.Is, or an underlying file-system or I/O error such as
// fs.ErrNotExist.
var (
	// ErrFormat means a file is not an .npz archive or .npy array, or is
	// malformed or truncated.
	ErrFormat = errors.New("npz: malformed file")
	// ErrDType means an array holds values other than bool, integer or
	// float, or an Array to write names a dtype this package cannot write.
	ErrDType = errors.New("npz: unsupported dtype")
	// ErrValue means an Array or Entry does not suit what is asked of it:
	// Data that do not fill Shape, a value to write that its dtype cannot
	// represent, an entry without a name or with another's, or, for
	// Array.Scalar, other than one value.
	ErrValue = errors.New("npz: bad value")
)

// Error is an error reading or writing a NumPy file that says where it
// happened. Err matches ErrFormat, ErrDType or ErrValue with errors.Is, or
// is a file-system or I/O error.
type Error struct {
	Path  string // file; "" for ReadNPY and WriteNPY
	Entry string // key of the .npz entry; "" if the error concerns no entry
	Err   error  // what went wrong
}

// Error returns "npz: " followed by the path, the entry and what went
// wrong, each where known.
func (e *Error) Error() string {
	s := "npz: "
	if e.Path != "" {
		s += e.Path + ": "
	}
	if e.Entry != "" {
		s += "entry " + strconv.Quote(e.Entry) + ": "
	}
	return s + e.Err.Error()
}

// Unwrap returns e.Err.
func (e *Error) Unwrap() error { return e.Err }
