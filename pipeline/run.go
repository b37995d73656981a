package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
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
	if c.Shard.Count == 0 {
		c.Shard = sweep.Shard{Index: 0, Count: 1}
	}
	if c.Plot == nil {
		c.Plot = NewPlotOptions()
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
	identity, channels := l.Identity(), landscape.Channels
	if c.Hessian != nil {
		wh := landscape.WithHessian{L: l, Opts: *c.Hessian}
		ev, identity, channels = wh, wh.Identity(), landscape.HessianChannels
	}
	m := &Manifest{Grid: c.Grid, Channels: channels}
	if m.Identity.Other, err = fromMap(identity, &m.Identity); err != nil {
		return nil, fmt.Errorf("pipeline: identity: %w", err)
	}
	if m.Info.Other, err = fromMap(l.Info(), &m.Info); err != nil {
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
	points := c.Shard.Take(sweep.CoarseToFine(c.Grid))
	res.Total = len(points)
	err = sweep.Run(ctx, store, c.Grid, points, ev, c.Progress)
	failed = err != nil
	res.Computed = store.Count()
	if ctx.Err() != nil {
		return res, fmt.Errorf("pipeline: interrupted: %w", ctx.Err())
	}
	if err != nil {
		return nil, err
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
	if err != nil || plot == nil {
		return s, nil, err
	}
	files, err := Draw(out, nil, plot)
	return s, files, err
}
