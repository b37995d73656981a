package report_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/lsweep/lsweep/render"
	"github.com/lsweep/lsweep/report"
)

// TestPalette: the page's 3-D view takes its colours from the colour map
// the pictures use, viridis when none is given.
func TestPalette(t *testing.T) {
	for _, tc := range []struct {
		cm   *render.ColorMap
		want *render.ColorMap
	}{{nil, render.Viridis()}, {render.Magma(), render.Magma()}} {
		var buf bytes.Buffer
		s := &report.Surface{X: []float64{0, 1}, Y: []float64{0, 1}, Values: map[string][]float64{"loss": {1, 2, 3, 4}}}
		if err := report.Write(&buf, &report.Report{Surface: s, ColorMap: tc.cm}); err != nil {
			t.Fatal(err)
		}
		var stops []string
		for _, c := range tc.want.Stops() {
			stops = append(stops, fmt.Sprintf("[%d,%d,%d]", c.R, c.G, c.B))
		}
		want := `"palette":[` + strings.Join(stops, ",") + "]"
		if !strings.Contains(buf.String(), want) {
			t.Errorf("%s: the page's data lacks %s", tc.want.Name, want)
		}
	}
}
