package flatness

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
)

// Statuses of a metric in a comparison.
const (
	// StatusSame: the difference is within the noise band (or below float
	// rounding), whatever its sign.
	StatusSame = "same"
	// StatusWorse: beyond the noise band, and sharper (for centre_loss: a
	// higher loss).
	StatusWorse = "worse"
	// StatusBetter: beyond the noise band, and flatter (a lower loss).
	StatusBetter = "better"
	// StatusUnavailable: not computed; Reason says why.
	StatusUnavailable = "unavailable"
)

// Verdicts and findings of a comparison.
const (
	Pass = "pass" // no checked metric is worse by more than its threshold
	Fail = "fail" // at least one is

	FindingSame    = "same"    // no flatness metric differs beyond its noise band
	FindingSharper = "sharper" // some are worse, none better
	FindingFlatter = "flatter" // some are better, none worse
	FindingMixed   = "mixed"   // some better, some worse
)

// DefaultMaxIncrease is the threshold, in percent, that DefaultThresholds
// gives each flatness metric when no other is chosen.
const DefaultMaxIncrease = 10

// RoundingTolerance is the relative size of a difference that counts as
// float rounding and so as no difference: ONNX Runtime computes in float32,
// and two exports of one function (or one rescaled by a power of the ReLU
// symmetry) differ in the last bits.
const RoundingTolerance = 1e-5

// DefaultThresholds returns pct for every flatness metric (every metric but
// centre_loss), the thresholds Options.Thresholds defaults to.
func DefaultThresholds(pct float64) map[string]float64 {
	t := make(map[string]float64)
	for _, m := range Metrics {
		if m.Flatness {
			t[m.Name] = pct
		}
	}
	return t
}

// checkThresholds returns an error naming a threshold that is not a known
// metric or not a finite number at least 0.
func checkThresholds(t map[string]float64) error {
	for _, name := range slices.Sorted(maps.Keys(t)) {
		if _, ok := Info(name); !ok {
			return fmt.Errorf("flatness: threshold for unknown metric %q (want one of %s)", name, strings.Join(Names(), ", "))
		}
		if v := t[name]; !(v >= 0) || math.IsInf(v, 0) {
			return fmt.Errorf("flatness: threshold %v%% for %s: want a finite percentage, 0 or more", v, name)
		}
	}
	return nil
}

// Rule says how Judge decides one metric.
type Rule struct {
	// Checked says whether the metric can fail the comparison.
	Checked bool
	// Threshold is the largest worsening, in percent of the base value, that
	// passes a checked metric whose difference is beyond the noise band.
	Threshold float64
	// Noise is the width of the noise band in spreads (see Judge); 0 means 1.
	Noise float64
}

// MetricResult is one metric of a comparison.
type MetricResult struct {
	MetricInfo
	// Available is false when the metric was not computed or is not a
	// number (Reason says why); Difference, Change, Worsening and Noise are
	// then zero.
	Available bool
	Reason    string
	// Base and Candidate are the two models' values.
	Base, Candidate Sample
	// Difference is Candidate.Value - Base.Value.
	Difference float64
	// Change is Difference in percent of |Base.Value|: 0 when the values
	// are equal, ±Inf when only the base value is 0.
	Change float64
	// Worsening is Change with its sign turned so that positive means
	// sharper (a higher centre loss): -Change for rise_radius.
	Worsening float64
	// Noise is the noise band: a difference no larger is not one.
	Noise float64
	// Threshold is the rule's threshold, in percent, if Checked.
	Threshold float64
	Checked   bool
	// Status is StatusSame, StatusWorse, StatusBetter or StatusUnavailable.
	Status string
	// Pass is false when the metric fails the comparison: a checked metric
	// that is worse by more than its threshold, or one that is not a number.
	Pass bool
}

// Judge compares one metric of two models, base and candidate, as rule
// says.
//
// The noise band is rule.Noise times the spread across directions of the
// paired differences, candidate minus base along the same direction (the
// same random seed), when both samples have per-direction values; else
// rule.Noise times the root sum of squares of the two spreads. With 8
// directions a difference of means beyond one standard deviation of the
// paired differences is a paired t statistic beyond sqrt(8) = 2.8, which
// random directions produce by chance about 2.5% of the time. A difference
// within the band, or within RoundingTolerance of the larger value, is
// StatusSame whatever its sign; beyond it the status is StatusWorse or
// StatusBetter. A checked metric fails when it is worse and its Worsening
// exceeds rule.Threshold. A value that is NaN makes the metric unavailable,
// and a checked metric then fails.
func Judge(info MetricInfo, base, candidate Sample, rule Rule) MetricResult {
	r := MetricResult{MetricInfo: info, Available: true, Base: base, Candidate: candidate,
		Checked: rule.Checked, Threshold: rule.Threshold, Pass: true}
	if !rule.Checked {
		r.Threshold = 0
	}
	scale := rule.Noise
	if scale <= 0 {
		scale = 1
	}
	b, c := base.Value, candidate.Value
	if math.IsNaN(b) || math.IsNaN(c) {
		var who []string
		if math.IsNaN(b) {
			who = append(who, "base")
		}
		if math.IsNaN(c) {
			who = append(who, "candidate")
		}
		r.Available = false
		r.Status = StatusUnavailable
		r.Reason = "not a number for the " + strings.Join(who, " and the ") + " (the loss was NaN along some direction)"
		r.Pass = !rule.Checked
		return r
	}
	if b == c { // also equal infinities
		r.Status = StatusSame
		return r
	}
	r.Difference = c - b
	switch {
	case b != 0 && !math.IsInf(b, 0):
		r.Change = r.Difference / math.Abs(b) * 100
	default:
		r.Change = math.Copysign(math.Inf(1), r.Difference)
	}
	r.Worsening = r.Change
	if !info.HigherIsWorse {
		r.Worsening = -r.Change
	}
	if len(base.PerDirection) >= 2 && len(base.PerDirection) == len(candidate.PerDirection) {
		d := make([]float64, len(base.PerDirection))
		for k := range d {
			d[k] = candidate.PerDirection[k] - base.PerDirection[k]
		}
		r.Noise = scale * stddev(d)
	} else {
		r.Noise = scale * math.Hypot(base.Spread, candidate.Spread)
	}
	tol := RoundingTolerance * math.Max(math.Abs(b), math.Abs(c))
	switch {
	case math.Abs(r.Difference) <= math.Max(r.Noise, tol):
		r.Status = StatusSame
	case r.Worsening > 0:
		r.Status = StatusWorse
		r.Pass = !rule.Checked || !(r.Worsening > rule.Threshold)
	default:
		r.Status = StatusBetter
	}
	return r
}

// Unavailable returns the result of a metric that was not computed.
func Unavailable(info MetricInfo, reason string) MetricResult {
	return MetricResult{MetricInfo: info, Reason: reason, Status: StatusUnavailable, Pass: true}
}

// Decide returns the verdict of a comparison from its metrics (Fail if any
// metric does not pass, else Pass) and its finding from the statuses of the
// flatness metrics (every one but centre_loss).
func Decide(metrics []MetricResult) (verdict, finding string) {
	verdict = Pass
	worse, better := false, false
	for _, m := range metrics {
		if !m.Pass {
			verdict = Fail
		}
		if !m.Flatness {
			continue
		}
		switch m.Status {
		case StatusWorse:
			worse = true
		case StatusBetter:
			better = true
		}
	}
	switch {
	case worse && better:
		finding = FindingMixed
	case worse:
		finding = FindingSharper
	case better:
		finding = FindingFlatter
	default:
		finding = FindingSame
	}
	return verdict, finding
}
