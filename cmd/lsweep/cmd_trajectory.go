package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/lsweep/lsweep/internal/progress"
	"github.com/lsweep/lsweep/pipeline"
)

type trajectoryOptions struct {
	runtime   runtimeOptions
	data      dataOptions
	x, y      string
	points    int
	out       string
	force     bool
	noSurface bool
	noPlot    bool
	quiet     bool
	json      bool
	tolerance toleranceFlags
	plot      plotFlags
}

func newTrajectoryCommand() *cobra.Command {
	var opts trajectoryOptions
	cmd := &cobra.Command{
		Use:   "trajectory FINAL DATA CHECKPOINT...",
		Short: "Draw a training run's path on the plane of its checkpoints' two principal components",
		Long: `Project the checkpoints of a training run (in training order; FINAL may be
among them) onto the plane of the two principal components of their
differences from FINAL, w_ckpt - w_final over the weights (biases and
normalisation parameters left out, as --ignore biasbn does), as the paper's
trajectory plots do: PCA as scikit-learn computes it (centred), each
checkpoint's coordinates by the cosine projection dot(d, v)/|v|.

The output folder (--out, default FINAL's name with .trajectory) holds:
  trajectory.json  explained_variance_ratio, coordinates [[x, y], ...] in the
                   order given, checkpoints, singular_values, tensors
  directions.npz   the two components (lsweep run --directions reads them)
and, unless --no-surface, the loss surface of FINAL on DATA over that plane
(a grid covering the path with a margin, or --x and --y), as lsweep run
writes it (--tolerance estimates it as lsweep run does), drawn with the path
on top; with --no-surface, the path alone in
path.png. Checkpoints whose tensors differ from
FINAL's are refused with the tensors named.` + "\n" + exitStatusHelp,
		Args: cobra.MinimumNArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTrajectory(cmd, opts, args[0], args[1], args[2:])
		},
	}
	opts.runtime.AddFlags(cmd)
	opts.data.AddFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&opts.x, "x", "", "x axis MIN:MAX:N of the surface (default: covering the path, with --y)")
	f.StringVar(&opts.y, "y", "", "y axis MIN:MAX:N of the surface (with --x)")
	f.IntVar(&opts.points, "points", pipeline.DefaultTrajectoryPoints, "about this many points on each automatic axis")
	f.StringVar(&opts.out, "out", "", "output folder (default: FINAL's name with .trajectory)")
	f.BoolVar(&opts.force, "force", false, "discard the surface in the output folder and start over")
	f.BoolVar(&opts.noSurface, "no-surface", false, "write the path, its picture and the directions only")
	f.BoolVar(&opts.noPlot, "no-plot", false, "do not draw the pictures and report.html")
	f.BoolVar(&opts.quiet, "quiet", false, "print no progress")
	f.BoolVar(&opts.json, "json", false, "print trajectory.json's content")
	opts.tolerance.AddFlags(f)
	opts.plot.AddFlags(f)
	return cmd
}

func runTrajectory(cmd *cobra.Command, opts trajectoryOptions, final, data string, ckpts []string) error {
	ctx := cmd.Context()
	stderr := cmd.ErrOrStderr()
	cfg := pipeline.TrajectoryConfig{
		Final: final, Data: data, Checkpoints: ckpts, Points: opts.points,
		Out: opts.out, Force: opts.force, NoSurface: opts.noSurface, NoPlot: opts.noPlot,
	}
	ro := runOptions{x: opts.x, y: opts.y}
	var err error
	if cfg.Grid, err = ro.grid(); err != nil {
		return err
	}
	if cfg.Plot, err = opts.plot.options(); err != nil {
		return err
	}
	if cfg.Engine, err = engineOptions(opts.runtime, opts.data); err != nil {
		return err
	}
	cfg.Dataset = opts.data.datasetOptions()
	var est pipeline.Config
	if err := opts.tolerance.apply(&est, cmd.Flags().Changed); err != nil {
		return err
	}
	if est.Tolerance != nil && opts.noSurface {
		return errors.New("--tolerance estimates the surface: drop --no-surface")
	}
	cfg.Tolerance, cfg.Verify = est.Tolerance, est.Verify
	rep := progress.New(stderr, "points")
	rep.Quiet = opts.quiet
	cfg.Progress = rep
	cfg.Notes = func(n string) { fmt.Fprintln(stderr, "lsweep: note:", n) }
	res, err := pipeline.Trajectory(ctx, cfg)
	if ctx.Err() != nil && res != nil && res.Surface != nil {
		fmt.Fprintf(stderr, "lsweep: interrupted: %d of %d points saved in %s; run the same command again to resume\n", res.Surface.Computed, res.Surface.Total, res.Surface.Surface)
		return fmt.Errorf("%w: %w", errReported, context.Canceled)
	}
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	if opts.json {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res.Trajectory)
	}
	return printTrajectory(w, res)
}

func printTrajectory(w io.Writer, res *pipeline.TrajectoryResult) error {
	t := res.Trajectory
	fmt.Fprintf(w, "explained variance  %.4f %%, %.4f %%\n", 100*t.ExplainedVarianceRatio[0], 100*t.ExplainedVarianceRatio[1])
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECKPOINT\tX\tY")
	for i, c := range t.Checkpoints {
		fmt.Fprintf(tw, "%s\t%.6g\t%.6g\n", c, t.Coordinates[i][0], t.Coordinates[i][1])
	}
	tw.Flush()
	fmt.Fprintf(w, "trajectory          %s/%s\n", res.Out, pipeline.TrajectoryName)
	fmt.Fprintf(w, "directions          %s\n", res.Directions)
	if res.Surface != nil {
		fmt.Fprintf(w, "surface             %s\n", res.Surface.Surface)
		printTolerance(w, res.Surface, 20)
	}
	if len(res.Files) > 0 {
		fmt.Fprintf(w, "pictures            %s\n", strings.Join(res.Files, " "))
	}
	return nil
}
