package pipeline_test

import (
	"context"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lsweep/lsweep/internal/testenv"
	"github.com/lsweep/lsweep/landscape"
	"github.com/lsweep/lsweep/normalize"
	"github.com/lsweep/lsweep/npz"
	"github.com/lsweep/lsweep/pipeline"
	"github.com/lsweep/lsweep/sweep"
)

const trajDir = "../fixtures/testdata/trajectory"

func checkpoints() []string {
	var c []string
	for k := range 8 {
		c = append(c, fmt.Sprintf("%s/ckpt_%d.onnx", trajDir, k))
	}
	return c
}

// TestTrajectoryAgainstScikitLearn: the explained variance ratios, the
// coordinates and the directions equal those scikit-learn's PCA gives
// (computed at fixture generation, see make_trajectory_fixtures.py).
func TestTrajectoryAgainstScikitLearn(t *testing.T) {
	out := filepath.Join(t.TempDir(), "traj")
	ckpts := checkpoints()
	res, err := pipeline.Trajectory(context.Background(), pipeline.TrajectoryConfig{
		Final: ckpts[7], Data: digitsData, Checkpoints: ckpts, Out: out, NoSurface: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := npz.ReadFile(filepath.Join(trajDir, "reference.npz"))
	if err != nil {
		t.Fatal(err)
	}
	tf, err := pipeline.ReadTrajectory(out)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tf.Checkpoints, ckpts) || tf.Final != ckpts[7] || !slices.Equal(tf.Tensors, []string{"fc1.weight", "fc2.weight"}) {
		t.Errorf("trajectory.json names %v, final %s, tensors %v", tf.Checkpoints, tf.Final, tf.Tensors)
	}
	if tf.ExplainedVarianceRatio != res.Trajectory.ExplainedVarianceRatio {
		t.Errorf("trajectory.json holds %v, the result %v", tf.ExplainedVarianceRatio, res.Trajectory.ExplainedVarianceRatio)
	}
	var worstRatio, worstCoord float64
	for k := range 2 {
		worstRatio = math.Max(worstRatio, math.Abs(tf.ExplainedVarianceRatio[k]-ref["explained_variance_ratio"].Data[k]))
		for i, c := range tf.Coordinates {
			worstCoord = math.Max(worstCoord, math.Abs(c[k]-ref["coordinates"].Data[2*i+k]))
		}
	}
	t.Logf("max abs error against scikit-learn's PCA: ratios %.3g, coordinates %.3g", worstRatio, worstCoord)
	if worstRatio > 1e-4 || worstCoord > 1e-4 {
		t.Errorf("max abs error: ratios %g, coordinates %g; want <= 1e-4", worstRatio, worstCoord)
	}
	if len(tf.Coordinates) != 8 || tf.Coordinates[7] != [2]float64{0, 0} {
		t.Errorf("coordinates %v: want 8, the final model's (0, 0)", tf.Coordinates)
	}

	// directions.npz is what run --directions reads: the components.
	if worst := componentsError(t, res.Directions, ckpts[7], ref["components"], func(string) bool { return false }); worst > 1e-7 {
		t.Errorf("directions differ from the components by up to %g", worst)
	}
}

// componentsError loads a trajectory's directions file against the model
// ckpt and returns its largest difference from the reference PCA
// components comps, tensor by tensor in the directions' order; the tensors
// skip names must hold zeros and are left out of the comparison.
func componentsError(t *testing.T, directions, ckpt string, comps *npz.Array, skip func(name string) bool) float64 {
	t.Helper()
	params, err := landscape.ModelParams(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	x, y, err := normalize.Load(directions, params)
	if err != nil {
		t.Fatal(err)
	}
	p := comps.Shape[1]
	var worst float64
	for k, d := range []*normalize.Direction{x, y} {
		var flat []float64
		for _, n := range d.Names {
			if skip(n) {
				for _, v := range d.Values[n] {
					if v != 0 {
						t.Fatalf("direction %d moves %s", k, n)
					}
				}
				continue
			}
			for _, v := range d.Values[n] {
				flat = append(flat, float64(v))
			}
		}
		if len(flat) != p {
			t.Fatalf("direction %d holds %d values (%v), the reference %d", k, len(flat), d.Names, p)
		}
		for j, v := range flat {
			worst = math.Max(worst, math.Abs(v-comps.Data[k*p+j]))
		}
	}
	return worst
}

func TestTrajectoryBadInputs(t *testing.T) {
	ckpts := checkpoints()
	for _, c := range []struct {
		name  string
		ckpts []string
		want  []string
	}{
		{"one", ckpts[:1], []string{"1 checkpoint(s)", "ckpt_0.onnx", "at least three"}},
		{"identical", []string{ckpts[3], ckpts[3], ckpts[3]}, []string{"same weights", "ckpt_3.onnx"}},
		{"other tensors", []string{ckpts[0], digits + "/resnet_skip.onnx", ckpts[7]}, []string{"resnet_skip.onnx", "ckpt_7.onnx", `"fc1.weight"`, `"conv1.weight"`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "traj")
			_, err := pipeline.Trajectory(context.Background(), pipeline.TrajectoryConfig{Final: ckpts[7], Data: digitsData, Checkpoints: c.ckpts, Out: out, NoSurface: true})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if _, serr := os.Stat(out); serr == nil {
				t.Errorf("a refused trajectory wrote %s", out)
			}
		})
	}
}

// TestTrajectorySurface: the surface covers the path, its centre is the
// final model, the pictures and the report show the path, the same call
// resumes, and other checkpoints are refused without Force.
func TestTrajectorySurface(t *testing.T) {
	testenv.RequireRuntime(t)
	out := filepath.Join(t.TempDir(), "traj")
	ckpts := checkpoints()
	cfg := pipeline.TrajectoryConfig{Final: ckpts[7], Data: digitsData, Checkpoints: ckpts, Out: out, Points: 5}
	cfg.Dataset.Samples = 200
	res, err := pipeline.Trajectory(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sweep.ReadSurface(filepath.Join(out, sweep.SurfaceName))
	if err != nil {
		t.Fatal(err)
	}
	g := s.Grid
	for i, c := range res.Trajectory.Coordinates {
		if c[0] <= g.X.Min || c[0] >= g.X.Max || c[1] <= g.Y.Min || c[1] >= g.Y.Max {
			t.Errorf("checkpoint %d at %v lies outside the grid %v", i, c, g)
		}
	}
	sum := pipeline.Summarize(s)
	if sum.CentreIndex < 0 {
		t.Fatalf("the grid %v has no point at the final model (0, 0)", g)
	}
	l, err := landscape.Open(landscape.Config{Model: ckpts[7], Data: digitsData, Dataset: cfg.Dataset})
	if err != nil {
		t.Fatal(err)
	}
	at, err := l.At(context.Background(), 0, 0)
	l.Close()
	if err != nil {
		t.Fatal(err)
	}
	if sum.CentreLoss != at.Loss {
		t.Errorf("centre loss %v, the final model's %v", sum.CentreLoss, at.Loss)
	}
	for _, f := range []string{"contour.png", "filled_contour.png", "report.html"} {
		if !slices.Contains(res.Files, filepath.Join(out, f)) {
			t.Errorf("%s not drawn: %v", f, res.Files)
		}
	}
	for _, f := range []string{pipeline.TrajectoryName, pipeline.DirectionsName} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	page, _ := os.ReadFile(filepath.Join(out, "report.html"))
	for _, w := range []string{"Training path of 8 checkpoints", "ckpt_3.onnx"} {
		if !strings.Contains(string(page), w) {
			t.Errorf("the report does not say %q", w)
		}
	}
	if _, err := pipeline.Trajectory(context.Background(), cfg); err != nil {
		t.Errorf("the same trajectory again (a resume): %v", err)
	}
	other := cfg
	other.Checkpoints = []string{ckpts[0], ckpts[2], ckpts[4], ckpts[7]}
	if _, err := pipeline.Trajectory(context.Background(), other); err == nil || !strings.Contains(err.Error(), "another plane") {
		t.Errorf("other checkpoints into the same folder: %v, want a refusal", err)
	}
	other.Force = true
	if _, err := pipeline.Trajectory(context.Background(), other); err != nil {
		t.Errorf("with Force: %v", err)
	}
}

// TestTrajectoryKeepsSurface: without Force, a folder holding a surface is
// refused for the path of other checkpoints, even without a surface; with
// Force and NoSurface the old surface goes. No ONNX Runtime needed.
func TestTrajectoryKeepsSurface(t *testing.T) {
	out := filepath.Join(t.TempDir(), "traj")
	ckpts := checkpoints()
	cfg := pipeline.TrajectoryConfig{Final: ckpts[7], Data: digitsData, Checkpoints: ckpts, Out: out, NoSurface: true}
	if _, err := pipeline.Trajectory(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	g := sweep.Grid{X: sweep.Axis{Min: -1, Max: 1, N: 3}, Y: sweep.Axis{Min: -1, Max: 1, N: 3}}
	st, err := sweep.Open(out, sweep.Manifest{Identity: map[string]any{"seed": 0}, Grid: g, Channels: []string{"loss", "acc"}}, sweep.Shard{}, false)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if _, err := pipeline.Trajectory(context.Background(), cfg); err != nil {
		t.Errorf("the same checkpoints again: %v", err)
	}
	cfg.Checkpoints = ckpts[2:]
	if _, err := pipeline.Trajectory(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "another plane") {
		t.Errorf("other checkpoints: %v, want a refusal", err)
	}
	cfg.Force = true
	if _, err := pipeline.Trajectory(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(out, sweep.ManifestName)); err == nil {
		t.Error("Force with NoSurface left the old surface's manifest")
	}
}

// TestTrajectoryPathPicture: without a surface the path is drawn alone, in
// every picture format asked for, and not at all with NoPlot. No ONNX
// Runtime needed.
func TestTrajectoryPathPicture(t *testing.T) {
	ckpts := checkpoints()
	out := filepath.Join(t.TempDir(), "traj")
	plot := pipeline.NewPlotOptions()
	plot.Formats = []string{"png", "svg"}
	res, err := pipeline.Trajectory(context.Background(), pipeline.TrajectoryConfig{
		Final: ckpts[7], Data: digitsData, Checkpoints: ckpts, Out: out, NoSurface: true, Plot: plot,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(out, "path.png"), filepath.Join(out, "path.svg")}
	if !slices.Equal(res.Files, want) {
		t.Fatalf("files %v, want %v", res.Files, want)
	}
	f, err := os.Open(want[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil || cfg.Width < 500 || cfg.Height < 400 {
		t.Errorf("path.png: %v, %dx%d", err, cfg.Width, cfg.Height)
	}
	svg, err := os.ReadFile(want[1])
	if err != nil || !strings.Contains(string(svg), "ckpt_0") || !strings.Contains(string(svg), "PCA component") {
		t.Errorf("path.svg lacks the labels (%v)", err)
	}

	quiet := filepath.Join(t.TempDir(), "quiet")
	res, err = pipeline.Trajectory(context.Background(), pipeline.TrajectoryConfig{
		Final: ckpts[7], Data: digitsData, Checkpoints: ckpts, Out: quiet, NoSurface: true, NoPlot: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(quiet, "path.png")); len(res.Files) != 0 || err == nil {
		t.Errorf("NoPlot drew %v", res.Files)
	}
}

// TestTrajectoryBatchNorm: a conv net with BatchNormalization nodes kept.
// The ratios, coordinates and directions equal scikit-learn's PCA over the
// weights alone (make_trajectory_fixtures.py, bn/): biases and BatchNorm
// scales and shifts left out, and the running statistics, which moved every
// epoch, part of no vector. The reference also holds what the statistics
// would have given, and the result must be far from that.
func TestTrajectoryBatchNorm(t *testing.T) {
	dir := filepath.Join(trajDir, "bn")
	var ckpts []string
	for k := range 6 {
		ckpts = append(ckpts, fmt.Sprintf("%s/ckpt_%d.onnx", dir, k))
	}
	out := filepath.Join(t.TempDir(), "traj")
	res, err := pipeline.Trajectory(context.Background(), pipeline.TrajectoryConfig{
		Final: ckpts[5], Data: digitsData, Checkpoints: ckpts, Out: out, NoSurface: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := npz.ReadFile(filepath.Join(dir, "reference.npz"))
	if err != nil {
		t.Fatal(err)
	}
	tf, err := pipeline.ReadTrajectory(out)
	if err != nil {
		t.Fatal(err)
	}
	weights := []string{"conv1.weight", "conv2.weight", "fc.weight"}
	if !slices.Equal(tf.Tensors, weights) {
		t.Errorf("trajectory.json: tensors %v, want %v", tf.Tensors, weights)
	}
	if tf.ExplainedVarianceRatio != res.Trajectory.ExplainedVarianceRatio {
		t.Errorf("trajectory.json holds %v, the result %v", tf.ExplainedVarianceRatio, res.Trajectory.ExplainedVarianceRatio)
	}
	if len(tf.Coordinates) != 6 {
		t.Fatalf("%d coordinates, want 6", len(tf.Coordinates))
	}
	// worst returns the largest difference of the ratios and of the
	// coordinates from the reference entries with the given prefix.
	worst := func(prefix string) (ratio, coord float64) {
		for k := range 2 {
			ratio = math.Max(ratio, math.Abs(tf.ExplainedVarianceRatio[k]-ref[prefix+"explained_variance_ratio"].Data[k]))
			for i, c := range tf.Coordinates {
				coord = math.Max(coord, math.Abs(c[k]-ref[prefix+"coordinates"].Data[2*i+k]))
			}
		}
		return ratio, coord
	}
	r, c := worst("")
	t.Logf("max abs error against scikit-learn's PCA over the weights: ratios %.3g, coordinates %.3g", r, c)
	if r > 1e-4 || c > 1e-4 {
		t.Errorf("max abs error: ratios %g, coordinates %g; want <= 1e-4", r, c)
	}
	r, c = worst("with_stats_")
	t.Logf("distance from the PCA with the running statistics: ratios %.3g, coordinates %.3g", r, c)
	if r < 1e-2 || c < 1e-2 {
		t.Errorf("the result is within %g (ratios) and %g (coordinates) of the PCA that includes the running statistics", r, c)
	}

	skip := func(n string) bool { return strings.Contains(n, "running_") || strings.HasPrefix(n, "bn") }
	if worst := componentsError(t, res.Directions, ckpts[5], ref["components"], skip); worst > 1e-7 {
		t.Errorf("directions differ from the components by up to %g", worst)
	}
}

// TestTrajectoryTolerance: a trajectory's surface estimated to a tolerance
// is within it of the full surface on the same plane at every point, with
// fewer samples through the model, interpolated points marked, and its
// verification drawn among them.
func TestTrajectoryTolerance(t *testing.T) {
	testenv.RequireRuntime(t)
	ctx := context.Background()
	ckpts := checkpoints()
	full := pipeline.TrajectoryConfig{Final: ckpts[7], Data: digitsData, Checkpoints: ckpts, Out: filepath.Join(t.TempDir(), "full"), Points: 21, NoPlot: true}
	fres, err := pipeline.Trajectory(ctx, full)
	if err != nil {
		t.Fatal(err)
	}
	est := full
	est.Out = filepath.Join(t.TempDir(), "est")
	est.Tolerance, est.Verify = &pipeline.Tolerance{Rel: 0.02, Abs: 1e-3}, 5
	eres, err := pipeline.Trajectory(ctx, est)
	if err != nil {
		t.Fatal(err)
	}
	fs, es := readSurface(t, fres.Surface.Surface), readSurface(t, eres.Surface.Surface)
	if fs.Grid != es.Grid {
		t.Fatalf("grids %v and %v", fs.Grid, es.Grid)
	}
	filled := 0
	for i, f := range fs.Values["loss"] {
		if e := math.Abs(es.Values["loss"][i]-f) / (0.02*math.Abs(f) + 1e-3); e > 1 {
			t.Errorf("point %d: %g, the full surface %g: %.2f tolerances", i, es.Values["loss"][i], f, e)
		}
		if es.Values[sweep.EstimatedChannel][i] != 0 {
			filled++
		}
	}
	if filled == 0 || eres.Surface.SampleForwards >= fres.Surface.SampleForwards {
		t.Errorf("%d points interpolated, %d sample forwards against %d", filled, eres.Surface.SampleForwards, fres.Surface.SampleForwards)
	}
	if v := eres.Surface.Verification; v == nil || v.Points != 5 || v.Estimated < filled || v.Worst > 1 {
		t.Errorf("verification %+v", v)
	}
	t.Logf("%d of %d points interpolated; %d sample forwards, full %d", filled, fs.Grid.Len(), eres.Surface.SampleForwards, fres.Surface.SampleForwards)
}
