package sweep_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lsweep/lsweep/npz"
	"github.com/lsweep/lsweep/sweep"
)

// surf is an Evaluator of a function of the plane and a second channel,
// counting its calls and the points it was asked for. If stopAfter is set
// it cancels the run at that call.
type surf struct {
	fn        func(x, y float64) float64
	calls     atomic.Int64
	mu        sync.Mutex
	asked     map[[2]float64]int
	cancel    func()
	stopAfter int64
}

func (s *surf) Evaluate(ctx context.Context, x, y float64) ([]float64, error) {
	n := s.calls.Add(1)
	if s.cancel != nil && n == s.stopAfter {
		s.cancel()
		return nil, ctx.Err()
	}
	s.mu.Lock()
	if s.asked == nil {
		s.asked = map[[2]float64]int{}
	}
	s.asked[[2]float64{x, y}]++
	s.mu.Unlock()
	v := s.fn(x, y)
	return []float64{v, 1 / (1 + v)}, nil
}

var adaptiveChannels = []string{"loss", "acc", sweep.EstimatedChannel}

func adaptiveManifest(gr sweep.Grid) sweep.Manifest {
	return sweep.Manifest{Identity: map[string]any{"f": "test"}, Grid: gr, Channels: adaptiveChannels}
}

var refine = sweep.Refine{Channel: 0, Rel: 0.02, Abs: 1e-3}

// runAdaptive runs an adaptive sweep of ev into dir and returns the
// surface file.
func runAdaptive(t *testing.T, dir string, gr sweep.Grid, sh sweep.Shard, ev sweep.Evaluator) (*sweep.Surface, error) {
	t.Helper()
	s, err := sweep.Open(dir, adaptiveManifest(gr), sh, false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.FlushInterval = time.Hour // RunAdaptive writes at the end, interrupted or not
	if err := sweep.RunAdaptive(context.Background(), s, gr, sh, ev, refine, nil); err != nil {
		return nil, err
	}
	return readSurface(t, s.Path()), nil
}

// checkWithin checks that every point of s is within the tolerance of fn,
// that computed points hold fn exactly, and returns the points computed.
func checkWithin(t *testing.T, s *sweep.Surface, fn func(x, y float64) float64) int {
	t.Helper()
	computed := 0
	worst := 0.0
	for i := range s.Grid.Len() {
		x, y := s.Grid.Coord(i)
		if !s.Mask[i] {
			t.Fatalf("point %d (%g, %g) has no value", i, x, y)
		}
		v, want := s.Values["loss"][i], fn(x, y)
		est := s.Values[sweep.EstimatedChannel][i]
		if est == 0 {
			computed++
			if v != want {
				t.Fatalf("computed point (%g, %g): %v, want %v", x, y, v, want)
			}
			continue
		}
		if est != 1 {
			t.Fatalf("point (%g, %g): estimated %v", x, y, est)
		}
		e := math.Abs(v-want) / (refine.Rel*math.Abs(want) + refine.Abs)
		worst = max(worst, e)
		if e > 1 {
			t.Errorf("filled point (%g, %g): %v, the function %v: %.2f tolerances off", x, y, v, want, e)
		}
	}
	t.Logf("%d of %d points computed, worst filled error %.3f tolerances", computed, s.Grid.Len(), worst)
	return computed
}

// A smooth bowl is mostly filled, within the tolerance everywhere.
func TestAdaptiveSmooth(t *testing.T) {
	bowl := func(x, y float64) float64 { return 0.05 + 2*(x-0.3)*(x-0.3) + 3*(y+0.1)*(y+0.1) + 0.5*x*y }
	gr := grid2(t, "-1:1:51", "-1:1:51")
	ev := &surf{fn: bowl}
	dir := t.TempDir()
	s, err := runAdaptive(t, dir, gr, sweep.Shard{}, ev)
	if err != nil {
		t.Fatal(err)
	}
	n := checkWithin(t, s, bowl)
	file, err := npz.ReadFile(filepath.Join(dir, sweep.SurfaceName))
	if err != nil {
		t.Fatal(err)
	}
	if e := file[sweep.EstimatedChannel]; e == nil || e.DType != "bool" {
		t.Errorf("surface.npz holds %q as %v, want a bool entry", sweep.EstimatedChannel, e)
	}
	if n > gr.Len()/5 {
		t.Errorf("computed %d of %d points of a smooth bowl: want at most a fifth", n, gr.Len())
	}
	if int(ev.calls.Load()) != n {
		t.Errorf("%d evaluations for %d computed points", ev.calls.Load(), n)
	}
	for p, k := range ev.asked {
		if k > 1 {
			t.Errorf("point %v evaluated %d times", p, k)
		}
	}
	// 1-D grids refine the same way.
	line := func(x, y float64) float64 { return 1 + x*x + 0.3*x }
	g1 := grid1(t, "-1:1:101")
	s1, err := runAdaptive(t, t.TempDir(), g1, sweep.Shard{}, &surf{fn: line})
	if err != nil {
		t.Fatal(err)
	}
	if n := checkWithin(t, s1, line); n > 101/3 {
		t.Errorf("computed %d of 101 points of a parabola", n)
	}
}

// kinked has a crease along x = 0.13 and a narrow ridge along y = -0.4:
// interpolation across either is far off, so they must be computed.
func kinked(x, y float64) float64 {
	return 1 + 0.5*x*x + 4*math.Abs(x-0.13) + 3*math.Exp(-math.Pow((y+0.4)/0.05, 2))
}

// TestAdaptiveKink checks that refinement does not smooth a kink or a
// ridge, and that the test has the power to see it: the cubic interpolant
// of the coarse lattice, unchecked, misses them by many tolerances.
func TestAdaptiveKink(t *testing.T) {
	gr := grid2(t, "-1:1:51", "-1:1:51")
	s, err := runAdaptive(t, t.TempDir(), gr, sweep.Shard{}, &surf{fn: kinked})
	if err != nil {
		t.Fatal(err)
	}
	n := checkWithin(t, s, kinked)
	if n >= gr.Len() {
		t.Errorf("every point computed: nothing was refined adaptively")
	}
	// The crease's column is computed.
	for iy := range gr.Y.N {
		for _, ix := range []int{28, 29} { // x = 0.12, 0.16
			if s.Values[sweep.EstimatedChannel][iy*gr.X.N+ix] != 0 {
				x, y := gr.Coord(iy*gr.X.N + ix)
				t.Errorf("point (%g, %g) next to the crease was filled", x, y)
			}
		}
	}
	// Control: a refinement that trusts the coarse lattice (a huge
	// tolerance) is far off somewhere near the crease or the ridge.
	trusting := sweep.Refine{Channel: 0, Rel: 100, Abs: 100}
	st, err := sweep.Open(t.TempDir(), adaptiveManifest(gr), sweep.Shard{}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := sweep.RunAdaptive(context.Background(), st, gr, sweep.Shard{}, &surf{fn: kinked}, trusting, nil); err != nil {
		t.Fatal(err)
	}
	ts := readSurface(t, st.Path())
	worst := 0.0
	for i := range gr.Len() {
		x, y := gr.Coord(i)
		want := kinked(x, y)
		worst = max(worst, math.Abs(ts.Values["loss"][i]-want)/(refine.Rel*want+refine.Abs))
	}
	if worst < 3 {
		t.Errorf("an unchecked interpolant is only %.2f tolerances off: the kink test has no power", worst)
	}
}

// A chaotic surface is computed nearly everywhere.
func TestAdaptiveChaotic(t *testing.T) {
	chaos := func(x, y float64) float64 {
		return 2 + math.Sin(53*x+17*y*y)*math.Cos(47*y-11*x) + 0.3*math.Sin(301*x*y)
	}
	gr := grid2(t, "-1:1:41", "-1:1:41")
	s, err := runAdaptive(t, t.TempDir(), gr, sweep.Shard{}, &surf{fn: chaos})
	if err != nil {
		t.Fatal(err)
	}
	if n := checkWithin(t, s, chaos); n < gr.Len()*9/10 {
		t.Errorf("only %d of %d points of a chaotic surface computed", n, gr.Len())
	}
}

// An interrupted adaptive run, resumed, gives the surface of an
// uninterrupted one, bit for bit.
func TestAdaptiveResume(t *testing.T) {
	gr := grid2(t, "-1:1:31", "-1:1:31")
	wholeDir := t.TempDir()
	whole, err := runAdaptive(t, wholeDir, gr, sweep.Shard{}, &surf{fn: kinked})
	if err != nil {
		t.Fatal(err)
	}
	// Run again on a finished folder: nothing to compute, the same bits
	// (decisions must not see the points a later level computed).
	idle := &surf{fn: kinked}
	again, err := runAdaptive(t, wholeDir, gr, sweep.Shard{}, idle)
	if err != nil {
		t.Fatal(err)
	}
	sameSurface(t, whole, again)
	if n := idle.calls.Load(); n != 0 {
		t.Errorf("a finished run made %d evaluations when run again", n)
	}
	for _, stop := range []int64{1, 40, 150, 400} {
		dir := t.TempDir()
		ctx, cancel := context.WithCancel(context.Background())
		s, err := sweep.Open(dir, adaptiveManifest(gr), sweep.Shard{}, false)
		if err != nil {
			t.Fatal(err)
		}
		s.FlushInterval = time.Hour // RunAdaptive writes at the end, interrupted or not
		err = sweep.RunAdaptive(ctx, s, gr, sweep.Shard{}, &surf{fn: kinked, cancel: cancel, stopAfter: stop}, refine, nil)
		s.Close()
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("stopped at call %d: %v", stop, err)
		}
		again := &surf{fn: kinked}
		resumed, err := runAdaptive(t, dir, gr, sweep.Shard{}, again)
		if err != nil {
			t.Fatal(err)
		}
		sameSurface(t, whole, resumed)
		if c := int(again.calls.Load()); int64(c) >= int64(whole.Count()) {
			t.Errorf("resume after %d calls made %d calls: nothing was kept", stop, c)
		}
	}
}

// Shards running at once split the work (no point computed twice) and
// merge into the surface of one process.
func TestAdaptiveShards(t *testing.T) {
	gr := grid2(t, "-1:1:31", "-1:1:31")
	one := &surf{fn: kinked}
	whole, err := runAdaptive(t, t.TempDir(), gr, sweep.Shard{}, one)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	shared := &surf{fn: kinked}
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for k := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sh := sweep.Shard{Index: k, Count: 3}
			s, err := sweep.Open(dir, adaptiveManifest(gr), sh, false)
			if err != nil {
				errs[k] = err
				return
			}
			defer s.Close()
			errs[k] = sweep.RunAdaptive(context.Background(), s, gr, sh, shared, refine, nil)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	merged, err := sweep.Merge(dir)
	if err != nil {
		t.Fatal(err)
	}
	whole.Grid, merged.Grid = gr, gr
	sameSurface(t, whole, merged)
	if shared.calls.Load() != one.calls.Load() {
		t.Errorf("three shards made %d evaluations, one process %d", shared.calls.Load(), one.calls.Load())
	}
	for p, k := range shared.asked {
		if k > 1 {
			t.Errorf("point %v computed %d times", p, k)
		}
	}
	if _, err := sweep.ReadSurface(filepath.Join(dir, "shard-1-of-3.npz")); err != nil {
		t.Fatal(err)
	}
}

// stored is an Evaluator that looks a stored full-data surface up, so that
// every filled point can be checked against its true value.
type stored struct {
	loss  []float64
	index map[[2]float64]int
}

func (s *stored) Evaluate(ctx context.Context, x, y float64) ([]float64, error) {
	i, ok := s.index[[2]float64{x, y}]
	if !ok {
		return nil, fmt.Errorf("no stored point at (%g, %g)", x, y)
	}
	return []float64{s.loss[i], 1}, nil
}

// TestAdaptiveLandscapes refines real loss landscapes over every sample,
// stored in testdata: `lsweep run MODEL DATA --x -1:1:51 --y -1:1:51`
// (seed 0) of the fixtures digits/resnet_skip.onnx and
// digits/resnet_noskip.onnx on digits/data.npz and cifar/resnet20.onnx on
// cifar/hess_data.npz, and the first on a 65 x 65 grid, whose lattices
// halve exactly. Every filled point must be within the tolerance of its
// true value. ResNet-20's surface bends sharply between two rows (y
// indices 20 and 21, x 0 to 6): checking the coarser lattice's cubic to
// 1.25 tolerances instead of half of one lets fills there miss by 1.8.
func TestAdaptiveLandscapes(t *testing.T) {
	for _, name := range []string{"resnet_skip", "resnet_noskip", "resnet20", "resnet_skip_65"} {
		t.Run(name, func(t *testing.T) {
			file, err := npz.ReadFile(filepath.Join("testdata", "landscape_"+name+".npz"))
			if err != nil {
				t.Fatal(err)
			}
			n := file["xcoordinates"].Len()
			gr := grid2(t, fmt.Sprintf("-1:1:%d", n), fmt.Sprintf("-1:1:%d", n))
			loss := file["loss"]
			if loss == nil || loss.Len() != gr.Len() {
				t.Fatalf("testdata: want a loss of %d points, have %v", gr.Len(), loss)
			}
			ev := &stored{loss: loss.Data, index: map[[2]float64]int{}}
			for i := range gr.Len() {
				x, y := gr.Coord(i)
				if x != file["xcoordinates"].Data[i%gr.X.N] || y != file["ycoordinates"].Data[i/gr.X.N] {
					t.Fatalf("testdata: point %d is at (%g, %g), the grid's at (%g, %g)", i,
						file["xcoordinates"].Data[i%gr.X.N], file["ycoordinates"].Data[i/gr.X.N], x, y)
				}
				ev.index[[2]float64{x, y}] = i
			}
			s, err := runAdaptive(t, t.TempDir(), gr, sweep.Shard{}, ev)
			if err != nil {
				t.Fatal(err)
			}
			truth := func(x, y float64) float64 { return loss.Data[ev.index[[2]float64{x, y}]] }
			// Refinement must save: the 51 x 51 surfaces need 1155 to 1498
			// of their 2601 points, the 65 x 65 one 1457 of 4225.
			if n := checkWithin(t, s, truth); n > gr.Len()*2/3 {
				t.Errorf("computed %d of %d points", n, gr.Len())
			}
		})
	}
}

// A loss that overflows (+Inf) or fails (NaN) in a region is never filled
// there, nor ringed into: every point whose true value is not finite is
// computed, and every filled point is within the tolerance of a finite one.
func TestAdaptiveNonFinite(t *testing.T) {
	fn := func(x, y float64) float64 {
		switch {
		case x > 0.7:
			return math.Inf(1)
		case y < -0.75 && x < -0.5:
			return math.NaN()
		}
		return 0.2 + x*x + 2*y*y
	}
	gr := grid2(t, "-1:1:41", "-1:1:41")
	s, err := runAdaptive(t, t.TempDir(), gr, sweep.Shard{}, &surf{fn: fn})
	if err != nil {
		t.Fatal(err)
	}
	computed := 0
	for i := range gr.Len() {
		x, y := gr.Coord(i)
		want, got := fn(x, y), s.Values["loss"][i]
		if s.Values[sweep.EstimatedChannel][i] == 0 {
			computed++
			continue
		}
		if math.IsInf(want, 0) || math.IsNaN(want) {
			t.Errorf("point (%g, %g), %v there, was filled with %v", x, y, want, got)
			continue
		}
		if e := math.Abs(got-want) / (refine.Rel*math.Abs(want) + refine.Abs); !(e <= 1) {
			t.Errorf("filled point (%g, %g): %v, the function %v: %.2f tolerances off", x, y, got, want, e)
		}
	}
	if computed == gr.Len() {
		t.Error("every point computed: the finite region was not refined adaptively")
	}
	t.Logf("%d of %d points computed", computed, gr.Len())
}

// totals records what RunAdaptive tells a ProgressTotal.
type totals struct {
	mu     sync.Mutex
	total  []int // at Start, then each SetTotal
	done   []int
	broken string
}

func (p *totals) Start(total, done int) { p.total = append(p.total, total) }
func (p *totals) Finish()               {}
func (p *totals) SetTotal(total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total = append(p.total, total)
}
func (p *totals) Step(done int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t := p.total[len(p.total)-1]; done > t && p.broken == "" {
		p.broken = fmt.Sprintf("%d points done of a total of %d", done, t)
	}
	p.done = append(p.done, done)
}

// An adaptive run's progress total falls from the grid's points, as cells
// are filled, to the points computed, and no step passes it.
func TestAdaptiveProgress(t *testing.T) {
	gr := grid2(t, "-1:1:31", "-1:1:31")
	s, err := sweep.Open(t.TempDir(), adaptiveManifest(gr), sweep.Shard{}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ev := &surf{fn: kinked}
	p := &totals{}
	if err := sweep.RunAdaptive(context.Background(), s, gr, sweep.Shard{}, ev, refine, p); err != nil {
		t.Fatal(err)
	}
	computed := int(ev.calls.Load())
	if p.total[0] != gr.Len() || p.total[len(p.total)-1] != computed || p.done[len(p.done)-1] != computed {
		t.Errorf("totals %v, last step %d: want from %d to the %d points computed", p.total, p.done[len(p.done)-1], gr.Len(), computed)
	}
	if !slices.IsSortedFunc(p.total, func(a, b int) int { return b - a }) {
		t.Errorf("the total rose: %v", p.total)
	}
	if p.broken != "" {
		t.Error(p.broken)
	}
}
