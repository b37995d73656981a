package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/lsweep/lsweep/pipeline"
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

func runWeights(cmd *cobra.Command, opts weightsOptions, paths []string) error {
	if opts.bins < 2 {
		return fmt.Errorf("--bins must be at least 2, got %d", opts.bins)
	}
	res, err := pipeline.Weights(paths, pipeline.WeightsOptions{Out: opts.out, Bins: opts.bins, Log: opts.log})
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	if opts.json {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res.Stats)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MODEL\tTENSORS\tWEIGHTS\tL2 NORM\tRMS\tMAX |W|")
	for _, st := range res.Stats {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.4g\t%.4g\t%.4g\n", st.Model, st.Tensors, st.Params, st.L2, st.RMS, st.MaxAbs)
	}
	tw.Flush()
	fmt.Fprintf(w, "picture: %s (range %.4g to %.4g; %d weights outside it not drawn)\n", opts.out, res.Lo, res.Hi, res.Outside)
	return nil
}
