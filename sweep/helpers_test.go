package sweep_test

import (
	"context"
	"math"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lsweep/lsweep/sweep"
)

// f is the test landscape, with its minimum at (0.3, -0.1).
func f(x, y float64) float64 { return (x-0.3)*(x-0.3) + 2*(y+0.1)*(y+0.1) }

// g is a second channel.
func g(x, y float64) float64 { return 1 / (1 + f(x, y)) }

var channels = []string{"loss", "accuracy"}

// quad is an Evaluator of f and g that counts its calls. If fail is set it
// fails at x == failX. If cancel is set it calls it at the start of call
// number after, and then, if stall is set, returns ctx.Err(), as an
// evaluator that stops on cancellation does. If delay is set every call
// sleeps that long, or until ctx is cancelled.
type quad struct {
	calls  atomic.Int64
	delay  time.Duration
	fail   bool
	failX  float64
	cancel func()
	after  int64
	stall  bool
}

func (q *quad) Evaluate(ctx context.Context, x, y float64) ([]float64, error) {
	n := q.calls.Add(1)
	if q.fail && x == q.failX {
		return nil, errBoom
	}
	if q.cancel != nil && n == q.after {
		q.cancel()
		if q.stall {
			<-ctx.Done()
			return nil, ctx.Err()
		}
	}
	if q.delay > 0 {
		t := time.NewTimer(q.delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return []float64{f(x, y), g(x, y)}, nil
}

type boomError struct{}

func (boomError) Error() string { return "boom" }

var errBoom error = boomError{}

// manifest returns the manifest of a test run on grid gr with a seed.
func manifest(gr sweep.Grid, seed int) sweep.Manifest {
	return sweep.Manifest{
		Identity: map[string]any{"seed": seed, "model": "abc123", "directions": []int{1, 2}},
		Info:     map[string]any{"host": "test", "started": time.Now().Format(time.RFC3339Nano)},
		Grid:     gr,
		Channels: channels,
	}
}

func axis(t testing.TB, s string) sweep.Axis {
	t.Helper()
	a, err := sweep.ParseAxis(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func grid2(t testing.TB, x, y string) sweep.Grid {
	t.Helper()
	return sweep.Grid{X: axis(t, x), Y: axis(t, y)}
}

func grid1(t testing.TB, x string) sweep.Grid {
	t.Helper()
	return sweep.Grid{X: axis(t, x)}
}

// open opens dir for shard sh of the run m.
func open(t testing.TB, dir string, m sweep.Manifest, sh sweep.Shard) *sweep.Store {
	t.Helper()
	s, err := sweep.Open(dir, m, sh, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// run opens dir for shard sh of the run m and runs all its points.
func run(t testing.TB, dir string, m sweep.Manifest, sh sweep.Shard, ev sweep.Evaluator) *sweep.Store {
	t.Helper()
	s := open(t, dir, m, sh)
	if err := sweep.Run(context.Background(), s, m.Grid, sh.Take(sweep.CoarseToFine(m.Grid)), ev, nil); err != nil {
		t.Fatal(err)
	}
	return s
}

// readSurface reads a surface file.
func readSurface(t testing.TB, path string) *sweep.Surface {
	t.Helper()
	s, err := sweep.ReadSurface(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkComplete checks that s is on grid gr and holds f and g, exactly as
// the evaluator computes them, at every point.
func checkComplete(t testing.TB, s *sweep.Surface, gr sweep.Grid) {
	t.Helper()
	if s.Grid != gr {
		t.Fatalf("grid %v, want %v", s.Grid, gr)
	}
	if len(s.Channels) != 2 || s.Channels[0] != "loss" || s.Channels[1] != "accuracy" {
		t.Fatalf("channels %q, want %q", s.Channels, channels)
	}
	for i := range gr.Len() {
		x, y := gr.Coord(i)
		if !s.Mask[i] {
			t.Fatalf("point %d (%g, %g) not computed", i, x, y)
		}
		if s.Values["loss"][i] != f(x, y) || s.Values["accuracy"][i] != g(x, y) {
			t.Fatalf("point %d (%g, %g): loss %v accuracy %v, want %v %v", i, x, y,
				s.Values["loss"][i], s.Values["accuracy"][i], f(x, y), g(x, y))
		}
	}
	if m := s.Missing(); m != nil {
		t.Fatalf("Missing() = %v, want nil", m)
	}
}

// sameSurface checks that a and b are bit for bit equal.
func sameSurface(t testing.TB, a, b *sweep.Surface) {
	t.Helper()
	if a.Grid != b.Grid || len(a.Channels) != len(b.Channels) || len(a.Mask) != len(b.Mask) {
		t.Fatalf("surfaces differ: %v %q, %v %q", a.Grid, a.Channels, b.Grid, b.Channels)
	}
	for i := range a.Mask {
		if a.Mask[i] != b.Mask[i] {
			t.Fatalf("mask differs at %d", i)
		}
	}
	for _, c := range a.Channels {
		for i, v := range a.Values[c] {
			w := b.Values[c][i]
			if math.Float64bits(v) != math.Float64bits(w) {
				t.Fatalf("%s differs at %d: %v, %v", c, i, v, w)
			}
		}
	}
}

var python struct {
	sync.Once
	path string
}

// numpy returns the path of a python3 with numpy, or skips the test.
func numpy(t testing.TB) string {
	t.Helper()
	python.Do(func() {
		for _, p := range []string{"python3", "/usr/bin/python3"} {
			if path, err := exec.LookPath(p); err == nil && exec.Command(path, "-c", "import numpy").Run() == nil {
				python.path = path
				return
			}
		}
	})
	if python.path == "" {
		t.Skip("no python3 with numpy found; skipping the check against numpy")
	}
	return python.path
}
