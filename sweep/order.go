package sweep

import (
	"cmp"
	"math"
	"slices"
)

// Irrational steps for ordering the points of a level: 1/φ for one axis,
// and for two the R2 sequence's 1/g and 1/g^2, g the plastic number.
const (
	golden = 0.6180339887498949
	r2a    = 0.7548776662466927
	r2b    = 0.5698402909980532
)

// CoarseToFine returns every point index of g once, in an order whose
// every prefix samples the whole grid nearly uniformly, so that a sweep
// stopped early, or one shard of it, still covers the whole plane.
//
// The order goes by levels. Level 0 is the corners (the two ends of a 1-D
// grid). Level L adds the points of the lattice that divides each axis into
// 2^L equal steps (coordinates rounded to the nearest grid point) that
// earlier levels lack: first the centres of the previous level's cells,
// then the midpoints of their edges. The first five points of a 2-D grid
// are thus its four corners and its centre. An axis whose points are all
// taken stops refining while the other goes on, so that a grid of 101 by 3
// points is sampled evenly in x.
//
// Within each of these groups, the points, numbered (a, b) along the axes,
// are sorted by the fractional part of a·α1 + b·α2, with α the steps of
// the R2 low-discrepancy sequence (1/φ in 1-D). Consecutive points thus
// lie far apart, every prefix of a group is spread over the whole plane,
// and so is every Count-th point of it, which is what Shard.Take takes. (A
// bit-reversed, van der Corput, order spreads prefixes as well but gives
// shard I of 2^k only the points of one region of each group.)
//
// CoarseToFine is deterministic; it returns nil for an empty grid.
func CoarseToFine(g Grid) []int {
	nx, ny := g.X.N, g.Y.N
	if ny == 0 {
		ny = 1
	}
	if nx < 1 || ny < 1 {
		return nil
	}
	xs, xl := axisOrder(nx)
	ys, yl := axisOrder(ny)
	order := make([]int, 0, nx*ny)
	type cell struct {
		key  float64
		i, j int
	}
	var cells []cell
	// emit appends the points a×b in the order of their keys.
	emit := func(a, b []int) {
		if len(a) == 0 || len(b) == 0 {
			return
		}
		a, b = slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b))
		α1, α2 := r2a, r2b
		if len(b) == 1 {
			α1 = golden
		} else if len(a) == 1 {
			α2 = golden
		}
		cells = cells[:0]
		for i := range a {
			for j := range b {
				// The conversions forbid fused multiply-adds, so that
				// every platform computes the same keys and order.
				k := float64(float64(i)*α1) + float64(float64(j)*α2)
				cells = append(cells, cell{k - math.Floor(k), i, j})
			}
		}
		slices.SortFunc(cells, func(p, q cell) int {
			if c := cmp.Compare(p.key, q.key); c != 0 {
				return c
			}
			return cmp.Or(cmp.Compare(p.j, q.j), cmp.Compare(p.i, q.i))
		})
		for _, c := range cells {
			order = append(order, b[c.j]*nx+a[c.i])
		}
	}
	for L := 0; L < max(len(xl), len(yl)); L++ {
		xOld, xNew := split(xs, xl, L)
		yOld, yNew := split(ys, yl, L)
		emit(xNew, yNew) // cell centres (the corners at level 0)
		emit(xNew, yOld) // midpoints of horizontal edges
		emit(xOld, yNew) // midpoints of vertical edges
	}
	return order
}

// split returns the indices of the axis order s that levels before L
// added, and those that level L added; ends[l] is the end in s of level l.
func split(s, ends []int, L int) (old, added []int) {
	start := 0
	if L > 0 {
		start = ends[min(L, len(ends))-1]
	}
	if L >= len(ends) {
		return s, nil
	}
	return s[:start], s[start:ends[L]]
}

// axisOrder returns the indices 0..n-1 of one axis by level, and the end
// in that list of each level: the two ends at level 0, then at level L the
// points round(k*(n-1)/2^L), halves rounded up, for odd k, that earlier
// levels lack. Each level's lattice holds the one before (k even), and
// the last holds every index.
func axisOrder(n int) (order, ends []int) {
	seen := make([]bool, n)
	add := func(i int) {
		if !seen[i] {
			seen[i] = true
			order = append(order, i)
		}
	}
	add(0)
	add(n - 1)
	ends = append(ends, len(order))
	for L := 1; len(order) < n; L++ {
		half := int64(1) << (L - 1)
		for k := int64(1); k < 2*half; k += 2 {
			add(int((k*int64(n-1) + half) >> L)) // exact in int64
		}
		ends = append(ends, len(order))
	}
	return order, ends
}
