package render_test

import (
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"

	"gonum.org/v1/plot/vg"

	"github.com/lsweep/lsweep/render"
)

func ExampleAutoLevels() {
	// Losses spanning three decades get log-spaced levels.
	levels, log := render.AutoLevels([]float64{0.012, 0.3, math.NaN(), 8.7}, 10)
	fmt.Println(levels, log)
	// A narrow range gets round, equally spaced ones.
	levels, log = render.AutoLevels([]float64{0.31, 0.52, 0.77}, 5)
	fmt.Println(levels, log)
	// Output:
	// [0.01 0.02 0.05 0.1 0.2 0.5 1 2 5 10] true
	// [0.3 0.4 0.5 0.6 0.7 0.8] false
}

func ExampleStepLevels() {
	// The reference implementation's vmin, vmax and vlevel.
	fmt.Println(render.StepLevels(0.1, 2, 0.4))
	// Output:
	// [0.1 0.5 0.9 1.3 1.7]
}

func ExampleLevels() {
	fmt.Println(render.Levels(0, 1, 5, false))
	fmt.Println(render.Levels(0.001, 10, 5, true))
	// Output:
	// [0 0.25 0.5 0.75 1]
	// [0.001 0.01 0.1 1 10]
}

func ExampleNewFilledContour() {
	xs := []float64{-1, -0.5, 0, 0.5, 1}
	g := render.NewGrid(xs, xs, func(x, y float64) float64 { return 0.1 + x*x + 2*y*y })
	g.Set(4, 4, math.NaN()) // not computed: drawn hatched

	f := render.NewFilledContour(g)
	f.XLabel, f.YLabel = "x direction", "y direction"
	f.Levels = render.StepLevels(0.1, 3, 0.5)
	f.Log = false

	dir, err := os.MkdirTemp("", "render")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := render.Save(f, filepath.Join(dir, "contour.pdf"), 5*vg.Inch, 4*vg.Inch); err != nil {
		log.Fatal(err)
	}
	fmt.Println(f.Min, f.Max)
	// Output:
	// 0.1 3.1
}
