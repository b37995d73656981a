package render

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Frame is what surrounds the data of a 2-D picture: a title, axis labels,
// the shape of the data area and things drawn over the data. Contour,
// FilledContour and HeatMap embed it.
type Frame struct {
	// Title is drawn above the picture; empty means none.
	Title string

	// XLabel and YLabel label the horizontal (column) and vertical (row)
	// axes, for example "x direction" and "y direction".
	XLabel, YLabel string

	// Aspect is the height of the data area divided by its width. Zero
	// lets the data area fill the canvas. Constructors set 1, square, as
	// the paper draws its contour plots.
	Aspect float64

	// FontSize is the size of the axis labels; tick labels are drawn a
	// little smaller and the title a little larger. Constructors set 10
	// points.
	FontSize vg.Length

	// Overlays are drawn over the data, in the data's coordinates, after
	// everything else inside the axes; for example an optimizer's
	// trajectory as a plotter.Line and plotter.Scatter. They are not
	// clipped to the data area.
	Overlays []plot.Plotter
}

func defaultFrame() Frame { return Frame{Aspect: 1, FontSize: 10} }

var (
	black      = color.Gray{Y: 0}
	white      = color.Gray{Y: 255}
	defaultNaN = color.Gray{Y: 224}
)

func (f *Frame) fontSize() vg.Length {
	if f.FontSize > 0 {
		return f.FontSize
	}
	return 10
}

// textStyle returns a plain text style in the package's font.
func textStyle(size vg.Length, c color.Color) text.Style {
	return text.Style{
		Color:   c,
		Font:    font.From(plot.DefaultFont, size),
		XAlign:  draw.XLeft,
		YAlign:  draw.YBottom,
		Handler: plot.DefaultTextHandler,
	}
}

// layout is the arrangement of a 2-D picture on its canvas.
type layout struct {
	plot *plot.Plot  // axes, labels and title, with no plotters
	area draw.Canvas // where plot draws
	data draw.Canvas // the data area inside the axes
}

// x and y map data coordinates to canvas coordinates.
func (l *layout) x(v float64) vg.Length { return l.data.X(l.plot.X.Norm(v)) }
func (l *layout) y(v float64) vg.Length { return l.data.Y(l.plot.Y.Norm(v)) }

// layout arranges axes for the data range [xlo, xhi] x [ylo, yhi] on c,
// leaving room of width right beside the data area (for a colour bar).
func (f *Frame) layout(c draw.Canvas, xlo, xhi, ylo, yhi float64, right vg.Length) *layout {
	fs := f.fontSize()
	p := plot.New()
	p.BackgroundColor = nil
	p.Title.Text = f.Title
	p.Title.TextStyle.Font = font.From(plot.DefaultFont, fs*1.2)
	p.Title.Padding = fs * 0.8
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Padding = 0
		ax.Label.TextStyle.Font = font.From(plot.DefaultFont, fs)
		ax.Label.Padding = fs * 0.3
		ax.Tick.Label.Font = font.From(plot.DefaultFont, fs*0.85)
		ax.Tick.Length = fs * 0.35
		ax.Tick.Marker = plot.TickerFunc(niceTicker)
		ax.LineStyle.Width = 0 // drawBox draws the frame
		ax.Tick.LineStyle.Width = vg.Points(0.6)
	}
	p.X.Min, p.X.Max = xlo, xhi
	p.Y.Min, p.Y.Max = ylo, yhi
	p.X.Label.Text = f.XLabel
	p.Y.Label.Text = f.YLabel

	m := fs * 0.6
	area := draw.Crop(c, m, -(m + right), m, -m)
	data := p.DataCanvas(area)
	if f.Aspect > 0 {
		dw := float64(data.Max.X - data.Min.X)
		dh := float64(data.Max.Y - data.Min.Y)
		if dh > f.Aspect*dw {
			e := vg.Length(dh-f.Aspect*dw) / 2
			area = draw.Crop(area, 0, 0, e, -e)
		} else if dw > dh/f.Aspect {
			e := vg.Length(dw-dh/f.Aspect) / 2
			area = draw.Crop(area, e, -e, 0, 0)
		}
		data = p.DataCanvas(area)
	}
	return &layout{plot: p, area: area, data: data}
}

// niceTicker gives about five round, labelled ticks with a common number
// of decimals.
func niceTicker(lo, hi float64) []plot.Tick {
	v := linearTicks(lo, hi, 5)
	s := formatTicks(v)
	t := make([]plot.Tick, len(v))
	for i := range v {
		t[i] = plot.Tick{Value: v[i], Label: s[i]}
	}
	return t
}

// drawAxes draws the axes, title and labels.
func (l *layout) drawAxes() { l.plot.Draw(l.area) }

// drawOverlays draws plotters over the data.
func (l *layout) drawOverlays(ps []plot.Plotter) {
	for _, o := range ps {
		if o != nil {
			o.Plot(l.data, l.plot)
		}
	}
}

// drawBox strokes the border of the data area.
func (l *layout) drawBox() {
	r := l.data.Rectangle
	sty := draw.LineStyle{Color: black, Width: vg.Points(0.6)}
	l.data.StrokeLines(sty, []vg.Point{r.Min, {X: r.Max.X, Y: r.Min.Y}, r.Max, {X: r.Min.X, Y: r.Max.Y}, r.Min})
}

func fillBackground(c draw.Canvas) {
	c.SetColor(white)
	c.Fill(c.Rectangle.Path())
}

// fillNaN fills rect with the NaN colour, hatched when hatch is true. The
// data drawn over it leaves the colour showing only where values are NaN.
func fillNaN(c draw.Canvas, rect vg.Rectangle, col color.Color, hatch bool) {
	if col == nil {
		return
	}
	c.SetColor(col)
	c.Fill(rect.Path())
	if !hatch {
		return
	}
	n := color.NRGBAModel.Convert(col).(color.NRGBA)
	dark := color.NRGBA{R: uint8(float64(n.R) * 0.7), G: uint8(float64(n.G) * 0.7), B: uint8(float64(n.B) * 0.7), A: n.A}
	clip := draw.Canvas{Canvas: c.Canvas, Rectangle: rect}
	sty := draw.LineStyle{Color: dark, Width: vg.Points(0.5)}
	step := vg.Points(4)
	h := rect.Max.Y - rect.Min.Y
	for x := rect.Min.X - h; x < rect.Max.X; x += step {
		line := []vg.Point{{X: x, Y: rect.Min.Y}, {X: x + h, Y: rect.Max.Y}}
		for _, seg := range clip.ClipLinesXY(line) {
			clip.StrokeLines(sty, seg)
		}
	}
}

// colorScale maps values to fractions along a colour map.
type colorScale struct {
	lo, hi float64
	log    bool
}

func (s colorScale) t(v float64) float64 {
	if s.log {
		if v <= 0 {
			return math.Inf(-1)
		}
		return math.Log10(v)
	}
	return v
}

// inverse undoes t.
func (s colorScale) inverse(u float64) float64 {
	if s.log {
		return math.Pow(10, u)
	}
	return u
}

// frac returns where v lies between lo and hi, clamped to [0, 1]; 0.5 when
// the range is empty.
func (s colorScale) frac(v float64) float64 {
	a, b := s.t(s.lo), s.t(s.hi)
	if !(b > a) {
		return 0.5
	}
	f := (s.t(v) - a) / (b - a)
	return math.Max(0, math.Min(1, f))
}

// colorBar draws a vertical colour bar to the right of a data area.
type colorBar struct {
	scale colorScale
	// edges are the band boundaries inside (lo, hi); nil draws a
	// continuous bar.
	edges []float64
	color func(v float64) color.Color
	ticks []float64
	label string
	fs    vg.Length
}

func (b *colorBar) geometry() (gap, barW, tick vg.Length) {
	return b.fs * 1.0, b.fs * 1.1, b.fs * 0.35
}

func (b *colorBar) tickStyle() text.Style {
	s := textStyle(b.fs*0.85, black)
	s.YAlign = draw.YCenter
	return s
}

// labels returns the tick labels, formatted together.
func (b *colorBar) labels(ts []float64) []string {
	if b.scale.log {
		s := make([]string, len(ts))
		for i, v := range ts {
			s[i] = formatValue(v)
		}
		return s
	}
	return formatTicks(ts)
}

// width returns the room the bar needs beside the data area.
func (b *colorBar) width() vg.Length {
	gap, barW, tick := b.geometry()
	w := gap + barW + tick + b.fs*0.3
	ts := b.tickStyle()
	var lw vg.Length
	for _, s := range b.labels(b.ticks) {
		lw = max(lw, ts.Width(s))
	}
	w += lw
	if b.label != "" {
		w += b.fs*0.6 + b.fs*1.2
	}
	return w
}

// draw draws the bar beside the data rectangle d.
func (b *colorBar) draw(c draw.Canvas, d vg.Rectangle) {
	gap, barW, tick := b.geometry()
	x0, x1 := d.Max.X+gap, d.Max.X+gap+barW
	y0, y1 := d.Min.Y, d.Max.Y
	pos := func(v float64) vg.Length { return y0 + (y1-y0)*vg.Length(b.scale.frac(v)) }
	rect := func(ya vg.Length) vg.Path {
		return vg.Rectangle{Min: vg.Point{X: x0, Y: ya}, Max: vg.Point{X: x1, Y: y1}}.Path()
	}
	lo, hi := b.scale.t(b.scale.lo), b.scale.t(b.scale.hi)
	if !(hi > lo) {
		// An empty range: one colour, its value ticked in the middle.
		c.SetColor(b.color(b.scale.lo))
		c.Fill(rect(y0))
	} else if b.edges != nil {
		// Each band from its lower edge to the top, in order, so that no
		// seam shows between bands.
		bounds := append(append([]float64{b.scale.lo}, b.edges...), b.scale.hi)
		for i := 0; i+1 < len(bounds); i++ {
			mid := b.scale.inverse((b.scale.t(bounds[i]) + b.scale.t(bounds[i+1])) / 2)
			c.SetColor(b.color(mid))
			c.Fill(rect(pos(bounds[i])))
		}
	} else {
		const n = 256
		for i := range n {
			u := lo + (hi-lo)*float64(i)/n
			v := b.scale.inverse(lo + (hi-lo)*(float64(i)+0.5)/n)
			c.SetColor(b.color(v))
			c.Fill(rect(pos(b.scale.inverse(u))))
		}
	}
	line := draw.LineStyle{Color: black, Width: vg.Points(0.6)}
	c.StrokeLines(line, []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}, {X: x0, Y: y0}})

	ts := b.tickStyle()
	ticks := b.thinTicks(y1 - y0)
	labels := b.labels(ticks)
	var lw vg.Length
	for i, v := range ticks {
		y := pos(v)
		c.StrokeLine2(line, x1, y, x1+tick, y)
		c.FillText(ts, vg.Point{X: x1 + tick + b.fs*0.3, Y: y}, labels[i])
		lw = max(lw, ts.Width(labels[i]))
	}
	if b.label != "" {
		ls := textStyle(b.fs, black)
		ls.Rotation = math.Pi / 2
		ls.XAlign = draw.XCenter
		ls.YAlign = draw.YTop
		c.FillText(ls, vg.Point{X: x1 + tick + b.fs*0.3 + lw + b.fs*0.6, Y: (y0 + y1) / 2}, b.label)
	}
}

// thinTicks returns the ticks inside the bar's range, every k-th one with
// the smallest k that keeps labels apart on a bar of height h, preferring
// the offset that keeps the most powers of ten.
func (b *colorBar) thinTicks(h vg.Length) []float64 {
	var in []float64
	for _, v := range b.ticks {
		if v >= b.scale.lo-1e-9*math.Abs(b.scale.lo) && v <= b.scale.hi+1e-9*math.Abs(b.scale.hi) {
			in = append(in, v)
		}
	}
	if len(in) < 2 {
		return in
	}
	minGap := float64(b.fs) * 0.85 * 1.3 / float64(h)
	for k := 1; k < len(in); k++ {
		var best []float64
		bestScore := -1
		for off := range k {
			var sel []float64
			score := 0
			ok := true
			for i := off; i < len(in); i += k {
				if len(sel) > 0 && b.scale.frac(in[i])-b.scale.frac(sel[len(sel)-1]) < minGap {
					ok = false
					break
				}
				sel = append(sel, in[i])
				if l := math.Log10(math.Abs(in[i])); in[i] != 0 && l == math.Round(l) {
					score++
				}
			}
			if ok && (score > bestScore || (score == bestScore && len(sel) > len(best))) {
				best, bestScore = sel, score
			}
		}
		if best != nil {
			return best
		}
	}
	return in[:1]
}
