package render_test

import (
	"math"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/lsweep/lsweep/render"
)

// TestPathOverContour: a Path overlay puts its colour at each point and on
// the line between, and the arrows are drawn beside the line, not across
// the picture.
func TestPathOverContour(t *testing.T) {
	c := render.NewContour(bowlGrid(21, 21))
	xs, ys := []float64{-0.8, -0.3, 0.2, 0}, []float64{0.6, 0.5, 0.1, 0}
	path := render.NewPath(xs, ys)
	path.Labels = []string{"start", "", "", "final"}
	pr := &probe{}
	c.Overlays = []plot.Plotter{path, pr}
	img := renderPNG(t, c, 5*vg.Inch, 5*vg.Inch)
	H := img.Bounds().Dy()
	red := path.Color
	for i := range xs {
		p := pr.pixel(xs[i], ys[i], H)
		if got := img.At(p.X, p.Y); !closeColor(got, red, 8) {
			t.Errorf("point %d at (%v, %v) is %v, want the path's colour %v", i, xs[i], ys[i], got, red)
		}
	}
	for i := 0; i+1 < len(xs); i++ {
		p := pr.pixel((xs[i]+xs[i+1])/2, (ys[i]+ys[i+1])/2, H)
		if got := img.At(p.X, p.Y); !closeColor(got, red, 8) {
			t.Errorf("the middle of step %d is %v, want the path's colour", i, got)
		}
	}
	// Away from the path nothing is red.
	far := pr.pixel(0.8, -0.8, H)
	if got := img.At(far.X, far.Y); closeColor(got, red, 40) {
		t.Errorf("a point far from the path is %v", got)
	}
	xmin, xmax, ymin, ymax := path.DataRange()
	if xmin != -0.8 || xmax != 0.2 || ymin != 0 || ymax != 0.6 {
		t.Errorf("DataRange %v %v %v %v", xmin, xmax, ymin, ymax)
	}
	empty := render.NewPath(nil, nil)
	c.Overlays = []plot.Plotter{empty}
	renderPNG(t, c, 3*vg.Inch, 3*vg.Inch)
	if a, _, _, _ := empty.DataRange(); !math.IsInf(a, 1) {
		t.Errorf("an empty path's range starts at %v", a)
	}
}
