package pipeline_test

import (
	"slices"
	"testing"

	"github.com/lsweep/lsweep/pipeline"
)

// TestDefaultAxesHoldTheModels: the default x axes evaluate the models
// themselves, the model at 0 and, when interpolating, model2 at 1, exactly.
func TestDefaultAxesHoldTheModels(t *testing.T) {
	cases := []struct {
		name string
		c    []float64
		want []float64
	}{
		{"DefaultAxis", pipeline.DefaultAxis.Coords(), []float64{0}},
		{"InterpolationAxis", pipeline.InterpolationAxis.Coords(), []float64{0, 1}},
	}
	for _, c := range cases {
		for _, w := range c.want {
			if !slices.Contains(c.c, w) {
				t.Errorf("%s has no point at %g: %v", c.name, w, c.c)
			}
		}
	}
}
