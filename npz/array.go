package npz

import (
	"fmt"
	"math"

	"github.com/lsweep/lsweep/internal/errkind"
)

// Array is an n-dimensional numpy array held in float64, C order.
//
// Shape lists the dimensions, outermost first; it is empty for a 0-d array
// (a scalar). DType is NumPy's name of the element type the array was
// stored as or is to be stored as: "float16", "float32", "float64",
// "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
// "uint64" or "bool"; when writing, "" means "float64". Data holds the
// product of Shape values (1 for a 0-d array) in C (row-major) order, the
// last index varying fastest; bools are 0 and 1.
type Array struct {
	Shape []int
	DType string
	Data  []float64
	// Float32, when not nil, holds the values instead of Data for writing
	// an array of DType "float32" (Data must then be nil): large float32
	// arrays, such as the directions of a model of a hundred million
	// weights, are written without a float64 copy. Reading never sets it.
	Float32 []float32
}

// Len returns the number of elements that Shape holds, the product of its
// dimensions: 1 for a 0-d array, 0 if a dimension is 0.
func (a *Array) Len() int {
	n := 1
	for _, d := range a.Shape {
		n *= d
	}
	return n
}

// Scalar returns the value of a 0-d array or of an array holding one
// element, such as one of shape [1] or [1 1]. For any other array it
// returns an error matching ErrValue.
func (a *Array) Scalar() (float64, error) {
	if a.Len() != 1 || len(a.Data) != 1 {
		return 0, &Error{Err: errkind.Errorf(ErrValue, "array of shape %v with %d values is not a scalar", a.Shape, len(a.Data))}
	}
	return a.Data[0], nil
}

// dtype is a NumPy element type this package reads and writes.
type dtype struct {
	name    string  // NumPy's name, e.g. "float32"
	kind    byte    // 'f', 'i', 'u' or 'b'
	size    int     // bytes per element
	lo, hi  float64 // for integer kinds, the values allowed are lo <= v < hi
	integer bool    // kind is 'i', 'u' or 'b'
}

// descr returns the little-endian dtype string that WriteNPY writes, e.g.
// "<f4" or "|u1".
func (dt dtype) descr() string {
	if dt.size == 1 {
		return fmt.Sprintf("|%c1", dt.kind)
	}
	return fmt.Sprintf("<%c%d", dt.kind, dt.size)
}

// dtypes are the supported types, by name.
var dtypes = map[string]dtype{
	"float16": {name: "float16", kind: 'f', size: 2},
	"float32": {name: "float32", kind: 'f', size: 4},
	"float64": {name: "float64", kind: 'f', size: 8},
	"int8":    {name: "int8", kind: 'i', size: 1, lo: math.MinInt8, hi: math.MaxInt8 + 1, integer: true},
	"int16":   {name: "int16", kind: 'i', size: 2, lo: math.MinInt16, hi: math.MaxInt16 + 1, integer: true},
	"int32":   {name: "int32", kind: 'i', size: 4, lo: math.MinInt32, hi: math.MaxInt32 + 1, integer: true},
	"int64":   {name: "int64", kind: 'i', size: 8, lo: -0x1p63, hi: 0x1p63, integer: true},
	"uint8":   {name: "uint8", kind: 'u', size: 1, hi: math.MaxUint8 + 1, integer: true},
	"uint16":  {name: "uint16", kind: 'u', size: 2, hi: math.MaxUint16 + 1, integer: true},
	"uint32":  {name: "uint32", kind: 'u', size: 4, hi: math.MaxUint32 + 1, integer: true},
	"uint64":  {name: "uint64", kind: 'u', size: 8, hi: 0x1p64, integer: true},
	"bool":    {name: "bool", kind: 'b', size: 1, hi: 2, integer: true},
}
