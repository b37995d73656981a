package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lsweep/lsweep/flatness"
	"github.com/lsweep/lsweep/internal/atomicfile"
	"github.com/lsweep/lsweep/internal/progress"
	"github.com/lsweep/lsweep/landscape"
	"github.com/lsweep/lsweep/normalize"
	"github.com/lsweep/lsweep/pipeline"
)

func newCompareCommand() *cobra.Command {
	var opts compareOptions
	cmd := &cobra.Command{
		Use:   "compare BASE CANDIDATE DATA",
		Short: "Check that a model is not meaningfully sharper than a previous version (for CI)",
		Long: `Compare the flatness of the loss landscapes of two models, BASE (the previous
version) and CANDIDATE, on the same DATA, and fail when the candidate is
meaningfully sharper.

Both models are measured the same way with the same random seeds, so that the
noise of the random directions cancels: along --directions random directions
(filter-normalised as in Li et al. 2018; --norm), the mean loss over DATA is
evaluated at --points points over [-r, r] (--radius). From these 1-D slices
come, per model:
  centre_loss     the loss at the model's weights (reported, not checked)
  mean_increase   loss increase at distance r, both ends averaged, mean over directions
  worst_increase  the largest loss increase at distance r over directions and ends
  rise_radius     distance at which the loss first rises by --rise (smaller is sharper)
  curvature       second derivative at the centre along each direction, mean over directions
  lambda_max      largest Hessian eigenvalue, with --hessian (Lanczos on
                  exact Hessian-vector products, --hvp; unavailable for
                  models with ops that have no derivative rule)
each with its spread (standard deviation) across directions.

Verdict: a difference within the noise band (--noise times the spread across
directions of the paired differences, candidate minus base along the same
direction) is no difference, whatever its sign. A metric beyond the band is
sharper or flatter; the check fails when a checked metric is sharper by more
than its threshold: --max-increase percent of the base value for every
flatness metric, or --threshold NAME=PCT for one (NAME=off to report it only;
centre_loss=PCT checks the centre loss too).

The models need not share tensors: models of different architectures are
compared by their metrics, and the report says so. Models that take different
inputs or predict different label sets are refused (exit status 2).

Output: a table (or one JSON object with --json) on standard output;
--markdown FILE writes a report for a CI job summary, with --plot the
overlaid slices as a PNG next to it (FILE without .md, plus .curves.png),
linked relatively.

JSON fields (--json): version, verdict ("pass" or "fail"), finding ("same",
"sharper", "flatter", "mixed"), summary, partial, base and candidate (path,
label, sha256, head, output, ops, tensors, values, centre_loss,
centre_accuracy), data (path, sha256, samples), same_architecture,
same_draws, settings (directions, points, radius, rise, seed, norm, ignore,
dir_type, noise, thresholds, hessian), metrics (name, title, description,
worse_when, flatness, available, reason, base and candidate (value, spread,
per_direction, censored), difference, change_pct, worsening_pct, noise,
threshold_pct, status ("same", "worse", "better", "unavailable"), pass),
slices (x, base and candidate: loss and accuracy, one row per direction),
notes, seconds. Numbers that are not finite are null.` + `

EXIT STATUS
  0    pass: no checked metric is sharper beyond its noise band and threshold
  1    fail: the candidate is sharper (the reason is printed on standard error)
  2    bad input (a missing or malformed file, models that take different
       inputs or predict different label sets, a bad flag) or a failure
  130  interrupted (SIGINT or SIGTERM)`,
		Args: cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCompare(cmd, opts, args[0], args[1], args[2])
		},
	}
	opts.runtime.AddFlags(cmd)
	opts.data.AddFlags(cmd)
	f := cmd.Flags()
	f.IntVar(&opts.directions, "directions", flatness.DefaultDirections, "random directions per model")
	f.IntVar(&opts.points, "points", flatness.DefaultPoints, "points per slice, odd, the centre included")
	f.Float64Var(&opts.radius, "radius", flatness.DefaultRadius, "slices span [-r, r] along each (normalised) direction")
	f.Float64Var(&opts.rise, "rise", flatness.DefaultRise, "loss increase whose distance from the centre rise_radius measures")
	f.Uint64Var(&opts.seed, "seed", 0, "seed of the random directions (direction k uses stream k; 0 and 1 are lsweep run's x and y)")
	def := normalize.Options{}.WithDefaults()
	f.StringVar(&opts.norm, "norm", "", "normalisation of the directions: filter, layer, weight or none (default "+string(def.Norm)+")")
	f.StringVar(&opts.ignore, "ignore", "", "biasbn leaves biases and BatchNorm/LayerNorm parameters still; none moves them along d = th (default "+string(def.Ignore)+")")
	addIncludeFlag(cmd, &opts.include)
	f.StringVar(&opts.dirType, "dir-type", "", "weights moves trained tensors; states also moves BatchNorm running statistics (default "+string(def.DirType)+")")
	f.Float64Var(&opts.maxIncrease, "max-increase", flatness.DefaultMaxIncrease, "largest sharpening, in percent of the base value, that passes, for every flatness metric")
	f.StringArrayVar(&opts.thresholds, "threshold", nil, "NAME=PCT: the threshold of one metric (repeatable; NAME=off reports it without checking it)")
	f.Float64Var(&opts.noise, "noise", flatness.DefaultNoise, "width of the noise band, in spreads across directions of the paired differences")
	f.BoolVar(&opts.hessian, "hessian", false, "also estimate lambda_max, the Hessian's largest eigenvalue")
	f.IntVar(&opts.hessianSamples, "hessian-samples", 0, "with --hessian: gradients over a deterministic subset of this many samples (0: all)")
	f.StringVar(&opts.hvp, "hvp", landscape.HVPExact, "with --hessian: Hessian-vector products, exact (forward-mode over the gradient graph) or fd (central differences of gradients: a smoothed curvature across ReLU kinks)")
	f.BoolVar(&opts.json, "json", false, "print one JSON object instead of the table")
	f.StringVar(&opts.markdown, "markdown", "", "write a Markdown report to this file (for a CI job summary)")
	f.BoolVar(&opts.plot, "plot", false, "with --markdown: draw the overlaid slices into a PNG next to it")
	f.BoolVar(&opts.quiet, "quiet", false, "print no progress")
	f.StringVar(&opts.baseLabel, "base-label", "", "name of BASE in the report (default: its file name)")
	f.StringVar(&opts.candidateLabel, "candidate-label", "", "name of CANDIDATE in the report (default: its file name)")
	return cmd
}

// plotPath returns the file the picture goes to: next to the Markdown file.
func plotPath(markdown string) string {
	ext := filepath.Ext(markdown)
	stem := markdown
	if slices.Contains([]string{".md", ".markdown"}, strings.ToLower(ext)) {
		stem = strings.TrimSuffix(markdown, ext)
	}
	return stem + ".curves.png"
}

func runCompare(cmd *cobra.Command, opts compareOptions, basePath, candidatePath, dataPath string) error {
	ctx := cmd.Context()
	co, err := opts.options()
	if err != nil {
		return err
	}
	if opts.plot && opts.markdown == "" {
		return errors.New("--plot draws the curves next to the --markdown report: give --markdown FILE too")
	}
	if opts.markdown != "" {
		if st, err := os.Stat(filepath.Dir(opts.markdown)); err != nil || !st.IsDir() {
			return fmt.Errorf("--markdown %s: folder %s does not exist", opts.markdown, filepath.Dir(opts.markdown))
		}
	}
	rep := progress.New(cmd.ErrOrStderr(), "lsweep compare")
	rep.Quiet = opts.quiet
	co.Progress = rep
	r, err := pipeline.Compare(ctx, flatness.Model{Path: basePath, Label: opts.baseLabel},
		flatness.Model{Path: candidatePath, Label: opts.candidateLabel}, dataPath, co)
	if ctx.Err() != nil {
		return context.Canceled
	}
	if err != nil {
		return err
	}
	if opts.markdown != "" {
		image := ""
		if opts.plot {
			png := plotPath(opts.markdown)
			if err := r.SavePlot(png); err != nil {
				return err
			}
			image = filepath.Base(png)
		}
		var buf bytes.Buffer
		if err := r.WriteMarkdown(&buf, image); err != nil {
			return err
		}
		if err := atomicfile.WriteFile(opts.markdown, buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	w := cmd.OutOrStdout()
	if opts.json {
		err = r.WriteJSON(w)
	} else {
		err = r.WriteText(w)
	}
	if err != nil {
		return err
	}
	if r.Verdict == flatness.Fail {
		return fmt.Errorf("%w: %s", errCheckFailed, r.Summary)
	}
	return nil
}
