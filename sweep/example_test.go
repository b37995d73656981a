package sweep_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/lsweep/lsweep/sweep"
)

// This example shows the order of the points of a 3 by 3 grid, numbered
// iy*3 + ix (rows are y, columns are x): the four corners, opposite ones
// first, the centre, then the midpoints of the edges; and the share of each
// of two shards.
func ExampleCoarseToFine() {
	x, _ := sweep.ParseAxis("-1:1:3")
	g := sweep.Grid{X: x, Y: x}
	order := sweep.CoarseToFine(g)
	fmt.Println(order)
	for i := range 2 {
		sh := sweep.Shard{Index: i, Count: 2}
		fmt.Println(sh, sh.Take(order))
	}
	// Output:
	// [0 8 6 2 4 1 7 3 5]
	// 0/2 [0 6 4 7 5]
	// 1/2 [8 2 1 3]
}

// bowl is an Evaluator of a quadratic bowl and of a second channel.
type bowl struct{}

func (bowl) Evaluate(ctx context.Context, x, y float64) ([]float64, error) {
	l := (x-0.5)*(x-0.5) + 2*(y+0.5)*(y+0.5)
	return []float64{l, 1 / (1 + l)}, nil
}

// This example runs a sweep into an output folder, as one process, and
// finds the minimum of the loss. Running it again would compute nothing.
func ExampleRun() {
	dir, err := os.MkdirTemp("", "sweep")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	x, _ := sweep.ParseAxis("-1:1:21")
	y, _ := sweep.ParseAxis("-1:1:9")
	m := sweep.Manifest{
		Identity: map[string]any{"function": "bowl", "seed": 1},
		Grid:     sweep.Grid{X: x, Y: y},
		Channels: []string{"loss", "accuracy"},
	}
	s, err := sweep.Open(dir, m, sweep.Shard{}, false)
	if err != nil {
		log.Fatal(err)
	}
	points := sweep.CoarseToFine(m.Grid)
	if err := sweep.Run(context.Background(), s, m.Grid, points, bowl{}, nil); err != nil {
		log.Fatal(err)
	}

	surf, err := sweep.ReadSurface(filepath.Join(dir, "surface.npz"))
	if err != nil {
		log.Fatal(err)
	}
	i, v := surf.Min("loss")
	px, py := surf.Grid.Coord(i)
	fmt.Printf("%d points, minimum %.3g at (%.2g, %.2g)\n", s.Count(), v, px, py)
	// Output:
	// 189 points, minimum 0 at (0.5, -0.5)
}
