package landscape_test

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/lsweep/lsweep/internal/testenv"
	"github.com/lsweep/lsweep/landscape"
	"github.com/lsweep/lsweep/sweep"
)

// TestExampleSweep runs Example_sweep's calls and checks the curve: the
// minimum of a trained model's landscape is at the centre, where the loss is
// the untouched model's.
func TestExampleSweep(t *testing.T) {
	testenv.RequireRuntime(t)
	l, err := landscape.Open(landscape.Config{Model: filepath.Join(digits, "resnet_skip.onnx"), Data: digitsData})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	g := sweep.Grid{X: sweep.Axis{Min: -1, Max: 1, N: 21}}
	store, err := sweep.Open(t.TempDir(), sweep.Manifest{Identity: l.Identity(), Grid: g, Channels: landscape.Channels}, sweep.Shard{}, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := sweep.Run(context.Background(), store, g, sweep.CoarseToFine(g), l, nil); err != nil {
		t.Fatal(err)
	}
	s, err := sweep.ReadSurface(store.Path())
	if err != nil {
		t.Fatal(err)
	}
	i, v := s.Min("loss")
	centre, err := l.Engine().Evaluate(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if x, _ := g.Coord(i); x != 0 || math.Abs(v-centre.Loss) > 0 {
		t.Errorf("minimum %g at %g; untouched loss %g", v, x, centre.Loss)
	}
}

// TestTwoDExtendsOneD: the x direction of a 2-D landscape is that of the
// 1-D landscape with the same seed, so a 2-D run's y = 0 row is the 1-D
// curve.
func TestTwoDExtendsOneD(t *testing.T) {
	testenv.RequireRuntime(t)
	open := func(twoD bool) *landscape.Landscape {
		l, err := landscape.Open(landscape.Config{Model: filepath.Join(digits, "resnet_skip.onnx"), Data: digitsData, Seed: 3, TwoD: twoD})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		return l
	}
	one, two := open(false), open(true)
	for _, a := range []float64{-0.7, 0.4} {
		r1, err := one.At(context.Background(), a, 0)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := two.At(context.Background(), a, 0)
		if err != nil {
			t.Fatal(err)
		}
		if r1.Loss != r2.Loss {
			t.Errorf("at %g: 1-D loss %g, 2-D loss %g", a, r1.Loss, r2.Loss)
		}
	}
	if two.Y == nil || one.Y != nil {
		t.Error("wrong number of directions")
	}
}
