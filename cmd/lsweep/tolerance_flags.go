package main

import (
	"fmt"
	"io"

	"github.com/lsweep/lsweep/pipeline"
)

// toleranceFlags are the flags of an estimated landscape (pipeline.Tolerance).
type toleranceFlags struct {
	rel, abs float64
	delta    float64
	noRefine bool
	coarse   int
	verify   int
}

func (o *toleranceFlags) AddFlags(f flagSet) {
	f.Float64Var(&o.rel, "tolerance", 0, "estimate each loss to within R*|full| + A of the loss over every sample (with high probability): growing prefixes of a seeded sample order, and adaptive refinement of the grid (see docs/adaptive.md); 0 keeps the absolute part A alone; not given: every point on every sample")
	f.Float64Var(&o.abs, "tolerance-abs", pipeline.DefaultToleranceAbs, "with --tolerance: the absolute part A of the tolerance")
	f.Float64Var(&o.delta, "tolerance-delta", 0, "with --tolerance: the probability per point that the sequential bound fails (0: 0.01)")
	f.BoolVar(&o.noRefine, "no-refine", false, "with --tolerance: compute every point of the grid (sequential sampling only)")
	f.IntVar(&o.coarse, "coarse-step", 0, "with --tolerance: the largest step of the first, fully computed lattice, in grid points (0: 8)")
	f.IntVar(&o.verify, "verify", 0, "with --tolerance: compute K random estimated points (interpolated, or on a prefix of the samples) again over every sample and print the largest error in units of the tolerance")
}

// apply sets the tolerance of cfg; changed reports whether a flag was
// given.
func (o *toleranceFlags) apply(cfg *pipeline.Config, changed func(string) bool) error {
	if !changed("tolerance") {
		for _, name := range []string{"tolerance-abs", "tolerance-delta", "no-refine", "coarse-step", "verify"} {
			if changed(name) {
				return fmt.Errorf("--%s needs --tolerance", name)
			}
		}
		return nil
	}
	cfg.Tolerance = &pipeline.Tolerance{Rel: o.rel, Abs: o.abs, Delta: o.delta, NoRefine: o.noRefine, CoarseStep: o.coarse}
	cfg.Verify = o.verify
	return nil
}

// printTolerance prints the work an estimated run did and its check, its
// labels padded to width.
func printTolerance(w io.Writer, res *pipeline.Result, width int) {
	if res.FullForwards > 0 {
		fmt.Fprintf(w, "%-*s%d computed, %d interpolated from computed neighbours\n", width, "points", res.Computed-res.Interpolated, res.Interpolated)
	}
	switch {
	case res.SampleForwards > 0 && res.FullForwards > 0:
		fmt.Fprintf(w, "%-*s%d samples through the model (%.2fx fewer than every point over every sample)\n",
			width, "forwards", res.SampleForwards, float64(res.FullForwards)/float64(res.SampleForwards))
	case res.SampleForwards > 0:
		fmt.Fprintf(w, "%-*s%d samples through the model\n", width, "forwards", res.SampleForwards)
	}
	switch v := res.Verification; {
	case v == nil:
	case v.Points == 0:
		fmt.Fprintf(w, "%-*snothing to check: every point was computed over every sample\n", width, "verify")
	default:
		fmt.Fprintf(w, "%-*slargest error %.3g tolerances over %d of the %d estimated points (%.1f%% within; worst at %.4g, %.4g)\n",
			width, "verify", v.Worst, v.Points, v.Estimated, 100*v.Within, v.WorstX, v.WorstY)
	}
}
