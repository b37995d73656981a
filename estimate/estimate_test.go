package estimate_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/lsweep/lsweep/estimate"
)

// population draws n values of a known distribution.
type population struct {
	name string
	n    int
	rel  float64
	draw func(r *rand.Rand) float64
}

var populations = []population{
	{"normal", 20000, 0.01, func(r *rand.Rand) float64 { return 1 + 0.3*r.NormFloat64() }},
	{"exponential", 20000, 0.05, func(r *rand.Rand) float64 { return r.ExpFloat64() }},
	{"lognormal", 20000, 0.1, func(r *rand.Rand) float64 { return math.Exp(r.NormFloat64()) }},
	// Most samples right with a small loss, a tenth wrong with a large one:
	// the shape of a classifier's per-sample cross-entropy.
	{"mixture", 20000, 0.1, func(r *rand.Rand) float64 {
		if r.Float64() < 0.1 {
			return 3 + r.ExpFloat64()
		}
		return 0.05 * r.ExpFloat64()
	}},
}

// run reads the population in a random order and stops as p says; it
// returns the estimate it stopped at.
func run(p estimate.Plan, vals []float64, r *rand.Rand) estimate.Estimate {
	perm := r.Perm(len(vals))
	var sum, sq float64
	k := 0
	for _, c := range p.Checks {
		for ; k < c; k++ {
			v := vals[perm[k]]
			sum += v
			sq += v * v
		}
		if e := p.Look(c, sum, sq); e.Stop {
			return e
		}
	}
	panic("the last look always stops")
}

// coverage returns the share of trials whose estimate misses the
// population mean by more than the tolerance, and the mean samples used.
func coverage(p estimate.Plan, vals []float64, trials int, seed uint64) (miss, used float64) {
	var mu float64
	for _, v := range vals {
		mu += v
	}
	mu /= float64(len(vals))
	r := rand.New(rand.NewPCG(seed, 7))
	for i := 0; i < trials; i++ {
		e := run(p, vals, r)
		if math.Abs(e.Mean-mu) > p.Tolerance(mu) {
			miss++
		}
		used += float64(e.N)
	}
	return miss / float64(trials), used / float64(trials)
}

// TestCoverage checks, over many random orders of populations with known
// distributions (skewed and heavy-tailed among them), that the stopped
// mean is within the tolerance at least 1-Delta of the time, and that the
// points do stop early (or the test would prove nothing).
func TestCoverage(t *testing.T) {
	trials := 3000
	if testing.Short() {
		trials = 600
	}
	for i, pop := range populations {
		t.Run(pop.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(i), 1))
			vals := make([]float64, pop.n)
			for j := range vals {
				vals[j] = pop.draw(r)
			}
			p := estimate.NewPlan(pop.n, estimate.Rule{Rel: pop.rel, Abs: 1e-3})
			miss, used := coverage(p, vals, trials, uint64(100+i))
			t.Logf("%s: miss %.4f (delta %g), mean samples %.0f of %d", pop.name, miss, p.Delta, used, pop.n)
			// The binomial spread of the observed share around Delta.
			if limit := p.Delta + 3*math.Sqrt(p.Delta*(1-p.Delta)/float64(trials)); miss > limit {
				t.Errorf("missed the tolerance in %.4f of %d orders, more than delta %g allows (%.4f)", miss, trials, p.Delta, limit)
			}
			if used > 0.6*float64(pop.n) {
				t.Errorf("used %.0f of %d samples on average: the rule never stops early here", used, pop.n)
			}
		})
	}
}

// TestCoverageDetectsAWrongRule shows that the coverage test can fail: the
// same populations with a quantile that ignores the repeated looks and the
// confidence (z = 1) miss far more often than Delta.
func TestCoverageDetectsAWrongRule(t *testing.T) {
	pop := populations[1]
	r := rand.New(rand.NewPCG(1, 1))
	vals := make([]float64, pop.n)
	for j := range vals {
		vals[j] = pop.draw(r)
	}
	p := estimate.NewPlan(pop.n, estimate.Rule{Rel: pop.rel, Abs: 1e-3})
	p.Z = 1
	if miss, _ := coverage(p, vals, 600, 3); miss < 5*p.Delta {
		t.Errorf("a rule with z = 1 missed in only %.4f of the orders: the coverage test has no power", miss)
	}
}

func TestPlan(t *testing.T) {
	p := estimate.NewPlan(1797, estimate.Rule{Rel: 0.02, Abs: 1e-3})
	want := []int{64, 128, 256, 512, 1024, 1797}
	if len(p.Checks) != len(want) {
		t.Fatalf("checks %v, want %v", p.Checks, want)
	}
	for i := range want {
		if p.Checks[i] != want[i] {
			t.Fatalf("checks %v, want %v", p.Checks, want)
		}
	}
	// Bonferroni over 5 early looks at delta 0.01: Phi^-1(1 - 0.001).
	if math.Abs(p.Z-3.090232306) > 1e-8 {
		t.Errorf("z %.10f, want 3.0902323062", p.Z)
	}
	if e := p.Look(1797, 10, 100); !e.Stop || e.SE != 0 {
		t.Errorf("the whole population: %+v, want a stop with se 0", e)
	}
	// 64 samples of mean 1 and variance 1: se = 1/8 * sqrt(1733/1796).
	e := p.Look(64, 64, 64+63)
	if want := math.Sqrt(1.0 / 64 * 1733 / 1796); math.Abs(e.SE-want) > 1e-12 || e.Stop {
		t.Errorf("look %+v, want se %g and no stop", e, want)
	}
	small := estimate.NewPlan(50, estimate.Rule{Rel: 0.1})
	if len(small.Checks) != 1 || small.Checks[0] != 50 || small.Z != 0 {
		t.Errorf("a population smaller than the first prefix: %+v", small)
	}
}

func TestRuleCheck(t *testing.T) {
	for _, r := range []estimate.Rule{{Rel: -1}, {Rel: math.NaN()}, {}, {Rel: 0.1, Delta: 1}, {Abs: math.Inf(1)}} {
		if r.Check() == nil {
			t.Errorf("%+v accepted", r)
		}
	}
	if err := (estimate.Rule{Rel: 0.02, Abs: 1e-3}).Check(); err != nil {
		t.Error(err)
	}
}

// Order is a permutation, fixed by its seed: the first values of seed 1
// are pinned, so that a change of generator, which would change every
// tolerance run's points, cannot pass unnoticed.
func TestOrder(t *testing.T) {
	p := estimate.Order(1000, 1)
	seen := make([]bool, len(p))
	for _, v := range p {
		if seen[v] {
			t.Fatalf("%d twice", v)
		}
		seen[v] = true
	}
	q := estimate.Order(1000, 2)
	same := 0
	for i := range p {
		if p[i] == q[i] {
			same++
		}
	}
	if same > 10 {
		t.Errorf("seeds 1 and 2 agree at %d places", same)
	}
	if want := []int{476, 306, 235, 480, 143}; !slices.Equal(p[:5], want) {
		t.Errorf("seed 1 starts %v, want %v", p[:5], want)
	}
}

// sequences is a population of sequences for the ratio estimator: each
// with x labelled tokens (some none) and y the sum of their losses, each
// token's loss exponential around its sequence's own level.
type sequences struct {
	name  string
	n     int
	rel   float64
	level func(r *rand.Rand, x int) float64
}

var sequencePopulations = []sequences{
	{"lognormal levels", 4000, 0.05, func(r *rand.Rand, _ int) float64 { return 2 * math.Exp(0.5*r.NormFloat64()) }},
	// Long sequences easier, short ones harder: x and y/x correlated.
	{"length-dependent", 4000, 0.1, func(r *rand.Rand, x int) float64 { return 6 / math.Sqrt(float64(x+1)) * r.ExpFloat64() }},
}

func (s sequences) draw(seed uint64) (ys, xs []float64) {
	r := rand.New(rand.NewPCG(seed, 2))
	for range s.n {
		x := 0
		if r.Float64() > 0.05 { // a twentieth have no labelled token
			x = 1 + r.IntN(128)
		}
		level := s.level(r, x)
		var y float64
		for range x {
			y += level * r.ExpFloat64()
		}
		ys, xs = append(ys, y), append(xs, float64(x))
	}
	return ys, xs
}

// ratioCoverage is coverage for LookRatio.
func ratioCoverage(p estimate.Plan, ys, xs []float64, trials int, seed uint64) (miss, used float64) {
	var ty, tx float64
	for i := range ys {
		ty, tx = ty+ys[i], tx+xs[i]
	}
	mu := ty / tx
	r := rand.New(rand.NewPCG(seed, 7))
	for range trials {
		perm := r.Perm(len(ys))
		var s estimate.Sums
		k := 0
		for _, c := range p.Checks {
			for ; k < c; k++ {
				y, x := ys[perm[k]], xs[perm[k]]
				s.Y, s.X, s.YY, s.XY, s.XX = s.Y+y, s.X+x, s.YY+y*y, s.XY+x*y, s.XX+x*x
			}
			if e := p.LookRatio(c, s); e.Stop {
				if math.Abs(e.Mean-mu) > p.Tolerance(mu) {
					miss++
				}
				used += float64(e.N)
				break
			}
		}
	}
	return miss / float64(trials), used / float64(trials)
}

// TestRatioCoverage is TestCoverage for a ratio of totals (a language
// model's loss per labelled token, estimated from a prefix of sequences of
// different lengths), with a check that the same harness catches z = 1.
func TestRatioCoverage(t *testing.T) {
	trials := 3000
	if testing.Short() {
		trials = 600
	}
	for i, pop := range sequencePopulations {
		t.Run(pop.name, func(t *testing.T) {
			ys, xs := pop.draw(uint64(i))
			p := estimate.NewPlan(pop.n, estimate.Rule{Rel: pop.rel, Abs: 1e-3})
			miss, used := ratioCoverage(p, ys, xs, trials, uint64(200+i))
			t.Logf("%s: miss %.4f (delta %g), mean sequences %.0f of %d", pop.name, miss, p.Delta, used, pop.n)
			if limit := p.Delta + 3*math.Sqrt(p.Delta*(1-p.Delta)/float64(trials)); miss > limit {
				t.Errorf("missed the tolerance in %.4f of %d orders, more than delta %g allows (%.4f)", miss, trials, p.Delta, limit)
			}
			if used > 0.6*float64(pop.n) {
				t.Errorf("used %.0f of %d sequences on average: the rule never stops early here", used, pop.n)
			}
			p.Z = 1
			if miss, _ := ratioCoverage(p, ys, xs, 600, 3); miss < 5*p.Delta {
				t.Errorf("a rule with z = 1 missed in only %.4f of the orders: the coverage test has no power", miss)
			}
		})
	}
}

// TestLookRatioOfOnes checks that LookRatio with every weight 1 is Look.
func TestLookRatioOfOnes(t *testing.T) {
	p := estimate.NewPlan(1000, estimate.Rule{Rel: 0.05, Abs: 1e-3})
	r := rand.New(rand.NewPCG(5, 5))
	var sum, sq float64
	for n := 1; n <= 1000; n++ {
		v := r.ExpFloat64()
		sum, sq = sum+v, sq+v*v
		a := p.Look(n, sum, sq)
		b := p.LookRatio(n, estimate.Sums{Y: sum, X: float64(n), YY: sq, XY: sum, XX: float64(n)})
		if a.Mean != b.Mean || a.Stop != b.Stop || math.Abs(a.SE-b.SE) > 1e-12*(1+a.SE) {
			t.Fatalf("n %d: Look %+v, LookRatio %+v", n, a, b)
		}
	}
}
