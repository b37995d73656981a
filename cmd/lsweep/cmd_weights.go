package main

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"gonum.org/v1/plot/vg"

	"github.com/lsweep/lsweep/onnx"
	"github.com/lsweep/lsweep/render"
)

type weightsOptions struct {
	out  string
	bins int
	log  bool
	json bool
}

func newWeightsCommand() *cobra.Command {
	var opts weightsOptions
	cmd := &cobra.Command{
		Use:   "weights MODEL [MODEL...]",
		Short: "Draw the distribution of the perturbable weights of models, overlaid, and print their norms",
		Long: `Draw a histogram of the values of the weights lsweep perturbs (Conv,
ConvTranspose, Gemm and MatMul weights) of each model, overlaid on one picture
(--out, default weights.png; .svg and .pdf work too), and print each model's
weight norms: the number of weights, the L2 norm of all of them, their RMS and
largest magnitude.

The paper draws these to explain interpolation plots: a small-batch minimizer
has larger weights than a large-batch one, and weight decay reverses that, which
is why plots along unnormalised directions mislead.

JSON fields (--json): an array of objects with model, tensors, params, l2,
rms, max_abs.` + "\n" + exitStatusHelp,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runWeights(cmd, opts, args)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.out, "out", "weights.png", "picture file (.png, .svg or .pdf)")
	f.IntVar(&opts.bins, "bins", 100, "histogram bins")
	f.BoolVar(&opts.log, "log", false, "log scale for the density")
	f.BoolVar(&opts.json, "json", false, "print the norms as JSON")
	return cmd
}

type weightStats struct {
	Model   string  `json:"model"`
	Tensors int     `json:"tensors"`
	Params  int     `json:"params"`
	L2      float64 `json:"l2"`
	RMS     float64 `json:"rms"`
	MaxAbs  float64 `json:"max_abs"`
	values  []float64
}

func modelWeights(path string) (*weightStats, error) {
	m, err := onnx.Load(path)
	if err != nil {
		return nil, err
	}
	ws, err := m.Perturbable()
	if err != nil {
		return nil, err
	}
	if err := m.CheckStorage(); err != nil {
		return nil, err
	}
	st := &weightStats{Model: path, Tensors: len(ws)}
	var ss float64
	for _, w := range ws {
		v, err := m.Value(w.Name)
		if err != nil {
			return nil, err
		}
		for _, x := range v {
			ss += x * x
			st.MaxAbs = max(st.MaxAbs, math.Abs(x))
		}
		st.values = append(st.values, v...)
	}
	st.Params = len(st.values)
	st.L2 = math.Sqrt(ss)
	st.RMS = math.Sqrt(ss / float64(max(1, st.Params)))
	return st, nil
}

func runWeights(cmd *cobra.Command, opts weightsOptions, paths []string) error {
	if opts.bins < 2 {
		return fmt.Errorf("--bins must be at least 2, got %d", opts.bins)
	}
	var stats []*weightStats
	var pooled []float64
	for _, p := range paths {
		st, err := modelWeights(p)
		if err != nil {
			return err
		}
		pooled = append(pooled, st.values...)
		stats = append(stats, st)
	}
	// The range holds all but the outermost 0.05% of the weights on each
	// side, so that a few large weights do not squeeze the distributions
	// into a spike; the text says how many were left out.
	slices.Sort(pooled)
	lo, hi := pooled[len(pooled)*5/10000], pooled[(len(pooled)-1)-len(pooled)*5/10000]
	if !(hi > lo) {
		lo, hi = pooled[0], pooled[len(pooled)-1]
	}
	if !(hi > lo) {
		hi = lo + 1
	}
	outside := 0
	// One set of bins for all models, so that the curves compare.
	width := (hi - lo) / float64(opts.bins)
	var curves []render.Curve
	for _, st := range stats {
		counts := make([]float64, opts.bins)
		for _, x := range st.values {
			if x < lo || x > hi {
				outside++
				continue
			}
			counts[min(opts.bins-1, int((x-lo)/width))]++
		}
		c := render.Curve{Label: filepath.Base(st.Model)}
		for b, n := range counts {
			density := n / (float64(len(st.values)) * width)
			if opts.log && density == 0 {
				density = math.NaN()
			}
			// Steps: the density holds across each bin.
			c.X = append(c.X, lo+float64(b)*width, lo+float64(b+1)*width)
			c.Loss = append(c.Loss, density, density)
		}
		curves = append(curves, c)
	}
	cv := render.NewCurves(curves...)
	cv.XLabel, cv.LossLabel, cv.LogLoss = "weight value", "density", opts.log
	if len(curves) == 1 {
		cv.Title = curves[0].Label
		curves[0].Label = ""
	}
	if err := render.Save(cv, opts.out, 6*vg.Inch, 4*vg.Inch); err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	if opts.json {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(stats)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MODEL\tTENSORS\tWEIGHTS\tL2 NORM\tRMS\tMAX |W|")
	for _, st := range stats {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.4g\t%.4g\t%.4g\n", st.Model, st.Tensors, st.Params, st.L2, st.RMS, st.MaxAbs)
	}
	tw.Flush()
	fmt.Fprintf(w, "picture: %s (range %.4g to %.4g; %d weights outside it not drawn)\n", opts.out, lo, hi, outside)
	return nil
}
