package sweep

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"slices"
	"time"
)

// EstimatedChannel is the last channel of an adaptive run's store: 1 where
// the point's values were interpolated, 0 where they were computed. Files
// hold it as a bool entry (true where interpolated).
const EstimatedChannel = "estimated"

// checkShare is the share of the tolerance a computed point may differ
// from the coarser lattice's interpolant for its cell to count as smooth.
const checkShare = 0.5

// DefaultCoarseStep is Refine.CoarseStep's default.
const DefaultCoarseStep = 8

// Refine configures RunAdaptive: which channel is checked and to what
// tolerance, and how coarse the first lattice is.
type Refine struct {
	// Channel is the index of the checked channel (the loss).
	Channel int
	// Rel and Abs are the tolerance of a filled value v: Rel*|v| + Abs.
	// The checks that decide a fill use half of it (see RunAdaptive),
	// leaving the other half to the computed values' own error.
	Rel, Abs float64
	// CoarseStep is the largest step, in grid points, of the first lattice,
	// which is computed everywhere; 0 means DefaultCoarseStep.
	CoarseStep int
	// Counts are channels set to 0 at filled points: counts of work (the
	// samples evaluated) that a filled point did not do.
	Counts []int
}

func (r Refine) tol(v float64) float64 { return r.Rel*math.Abs(v) + r.Abs }

// toU maps a value of the checked channel to units of the tolerance: u =
// sign(v) log(1 + |v|/c)/Rel with c = Abs/Rel, whose step du = dv/(Rel(|v|
// + c)) is the change in tolerances. A loss that climbs a wall
// exponentially climbs linearly in u, where polynomials follow it; without
// Rel, u = v/Abs.
func (r Refine) toU(v float64) float64 {
	if r.Rel == 0 {
		return v / r.Abs
	}
	u := math.Log1p(math.Abs(v)*r.Rel/r.Abs) / r.Rel
	if v < 0 {
		return -u
	}
	return u
}

// fromU inverts toU.
func (r Refine) fromU(u float64) float64 {
	if r.Rel == 0 {
		return u * r.Abs
	}
	v := math.Expm1(math.Abs(u)*r.Rel) * r.Abs / r.Rel
	if u < 0 {
		return -v
	}
	return v
}

// RunAdaptive evaluates a grid coarse to fine and computes only where the
// surface needs it, filling the rest by a checked interpolant. The store's
// channels must be the evaluator's followed by EstimatedChannel.
//
// The grid's points form nested lattices, those of CoarseToFine: level L
// divides each axis into about 2^L steps. RunAdaptive computes every point
// of the first level whose steps are at most CoarseStep grid points, and
// then, level by level, looks at each active cell (a rectangle between
// neighbouring points of level L's lattice; at first all of them). It
// computes the points of level L+1 inside the cell and calls the cell
// smooth when
//
//   - each of them is within half the tolerance of the cubic of level L
//     (tensor-product Lagrange on the four nearest lattice points of each
//     axis), and
//   - at each point of the cell not computed, the fill (below) is within
//     half the tolerance of the cubic of level L+1, whose stencil reaches
//     beyond the cell: two interpolants of different degree agree.
//
// The checks are made in two spaces of the checked channel: the values,
// and the values in units of the tolerance, u = log(1 + |v|/c)/Rel with c
// = Abs/Rel (signed), where the tolerance is the same everywhere and a
// loss that climbs a wall exponentially climbs linearly. A cell whose
// checks pass in either is smooth and is filled in the first that passed.
//
// A smooth cell's other points are filled, never computed, by the
// tensor-product interpolant (quadratic, or linear along an axis without a
// midpoint) of the cell's own computed points of level L+1, so that a sharp
// feature beside the cell cannot ring into it. A filled value outside the
// range of those computed points, widened by the tolerance, is not
// trusted: the point is computed instead. Every filled value is thus
// bounded by computed neighbours. A cell that is not smooth has its four
// sub-cells active at level L+1; one that keeps failing is refined down to
// single grid steps, where every point is computed: a kink or a chaotic
// region is computed, never smoothed. A feature narrower than the spacing
// of the points checked, and invisible at all of them, is beyond any
// sampling; the coarse step bounds that spacing.
//
// Channels other than the checked one are interpolated the same way and
// clamped to the range of the cell's computed values; Counts are 0 at
// filled points. Filled points have EstimatedChannel 1.
//
// Every decision depends on computed values alone, in a fixed order, so
// running again after an interruption computes what is missing and gives
// the same surface. With a shard of N > 1, each level's points to compute
// are split by Shard.Take; a shard then waits for the others' files in the
// folder to hold the level's points (all shards must run at once, as under
// mpirun, srun or an Indexed Job with parallelism equal to completions),
// and shard 0 writes the filled points into its file, so that Merge gives
// the surface of a single process.
func RunAdaptive(ctx context.Context, s *Store, g Grid, shard Shard, ev Evaluator, r Refine, p Progress) error {
	if !g.same(s.grid) {
		return fmt.Errorf("sweep: RunAdaptive on the grid %v of a store of the grid %v", g, s.grid)
	}
	nch := len(s.channels) - 1
	if nch < 1 || s.channels[nch] != EstimatedChannel {
		return fmt.Errorf("sweep: an adaptive store's last channel must be %q, it has %q", EstimatedChannel, s.channels)
	}
	if r.Channel < 0 || r.Channel >= nch {
		return fmt.Errorf("sweep: checked channel %d of %d", r.Channel, nch)
	}
	if !(r.Rel >= 0 && r.Abs >= 0) || r.Rel+r.Abs <= 0 {
		return fmt.Errorf("sweep: refinement tolerance rel %g, abs %g: want numbers >= 0, not both 0", r.Rel, r.Abs)
	}
	a := newAdaptive(s, g, shard.norm(), ev, r)
	if p != nil {
		// Progress counts the points to compute: at most the grid's, fewer
		// as cells are filled (with a ProgressTotal); filled points are
		// done at the end otherwise.
		p.Start(g.Len(), a.count())
		defer p.Finish()
		a.progress = p
	}
	err := a.run(ctx)
	if err == nil && p != nil {
		if pt, ok := p.(ProgressTotal); ok {
			pt.SetTotal(a.count())
			p.Step(a.count())
		} else {
			p.Step(g.Len()) // the rest is filled
		}
	}
	if ferr := s.Flush(); ferr != nil {
		err = errors.Join(err, ferr)
	}
	return err
}

// adaptive is the state of one RunAdaptive.
type adaptive struct {
	s        *Store
	g        Grid
	shard    Shard
	ev       Evaluator
	r        Refine
	progress Progress

	nx, ny   int
	nch      int
	xs, ys   []int // the axis orders and their level ends (axisOrder)
	xl, yl   []int
	latX     [][]int // the lattices of each level
	latY     [][]int
	vals     [][]float64  // by channel, then point: computed or filled
	sp       [2][]float64 // the checked channel in each space
	saved    [][]float64  // by channel: the values of the points in have
	have     []bool       // values in hand: evaluated, or read from the store or another shard
	computed []bool       // computed by this run's decisions so far
	known    []bool       // computed or filled so far
	rank     []int        // position in CoarseToFine
}

func newAdaptive(s *Store, g Grid, shard Shard, ev Evaluator, r Refine) *adaptive {
	a := &adaptive{s: s, g: g, shard: shard, ev: ev, r: r, nx: g.X.N, ny: max(1, g.Y.N), nch: len(s.channels) - 1}
	a.xs, a.xl = axisOrder(a.nx)
	a.ys, a.yl = axisOrder(a.ny)
	n := g.Len()
	// Every decision depends on what this run has computed so far, never
	// on what the store holds already, so a resumed run decides as an
	// uninterrupted one did; the store only spares the evaluations.
	a.vals, a.saved = make([][]float64, a.nch), make([][]float64, a.nch)
	s.mu.Lock()
	for c := range a.vals {
		a.saved[c] = slices.Clone(s.values[c])
		a.vals[c] = make([]float64, n)
	}
	a.have = make([]bool, n)
	est := s.values[a.nch]
	for i := range a.have {
		// Filled points of an earlier run are filled again.
		a.have[i] = s.mask[i] != 0 && est[i] == 0
	}
	s.mu.Unlock()
	a.computed, a.known = make([]bool, n), make([]bool, n)
	for space := range a.sp {
		a.sp[space] = make([]float64, n)
	}
	a.rank = make([]int, n)
	for k, i := range CoarseToFine(g) {
		a.rank[i] = k
	}
	return a
}

func (a *adaptive) count() int {
	n := 0
	for _, c := range a.have {
		if c {
			n++
		}
	}
	return n
}

// levels returns the number of levels of the grid's lattices.
func (a *adaptive) levels() int { return max(len(a.xl), len(a.yl)) }

// lattice returns the sorted indices of an axis's lattice at level L.
func lattice(order, ends []int, L int) []int {
	return slices.Sorted(slices.Values(order[:ends[min(L, len(ends)-1)]]))
}

// cell is a rectangle between neighbouring lattice points: x0 <= x <= x1,
// y0 <= y <= y1 (y0 = y1 = 0 on a 1-D grid).
type cell struct{ x0, x1, y0, y1 int }

// between returns the lattice points of p in [lo, hi].
func between(p []int, lo, hi int) []int {
	i, _ := slices.BinarySearch(p, lo)
	j, _ := slices.BinarySearch(p, hi+1)
	return p[i:j]
}

func (a *adaptive) run(ctx context.Context) error {
	for L := range a.levels() {
		a.latX = append(a.latX, lattice(a.xs, a.xl, L))
		a.latY = append(a.latY, lattice(a.ys, a.yl, L))
	}
	L0 := 0
	for ; L0 < a.levels()-1; L0++ {
		if maxGap(a.latX[L0]) <= a.coarseStep() && maxGap(a.latY[L0]) <= a.coarseStep() {
			break
		}
	}
	px, py := a.latX[L0], a.latY[L0]
	var first []int
	for _, y := range py {
		for _, x := range px {
			first = append(first, y*a.nx+x)
		}
	}
	if err := a.compute(ctx, first); err != nil {
		return err
	}
	for _, i := range first {
		a.known[i] = true
	}
	active := cells(px, py)
	for L := L0; L+1 < a.levels() && len(active) > 0; L++ {
		px, py := a.latX[L], a.latY[L]
		qx, qy := a.latX[L+1], a.latY[L+1]
		if L+2 == a.levels() {
			active = a.fillConsistent(active, L)
			a.retotal(active)
		}
		// The points of level L+1 inside the active cells that level L
		// lacks (whether an earlier, interrupted run computed them or not).
		fresh := func(x, y int) bool {
			_, oldX := slices.BinarySearch(px, x)
			_, oldY := slices.BinarySearch(py, y)
			return !(oldX && oldY)
		}
		seen := map[int]bool{}
		var todo []int
		for _, c := range active {
			for _, y := range between(qy, c.y0, c.y1) {
				for _, x := range between(qx, c.x0, c.x1) {
					if i := y*a.nx + x; !seen[i] && fresh(x, y) {
						seen[i] = true
						todo = append(todo, i)
					}
				}
			}
		}
		if err := a.compute(ctx, todo); err != nil {
			return err
		}
		for i := range seen {
			a.known[i] = true
		}
		// A cell is smooth when its checks pass in either space; it is
		// then filled in the first that passed.
		var next []cell
		var smooth []cell
		var spaces []int
		for _, c := range active {
			sx, sy := between(qx, c.x0, c.x1), between(qy, c.y0, c.y1)
			sp := -1
			for space := range 2 {
				if a.predicts(space, c, L, sx, sy, fresh) && a.agree(space, c, L+1, sx, sy) {
					sp = space
					break
				}
			}
			if sp >= 0 {
				smooth, spaces = append(smooth, c), append(spaces, sp)
				continue
			}
			next = append(next, cells(sx, sy)...)
		}
		var out []int
		for k, c := range smooth {
			out = append(out, a.fill(spaces[k], c, between(qx, c.x0, c.x1), between(qy, c.y0, c.y1))...)
		}
		if err := a.compute(ctx, out); err != nil {
			return err
		}
		a.retotal(next)
		active = next
	}
	return a.record()
}

// retotal tells a ProgressTotal the points that may still be computed:
// the grid's, less those filled outside the cells still active (a point
// filled on the edge of an active cell may yet be computed).
func (a *adaptive) retotal(active []cell) {
	pt, ok := a.progress.(ProgressTotal)
	if !ok {
		return
	}
	open := make([]bool, a.g.Len())
	for _, c := range active {
		for y := c.y0; y <= c.y1; y++ {
			for x := c.x0; x <= c.x1; x++ {
				open[y*a.nx+x] = true
			}
		}
	}
	filled := 0
	for i, k := range a.known {
		if k && !a.computed[i] && !open[i] {
			filled++
		}
	}
	pt.SetTotal(a.g.Len() - filled)
}

// fillConsistent fills, at the last level, the active cells in which the
// interpolant of the cell's computed corners agrees with the cubic of
// level L at every point (in either space): an embedded error estimate, as
// the two interpolants differ by about the lower one's error. It returns
// the cells left to compute.
func (a *adaptive) fillConsistent(active []cell, L int) []cell {
	var rest []cell
	for _, c := range active {
		sx, sy := []int{c.x0, c.x1}, []int{c.y0, c.y1}
		if c.y0 == c.y1 {
			sy = sy[:1]
		}
		filled := false
		for space := range 2 {
			if a.agree(space, c, L, sx, sy) {
				a.fill(space, c, sx, sy)
				filled = true
				break
			}
		}
		if !filled {
			rest = append(rest, c)
		}
	}
	return rest
}

// cells returns the cells between neighbouring points of the lattices px
// and py (py of one point on a 1-D grid).
func cells(px, py []int) []cell {
	var cs []cell
	for j := 0; j < max(1, len(py)-1); j++ {
		for i := 0; i+1 < len(px); i++ {
			c := cell{x0: px[i], x1: px[i+1]}
			if len(py) > 1 {
				c.y0, c.y1 = py[j], py[j+1]
			}
			cs = append(cs, c)
		}
	}
	return cs
}

// Spaces of the checked channel in which cells are interpolated: the
// values themselves, and the values in units of the tolerance (toU).
const (
	linear = iota
	logarithmic
)

// close reports whether an interpolated value f of the checked channel in
// space is within checkShare of the tolerance of v.
func (a *adaptive) close(space int, v, f float64) bool {
	if space == linear {
		return math.Abs(v-f) <= a.r.tol(v)*checkShare
	}
	return math.Abs(v-f) <= checkShare
}

// predicts reports whether, in space, each point of cell c that level L
// lacks (fresh) is close to the cubic of level L.
func (a *adaptive) predicts(space int, c cell, L int, sx, sy []int, fresh func(x, y int) bool) bool {
	for _, y := range sy {
		for _, x := range sx {
			if fresh(x, y) && !a.close(space, a.sp[space][y*a.nx+x], a.cubic(space, L, x, y)) {
				return false
			}
		}
	}
	return true
}

// agree reports whether, at every point of cell c not computed, the fill
// (the interpolant of c's points sx x sy) is close to the cubic of level
// L's lattice, which reaches one point beyond c on each side: two
// interpolants of different degree that agree say the cell is resolved at
// the scale of its fill, and a feature that only the wider stencil sees (a
// ridge next to the cell) refines it.
func (a *adaptive) agree(space int, c cell, L int, sx, sy []int) bool {
	for y := c.y0; y <= c.y1; y++ {
		wy := weights(sy, y)
		for x := c.x0; x <= c.x1; x++ {
			if a.computed[y*a.nx+x] {
				continue
			}
			q := tensor(a.sp[space], a.nx, sx, sy, weights(sx, x), wy)
			if !a.close(space, q, a.cubic(space, L, x, y)) {
				return false
			}
		}
	}
	return true
}

// tensor returns the values v of a grid nx points wide interpolated with
// the weights wx, wy of the nodes sx, sy.
func tensor(v []float64, nx int, sx, sy []int, wx, wy []float64) float64 {
	var t float64
	for j, y := range sy {
		for i, x := range sx {
			t += wy[j] * wx[i] * v[y*nx+x]
		}
	}
	return t
}

// set sets the checked channel of point i, in both spaces.
func (a *adaptive) set(i int, v float64) {
	a.vals[a.r.Channel][i] = v
	a.sp[linear][i], a.sp[logarithmic][i] = v, a.r.toU(v)
}

// fill sets every point of cell c that is not computed to the tensor
// Lagrange interpolant (quadratic where c has a midpoint on an axis) of
// c's computed points sx x sy, the checked channel in space. Only c's own
// points enter, so a sharp feature next to the cell cannot ring into it. A
// value of the checked channel outside the range of those points, widened
// by the tolerance, is not trusted: fill returns those points, to be
// computed. Other channels are clamped to the range, and Counts set to 0.
func (a *adaptive) fill(space int, c cell, sx, sy []int) (untrusted []int) {
	lo, hi := make([]float64, a.nch), make([]float64, a.nch)
	for ch := range lo {
		lo[ch], hi[ch] = math.Inf(1), math.Inf(-1)
		for _, y := range sy {
			for _, x := range sx {
				v := a.vals[ch][y*a.nx+x]
				lo[ch], hi[ch] = min(lo[ch], v), max(hi[ch], v)
			}
		}
	}
	k := a.r.Channel
	low, high := lo[k]-a.r.tol(lo[k]), hi[k]+a.r.tol(hi[k])
	for y := c.y0; y <= c.y1; y++ {
		wy := weights(sy, y)
		for x := c.x0; x <= c.x1; x++ {
			i := y*a.nx + x
			if a.computed[i] {
				continue
			}
			wx := weights(sx, x)
			for ch := range a.nch {
				if ch == k {
					v := tensor(a.sp[space], a.nx, sx, sy, wx, wy)
					if space == logarithmic {
						v = a.r.fromU(v)
					}
					a.set(i, v)
					if !(v >= low && v <= high) {
						untrusted = append(untrusted, i)
					}
					continue
				}
				a.vals[ch][i] = min(max(tensor(a.vals[ch], a.nx, sx, sy, wx, wy), lo[ch]), hi[ch])
			}
			for _, ch := range a.r.Counts {
				a.vals[ch][i] = 0
			}
			a.known[i] = true
		}
	}
	return untrusted
}

// compute computes points: it evaluates this shard's share of them (in
// coarse-to-fine order) whose values are not in hand, records them, with
// several shards waits for the others' shares, and takes all of them as
// computed.
func (a *adaptive) compute(ctx context.Context, points []int) error {
	slices.SortFunc(points, func(i, j int) int { return a.rank[i] - a.rank[j] })
	for _, i := range a.shard.Take(points) {
		if a.have[i] {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		x, y := a.g.Coord(i)
		v, err := a.ev.Evaluate(ctx, x, y)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("sweep: %s: %w", pointName(a.g, i), err)
		}
		if len(v) != a.nch {
			return fmt.Errorf("sweep: %s: the evaluator returned %d values for %d channels %q", pointName(a.g, i), len(v), a.nch, a.s.channels[:a.nch])
		}
		if err := a.s.Record(i, append(v, 0)); err != nil {
			return err
		}
		a.keep(i, v)
		if a.progress != nil {
			a.progress.Step(a.count())
		}
	}
	if a.shard.Count > 1 {
		if err := a.s.Flush(); err != nil {
			return err
		}
		if err := a.wait(ctx, points); err != nil {
			return err
		}
	}
	for _, i := range points {
		for c := range a.vals {
			a.vals[c][i] = a.saved[c][i]
		}
		a.set(i, a.saved[a.r.Channel][i])
		a.computed[i], a.known[i] = true, true
	}
	return nil
}

// keep holds the values v of point i.
func (a *adaptive) keep(i int, v []float64) {
	for c := range v {
		a.saved[c][i] = v[c]
	}
	a.have[i] = true
}

// wait reads the other shards' files until they hold every point of
// points, and takes their values.
func (a *adaptive) wait(ctx context.Context, points []int) error {
	for {
		missing := 0
		for k := 0; k < a.shard.Count; k++ {
			if k == a.shard.Index {
				continue
			}
			sh := Shard{Index: k, Count: a.shard.Count}
			var sf *Surface
			for _, i := range sh.Take(points) {
				if a.have[i] {
					continue
				}
				if sf == nil {
					var err error
					sf, err = ReadSurface(filepath.Join(a.s.dir, ShardName(sh)))
					if errors.Is(err, fs.ErrNotExist) {
						sf = &Surface{Mask: make([]bool, a.g.Len())}
					} else if err != nil {
						return err
					} else if err := sf.agrees(ShardName(sh), a.g, a.s.channels); err != nil {
						return err
					}
				}
				if !sf.Mask[i] || sf.Values[EstimatedChannel][i] != 0 {
					missing++
					continue
				}
				v := make([]float64, a.nch)
				for c := range v {
					v[c] = sf.Values[a.s.channels[c]][i]
				}
				a.keep(i, v)
			}
		}
		if missing == 0 {
			return nil
		}
		t := time.NewTimer(500 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// record writes the filled points into the store (shard 0 only).
func (a *adaptive) record() error {
	if a.shard.Index != 0 {
		return nil
	}
	v := make([]float64, a.nch+1)
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	for i := range a.known {
		if a.computed[i] || !a.known[i] {
			continue
		}
		for c := 0; c < a.nch; c++ {
			v[c] = a.vals[c][i]
		}
		v[a.nch] = 1
		a.s.put(i, v)
	}
	return nil
}

// cubic returns the checked channel in space at grid point (x, y)
// interpolated from level L's lattice, whose every point is known: the
// tensor-product Lagrange cubic on the four nearest lattice points of each
// axis (fewer on short axes).
func (a *adaptive) cubic(space, L, x, y int) float64 {
	sx, sy := stencil(a.latX[L], x), stencil(a.latY[L], y)
	return tensor(a.sp[space], a.nx, sx, sy, weights(sx, x), weights(sy, y))
}

// stencil returns the (at most) four points of the lattice p nearest t
// around it.
func stencil(p []int, t int) []int {
	m := min(4, len(p))
	k, _ := slices.BinarySearch(p, t)
	s := min(max(k-2, 0), len(p)-m)
	return p[s : s+m]
}

// weights returns the Lagrange weights at t of the nodes pts.
func weights(pts []int, t int) []float64 {
	w := make([]float64, len(pts))
	for j := range pts {
		w[j] = 1
		for i := range pts {
			if i != j {
				w[j] *= float64(t-pts[i]) / float64(pts[j]-pts[i])
			}
		}
	}
	return w
}

func (a *adaptive) coarseStep() int {
	if a.r.CoarseStep > 0 {
		return a.r.CoarseStep
	}
	return DefaultCoarseStep
}

// maxGap returns the largest step between neighbouring points of p.
func maxGap(p []int) int {
	m := 0
	for i := 1; i < len(p); i++ {
		m = max(m, p[i]-p[i-1])
	}
	return m
}
