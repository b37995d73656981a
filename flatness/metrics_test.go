package flatness_test

import (
	"math"
	"strings"
	"testing"

	"github.com/lsweep/lsweep/flatness"
)

// grid returns n points over [-r, r] as Compare makes them.
func grid(n int, r float64) []float64 {
	x := make([]float64, n)
	c := n / 2
	for i := 1; i <= c; i++ {
		v := r * float64(i) / float64(c)
		x[c+i], x[c-i] = v, -v
	}
	return x
}

// quadratics returns slices f_k(a) = l0 + c_k a^2 (+ s_k a^3 for asymmetry).
func quadratics(x []float64, l0 float64, c, s []float64) *flatness.Slices {
	sl := &flatness.Slices{X: x}
	for k := range c {
		row := make([]float64, len(x))
		for i, a := range x {
			row[i] = l0 + c[k]*a*a
			if s != nil {
				row[i] += s[k] * a * a * a
			}
		}
		sl.Loss = append(sl.Loss, row)
	}
	return sl
}

func close(a, b, tol float64) bool { return math.Abs(a-b) <= tol*math.Max(1, math.Abs(b)) }

// TestMeasureQuadratic: on f(a) = l0 + c a^2 every metric has a known value.
func TestMeasureQuadratic(t *testing.T) {
	x := grid(21, 1) // step 0.1
	c := []float64{1, 2, 4, 0.5}
	m, err := flatness.Measure(quadratics(x, 0.25, c, nil), 0.04)
	if err != nil {
		t.Fatal(err)
	}
	// rise 0.04: a = 0.2 for c=1 (a grid point), 0.1414 for c=2 (interpolated
	// between 0.1 (+0.02) and 0.2 (+0.08): 0.1 + 0.02/0.06*0.1), 0.1 for c=4,
	// 0.2828 for c=0.5 (between 0.2 (+0.02) and 0.3 (+0.045): 0.2 + 0.02/0.025*0.1).
	radius := []float64{0.2, 0.1 + 0.1/3, 0.1, 0.28}
	want := map[string]struct {
		value float64
		per   []float64
	}{
		flatness.CentreLoss:    {0.25, nil},
		flatness.MeanIncrease:  {1.875, c},
		flatness.WorstIncrease: {4, c},
		flatness.RiseRadius:    {(0.2 + 0.1 + 0.1/3 + 0.1 + 0.28) / 4, radius},
		flatness.Curvature:     {3.75, []float64{2, 4, 8, 1}},
	}
	for name, w := range want {
		got := m[name]
		if !close(got.Value, w.value, 1e-9) {
			t.Errorf("%s = %v, want %v", name, got.Value, w.value)
		}
		if len(got.PerDirection) != len(w.per) {
			t.Errorf("%s: %d per-direction values, want %d", name, len(got.PerDirection), len(w.per))
			continue
		}
		for k := range w.per {
			if !close(got.PerDirection[k], w.per[k], 1e-9) {
				t.Errorf("%s along direction %d = %v, want %v", name, k, got.PerDirection[k], w.per[k])
			}
		}
	}
	// Spread: the sample standard deviation of 1, 2, 4, 0.5 (mean 1.875).
	sd := math.Sqrt((0.875*0.875 + 0.125*0.125 + 2.125*2.125 + 1.375*1.375) / 3)
	if got := m[flatness.MeanIncrease].Spread; !close(got, sd, 1e-12) {
		t.Errorf("mean_increase spread %v, want %v", got, sd)
	}
	if got := m[flatness.CentreLoss].Spread; got != 0 {
		t.Errorf("centre_loss spread %v, want 0", got)
	}
}

// TestMeasureEdges: an asymmetric slice rises first on its nearer side; a
// slice that never rises enough is censored at the radius; the worst
// increase takes the higher end.
func TestMeasureEdges(t *testing.T) {
	x := grid(5, 0.5) // -0.5 -0.25 0 0.25 0.5
	sl := &flatness.Slices{X: x, Loss: [][]float64{
		{1.3, 1.1, 1, 1.01, 1.02}, // rises by 0.1 at -0.25 only
		{1.01, 1.0, 1, 1.0, 1.01}, // never
	}}
	m, err := flatness.Measure(sl, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	r := m[flatness.RiseRadius]
	if !close(r.PerDirection[0], 0.25, 1e-12) || r.PerDirection[1] != 0.5 || r.Censored != 1 {
		t.Errorf("rise radius %v (censored %d), want [0.25 0.5] with 1 censored", r.PerDirection, r.Censored)
	}
	if w := m[flatness.WorstIncrease]; !close(w.PerDirection[0], 0.3, 1e-12) || !close(w.Value, 0.3, 1e-12) {
		t.Errorf("worst increase %v (%v), want 0.3", w.Value, w.PerDirection)
	}
	if mi := m[flatness.MeanIncrease]; !close(mi.PerDirection[0], 0.16, 1e-12) {
		t.Errorf("mean increase along direction 0 = %v, want 0.16", mi.PerDirection[0])
	}
}

func TestMeasureBadInput(t *testing.T) {
	cases := []struct {
		name string
		s    flatness.Slices
		rise float64
		want string
	}{
		{"even points", flatness.Slices{X: []float64{-1, -0.5, 0.5, 1}}, 0.1, "odd"},
		{"too few", flatness.Slices{X: []float64{0}}, 0.1, "odd"},
		{"asymmetric", flatness.Slices{X: []float64{-1, 0, 2}}, 0.1, "symmetric"},
		{"short row", flatness.Slices{X: grid(3, 1), Loss: [][]float64{{1, 2}}}, 0.1, "2 losses"},
		{"zero rise", flatness.Slices{X: grid(3, 1)}, 0, "rise"},
		{"NaN rise", flatness.Slices{X: grid(3, 1)}, math.NaN(), "rise"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := flatness.Measure(&c.s, c.rise)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one mentioning %q", err, c.want)
			}
		})
	}
}
