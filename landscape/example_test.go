package landscape_test

import (
	"context"
	"fmt"
	"log"

	"github.com/lsweep/lsweep/landscape"
	"github.com/lsweep/lsweep/sweep"
)

// A 1-D landscape from Go: the loss along a filter-normalised random
// direction at five points. (Not run as a test, since it needs the ONNX
// Runtime library; TestExampleSweep runs the same calls.)
func Example() {
	l, err := landscape.Open(landscape.Config{
		Model: "../fixtures/testdata/digits/resnet_skip.onnx",
		Data:  "../fixtures/testdata/digits/data.npz",
		Seed:  1,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	for _, a := range []float64{-1, -0.5, 0, 0.5, 1} {
		r, err := l.At(context.Background(), a, 0)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%5.2f  loss %.4f  accuracy %.3f\n", a, r.Loss, r.Accuracy)
	}
}

// A resumable sweep of a 1-D grid into an output folder: what lsweep run
// does, from Go.
func Example_sweep() {
	l, err := landscape.Open(landscape.Config{
		Model: "../fixtures/testdata/digits/resnet_skip.onnx",
		Data:  "../fixtures/testdata/digits/data.npz",
	})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	g := sweep.Grid{X: sweep.Axis{Min: -1, Max: 1, N: 21}}
	store, err := sweep.Open("resnet_skip.landscape", sweep.Manifest{Identity: l.Identity(), Grid: g, Channels: landscape.Channels}, sweep.Shard{}, false)
	if err != nil {
		log.Fatal(err)
	}
	if err := sweep.Run(context.Background(), store, g, sweep.CoarseToFine(g), l, nil); err != nil {
		log.Fatal(err)
	}
	s, err := sweep.ReadSurface(store.Path())
	if err != nil {
		log.Fatal(err)
	}
	i, v := s.Min("loss")
	x, _ := g.Coord(i)
	fmt.Printf("minimum loss %.4f at %.1f\n", v, x)
}
