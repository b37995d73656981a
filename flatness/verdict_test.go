package flatness_test

import (
	"math"
	"testing"

	"github.com/lsweep/lsweep/flatness"
)

func info(name string) flatness.MetricInfo {
	m, ok := flatness.Info(name)
	if !ok {
		panic(name)
	}
	return m
}

// per returns a Sample whose value is the mean of v.
func per(v ...float64) flatness.Sample {
	var s float64
	for _, x := range v {
		s += x
	}
	m := s / float64(len(v))
	var ss float64
	for _, x := range v {
		ss += (x - m) * (x - m)
	}
	return flatness.Sample{Value: m, Spread: math.Sqrt(ss / float64(len(v)-1)), PerDirection: v}
}

// shift returns v + d.
func shift(v []float64, d float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = x + d
	}
	return out
}

// TestJudge checks the verdict rule on synthetic values.
func TestJudge(t *testing.T) {
	base := []float64{1.0, 1.2, 0.8, 1.1, 0.9, 1.05, 0.95, 1.0} // mean 1, spread ~0.13
	// Paired noise: candidate = base + d_k with d_k of mean m and spread 0.1.
	noisy := func(m float64) []float64 {
		d := []float64{0.1, -0.1, 0.15, -0.15, 0.05, -0.05, 0, 0}
		out := make([]float64, len(base))
		for k := range base {
			out[k] = base[k] + m + d[k]
		}
		return out
	}
	checked := flatness.Rule{Checked: true, Threshold: 10}
	cases := []struct {
		name       string
		metric     string
		base, cand flatness.Sample
		rule       flatness.Rule
		status     string
		pass       bool
	}{
		{"identical", flatness.MeanIncrease, per(base...), per(base...), checked, flatness.StatusSame, true},
		{"within noise, up", flatness.MeanIncrease, per(base...), per(noisy(0.05)...), checked, flatness.StatusSame, true},
		{"within noise, down", flatness.MeanIncrease, per(base...), per(noisy(-0.05)...), checked, flatness.StatusSame, true},
		{"within noise though far above threshold", flatness.MeanIncrease, per(base...), per(noisy(0.09)...), flatness.Rule{Checked: true, Threshold: 1}, flatness.StatusSame, true},
		{"sharper beyond threshold", flatness.MeanIncrease, per(base...), per(noisy(0.3)...), checked, flatness.StatusWorse, false},
		{"sharper within threshold", flatness.MeanIncrease, per(base...), per(noisy(0.3)...), flatness.Rule{Checked: true, Threshold: 50}, flatness.StatusWorse, true},
		{"sharper, not checked", flatness.MeanIncrease, per(base...), per(noisy(0.3)...), flatness.Rule{}, flatness.StatusWorse, true},
		{"flatter", flatness.MeanIncrease, per(base...), per(noisy(-0.3)...), checked, flatness.StatusBetter, true},
		{"wider band", flatness.MeanIncrease, per(base...), per(noisy(0.3)...), flatness.Rule{Checked: true, Threshold: 10, Noise: 4}, flatness.StatusSame, true},
		// Pairing: each direction moves by the same 0.05, far inside either
		// model's spread across directions but beyond the spread of the
		// paired differences (0): a real shift.
		{"paired shift", flatness.MeanIncrease, per(base...), per(shift(base, 0.15)...), checked, flatness.StatusWorse, false},
		// Lower is sharper for the rise radius.
		{"rise radius shrinks", flatness.RiseRadius, per(base...), per(noisy(-0.3)...), checked, flatness.StatusWorse, false},
		{"rise radius grows", flatness.RiseRadius, per(base...), per(noisy(0.3)...), checked, flatness.StatusBetter, true},
		// Without per-direction values the band is the spreads' root sum of squares.
		{"lambda within spreads", flatness.LambdaMax, flatness.Sample{Value: 10, Spread: 1}, flatness.Sample{Value: 11.4, Spread: 1}, checked, flatness.StatusSame, true},
		{"lambda beyond spreads", flatness.LambdaMax, flatness.Sample{Value: 10, Spread: 0.1}, flatness.Sample{Value: 11.4, Spread: 0.1}, checked, flatness.StatusWorse, false},
		{"centre loss, no spread, rounding", flatness.CentreLoss, flatness.Sample{Value: 0.064640}, flatness.Sample{Value: 0.064640 * (1 + 1e-7)}, checked, flatness.StatusSame, true},
		{"centre loss higher, not checked", flatness.CentreLoss, flatness.Sample{Value: 0.06}, flatness.Sample{Value: 0.09}, flatness.Rule{}, flatness.StatusWorse, true},
		{"zero base", flatness.Curvature, flatness.Sample{Value: 0}, flatness.Sample{Value: 0.5}, checked, flatness.StatusWorse, false},
		{"NaN, checked", flatness.Curvature, per(base...), flatness.Sample{Value: math.NaN()}, checked, flatness.StatusUnavailable, false},
		{"NaN, not checked", flatness.Curvature, flatness.Sample{Value: math.NaN()}, per(base...), flatness.Rule{}, flatness.StatusUnavailable, true},
		{"threshold 0", flatness.MeanIncrease, per(base...), per(noisy(0.3)...), flatness.Rule{Checked: true}, flatness.StatusWorse, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := flatness.Judge(info(c.metric), c.base, c.cand, c.rule)
			if r.Status != c.status || r.Pass != c.pass {
				t.Errorf("status %q pass %v, want %q %v (difference %g, noise %g, worsening %g%%)", r.Status, r.Pass, c.status, c.pass, r.Difference, r.Noise, r.Worsening)
			}
		})
	}
}

// TestJudgeNumbers checks the numbers Judge reports.
func TestJudgeNumbers(t *testing.T) {
	b := per(1, 2, 3)
	c := per(1.5, 2.4, 3.7) // differences 0.5, 0.4, 0.7: mean 0.5333, spread 0.1528
	r := flatness.Judge(info(flatness.MeanIncrease), b, c, flatness.Rule{Checked: true, Threshold: 20, Noise: 2})
	if !close(r.Difference, 1.6/3, 1e-12) || !close(r.Change, 1.6/3/2*100, 1e-12) || r.Worsening != r.Change {
		t.Errorf("difference %v change %v worsening %v", r.Difference, r.Change, r.Worsening)
	}
	if want := 2 * math.Sqrt(((0.5-1.6/3)*(0.5-1.6/3)+(0.4-1.6/3)*(0.4-1.6/3)+(0.7-1.6/3)*(0.7-1.6/3))/2); !close(r.Noise, want, 1e-12) {
		t.Errorf("noise %v, want %v", r.Noise, want)
	}
	if r.Status != flatness.StatusWorse || r.Pass || !r.Checked || r.Threshold != 20 {
		t.Errorf("%+v", r)
	}
	rr := flatness.Judge(info(flatness.RiseRadius), b, c, flatness.Rule{})
	if rr.Worsening != -rr.Change || rr.Status != flatness.StatusBetter {
		t.Errorf("rise radius: change %v worsening %v status %s", rr.Change, rr.Worsening, rr.Status)
	}
}

func TestDecide(t *testing.T) {
	m := func(name, status string, pass bool) flatness.MetricResult {
		return flatness.MetricResult{MetricInfo: info(name), Status: status, Pass: pass}
	}
	cases := []struct {
		name             string
		metrics          []flatness.MetricResult
		verdict, finding string
	}{
		{"all same", []flatness.MetricResult{m(flatness.MeanIncrease, flatness.StatusSame, true), m(flatness.Curvature, flatness.StatusSame, true)}, flatness.Pass, flatness.FindingSame},
		{"centre loss does not count", []flatness.MetricResult{m(flatness.CentreLoss, flatness.StatusWorse, true), m(flatness.Curvature, flatness.StatusSame, true)}, flatness.Pass, flatness.FindingSame},
		{"sharper within limits", []flatness.MetricResult{m(flatness.MeanIncrease, flatness.StatusWorse, true)}, flatness.Pass, flatness.FindingSharper},
		{"sharper beyond", []flatness.MetricResult{m(flatness.MeanIncrease, flatness.StatusWorse, false), m(flatness.Curvature, flatness.StatusSame, true)}, flatness.Fail, flatness.FindingSharper},
		{"flatter", []flatness.MetricResult{m(flatness.RiseRadius, flatness.StatusBetter, true)}, flatness.Pass, flatness.FindingFlatter},
		{"mixed", []flatness.MetricResult{m(flatness.RiseRadius, flatness.StatusBetter, true), m(flatness.Curvature, flatness.StatusWorse, false)}, flatness.Fail, flatness.FindingMixed},
		{"unavailable passes", []flatness.MetricResult{flatness.Unavailable(info(flatness.LambdaMax), flatness.ReasonNoHessian)}, flatness.Pass, flatness.FindingSame},
		{"checked NaN fails", []flatness.MetricResult{m(flatness.Curvature, flatness.StatusUnavailable, false)}, flatness.Fail, flatness.FindingSame},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, f := flatness.Decide(c.metrics)
			if v != c.verdict || f != c.finding {
				t.Errorf("verdict %s finding %s, want %s %s", v, f, c.verdict, c.finding)
			}
		})
	}
}

func TestDefaultThresholds(t *testing.T) {
	th := flatness.DefaultThresholds(7)
	for _, m := range flatness.Metrics {
		v, ok := th[m.Name]
		if ok != m.Flatness || ok && v != 7 {
			t.Errorf("%s: threshold %v (%v)", m.Name, v, ok)
		}
	}
}
