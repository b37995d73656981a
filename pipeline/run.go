package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/lsweep/lsweep/landscape"
	"github.com/lsweep/lsweep/sweep"
)

// Default x axes: around the model, and from a little before the model to
// a little past Model2 when interpolating. Each has a point at every model:
// 0 (and 1 when interpolating; a step of 0.05, where 51 points would step
// 0.04 and miss both models by 0.02).
var (
	DefaultAxis       = sweep.Axis{Min: -1, Max: 1, N: 51}
	InterpolationAxis = sweep.Axis{Min: -0.5, Max: 1.5, N: 41}
)

// DirectionsName is the file of an output folder holding the directions.
const DirectionsName = "directions.npz"

// Config is one run. The zero value of each optional field means its
// default; Run applies them, and nothing else does.
type Config struct {
	// Landscape is the model, the data, the evaluation and the directions.
	// Its TwoD is set from Grid.
	Landscape landscape.Config
	// Grid is the grid of points; a zero X is DefaultAxis, or
	// InterpolationAxis with Landscape.Model2. A Y axis makes a surface.
	Grid sweep.Grid
	// Out is the output folder; "" is DefaultOut(Landscape.Model).
	Out string
	// Force discards the results in Out and starts over; otherwise a run
	// resumes what Out holds, and a run of other settings is refused.
	Force bool
	// Shard is this process's share of the points; the zero value is all.
	Shard sweep.Shard
	// Hessian, if not nil, adds the Hessian's extreme eigenvalues at every
	// point: a convexity map.
	Hessian *landscape.HessianOptions
	// Tolerance, if not nil, estimates the loss to a tolerance (sequential
	// sampling and adaptive refinement) instead of computing every point
	// on every sample.
	Tolerance *Tolerance
	// Verify, with Tolerance, computes this many random points of the
	// finished surface again over every sample and reports the largest
	// error in units of the tolerance (Result.Verification).
	Verify int
	// NoPlot skips the pictures and the report a whole run draws when it
	// ends (a shard never draws them; see Merge).
	NoPlot bool
	// Plot styles the pictures; nil means NewPlotOptions.
	Plot *PlotOptions
	// Progress, if not nil, is told of every point.
	Progress sweep.Progress
	// Notes, if not nil, receives the notes of the engine (a rewritten
	// batch dimension, say) before the sweep starts.
	Notes func(note string)
}

// DefaultOut returns the default output folder of a model: its file name
// with .landscape for the extension, in the current folder.
func DefaultOut(model string) string {
	base := filepath.Base(model)
	return strings.TrimSuffix(base, filepath.Ext(base)) + ".landscape"
}

// resolved returns c with every default applied, or an error naming
// settings out of range or at odds.
func (c Config) resolved() (Config, error) {
	if c.Grid.X.N == 0 {
		c.Grid.X = DefaultAxis
		if c.Landscape.Model2 != "" {
			c.Grid.X = InterpolationAxis
		}
	}
	if c.Landscape.Model3 != "" && !c.Grid.Is2D() {
		return c, fmt.Errorf("pipeline: Model3 %s makes a plane: give its y axis (--y)", c.Landscape.Model3)
	}
	c.Landscape.TwoD = c.Grid.Is2D()
	if c.Out == "" {
		c.Out = DefaultOut(c.Landscape.Model)
	}
	if c.Landscape.Scratch == "" {
		// Random directions are written beside the output folder and moved
		// into it: the sweep reads them from the file, not from memory.
		c.Landscape.Scratch = filepath.Dir(filepath.Clean(c.Out))
	}
	if c.Shard.Count == 0 {
		c.Shard = sweep.Shard{Index: 0, Count: 1}
	}
	if c.Plot == nil {
		c.Plot = NewPlotOptions()
	}
	switch {
	case c.Verify < 0:
		return c, fmt.Errorf("pipeline: Verify %d is negative (--verify)", c.Verify)
	case c.Verify > 0 && c.Tolerance == nil:
		return c, fmt.Errorf("pipeline: Verify checks a tolerance: give one (--verify needs --tolerance)")
	case c.Tolerance != nil:
		if err := c.Tolerance.check(); err != nil {
			return c, err
		}
		t := *c.Tolerance
		// A convexity map computes every point: no refinement.
		t.NoRefine = t.NoRefine || c.Hessian != nil
		c.Tolerance = &t
		c.Landscape.Tolerance = t.rule(!t.NoRefine)
	}
	if !c.NoPlot {
		if err := c.Plot.Check(); err != nil {
			return c, fmt.Errorf("pipeline: %w", err)
		}
	}
	return c, nil
}

// Result is what a run wrote.
type Result struct {
	Out        string      // the output folder
	Surface    string      // the file of the points: surface.npz, or the shard's file
	Directions string      // the directions file
	Shard      sweep.Shard // the share computed
	Computed   int         // points of the share saved
	Total      int         // points in the share
	Files      []string    // pictures and report drawn
	// SampleForwards is the samples run through the model for the points
	// computed, summed over them (a whole run or merged shards; a run
	// without a tolerance: points x samples).
	SampleForwards int64
	// FullForwards is, with a tolerance, what a run of every point over
	// every sample forwards: the grid's points times the samples.
	FullForwards int64
	// Interpolated is, with a tolerance, the points filled from computed
	// neighbours, not computed.
	Interpolated int
	// Verification is the check Config.Verify asked for (nil otherwise).
	Verification *Verification
}

// Run computes a loss landscape end to end: it opens the landscape, writes
// the manifest and the directions into Out, evaluates the points of its
// shard in coarse-to-fine order (resuming what Out already holds, saving
// every few seconds) and, for a whole run, draws the pictures and the
// report. If ctx is cancelled Run saves what it computed and returns the
// Result with an error wrapping ctx.Err(). A run that fails before it
// computes anything leaves no files in a folder it created.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	c, err := cfg.resolved()
	if err != nil {
		return nil, err
	}
	l, err := landscape.Open(c.Landscape)
	if err != nil {
		return nil, err
	}
	defer l.Close()
	if c.Notes != nil {
		for _, n := range l.Engine().Notes() {
			c.Notes(n)
		}
	}
	var ev sweep.Evaluator = l
	identity, channels := l.Identity(), l.Channels()
	if c.Hessian != nil {
		wh := landscape.WithHessian{L: l, Opts: *c.Hessian}
		ev, identity, channels = wh, wh.Identity(), wh.Channels()
	}
	info := l.Info()
	refine := c.Tolerance != nil && !c.Tolerance.NoRefine
	if t := c.Tolerance; t != nil {
		identity["tolerance"], identity["tolerance_abs"], identity["refine"] = t.Rel, t.Abs, refine
		if refine && t.CoarseStep != 0 {
			identity["coarse_step"] = t.CoarseStep
		}
		channels = toleranceChannels(channels, refine)
		info["tolerance_rule"] = l.Plan().String()
		if refine {
			info["refinement"] = "adaptive (sweep.RunAdaptive): computed points estimated to half the tolerance; cells filled from their computed points where the cubic of the coarser lattice predicts them and two interpolants agree, each to the other half"
		}
	}
	m := &Manifest{Grid: c.Grid, Channels: channels}
	if m.Identity.Other, err = fromMap(identity, &m.Identity); err != nil {
		return nil, fmt.Errorf("pipeline: identity: %w", err)
	}
	if m.Info.Other, err = fromMap(info, &m.Info); err != nil {
		return nil, fmt.Errorf("pipeline: info: %w", err)
	}
	sm, err := m.sweepManifest()
	if err != nil {
		return nil, err
	}
	_, statErr := os.Stat(filepath.Join(c.Out, sweep.ManifestName))
	fresh := errors.Is(statErr, fs.ErrNotExist)
	store, err := sweep.Open(c.Out, sm, c.Shard, c.Force)
	if err != nil {
		return nil, err
	}
	res := &Result{Out: c.Out, Surface: store.Path(), Directions: filepath.Join(c.Out, DirectionsName), Shard: c.Shard}
	failed := true
	defer func() {
		store.Close()
		if failed && fresh && store.Count() == 0 && ctx.Err() == nil {
			if err := sweep.RemoveRun(c.Out); err == nil {
				os.Remove(res.Directions)
				os.Remove(c.Out) // only if empty
			}
		}
	}()
	if err := l.SaveDirections(res.Directions); err != nil {
		return nil, err
	}
	if refine {
		res.Total = c.Grid.Len()
		r := sweep.Refine{Channel: 0, Rel: c.Tolerance.Rel, Abs: c.Tolerance.Abs, CoarseStep: c.Tolerance.CoarseStep,
			Counts: []int{slices.Index(channels, landscape.ToleranceChannels[1])}}
		err = sweep.RunAdaptive(ctx, store, c.Grid, c.Shard, ev, r, c.Progress)
	} else {
		points := c.Shard.Take(sweep.CoarseToFine(c.Grid))
		res.Total = len(points)
		err = sweep.Run(ctx, store, c.Grid, points, ev, c.Progress)
	}
	failed = err != nil
	res.Computed = store.Count()
	if ctx.Err() != nil {
		return res, fmt.Errorf("pipeline: interrupted: %w", ctx.Err())
	}
	if err != nil {
		return nil, err
	}
	if c.Shard.Count == 1 {
		if err := finish(ctx, c, l, res); err != nil {
			return nil, err
		}
	}
	if !c.NoPlot && c.Shard.Count == 1 {
		if res.Files, err = Draw(c.Out, nil, c.Plot); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// Merge combines the shards in the output folder out into its
// surface.npz and, unless plot is nil, draws the pictures and the report.
// It returns the merged surface and the files drawn.
func Merge(out string, plot *PlotOptions) (*sweep.Surface, []string, error) {
	if plot != nil {
		if err := plot.Check(); err != nil {
			return nil, nil, fmt.Errorf("pipeline: %w", err)
		}
	}
	s, err := sweep.Merge(out)
	if err != nil {
		return s, nil, err
	}
	if _, ok := s.Values[landscape.ToleranceChannels[0]]; ok {
		if _, err := recordForwards(out, s); err != nil {
			return s, nil, err
		}
	}
	if plot == nil {
		return s, nil, nil
	}
	files, err := Draw(out, nil, plot)
	return s, files, err
}

// finish records, for a whole run, the samples forwarded and, with a
// tolerance, writes them into the manifest and verifies the surface as
// asked.
func finish(ctx context.Context, c Config, l *landscape.Landscape, res *Result) error {
	s, err := sweep.ReadSurface(res.Surface)
	if err != nil {
		return err
	}
	if c.Tolerance == nil {
		res.SampleForwards = SampleForwards(s, l.Engine().Samples())
		return nil
	}
	if res.SampleForwards, err = recordForwards(c.Out, s); err != nil {
		return err
	}
	res.FullForwards = int64(s.Grid.Len()) * int64(l.Engine().Samples())
	for i, e := range s.Values[sweep.EstimatedChannel] {
		if s.Mask[i] && e != 0 {
			res.Interpolated++
		}
	}
	if c.Verify > 0 {
		res.Verification, err = verify(ctx, l, s, c.Tolerance, c.Verify, c.Landscape.Seed)
	}
	return err
}
