package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lsweep/lsweep/internal/progress"
	"github.com/lsweep/lsweep/landscape"
	"github.com/lsweep/lsweep/pipeline"
	"github.com/lsweep/lsweep/sweep"
)

type runOptions struct {
	runtime     runtimeOptions
	data        dataOptions
	dirs        directionOptions
	x, y        string
	out         string
	force       bool
	shard       string
	completions int
	quiet       bool
	noPlot      bool
	plot        plotFlags
	hessian     bool
	hess        landscape.HessianOptions
	tol         toleranceFlags
	at          string // lsweep hessian --at
	json        bool
}

func (o *runOptions) addHessianFlags(f flagSet, always bool) {
	if !always {
		f.BoolVar(&o.hessian, "hessian", false, "also compute the Hessian's extreme eigenvalues at every point: the convexity map |lambda_min/lambda_max|")
	}
	f.IntVar(&o.hess.Samples, "hessian-samples", 0, "gradients over a deterministic subset of this many samples (0: all)")
	f.Float64Var(&o.hess.Tol, "hessian-tol", 0, "Lanczos relative tolerance (0: the default, 1e-3)")
	f.IntVar(&o.hess.MaxIter, "hessian-max-iter", 0, "Hessian-vector products at most per point (0: the default)")
	f.StringVar(&o.hess.HVP, "hvp", landscape.HVPExact, "Hessian-vector products: exact (forward-mode over the gradient graph, the Hessian autograd gives) or fd (central differences of float32 gradients: a smoothed curvature across ReLU kinks, for models with an op that has no second-order rule)")
}

func newRunCommand() *cobra.Command {
	return newSweepCommand(false)
}

// newSweepCommand makes lsweep run, or, with hessian set, lsweep hessian:
// the same sweep with the Hessian's extreme eigenvalues at every point.
func newSweepCommand(hessian bool) *cobra.Command {
	var opts runOptions
	opts.hessian = hessian
	cmd := &cobra.Command{
		Use:   "run MODEL DATA",
		Short: "Compute a loss landscape: a 1-D curve or a 2-D surface around a model",
		Long: `Compute the loss (and accuracy) of MODEL on DATA at th + a*x + b*y for every
point (a, b) of a grid, where th are the model's weights and x, y are
directions in weight space: random and filter-normalised by default (Li et al.,
"Visualizing the Loss Landscape of Neural Nets"), MODEL2 - MODEL with --model2,
or read from a file with --directions.

--x MIN:MAX:N gives the x axis (default -1:1:51); --y MIN:MAX:N adds a y axis
(a 2-D surface). Results go to the output folder (--out):
  surface.npz     xcoordinates, ycoordinates, loss and acc shaped [ny, nx]
                  (rows are y, columns are x; [nx] for 1-D) and mask (true
                  where computed); numpy.load reads it
  manifest.json   every option, the sha256 of each input, library versions
  directions.npz  the directions: x/<tensor> and y/<tensor>
Points are computed coarse-to-fine, so a partial surface already shows the
whole picture, and saved every few seconds. Running the same command again
resumes and computes only what is missing; a run whose options differ from
the folder's manifest is refused (--force starts over). SIGINT or SIGTERM
saves and exits with status 130.

Several machines: --shard I/N computes a share of the points into its own file
in the output folder, and "lsweep merge OUT" combines the shares. Under Open
MPI (mpirun), MPICH, Slurm (srun, job arrays) or a Kubernetes Indexed Job
(with --completions) the shard is taken from the environment.` + "\n" + exitStatusHelp,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRun(cmd, opts, args[0], args[1])
		},
	}
	opts.runtime.AddFlags(cmd)
	opts.data.AddFlags(cmd)
	opts.dirs.AddFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&opts.x, "x", "", "x axis MIN:MAX:N (default "+pipeline.DefaultAxis.String()+"; "+pipeline.InterpolationAxis.String()+" with --model2)")
	f.StringVar(&opts.y, "y", "", "y axis MIN:MAX:N: makes a 2-D surface")
	f.StringVar(&opts.out, "out", "", "output folder (default: the model's name with .landscape)")
	f.BoolVar(&opts.force, "force", false, "discard the results in the output folder and start over")
	f.StringVar(&opts.shard, "shard", "", "compute share I of N of the points (0-based I/N); default: from an MPI, Slurm or Kubernetes launcher, else all")
	f.IntVar(&opts.completions, "completions", 0, "number of completions of a Kubernetes Indexed Job (with JOB_COMPLETION_INDEX); default $LSWEEP_COMPLETIONS")
	f.BoolVar(&opts.quiet, "quiet", false, "print no progress")
	f.BoolVar(&opts.noPlot, "no-plot", false, "do not draw the pictures and report.html at the end (lsweep plot draws them later)")
	opts.plot.AddFlags(f)
	opts.addHessianFlags(f, hessian)
	opts.tol.AddFlags(f)
	if hessian {
		cmd.Use = "hessian MODEL DATA"
		cmd.Short = "Convexity maps: the Hessian's extreme eigenvalues over a grid, or at one point"
		cmd.Long = hessianLong + "\n" + exitStatusHelp
		f.StringVar(&opts.at, "at", "", "compute one point A or A,B and print its eigenvalues instead of sweeping a grid")
		f.BoolVar(&opts.json, "json", false, "with --at: print one JSON object (lambda_min, lambda_max, ratio, hvps, seconds)")
		cmd.RunE = func(cmd *cobra.Command, args []string) error {
			if opts.at != "" {
				return runHessianAt(cmd, opts, args[0], args[1])
			}
			return runRun(cmd, opts, args[0], args[1])
		}
	}
	return cmd
}

// grid parses the axis flags; an empty --x leaves the x axis to the
// pipeline's default.
func (o *runOptions) grid() (sweep.Grid, error) {
	var g sweep.Grid
	var err error
	if o.x != "" {
		if g.X, err = sweep.ParseAxis(o.x); err != nil {
			return g, fmt.Errorf("--x: %w", err)
		}
	}
	if o.y != "" {
		if g.Y, err = sweep.ParseAxis(o.y); err != nil {
			return g, fmt.Errorf("--y: %w", err)
		}
	}
	return g, nil
}

// shard returns the share of the points this process computes.
func (o *runOptions) shardOf(stderr io.Writer) (sweep.Shard, error) {
	if o.shard != "" {
		s, err := sweep.ParseShard(o.shard)
		if err != nil {
			return s, fmt.Errorf("--shard: %w", err)
		}
		return s, nil
	}
	completions := o.completions
	if completions == 0 {
		if env := os.Getenv("LSWEEP_COMPLETIONS"); env != "" {
			n, err := strconv.Atoi(env)
			if err != nil || n < 1 {
				return sweep.Shard{}, fmt.Errorf("LSWEEP_COMPLETIONS=%q: want a positive number of completions", env)
			}
			completions = n
		}
	}
	s, source, ok, err := sweep.ShardFromEnv(os.Getenv, completions)
	if err != nil {
		return s, fmt.Errorf("%w (--completions or LSWEEP_COMPLETIONS)", err)
	}
	if !ok {
		return sweep.Shard{Index: 0, Count: 1}, nil
	}
	fmt.Fprintf(stderr, "lsweep: shard %d/%d from %s\n", s.Index, s.Count, source)
	return s, nil
}

func runRun(cmd *cobra.Command, opts runOptions, modelPath, dataPath string) error {
	ctx := cmd.Context()
	stderr := cmd.ErrOrStderr()
	start := time.Now()
	cfg, err := opts.config(modelPath, dataPath)
	if err != nil {
		return err
	}
	if err := opts.tol.apply(&cfg, cmd.Flags().Changed); err != nil {
		return err
	}
	if cfg.Shard, err = opts.shardOf(stderr); err != nil {
		return err
	}
	rep := progress.New(stderr, "points")
	rep.Quiet = opts.quiet
	cfg.Progress = rep
	cfg.Notes = func(n string) { fmt.Fprintln(stderr, "lsweep: note:", n) }
	res, err := pipeline.Run(ctx, cfg)
	if ctx.Err() != nil && res != nil {
		fmt.Fprintf(stderr, "lsweep: interrupted: %d of %d points saved in %s; run the same command again to resume\n", res.Computed, res.Total, res.Surface)
		return fmt.Errorf("%w: %w", errReported, context.Canceled)
	}
	if err != nil || opts.quiet {
		return err
	}
	return printSummary(cmd.OutOrStdout(), res, time.Since(start))
}

// config turns the flags into a run's configuration: parsing only, the
// defaults are the pipeline's.
func (o *runOptions) config(modelPath, dataPath string) (pipeline.Config, error) {
	cfg := pipeline.Config{Out: o.out, Force: o.force, NoPlot: o.noPlot}
	var err error
	if cfg.Grid, err = o.grid(); err != nil {
		return cfg, err
	}
	if cfg.Plot, err = o.plot.options(); err != nil {
		return cfg, err
	}
	if cfg.Landscape, err = o.dirs.config(modelPath, dataPath, o.runtime, o.data, cfg.Grid.Is2D()); err != nil {
		return cfg, err
	}
	if o.hessian {
		h := o.hess
		cfg.Hessian = &h
	}
	return cfg, nil
}

// printSummary says where the minimum is, the loss at the centre, and where
// the results are.
func printSummary(w io.Writer, res *pipeline.Result, took time.Duration) error {
	s, err := sweep.ReadSurface(res.Surface)
	if err != nil {
		return err
	}
	sum := pipeline.Summarize(s)
	if sum.MinIndex >= 0 {
		if s.Grid.Is2D() {
			fmt.Fprintf(w, "minimum loss  %.6g at (%.4g, %.4g)\n", sum.MinLoss, sum.MinX, sum.MinY)
		} else {
			fmt.Fprintf(w, "minimum loss  %.6g at %.4g\n", sum.MinLoss, sum.MinX)
		}
	}
	if sum.CentreIndex >= 0 {
		fmt.Fprintf(w, "centre loss   %.6g (acc %.4f)\n", sum.CentreLoss, sum.CentreAcc)
	}
	fmt.Fprintf(w, "time          %s\n", took.Round(time.Millisecond))
	fmt.Fprintf(w, "surface       %s\n", res.Surface)
	fmt.Fprintf(w, "directions    %s\n", res.Directions)
	printTolerance(w, res, 14)
	if len(res.Files) > 0 {
		fmt.Fprintf(w, "pictures      %s\n", strings.Join(res.Files, " "))
	}
	if res.Shard.Count > 1 {
		fmt.Fprintf(w, "shard %d/%d done; when every shard is, run: lsweep merge %s\n", res.Shard.Index, res.Shard.Count, res.Out)
	}
	return nil
}
