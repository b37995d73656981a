package half

import (
	"math"

	// github.com/x448/float16 rather than code of our own: it is small, has no
	// dependencies, is verified by its author on all 2^32 float32 inputs, and
	// already came with lsweep's other modules. It rounds from float32 only;
	// roundToOdd32 below makes that correct for float64 inputs.
	"github.com/x448/float16"
)

// Float16frombits returns the value of the binary16 bits b.
func Float16frombits(b uint16) float64 {
	return float64(float16.Frombits(b).Float32())
}

// Float16bits returns the binary16 bits of v rounded to nearest even.
func Float16bits(v float64) uint16 {
	return float16.Fromfloat32(roundToOdd32(v)).Bits()
}

// BFloat16frombits returns the value of the bfloat16 bits b: the upper half
// of a float32.
func BFloat16frombits(b uint16) float64 {
	return float64(math.Float32frombits(uint32(b) << 16))
}

// BFloat16bits returns the bfloat16 bits of v rounded to nearest even.
func BFloat16bits(v float64) uint16 {
	b := math.Float32bits(roundToOdd32(v))
	if b&0x7fffffff > 0x7f800000 { // NaN: keep it one after truncation
		return uint16(b>>16) | 0x40
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}

// roundToOdd32 rounds v to float32 toward zero and, when that is inexact,
// sets the last significand bit. A second rounding to nearest even with at
// least two fewer significant bits (float16 keeps 11 of float32's 24,
// bfloat16 8) then gives v's correctly rounded value: the odd last bit stands
// for the part of v that was cut off, so no tie is made where v had none.
// float32's range and subnormals reach well beyond both formats' own.
func roundToOdd32(v float64) float32 {
	f := float32(v)
	if float64(f) == v || v != v {
		return f
	}
	b := math.Float32bits(f)
	if math.Abs(float64(f)) > math.Abs(v) {
		b-- // f was rounded away from zero (to Inf, possibly): one step back
	}
	return math.Float32frombits(b | 1)
}
