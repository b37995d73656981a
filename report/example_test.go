package report_test

import (
	"log"
	"math"
	"os"
	"path/filepath"

	"github.com/lsweep/lsweep/report"
)

// A 3 x 2 surface, rows are y and columns are x, with one point not
// computed, written as a one-file page.
func ExampleWriteFile() {
	r := &report.Report{
		Title: "resnet_skip, filter-normalised directions",
		Surface: &report.Surface{
			X: []float64{-1, 0, 1},
			Y: []float64{-1, 1},
			Values: map[string][]float64{
				"loss": {2.1, 1.4, 2.3, 2.0, math.NaN(), 2.2},
				"acc":  {0.41, 0.62, 0.39, 0.44, math.NaN(), 0.40},
			},
		},
		Manifest: map[string]any{
			"identity": map[string]any{"seed": 1, "norm": "filter"},
			"grid":     map[string]any{"x": map[string]any{"Min": -1, "Max": 1, "N": 3}},
		},
		Summary: []string{"Minimum loss 1.4 at (0, -1)"},
	}
	if err := report.WriteFile(filepath.Join(os.TempDir(), "report.html"), r); err != nil {
		log.Fatal(err)
	}
}
