package render

import (
	"fmt"
	"image/color"
	"math"
	"sort"

	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Contour draws the contour lines of a surface, each level in its colour
// from a palette and labelled with its value, like the paper's 2-D contour
// plots. Levels are cut from the same triangulation as FilledContour's
// bands (each cell split into four triangles at its centre), so both
// pictures agree. Cells with a NaN corner are left out and shown in the NaN
// colour.
type Contour struct {
	// Grid is the surface; Z(c, r) is the value at X(c), Y(r).
	Grid plotter.GridXYZ

	// Frame holds the title, axis labels, aspect and overlays.
	Frame

	// Levels are the values at which lines are drawn, in any order.
	// NewContour sets them with AutoLevels(values, 10).
	Levels []float64

	// Log spreads the line colours evenly in the logarithm of the level
	// rather than in the level; NewContour sets it with the levels.
	Log bool

	// Min and Max, when Max > Min (and Min > 0 with Log), fix the colour
	// scale of the lines, so that pictures of several surfaces colour a
	// level alike; NewContour leaves them 0: the scale runs between the
	// lowest and the highest level the data cross.
	Min, Max float64

	// ColorMap colours the lines, lowest level first. NewContour sets
	// Viridis.
	ColorMap palette.ColorMap

	// LineWidth is the width of the lines; NewContour sets 1 point.
	LineWidth vg.Length

	// Labels puts level values on the lines; NewContour sets true.
	Labels bool

	// LabelSize is the font size of the labels; NewContour sets 7 points.
	LabelSize vg.Length

	// LabelsPerLevel is the most labels a level gets; NewContour sets 2.
	LabelsPerLevel int

	// NaN is the colour of cells with a NaN corner, hatched when Hatch is
	// true; nil leaves them blank. NewContour sets light grey, hatched.
	NaN   color.Color
	Hatch bool
}

// NewContour returns a contour plot of g with the defaults documented on
// Contour's fields.
func NewContour(g plotter.GridXYZ) *Contour {
	levels, log := AutoLevels(gridValues(g), 10)
	return &Contour{
		Grid:           g,
		Frame:          defaultFrame(),
		Levels:         levels,
		Log:            log,
		ColorMap:       Viridis(),
		LineWidth:      vg.Points(1),
		Labels:         true,
		LabelSize:      vg.Points(7),
		LabelsPerLevel: 2,
		NaN:            defaultNaN,
		Hatch:          true,
	}
}

// lineColorRange is the part of the colour map used for lines on white: the
// lightest end of most maps would not show.
const lineColorRange = 0.88

// LevelColor returns the colour of the line at level l: the colour map at
// l's place between the lowest and the highest level that the data cross,
// or between Min and Max when they are set (on a log scale when Log is
// set), using the darker 88% of the map so that every line shows on white.
func (c *Contour) LevelColor(l float64) color.Color {
	lo, hi, _ := dataRange(gridValues(c.Grid))
	return c.levelColor(c.lineScale(lo, hi), l)
}

func (c *Contour) levelColor(s colorScale, l float64) color.Color {
	return fraction(c.ColorMap, lineColorRange*s.frac(l))
}

// lineScale returns the colour scale of the lines for data in [lo, hi].
func (c *Contour) lineScale(lo, hi float64) colorScale {
	if c.Max > c.Min && (!c.Log || c.Min > 0) {
		return colorScale{lo: c.Min, hi: c.Max, log: c.Log}
	}
	levels, _ := cleanLevels(c.Levels, c.Log)
	var in []float64
	for _, l := range levels {
		if l > lo && l <= hi {
			in = append(in, l)
		}
	}
	if len(in) == 0 {
		in = levels
	}
	if len(in) == 0 {
		return colorScale{}
	}
	return colorScale{lo: in[0], hi: in[len(in)-1], log: c.Log}
}

// Draw draws the contour plot onto dc. It returns an error wrapping
// ErrNoData when no cell of the grid has four finite corners.
func (c *Contour) Draw(dc draw.Canvas) error {
	g, err := readGrid(c.Grid, "contour", 2, 2)
	if err != nil {
		return err
	}
	if err := g.needCells("contour"); err != nil {
		return err
	}
	levels, err := cleanLevels(c.Levels, c.Log)
	if err != nil {
		return fmt.Errorf("render: contour: %w", err)
	}
	if c.ColorMap == nil {
		return fmt.Errorf("render: contour: nil ColorMap")
	}
	lay := c.Frame.layout(dc, minOf(g.x), maxOf(g.x), minOf(g.y), maxOf(g.y), 0)
	fillBackground(dc)
	lay.drawAxes()
	m, rect := meshOn(g, lay)
	fillNaN(dc, rect, c.NaN, c.Hatch)
	dc.SetColor(white)
	dc.Fill(m.region(math.Inf(-1)))

	lo, hi, _ := g.valueRange()
	var drawn []float64
	var lls []levelLines
	for _, l := range levels {
		if l <= lo || l > hi {
			continue
		}
		drawn = append(drawn, l)
		lls = append(lls, levelLines{text: formatValue(l), lines: m.lines(l)})
	}
	s := c.lineScale(lo, hi)
	colorOf := func(i int) color.Color { return c.levelColor(s, drawn[i]) }
	drawLines(dc, lay, lls, draw.LineStyle{Width: c.LineWidth}, colorOf, c.Labels, c.LabelSize, c.LabelsPerLevel,
		func(i int) color.Color { return readable(colorOf(i)) })
	lay.drawOverlays(c.Overlays)
	lay.drawBox()
	return nil
}

// FilledContour fills the bands between contour levels with colours from a
// palette, optionally draws the contour lines over them, and puts a colour
// bar beside the picture. Bands are cut from a triangulation of the grid
// (each cell split into four triangles at its centre); cells with a NaN
// corner are left out and shown in the NaN colour.
type FilledContour struct {
	// Grid is the surface; Z(c, r) is the value at X(c), Y(r).
	Grid plotter.GridXYZ

	// Frame holds the title, axis labels, aspect and overlays.
	Frame

	// Levels are the band boundaries, in any order. NewFilledContour
	// sets them with AutoLevels(values, 10).
	Levels []float64

	// Log makes the colour scale and the colour bar logarithmic;
	// NewFilledContour sets it with the levels. With Log, values <= 0 take
	// the lowest colour.
	Log bool

	// ColorMap colours the bands, lowest first. NewFilledContour sets
	// Viridis.
	ColorMap palette.ColorMap

	// Min and Max are the ends of the colour scale and of the colour bar.
	// NewFilledContour sets the range of the finite values (with Log, Min
	// is the smallest positive value). A band is coloured by the map at
	// its middle, so the colour bar, drawn as bands over [Min, Max], shows
	// exactly the colours of the picture.
	Min, Max float64

	// Lines draws the contour lines over the bands in LineStyle;
	// NewFilledContour sets true, 0.4 point black at 60% opacity.
	Lines     bool
	LineStyle draw.LineStyle

	// Labels puts level values on the lines (when Lines is true), at most
	// LabelsPerLevel per level, in LabelSize; NewFilledContour sets
	// false, 2 and 7 points.
	Labels         bool
	LabelsPerLevel int
	LabelSize      vg.Length

	// NaN is the colour of cells with a NaN corner, hatched when Hatch is
	// true; nil leaves them blank. NewFilledContour sets light grey,
	// hatched.
	NaN   color.Color
	Hatch bool

	// ColorBar draws the colour bar, labelled ZLabel; NewFilledContour
	// sets true and "loss".
	ColorBar bool
	ZLabel   string
}

// NewFilledContour returns a filled contour plot of g with the defaults
// documented on FilledContour's fields.
func NewFilledContour(g plotter.GridXYZ) *FilledContour {
	vals := gridValues(g)
	levels, log := AutoLevels(vals, 10)
	lo, hi, pos := dataRange(vals)
	if log {
		lo = pos
	}
	return &FilledContour{
		Grid:           g,
		Frame:          defaultFrame(),
		Levels:         levels,
		Log:            log,
		ColorMap:       Viridis(),
		Min:            lo,
		Max:            hi,
		Lines:          true,
		LineStyle:      draw.LineStyle{Color: color.NRGBA{A: 153}, Width: vg.Points(0.4)},
		LabelsPerLevel: 2,
		LabelSize:      vg.Points(7),
		NaN:            defaultNaN,
		Hatch:          true,
		ColorBar:       true,
		ZLabel:         "loss",
	}
}

// Color returns the colour in which value v is filled: the colour map at
// the middle of v's band (the interval between the levels around v, cut to
// [Min, Max]), on a log scale when Log is set. NaN gives the NaN colour.
func (f *FilledContour) Color(v float64) color.Color {
	if math.IsNaN(v) {
		return f.NaN
	}
	levels, _ := cleanLevels(f.Levels, f.Log)
	s := colorScale{lo: f.Min, hi: f.Max, log: f.Log}
	j := sort.Search(len(levels), func(i int) bool { return levels[i] > v })
	a, b := f.Min, f.Max
	if j > 0 {
		a = math.Max(a, levels[j-1])
	}
	if j < len(levels) {
		b = math.Min(b, levels[j])
	}
	if b < a {
		// v's band lies outside [Min, Max]: it takes the nearer end.
		if v < f.Min {
			a, b = f.Min, f.Min
		} else {
			a, b = f.Max, f.Max
		}
	}
	mid := s.inverse((s.t(a) + s.t(b)) / 2)
	if s.log && a <= 0 {
		mid = a
	}
	return fraction(f.ColorMap, s.frac(mid))
}

// Draw draws the filled contour plot onto dc. It returns an error wrapping
// ErrNoData when no cell of the grid has four finite corners.
func (f *FilledContour) Draw(dc draw.Canvas) error {
	g, err := readGrid(f.Grid, "filled contour", 2, 2)
	if err != nil {
		return err
	}
	if err := g.needCells("filled contour"); err != nil {
		return err
	}
	levels, err := cleanLevels(f.Levels, f.Log)
	if err != nil {
		return fmt.Errorf("render: filled contour: %w", err)
	}
	if err := checkRange("filled contour", f.Min, f.Max, f.Log); err != nil {
		return err
	}
	if f.ColorMap == nil {
		return fmt.Errorf("render: filled contour: nil ColorMap")
	}
	var bar *colorBar
	var right vg.Length
	if f.ColorBar {
		bar = f.colorBar(levels)
		right = bar.width()
	}
	lay := f.Frame.layout(dc, minOf(g.x), maxOf(g.x), minOf(g.y), maxOf(g.y), right)
	fillBackground(dc)
	lay.drawAxes()
	m, rect := meshOn(g, lay)
	fillNaN(dc, rect, f.NaN, f.Hatch)

	// Paint the cells, then each superlevel set over the last, so that
	// every band lies on the one below it and no seam shows.
	lo, hi, _ := g.valueRange()
	dc.SetColor(f.Color(lo))
	dc.Fill(m.region(math.Inf(-1)))
	var inside []float64
	for _, l := range levels {
		if l <= lo || l > hi {
			continue
		}
		inside = append(inside, l)
		dc.SetColor(f.Color(l))
		dc.Fill(m.region(l))
	}

	if f.Lines {
		var lls []levelLines
		for _, l := range inside {
			lls = append(lls, levelLines{text: formatValue(l), lines: m.lines(l)})
		}
		lineColor := f.LineStyle.Color
		if lineColor == nil {
			lineColor = black
		}
		drawLines(dc, lay, lls, f.LineStyle, func(int) color.Color { return lineColor }, f.Labels, f.LabelSize, f.LabelsPerLevel,
			func(i int) color.Color {
				below := f.Color(math.Nextafter(inside[i], math.Inf(-1)))
				if luminance(f.Color(inside[i]))+luminance(below) > 0.8 {
					return black
				}
				return white
			})
	}
	lay.drawOverlays(f.Overlays)
	lay.drawBox()
	if bar != nil {
		bar.draw(dc, lay.data.Rectangle)
	}
	return nil
}

// colorBar returns the bar showing the bands over [Min, Max], ticked at the
// levels inside it.
func (f *FilledContour) colorBar(levels []float64) *colorBar {
	s := colorScale{lo: f.Min, hi: f.Max, log: f.Log}
	b := &colorBar{scale: s, color: f.Color, label: f.ZLabel, fs: f.Frame.fontSize()}
	b.edges = []float64{}
	for _, l := range levels {
		if l > f.Min && l < f.Max {
			b.edges = append(b.edges, l)
		}
		if l >= f.Min && l <= f.Max {
			b.ticks = append(b.ticks, l)
		}
	}
	if len(b.ticks) < 2 {
		b.ticks = scaleTicks(s)
	}
	return b
}

// scaleTicks returns round ticks over a colour scale's range.
func scaleTicks(s colorScale) []float64 {
	if s.log {
		return logTicks(s.lo, s.hi, 6)
	}
	return linearTicks(s.lo, s.hi, 6)
}

// cleanLevels returns the finite levels sorted and without repeats. With
// log, a level <= 0 is an error.
func cleanLevels(levels []float64, log bool) ([]float64, error) {
	var out []float64
	for _, l := range levels {
		if !finite(l) {
			continue
		}
		if log && l <= 0 {
			return nil, fmt.Errorf("level %v is not positive, as a log scale needs", l)
		}
		out = append(out, l)
	}
	sort.Float64s(out)
	k := 0
	for i, l := range out {
		if i == 0 || l != out[k-1] {
			out[k] = l
			k++
		}
	}
	return out[:k], nil
}

// checkRange checks a colour range.
func checkRange(what string, lo, hi float64, log bool) error {
	if !finite(lo) || !finite(hi) || hi < lo {
		return fmt.Errorf("render: %s: invalid colour range [%v, %v]", what, lo, hi)
	}
	if log && lo <= 0 {
		return fmt.Errorf("render: %s: log colour range [%v, %v] must be positive", what, lo, hi)
	}
	return nil
}

// meshOn places the grid's nodes on the layout's data area and returns the
// mesh and the rectangle the grid covers.
func meshOn(g *grid, lay *layout) (*mesh, vg.Rectangle) {
	px := make([]float64, g.nc)
	py := make([]float64, g.nr)
	for c, x := range g.x {
		px[c] = float64(lay.x(x))
	}
	for r, y := range g.y {
		py[r] = float64(lay.y(y))
	}
	rect := vg.Rectangle{
		Min: vg.Point{X: vg.Length(minOf(px)), Y: vg.Length(minOf(py))},
		Max: vg.Point{X: vg.Length(maxOf(px)), Y: vg.Length(maxOf(py))},
	}
	return newMesh(g, px, py), rect
}

// drawLines strokes contour lines, level i in lineColor(i), breaking them
// under their labels when labels is true.
func drawLines(dc draw.Canvas, lay *layout, lls []levelLines, sty draw.LineStyle, lineColor func(int) color.Color,
	labels bool, size vg.Length, perLevel int, labelColor func(int) color.Color) {
	var placed []label
	ts := textStyle(size, black)
	if labels && size > 0 {
		for i := range lls {
			lls[i].w = float64(ts.Width(lls[i].text))
			lls[i].h = float64(ts.FontExtents().Ascent)
		}
		r := lay.data.Rectangle
		placed = placeLabels(lls, float64(r.Min.X), float64(r.Min.Y), float64(r.Max.X), float64(r.Max.Y), perLevel)
	}
	for i, ll := range lls {
		s := sty
		s.Color = lineColor(i)
		for j, pl := range ll.lines {
			var gaps [][2]float64
			for _, p := range placed {
				if p.level == i && p.line == j {
					gaps = append(gaps, [2]float64{p.s0, p.s1})
				}
			}
			for _, piece := range cut(pl, gaps) {
				dc.StrokeLines(s, piece)
			}
		}
	}
	for _, p := range placed {
		t := ts
		t.Color = labelColor(p.level)
		t.Rotation = p.angle
		t.XAlign = draw.XCenter
		t.YAlign = draw.YCenter
		dc.FillText(t, vg.Point{X: vg.Length(p.cx), Y: vg.Length(p.cy)}, lls[p.level].text)
	}
}

// luminance returns the relative luminance of c, 0 for black to 1 for white.
func luminance(c color.Color) float64 {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	lin := func(u uint8) float64 {
		v := float64(u) / 255
		if v <= 0.04045 {
			return v / 12.92
		}
		return math.Pow((v+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(n.R) + 0.7152*lin(n.G) + 0.0722*lin(n.B)
}

// readable darkens c until text in it reads on white.
func readable(c color.Color) color.Color {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	for luminance(n) > 0.3 {
		n.R, n.G, n.B = uint8(float64(n.R)*0.9), uint8(float64(n.G)*0.9), uint8(float64(n.B)*0.9)
	}
	n.A = 255
	return n
}

func minOf(v []float64) float64 { lo, _ := minMax(v); return lo }
func maxOf(v []float64) float64 { _, hi := minMax(v); return hi }
