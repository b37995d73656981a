package render

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Density draws an eigenvalue density (a Hessian's spectral density, as
// stochastic Lanczos quadrature estimates it) against the eigenvalue, on a
// log-scale vertical axis, as PyHessian draws it: the outliers, a few
// eigenvalues with densities orders of magnitude below the bulk's, stay
// visible. Y[i] is the density at eigenvalue X[i]; NaN in either leaves a gap.
type Density struct {
	// X are the eigenvalues of the grid, in increasing order, and Y the
	// density at each.
	X, Y []float64

	// Title is drawn above the picture; empty means none.
	Title string

	// XLabel and YLabel label the axes; NewDensity sets "eigenvalue" and
	// "density (log scale)".
	XLabel, YLabel string

	// Offset is added to every density before it is drawn, so that zeros
	// (the Gaussian tails underflow) have a place on the log axis; a value
	// that is still not positive is a gap. NewDensity sets 1e-7, as
	// PyHessian does.
	Offset float64

	// Color and LineWidth style the curve; NewDensity sets the blue of
	// Curves and 1 point.
	Color     color.Color
	LineWidth vg.Length

	// Zero draws a thin dashed vertical line at eigenvalue 0 when 0 is in
	// range, separating negative curvature from positive; NewDensity sets
	// true.
	Zero bool

	// FontSize is the size of axis labels; tick labels are a little smaller
	// and the title a little larger. NewDensity sets 10 points.
	FontSize vg.Length

	// Overlays are drawn over the curve, in its coordinates (for example
	// markers at the top eigenvalues, as a plotter.Scatter).
	Overlays []plot.Plotter
}

// NewDensity returns a picture of the density y at the eigenvalues x with
// the defaults documented on Density's fields. The slices are not copied.
func NewDensity(x, y []float64) *Density {
	return &Density{
		X:         x,
		Y:         y,
		XLabel:    "eigenvalue",
		YLabel:    "density (log scale)",
		Offset:    1e-7,
		Color:     color.NRGBA{0x00, 0x72, 0xb2, 255},
		LineWidth: vg.Points(1),
		Zero:      true,
		FontSize:  10,
	}
}

// Draw draws the density onto dc. It returns an error when X and Y differ
// in length, and one wrapping ErrNoData when no point has a finite X and a
// positive finite Y + Offset.
func (d *Density) Draw(dc draw.Canvas) error {
	if len(d.X) != len(d.Y) {
		return fmt.Errorf("render: density: %d eigenvalues, %d densities", len(d.X), len(d.Y))
	}
	xlo, xhi := math.Inf(1), math.Inf(-1)
	ylo, yhi := math.Inf(1), math.Inf(-1)
	var runs []plotter.XYs
	var run plotter.XYs
	for i, x := range d.X {
		y := d.Y[i] + d.Offset
		if !finite(x) || !finite(y) || y <= 0 {
			if len(run) > 0 {
				runs = append(runs, run)
				run = nil
			}
			continue
		}
		run = append(run, plotter.XY{X: x, Y: y})
		xlo, xhi = math.Min(xlo, x), math.Max(xhi, x)
		ylo, yhi = math.Min(ylo, y), math.Max(yhi, y)
	}
	if len(run) > 0 {
		runs = append(runs, run)
	}
	if len(runs) == 0 {
		return fmt.Errorf("%w: density: no point with a finite eigenvalue and a positive density in %d",
			ErrNoData, len(d.X))
	}
	fs := d.FontSize
	if fs <= 0 {
		fs = 10
	}
	fillBackground(dc)

	p := plot.New()
	p.BackgroundColor = nil
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Padding = 0
		ax.Label.TextStyle.Font = font.From(plot.DefaultFont, fs)
		ax.Label.Padding = fs * 0.3
		ax.Tick.Label.Font = font.From(plot.DefaultFont, fs*0.85)
		ax.Tick.Length = fs * 0.35
		ax.Tick.Marker = plot.TickerFunc(niceTicker)
		ax.LineStyle.Width = 0 // framed below
		ax.Tick.LineStyle.Width = vg.Points(0.6)
	}
	p.X.Label.Text = d.XLabel
	// The vertical axis label is drawn below, not by gonum/plot, which
	// places its box by the linear midpoint of a log axis and pads the
	// top of the plot for it.
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.TickerFunc(densityTicker)

	// A little room on either side, and a tenth of the decades spanned
	// above and below.
	dx := (xhi - xlo) * 0.03
	if dx == 0 {
		dx = math.Max(math.Abs(xlo)*0.05, 0.5)
	}
	p.X.Min, p.X.Max = xlo-dx, xhi+dx
	dy := math.Max(math.Log10(yhi/ylo), 0.2) * 0.05
	p.Y.Min, p.Y.Max = ylo/math.Pow(10, dy), yhi*math.Pow(10, dy)

	p.Add(gridLines{log: true})
	if d.Zero && p.X.Min < 0 && p.X.Max > 0 {
		p.Add(zeroLine{})
	}
	for _, r := range runs {
		if len(r) == 1 {
			s, _ := plotter.NewScatter(r)
			s.GlyphStyle = draw.GlyphStyle{Color: d.Color, Radius: d.LineWidth * 1.5, Shape: draw.CircleGlyph{}}
			p.Add(s)
			continue
		}
		l, _ := plotter.NewLine(r)
		l.LineStyle = draw.LineStyle{Color: d.Color, Width: d.LineWidth}
		p.Add(l)
	}
	for _, o := range d.Overlays {
		if o != nil {
			p.Add(o)
		}
	}

	m := fs * 0.6
	area := draw.Crop(dc, m, -m, m, -m)
	if d.Title != "" {
		ts := textStyle(fs*1.2, black)
		ts.XAlign = draw.XCenter
		ts.YAlign = draw.YTop
		dc.FillText(ts, vg.Point{X: (area.Min.X + area.Max.X) / 2, Y: area.Max.Y}, d.Title)
		area.Max.Y -= ts.Height(d.Title) + fs*0.6
	}
	var ylab text.Style
	if d.YLabel != "" {
		ylab = textStyle(fs, black)
		ylab.Rotation = math.Pi / 2
		ylab.XAlign = draw.XCenter
		ylab.YAlign = draw.YTop
		area.Min.X += ylab.Height(d.YLabel) + fs*0.3
	}
	p.Draw(area)
	data := p.DataCanvas(area)
	if d.YLabel != "" {
		dc.FillText(ylab, vg.Point{X: area.Min.X - ylab.Height(d.YLabel) - fs*0.3, Y: (data.Min.Y + data.Max.Y) / 2},
			d.YLabel)
	}
	r := data.Rectangle
	data.StrokeLines(draw.LineStyle{Color: black, Width: vg.Points(0.6)},
		[]vg.Point{r.Min, {X: r.Max.X, Y: r.Min.Y}, r.Max, {X: r.Min.X, Y: r.Max.Y}, r.Min})
	return nil
}

// zeroLine draws a dashed vertical line at x = 0.
type zeroLine struct{}

func (zeroLine) Plot(c draw.Canvas, p *plot.Plot) {
	x := c.X(p.X.Norm(0))
	sty := draw.LineStyle{Color: color.Gray{Y: 140}, Width: vg.Points(0.6), Dashes: []vg.Length{vg.Points(3), vg.Points(2)}}
	c.StrokeLine2(sty, x, c.Min.Y, x, c.Max.Y)
}

// densityTicker is logTicker without the minor ticks when the axis spans
// more than five decades, where they merge into a comb.
func densityTicker(lo, hi float64) []plot.Tick {
	t := logTicker(lo, hi)
	if lo > 0 && math.Log10(hi/lo) <= 5 {
		return t
	}
	major := t[:0]
	for _, k := range t {
		if k.Label != "" {
			major = append(major, k)
		}
	}
	return major
}
