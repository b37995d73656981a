package render

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Curve is a 1-D loss curve: Loss[i] and Acc[i] are the loss and accuracy at
// coordinate X[i] (an interpolation coefficient or a step along a
// direction). Acc is nil for regression. NaN marks a point not computed and
// leaves a gap in the line.
type Curve struct {
	Label        string
	X, Loss, Acc []float64
	// Estimated, if not nil, marks the points that were interpolated
	// rather than computed: they get a small grey dot on the loss curve.
	Estimated []bool
}

// Curves draws loss curves against their coordinate, several overlaid in
// distinct colours with a legend. When any curve has accuracies, a second
// panel below the loss panel shows them on the same horizontal axis; two
// stacked panels read better than the paper's twin axes once several curves
// are overlaid.
type Curves struct {
	// Curves are drawn in order, Curves[i] in Colors[i % len(Colors)].
	Curves []Curve

	// Title is drawn above the picture; empty means none.
	Title string

	// XLabel labels the horizontal axis, for example "interpolation α".
	XLabel string

	// LossLabel and AccLabel label the vertical axes of the panels;
	// NewCurves sets "loss" and "accuracy".
	LossLabel, AccLabel string

	// LogLoss draws the loss on a log scale; values <= 0 are then gaps.
	LogLoss bool

	// Colors are the curves' colours; NewCurves sets Okabe and Ito's
	// colour-blind-safe set (blue, vermillion, green, purple, orange, sky
	// blue, black).
	Colors []color.Color

	// LineWidth is the width of the curves; NewCurves sets 1.5 points.
	LineWidth vg.Length

	// FontSize is the size of axis labels; tick labels are a little
	// smaller and the title a little larger. NewCurves sets 10 points.
	FontSize vg.Length

	// AccFraction is the share of the height given to the accuracy panel;
	// NewCurves sets 0.4.
	AccFraction float64
}

// NewCurves returns a picture of the curves with the defaults documented on
// Curves' fields.
func NewCurves(curves ...Curve) *Curves {
	return &Curves{
		Curves:    curves,
		LossLabel: "loss",
		AccLabel:  "accuracy",
		Colors: []color.Color{
			color.NRGBA{0x00, 0x72, 0xb2, 255}, // blue
			color.NRGBA{0xd5, 0x5e, 0x00, 255}, // vermillion
			color.NRGBA{0x00, 0x9e, 0x73, 255}, // bluish green
			color.NRGBA{0xcc, 0x79, 0xa7, 255}, // reddish purple
			color.NRGBA{0xe6, 0x9f, 0x00, 255}, // orange
			color.NRGBA{0x56, 0xb4, 0xe9, 255}, // sky blue
			color.NRGBA{0x00, 0x00, 0x00, 255}, // black
		},
		LineWidth:   vg.Points(1.5),
		FontSize:    10,
		AccFraction: 0.4,
	}
}

func (cv *Curves) color(i int) color.Color {
	if len(cv.Colors) == 0 {
		return black
	}
	return cv.Colors[i%len(cv.Colors)]
}

// Draw draws the curves onto dc. It returns an error when a curve's slices
// differ in length, and one wrapping ErrNoData when no curve has a finite
// point to draw.
func (cv *Curves) Draw(dc draw.Canvas) error {
	xlo, xhi := math.Inf(1), math.Inf(-1)
	hasLoss, hasAcc := false, false
	for i, c := range cv.Curves {
		if len(c.Loss) != len(c.X) || (c.Acc != nil && len(c.Acc) != len(c.X)) {
			return fmt.Errorf("render: curves: curve %d (%q): %d x values, %d losses, %d accuracies",
				i, c.Label, len(c.X), len(c.Loss), len(c.Acc))
		}
		for j, x := range c.X {
			if !finite(x) {
				continue
			}
			if cv.lossOK(c.Loss[j]) {
				hasLoss = true
				xlo, xhi = math.Min(xlo, x), math.Max(xhi, x)
			}
			if c.Acc != nil && finite(c.Acc[j]) {
				hasAcc = true
				xlo, xhi = math.Min(xlo, x), math.Max(xhi, x)
			}
		}
	}
	if !hasLoss && !hasAcc {
		return fmt.Errorf("%w: curves: no finite point in %d curves", ErrNoData, len(cv.Curves))
	}
	fs := cv.FontSize
	if fs <= 0 {
		fs = 10
	}
	fillBackground(dc)
	m := fs * 0.6
	area := draw.Crop(dc, m, -m, m, -m)

	if cv.Title != "" {
		ts := textStyle(fs*1.2, black)
		ts.XAlign = draw.XCenter
		ts.YAlign = draw.YTop
		dc.FillText(ts, vg.Point{X: (area.Min.X + area.Max.X) / 2, Y: area.Max.Y}, cv.Title)
		area.Max.Y -= ts.Height(cv.Title) + fs*0.6
	}
	area.Max.Y -= cv.drawLegend(dc, area, fs)

	panels := []*plot.Plot{cv.panel(fs, xlo, xhi, false)}
	canvases := []draw.Canvas{area}
	if hasAcc {
		frac := cv.AccFraction
		if !(frac > 0 && frac < 1) {
			frac = 0.4
		}
		gap := fs * 0.8
		h := area.Max.Y - area.Min.Y - gap
		top := draw.Crop(area, 0, 0, gap+h*vg.Length(frac), 0)
		bottom := draw.Crop(area, 0, 0, 0, -(gap + h*vg.Length(1-frac)))
		panels = append(panels, cv.panel(fs, xlo, xhi, true))
		canvases = []draw.Canvas{top, bottom}
		// Only the bottom panel labels the shared axis.
		panels[0].X.Label.Text = ""
		panels[0].X.Tick.Marker = plot.TickerFunc(func(lo, hi float64) []plot.Tick {
			t := niceTicker(lo, hi)
			for i := range t {
				t[i] = plot.Tick{Value: t[i].Value}
			}
			return t
		})
	}
	if !hasLoss {
		panels[0].Y.Min, panels[0].Y.Max = 0, 1
	}
	alignLeftRight(panels, canvases)
	for i, p := range panels {
		p.Draw(canvases[i])
		d := p.DataCanvas(canvases[i])
		r := d.Rectangle
		d.StrokeLines(draw.LineStyle{Color: black, Width: vg.Points(0.6)},
			[]vg.Point{r.Min, {X: r.Max.X, Y: r.Min.Y}, r.Max, {X: r.Min.X, Y: r.Max.Y}, r.Min})
	}
	return nil
}

func (cv *Curves) lossOK(v float64) bool { return finite(v) && (!cv.LogLoss || v > 0) }

// panel returns the loss panel, or the accuracy panel when acc is true, with
// the curves added.
func (cv *Curves) panel(fs vg.Length, xlo, xhi float64, acc bool) *plot.Plot {
	p := plot.New()
	p.BackgroundColor = nil
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Padding = 0
		ax.Label.TextStyle.Font = font.From(plot.DefaultFont, fs)
		ax.Label.Padding = fs * 0.3
		ax.Tick.Label.Font = font.From(plot.DefaultFont, fs*0.85)
		ax.Tick.Length = fs * 0.35
		ax.Tick.Marker = plot.TickerFunc(niceTicker)
		ax.LineStyle.Width = 0 // Draw frames the data area
		ax.Tick.LineStyle.Width = vg.Points(0.6)
	}
	p.X.Label.Text = cv.XLabel
	p.Y.Label.Text = cv.LossLabel
	log := cv.LogLoss && !acc
	if acc {
		p.Y.Label.Text = cv.AccLabel
	}
	if log {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.TickerFunc(logTicker)
	}
	p.Add(gridLines{log: log})

	ylo, yhi := math.Inf(1), math.Inf(-1)
	for i, c := range cv.Curves {
		ys := c.Loss
		ok := cv.lossOK
		if acc {
			if c.Acc == nil {
				continue
			}
			ys = c.Acc
			ok = finite
		}
		col := cv.color(i)
		var run plotter.XYs
		flush := func() {
			switch len(run) {
			case 0:
			case 1:
				s, _ := plotter.NewScatter(run)
				s.GlyphStyle = draw.GlyphStyle{Color: col, Radius: cv.LineWidth * 1.2, Shape: draw.CircleGlyph{}}
				p.Add(s)
			default:
				l, _ := plotter.NewLine(run)
				l.LineStyle = draw.LineStyle{Color: col, Width: cv.LineWidth}
				p.Add(l)
			}
			run = nil
		}
		var dots plotter.XYs
		for j, x := range c.X {
			if !finite(x) || !ok(ys[j]) {
				flush()
				continue
			}
			run = append(run, plotter.XY{X: x, Y: ys[j]})
			ylo, yhi = math.Min(ylo, ys[j]), math.Max(yhi, ys[j])
			if !acc && j < len(c.Estimated) && c.Estimated[j] {
				dots = append(dots, plotter.XY{X: x, Y: ys[j]})
			}
		}
		flush()
		if len(dots) > 0 {
			s, _ := plotter.NewScatter(dots)
			s.GlyphStyle = draw.GlyphStyle{Color: color.NRGBA{90, 90, 90, 160}, Radius: cv.LineWidth * 0.8, Shape: draw.CircleGlyph{}}
			p.Add(s)
		}
	}
	p.X.Min, p.X.Max = xlo, xhi
	if xlo == xhi {
		p.X.Min, p.X.Max = xlo-0.5, xhi+0.5
	}
	switch {
	case math.IsInf(ylo, 1):
		p.Y.Min, p.Y.Max = 0, 1
		if log {
			p.Y.Min, p.Y.Max = 0.1, 10
		}
	case log:
		d := math.Max(math.Log10(yhi/ylo), 0.2) * 0.05
		p.Y.Min, p.Y.Max = ylo/math.Pow(10, d), yhi*math.Pow(10, d)
	default:
		d := (yhi - ylo) * 0.05
		if d == 0 {
			d = math.Max(math.Abs(ylo)*0.05, 0.05)
		}
		p.Y.Min, p.Y.Max = ylo-d, yhi+d
	}
	return p
}

// logTicker gives round ticks for a log axis, labelled, with unlabelled
// minor ticks between decades.
func logTicker(lo, hi float64) []plot.Tick {
	vs := logTicks(lo, hi, 5)
	var t []plot.Tick
	for _, v := range vs {
		t = append(t, plot.Tick{Value: v, Label: formatValue(v)})
	}
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		for m := 2; m <= 9; m++ {
			v := decimal(m, int(e))
			if v < lo || v > hi {
				continue
			}
			dup := false
			for _, u := range vs {
				if math.Abs(u-v) <= 1e-9*v {
					dup = true
				}
			}
			if !dup {
				t = append(t, plot.Tick{Value: v})
			}
		}
	}
	return t
}

// alignLeftRight crops the canvases so that the panels' data areas share
// their left and right edges.
func alignLeftRight(ps []*plot.Plot, cs []draw.Canvas) {
	var left, right vg.Length
	for i, p := range ps {
		d := p.DataCanvas(cs[i])
		left = max(left, d.Min.X-cs[i].Min.X)
		right = max(right, cs[i].Max.X-d.Max.X)
	}
	for i, p := range ps {
		d := p.DataCanvas(cs[i])
		cs[i] = draw.Crop(cs[i], left-(d.Min.X-cs[i].Min.X), -(right - (cs[i].Max.X - d.Max.X)), 0, 0)
	}
}

// drawLegend draws a row (or rows) of legend entries at the top of area and
// returns the height used.
func (cv *Curves) drawLegend(dc draw.Canvas, area draw.Canvas, fs vg.Length) vg.Length {
	type entry struct {
		i    int
		text string
		w    vg.Length
	}
	ts := textStyle(fs*0.9, black)
	ts.YAlign = draw.YCenter
	sample := fs * 2
	var entries []entry
	for i, c := range cv.Curves {
		if c.Label == "" {
			continue
		}
		entries = append(entries, entry{i, c.Label, sample + fs*0.4 + ts.Width(c.Label)})
	}
	if len(entries) == 0 {
		return 0
	}
	sep := fs * 1.5
	width := area.Max.X - area.Min.X
	var rows [][]entry
	var cur []entry
	var curW vg.Length
	for _, e := range entries {
		if len(cur) > 0 && curW+sep+e.w > width {
			rows = append(rows, cur)
			cur, curW = nil, 0
		}
		if len(cur) > 0 {
			curW += sep
		}
		cur = append(cur, e)
		curW += e.w
	}
	rows = append(rows, cur)
	rowH := fs * 1.4
	y := area.Max.Y - rowH/2
	for _, row := range rows {
		var w vg.Length
		for k, e := range row {
			if k > 0 {
				w += sep
			}
			w += e.w
		}
		x := (area.Min.X+area.Max.X)/2 - w/2
		for _, e := range row {
			dc.StrokeLine2(draw.LineStyle{Color: cv.color(e.i), Width: cv.LineWidth}, x, y, x+sample, y)
			dc.FillText(ts, vg.Point{X: x + sample + fs*0.4, Y: y}, e.text)
			x += e.w + sep
		}
		y -= rowH
	}
	return rowH*vg.Length(len(rows)) + fs*0.3
}

// gridLines draws light grid lines at the round tick values of a panel,
// whatever its tick labels.
type gridLines struct{ log bool }

func (g gridLines) Plot(c draw.Canvas, p *plot.Plot) {
	sty := draw.LineStyle{Color: color.Gray{Y: 225}, Width: vg.Points(0.4)}
	for _, t := range niceTicker(p.X.Min, p.X.Max) {
		x := c.X(p.X.Norm(t.Value))
		c.StrokeLine2(sty, x, c.Min.Y, x, c.Max.Y)
	}
	ys := niceTicker
	if g.log {
		ys = logTicker
	}
	for _, t := range ys(p.Y.Min, p.Y.Max) {
		if t.Label == "" {
			continue
		}
		y := c.Y(p.Y.Norm(t.Value))
		c.StrokeLine2(sty, c.Min.X, y, c.Max.X, y)
	}
}
