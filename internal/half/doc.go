// Package half converts between float64 and the two 16-bit float formats that
// ONNX tensors and NumPy arrays store: IEEE 754 binary16 (float16) and
// bfloat16. It is the one place lsweep rounds to them.
//
// Decoding is exact. Encoding rounds to nearest, ties to even, straight from
// float64 (not through a rounded float32, which would round twice): values
// beyond the format's range become ±Inf, NaN stays a quiet NaN with its sign,
// and underflow keeps the sign of zero.
package half
