package estimate

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
)

// DefaultFirst is the size of the first prefix a Plan looks at.
const DefaultFirst = 64

// DefaultDelta is the probability per point that the bound fails when
// Rule.Delta is 0.
const DefaultDelta = 0.01

// Rule is a tolerance: a mean m is good enough when |m - mu| <= Rel*|mu| +
// Abs with probability at least 1 - Delta, mu the mean over every sample.
// The zero Delta means DefaultDelta, the zero First DefaultFirst.
type Rule struct {
	Rel, Abs float64
	Delta    float64
	First    int // size of the first prefix looked at
}

// RuleError is Check's error: the field of a Rule that is out of range
// ("Rel", "Abs", "Delta", "First"; "Rel and Abs" when both are 0), so that
// a caller can name it its own way (a flag, say).
type RuleError struct {
	Field string
	Value float64
	Want  string // what would do
}

func (e *RuleError) Error() string {
	if e.Field == "Rel and Abs" {
		return "estimate: a tolerance of 0 (relative and absolute) " + e.Want
	}
	return fmt.Sprintf("estimate: %s %g: want %s", e.Field, e.Value, e.Want)
}

// Check returns a *RuleError naming the field that is out of range.
func (r Rule) Check() error {
	finite := func(v float64) bool { return v >= 0 && !math.IsInf(v, 0) }
	switch {
	case !finite(r.Rel):
		return &RuleError{"Rel", r.Rel, "a finite number >= 0, such as 0.02"}
	case !finite(r.Abs):
		return &RuleError{"Abs", r.Abs, "a finite number >= 0"}
	case r.Rel == 0 && r.Abs == 0:
		return &RuleError{"Rel and Abs", 0, "needs every sample: leave the tolerance off instead"}
	case !(r.Delta >= 0 && r.Delta < 1):
		return &RuleError{"Delta", r.Delta, "a probability in [0, 1)"}
	case r.First < 0:
		return &RuleError{"First", float64(r.First), "a prefix size >= 0"}
	}
	return nil
}

// Tolerance returns Rel*|v| + Abs, the tolerance around a value v.
func (r Rule) Tolerance(v float64) float64 { return r.Rel*math.Abs(v) + r.Abs }

// Plan is a Rule applied to a population of N samples: where it looks and
// with which quantile.
type Plan struct {
	Rule
	N      int
	Checks []int   // the prefix sizes looked at, increasing, the last N
	Z      float64 // the normal quantile of each early look
}

// NewPlan returns the plan of r for a population of n >= 1 samples.
func NewPlan(n int, r Rule) Plan {
	if r.Delta == 0 {
		r.Delta = DefaultDelta
	}
	if r.First == 0 {
		r.First = DefaultFirst
	}
	p := Plan{Rule: r, N: n}
	for k := r.First; k < n; k *= 2 {
		p.Checks = append(p.Checks, k)
	}
	p.Checks = append(p.Checks, n)
	if early := len(p.Checks) - 1; early > 0 {
		p.Z = Quantile(1 - r.Delta/float64(2*early))
	}
	return p
}

// Estimate is the result of a look at a prefix.
type Estimate struct {
	N    int     // samples in the prefix
	Mean float64 // their mean
	SE   float64 // its standard error as an estimate of the population mean; 0 when N is the population
	Stop bool    // the rule is met (always true for the whole population)
}

// Look returns the estimate from the first n samples, whose values sum to
// sum and whose squares sum to sumSq.
func (p Plan) Look(n int, sum, sumSq float64) Estimate {
	e := Estimate{N: n, Mean: sum / float64(n)}
	if n >= p.N {
		e.Stop = true
		return e
	}
	if n < 2 {
		e.SE = math.Inf(1)
		return e
	}
	v := max(0, (sumSq-sum*e.Mean)/float64(n-1))
	return p.stop(e, math.Sqrt(v/float64(n)*float64(p.N-n)/float64(p.N-1)))
}

// stop sets e's standard error and whether the rule is met.
func (p Plan) stop(e Estimate, se float64) Estimate {
	e.SE = se
	e.Stop = p.Z*e.SE*(1+p.Rel) <= p.Rel*math.Abs(e.Mean)+p.Abs
	return e
}

// Sums are the sums over a prefix that LookRatio needs: of each sample's
// value y and weight x, and of their squares and product.
type Sums struct {
	Y, X, YY, XY, XX float64
}

// LookRatio returns the estimate of a ratio of totals, sum(y)/sum(x) over
// the population (a language model's loss: each sequence's summed token
// losses y over its labelled tokens x), from the first n samples, whose
// sums s holds. Its standard error is the ratio estimator's (the
// linearisation r = sum(y)/sum(x), residuals y - r*x):
//
//	se = sqrt(sum((y - r x)^2)/(n-1) / n * (N-n)/(N-1)) / mean(x),
//
// which for x = 1 is Look's. The rule and its looks are Look's; the
// guarantee rests on the same normal approximation, of the ratio's
// linearisation, so it is asymptotic too.
func (p Plan) LookRatio(n int, s Sums) Estimate {
	e := Estimate{N: n, Mean: s.Y / s.X}
	if n >= p.N {
		e.Stop = true
		return e
	}
	if n < 2 || !(s.X > 0) {
		e.SE = math.Inf(1)
		return e
	}
	r := e.Mean
	v := max(0, (s.YY-2*r*s.XY+r*r*s.XX)/float64(n-1))
	xbar := s.X / float64(n)
	return p.stop(e, math.Sqrt(v/float64(n)*float64(p.N-n)/float64(p.N-1))/xbar)
}

// Quantile returns the q-quantile of the standard normal distribution,
// for q in (0, 1).
func Quantile(q float64) float64 { return math.Sqrt2 * math.Erfinv(2*q-1) }

// String describes the rule for a manifest.
func (p Plan) String() string {
	return fmt.Sprintf("prefixes %v of a seeded permutation; stop when z*se*(1+rel) <= rel*|mean| + abs, se with the finite-population correction, z = %.4f (Bonferroni over %d early looks, delta %g)",
		p.Checks, p.Z, len(p.Checks)-1, p.Delta)
}

// Order returns a permutation of 0..n-1 drawn from seed by a Fisher-Yates
// shuffle on a PCG stream, written out here so that the order, and so
// every prefix mean, is the same on every platform and Go version.
func Order(n int, seed uint64) []int {
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	src := rand.NewPCG(seed, 0x6f72646572) // "order"
	for i := n - 1; i > 0; i-- {
		hi, _ := bits.Mul64(src.Uint64(), uint64(i+1))
		j := int(hi)
		perm[i], perm[j] = perm[j], perm[i]
	}
	return perm
}
