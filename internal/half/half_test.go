package half_test

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/lsweep/lsweep/internal/half"
)

// format describes a binary floating-point format for the reference below:
// p significant bits, normal numbers from 2^emin, the largest finite one
// below 2^(emax+1).
type format struct {
	name       string
	p          int
	emin, emax int
	mantBits   uint // stored significand bits: p-1
	toBits     func(float64) uint16
	fromBits   func(uint16) float64
	maxFinite  float64
	minSubnorm float64
}

var formats = []format{
	{name: "float16", p: 11, emin: -14, emax: 15, mantBits: 10, toBits: half.Float16bits, fromBits: half.Float16frombits,
		maxFinite: 65504, minSubnorm: 0x1p-24},
	{name: "bfloat16", p: 8, emin: -126, emax: 127, mantBits: 7, toBits: half.BFloat16bits, fromBits: half.BFloat16frombits,
		maxFinite: 0x1.fep127, minSubnorm: 0x1p-133},
}

// value computes the value of bits b of f from its fields, in exact
// arithmetic; ok is false for NaN.
func (f format) value(b uint16) (v float64, ok bool) {
	expBits := 15 - f.mantBits
	e := int(b>>f.mantBits) & (1<<expBits - 1)
	m := int64(b) & (1<<f.mantBits - 1)
	neg := b&0x8000 != 0
	switch {
	case e == 1<<expBits-1 && m != 0:
		return 0, false
	case e == 1<<expBits-1:
		v = math.Inf(1)
	default:
		x := new(big.Float).SetInt64(m)
		scale := f.emin - int(f.mantBits) // subnormal: m * 2^(emin-mantBits)
		if e != 0 {
			x.SetInt64(m | 1<<f.mantBits)
			scale = e - (1<<(expBits-1) - 1) - int(f.mantBits)
		}
		x.SetMantExp(x, scale)
		v, _ = x.Float64() // exact: both formats fit in float64
	}
	if neg {
		v = -v
	}
	return v, true
}

// round is the reference rounding of v to f, to nearest even, as a value
// (±Inf beyond the range), done with math/big at the precision that the
// format has at v's magnitude.
func (f format) round(v float64) float64 {
	if v == 0 || math.IsInf(v, 0) {
		return v
	}
	a := new(big.Float).SetFloat64(math.Abs(v))
	e := a.MantExp(nil) - 1 // a in [2^e, 2^(e+1))
	prec := f.p
	if e < f.emin {
		prec -= f.emin - e // subnormal: multiples of 2^(emin-p+1) only
	}
	var r float64
	switch {
	case prec >= 1:
		a.SetMode(big.ToNearestEven).SetPrec(uint(prec))
		r, _ = a.Float64()
	case prec == 0 && a.Cmp(new(big.Float).SetFloat64(f.minSubnorm/2)) > 0:
		r = f.minSubnorm // between half the smallest subnormal and it
	default:
		r = 0 // at most half the smallest subnormal: ties to zero, which is even
	}
	if r > f.maxFinite {
		r = math.Inf(1)
	}
	return math.Copysign(r, v)
}

func TestDecodeAll(t *testing.T) {
	for _, f := range formats {
		t.Run(f.name, func(t *testing.T) {
			for i := range 1 << 16 {
				b := uint16(i)
				got := f.fromBits(b)
				want, ok := f.value(b)
				if !ok {
					if !math.IsNaN(got) {
						t.Fatalf("%#04x: got %v, want NaN", b, got)
					}
					continue
				}
				if got != want || math.Signbit(got) != math.Signbit(want) {
					t.Fatalf("%#04x: got %v, want %v", b, got, want)
				}
			}
		})
	}
}

func TestRoundTripAll(t *testing.T) {
	for _, f := range formats {
		t.Run(f.name, func(t *testing.T) {
			for i := range 1 << 16 {
				b := uint16(i)
				v := f.fromBits(b)
				got := f.toBits(v)
				if math.IsNaN(v) {
					if !math.IsNaN(f.fromBits(got)) || got&0x8000 != b&0x8000 {
						t.Fatalf("NaN %#04x became %#04x", b, got)
					}
					continue
				}
				if got != b {
					t.Fatalf("%#04x (%v) became %#04x", b, v, got)
				}
				if g32 := f.toBits(float64(float32(v))); g32 != b {
					t.Fatalf("%#04x as float32 became %#04x", b, g32)
				}
			}
		})
	}
}

// TestRoundAll rounds, around every pair of neighbouring values of the format
// (and between the largest one and the first power of two beyond), the
// midpoint, its float64 and float32 neighbours and the quarter points, and
// compares with the reference.
func TestRoundAll(t *testing.T) {
	for _, f := range formats {
		t.Run(f.name, func(t *testing.T) {
			check := func(v float64) {
				t.Helper()
				want := f.round(v)
				got := f.fromBits(f.toBits(v))
				if got != want || math.Signbit(got) != math.Signbit(want) {
					t.Fatalf("%v (%x): got %v, want %v", v, v, got, want)
				}
			}
			top := uint16(math.Float32bits(float32(f.maxFinite)) >> 16)
			if f.name == "float16" {
				top = 0x7bff
			}
			for b := range top + 1 {
				lo := f.fromBits(b)
				hi := f.fromBits(b + 1) // 2^(emax+1) after the largest: Inf's bits
				if b == top {
					hi = math.Ldexp(1, f.emax+1)
				}
				mid := lo + (hi-lo)/2 // exact in float64
				for _, v := range []float64{
					lo, mid, lo + (hi-lo)/4, mid + (hi-lo)/4,
					math.Nextafter(mid, 0), math.Nextafter(mid, math.Inf(1)),
					float64(math.Nextafter32(float32(mid), 0)), float64(math.Nextafter32(float32(mid), float32(math.Inf(1)))),
					math.Nextafter(lo, math.Inf(1)), math.Nextafter(hi, 0),
				} {
					check(v)
					check(-v)
				}
			}
			for _, v := range []float64{0, math.Inf(1), math.MaxFloat64, math.SmallestNonzeroFloat64,
				math.MaxFloat32, float64(math.SmallestNonzeroFloat32), f.minSubnorm / 2, f.minSubnorm / 4,
				math.Nextafter(f.minSubnorm/2, 1)} {
				check(v)
				check(-v)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			for range 200000 {
				v := math.Ldexp(1+rng.Float64(), rng.IntN(f.emax-f.emin+30)+f.emin-f.p-10)
				check(v)
				check(float64(float32(v)))
			}
		})
	}
}

// TestNoDoubleRounding: rounding through float32 first would make a tie of a
// value just above one and round it down.
func TestNoDoubleRounding(t *testing.T) {
	v := 1 + 0x1p-11 + 0x1p-40 // just above the midpoint of 1 and 1+2^-10
	if got := half.Float16bits(v); got != 0x3c01 {
		t.Errorf("float16 of 1+2^-11+2^-40: %#04x, want 0x3c01", got)
	}
	v = 1 + 0x1p-8 + 0x1p-40
	if got := half.BFloat16bits(v); got != 0x3f81 {
		t.Errorf("bfloat16 of 1+2^-8+2^-40: %#04x, want 0x3f81", got)
	}
}

func TestNaN(t *testing.T) {
	for _, f := range formats {
		for _, v := range []float64{math.NaN(), -math.NaN(), math.Float64frombits(0x7ff0000000000001)} {
			b := f.toBits(v)
			if !math.IsNaN(f.fromBits(b)) || (b&0x8000 != 0) != math.Signbit(v) {
				t.Errorf("%s: NaN %x became %#04x", f.name, math.Float64bits(v), b)
			}
		}
	}
}
