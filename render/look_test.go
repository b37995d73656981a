package render_test

import (
	"flag"
	"image/color"
	"os"
	"path/filepath"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/lsweep/lsweep/render"
)

var lookDir = flag.String("look", "", "write every picture kind to this folder, to look at")

// TestLook writes every picture kind to -look, as PNG (and a few as PDF and
// SVG), for a person to look at. It is skipped without -look.
func TestLook(t *testing.T) {
	if *lookDir == "" {
		t.Skip("no -look folder")
	}
	if err := os.MkdirAll(*lookDir, 0o755); err != nil {
		t.Fatal(err)
	}
	g := bowlGrid(51, 51)
	h := holes(51)
	w := render.NewGrid(linspace(-1, 1, 41), linspace(-1, 1, 41), wavy)

	contour := func(g plotter.GridXYZ) *render.Contour {
		c := render.NewContour(g)
		c.XLabel, c.YLabel, c.Title = "x direction", "y direction", "Contour of the loss"
		return c
	}
	filled := func(g plotter.GridXYZ) *render.FilledContour {
		f := render.NewFilledContour(g)
		f.XLabel, f.YLabel, f.Title = "x direction", "y direction", "Filled contour"
		return f
	}
	heat := func(g plotter.GridXYZ) *render.HeatMap {
		m := render.NewHeatMap(g)
		m.XLabel, m.YLabel, m.Title = "x direction", "y direction", "Heat map"
		return m
	}
	surf := func(g plotter.GridXYZ) *render.Surface {
		s := render.NewSurface(g)
		s.XLabel, s.YLabel, s.Title = "x direction", "y direction", "Loss surface"
		return s
	}
	filledLabels := filled(g)
	filledLabels.Labels = true
	surfClip := surf(g)
	surfClip.Clip = 5
	surfLog := surf(g)
	surfLog.Log = true
	surfSide := surf(g)
	surfSide.Azimuth, surfSide.Elevation = 30, 45
	curves := render.NewCurves(interpolation()...)
	curves.XLabel = "interpolation α"
	curvesLog := render.NewCurves(interpolation()...)
	curvesLog.XLabel, curvesLog.LogLoss = "interpolation α", true
	lossOnly := interpolation()
	for i := range lossOnly {
		lossOnly[i].Acc = nil
	}
	curvesReg := render.NewCurves(lossOnly...)
	curvesReg.XLabel, curvesReg.Title = "step along d", "Regression loss"

	steps := contour(g)
	steps.Levels, steps.Log = render.StepLevels(0.1, 10, 0.5), false
	steps.Title = "vmin 0.1, vmax 10, vlevel 0.5"
	stepsFilled := filled(g)
	stepsFilled.Levels, stepsFilled.Log, stepsFilled.Labels = render.StepLevels(0.1, 10, 0.5), false, true
	small := heat(nanGrid())
	small.Title = ""
	wide := contour(w)
	wide.Title = "Wide canvas, square data"
	magma := filled(g)
	magma.ColorMap = render.Magma()
	magma.Title = "Magma"
	cividisR := heat(g)
	m, _ := render.ColorMapNamed("cividis_r")
	cividisR.ColorMap = m
	cividisR.Title = "Cividis reversed"

	flat := render.NewGrid(linspace(0, 1, 3), linspace(0, 1, 3), func(x, y float64) float64 { return 2 })

	traj := contour(g)
	traj.Title = "Trajectory overlay"
	traj.XLabel, traj.YLabel = "1st PC: 82.1 %", "2nd PC: 9.7 %"
	path := plotter.XYs{{X: -0.9, Y: 0.7}, {X: -0.6, Y: 0.5}, {X: -0.35, Y: 0.2}, {X: -0.15, Y: 0.08}, {X: -0.05, Y: 0.02}, {X: 0, Y: 0}}
	line, points, _ := plotter.NewLinePoints(path)
	line.Color = color.NRGBA{R: 0xd5, G: 0x5e, A: 255}
	line.Width = vg.Points(1.2)
	points.Color = line.Color
	points.Shape = draw.CircleGlyph{}
	traj.Overlays = []plot.Plotter{line, points}

	dens := render.NewDensity(spectrum())
	dens.Title = "Hessian eigenvalue density"
	bulkX, bulkY := bulkSpectrum(0)
	densBulk := render.NewDensity(bulkX, bulkY)
	densBulk.Title = "Positive bulk, PyHessian's σ"
	bulkX, bulkY = bulkSpectrum(0.02)
	densSmooth := render.NewDensity(bulkX, bulkY)
	densSmooth.Title = "Positive bulk, σ = 0.02"
	densWide := render.NewDensity(wideSpectrum())
	densWide.Title = "Outliers up to 30,000"

	pics := []struct {
		name string
		d    render.Drawer
		w, h vg.Length
	}{
		{"contour", contour(g), 5 * vg.Inch, 5 * vg.Inch},
		{"contour-holes", contour(h), 5 * vg.Inch, 5 * vg.Inch},
		{"contour-linear", contour(w), 5 * vg.Inch, 5 * vg.Inch},
		{"filled", filled(g), 6 * vg.Inch, 5 * vg.Inch},
		{"filled-holes", filled(h), 6 * vg.Inch, 5 * vg.Inch},
		{"filled-linear", filled(w), 6 * vg.Inch, 5 * vg.Inch},
		{"filled-labels", filledLabels, 6 * vg.Inch, 5 * vg.Inch},
		{"heat", heat(g), 6 * vg.Inch, 5 * vg.Inch},
		{"heat-holes", heat(h), 6 * vg.Inch, 5 * vg.Inch},
		{"heat-linear", heat(w), 6 * vg.Inch, 5 * vg.Inch},
		{"surface", surf(g), 6 * vg.Inch, 5 * vg.Inch},
		{"surface-holes", surf(h), 6 * vg.Inch, 5 * vg.Inch},
		{"surface-clip", surfClip, 6 * vg.Inch, 5 * vg.Inch},
		{"surface-log", surfLog, 6 * vg.Inch, 5 * vg.Inch},
		{"surface-side", surfSide, 6 * vg.Inch, 5 * vg.Inch},
		{"contour-steps", steps, 5 * vg.Inch, 5 * vg.Inch},
		{"filled-steps", stepsFilled, 6 * vg.Inch, 5 * vg.Inch},
		{"heat-small", small, 4 * vg.Inch, 3 * vg.Inch},
		{"contour-wide", wide, 7 * vg.Inch, 3.5 * vg.Inch},
		{"filled-magma", magma, 6 * vg.Inch, 5 * vg.Inch},
		{"heat-cividis-r", cividisR, 6 * vg.Inch, 5 * vg.Inch},
		{"flat-filled", filled(flat), 4 * vg.Inch, 3 * vg.Inch},
		{"flat-surface", surf(flat), 4 * vg.Inch, 3 * vg.Inch},
		{"contour-trajectory", traj, 5 * vg.Inch, 5 * vg.Inch},
		{"curves", curves, 5 * vg.Inch, 5 * vg.Inch},
		{"curves-log", curvesLog, 5 * vg.Inch, 5 * vg.Inch},
		{"curves-regression", curvesReg, 5 * vg.Inch, 3.5 * vg.Inch},
		{"density", dens, 5 * vg.Inch, 3.5 * vg.Inch},
		{"density-bulk", densBulk, 5 * vg.Inch, 3.5 * vg.Inch},
		{"density-smooth", densSmooth, 5 * vg.Inch, 3.5 * vg.Inch},
		{"density-wide", densWide, 5 * vg.Inch, 3.5 * vg.Inch},
	}
	for _, p := range pics {
		for _, ext := range []string{".png", ".pdf", ".svg"} {
			if ext != ".png" && p.name != "filled" && p.name != "surface" && p.name != "density" {
				continue
			}
			if err := render.Save(p.d, filepath.Join(*lookDir, p.name+ext), p.w, p.h); err != nil {
				t.Errorf("%s%s: %v", p.name, ext, err)
			}
		}
	}
}
