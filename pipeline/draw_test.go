package pipeline_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lsweep/lsweep/pipeline"
	"github.com/lsweep/lsweep/render"
	"github.com/lsweep/lsweep/sweep"
)

// bowl is a made-up landscape: loss a^2 + 2b^2 + 0.1, accuracy falling
// with it.
type bowl struct{}

func (bowl) Evaluate(ctx context.Context, a, b float64) ([]float64, error) {
	l := a*a + 2*b*b + 0.1
	return []float64{l, 1 / (1 + l)}, nil
}

// TestDrawPartial: a run with only the first points of the coarse-to-fine
// order computed draws every picture of a surface, and the report's 3-D
// view takes the palette asked for; no ONNX Runtime needed.
func TestDrawPartial(t *testing.T) {
	out := bowlRun(t, bowl{}, 30)
	o := pipeline.NewPlotOptions()
	o.Palette = "inferno"
	files, err := pipeline.Draw(out, nil, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"contour.png", "filled_contour.png", "heatmap.png", "accuracy.png", "surface3d.png", "surface.vtp", "report.html"} {
		if !slices.Contains(files, filepath.Join(out, name)) {
			t.Errorf("Draw wrote %v, not %s", files, name)
		}
	}
	page, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	c := render.Inferno().Stops()[0]
	if want := fmt.Sprintf(`"palette":[[%d,%d,%d]`, c.R, c.G, c.B); !strings.Contains(string(page), want) {
		t.Errorf("report.html lacks %s", want)
	}
	if !strings.Contains(string(page), "bowl.onnx") {
		t.Error("report.html does not name the model of the manifest")
	}
}

// scaledBowl is bowl times k: the same shape, another range of losses.
type scaledBowl float64

func (k scaledBowl) Evaluate(ctx context.Context, a, b float64) ([]float64, error) {
	v, _ := bowl{}.Evaluate(ctx, a, b)
	return []float64{float64(k) * v[0], v[1]}, nil
}

// bowlRun computes the first n points (every point when n is 0), in
// coarse-to-fine order, of a 9x9 run of ev "bowl.onnx" into a new folder.
func bowlRun(t *testing.T, ev sweep.Evaluator, n int) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "run")
	g := sweep.Grid{X: sweep.Axis{Min: -1, Max: 1, N: 9}, Y: sweep.Axis{Min: -1, Max: 1, N: 9}}
	m := sweep.Manifest{Identity: map[string]any{"seed": 0}, Info: map[string]any{"model": "bowl.onnx"}, Grid: g, Channels: []string{"loss", "acc"}}
	st, err := sweep.Open(out, m, sweep.Shard{}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	points := sweep.CoarseToFine(g)
	if n > 0 {
		points = points[:n]
	}
	if err := sweep.Run(context.Background(), st, g, points, ev, nil); err != nil {
		t.Fatal(err)
	}
	return out
}

// drawBowl computes a 9x9 run of ev in a new folder and draws it with o.
func drawBowl(t *testing.T, ev sweep.Evaluator, o *pipeline.PlotOptions) string {
	t.Helper()
	out := bowlRun(t, ev, 0)
	o.NoReport = true
	if _, err := pipeline.Draw(out, nil, o); err != nil {
		t.Fatal(err)
	}
	return out
}

// colorBar returns the part of a picture right of its plot, from 82% of its
// width: the colour bar and its labels.
func colorBar(t *testing.T, path string) *image.NRGBA {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	r := image.Rect(b.Min.X+b.Dx()*82/100, b.Min.Y, b.Max.X, b.Max.Y)
	out := image.NewNRGBA(r)
	draw.Draw(out, r, img, r.Min, draw.Src)
	return out
}

// TestDrawFixedLevels: two runs whose losses differ by a factor of 30,
// drawn with the same Levels, have the same colour bars (levels and colour
// scale come from the Levels, log-spaced over three decades); drawn apart
// with automatic levels, they differ, and drawn together they agree again.
func TestDrawFixedLevels(t *testing.T) {
	fixed := func() *pipeline.PlotOptions {
		o := pipeline.NewPlotOptions()
		o.Levels = &pipeline.Levels{Min: 0.1, Max: 100}
		return o
	}
	low, high := drawBowl(t, scaledBowl(1), fixed()), drawBowl(t, scaledBowl(30), fixed())
	autoLow, autoHigh := drawBowl(t, scaledBowl(1), pipeline.NewPlotOptions()), drawBowl(t, scaledBowl(30), pipeline.NewPlotOptions())
	sameBars := func(a, b string) bool {
		same := true
		for _, name := range []string{"filled_contour.png", "heatmap.png"} {
			if !bytes.Equal(colorBar(t, filepath.Join(a, name)).Pix, colorBar(t, filepath.Join(b, name)).Pix) {
				t.Logf("%s: colour bars differ", name)
				same = false
			}
		}
		return same
	}
	if !sameBars(low, high) {
		t.Error("two runs drawn with the same levels have different colour bars")
	}
	if sameBars(autoLow, autoHigh) {
		t.Error("two runs drawn with automatic levels have the same colour bars: the test cannot fail")
	}
	// Drawn together, runs share the levels of all their losses.
	if _, err := pipeline.Draw(autoLow, []string{autoHigh}, pipeline.NewPlotOptions()); err != nil {
		t.Fatal(err)
	}
	if !sameBars(autoLow, autoHigh) {
		t.Error("two 2-D runs drawn together have different colour bars")
	}
	// A 1-D run cannot be drawn alike with a 2-D one.
	line := filepath.Join(t.TempDir(), "line")
	g := sweep.Grid{X: sweep.Axis{Min: -1, Max: 1, N: 5}}
	st, err := sweep.Open(line, sweep.Manifest{Identity: map[string]any{"seed": 0}, Grid: g, Channels: []string{"loss", "acc"}}, sweep.Shard{}, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := sweep.Run(context.Background(), st, g, sweep.CoarseToFine(g), bowl{}, nil); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if _, err := pipeline.Draw(autoLow, []string{line}, pipeline.NewPlotOptions()); err == nil || !strings.Contains(err.Error(), line) || !strings.Contains(err.Error(), "1-D") {
		t.Errorf("a 2-D and a 1-D run drawn together: %v", err)
	}
}

// TestReportScale: the report's 3-D view starts on the scale of the
// pictures: linear for a loss within two decades, log with Levels over
// three decades, linear again when the Scale says so; with Levels its loss
// range is theirs.
func TestReportScale(t *testing.T) {
	cases := []struct {
		name string
		set  func(*pipeline.PlotOptions)
		want string
	}{
		{"automatic", func(*pipeline.PlotOptions) {}, `"log":false`},
		{"levels over decades", func(o *pipeline.PlotOptions) { o.Levels = &pipeline.Levels{Min: 0.1, Max: 100} }, `"log":true`},
		{"levels, linear", func(o *pipeline.PlotOptions) {
			o.Levels, o.Scale = &pipeline.Levels{Min: 0.1, Max: 100}, pipeline.ScaleLinear
		}, `"log":false`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := pipeline.NewPlotOptions()
			c.set(o)
			out := drawBowl(t, scaledBowl(1), o)
			o.NoReport = false
			if _, err := pipeline.Draw(out, nil, o); err != nil {
				t.Fatal(err)
			}
			page, err := os.ReadFile(filepath.Join(out, "report.html"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(page), c.want) {
				t.Errorf("report.html lacks %s", c.want)
			}
			// Fixed levels fix the 3-D view's loss range too.
			if has := strings.Contains(string(page), `"loss_range":[0.1,100]`); has != (o.Levels != nil) {
				t.Errorf("report.html holds the levels' loss range: %v, want %v", has, o.Levels != nil)
			}
		})
	}
}
