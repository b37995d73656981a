package render

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// PathPicture draws an optimizer's path on its own, for a trajectory whose
// loss surface was not computed: the same marks as over a contour plot, on
// axes that hold every point with a margin.
type PathPicture struct {
	// Frame holds the title and axis labels (the explained variance).
	Frame

	// Path is the path to draw.
	Path *Path
}

// NewPathPicture returns the picture of p (see NewPath), in a square frame
// like the contour plots'.
func NewPathPicture(p *Path) *PathPicture {
	return &PathPicture{Frame: Frame{Aspect: 1, FontSize: vg.Points(10)}, Path: p}
}

// pathMargin is the share of the path's extent left free on each side, so
// that the dots and labels at the ends stay inside the axes.
const pathMargin = 0.2

// Draw draws the path onto dc. It returns an error wrapping ErrNoData when
// the path has no finite point.
func (p *PathPicture) Draw(dc draw.Canvas) error {
	if p.Path == nil {
		return fmt.Errorf("render: path picture: %w: no path", ErrNoData)
	}
	xlo, xhi, ylo, yhi := p.Path.DataRange()
	if math.IsInf(xlo, 0) || math.IsInf(ylo, 0) || math.IsNaN(xlo+xhi+ylo+yhi) {
		return fmt.Errorf("render: path picture: %w: no finite point", ErrNoData)
	}
	pad := func(lo, hi float64) (float64, float64) {
		d := hi - lo
		if d == 0 {
			d = math.Max(math.Abs(lo), 1)
		}
		return lo - pathMargin*d, hi + pathMargin*d
	}
	xlo, xhi = pad(xlo, xhi)
	ylo, yhi = pad(ylo, yhi)
	lay := p.Frame.layout(dc, xlo, xhi, ylo, yhi, 0)
	fillBackground(dc)
	lay.drawAxes()
	lay.drawOverlays([]plot.Plotter{p.Path})
	lay.drawBox()
	return nil
}
