package render_test

import (
	"io"
	"testing"

	"gonum.org/v1/plot/vg"

	"github.com/lsweep/lsweep/render"
)

// BenchmarkPNG51 draws every picture kind of a 51x51 surface (and a pair of
// curves) to PNG at render.DPI, the sizes a paper figure would have.
func BenchmarkPNG51(b *testing.B) {
	g := holes(51)
	kinds := []struct {
		name string
		d    func() render.Drawer
	}{
		{"contour", func() render.Drawer { return render.NewContour(g) }},
		{"filled", func() render.Drawer { f := render.NewFilledContour(g); f.Labels = true; return f }},
		{"heat", func() render.Drawer { return render.NewHeatMap(g) }},
		{"surface", func() render.Drawer { return render.NewSurface(g) }},
		{"curves", func() render.Drawer { return render.NewCurves(interpolation()...) }},
	}
	b.Run("all", func(b *testing.B) {
		for b.Loop() {
			for _, k := range kinds {
				if err := render.Encode(io.Discard, "png", k.d(), 5*vg.Inch, 4*vg.Inch); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	for _, k := range kinds {
		b.Run(k.name, func(b *testing.B) {
			for b.Loop() {
				if err := render.Encode(io.Discard, "png", k.d(), 5*vg.Inch, 4*vg.Inch); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVTP51 writes a 51x51 surface refined 4 times as .vtp.
func BenchmarkVTP51(b *testing.B) {
	g := holes(51)
	for b.Loop() {
		if err := render.WriteVTP(io.Discard, g, render.VTPOptions{Refine: 4}); err != nil {
			b.Fatal(err)
		}
	}
}
