package pipeline

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/lsweep/lsweep/estimate"
	"github.com/lsweep/lsweep/landscape"
	"github.com/lsweep/lsweep/sweep"
)

// DefaultToleranceAbs is the absolute tolerance lsweep run's
// --tolerance-abs gives by default.
const DefaultToleranceAbs = 1e-3

// Tolerance asks for a landscape whose every reported loss is within
// Rel*|full| + Abs of the loss over every sample (full), with high
// probability, for a fraction of the work:
//
//   - each computed point is evaluated on growing prefixes of one random
//     order of the samples, drawn from the landscape's seed, until the
//     sequential rule of package estimate says it is within the tolerance
//     (a point whose losses spread too much uses every sample);
//   - unless NoRefine, the grid is refined adaptively (sweep.RunAdaptive):
//     computed where the surface bends or interpolants disagree, filled
//     elsewhere from computed neighbours, and marked so.
//
// With refinement the tolerance is shared: the computed points are
// estimated to half of it, and a fill is accepted only when its checks
// agree to the other half. A convexity map (Config.Hessian) computes
// every point: only its loss channel is estimated.
type Tolerance struct {
	Rel, Abs   float64 // used as given; lsweep run's --tolerance-abs defaults to DefaultToleranceAbs
	Delta      float64 // probability per point that the sequential bound fails; 0: estimate.DefaultDelta
	NoRefine   bool    // compute every point (with the sequential rule)
	CoarseStep int     // largest step of the first lattice, in grid points; 0: sweep.DefaultCoarseStep
}

// ToleranceIdentity is what a tolerance adds to a run's identity: the
// tolerance asked for, and the sequential rule of the computed points
// (landscape.Identity's estimate_ keys).
type ToleranceIdentity struct {
	Rel        float64 `json:"tolerance"`
	Abs        float64 `json:"tolerance_abs"`
	Refine     bool    `json:"refine"`
	CoarseStep int     `json:"coarse_step,omitempty"`

	EstimateRel   float64 `json:"estimate_rel"`
	EstimateAbs   float64 `json:"estimate_abs"`
	EstimateDelta float64 `json:"estimate_delta"`
	EstimateFirst int     `json:"estimate_first"`
}

// flags names a tolerance's fields as lsweep run's flags, for messages.
var flags = map[string]string{
	"Rel":         "Tolerance.Rel (--tolerance)",
	"Abs":         "Tolerance.Abs (--tolerance-abs)",
	"Rel and Abs": "Tolerance.Rel and Abs (--tolerance and --tolerance-abs)",
	"Delta":       "Tolerance.Delta (--tolerance-delta)",
}

func (t *Tolerance) check() error {
	if err := t.rule(false).Check(); err != nil {
		var re *estimate.RuleError
		if errors.As(err, &re) && flags[re.Field] != "" {
			if re.Field == "Rel and Abs" {
				return fmt.Errorf("pipeline: a tolerance of 0 (%s) %s", flags[re.Field], re.Want)
			}
			return fmt.Errorf("pipeline: %s %g: want %s", flags[re.Field], re.Value, re.Want)
		}
		return fmt.Errorf("pipeline: %w", err)
	}
	if t.CoarseStep < 0 {
		return fmt.Errorf("pipeline: Tolerance.CoarseStep %d (--coarse-step) is negative", t.CoarseStep)
	}
	return nil
}

// rule returns the sequential rule of the computed points.
func (t *Tolerance) rule(refine bool) *estimate.Rule {
	r := &estimate.Rule{Rel: t.Rel, Abs: t.Abs, Delta: t.Delta}
	if refine {
		r.Rel, r.Abs = t.Rel/2, t.Abs/2
	}
	return r
}

// Verification is the result of Config.Verify: estimated points of the
// surface computed again over every sample.
type Verification struct {
	Points    int     `json:"points"`    // the points computed again
	Estimated int     `json:"estimated"` // the surface's estimated points, of which Points were drawn
	Worst     float64 `json:"worst"`     // the largest |loss - full| in units of the tolerance around full
	Within    float64 `json:"within"`    // the share of the points within the tolerance
	WorstX    float64 `json:"worst_x"`
	WorstY    float64 `json:"worst_y"`
}

// verify computes again, over every sample, k random points of s whose loss
// is estimated: interpolated, or computed on a prefix of the samples. A
// point computed over every sample is exact; checking it would prove
// nothing.
func verify(ctx context.Context, l *landscape.Landscape, s *sweep.Surface, t *Tolerance, k int, seed uint64) (*Verification, error) {
	n := l.Engine().Samples()
	counts, filled := s.Values[landscape.ToleranceChannels[1]], s.Values[sweep.EstimatedChannel]
	estimated := func(i int) bool {
		return s.Mask[i] && (filled != nil && filled[i] != 0 || counts != nil && int(counts[i]) < n)
	}
	v := &Verification{}
	within := 0
	// The points are drawn from the run's seed, in a stream of their own
	// ("verify"), so that a user can rerun the same check.
	for _, i := range estimate.Order(s.Grid.Len(), seed^0x766572696679) {
		if !estimated(i) {
			continue
		}
		v.Estimated++
		if v.Points == k {
			continue
		}
		x, y := s.Grid.Coord(i)
		full, err := l.AtFull(ctx, x, y)
		if err != nil {
			return nil, err
		}
		e := math.Abs(s.Values["loss"][i]-full.Loss) / t.rule(false).Tolerance(full.Loss)
		if e <= 1 {
			within++
		}
		if v.Points == 0 || e > v.Worst || math.IsNaN(e) {
			v.Worst, v.WorstX, v.WorstY = e, x, y
		}
		v.Points++
	}
	if v.Points > 0 {
		v.Within = float64(within) / float64(v.Points)
	}
	return v, nil
}

// SampleForwards returns the samples run through the model for the points
// of s that were computed: the sum of the "samples" channel where it is
// (over points not estimated), else the computed points times samples.
func SampleForwards(s *sweep.Surface, samples int) int64 {
	var n int64
	counts, ok := s.Values[landscape.ToleranceChannels[1]]
	est := s.Values[sweep.EstimatedChannel]
	for i, done := range s.Mask {
		switch {
		case !done || est != nil && est[i] != 0:
		case ok:
			n += int64(counts[i])
		default:
			n += int64(samples)
		}
	}
	return n
}

// recordForwards writes the sample forwards of the surface in out into
// its manifest's info.
func recordForwards(out string, s *sweep.Surface) (int64, error) {
	m, err := ReadManifest(out)
	if err != nil {
		return 0, err
	}
	n := SampleForwards(s, m.Identity.Samples)
	if m.Info.Other == nil {
		m.Info.Other = map[string]any{}
	}
	m.Info.Other["sample_forwards"] = n
	sm, err := m.sweepManifest()
	if err != nil {
		return 0, err
	}
	return n, sweep.RewriteManifest(out, sm)
}

// toleranceChannels returns the run's channels with a tolerance: those of
// the evaluator, and EstimatedChannel when refining.
func toleranceChannels(channels []string, refine bool) []string {
	if refine {
		return slices.Concat(channels, []string{sweep.EstimatedChannel})
	}
	return channels
}
