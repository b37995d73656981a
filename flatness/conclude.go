package flatness

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"
)

// ErrIncompatible is returned, wrapped, when two models cannot be compared:
// they take different inputs or predict different label sets.
var ErrIncompatible = errors.New("flatness: models are not comparable")

// Model is one side of a comparison.
type Model struct {
	Path string // the ONNX file
	// Label names the model in reports; "" means the file's name (its
	// path when both models' files have the same name).
	Label string
}

// Labels returns the names of the two models in reports: their labels,
// else their file names, else (when the names are the same) their paths.
func Labels(b, c Model) (string, string) {
	lb, lc := b.Label, c.Label
	nb, nc := filepath.Base(b.Path), filepath.Base(c.Path)
	if nb == nc {
		nb, nc = b.Path, c.Path
	}
	if lb == "" {
		lb = nb
	}
	if lc == "" {
		lc = nc
	}
	return lb, lc
}

// summary returns one sentence on the outcome.
func summary(r *Report) string {
	var worse, better, failed []string
	for _, m := range r.Metrics {
		switch {
		case !m.Pass && m.Status == StatusUnavailable:
			failed = append(failed, fmt.Sprintf("%s is not a number", m.Name))
		case !m.Pass:
			failed = append(failed, fmt.Sprintf("%s %s (limit %s)", m.Name, signedPct(m.Worsening, m.HigherIsWorse), pct(m.Threshold)))
		case m.Flatness && m.Status == StatusWorse:
			worse = append(worse, m.Name)
		case m.Flatness && m.Status == StatusBetter:
			better = append(better, m.Name)
		}
	}
	who := r.Candidate.Label
	switch {
	case len(failed) > 0:
		return fmt.Sprintf("%s is sharper than %s beyond the limits: %s.", who, r.Base.Label, strings.Join(failed, ", "))
	case r.Finding == FindingSame:
		return fmt.Sprintf("%s is as flat as %s: no flatness metric differs beyond its spread across directions.", who, r.Base.Label)
	case r.Finding == FindingSharper:
		return fmt.Sprintf("%s is sharper than %s (%s), within the limits.", who, r.Base.Label, strings.Join(worse, ", "))
	case r.Finding == FindingFlatter:
		return fmt.Sprintf("%s is flatter than %s (%s).", who, r.Base.Label, strings.Join(better, ", "))
	}
	return fmt.Sprintf("%s is flatter than %s by %s and sharper by %s, within the limits.", who, r.Base.Label, strings.Join(better, ", "), strings.Join(worse, ", "))
}

// signedPct formats a worsening as the change of the metric's value.
func signedPct(worsening float64, higherIsWorse bool) string {
	if !higherIsWorse {
		worsening = -worsening
	}
	if math.IsInf(worsening, 0) {
		return map[bool]string{true: "+inf%", false: "-inf%"}[worsening > 0]
	}
	return fmt.Sprintf("%+.1f%%", worsening)
}

func pct(v float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".") + "%"
}

// Conclude measures both models' slices (r.BaseSlices, r.CandidateSlices),
// judges every metric by o's rule, lambda_max being given, and sets the
// report's metrics, verdict, finding and summary. o must be resolved.
func Conclude(r *Report, o Options, lambda MetricResult) error {
	mb, err := Measure(&r.BaseSlices, o.Rise)
	if err != nil {
		return err
	}
	mc, err := Measure(&r.CandidateSlices, o.Rise)
	if err != nil {
		return err
	}
	r.Metrics = r.Metrics[:0]
	for _, info := range Metrics {
		if info.Name == LambdaMax {
			r.Metrics = append(r.Metrics, lambda)
			continue
		}
		th, checked := o.Thresholds[info.Name]
		r.Metrics = append(r.Metrics, Judge(info, mb[info.Name], mc[info.Name], Rule{Checked: checked, Threshold: th, Noise: o.Noise}))
	}
	r.Verdict, r.Finding = Decide(r.Metrics)
	r.Summary = summary(r)
	return nil
}

// JudgeLambdaMax judges the lambda_max metric from the two models'
// estimates by o's rule; notes, if any, become its reason.
func JudgeLambdaMax(base, candidate Estimate, o Options) MetricResult {
	info, _ := Info(LambdaMax)
	th, checked := o.Thresholds[LambdaMax]
	r := Judge(info, Sample{Value: base.Value, Spread: base.Spread}, Sample{Value: candidate.Value, Spread: candidate.Spread},
		Rule{Checked: checked, Threshold: th, Noise: o.Noise})
	var notes []string
	for _, e := range []Estimate{base, candidate} {
		if e.Note != "" {
			notes = append(notes, e.Note)
		}
	}
	r.Reason = strings.Join(notes, "; ")
	return r
}
