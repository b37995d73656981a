package render

import (
	"fmt"
	"image/color"
	"math"
	"sort"

	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Surface draws a surface in 3-D, like the paper's surface plots: each grid
// cell is a quadrilateral coloured by its mean height from a palette and
// shaded by the light falling on it, seen from an azimuth and an elevation
// (orthographic projection), inside a box whose back panes carry grid lines
// and whose front edges carry the x, y and loss axes. Cells are painted far
// to near (painter's algorithm); cells with a NaN corner are left out.
//
// The box is a cube whose height is ZScale times its width, whatever the
// ranges of x, y and loss, as in matplotlib's 3-D plots.
type Surface struct {
	// Grid is the surface; Z(c, r) is the loss at X(c), Y(r).
	Grid plotter.GridXYZ

	// Title is drawn above the picture; empty means none.
	Title string

	// XLabel, YLabel and ZLabel label the axes; NewSurface sets "x", "y"
	// and "loss".
	XLabel, YLabel, ZLabel string

	// ColorMap colours the surface by height; NewSurface sets Viridis.
	ColorMap palette.ColorMap

	// Azimuth and Elevation give the direction the surface is seen from,
	// in degrees: azimuth counter-clockwise from the +x axis in the x-y
	// plane, elevation above that plane. NewSurface sets -60 and 30, the
	// view of matplotlib's 3-D plots and of the paper's figures.
	Azimuth, Elevation float64

	// Clip, when positive, caps the loss at Clip: the surface above it is
	// drawn flat at that height. NewSurface sets 0, no clipping.
	Clip float64

	// Log draws log10 of the loss as height (after clipping); the loss
	// axis is labelled in loss values. Values <= 0 are then left out.
	// NewSurface sets false.
	Log bool

	// ZScale is the box's height divided by its width; NewSurface sets
	// 0.75.
	ZScale float64

	// Shading is the strength of the shading, from 0 (flat colours) to 1;
	// NewSurface sets 0.5. The light comes from the viewer's upper left.
	Shading float64

	// FontSize is the size of axis labels; tick labels are a little
	// smaller and the title a little larger. NewSurface sets 10 points.
	FontSize vg.Length
}

// NewSurface returns a 3-D picture of g with the defaults documented on
// Surface's fields.
func NewSurface(g plotter.GridXYZ) *Surface {
	return &Surface{
		Grid:      g,
		XLabel:    "x",
		YLabel:    "y",
		ZLabel:    "loss",
		ColorMap:  Viridis(),
		Azimuth:   -60,
		Elevation: 30,
		ZScale:    0.75,
		Shading:   0.5,
		FontSize:  10,
	}
}

type vec3 [3]float64

func (a vec3) dot(b vec3) float64 { return a[0]*b[0] + a[1]*b[1] + a[2]*b[2] }
func (a vec3) sub(b vec3) vec3    { return vec3{a[0] - b[0], a[1] - b[1], a[2] - b[2]} }
func (a vec3) add(b vec3) vec3    { return vec3{a[0] + b[0], a[1] + b[1], a[2] + b[2]} }
func (a vec3) scale(f float64) vec3 {
	return vec3{a[0] * f, a[1] * f, a[2] * f}
}
func (a vec3) cross(b vec3) vec3 {
	return vec3{a[1]*b[2] - a[2]*b[1], a[2]*b[0] - a[0]*b[2], a[0]*b[1] - a[1]*b[0]}
}
func (a vec3) unit() vec3 {
	n := math.Sqrt(a.dot(a))
	if n == 0 {
		return a
	}
	return a.scale(1 / n)
}

// view is an orthographic camera: eye points from the scene to the viewer,
// right and up span the screen.
type view struct {
	eye, right, up vec3
}

func newView(azimuth, elevation float64) view {
	phi, th := azimuth*math.Pi/180, elevation*math.Pi/180
	return view{
		eye:   vec3{math.Cos(th) * math.Cos(phi), math.Cos(th) * math.Sin(phi), math.Sin(th)},
		right: vec3{-math.Sin(phi), math.Cos(phi), 0},
		up:    vec3{-math.Sin(th) * math.Cos(phi), -math.Sin(th) * math.Sin(phi), math.Cos(th)},
	}
}

func (v view) project(p vec3) (x, y float64) { return p.dot(v.right), p.dot(v.up) }

// item is something placed on the screen: an anchor in projected box units
// and a rectangle around it in points.
type item struct {
	ax, ay         float64
	x0, y0, x1, y1 float64
}

// Draw draws the surface onto dc. It returns an error wrapping ErrNoData
// when no cell has four finite corners (four positive ones with Log).
func (s *Surface) Draw(dc draw.Canvas) error {
	g, err := readGrid(s.Grid, "surface", 2, 2)
	if err != nil {
		return err
	}
	if s.ColorMap == nil {
		return fmt.Errorf("render: surface: nil ColorMap")
	}
	// Heights: clipped, then logged.
	h := &grid{nc: g.nc, nr: g.nr, x: g.x, y: g.y, z: make([]float64, len(g.z))}
	for i, v := range g.z {
		if s.Clip > 0 && v > s.Clip {
			v = s.Clip
		}
		if s.Log {
			if v > 0 {
				v = math.Log10(v)
			} else {
				v = math.NaN()
			}
		}
		h.z[i] = v
	}
	if err := h.needCells("surface"); err != nil {
		return err
	}
	zlo, zhi, _ := h.valueRange()
	if zhi == zlo {
		zlo, zhi = zlo-0.5, zhi+0.5
	}
	xlo, xhi := g.xRange()
	ylo, yhi := g.yRange()
	zs := s.ZScale
	if !(zs > 0) {
		zs = 0.75
	}
	nx := func(x float64) float64 { return 2*(x-xlo)/(xhi-xlo) - 1 }
	ny := func(y float64) float64 { return 2*(y-ylo)/(yhi-ylo) - 1 }
	nz := func(z float64) float64 { return zs * (2*(z-zlo)/(zhi-zlo) - 1) }
	v := newView(s.Azimuth, s.Elevation)

	fs := s.FontSize
	if fs <= 0 {
		fs = 10
	}
	tickStyle := textStyle(fs*0.85, black)
	labelStyle := textStyle(fs, black)

	// The back panes and the edges that carry the axes.
	sgn := func(f float64) float64 {
		if f > 0 {
			return 1
		}
		return -1
	}
	backX, backY := -sgn(v.eye[0]), -sgn(v.eye[1])
	backZ := -sgn(v.eye[2]) * zs
	frontX, frontY := -backX, -backY
	// The z axis stands at the side corner further left on the screen.
	zx, zy := backX, frontY
	sideA, _ := v.project(vec3{frontX, backY, 0})
	sideB, _ := v.project(vec3{backX, frontY, 0})
	if sideA < sideB {
		zx, zy = frontX, backY
	}

	// Ticks.
	xt := linearTicks(xlo, xhi, 5)
	yt := linearTicks(ylo, yhi, 5)
	var zt []float64
	var zl []string
	if s.Log {
		for _, t := range logTicks(math.Pow(10, zlo), math.Pow(10, zhi), 5) {
			zt = append(zt, math.Log10(t))
			zl = append(zl, formatValue(t))
		}
	} else {
		zt = linearTicks(zlo, zhi, 5)
		zl = formatTicks(zt)
	}
	type axis struct {
		ticks  []vec3 // tick positions in box units
		labels []string
		dir    [2]float64 // outward screen direction, unit
		mid    vec3
		label  string
		rotate bool
	}
	outward := func(w vec3) [2]float64 {
		x, y := v.project(w)
		n := math.Hypot(x, y)
		if n == 0 {
			return [2]float64{0, -1}
		}
		return [2]float64{x / n, y / n}
	}
	axes := []axis{
		{labels: formatTicks(xt), dir: outward(vec3{0, frontY, 0}), mid: vec3{0, frontY, backZ}, label: s.XLabel},
		{labels: formatTicks(yt), dir: outward(vec3{frontX, 0, 0}), mid: vec3{frontX, 0, backZ}, label: s.YLabel},
		{labels: zl, mid: vec3{zx, zy, 0}, label: s.ZLabel, rotate: true},
	}
	if d := outward(vec3{zx, zy, 0}); d[0] < 0 {
		axes[2].dir = [2]float64{-1, 0}
	} else {
		axes[2].dir = [2]float64{1, 0}
	}
	for _, t := range xt {
		axes[0].ticks = append(axes[0].ticks, vec3{nx(t), frontY, backZ})
	}
	for _, t := range yt {
		axes[1].ticks = append(axes[1].ticks, vec3{frontX, ny(t), backZ})
	}
	for _, t := range zt {
		axes[2].ticks = append(axes[2].ticks, vec3{zx, zy, nz(t)})
	}

	// Layout: fit the box and every label into the canvas.
	tickLen, pad := fs*0.4, fs*0.3
	align := func(d [2]float64) (text.XAlignment, text.YAlignment) {
		return text.XAlignment(-(1 - d[0]) / 2), text.YAlignment(-(1 - d[1]) / 2)
	}
	var items []item
	for _, c := range boxCorners(zs) {
		x, y := v.project(c)
		items = append(items, item{ax: x, ay: y})
	}
	textRect := func(sty text.Style, s string, ax, ay float64, off [2]float64) item {
		r := sty.Rectangle(s)
		return item{ax: ax, ay: ay,
			x0: off[0] + float64(r.Min.X), y0: off[1] + float64(r.Min.Y),
			x1: off[0] + float64(r.Max.X), y1: off[1] + float64(r.Max.Y)}
	}
	type placedText struct {
		sty  text.Style
		text string
		ax   float64
		ay   float64
		off  [2]float64
	}
	var texts []placedText
	var tickMarks [][2]vec3
	for ai := range axes {
		a := &axes[ai]
		xa, ya := align(a.dir)
		ts := tickStyle
		ts.XAlign, ts.YAlign = xa, ya
		off := [2]float64{a.dir[0] * float64(tickLen+pad), a.dir[1] * float64(tickLen+pad)}
		extent := 0.0
		for i, t := range a.ticks {
			x, y := v.project(t)
			texts = append(texts, placedText{ts, a.labels[i], x, y, off})
			w, hgt := float64(ts.Width(a.labels[i])), float64(ts.Height(a.labels[i]))
			extent = math.Max(extent, math.Abs(a.dir[0])*w+math.Abs(a.dir[1])*hgt)
			tickMarks = append(tickMarks, [2]vec3{t, {a.dir[0], a.dir[1]}})
		}
		if a.label == "" {
			continue
		}
		ls := labelStyle
		dist := float64(tickLen+pad) + extent + float64(fs)*0.6
		if a.rotate {
			ls.Rotation = math.Pi / 2
			ls.XAlign = draw.XCenter
			ls.YAlign = draw.YBottom
			if a.dir[0] > 0 {
				ls.YAlign = draw.YTop
			}
		} else {
			ls.XAlign, ls.YAlign = align(a.dir)
			dist += float64(fs) * 0.2
		}
		x, y := v.project(a.mid)
		texts = append(texts, placedText{ls, a.label, x, y, [2]float64{a.dir[0] * dist, a.dir[1] * dist}})
	}
	for _, t := range texts {
		items = append(items, textRect(t.sty, t.text, t.ax, t.ay, t.off))
	}

	fillBackground(dc)
	m := float64(fs) * 0.6
	area := vg.Rectangle{
		Min: vg.Point{X: dc.Min.X + vg.Length(m), Y: dc.Min.Y + vg.Length(m)},
		Max: vg.Point{X: dc.Max.X - vg.Length(m), Y: dc.Max.Y - vg.Length(m)},
	}
	if s.Title != "" {
		ts := textStyle(fs*1.2, black)
		ts.XAlign = draw.XCenter
		ts.YAlign = draw.YTop
		dc.FillText(ts, vg.Point{X: (area.Min.X + area.Max.X) / 2, Y: area.Max.Y}, s.Title)
		area.Max.Y -= ts.Height(s.Title) + fs*0.6
	}
	scale, ox, oy := fit(items, area)
	screen := func(p vec3) vg.Point {
		x, y := v.project(p)
		return vg.Point{X: vg.Length(ox + scale*x), Y: vg.Length(oy + scale*y)}
	}

	// Back panes with grid lines.
	paneFill := color.Gray{Y: 242}
	gridLine := draw.LineStyle{Color: color.Gray{Y: 215}, Width: vg.Points(0.5)}
	edge := draw.LineStyle{Color: color.Gray{Y: 160}, Width: vg.Points(0.5)}
	panes := [][4]vec3{
		{{-1, -1, backZ}, {1, -1, backZ}, {1, 1, backZ}, {-1, 1, backZ}},
		{{backX, -1, -zs}, {backX, 1, -zs}, {backX, 1, zs}, {backX, -1, zs}},
		{{-1, backY, -zs}, {1, backY, -zs}, {1, backY, zs}, {-1, backY, zs}},
	}
	for _, p := range panes {
		var path vg.Path
		path.Move(screen(p[0]))
		for _, q := range p[1:] {
			path.Line(screen(q))
		}
		path.Close()
		dc.SetColor(paneFill)
		dc.Fill(path)
	}
	line := func(sty draw.LineStyle, a, b vec3) {
		dc.StrokeLine2(sty, screen(a).X, screen(a).Y, screen(b).X, screen(b).Y)
	}
	for _, t := range xt {
		line(gridLine, vec3{nx(t), -1, backZ}, vec3{nx(t), 1, backZ})
		line(gridLine, vec3{nx(t), backY, -zs}, vec3{nx(t), backY, zs})
	}
	for _, t := range yt {
		line(gridLine, vec3{-1, ny(t), backZ}, vec3{1, ny(t), backZ})
		line(gridLine, vec3{backX, ny(t), -zs}, vec3{backX, ny(t), zs})
	}
	for _, t := range zt {
		line(gridLine, vec3{backX, -1, nz(t)}, vec3{backX, 1, nz(t)})
		line(gridLine, vec3{-1, backY, nz(t)}, vec3{1, backY, nz(t)})
	}
	for _, p := range panes {
		for i := range 4 {
			line(edge, p[i], p[(i+1)%4])
		}
	}

	// The surface, far to near.
	type quad struct {
		depth float64
		p     [4]vec3
		z     float64
	}
	var quads []quad
	for r := 0; r+1 < h.nr; r++ {
		for c := 0; c+1 < h.nc; c++ {
			if !h.cellFinite(c, r) {
				continue
			}
			q := quad{p: [4]vec3{
				{nx(g.x[c]), ny(g.y[r]), nz(h.at(c, r))},
				{nx(g.x[c+1]), ny(g.y[r]), nz(h.at(c+1, r))},
				{nx(g.x[c+1]), ny(g.y[r+1]), nz(h.at(c+1, r+1))},
				{nx(g.x[c]), ny(g.y[r+1]), nz(h.at(c, r+1))},
			}}
			q.z = (h.at(c, r) + h.at(c+1, r) + h.at(c+1, r+1) + h.at(c, r+1)) / 4
			cx := (q.p[0][0] + q.p[2][0]) / 2
			cy := (q.p[0][1] + q.p[2][1]) / 2
			// Depth of the footprint along the horizontal view direction:
			// for a height field this orders cells correctly for any
			// elevation.
			q.depth = cx*v.eye[0] + cy*v.eye[1]
			quads = append(quads, q)
		}
	}
	sort.SliceStable(quads, func(i, j int) bool { return quads[i].depth < quads[j].depth })
	light := v.eye.add(v.up).sub(v.right.scale(0.6)).unit()
	flat := math.Max(light[2], 0.2)
	sc := colorScale{lo: zlo, hi: zhi}
	shade := math.Max(0, math.Min(1, s.Shading))
	for _, q := range quads {
		n := q.p[2].sub(q.p[0]).cross(q.p[3].sub(q.p[1])).unit()
		if n[2] < 0 {
			n = n.scale(-1)
		}
		k := math.Max(0, n.dot(light)) / flat
		f := math.Min(1.15, 1-shade+shade*k)
		col := color.NRGBAModel.Convert(fraction(s.ColorMap, sc.frac(q.z))).(color.NRGBA)
		mul := func(u uint8) uint8 { return uint8(math.Min(255, math.Round(float64(u)*f))) }
		col.R, col.G, col.B = mul(col.R), mul(col.G), mul(col.B)
		var path vg.Path
		path.Move(screen(q.p[0]))
		for _, p := range q.p[1:] {
			path.Line(screen(p))
		}
		path.Close()
		dc.SetColor(col)
		dc.Fill(path)
		// A hairline in the same colour hides the seams between cells.
		dc.SetLineWidth(vg.Points(0.3))
		dc.Stroke(path)
	}

	// Axes: edges, ticks and labels.
	axisLine := draw.LineStyle{Color: black, Width: vg.Points(0.6)}
	line(axisLine, vec3{-1, frontY, backZ}, vec3{1, frontY, backZ})
	line(axisLine, vec3{frontX, -1, backZ}, vec3{frontX, 1, backZ})
	line(axisLine, vec3{zx, zy, -zs}, vec3{zx, zy, zs})
	for _, tm := range tickMarks {
		a := screen(tm[0])
		dc.StrokeLine2(axisLine, a.X, a.Y, a.X+vg.Length(tm[1][0])*tickLen, a.Y+vg.Length(tm[1][1])*tickLen)
	}
	for _, t := range texts {
		dc.FillText(t.sty, vg.Point{X: vg.Length(ox + scale*t.ax + t.off[0]), Y: vg.Length(oy + scale*t.ay + t.off[1])}, t.text)
	}
	return nil
}

func boxCorners(zs float64) []vec3 {
	var c []vec3
	for _, x := range []float64{-1, 1} {
		for _, y := range []float64{-1, 1} {
			for _, z := range []float64{-zs, zs} {
				c = append(c, vec3{x, y, z})
			}
		}
	}
	return c
}

// fit returns the largest scale and the offsets that put every item, at
// offset + scale*anchor plus its rectangle in points, inside area, centred.
func fit(items []item, area vg.Rectangle) (scale, ox, oy float64) {
	w := float64(area.Max.X - area.Min.X)
	h := float64(area.Max.Y - area.Min.Y)
	scale = math.Inf(1)
	for _, a := range items {
		for _, b := range items {
			if d := b.ax - a.ax; d > 0 {
				scale = math.Min(scale, (w-b.x1+a.x0)/d)
			}
			if d := b.ay - a.ay; d > 0 {
				scale = math.Min(scale, (h-b.y1+a.y0)/d)
			}
		}
	}
	if !(scale > 0) || math.IsInf(scale, 1) {
		scale = math.Min(w, h) / 4
	}
	xlo, xhi := math.Inf(1), math.Inf(-1)
	ylo, yhi := math.Inf(1), math.Inf(-1)
	for _, it := range items {
		xlo = math.Min(xlo, scale*it.ax+it.x0)
		xhi = math.Max(xhi, scale*it.ax+it.x1)
		ylo = math.Min(ylo, scale*it.ay+it.y0)
		yhi = math.Max(yhi, scale*it.ay+it.y1)
	}
	ox = float64(area.Min.X) + (w-(xhi-xlo))/2 - xlo
	oy = float64(area.Min.Y) + (h-(yhi-ylo))/2 - ylo
	return scale, ox, oy
}
