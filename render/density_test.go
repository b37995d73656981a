package render_test

import (
	"errors"
	"image"
	"math"
	"os"
	"path/filepath"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/lsweep/lsweep/render"
)

// twoPeaks is a density with peaks at -1 and 1 (heights about 4 and 0.04),
// nothing at 0, and zeros in the tails.
func twoPeaks() (x, y []float64) {
	x = linspace(-2, 2, 801)
	y = make([]float64, len(x))
	for i, t := range x {
		y[i] = 0.99*math.Exp(-(t+1)*(t+1)/0.005)/math.Sqrt(0.005*math.Pi) +
			0.01*math.Exp(-(t-1)*(t-1)/0.005)/math.Sqrt(0.005*math.Pi)
	}
	return x, y
}

// near reports whether a pixel within r of p has colour c.
func nearColor(img image.Image, p image.Point, c interface{ RGBA() (r, g, b, a uint32) }, r int) bool {
	for dy := -r; dy <= r; dy++ {
		for dx := -r; dx <= r; dx++ {
			if closeColor(img.At(p.X+dx, p.Y+dy), c, 8) {
				return true
			}
		}
	}
	return false
}

// The curve passes through its points on a log axis: the tops of both peaks,
// four decades apart, and the floor (Offset) in the tails; the air between is
// empty; the dashed line marks eigenvalue 0 only when Zero is set.
func TestDensity(t *testing.T) {
	x, y := twoPeaks()
	for _, zero := range []bool{true, false} {
		d := render.NewDensity(x, y)
		d.Title = "two peaks"
		d.Zero = zero
		pr := &probe{}
		d.Overlays = []plot.Plotter{pr}
		img := renderPNG(t, d, 5*vg.Inch, 3.5*vg.Inch)
		H := img.Bounds().Dy()
		peak := func(t float64) float64 {
			for i := range x {
				if math.Abs(x[i]-t) < 1e-9 {
					return y[i] + d.Offset
				}
			}
			return math.NaN()
		}
		for _, c := range []struct {
			name  string
			x, y  float64
			curve bool
		}{
			{"peak at -1", -1, peak(-1), true},
			{"peak at 1", 1, peak(1), true},
			{"floor at -1.8", -1.8, d.Offset, true},
			{"floor at 0", 0, d.Offset, true},
			{"air above 0", 0, 1e-3, false},
			{"air above the floor at 1.7", 1.7, 1e-2, false},
		} {
			p := pr.pixel(c.x, c.y, H)
			if got := nearColor(img, p, d.Color, 4); got != c.curve {
				t.Errorf("zero %v: %s (pixel %v): curve colour near %v, want %v", zero, c.name, p, got, c.curve)
			}
		}
		// The zero line: grey pixels at x = 0, between the floor and the
		// peaks, where the curve is not.
		p := pr.pixel(0, 1e-4, H)
		grey := false
		for dy := -30; dy <= 30 && !grey; dy++ {
			for dx := -2; dx <= 2; dx++ {
				c := img.At(p.X+dx, p.Y+dy)
				if isGrey(c) && lightness(c) < 80 && lightness(c) > 30 {
					grey = true
				}
			}
		}
		if grey != zero {
			t.Errorf("zero %v: zero line drawn %v", zero, grey)
		}
		// The data area spans the eigenvalues with a little room.
		r := pr.rect(H)
		if l, u := pr.pixel(-2, 1, H).X, pr.pixel(2, 1, H).X; l <= r.Min.X || u >= r.Max.X || l-r.Min.X > r.Dx()/20 {
			t.Errorf("zero %v: eigenvalues from pixel %d to %d in a data area from %d to %d", zero, l, u, r.Min.X,
				r.Max.X)
		}
	}
}

func TestDensityBadInput(t *testing.T) {
	nan := []float64{math.NaN(), math.NaN()}
	zeros := render.NewDensity([]float64{0, 1}, []float64{0, 0})
	zeros.Offset = 0
	for name, d := range map[string]*render.Density{
		"all NaN":            render.NewDensity([]float64{0, 1}, nan),
		"NaN eigenvalues":    render.NewDensity(nan, []float64{1, 2}),
		"zeros, no offset":   zeros,
		"no points":          render.NewDensity(nil, nil),
		"negative densities": render.NewDensity([]float64{0, 1}, []float64{-1, -2}),
	} {
		if err := d.Draw(draw.New(nopCanvas{})); !errors.Is(err, render.ErrNoData) {
			t.Errorf("%s: %v, want ErrNoData", name, err)
		}
	}
	if err := render.NewDensity([]float64{0, 1, 2}, []float64{1, 2}).Draw(draw.New(nopCanvas{})); err == nil ||
		errors.Is(err, render.ErrNoData) {
		t.Errorf("lengths 3 and 2: %v", err)
	}
	// Zeros with the default offset are drawn at the offset; so is a single
	// point, and a constant.
	for name, d := range map[string]*render.Density{
		"zeros":    render.NewDensity([]float64{0, 1}, []float64{0, 0}),
		"single":   render.NewDensity([]float64{3}, []float64{0.5}),
		"constant": render.NewDensity([]float64{-1, 0, 1}, []float64{2, 2, 2}),
		"gap":      render.NewDensity([]float64{-1, 0, 1, 2}, []float64{2, math.NaN(), 1, 3}),
	} {
		if err := d.Draw(draw.New(nopCanvas{})); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestDensityFormats(t *testing.T) {
	dir := t.TempDir()
	d := render.NewDensity(twoPeaks())
	for _, ext := range []string{".png", ".svg", ".pdf"} {
		path := filepath.Join(dir, "density"+ext)
		if err := render.Save(d, path, 4*vg.Inch, 3*vg.Inch); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(path); err != nil || fi.Size() < 1000 {
			t.Errorf("%s: %v, %v", ext, fi, err)
		}
	}
}
