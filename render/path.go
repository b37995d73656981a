package render

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Path is an optimizer's path drawn over a 2-D picture, as the paper's
// trajectory plots show it: a line through the points in order with an
// arrow on each step pointing the way training went, a dot per point, and
// optional labels. It is a plot.Plotter, for a Frame's Overlays.
type Path struct {
	X, Y []float64 // the points, in the picture's data coordinates, in order

	// Labels, if not nil, holds a label per point; empty ones are not
	// drawn.
	Labels []string

	// Color is the colour of the line, the arrows and the dots; a white
	// halo under them keeps them visible on any fill. NewPath sets red.
	Color color.Color

	// LineWidth, DotRadius and ArrowSize size the marks; NewPath sets 1.4,
	// 2.6 and 6.5 points.
	LineWidth, DotRadius, ArrowSize vg.Length

	// FontSize is the size of the labels; NewPath sets 8 points.
	FontSize vg.Length
}

// NewPath returns the path through (x[i], y[i]) with the defaults
// documented on Path's fields.
func NewPath(x, y []float64) *Path {
	return &Path{X: x, Y: y, Color: color.NRGBA{R: 214, G: 39, B: 40, A: 255},
		LineWidth: vg.Points(1.4), DotRadius: vg.Points(2.6), ArrowSize: vg.Points(6.5), FontSize: vg.Points(8)}
}

// Plot draws the path on c with plt's axes. It implements plot.Plotter.
func (p *Path) Plot(c draw.Canvas, plt *plot.Plot) {
	n := min(len(p.X), len(p.Y))
	if n == 0 {
		return
	}
	trX, trY := plt.Transforms(&c)
	pts := make([]vg.Point, n)
	for i := range n {
		pts[i] = vg.Point{X: trX(p.X[i]), Y: trY(p.Y[i])}
	}
	col := p.Color
	if col == nil {
		col = black
	}
	halo := draw.LineStyle{Color: white, Width: p.LineWidth + vg.Points(2)}
	line := draw.LineStyle{Color: col, Width: p.LineWidth}
	if n > 1 {
		c.StrokeLines(halo, pts)
		c.StrokeLines(line, pts)
	}
	// An arrow in the middle of each step long enough to hold one.
	for i := 0; i+1 < n; i++ {
		a, b := pts[i], pts[i+1]
		dx, dy := float64(b.X-a.X), float64(b.Y-a.Y)
		l := math.Hypot(dx, dy)
		if l < 2.2*float64(p.ArrowSize) {
			continue
		}
		ux, uy := dx/l, dy/l
		mid := vg.Point{X: (a.X + b.X) / 2, Y: (a.Y + b.Y) / 2}
		head := p.arrow(mid, ux, uy)
		c.SetLineStyle(draw.LineStyle{Color: white, Width: vg.Points(1.2)})
		c.Stroke(head)
		c.SetColor(col)
		c.Fill(head)
	}
	for i, pt := range pts {
		r := p.DotRadius
		if i == n-1 {
			r *= 1.5 // where the path ends: the final model
		}
		dot := circle(pt, r)
		c.SetColor(col)
		c.Fill(dot)
		c.SetLineStyle(draw.LineStyle{Color: white, Width: vg.Points(0.9)})
		c.Stroke(dot)
	}
	ts := textStyle(p.FontSize, black)
	for i, pt := range pts {
		if i >= len(p.Labels) || p.Labels[i] == "" {
			continue
		}
		// The label goes to the side away from the path's neighbouring
		// steps, so that it covers neither.
		var ux, uy float64
		for _, j := range []int{i - 1, i + 1} {
			if j < 0 || j >= n {
				continue
			}
			dx, dy := float64(pts[j].X-pt.X), float64(pts[j].Y-pt.Y)
			if l := math.Hypot(dx, dy); l > 0 {
				ux, uy = ux+dx/l, uy+dy/l
			}
		}
		if ux == 0 && uy == 0 {
			ux, uy = -1, -1
		}
		w, h := ts.Width(p.Labels[i]), ts.Height(p.Labels[i])
		off := p.DotRadius * 2
		at := vg.Point{X: pt.X + off, Y: pt.Y + off/2}
		if ux > 0 {
			at.X = pt.X - off - w
		}
		if uy > 0 {
			at.Y = pt.Y - off/2 - h
		}
		// A light box under the text keeps it readable over contour lines.
		box := vg.Rectangle{Min: vg.Point{X: at.X - 1, Y: at.Y - 1}, Max: vg.Point{X: at.X + w + 1, Y: at.Y + h}}
		c.SetColor(color.NRGBA{R: 255, G: 255, B: 255, A: 200})
		c.Fill(box.Path())
		c.FillText(ts, at, p.Labels[i])
	}
}

// arrow returns a triangle centred on mid pointing along (ux, uy).
func (p *Path) arrow(mid vg.Point, ux, uy float64) vg.Path {
	s := float64(p.ArrowSize)
	tip := vg.Point{X: mid.X + vg.Length(ux*s/2), Y: mid.Y + vg.Length(uy*s/2)}
	bx, by := float64(mid.X)-ux*s/2, float64(mid.Y)-uy*s/2
	w := s * 0.42
	var path vg.Path
	path.Move(tip)
	path.Line(vg.Point{X: vg.Length(bx - uy*w), Y: vg.Length(by + ux*w)})
	path.Line(vg.Point{X: vg.Length(bx + uy*w), Y: vg.Length(by - ux*w)})
	path.Close()
	return path
}

func circle(c vg.Point, r vg.Length) vg.Path {
	var p vg.Path
	p.Move(vg.Point{X: c.X + r, Y: c.Y})
	p.Arc(c, r, 0, 2*math.Pi)
	p.Close()
	return p
}

// DataRange implements plot.DataRanger, so that a plot.Plot made around a
// Path alone covers it.
func (p *Path) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, ymin = math.Inf(1), math.Inf(1)
	xmax, ymax = math.Inf(-1), math.Inf(-1)
	for i := range min(len(p.X), len(p.Y)) {
		xmin, xmax = math.Min(xmin, p.X[i]), math.Max(xmax, p.X[i])
		ymin, ymax = math.Min(ymin, p.Y[i]), math.Max(ymax, p.Y[i])
	}
	return
}
