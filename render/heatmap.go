package render

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// HeatMap colours a rectangle around each grid point by its value and puts
// a colour bar beside the picture. The rectangle of point (c, r) reaches
// half way to its neighbours, as in gonum's plotter.HeatMap. NaN points
// are drawn in their own colour.
type HeatMap struct {
	// Grid is the surface; Z(c, r) is the value at X(c), Y(r).
	Grid plotter.GridXYZ

	// Frame holds the title, axis labels, aspect and overlays.
	Frame

	// ColorMap colours the values, Min first. NewHeatMap sets Viridis.
	ColorMap palette.ColorMap

	// Min and Max are the ends of the colour scale and of the colour bar;
	// values outside take the colour of the nearer end. NewHeatMap sets the
	// range of the finite values (with Log, Min is the smallest positive
	// value).
	Min, Max float64

	// Log makes the colour scale logarithmic; values <= 0 then take the
	// lowest colour. NewHeatMap sets it when the values are >= 0 and the
	// positive ones span more than two decades, as AutoLevels does.
	Log bool

	// NaN is the colour of NaN points, hatched when Hatch is true;
	// nil leaves them blank. NewHeatMap sets light grey, hatched.
	NaN   color.Color
	Hatch bool

	// ColorBar draws the colour bar, labelled ZLabel; NewHeatMap sets true
	// and "loss".
	ColorBar bool
	ZLabel   string
}

// NewHeatMap returns a heat map of g with the defaults documented on
// HeatMap's fields.
func NewHeatMap(g plotter.GridXYZ) *HeatMap {
	lo, hi, pos := dataRange(gridValues(g))
	log := wantLog(lo, hi, pos)
	if log {
		lo = pos
	}
	return &HeatMap{
		Grid:     g,
		Frame:    defaultFrame(),
		ColorMap: Viridis(),
		Min:      lo,
		Max:      hi,
		Log:      log,
		NaN:      defaultNaN,
		Hatch:    true,
		ColorBar: true,
		ZLabel:   "loss",
	}
}

// Color returns the colour of value v; NaN gives the NaN colour.
func (h *HeatMap) Color(v float64) color.Color {
	if math.IsNaN(v) {
		return h.NaN
	}
	return fraction(h.ColorMap, colorScale{lo: h.Min, hi: h.Max, log: h.Log}.frac(v))
}

// Draw draws the heat map onto dc. It returns an error wrapping ErrNoData
// when every value is NaN.
func (h *HeatMap) Draw(dc draw.Canvas) error {
	g, err := readGrid(h.Grid, "heat map", 1, 1)
	if err != nil {
		return err
	}
	if err := checkRange("heat map", h.Min, h.Max, h.Log); err != nil {
		return err
	}
	if h.ColorMap == nil {
		return fmt.Errorf("render: heat map: nil ColorMap")
	}
	ex, ey := cellEdges(g.x), cellEdges(g.y)
	var bar *colorBar
	var right vg.Length
	if h.ColorBar {
		s := colorScale{lo: h.Min, hi: h.Max, log: h.Log}
		bar = &colorBar{scale: s, color: h.Color, ticks: scaleTicks(s), label: h.ZLabel, fs: h.Frame.fontSize()}
		right = bar.width()
	}
	lay := h.Frame.layout(dc, minOf(ex), maxOf(ex), minOf(ey), maxOf(ey), right)
	fillBackground(dc)
	lay.drawAxes()
	fillNaN(dc, lay.data.Rectangle, h.NaN, h.Hatch)

	px := make([]vg.Length, len(ex))
	py := make([]vg.Length, len(ey))
	for i, x := range ex {
		px[i] = lay.x(x)
	}
	for i, y := range ey {
		py[i] = lay.y(y)
	}
	// Each cell overlaps its finite neighbours by a hair, so that no seam
	// of background shows between cells.
	const hair = vg.Length(0.15)
	grow := func(a, b vg.Length, left, right bool) (vg.Length, vg.Length) {
		if a > b {
			b2, a2 := b, a
			if right {
				b2 -= hair
			}
			if left {
				a2 += hair
			}
			return a2, b2
		}
		if left {
			a -= hair
		}
		if right {
			b += hair
		}
		return a, b
	}
	for r := range g.nr {
		for c := range g.nc {
			v := g.at(c, r)
			if math.IsNaN(v) {
				continue
			}
			x0, x1 := grow(px[c], px[c+1], c > 0 && !math.IsNaN(g.at(c-1, r)), c+1 < g.nc && !math.IsNaN(g.at(c+1, r)))
			y0, y1 := grow(py[r], py[r+1], r > 0 && !math.IsNaN(g.at(c, r-1)), r+1 < g.nr && !math.IsNaN(g.at(c, r+1)))
			dc.SetColor(h.Color(v))
			dc.Fill(vg.Rectangle{
				Min: vg.Point{X: min(x0, x1), Y: min(y0, y1)},
				Max: vg.Point{X: max(x0, x1), Y: max(y0, y1)},
			}.Path())
		}
	}
	lay.drawOverlays(h.Overlays)
	lay.drawBox()
	if bar != nil {
		bar.draw(dc, lay.data.Rectangle)
	}
	return nil
}

// cellEdges returns the boundaries of the cells around coordinates v: half
// way between neighbours, and half a step beyond the ends (a unit wide cell
// for a single coordinate).
func cellEdges(v []float64) []float64 {
	n := len(v)
	e := make([]float64, n+1)
	if n == 1 {
		e[0], e[1] = v[0]-0.5, v[0]+0.5
		return e
	}
	e[0] = v[0] - (v[1]-v[0])/2
	for i := 1; i < n; i++ {
		e[i] = (v[i-1] + v[i]) / 2
	}
	e[n] = v[n-1] + (v[n-1]-v[n-2])/2
	return e
}
