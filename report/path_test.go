package report_test

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/lsweep/lsweep/report"
)

func TestPath(t *testing.T) {
	s := bowl(5)
	var buf bytes.Buffer
	ok := &report.Path{X: []float64{-0.5, 0}, Y: []float64{0.5, 0}, Labels: []string{"start", ""}}
	if err := report.Write(&buf, &report.Report{Surface: s, Path: ok}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"path":{"x":[-0.5,0],"y":[0.5,0],"labels":["start",""]}`) {
		t.Error("the page's data holds no path")
	}
	for _, c := range []struct {
		name string
		r    *report.Report
		want string
	}{
		{"no surface", &report.Report{Path: ok}, "2-D surface"},
		{"curve", &report.Report{Surface: &report.Surface{X: []float64{0, 1}, Values: map[string][]float64{"loss": {1, 2}}}, Path: ok}, "2-D surface"},
		{"lengths", &report.Report{Surface: s, Path: &report.Path{X: []float64{0, 1}, Y: []float64{0}}}, "2 x, 1 y"},
		{"NaN", &report.Report{Surface: s, Path: &report.Path{X: []float64{0, math.NaN()}, Y: []float64{0, 1}}}, "not finite"},
	} {
		if err := report.Write(&buf, c.r); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", c.name, err, c.want)
		}
	}
}
