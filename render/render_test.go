package render_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/lsweep/lsweep/render"
)

// probe is an overlay that records where the data area lies, so that a test
// can find the pixel of a data point.
type probe struct {
	c draw.Canvas
	p *plot.Plot
}

func (r *probe) Plot(c draw.Canvas, p *plot.Plot) { r.c, r.p = c, p }

// pixel returns the image pixel of data point (x, y) in a PNG of height h
// pixels.
func (r *probe) pixel(x, y float64, h int) image.Point {
	tx, ty := r.p.Transforms(&r.c)
	s := float64(render.DPI) / 72
	return image.Pt(int(float64(tx(x))*s), h-1-int(float64(ty(y))*s))
}

// rect returns the data area in image pixels.
func (r *probe) rect(h int) image.Rectangle {
	s := float64(render.DPI) / 72
	return image.Rect(int(float64(r.c.Min.X)*s), h-int(float64(r.c.Max.Y)*s), int(float64(r.c.Max.X)*s), h-int(float64(r.c.Min.Y)*s))
}

// renderPNG draws d to a PNG and decodes it.
func renderPNG(t testing.TB, d render.Drawer, w, h vg.Length) image.Image {
	t.Helper()
	var buf bytes.Buffer
	if err := render.Encode(&buf, "png", d, w, h); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func isGrey(c color.Color) bool {
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	return n.R == n.G && n.G == n.B
}

// farFromMap reports whether c is further than tol from every colour of the map.
func farFromMap(c color.Color, m *render.ColorMap, tol int) bool {
	for i := 0; i <= 1000; i++ {
		if closeColor(c, m.Color(float64(i)/1000), tol) {
			return false
		}
	}
	return true
}

// nanGrid is a 5x5 grid over [0, 4] x [0, 2] with z = x + y and a NaN at
// (2, 2).
func nanGrid() *render.Grid {
	g := render.NewGrid(linspace(0, 4, 5), linspace(0, 2, 5), func(x, y float64) float64 { return 1 + x + y })
	g.Set(2, 2, math.NaN())
	return g
}

func TestHeatMapNaNCell(t *testing.T) {
	for _, hatch := range []bool{false, true} {
		h := render.NewHeatMap(nanGrid())
		h.Hatch = hatch
		pr := &probe{}
		h.Overlays = []plot.Plotter{pr}
		img := renderPNG(t, h, 4*vg.Inch, 3*vg.Inch)
		H := img.Bounds().Dy()
		p := pr.pixel(2, 1, H)
		got := img.At(p.X, p.Y)
		if !hatch && !closeColor(got, h.NaN, 0) {
			t.Errorf("NaN cell centre is %v, want the NaN colour %v", got, h.NaN)
		}
		if !isGrey(got) || !farFromMap(got, render.Viridis(), 12) {
			t.Errorf("hatch=%v: NaN cell centre %v is not a grey apart from the palette", hatch, got)
		}
		// Finite cells around it have their own colours, not zero's.
		for _, q := range [][2]float64{{1, 1}, {3, 1}, {2, 0.5}, {2, 1.5}} {
			pq := pr.pixel(q[0], q[1], H)
			v := 1 + q[0] + q[1]
			if got := img.At(pq.X, pq.Y); !closeColor(got, h.Color(v), 1) {
				t.Errorf("cell at %v is %v, want %v", q, got, h.Color(v))
			}
		}
	}
}

func TestOrientation(t *testing.T) {
	// z grows with x on a wide, short grid: dark on the left, light on the
	// right. With z growing with y instead: dark at the bottom.
	xs, ys := linspace(-2, 2, 9), linspace(0, 1, 4)
	for _, tc := range []struct {
		name string
		f    func(x, y float64) float64
		lo   [2]float64
		hi   [2]float64
	}{
		{"x", func(x, y float64) float64 { return x }, [2]float64{-2, 0.5}, [2]float64{2, 0.5}},
		{"y", func(x, y float64) float64 { return y }, [2]float64{0, 0}, [2]float64{0, 1}},
	} {
		h := render.NewHeatMap(render.NewGrid(xs, ys, tc.f))
		h.Aspect = 0
		pr := &probe{}
		h.Overlays = []plot.Plotter{pr}
		img := renderPNG(t, h, 4*vg.Inch, 3*vg.Inch)
		H := img.Bounds().Dy()
		a, b := pr.pixel(tc.lo[0], tc.lo[1], H), pr.pixel(tc.hi[0], tc.hi[1], H)
		if la, lb := lightness(img.At(a.X, a.Y)), lightness(img.At(b.X, b.Y)); !(la < lb-30) {
			t.Errorf("z = %s: lightness %.0f at %v, %.0f at %v", tc.name, la, tc.lo, lb, tc.hi)
		}
		r := pr.rect(H)
		if tc.name == "x" && r.Dx() <= r.Dy() {
			t.Errorf("data area %v should be wide with Aspect 0 on a wide canvas", r)
		}
	}
}

func TestFilledContourBands(t *testing.T) {
	// On a plane z = x every interpolation agrees, so the colour at any
	// point is the colour of the band of x.
	g := render.NewGrid(linspace(0, 10, 11), linspace(0, 4, 5), func(x, y float64) float64 { return x })
	f := render.NewFilledContour(g)
	f.Lines = false
	f.Levels = []float64{0, 2, 4, 6, 8, 10}
	pr := &probe{}
	f.Overlays = []plot.Plotter{pr}
	img := renderPNG(t, f, 5*vg.Inch, 3*vg.Inch)
	H := img.Bounds().Dy()
	seen := map[color.NRGBA]bool{}
	for _, x := range []float64{0.5, 1, 1.5, 3, 3.3, 5, 7, 8.5, 9.5} {
		for _, y := range []float64{0.7, 2, 3.4} {
			p := pr.pixel(x, y, H)
			got := img.At(p.X, p.Y)
			if !closeColor(got, f.Color(x), 1) {
				t.Errorf("pixel at (%v, %v) is %v, want band colour %v", x, y, got, f.Color(x))
			}
			seen[color.NRGBAModel.Convert(got).(color.NRGBA)] = true
		}
	}
	if len(seen) != 5 {
		t.Errorf("%d band colours seen, want 5", len(seen))
	}
	// Bands are ordered along the map.
	for l := 1.0; l < 9; l += 2 {
		if lightness(f.Color(l)) >= lightness(f.Color(l+2)) {
			t.Errorf("band of %v is not darker than band of %v", l, l+2)
		}
	}

	// On the bowl, the grid nodes away from levels take their band colours.
	bg := bowlGrid(21, 21)
	fb := render.NewFilledContour(bg)
	fb.Lines = false
	prb := &probe{}
	fb.Overlays = []plot.Plotter{prb}
	img = renderPNG(t, fb, 5*vg.Inch, 4*vg.Inch)
	H = img.Bounds().Dy()
	checked := 0
	for r := 1; r < 20; r += 3 {
		for c := 1; c < 20; c += 3 {
			z := bg.Z(c, r)
			if hasLevelNear(fb.Levels, z, 0.08) {
				continue
			}
			p := prb.pixel(bg.X(c), bg.Y(r), H)
			if got := img.At(p.X, p.Y); !closeColor(got, fb.Color(z), 1) {
				t.Errorf("node (%d, %d) z=%.3g is %v, want %v", c, r, z, got, fb.Color(z))
			}
			checked++
		}
	}
	if checked < 20 {
		t.Errorf("only %d nodes checked", checked)
	}
}

// hasLevelNear reports whether a level lies within a fraction frac of z.
func hasLevelNear(levels []float64, z, frac float64) bool {
	for _, l := range levels {
		if math.Abs(l-z) <= frac*math.Abs(z) {
			return true
		}
	}
	return false
}

func TestColorBarRange(t *testing.T) {
	g := holes(21)
	lo, hi, pos := math.Inf(1), math.Inf(-1), math.Inf(1)
	for _, v := range g.Values {
		if !math.IsNaN(v) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
			if v > 0 {
				pos = math.Min(pos, v)
			}
		}
	}
	f := render.NewFilledContour(g)
	h := render.NewHeatMap(g)
	if !f.Log || !h.Log {
		t.Fatal("the bowl spans three decades: the colour scales should be log")
	}
	if f.Min != pos || f.Max != hi || h.Min != pos || h.Max != hi {
		t.Fatalf("colour ranges [%v, %v] and [%v, %v], want the data range [%v, %v]", f.Min, f.Max, h.Min, h.Max, pos, hi)
	}
	lin := render.NewFilledContour(render.NewGrid(linspace(0, 1, 5), linspace(0, 1, 5), wavy))
	wl, wh, _ := func() (float64, float64, float64) {
		a, b := math.Inf(1), math.Inf(-1)
		for _, x := range linspace(0, 1, 5) {
			for _, y := range linspace(0, 1, 5) {
				a, b = math.Min(a, wavy(x, y)), math.Max(b, wavy(x, y))
			}
		}
		return a, b, 0
	}()
	if lin.Log || lin.Min != wl || lin.Max != wh {
		t.Errorf("linear colour range [%v, %v] log=%v, want [%v, %v]", lin.Min, lin.Max, lin.Log, wl, wh)
	}

	// In the picture, the bar runs from the bottom to the top of the data
	// area, Min's colour at the bottom and Max's at the top.
	for _, d := range []struct {
		name  string
		d     render.Drawer
		color func(float64) color.Color
		set   func(*probe)
	}{
		{"filled", f, f.Color, func(p *probe) { f.Overlays = []plot.Plotter{p} }},
		{"heat", h, h.Color, func(p *probe) { h.Overlays = []plot.Plotter{p} }},
	} {
		pr := &probe{}
		d.set(pr)
		img := renderPNG(t, d.d, 6*vg.Inch, 5*vg.Inch)
		r := pr.rect(img.Bounds().Dy())
		mid := (r.Min.Y + r.Max.Y) / 2
		x := r.Max.X + 3
		for ; x < img.Bounds().Max.X; x++ {
			if c := img.At(x, mid); lightness(c) < 95 && !isGrey(c) {
				break
			}
		}
		x += 5
		top, bottom := img.At(x, r.Min.Y+3), img.At(x, r.Max.Y-4)
		if !closeColor(top, d.color(hi), 2) || !closeColor(bottom, d.color(pos), 2) {
			t.Errorf("%s: colour bar top %v bottom %v, want %v and %v", d.name, top, bottom, d.color(hi), d.color(pos))
		}
		if above := img.At(x, r.Min.Y-6); !closeColor(above, color.White, 0) {
			t.Errorf("%s: colour bar reaches above the data area (%v)", d.name, above)
		}
	}
}

func TestNoLinesInNaNCells(t *testing.T) {
	g := holes(31)
	// The block of NaN: columns 15..21, rows 6..10 (see holes); cells with
	// a NaN corner span columns 14 to 22 and rows 5 to 11.
	x0, x1 := g.X(14), g.X(22)
	y0, y1 := g.Y(5), g.Y(11)
	c := render.NewContour(g)
	f := render.NewFilledContour(g)
	f.Labels = true
	for name, d := range map[string]render.Drawer{"contour": c, "filled": f} {
		pr := &probe{}
		switch d := d.(type) {
		case *render.Contour:
			d.Hatch, d.Overlays = false, []plot.Plotter{pr}
		case *render.FilledContour:
			d.Hatch, d.Overlays = false, []plot.Plotter{pr}
		}
		img := renderPNG(t, d, 5*vg.Inch, 5*vg.Inch)
		H := img.Bounds().Dy()
		a, b := pr.pixel(x0, y1, H), pr.pixel(x1, y0, H)
		bad := 0
		for y := a.Y + 3; y <= b.Y-3; y++ {
			for x := a.X + 3; x <= b.X-3; x++ {
				if !closeColor(img.At(x, y), color.Gray{Y: 224}, 0) {
					bad++
				}
			}
		}
		if bad > 0 || b.X-a.X < 20 {
			t.Errorf("%s: %d pixels in the NaN block are not the NaN colour (block %v-%v)", name, bad, a, b)
		}
	}
}

func TestFormats(t *testing.T) {
	f := render.NewFilledContour(bowlGrid(11, 11))
	f.Title, f.XLabel, f.YLabel = "a <title> & more", "α", "β"
	var svg bytes.Buffer
	if err := render.Encode(&svg, "svg", f, 4*vg.Inch, 3*vg.Inch); err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(bytes.NewReader(svg.Bytes()))
	root := ""
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		t.Errorf("SVG root element %q", root)
	}
	var pdf bytes.Buffer
	if err := render.Encode(&pdf, "pdf", f, 4*vg.Inch, 3*vg.Inch); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pdf.Bytes(), []byte("%PDF")) {
		t.Errorf("PDF starts with %q", pdf.Bytes()[:8])
	}

	dir := t.TempDir()
	for _, name := range []string{"a.png", "b.SVG", "c.pdf"} {
		if err := render.Save(f, filepath.Join(dir, name), 3*vg.Inch, 3*vg.Inch); err != nil {
			t.Errorf("Save %s: %v", name, err)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "a.png")); err != nil || fi.Size() == 0 {
		t.Errorf("a.png: %v", err)
	}
	err := render.Save(f, filepath.Join(dir, "d.jpg"), 3*vg.Inch, 3*vg.Inch)
	if err == nil || !strings.Contains(err.Error(), `".jpg"`) {
		t.Errorf("Save .jpg: error %v should name the extension", err)
	}
	if err := render.Save(f, filepath.Join(dir, "noext"), 3*vg.Inch, 3*vg.Inch); err == nil {
		t.Error("Save without extension: no error")
	}
	if err := render.Encode(io.Discard, "gif", f, 3*vg.Inch, 3*vg.Inch); err == nil || !strings.Contains(err.Error(), "gif") {
		t.Errorf("Encode gif: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("files left: %v", entries)
	}
}

func TestNoData(t *testing.T) {
	allNaN := render.NewGrid(linspace(0, 1, 4), linspace(0, 1, 3), nil)
	// Finite points but no cell with four finite corners.
	sparse := render.NewGrid(linspace(0, 1, 4), linspace(0, 1, 3), nil)
	sparse.Set(0, 0, 1)
	sparse.Set(3, 2, 2)
	negative := render.NewGrid(linspace(0, 1, 3), linspace(0, 1, 3), func(x, y float64) float64 { return -1 - x })
	logSurface := render.NewSurface(negative)
	logSurface.Log = true
	cases := map[string]render.Drawer{
		"contour":        render.NewContour(allNaN),
		"filled":         render.NewFilledContour(allNaN),
		"heat":           render.NewHeatMap(allNaN),
		"surface":        render.NewSurface(allNaN),
		"contour sparse": render.NewContour(sparse),
		"filled sparse":  render.NewFilledContour(sparse),
		"surface sparse": render.NewSurface(sparse),
		"surface log":    logSurface,
		"curves":         render.NewCurves(render.Curve{X: []float64{0, 1}, Loss: []float64{math.NaN(), math.NaN()}}),
		"no curves":      render.NewCurves(),
		"empty path":     render.NewPathPicture(render.NewPath(nil, nil)),
		"NaN path":       render.NewPathPicture(render.NewPath([]float64{0, math.NaN()}, []float64{0, 1})),
	}
	dir := t.TempDir()
	for name, d := range cases {
		err := d.Draw(draw.New(nopCanvas{}))
		if !errors.Is(err, render.ErrNoData) {
			t.Errorf("%s: Draw error %v, want ErrNoData", name, err)
		}
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".png")
		if err := render.Save(d, path, 3*vg.Inch, 3*vg.Inch); !errors.Is(err, render.ErrNoData) {
			t.Errorf("%s: Save error %v, want ErrNoData", name, err)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("%s: a file was written", name)
		}
	}
	// A heat map needs only one finite point.
	if err := render.NewHeatMap(sparse).Draw(draw.New(nopCanvas{})); err != nil {
		t.Errorf("heat map of a sparse grid: %v", err)
	}
}

func TestConstantAndTiny(t *testing.T) {
	flat := render.NewGrid(linspace(0, 1, 3), linspace(0, 1, 3), func(x, y float64) float64 { return 2 })
	tiny := render.NewGrid([]float64{0, 1}, []float64{5, 6}, func(x, y float64) float64 { return x + y })
	one := render.NewGrid([]float64{3}, []float64{4}, func(x, y float64) float64 { return 1 })
	for name, g := range map[string]*render.Grid{"flat": flat, "tiny": tiny} {
		for kind, d := range map[string]render.Drawer{
			"contour": render.NewContour(g), "filled": render.NewFilledContour(g),
			"heat": render.NewHeatMap(g), "surface": render.NewSurface(g),
		} {
			if err := render.Encode(io.Discard, "png", d, 2*vg.Inch, 2*vg.Inch); err != nil {
				t.Errorf("%s %s: %v", name, kind, err)
			}
		}
	}
	if err := render.Encode(io.Discard, "png", render.NewHeatMap(one), 2*vg.Inch, 2*vg.Inch); err != nil {
		t.Errorf("1x1 heat map: %v", err)
	}
	if err := render.NewContour(one).Draw(draw.New(nopCanvas{})); err == nil {
		t.Error("1x1 contour: no error")
	}
	single := render.NewCurves(render.Curve{X: []float64{1}, Loss: []float64{0.5}, Acc: []float64{0.9}})
	if err := render.Encode(io.Discard, "png", single, 2*vg.Inch, 2*vg.Inch); err != nil {
		t.Errorf("one-point curve: %v", err)
	}
}

func TestBadInput(t *testing.T) {
	mismatch := render.NewCurves(render.Curve{Label: "a", X: []float64{0, 1, 2}, Loss: []float64{1, 2}})
	if err := mismatch.Draw(draw.New(nopCanvas{})); err == nil || errors.Is(err, render.ErrNoData) {
		t.Errorf("length mismatch: %v", err)
	}
	g := bowlGrid(5, 5)
	g.Xs[2] = g.Xs[1]
	if err := render.NewContour(g).Draw(draw.New(nopCanvas{})); err == nil {
		t.Error("repeated x coordinate: no error")
	}
	f := render.NewFilledContour(bowlGrid(5, 5))
	f.Levels = []float64{0, 1, 2}
	if err := f.Draw(draw.New(nopCanvas{})); err == nil {
		t.Error("log scale with a zero level: no error")
	}
	f.Log = false
	if err := f.Draw(draw.New(nopCanvas{})); err != nil {
		t.Errorf("explicit linear levels: %v", err)
	}
}

func TestCurves(t *testing.T) {
	cs := interpolation()
	cv := render.NewCurves(cs...)
	cv.XLabel = "interpolation α"
	img := renderPNG(t, cv, 4*vg.Inch, 4*vg.Inch)
	// Both curve colours appear.
	for i := range cs {
		want := cv.Colors[i]
		found := false
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y && !found; y += 2 {
			for x := b.Min.X; x < b.Max.X; x += 2 {
				if closeColor(img.At(x, y), want, 0) {
					found = true
					break
				}
			}
		}
		if !found {
			t.Errorf("curve %d colour %v not drawn", i, want)
		}
	}
	cv.LogLoss = true
	cs[0].Loss[3] = 0 // a gap on a log scale
	if err := cv.Draw(draw.New(nopCanvas{})); err != nil {
		t.Errorf("log loss: %v", err)
	}
}

func TestSurfaceViews(t *testing.T) {
	g := holes(21)
	for _, view := range [][2]float64{{-60, 30}, {30, 45}, {120, 10}, {-150, 60}, {0, 90}, {45, -20}} {
		s := render.NewSurface(g)
		s.Azimuth, s.Elevation = view[0], view[1]
		s.Clip = 3
		img := renderPNG(t, s, 3*vg.Inch, 3*vg.Inch)
		// Something coloured is drawn near the middle.
		b := img.Bounds()
		coloured := 0
		for y := b.Min.Y; y < b.Max.Y; y += 3 {
			for x := b.Min.X; x < b.Max.X; x += 3 {
				if !isGrey(img.At(x, y)) {
					coloured++
				}
			}
		}
		if coloured < b.Dx()*b.Dy()/9/20 {
			t.Errorf("view %v: only %d coloured samples", view, coloured)
		}
	}
}

func TestSurfaceDepthOrder(t *testing.T) {
	// A tall block on the near side (y <= -0.6, seen from -y) must hide a
	// lower block on the far side (y >= 0.4) completely at a low
	// elevation, whichever way the rows are stored. Seen from +y the far
	// block is in front and shows.
	xs, ys := linspace(-1, 1, 11), linspace(-1, 1, 11)
	scene := func(x, y float64) float64 {
		switch {
		case y < -0.5:
			return 10
		case y > 0.3:
			return 3
		}
		return 0
	}
	farColor := render.Viridis().Color(0.3) // every corner at 3
	count := func(img image.Image) int {
		n := 0
		b := img.Bounds()
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				if closeColor(img.At(x, y), farColor, 3) {
					n++
				}
			}
		}
		return n
	}
	for _, tc := range []struct {
		azimuth float64
		flip    bool
		visible bool
	}{{-90, false, false}, {-90, true, false}, {90, false, true}, {90, true, true}} {
		yy := append([]float64(nil), ys...)
		if tc.flip {
			for i := range yy {
				yy[i] = -ys[i]
			}
		}
		s := render.NewSurface(render.NewGrid(xs, yy, scene))
		s.Azimuth, s.Elevation = tc.azimuth, 10
		s.Shading = 0
		n := count(renderPNG(t, s, 3*vg.Inch, 3*vg.Inch))
		if tc.visible && n < 2000 || !tc.visible && n > 20 {
			t.Errorf("azimuth %v, flipped rows %v: %d pixels of the far block's colour", tc.azimuth, tc.flip, n)
		}
	}
}

// nopCanvas is a vg.Canvas that draws nothing.
type nopCanvas struct{}

func (nopCanvas) SetLineWidth(vg.Length)                 {}
func (nopCanvas) SetLineDash([]vg.Length, vg.Length)     {}
func (nopCanvas) SetColor(color.Color)                   {}
func (nopCanvas) Rotate(float64)                         {}
func (nopCanvas) Translate(vg.Point)                     {}
func (nopCanvas) Scale(float64, float64)                 {}
func (nopCanvas) Push()                                  {}
func (nopCanvas) Pop()                                   {}
func (nopCanvas) Stroke(vg.Path)                         {}
func (nopCanvas) Fill(vg.Path)                           {}
func (nopCanvas) FillString(font.Face, vg.Point, string) {}
func (nopCanvas) DrawImage(vg.Rectangle, image.Image)    {}
func (nopCanvas) Size() (vg.Length, vg.Length)           { return 4 * vg.Inch, 4 * vg.Inch }
