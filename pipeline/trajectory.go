package pipeline

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/lsweep/lsweep/dataset"
	"github.com/lsweep/lsweep/engine"
	"github.com/lsweep/lsweep/internal/atomicfile"
	"github.com/lsweep/lsweep/landscape"
	"github.com/lsweep/lsweep/normalize"
	"github.com/lsweep/lsweep/render"
	"github.com/lsweep/lsweep/sweep"
	"github.com/lsweep/lsweep/trajectory"
	"gonum.org/v1/plot/vg"
)

// TrajectoryName is the file of an output folder holding a trajectory.
const TrajectoryName = "trajectory.json"

// DefaultTrajectoryPoints is about how many points each automatic axis of a
// trajectory's surface has.
const DefaultTrajectoryPoints = 21

// trajectoryMargin is the room left around the path on each side, as a
// fraction of its extent.
const trajectoryMargin = 0.15

// TrajectoryConfig is one trajectory: the path of a training run's
// checkpoints on the plane of their two principal components, and by
// default the loss surface on that plane around the final model.
type TrajectoryConfig struct {
	Final       string   // the final model: the centre, th_n
	Data        string   // the data of the surface
	Checkpoints []string // in training order; Final may be among them
	Dataset     dataset.Options
	Engine      engine.Options
	// Grid is the surface's grid; a zero axis covers the path with a
	// margin, with about Points points.
	Grid   sweep.Grid
	Points int // 0 is DefaultTrajectoryPoints
	// Out is the output folder; "" is the final model's file name with
	// .trajectory for the extension.
	Out       string
	Force     bool // discard the surface in Out and start over
	NoSurface bool // the path and the directions only
	NoPlot    bool
	// Tolerance and Verify estimate the surface as Config's do.
	Tolerance *Tolerance
	Verify    int
	Plot      *PlotOptions
	Progress  sweep.Progress
	Notes     func(note string)
}

// TrajectoryFile is the content of trajectory.json.
type TrajectoryFile struct {
	Final       string   `json:"final"`
	Checkpoints []string `json:"checkpoints"`
	// ExplainedVarianceRatio labels the axes: the fraction of the variance
	// of the checkpoints' differences each direction explains.
	ExplainedVarianceRatio [2]float64 `json:"explained_variance_ratio"`
	// Coordinates are the checkpoints' [x, y], in the order given.
	Coordinates    [][2]float64 `json:"coordinates"`
	SingularValues []float64    `json:"singular_values"`
	// Tensors are the weights the vectors hold (those ignore = biasbn
	// keeps), in order.
	Tensors []string `json:"tensors"`
}

// TrajectoryResult is what Trajectory wrote.
type TrajectoryResult struct {
	Out        string
	Trajectory TrajectoryFile
	Directions string  // directions.npz: x and y are the components
	Surface    *Result // nil with NoSurface
	Files      []string
}

// Trajectory computes a training run's path as the reference
// implementation's projection.py does: the differences th_i - th_n of
// every checkpoint over the weights that ignore = biasbn keeps, their two
// principal components (package trajectory), each checkpoint's cosine
// projection onto them. It writes directions.npz (the components, for
// run's DirectionsFile) and trajectory.json into Out, then, unless
// NoSurface, computes the loss surface on that plane around Final (a run
// in Out, resumable as Run's) and draws it with the path on top.
func Trajectory(ctx context.Context, cfg TrajectoryConfig) (*TrajectoryResult, error) {
	if cfg.Out == "" {
		base := filepath.Base(cfg.Final)
		cfg.Out = strings.TrimSuffix(base, filepath.Ext(base)) + ".trajectory"
	}
	if cfg.Points == 0 {
		cfg.Points = DefaultTrajectoryPoints
	}
	if cfg.Points < 2 {
		return nil, fmt.Errorf("pipeline: trajectory: %d points per axis: want at least 2", cfg.Points)
	}
	if cfg.Grid.X.N != 0 && cfg.Grid.Y.N == 0 || cfg.Grid.X.N == 0 && cfg.Grid.Y.N != 0 {
		return nil, errors.New("pipeline: trajectory: give both axes of the surface or neither")
	}
	tf, x, y, err := fitTrajectory(cfg.Final, cfg.Checkpoints)
	if err != nil {
		return nil, err
	}
	res := &TrajectoryResult{Out: cfg.Out, Trajectory: *tf, Directions: filepath.Join(cfg.Out, DirectionsName)}
	if err := keepSurface(cfg, res.Directions, x, y); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	if cfg.Force && cfg.NoSurface {
		// No surface of another plane stays beside the new directions.
		if err := sweep.RemoveRun(cfg.Out); err != nil {
			return nil, err
		}
	}
	if err := normalize.Save(res.Directions, x, y); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(tf, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(cfg.Out, TrajectoryName), append(b, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	if cfg.NoSurface {
		if !cfg.NoPlot {
			plot := cmp.Or(cfg.Plot, NewPlotOptions())
			if res.Files, err = drawPath(cfg.Out, tf, plot); err != nil {
				return res, err
			}
		}
		return res, nil
	}
	grid := cfg.Grid
	if grid.X.N == 0 {
		xs, ys := make([]float64, len(tf.Coordinates)), make([]float64, len(tf.Coordinates))
		for i, c := range tf.Coordinates {
			xs[i], ys[i] = c[0], c[1]
		}
		grid.X, grid.Y = coverAxes(xs, ys, cfg.Points)
	}
	plot := cfg.Plot
	if plot == nil {
		plot = NewPlotOptions()
	}
	run := Config{
		Landscape: landscape.Config{Model: cfg.Final, Data: cfg.Data, Dataset: cfg.Dataset, Engine: cfg.Engine, DirectionsFile: res.Directions},
		Grid:      grid, Out: cfg.Out, Force: cfg.Force, NoPlot: true, Plot: plot, Progress: cfg.Progress, Notes: cfg.Notes,
		Tolerance: cfg.Tolerance, Verify: cfg.Verify,
	}
	res.Surface, err = Run(ctx, run)
	if _, statErr := os.Stat(res.Directions); errors.Is(statErr, fs.ErrNotExist) {
		// A run that fails before its first point removes the directions
		// it was given; the trajectory's files stay whole.
		if err := normalize.Save(res.Directions, x, y); err != nil {
			return nil, err
		}
	}
	if err != nil {
		return res, err
	}
	if !cfg.NoPlot {
		if res.Files, err = Draw(cfg.Out, nil, plot); err != nil {
			return res, err
		}
	}
	return res, nil
}

// fitTrajectory reads the models and returns the trajectory and its two
// directions.
func fitTrajectory(final string, checkpoints []string) (*TrajectoryFile, *normalize.Direction, *normalize.Direction, error) {
	if len(checkpoints) < 3 {
		return nil, nil, nil, fmt.Errorf("pipeline: trajectory: %d checkpoint(s) given (%s): %w", len(checkpoints), strings.Join(checkpoints, ", "), trajectory.ErrTooFew)
	}
	params, err := landscape.ModelParams(final)
	if err != nil {
		return nil, nil, nil, err
	}
	var weights []normalize.Param
	for _, p := range params {
		if p.Kind == normalize.Weight {
			weights = append(weights, p)
		}
	}
	rows := make([][]float64, len(checkpoints))
	for i, path := range checkpoints {
		other, err := landscape.ModelParams(path)
		if err != nil {
			return nil, nil, nil, err
		}
		// Difference checks that the tensors match; the rows are the
		// differences in float64, exact for float32 weights.
		_, err = normalize.Difference(params, other, normalize.DirWeights)
		if err != nil {
			var me *normalize.MismatchError
			if errors.As(err, &me) {
				me.Op, me.A, me.B = "trajectory", "the final model", "the checkpoint"
				return nil, nil, nil, fmt.Errorf("pipeline: trajectory: checkpoint %s and the final model %s have different tensors: %w", path, final, me)
			}
			return nil, nil, nil, fmt.Errorf("pipeline: trajectory: %s and %s: %w", final, path, err)
		}
		// Only the weights: biases and normalisation parameters are zero
		// in the reference's vectors (ignore = biasbn) and a zero column
		// changes nothing in PCA or in the projections.
		theirs := make(map[string][]float32, len(other))
		for _, p := range other {
			theirs[p.Name] = p.Values
		}
		for _, w := range weights {
			for j, v := range theirs[w.Name] {
				rows[i] = append(rows[i], float64(v)-float64(w.Values[j]))
			}
		}
	}
	pca, err := trajectory.Fit(rows)
	if err != nil {
		switch {
		case errors.Is(err, trajectory.ErrIdentical):
			err = fmt.Errorf("pipeline: trajectory: the checkpoints %s all have the same weights: there is no path to analyse", strings.Join(checkpoints, ", "))
		case errors.Is(err, trajectory.ErrLine):
			err = fmt.Errorf("pipeline: trajectory: the checkpoints %s lie on one line in weight space: no plane to draw them on (%w)", strings.Join(checkpoints, ", "), err)
		default:
			err = fmt.Errorf("pipeline: trajectory: %w", err)
		}
		return nil, nil, nil, err
	}
	var dirs [2]*normalize.Direction
	for k := range dirs {
		// Directions hold float32, as the file does: the path is projected
		// onto what they hold, so that it lies on the plane the surface is
		// drawn on.
		d := &normalize.Direction{Values: map[string][]float32{}, Shapes: map[string][]int64{}}
		at := 0
		for _, w := range weights {
			n := len(w.Values)
			v := make([]float32, n)
			for j, c := range pca.Components[k][at : at+n] {
				v[j] = float32(c)
			}
			d.Names = append(d.Names, w.Name)
			d.Values[w.Name] = v
			d.Shapes[w.Name] = w.Shape
			at += n
		}
		dirs[k] = d
	}
	tf := &TrajectoryFile{Final: final, Checkpoints: slices.Clone(checkpoints), ExplainedVarianceRatio: pca.Ratio, SingularValues: pca.Singular}
	for _, w := range weights {
		tf.Tensors = append(tf.Tensors, w.Name)
	}
	flat := [2][]float64{}
	for k, d := range dirs {
		for _, name := range d.Names {
			for _, v := range d.Values[name] {
				flat[k] = append(flat[k], float64(v))
			}
		}
	}
	for _, r := range rows {
		tf.Coordinates = append(tf.Coordinates, [2]float64{trajectory.Project(r, flat[0]), trajectory.Project(r, flat[1])})
	}
	return tf, dirs[0], dirs[1], nil
}

// keepSurface refuses, unless Force, an output folder whose surface was
// computed on another plane: writing the new directions would leave that
// surface with directions it was not computed on.
func keepSurface(cfg TrajectoryConfig, path string, x, y *normalize.Direction) error {
	if cfg.Force {
		return nil
	}
	if _, err := os.Stat(filepath.Join(cfg.Out, sweep.ManifestName)); err != nil {
		return nil
	}
	params, err := landscape.ModelParams(cfg.Final)
	if err != nil {
		return err
	}
	ox, oy, err := normalize.Load(path, params)
	if err == nil && oy != nil && sameDirection(ox, x) && sameDirection(oy, y) {
		return nil
	}
	return fmt.Errorf("pipeline: trajectory: %s holds a surface on another plane (other checkpoints or another final model); --force starts over", cfg.Out)
}

func sameDirection(a, b *normalize.Direction) bool {
	if !slices.Equal(a.Names, b.Names) {
		return false
	}
	for _, n := range a.Names {
		if !slices.Equal(a.Values[n], b.Values[n]) {
			return false
		}
	}
	return true
}

// coverAxes returns axes that hold the path (xs, ys) and the origin (the
// final model) with a margin, with round ends and steps and about n points
// each, the origin among them.
func coverAxes(xs, ys []float64, n int) (sweep.Axis, sweep.Axis) {
	span := func(v []float64) (lo, hi float64) {
		lo, hi = 0, 0
		for _, x := range v {
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
		return lo, hi
	}
	xlo, xhi := span(xs)
	ylo, yhi := span(ys)
	// Neither axis thinner than a tenth of the other: a path that hardly
	// leaves a line still gets a plane around it.
	wx, wy := xhi-xlo, yhi-ylo
	grow := func(lo, hi, w, other float64) (float64, float64, float64) {
		if want := other / 10; w < want {
			lo, hi, w = lo-(want-w)/2, hi+(want-w)/2, want
		}
		return lo, hi, w
	}
	xlo, xhi, wx2 := grow(xlo, xhi, wx, wy)
	ylo, yhi, wy2 := grow(ylo, yhi, wy, wx)
	return roundAxis(xlo, xhi, wx2, n), roundAxis(ylo, yhi, wy2, n)
}

// roundAxis returns an axis from below lo to above hi (w = hi - lo) by a
// margin, its step a round number giving about n points, its ends
// multiples of the step (so that 0 is a point).
func roundAxis(lo, hi, w float64, n int) sweep.Axis {
	lo, hi = lo-trajectoryMargin*w, hi+trajectoryMargin*w
	raw := (hi - lo) / float64(n-1)
	exp := math.Pow(10, math.Floor(math.Log10(raw)))
	step := exp
	for _, m := range []float64{2, 2.5, 5, 10} {
		// The round step nearest raw on a log scale.
		if math.Abs(math.Log(m*exp/raw)) < math.Abs(math.Log(step/raw)) {
			step = m * exp
		}
	}
	i0, i1 := math.Floor(lo/step+1e-9), math.Ceil(hi/step-1e-9)
	// Ends as parsed decimals, so that the manifest reads them back the same.
	return sweep.Axis{Min: roundTo(i0*step, exp), Max: roundTo(i1*step, exp), N: int(i1-i0) + 1}
}

// roundTo rounds v to a multiple of a tenth of exp, dropping the noise of
// i*step.
func roundTo(v, exp float64) float64 {
	q := exp / 10
	return math.Round(v/q) * q
}

// ReadTrajectory reads the trajectory.json of the output folder out. The
// error matches fs.ErrNotExist if there is none.
func ReadTrajectory(out string) (*TrajectoryFile, error) {
	b, err := os.ReadFile(filepath.Join(out, TrajectoryName))
	if err != nil {
		return nil, err
	}
	var t TrajectoryFile
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("pipeline: %s: %w", filepath.Join(out, TrajectoryName), err)
	}
	if len(t.Coordinates) != len(t.Checkpoints) {
		return nil, fmt.Errorf("pipeline: %s: %d coordinates for %d checkpoints", filepath.Join(out, TrajectoryName), len(t.Coordinates), len(t.Checkpoints))
	}
	return &t, nil
}

// PathName is the base name of the picture of a trajectory drawn without its
// surface (NoSurface), one file per picture format.
const PathName = "path"

// drawPath draws the path alone into out, in each of the plot options'
// formats, and returns the files written.
func drawPath(out string, t *TrajectoryFile, o *PlotOptions) ([]string, error) {
	if err := checkFormats(o.Formats); err != nil {
		return nil, err
	}
	pic := render.NewPathPicture(trajectoryPath(t))
	pic.Title = filepath.Base(t.Final) + " — training path"
	pic.XLabel, pic.YLabel = pcLabel(1, t.ExplainedVarianceRatio[0]), pcLabel(2, t.ExplainedVarianceRatio[1])
	var files []string
	for _, f := range o.Formats {
		path := filepath.Join(out, PathName+"."+strings.ToLower(f))
		if err := render.Save(pic, path, 5*vg.Inch, 4.6*vg.Inch); err != nil {
			return files, err
		}
		files = append(files, path)
	}
	return files, nil
}

// pcLabel labels an axis with its component and explained variance, as the
// paper's trajectory figures do.
func pcLabel(k int, ratio float64) string {
	return fmt.Sprintf("%s PCA component: %.2f %%", [...]string{"", "1st", "2nd"}[k], 100*ratio)
}

// trajectoryPath is the path to draw over a trajectory's surface, its first
// and last checkpoints labelled.
func trajectoryPath(t *TrajectoryFile) *render.Path {
	n := len(t.Coordinates)
	xs, ys, labels := make([]float64, n), make([]float64, n), make([]string, n)
	for i, c := range t.Coordinates {
		xs[i], ys[i] = c[0], c[1]
	}
	name := func(p string) string { return strings.TrimSuffix(filepath.Base(p), filepath.Ext(p)) }
	if n > 0 {
		labels[0], labels[n-1] = name(t.Checkpoints[0]), name(t.Checkpoints[n-1])
	}
	p := render.NewPath(xs, ys)
	p.Labels = labels
	return p
}
