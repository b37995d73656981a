package sweep_test

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/lsweep/lsweep/sweep"
)

// checkPermutation checks that order holds every point of gr once.
func checkPermutation(t *testing.T, gr sweep.Grid, order []int) {
	t.Helper()
	if len(order) != gr.Len() {
		t.Fatalf("%d points, want %d", len(order), gr.Len())
	}
	seen := make([]bool, gr.Len())
	for k, i := range order {
		if i < 0 || i >= gr.Len() || seen[i] {
			t.Fatalf("order[%d] = %d repeats or is out of range", k, i)
		}
		seen[i] = true
	}
}

// spread measures how evenly the prefixes of order cover gr, in
// coordinates scaled to [0, 1] on each axis of more than one point: for
// each prefix length k it returns the fill distance (the largest distance
// from a grid point to the nearest point of the prefix) and the mean
// distance, each times sqrt(k) for a 2-D grid, times k for a 1-D grid, so
// that a uniform sampling gives numbers that do not grow with k.
func spread(gr sweep.Grid, order []int) (fill, mean []float64) {
	nx, ny := gr.X.N, max(gr.Y.N, 1)
	scale := func(i, n int) float64 {
		if n == 1 {
			return 0
		}
		return float64(i) / float64(n-1)
	}
	n := nx * ny
	d := make([]float64, n)
	for i := range d {
		d[i] = math.Inf(1)
	}
	for k, p := range order {
		px, py := scale(p%nx, nx), scale(p/nx, ny)
		worst, sum := 0.0, 0.0
		for i := range d {
			dx, dy := scale(i%nx, nx)-px, scale(i/nx, ny)-py
			d[i] = min(d[i], math.Hypot(dx, dy))
			worst = max(worst, d[i])
			sum += d[i]
		}
		norm := math.Sqrt(float64(k + 1))
		if nx == 1 || ny == 1 {
			norm = float64(k + 1)
		}
		fill = append(fill, worst*norm)
		mean = append(mean, sum/float64(n)*norm)
	}
	return fill, mean
}

func TestCoarseToFine(t *testing.T) {
	grids := []struct{ x, y string }{
		{"0:1:1", ""}, {"0:1:2", ""}, {"0:1:3", ""}, {"0:1:17", ""}, {"0:1:100", ""}, {"0:1:1001", ""},
		{"0:1:1", "0:1:1"}, {"0:1:2", "0:1:2"}, {"0:1:1", "0:1:7"}, {"0:1:7", "0:1:1"}, {"0:1:3", "0:1:3"},
		{"0:1:2", "0:1:5"}, {"0:1:5", "0:1:4"}, {"0:1:33", "0:1:33"}, {"0:1:51", "0:1:51"},
		{"0:1:65", "0:1:17"}, {"0:1:101", "0:1:3"}, {"0:1:20", "0:1:31"}, {"0:1:40", "0:1:41"},
	}
	for _, c := range grids {
		gr := sweep.Grid{X: axis(t, c.x)}
		if c.y != "" {
			gr.Y = axis(t, c.y)
		}
		t.Run(fmt.Sprint(gr.Shape()), func(t *testing.T) {
			order := sweep.CoarseToFine(gr)
			checkPermutation(t, gr, order)
			if !slices.Equal(order, sweep.CoarseToFine(gr)) {
				t.Fatal("not deterministic")
			}
			nx, ny := gr.X.N, max(gr.Y.N, 1)
			// The ends (corners) come first, then the centre.
			var corners []int
			for _, i := range []int{0, nx - 1, (ny-1)*nx + 0, ny*nx - 1} {
				if !slices.Contains(corners, i) {
					corners = append(corners, i)
				}
			}
			head := slices.Clone(order[:len(corners)])
			slices.Sort(head)
			slices.Sort(corners)
			if !slices.Equal(head, corners) {
				t.Errorf("first points %v, want the corners %v", order[:len(corners)], corners)
			}
			if centre := (ny/2)*nx + nx/2; gr.Len() > len(corners) && nx != 2 && ny != 2 &&
				order[len(corners)] != centre {
				t.Errorf("point %d is %d, want the centre %d", len(corners), order[len(corners)], centre)
			}
			fill, mean := spread(gr, order)
			worstFill, worstMean := 0.0, 0.0
			for k := len(corners); k < len(order); k++ {
				worstFill = max(worstFill, fill[k])
				worstMean = max(worstMean, mean[k])
			}
			t.Logf("fill*sqrt(k) <= %.3f, mean*sqrt(k) <= %.3f", worstFill, worstMean)
			if worstFill > maxFill || worstMean > maxMean {
				t.Errorf("prefixes not spread: fill*sqrt(k) up to %.3f (want <= %v), mean*sqrt(k) up to %.3f (want <= %v)",
					worstFill, maxFill, worstMean, maxMean)
			}
		})
	}
}

// maxFill and maxMean bound the measures of spread of every prefix. A
// full lattice of spacing h has fill distance h/sqrt(2) with k = 1/h^2
// points, 0.71; the order adds points a level at a time, so that up to
// twice that is expected.
const maxFill, maxMean = 1.5, 0.7

// TestSpreadMeasure checks that spread tells a bad order: rows one after
// the other.
func TestSpreadMeasure(t *testing.T) {
	gr := grid2(t, "0:1:33", "0:1:33")
	raster := make([]int, gr.Len())
	for i := range raster {
		raster[i] = i
	}
	fill, mean := spread(gr, raster)
	if w := slices.Max(fill); w < 5*maxFill {
		t.Errorf("raster order: fill*sqrt(k) up to %.3f, want large", w)
	}
	if w := slices.Max(mean); w < 5*maxMean {
		t.Errorf("raster order: mean*sqrt(k) up to %.3f, want large", w)
	}
}

func TestCoarseToFineEmpty(t *testing.T) {
	if o := sweep.CoarseToFine(sweep.Grid{}); o != nil {
		t.Errorf("CoarseToFine(Grid{}) = %v, want nil", o)
	}
}
