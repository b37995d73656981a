package flatness

import (
	"fmt"
	"math"
	"slices"
)

// Metric names, as reports and Options.Thresholds spell them.
const (
	CentreLoss    = "centre_loss"    // the loss at the model's weights
	MeanIncrease  = "mean_increase"  // mean over directions of the loss increase at radius r (both ends averaged)
	WorstIncrease = "worst_increase" // largest loss increase at radius r over directions and both ends
	RiseRadius    = "rise_radius"    // mean over directions of the distance at which the loss first rises by Rise
	Curvature     = "curvature"      // mean over directions of the second derivative of the loss at the centre
	LambdaMax     = "lambda_max"     // largest eigenvalue of the Hessian (Options.LambdaMax computes it)
)

// MetricInfo describes a metric.
type MetricInfo struct {
	Name string
	// Title is a short human name for tables.
	Title string
	// Description says how the metric is computed, in a sentence.
	Description string
	// HigherIsWorse is true when a larger value means a sharper landscape
	// (or, for centre_loss, a worse fit); false for rise_radius.
	HigherIsWorse bool
	// Flatness is false for centre_loss, which describes the fit rather
	// than the landscape around it; DefaultThresholds checks only the
	// flatness metrics.
	Flatness bool
}

// Metrics lists every metric, in the order reports show them.
var Metrics = []MetricInfo{
	{CentreLoss, "centre loss", "the mean loss at the model's own weights", true, false},
	{MeanIncrease, "mean increase at r", "the loss increase at distance r from the centre, averaged over both ends of a slice, then over directions", true, true},
	{WorstIncrease, "worst increase at r", "the largest loss increase at distance r from the centre, over both ends of every slice", true, true},
	{RiseRadius, "rise radius", "the distance from the centre at which the loss first rises by the rise amount, the nearer end of each slice, averaged over directions (r where it never does)", false, true},
	{Curvature, "curvature", "the second derivative of the loss along each direction at the centre (central difference over the innermost step), averaged over directions", true, true},
	{LambdaMax, "λmax (Hessian)", "the largest eigenvalue of the Hessian of the loss with respect to the weights", true, true},
}

// Info returns the description of the named metric, and false if there is
// no such metric.
func Info(name string) (MetricInfo, bool) {
	for _, m := range Metrics {
		if m.Name == name {
			return m, true
		}
	}
	return MetricInfo{}, false
}

// Names returns the names of every metric, in report order.
func Names() []string {
	out := make([]string, len(Metrics))
	for i, m := range Metrics {
		out[i] = m.Name
	}
	return out
}

// Slices are the 1-D loss slices of one model: Loss[k][i] (and Acc[k][i])
// is the loss (and accuracy) at th + X[i]*d_k, for direction d_k.
type Slices struct {
	// X holds the coordinates along each direction, ascending and symmetric
	// about 0, which it includes.
	X []float64
	// Loss holds one row per direction, each as long as X.
	Loss [][]float64
	// Acc is like Loss for accuracies; nil, or rows of NaN, for regression.
	Acc [][]float64
}

// centre returns the index of coordinate 0 in X.
func (s *Slices) centre() int { return slices.Index(s.X, 0) }

// check reports whether s is a valid set of slices.
func (s *Slices) check() error {
	n := len(s.X)
	if n < 3 || n%2 == 0 {
		return fmt.Errorf("flatness: slices have %d points; want an odd number, at least 3", n)
	}
	for i := range n {
		if s.X[i] != -s.X[n-1-i] || i > 0 && s.X[i] <= s.X[i-1] {
			return fmt.Errorf("flatness: slice coordinates %v are not ascending and symmetric about 0", s.X)
		}
	}
	for k, row := range s.Loss {
		if len(row) != n {
			return fmt.Errorf("flatness: slice %d has %d losses for %d coordinates", k, len(row), n)
		}
	}
	if s.Acc != nil && len(s.Acc) != len(s.Loss) {
		return fmt.Errorf("flatness: %d accuracy slices for %d loss slices", len(s.Acc), len(s.Loss))
	}
	return nil
}

// Sample is one model's value of a metric, with what it was computed from.
type Sample struct {
	// Value is the metric: a mean over directions, the maximum for
	// worst_increase.
	Value float64
	// Spread is the sample standard deviation across directions of
	// PerDirection (n-1 in the denominator; 0 with fewer than two), or, for
	// a metric that is not computed per direction, the uncertainty its
	// estimator reports.
	Spread float64
	// PerDirection holds the metric's value along each direction (nil for
	// centre_loss and lambda_max).
	PerDirection []float64
	// Censored counts, for rise_radius, the directions along which the loss
	// never rose by the rise amount within the radius: their value is the
	// radius, a lower bound.
	Censored int
}

// Measure computes the slice metrics of one model: every metric but
// lambda_max, keyed by name. rise is the loss increase whose distance
// rise_radius measures. Measure returns an error if s is not a valid set of
// slices or rise is not positive.
func Measure(s *Slices, rise float64) (map[string]Sample, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if !(rise > 0) || math.IsInf(rise, 0) {
		return nil, fmt.Errorf("flatness: rise amount %v: want a positive number", rise)
	}
	c := s.centre()
	n := len(s.X)
	r, h := s.X[n-1], s.X[c+1]
	out := make(map[string]Sample)
	var centre float64
	if len(s.Loss) > 0 {
		centre = s.Loss[0][c]
	} else {
		centre = math.NaN()
	}
	out[CentreLoss] = Sample{Value: centre}
	var mean, worst, radius, curv []float64
	censored := 0
	for _, row := range s.Loss {
		f0 := row[c]
		lo, hi := row[0]-f0, row[n-1]-f0
		mean = append(mean, (lo+hi)/2)
		worst = append(worst, math.Max(lo, hi))
		up, okUp := riseAt(s.X[c:], row[c:], rise)
		down, okDown := riseAt(negated(s.X[:c+1]), reversed(row[:c+1]), rise)
		if !okUp && !okDown {
			censored++
		}
		radius = append(radius, math.Min(math.Min(up, down), r))
		curv = append(curv, (row[c+1]+row[c-1]-2*f0)/(h*h))
	}
	out[MeanIncrease] = perDirection(mean, meanOf(mean))
	out[WorstIncrease] = perDirection(worst, maxOf(worst))
	rs := perDirection(radius, meanOf(radius))
	rs.Censored = censored
	out[RiseRadius] = rs
	out[Curvature] = perDirection(curv, meanOf(curv))
	return out, nil
}

// riseAt returns the smallest x at which f rises by amount above f[0],
// linearly interpolated between the points of x (ascending from 0), and
// whether it does at all; +Inf if it does not.
func riseAt(x, f []float64, amount float64) (float64, bool) {
	for i := 1; i < len(x); i++ {
		d := f[i] - f[0]
		if math.IsNaN(d) {
			return math.NaN(), true
		}
		if d >= amount {
			prev := f[i-1] - f[0]
			t := (amount - prev) / (d - prev)
			if math.IsInf(d, 1) {
				t = 0
			}
			return x[i-1] + t*(x[i]-x[i-1]), true
		}
	}
	return math.Inf(1), false
}

func negated(x []float64) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[len(x)-1-i] = -v
	}
	return out
}

func reversed(x []float64) []float64 {
	out := slices.Clone(x)
	slices.Reverse(out)
	return out
}

func perDirection(v []float64, value float64) Sample {
	return Sample{Value: value, Spread: stddev(v), PerDirection: v}
}

func meanOf(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func maxOf(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	m := v[0]
	for _, x := range v[1:] {
		if x > m || math.IsNaN(x) {
			m = x
		}
	}
	return m
}

// stddev returns the sample standard deviation of v (n-1 in the
// denominator), or 0 if v has fewer than two values.
func stddev(v []float64) float64 {
	if len(v) < 2 {
		return 0
	}
	m := meanOf(v)
	var s float64
	for _, x := range v {
		s += (x - m) * (x - m)
	}
	return math.Sqrt(s / float64(len(v)-1))
}
