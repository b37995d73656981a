package landscape_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/lsweep/lsweep/internal/testenv"
	"github.com/lsweep/lsweep/landscape"
	"github.com/lsweep/lsweep/normalize"
)

// TestDefaults: Open applies the defaults of the directions, the same for
// every caller: filter normalisation and biasbn, and with Model2 the
// BatchNorm statistics moved too unless DirType says otherwise.
func TestDefaults(t *testing.T) {
	testenv.RequireRuntime(t)
	model, other := filepath.Join(digits, "resnet_skip.onnx"), filepath.Join(digits, "resnet_skip_ir3.onnx")
	for _, c := range []struct {
		name    string
		cfg     landscape.Config
		dirType string
	}{
		{"random", landscape.Config{Model: model, Data: digitsData}, "weights"},
		{"interpolation", landscape.Config{Model: model, Data: digitsData, Model2: other}, "states"},
		{"interpolation of weights", landscape.Config{Model: model, Data: digitsData, Model2: other, Normalize: normalize.Options{DirType: normalize.DirWeights}}, "weights"},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.cfg.Dataset.Samples = 20
			l, err := landscape.Open(c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			id := l.Identity()
			if id["norm"] != "filter" || id["ignore"] != "biasbn" || id["dir_type"] != c.dirType {
				t.Errorf("norm %v, ignore %v, dir_type %v; want filter, biasbn, %s", id["norm"], id["ignore"], id["dir_type"], c.dirType)
			}
		})
	}
	for _, c := range []struct {
		name string
		cfg  landscape.Config
		want string
	}{
		{"model3 alone", landscape.Config{Model: model, Data: digitsData, Model3: other, TwoD: true}, "needs Model2"},
		{"two x directions", landscape.Config{Model: model, Data: digitsData, Model2: other, DirectionsFile: "d.npz"}, "both choose the x direction"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := landscape.Open(c.cfg)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one saying %q", err, c.want)
			}
		})
	}
}
