package pipeline_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lsweep/lsweep/pipeline"
	"github.com/lsweep/lsweep/render"
	"github.com/lsweep/lsweep/sweep"
)

// bowl is a made-up landscape: loss a^2 + 2b^2 + 0.1, accuracy falling
// with it.
type bowl struct{}

func (bowl) Evaluate(ctx context.Context, a, b float64) ([]float64, error) {
	l := a*a + 2*b*b + 0.1
	return []float64{l, 1 / (1 + l)}, nil
}

// TestDrawPartial: a run with only the first points of the coarse-to-fine
// order computed draws every picture of a surface, and the report's 3-D
// view takes the palette asked for; no ONNX Runtime needed.
func TestDrawPartial(t *testing.T) {
	out := filepath.Join(t.TempDir(), "run")
	g := sweep.Grid{X: sweep.Axis{Min: -1, Max: 1, N: 9}, Y: sweep.Axis{Min: -1, Max: 1, N: 9}}
	m := sweep.Manifest{Identity: map[string]any{"seed": 0}, Info: map[string]any{"model": "bowl.onnx"}, Grid: g, Channels: []string{"loss", "acc"}}
	st, err := sweep.Open(out, m, sweep.Shard{}, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := sweep.Run(context.Background(), st, g, sweep.CoarseToFine(g)[:30], bowl{}, nil); err != nil {
		t.Fatal(err)
	}
	st.Close()
	o := pipeline.NewPlotOptions()
	o.Palette = "inferno"
	files, err := pipeline.Draw(out, nil, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"contour.png", "filled_contour.png", "heatmap.png", "accuracy.png", "surface3d.png", "surface.vtp", "report.html"} {
		if !slices.Contains(files, filepath.Join(out, name)) {
			t.Errorf("Draw wrote %v, not %s", files, name)
		}
	}
	page, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	c := render.Inferno().Stops()[0]
	if want := fmt.Sprintf(`"palette":[[%d,%d,%d]`, c.R, c.G, c.B); !strings.Contains(string(page), want) {
		t.Errorf("report.html lacks %s", want)
	}
	if !strings.Contains(string(page), "bowl.onnx") {
		t.Error("report.html does not name the model of the manifest")
	}
}
