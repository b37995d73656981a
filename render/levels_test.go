package render_test

import (
	"math"
	"slices"
	"testing"

	"github.com/lsweep/lsweep/render"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func sameLevels(t *testing.T, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("levels %v, want %v", got, want)
	}
	for i := range got {
		if !near(got[i], want[i]) {
			t.Fatalf("levels %v, want %v", got, want)
		}
	}
}

func TestLevels(t *testing.T) {
	sameLevels(t, render.Levels(0, 1, 5, false), []float64{0, 0.25, 0.5, 0.75, 1})
	sameLevels(t, render.Levels(0.01, 100, 5, true), []float64{0.01, 0.1, 1, 10, 100})
	sameLevels(t, render.Levels(3, 3, 4, false), []float64{3})
	sameLevels(t, render.Levels(2, 7, 1, false), []float64{2})
	for _, bad := range []struct {
		lo, hi float64
		n      int
		log    bool
	}{
		{0, 1, 0, false}, {1, 0, 3, false}, {0, 1, 3, true}, {-1, 1, 3, true}, {math.NaN(), 1, 3, false}, {0, math.Inf(1), 3, false},
	} {
		if l := render.Levels(bad.lo, bad.hi, bad.n, bad.log); l != nil {
			t.Errorf("Levels(%v, %v, %d, %v) = %v, want nil", bad.lo, bad.hi, bad.n, bad.log, l)
		}
	}
}

func TestStepLevels(t *testing.T) {
	// The reference's defaults: vmin 0.1, vmax 10, vlevel 0.5.
	l := render.StepLevels(0.1, 10, 0.5)
	if len(l) != 20 || !near(l[0], 0.1) || !near(l[19], 9.6) {
		t.Fatalf("StepLevels(0.1, 10, 0.5) = %v, want 0.1 ... 9.6 (20 levels)", l)
	}
	for i := 1; i < len(l); i++ {
		if !near(l[i]-l[i-1], 0.5) {
			t.Fatalf("step %d is %v", i, l[i]-l[i-1])
		}
	}
	// vmax is included when a step lands on it, despite rounding.
	sameLevels(t, render.StepLevels(0, 0.3, 0.1), []float64{0, 0.1, 0.2, 0.3})
	sameLevels(t, render.StepLevels(1, 1, 0.5), []float64{1})
	if render.StepLevels(0, 1, 0) != nil || render.StepLevels(1, 0, 0.1) != nil || render.StepLevels(0, 1, -1) != nil {
		t.Error("invalid steps should give nil")
	}
}

func TestAutoLevelsLinear(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		n      int
	}{{0.3, 2.7, 10}, {-1.234, 5.678, 8}, {1000, 1001, 10}, {0.5, 40, 6}, {-3, -1, 10}} {
		vals := []float64{tc.lo, math.NaN(), (tc.lo + tc.hi) / 2, math.Inf(1), tc.hi}
		l, log := render.AutoLevels(vals, tc.n)
		if log {
			t.Errorf("%v..%v: log levels for a narrow range", tc.lo, tc.hi)
		}
		if len(l) < tc.n/2 || len(l) > 2*tc.n {
			t.Errorf("%v..%v: %d levels for n=%d: %v", tc.lo, tc.hi, len(l), tc.n, l)
		}
		if l[0] > tc.lo || l[len(l)-1] < tc.hi {
			t.Errorf("%v..%v: levels %v do not bracket the data", tc.lo, tc.hi, l)
		}
		step := l[1] - l[0]
		// A nice step is 1, 2, 2.5 or 5 times a power of ten.
		m := step / math.Pow(10, math.Floor(math.Log10(step)+1e-9))
		if !(near(m, 1) || near(m, 2) || near(m, 2.5) || near(m, 5)) {
			t.Errorf("%v..%v: step %v is not round", tc.lo, tc.hi, step)
		}
		for i, v := range l {
			if !near(v, l[0]+float64(i)*step) {
				t.Errorf("%v..%v: levels %v not equally spaced", tc.lo, tc.hi, l)
			}
			if r := v / step; !near(r, math.Round(r)) {
				t.Errorf("%v..%v: level %v is not a multiple of the step %v", tc.lo, tc.hi, v, step)
			}
		}
	}
}

func TestAutoLevelsLog(t *testing.T) {
	// Values from 0.01 to 10 span three decades: 1-2-5 levels.
	vals := []float64{0.01, 0.5, 3, math.NaN(), 10}
	l, log := render.AutoLevels(vals, 10)
	if !log {
		t.Fatalf("levels %v are not log for three decades", l)
	}
	sameLevels(t, l, []float64{0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10})

	// Eight decades with few levels: powers of ten, every one or more.
	l, log = render.AutoLevels([]float64{1e-4, 1e4}, 5)
	if !log {
		t.Fatal("not log for eight decades")
	}
	for i := 1; i < len(l); i++ {
		r := math.Log10(l[i] / l[i-1])
		if !near(r, math.Round(r)) || r < 1 {
			t.Fatalf("levels %v are not whole decades apart", l)
		}
	}
	if l[0] > 1e-4 || l[len(l)-1] < 1e4 || len(l) < 3 || len(l) > 10 {
		t.Fatalf("levels %v for 1e-4..1e4 with n=5", l)
	}

	// A zero loss keeps the log scale (it takes the lowest colour), a
	// negative value does not.
	if _, log := render.AutoLevels([]float64{0, 0.001, 5}, 10); !log {
		t.Error("zero loss should keep log levels")
	}
	if _, log := render.AutoLevels([]float64{-0.001, 0.001, 5}, 10); log {
		t.Error("negative values should give linear levels")
	}
	// Exactly two decades is not more than two.
	if _, log := render.AutoLevels([]float64{0.1, 10}, 10); log {
		t.Error("two decades should give linear levels")
	}
}

func TestAutoLevelsEdges(t *testing.T) {
	if l, _ := render.AutoLevels([]float64{math.NaN(), math.Inf(-1)}, 10); l != nil {
		t.Errorf("no finite value: %v", l)
	}
	if l, _ := render.AutoLevels(nil, 10); l != nil {
		t.Errorf("no value: %v", l)
	}
	sameLevels(t, func() []float64 { l, _ := render.AutoLevels([]float64{2, 2, math.NaN()}, 10); return l }(), []float64{2})
}

func TestRoundLevels(t *testing.T) {
	sameLevels(t, render.RoundLevels(0.1, 100, 10, true), []float64{0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100})
	sameLevels(t, render.RoundLevels(0.01, 1e5, 10, true), []float64{0.01, 0.1, 1, 10, 100, 1000, 1e4, 1e5})
	sameLevels(t, render.RoundLevels(0, 1, 5, false), []float64{0, 0.25, 0.5, 0.75, 1})
	// The levels bracket [lo, hi], as AutoLevels's do.
	sameLevels(t, render.RoundLevels(0.13, 0.96, 5, false), []float64{0, 0.2, 0.4, 0.6, 0.8, 1})
	if l, _ := render.AutoLevels([]float64{0.1, 3, 100}, 10); !slices.EqualFunc(l, render.RoundLevels(0.1, 100, 10, true), near) {
		t.Errorf("AutoLevels %v and RoundLevels %v of the same range differ", l, render.RoundLevels(0.1, 100, 10, true))
	}
	for _, bad := range [][2]float64{{0, 1}, {-1, 10}, {1, 1}, {2, 1}, {math.NaN(), 1}, {1, math.Inf(1)}} {
		if l := render.RoundLevels(bad[0], bad[1], 10, true); l != nil {
			t.Errorf("RoundLevels(%v, %v, log) = %v, want nil", bad[0], bad[1], l)
		}
	}
	if !render.SpansDecades(0.1, 100) || render.SpansDecades(1, 100) || render.SpansDecades(0, 1e6) || render.SpansDecades(-1, 1e6) {
		t.Error("SpansDecades: want true for 0.1 to 100 only")
	}
}

// Contour's Min and Max fix the colours of its lines: two contour plots of
// different data colour a level alike with them, and differently without.
func TestContourFixedColors(t *testing.T) {
	grid := func(k float64) *render.Grid {
		g := &render.Grid{Xs: []float64{0, 1, 2}, Ys: []float64{0, 1, 2}}
		for i := range 9 {
			g.Values = append(g.Values, k*float64(1+i))
		}
		return g
	}
	a, b := render.NewContour(grid(1)), render.NewContour(grid(3))
	a.Levels, b.Levels = []float64{2, 4, 6, 8}, []float64{2, 4, 6, 8}
	if a.LevelColor(4) == b.LevelColor(4) {
		t.Fatal("lines coloured alike without Min and Max: the test cannot fail")
	}
	a.Min, a.Max, b.Min, b.Max = 1, 27, 1, 27
	if a.LevelColor(4) != b.LevelColor(4) {
		t.Errorf("level 4: %v and %v with the same Min and Max", a.LevelColor(4), b.LevelColor(4))
	}
	if a.LevelColor(2) == a.LevelColor(8) {
		t.Error("levels 2 and 8 coloured alike")
	}
}
