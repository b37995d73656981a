package render

import (
	"math"
	"sort"
	"strconv"
	"strings"
)

// decadesForLog is the span, in powers of ten, of the finite positive values
// beyond which AutoLevels chooses log-spaced levels.
const decadesForLog = 2

// Levels returns n levels from min to max inclusive, equally spaced, or
// spaced by equal ratios when log is true, rounded to 12 significant digits. It returns the single level min
// when n is 1 or min == max, and nil when n < 1, when min or max is not
// finite, when max < min, or when log is true and min <= 0.
func Levels(min, max float64, n int, log bool) []float64 {
	if n < 1 || !finite(min) || !finite(max) || max < min || (log && min <= 0) {
		return nil
	}
	if n == 1 || min == max {
		return []float64{min}
	}
	l := make([]float64, n)
	for i := range l {
		f := float64(i) / float64(n-1)
		if log {
			l[i] = roundSig(math.Exp(math.Log(min)+f*(math.Log(max)-math.Log(min))), 12)
		} else {
			l[i] = roundSig(min+f*(max-min), 12)
		}
	}
	l[0], l[n-1] = min, max
	return l
}

// StepLevels returns the levels vmin, vmin+vlevel, vmin+2*vlevel, ... up to
// and including vmax when a step lands on it (to within a part in 1e9 of
// vlevel), like the reference implementation's vmin, vmax and vlevel
// options. (The reference uses numpy's arange, which leaves vmax out.) It
// returns nil when an argument is not finite, vlevel <= 0 or vmax < vmin.
func StepLevels(vmin, vmax, vlevel float64) []float64 {
	if !finite(vmin) || !finite(vmax) || !finite(vlevel) || vlevel <= 0 || vmax < vmin {
		return nil
	}
	n := int(math.Floor((vmax-vmin)/vlevel+1e-9)) + 1
	l := make([]float64, n)
	for i := range l {
		l[i] = roundSig(vmin+float64(i)*vlevel, 12)
	}
	return l
}

// AutoLevels chooses about n contour levels for values, ignoring NaN and
// infinite values. When every finite value is >= 0 and the positive ones
// span more than two decades it returns log-spaced round numbers (1, 2, 5
// times a power of ten, or sparser when the span is wide) and log true;
// otherwise equally spaced round numbers (multiples of 1, 2, 2.5 or 5 times a
// power of ten) and log false. The levels bracket the data: the first is at
// or below the smallest value (the smallest positive one when log is true)
// and the last at or above the largest. A constant input gives that single
// value; an input with no finite value, or n < 1, gives nil.
func AutoLevels(values []float64, n int) (levels []float64, log bool) {
	if n < 1 {
		return nil, false
	}
	lo, hi, pos := dataRange(values)
	if math.IsInf(lo, 1) {
		return nil, false
	}
	if lo == hi {
		return []float64{lo}, false
	}
	if wantLog(lo, hi, pos) {
		return niceLogLevels(pos, hi, n), true
	}
	return niceLinearLevels(lo, hi, n), false
}

// RoundLevels returns about n round levels bracketing [lo, hi], as
// AutoLevels chooses them: log-spaced (1, 2, 5 times a power of ten, or
// sparser) when log is true, equally spaced otherwise. It returns nil when
// lo or hi is not finite, hi <= lo, n < 1, or log is true and lo <= 0.
func RoundLevels(lo, hi float64, n int, log bool) []float64 {
	if n < 1 || !finite(lo) || !finite(hi) || hi <= lo || (log && lo <= 0) {
		return nil
	}
	if log {
		return niceLogLevels(lo, hi, n)
	}
	return niceLinearLevels(lo, hi, n)
}

// SpansDecades reports whether values from lo to hi call for a log scale,
// as AutoLevels decides it: lo > 0 and hi more than two decades above it.
func SpansDecades(lo, hi float64) bool { return wantLog(lo, hi, lo) }

// wantLog reports whether data with finite range [lo, hi] and smallest
// positive value pos call for a log colour scale.
func wantLog(lo, hi, pos float64) bool {
	return lo >= 0 && pos > 0 && !math.IsInf(pos, 1) && hi/pos > math.Pow(10, decadesForLog)
}

// dataRange returns the smallest and largest finite values and the smallest
// positive finite value; lo is +Inf when there is no finite value, pos +Inf
// when there is no positive one.
func dataRange(values []float64) (lo, hi, pos float64) {
	lo, hi, pos = math.Inf(1), math.Inf(-1), math.Inf(1)
	for _, v := range values {
		if !finite(v) {
			continue
		}
		lo = math.Min(lo, v)
		hi = math.Max(hi, v)
		if v > 0 {
			pos = math.Min(pos, v)
		}
	}
	return lo, hi, pos
}

// niceStep returns the round number (1, 2, 2.5 or 5 times a power of ten)
// nearest, in ratio, to raw.
func niceStep(raw float64) float64 {
	e := math.Floor(math.Log10(raw))
	p := math.Pow(10, e)
	best, bestErr := p, math.Inf(1)
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if d := math.Abs(math.Log(m * p / raw)); d < bestErr {
			best, bestErr = m*p, d
		}
	}
	return best
}

// niceLinearLevels returns equally spaced round levels bracketing [lo, hi],
// about n of them.
func niceLinearLevels(lo, hi float64, n int) []float64 {
	if n < 2 {
		n = 2
	}
	step := niceStep((hi - lo) / float64(n-1))
	i0 := math.Floor(lo/step + 1e-9)
	i1 := math.Ceil(hi/step - 1e-9)
	var l []float64
	for i := i0; i <= i1; i++ {
		l = append(l, roundSig(i*step, 12))
	}
	return l
}

// niceLogLevels returns round levels bracketing [lo, hi] with equal spacing
// in log, about n of them; lo must be positive.
func niceLogLevels(lo, hi float64, n int) []float64 {
	type scheme struct {
		mantissas []int
		stride    int // decades between repeats
	}
	schemes := []scheme{
		{[]int{1, 2, 5}, 1}, {[]int{1, 3}, 1}, {[]int{1}, 1}, {[]int{1}, 2},
		{[]int{1}, 3}, {[]int{1}, 5}, {[]int{1}, 10}, {[]int{1}, 20}, {[]int{1}, 50},
	}
	e0 := int(math.Floor(math.Log10(lo))) - 1
	e1 := int(math.Ceil(math.Log10(hi))) + 1
	var best []float64
	for _, s := range schemes {
		var cand []float64
		for e := floorDiv(e0, s.stride) * s.stride; e <= e1+s.stride; e += s.stride {
			for _, m := range s.mantissas {
				cand = append(cand, decimal(m, e))
			}
		}
		// Trim to the tightest bracket of [lo, hi].
		a := sort.Search(len(cand), func(i int) bool { return cand[i] > lo*(1+1e-9) }) - 1
		b := sort.Search(len(cand), func(i int) bool { return cand[i] >= hi*(1-1e-9) })
		if a < 0 || b >= len(cand) {
			continue
		}
		l := cand[a : b+1]
		if best == nil || math.Abs(float64(len(l)-n)) < math.Abs(float64(len(best)-n)) {
			best = l
		}
	}
	return append([]float64(nil), best...)
}

// decimal returns the float64 nearest to m times ten to the e.
func decimal(m, e int) float64 {
	v, _ := strconv.ParseFloat(strconv.Itoa(m)+"e"+strconv.Itoa(e), 64)
	return v
}

func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// roundSig rounds v to sig significant digits, removing the noise that
// repeated floating-point steps leave in round numbers.
func roundSig(v float64, sig int) float64 {
	if v == 0 || !finite(v) {
		return v
	}
	s := strconv.FormatFloat(v, 'e', sig-1, 64)
	r, _ := strconv.ParseFloat(s, 64)
	return r
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// formatValue formats a level or tick value briefly: "0.02", "2.5", "1e-4",
// "3e+06".
func formatValue(v float64) string {
	v = roundSig(v, 6)
	a := math.Abs(v)
	switch {
	case v == 0:
		return "0"
	case a < 1e-3 || a >= 1e5:
		s := strconv.FormatFloat(v, 'e', -1, 64)
		mant, exp, _ := strings.Cut(s, "e")
		sign := ""
		if exp[0] == '-' {
			sign = "-"
		}
		exp = strings.TrimLeft(exp[1:], "0")
		return mant + "e" + sign + exp
	default:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
}

// formatTicks formats equally spaced linear tick values with a common number
// of decimals, as "-1.0", "-0.5", "0.0".
func formatTicks(vs []float64) []string {
	dec := 0
	for _, v := range vs {
		s := strconv.FormatFloat(roundSig(v, 6), 'f', -1, 64)
		if _, frac, ok := strings.Cut(s, "."); ok && len(frac) > dec {
			dec = len(frac)
		}
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		a := math.Abs(v)
		if dec > 4 || (a >= 1e5) {
			out[i] = formatValue(v)
			continue
		}
		if math.Abs(v) < 1e-12*math.Max(1, maxAbs(vs)) {
			v = 0
		}
		out[i] = strconv.FormatFloat(v, 'f', dec, 64)
	}
	return out
}

func maxAbs(vs []float64) float64 {
	m := 0.0
	for _, v := range vs {
		m = math.Max(m, math.Abs(v))
	}
	return m
}

// linearTicks returns round tick values inside [lo, hi], about n of them.
func linearTicks(lo, hi float64, n int) []float64 {
	if !(hi > lo) {
		return []float64{lo}
	}
	step := niceStep((hi - lo) / float64(n))
	var t []float64
	for i := math.Ceil(lo/step - 1e-9); i*step <= hi+step*1e-9; i++ {
		t = append(t, roundSig(i*step, 12))
	}
	return t
}

// logTicks returns round tick values inside [lo, hi] (lo > 0), spaced
// evenly in log: decades, or 1-2-5 steps when the range is narrow, or every
// few decades when it is wide.
func logTicks(lo, hi float64, n int) []float64 {
	if !(lo > 0 && hi > lo) {
		return []float64{lo}
	}
	l := niceLogLevels(lo, hi, n+2)
	var t []float64
	for _, v := range l {
		if v >= lo*(1-1e-9) && v <= hi*(1+1e-9) {
			t = append(t, v)
		}
	}
	if len(t) < 2 {
		return linearTicks(lo, hi, n)
	}
	return t
}
