package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lsweep/lsweep/internal/progress"
	"github.com/lsweep/lsweep/landscape"
	"github.com/lsweep/lsweep/loss"
	"github.com/lsweep/lsweep/normalize"
	"github.com/lsweep/lsweep/sweep"
)

// directionOptions are the flags that choose the directions of a landscape.
type directionOptions struct {
	seed       uint64
	norm       string
	ignore     string
	dirType    string
	orthogonal bool
	model2     string
	model3     string
	directions string
}

func (o *directionOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.Uint64Var(&o.seed, "seed", 0, "seed of the random directions")
	f.StringVar(&o.norm, "norm", "filter", "normalisation of random directions: filter, layer, weight or none")
	f.StringVar(&o.ignore, "ignore", "biasbn", "biasbn leaves biases and BatchNorm parameters still; none moves them along d = th")
	f.StringVar(&o.dirType, "dir-type", "weights", "weights moves trained tensors; states also moves BatchNorm running statistics (default with --model2)")
	f.BoolVar(&o.orthogonal, "orthogonal", false, "make the y direction orthogonal to the x direction")
	f.StringVar(&o.model2, "model2", "", "interpolate: the x direction is MODEL2 - MODEL (default x range -0.5:1.5)")
	f.StringVar(&o.model3, "model3", "", "with --model2: the y direction is MODEL3 - MODEL (the plane through three models)")
	f.StringVar(&o.directions, "directions", "", "reuse the directions saved in this .npz file (directions.npz of an earlier run)")
}

// config turns the flags into a landscape configuration.
func (o *directionOptions) config(cmd *cobra.Command, modelPath, dataPath string, ro runtimeOptions, do dataOptions, twoD bool) (landscape.Config, error) {
	cfg := landscape.Config{
		Model: modelPath, Data: dataPath, TwoD: twoD,
		DirectionsFile: o.directions, Model2: o.model2, Model3: o.model3, Seed: o.seed,
	}
	var err error
	if cfg.Normalize.Norm, err = normalize.ParseNorm(o.norm); err != nil {
		return cfg, err
	}
	if cfg.Normalize.Ignore, err = normalize.ParseIgnore(o.ignore); err != nil {
		return cfg, err
	}
	dirType := o.dirType
	if o.model2 != "" && !cmd.Flags().Changed("dir-type") {
		dirType = "states" // interpolation must move the BatchNorm statistics with the weights
	}
	if cfg.Normalize.DirType, err = normalize.ParseDirType(dirType); err != nil {
		return cfg, err
	}
	cfg.Normalize.Orthogonalize = o.orthogonal
	if o.model3 != "" && o.model2 == "" {
		return cfg, errors.New("--model3 needs --model2")
	}
	if o.directions != "" && o.model2 != "" {
		return cfg, errors.New("--directions and --model2 both choose the x direction; give one")
	}
	cfg.Dataset = do.datasetOptions()
	if do.batchSize <= 0 {
		return cfg, fmt.Errorf("--batch-size must be positive, got %d", do.batchSize)
	}
	cfg.Engine = ro.engineOptions()
	cfg.Engine.BatchSize, cfg.Engine.Output, cfg.Engine.Sequence = do.batchSize, do.output, do.sequence()
	if do.lossName != "" {
		if cfg.Engine.Head, err = loss.ParseHead(do.lossName); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

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
	plot        plotOptions
	hessian     bool
	hess        landscape.HessianOptions
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
	f.StringVar(&opts.x, "x", "-1:1:51", "x axis MIN:MAX:N (default -0.5:1.5:51 with --model2)")
	f.StringVar(&opts.y, "y", "", "y axis MIN:MAX:N: makes a 2-D surface")
	f.StringVar(&opts.out, "out", "", "output folder (default: the model's name with .landscape)")
	f.BoolVar(&opts.force, "force", false, "discard the results in the output folder and start over")
	f.StringVar(&opts.shard, "shard", "", "compute share I of N of the points (0-based I/N); default: from an MPI, Slurm or Kubernetes launcher, else all")
	f.IntVar(&opts.completions, "completions", 0, "number of completions of a Kubernetes Indexed Job (with JOB_COMPLETION_INDEX); default $LSWEEP_COMPLETIONS")
	f.BoolVar(&opts.quiet, "quiet", false, "print no progress")
	f.BoolVar(&opts.noPlot, "no-plot", false, "do not draw the pictures and report.html at the end (lsweep plot draws them later)")
	opts.plot.AddFlags(f)
	opts.addHessianFlags(f, hessian)
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

// grid parses the axis flags.
func (o *runOptions) grid(cmd *cobra.Command) (sweep.Grid, error) {
	x := o.x
	if o.dirs.model2 != "" && !cmd.Flags().Changed("x") {
		x = "-0.5:1.5:51"
	}
	var g sweep.Grid
	var err error
	if g.X, err = sweep.ParseAxis(x); err != nil {
		return g, fmt.Errorf("--x: %w", err)
	}
	if o.y != "" {
		if g.Y, err = sweep.ParseAxis(o.y); err != nil {
			return g, fmt.Errorf("--y: %w", err)
		}
	} else if o.dirs.model3 != "" {
		return g, errors.New("--model3 makes a plane: give its y axis with --y")
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

func defaultOut(model string) string {
	base := filepath.Base(model)
	return strings.TrimSuffix(base, filepath.Ext(base)) + ".landscape"
}

func runRun(cmd *cobra.Command, opts runOptions, modelPath, dataPath string) error {
	ctx := cmd.Context()
	stderr := cmd.ErrOrStderr()
	start := time.Now()
	g, err := opts.grid(cmd)
	if err != nil {
		return err
	}
	if err := opts.plot.check(); err != nil {
		return err
	}
	shard, err := opts.shardOf(stderr)
	if err != nil {
		return err
	}
	cfg, err := opts.dirs.config(cmd, modelPath, dataPath, opts.runtime, opts.data, g.Is2D())
	if err != nil {
		return err
	}
	out := opts.out
	if out == "" {
		out = defaultOut(modelPath)
	}
	l, err := landscape.Open(cfg)
	if err != nil {
		return err
	}
	defer l.Close()
	for _, n := range l.Engine().Notes() {
		fmt.Fprintln(stderr, "lsweep: note:", n)
	}
	var ev sweep.Evaluator = l
	identity, channels := l.Identity(), landscape.Channels
	if opts.hessian {
		wh := landscape.WithHessian{L: l, Opts: opts.hess}
		ev, identity, channels = wh, wh.Identity(), landscape.HessianChannels
	}
	_, statErr := os.Stat(filepath.Join(out, sweep.ManifestName))
	fresh := errors.Is(statErr, fs.ErrNotExist)
	store, err := sweep.Open(out, sweep.Manifest{Identity: identity, Info: l.Info(), Grid: g, Channels: channels}, shard, opts.force)
	if err != nil {
		return err
	}
	failed := true
	defer func() {
		store.Close()
		// A run that fails before it computes anything leaves no files
		// behind in a folder it started.
		if failed && fresh && store.Count() == 0 && ctx.Err() == nil {
			if err := sweep.RemoveRun(out); err == nil {
				os.Remove(filepath.Join(out, "directions.npz"))
				os.Remove(out) // only if empty
			}
		}
	}()
	if err := l.SaveDirections(filepath.Join(out, "directions.npz")); err != nil {
		return err
	}
	points := shard.Take(sweep.CoarseToFine(g))
	rep := progress.New(stderr, "points")
	rep.Quiet = opts.quiet
	err = sweep.Run(ctx, store, g, points, ev, rep)
	failed = err != nil
	if ctx.Err() != nil {
		fmt.Fprintf(stderr, "lsweep: interrupted: %d of %d points saved in %s; run the same command again to resume\n", store.Count(), len(points), store.Path())
		return fmt.Errorf("%w: %w", errReported, context.Canceled)
	}
	if err != nil {
		return err
	}
	var pictures []string
	if !opts.noPlot && shard.Count == 1 {
		d, err := drawRun(out, nil, opts.plot)
		if err != nil {
			return err
		}
		pictures = d.files
	}
	if opts.quiet {
		return nil
	}
	return printSummary(cmd.OutOrStdout(), out, store.Path(), shard, time.Since(start), pictures)
}

// printSummary says where the minimum is, the loss at the centre, and where
// the results are.
func printSummary(w io.Writer, out, path string, shard sweep.Shard, took time.Duration, pictures []string) error {
	s, err := sweep.ReadSurface(path)
	if err != nil {
		return err
	}
	i, v := s.Min("loss")
	if i >= 0 {
		x, y := s.Grid.Coord(i)
		if s.Grid.Is2D() {
			fmt.Fprintf(w, "minimum loss  %.6g at (%.4g, %.4g)\n", v, x, y)
		} else {
			fmt.Fprintf(w, "minimum loss  %.6g at %.4g\n", v, x)
		}
	}
	if c := centre(s); c >= 0 {
		fmt.Fprintf(w, "centre loss   %.6g (acc %.4f)\n", s.Values["loss"][c], s.Values["acc"][c])
	}
	fmt.Fprintf(w, "time          %s\n", took.Round(time.Millisecond))
	fmt.Fprintf(w, "surface       %s\n", path)
	fmt.Fprintf(w, "directions    %s\n", filepath.Join(out, "directions.npz"))
	if len(pictures) > 0 {
		fmt.Fprintf(w, "pictures      %s\n", strings.Join(pictures, " "))
	}
	if shard.Count > 1 {
		fmt.Fprintf(w, "shard %d/%d done; when every shard is, run: lsweep merge %s\n", shard.Index, shard.Count, out)
	}
	return nil
}

// centre returns the computed point at (0, 0), or -1.
func centre(s *sweep.Surface) int {
	for i := 0; i < s.Grid.Len(); i++ {
		if x, y := s.Grid.Coord(i); x == 0 && y == 0 && s.Mask[i] {
			return i
		}
	}
	return -1
}

const hessianLong = `Compute the paper's convexity map: at every point th + a*x + b*y of a grid
(the grid, directions and output folder exactly as "lsweep run"), the loss and
accuracy and the smallest and largest eigenvalues of the Hessian of the loss
with respect to the perturbed weights, and |lambda_min/lambda_max|. Where
positive curvature dominates the ratio is small; chaotic regions of a landscape
have large ratios. surface.npz gains lambda_min, lambda_max and ratio; the
pictures gain convexity.png (|lambda_min/lambda_max|, 0 to 0.5 like the
reference) and ratio_signed.png (lambda_min/lambda_max).

The eigenvalues come from Lanczos iterations with full reorthogonalisation on
exact Hessian-vector products: lsweep builds, from the ONNX model, a graph that
computes the gradient and its forward-mode derivative along a direction, and
ONNX Runtime runs it (the Hessian PyTorch's double backward gives: ReLU'' = 0,
max pooling through its argmax). --hvp fd uses central differences of two
gradients instead, for a model with an op that has no second-order rule; across
ReLU kinks they measure a smoothed curvature. Each point costs a few tens of
products: --hessian-samples computes them on a subset of the data.

Every point checks itself: along the first Lanczos vector v, the exact slope
g.v and curvature v.Hv are compared with central differences of losses. On a
model without kinks a disagreement beyond float32 noise stops the run with an
error; across kinks (ReLU, max pooling) the differences measure something else
and the disagreement is only reported. --at A[,B] computes one point and
prints it with its check (--json: lambda_min, lambda_max, ratio, hvps,
converged, seconds, check).`

// runHessianAt computes and prints the eigenvalues at one point.
func runHessianAt(cmd *cobra.Command, opts runOptions, modelPath, dataPath string) error {
	l, at, err := openAt(cmd, opts.at, &opts.dirs, modelPath, dataPath, opts.runtime, opts.data)
	if err != nil {
		return err
	}
	defer l.Close()
	e, err := l.Hessian(cmd.Context(), at[0], append(at, 0)[1], opts.hess)
	if err != nil {
		return err
	}
	out := struct {
		At        []float64        `json:"at"`
		LambdaMin float64          `json:"lambda_min"`
		LambdaMax float64          `json:"lambda_max"`
		Ratio     *float64         `json:"ratio"`
		HVPs      int              `json:"hvps"`
		Converged bool             `json:"converged"`
		Seconds   float64          `json:"seconds"`
		HVP       string           `json:"hvp"`
		Check     *landscape.Check `json:"check,omitempty"`
	}{At: at, LambdaMin: e.Min, LambdaMax: e.Max, HVPs: e.Products, Converged: e.Converged, Seconds: e.Seconds, HVP: cmp.Or(opts.hess.HVP, landscape.HVPExact), Check: e.Check}
	if r := e.Ratio(); !math.IsNaN(r) && !math.IsInf(r, 0) {
		out.Ratio = &r
	}
	w := cmd.OutOrStdout()
	if opts.json {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	fmt.Fprintf(w, "lambda_min  %.6g\n", out.LambdaMin)
	fmt.Fprintf(w, "lambda_max  %.6g\n", out.LambdaMax)
	if out.Ratio != nil {
		fmt.Fprintf(w, "ratio       %.4g (|lambda_min/lambda_max|)\n", *out.Ratio)
	}
	fmt.Fprintf(w, "hvps        %d (converged: %v)\n", out.HVPs, out.Converged)
	fmt.Fprintf(w, "seconds     %.2f\n", out.Seconds)
	if e.Check != nil {
		fmt.Fprintf(w, "check       %v\n", e.Check)
	}
	return nil
}
