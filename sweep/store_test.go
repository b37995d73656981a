package sweep_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lsweep/lsweep/internal/progress"
	"github.com/lsweep/lsweep/sweep"
)

// A progress.Reporter reports a Run's progress.
var _ sweep.Progress = (*progress.Reporter)(nil)

// progressLog records the calls of a Run to its Progress.
type progressLog struct {
	total, start int
	steps        []int
	finished     int
}

func (p *progressLog) Start(total, done int) { p.total, p.start = total, done }
func (p *progressLog) Step(done int)         { p.steps = append(p.steps, done) }
func (p *progressLog) Finish()               { p.finished++ }

func TestStoreResume(t *testing.T) {
	for _, gr := range []sweep.Grid{grid2(t, "-1:1:11", "-0.5:0.5:7"), grid1(t, "-1:1:21"), grid2(t, "0:1:1", "0:1:1")} {
		t.Run(fmt.Sprint(gr.Shape()), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			m := manifest(gr, 1)
			order := sweep.CoarseToFine(gr)
			stopAt := min(5, gr.Len())

			// First run: cancelled during the evaluation of point stopAt,
			// whose values it still records.
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			q := &quad{cancel: cancel, after: int64(stopAt)}
			s := open(t, dir, m, sweep.Shard{})
			if s.Path() != filepath.Join(dir, "surface.npz") {
				t.Errorf("Path() = %q", s.Path())
			}
			p := &progressLog{}
			err := sweep.Run(ctx, s, gr, order, q, p)
			if gr.Len() > stopAt && !errors.Is(err, context.Canceled) {
				t.Fatalf("Run: %v, want context.Canceled", err)
			}
			if s.Count() != stopAt || q.calls.Load() != int64(stopAt) {
				t.Fatalf("Count %d after %d calls, want %d", s.Count(), q.calls.Load(), stopAt)
			}
			if p.total != gr.Len() || p.start != 0 || len(p.steps) != stopAt || p.finished != 1 {
				t.Errorf("progress %+v", p)
			}
			for k, i := range order {
				if s.Done(i) != (k < stopAt) {
					t.Fatalf("Done(%d) = %v, point %d of the order", i, s.Done(i), k)
				}
			}
			on := readSurface(t, s.Path())
			if on.Count() != stopAt {
				t.Fatalf("%d points on disk, want %d", on.Count(), stopAt)
			}

			// Resume: only the missing points are computed.
			s = open(t, dir, m, sweep.Shard{Index: 0, Count: 1})
			if s.Count() != stopAt {
				t.Fatalf("reopened Count %d, want %d", s.Count(), stopAt)
			}
			q = &quad{}
			p = &progressLog{}
			if err := sweep.Run(context.Background(), s, gr, order, q, p); err != nil {
				t.Fatal(err)
			}
			if n := q.calls.Load(); n != int64(gr.Len()-stopAt) {
				t.Errorf("resume computed %d points, want %d", n, gr.Len()-stopAt)
			}
			if p.total != gr.Len() || p.start != stopAt || p.finished != 1 ||
				(len(p.steps) > 0 && p.steps[len(p.steps)-1] != gr.Len()) {
				t.Errorf("progress %+v", p)
			}
			checkComplete(t, readSurface(t, s.Path()), gr)

			// A third run computes nothing.
			q = &quad{}
			s = run(t, dir, m, sweep.Shard{}, q)
			if q.calls.Load() != 0 || s.Count() != gr.Len() {
				t.Errorf("complete run computed %d points", q.calls.Load())
			}
			names := dirNames(t, dir)
			if !slices.Equal(names, []string{"manifest.json", "surface.npz"}) {
				t.Errorf("folder holds %q", names)
			}
		})
	}
}

// dirNames returns the names of the files in dir, sorted.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		// Locks of Stores still open are process state, not results.
		if !strings.HasSuffix(e.Name(), ".lock") {
			names = append(names, e.Name())
		}
	}
	return names
}

// TestLock checks that a shard of a folder that another live process holds
// is refused with the holder named, that a lock of a process that is gone is
// taken over, and that Close releases the lock.
func TestLock(t *testing.T) {
	gr := grid1(t, "-1:1:5")
	dir := t.TempDir()
	// A live process that is not this one: the parent (the go command).
	host, _ := os.Hostname()
	lock := filepath.Join(dir, "surface.npz.lock")
	os.WriteFile(lock, []byte(fmt.Sprintf("%d\n%s\n2026-01-02T03:04:05Z\n", os.Getppid(), host)), 0o644)
	_, err := sweep.Open(dir, manifest(gr, 1), sweep.Shard{}, false)
	var le *sweep.LockError
	if !errors.Is(err, sweep.ErrLocked) || !errors.As(err, &le) || le.PID != os.Getppid() || !strings.Contains(err.Error(), "surface.npz.lock") {
		t.Fatalf("Open of a held folder: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err == nil {
		t.Error("a refused Open wrote the manifest")
	}
	// A process that is gone: the lock is stale.
	os.WriteFile(lock, []byte(fmt.Sprintf("%d\n%s\n2026-01-02T03:04:05Z\n", 1<<22+12345, host)), 0o644)
	s, err := sweep.Open(dir, manifest(gr, 1), sweep.Shard{}, false)
	if err != nil {
		t.Fatalf("stale lock: %v", err)
	}
	b, _ := os.ReadFile(lock)
	if !strings.HasPrefix(string(b), fmt.Sprint(os.Getpid())) {
		t.Errorf("lock holds %q, not this process", b)
	}
	s.Close()
	if _, err := os.Stat(lock); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Close left the lock: %v", err)
	}
}

// TestCancel checks that a cancelled run writes what it computed, however
// long the FlushInterval, whether the evaluator stops on cancellation or
// finishes its point first.
func TestCancel(t *testing.T) {
	gr := grid2(t, "-1:1:9", "-1:1:9")
	for _, stall := range []bool{false, true} {
		t.Run(fmt.Sprint("stall=", stall), func(t *testing.T) {
			dir := t.TempDir()
			s := open(t, dir, manifest(gr, 1), sweep.Shard{})
			s.FlushInterval = time.Hour
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			q := &quad{cancel: cancel, after: 20, stall: stall}
			err := sweep.Run(ctx, s, gr, sweep.CoarseToFine(gr), q, nil)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Run: %v, want context.Canceled", err)
			}
			want := 20 // the evaluator computes point 20 and Run stops before 21
			if stall {
				want = 19 // the evaluator stops during point 20
			}
			if s.Count() != want {
				t.Fatalf("%d points computed, want %d", s.Count(), want)
			}
			on := readSurface(t, s.Path())
			if on.Count() != want {
				t.Fatalf("%d points on disk, %d computed", on.Count(), want)
			}
			for i, ok := range on.Mask {
				if x, y := gr.Coord(i); ok && on.Values["loss"][i] != f(x, y) {
					t.Fatalf("point %d: %v, want %v", i, on.Values["loss"][i], f(x, y))
				}
			}
		})
	}
}

func TestRunErrors(t *testing.T) {
	gr := grid2(t, "-1:1:5", "-1:1:3")
	order := sweep.CoarseToFine(gr)
	t.Run("evaluator", func(t *testing.T) {
		dir := t.TempDir()
		s := open(t, dir, manifest(gr, 1), sweep.Shard{})
		s.FlushInterval = time.Hour
		x, _ := gr.Coord(order[6])
		q := &quad{fail: true, failX: x}
		err := sweep.Run(context.Background(), s, gr, order, q, nil)
		if !errors.Is(err, errBoom) {
			t.Fatalf("Run: %v, want errBoom", err)
		}
		if !strings.HasPrefix(err.Error(), "sweep: point ") || !strings.Contains(err.Error(), fmt.Sprintf("(x=%g, y=", x)) {
			t.Errorf("error %q does not name the point", err)
		}
		// What was computed before is on disk.
		if n := readSurface(t, s.Path()).Count(); n == 0 || n != s.Count() {
			t.Errorf("%d points on disk, %d computed", n, s.Count())
		}
	})
	t.Run("values", func(t *testing.T) {
		s := open(t, t.TempDir(), manifest(gr, 1), sweep.Shard{})
		err := sweep.Run(context.Background(), s, gr, order, evalFunc(func(x, y float64) []float64 { return []float64{1} }), nil)
		if err == nil || !strings.Contains(err.Error(), "returned 1 values for 2 channels") {
			t.Errorf("Run: %v", err)
		}
	})
	t.Run("grid", func(t *testing.T) {
		s := open(t, t.TempDir(), manifest(gr, 1), sweep.Shard{})
		if err := sweep.Run(context.Background(), s, grid1(t, "-1:1:5"), order, &quad{}, nil); err == nil {
			t.Error("Run on another grid: no error")
		}
		if err := sweep.Run(context.Background(), s, gr, []int{0, 15}, &quad{}, nil); err == nil {
			t.Error("Run on point 15 of 15: no error")
		}
	})
	t.Run("record", func(t *testing.T) {
		s := open(t, t.TempDir(), manifest(gr, 1), sweep.Shard{})
		if err := s.Record(-1, []float64{1, 2}); err == nil {
			t.Error("Record(-1): no error")
		}
		if err := s.Record(0, []float64{1, 2, 3}); err == nil {
			t.Error("Record with 3 values: no error")
		}
	})
}

type evalFunc func(x, y float64) []float64

func (e evalFunc) Evaluate(_ context.Context, x, y float64) ([]float64, error) { return e(x, y), nil }

func TestOpenMismatch(t *testing.T) {
	gr := grid2(t, "-1:1:5", "-1:1:3")
	dir := filepath.Join(t.TempDir(), "OUT")
	run(t, dir, manifest(gr, 1), sweep.Shard{}, &quad{})

	same := manifest(gr, 1)
	// After a JSON round trip, int and float64 compare equal, as do []int
	// and []any.
	same.Identity = map[string]any{"seed": 1.0, "model": "abc123", "directions": []any{1.0, 2}}
	same.Info = map[string]any{"host": "elsewhere"}
	if s := open(t, dir, same, sweep.Shard{}); s.Count() != gr.Len() {
		t.Errorf("equal manifest: Count %d, want %d", s.Count(), gr.Len())
	}

	other := func(edit func(*sweep.Manifest)) sweep.Manifest {
		m := manifest(gr, 1)
		edit(&m)
		return m
	}
	cases := []struct {
		name string
		m    sweep.Manifest
		want string
	}{
		{"seed", manifest(gr, 2), "sweep: " + dir + " holds a run with seed 1, this one has seed 2 (use --force to start over)"},
		{"key", other(func(m *sweep.Manifest) { m.Identity["batch"] = 32 }), "holds a run with no batch, this one has batch 32 ("},
		{"nested", other(func(m *sweep.Manifest) { m.Identity["directions"] = []int{1, 3} }), "holds a run with directions [1,2], this one has directions [1,3] ("},
		{"grid", manifest(grid2(t, "-2:2:5", "-1:1:3"), 1), "holds a run with grid x -1:1:5, this one has grid x -2:2:5 ("},
		{"1-D", manifest(grid1(t, "-1:1:5"), 1), "holds a run with grid y -1:1:3, this one has no grid y ("},
		{"channels", other(func(m *sweep.Manifest) { m.Channels = []string{"loss"} }), `holds a run with channels ["loss","accuracy"], this one has channels ["loss"] (`},
		{"many", other(func(m *sweep.Manifest) {
			m.Grid.X.N = 7
			m.Identity = map[string]any{"seed": 2, "model": "def", "directions": []int{1, 2}, "new": "x"}
		}), "holds a run with grid x -1:1:5, model abc123 and no new, this one has grid x -1:1:7, model def and new x; 1 more settings differ ("},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := sweep.Open(dir, c.m, sweep.Shard{}, false)
			var me *sweep.MismatchError
			if !errors.As(err, &me) {
				t.Fatalf("Open: %v, want a *MismatchError", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error\n%s\nwant it to contain\n%s", err, c.want)
			}
		})
	}
	// Nothing was touched.
	checkComplete(t, readSurface(t, filepath.Join(dir, "surface.npz")), gr)
}

func TestOpenForce(t *testing.T) {
	gr := grid2(t, "-1:1:5", "-1:1:3")
	dir := t.TempDir()
	run(t, dir, manifest(gr, 1), sweep.Shard{}, &quad{})
	run(t, dir, manifest(gr, 1), sweep.Shard{Index: 1, Count: 2}, &quad{})
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}

	// Force with an equal manifest recomputes this shard only.
	s, err := sweep.Open(dir, manifest(gr, 1), sweep.Shard{}, true)
	if err != nil {
		t.Fatal(err)
	}
	if s.Count() != 0 {
		t.Errorf("forced Count %d, want 0", s.Count())
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"manifest.json", "notes.txt", "shard-1-of-2.npz"}) {
		t.Errorf("folder holds %q", names)
	}

	// Force with another manifest starts over.
	m2 := manifest(grid1(t, "0:1:4"), 2)
	s, err = sweep.Open(dir, m2, sweep.Shard{}, true)
	if err != nil {
		t.Fatal(err)
	}
	if s.Count() != 0 {
		t.Errorf("forced Count %d, want 0", s.Count())
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"manifest.json", "notes.txt"}) {
		t.Errorf("folder holds %q", names)
	}
	got, err := sweep.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Identity["seed"] != 2.0 || got.Grid != m2.Grid {
		t.Errorf("manifest %+v, want seed 2 on %v", got, m2.Grid)
	}
	q := &quad{}
	s = run(t, dir, m2, sweep.Shard{}, q)
	if q.calls.Load() != 4 {
		t.Errorf("%d points computed, want 4", q.calls.Load())
	}
	checkComplete(t, readSurface(t, s.Path()), m2.Grid)

	// A damaged manifest is refused, and replaced with force.
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := sweep.Open(dir, m2, sweep.Shard{}, false); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("damaged manifest: %v", err)
	}
	if _, err := sweep.Open(dir, m2, sweep.Shard{}, true); err != nil {
		t.Error(err)
	}
}

func TestOpenRefuses(t *testing.T) {
	gr := grid2(t, "-1:1:5", "-1:1:3")
	t.Run("results without manifest", func(t *testing.T) {
		dir := t.TempDir()
		s := run(t, dir, manifest(gr, 1), sweep.Shard{}, &quad{})
		os.Remove(filepath.Join(dir, "manifest.json"))
		_, err := sweep.Open(dir, manifest(gr, 1), sweep.Shard{}, false)
		if err == nil || !strings.Contains(err.Error(), "surface.npz but no manifest.json") {
			t.Errorf("Open: %v", err)
		}
		if _, err := os.Stat(s.Path()); err != nil {
			t.Error(err)
		}
		if s, err := sweep.Open(dir, manifest(gr, 1), sweep.Shard{}, true); err != nil || s.Count() != 0 {
			t.Errorf("forced Open: %v", err)
		}
	})
	t.Run("shards of another count", func(t *testing.T) {
		dir := t.TempDir()
		run(t, dir, manifest(gr, 1), sweep.Shard{Index: 2, Count: 3}, &quad{})
		_, err := sweep.Open(dir, manifest(gr, 1), sweep.Shard{Index: 0, Count: 2}, false)
		if err == nil || !strings.Contains(err.Error(), "shard-2-of-3.npz, a shard of a run in 3 shards, and this is shard 0/2") {
			t.Errorf("Open: %v", err)
		}
		if s, err := sweep.Open(dir, manifest(gr, 1), sweep.Shard{Index: 1, Count: 3}, false); err != nil {
			t.Errorf("Open of another shard of 3: %v", err)
		} else {
			s.Close()
		}
		if s, err := sweep.Open(dir, manifest(gr, 1), sweep.Shard{Index: 0, Count: 2}, true); err != nil {
			t.Errorf("forced Open: %v", err)
		} else {
			s.Close()
		}
		if names := dirNames(t, dir); !slices.Equal(names, []string{"manifest.json"}) {
			t.Errorf("folder holds %q", names)
		}
	})
	bad := []struct {
		name  string
		m     sweep.Manifest
		shard sweep.Shard
	}{
		{"no channels", sweep.Manifest{Grid: gr}, sweep.Shard{}},
		{"reserved channel", sweep.Manifest{Grid: gr, Channels: []string{"mask"}}, sweep.Shard{}},
		{"twice", sweep.Manifest{Grid: gr, Channels: []string{"loss", "loss"}}, sweep.Shard{}},
		{"empty grid", sweep.Manifest{Channels: channels}, sweep.Shard{}},
		{"bad axis", sweep.Manifest{Grid: sweep.Grid{X: sweep.Axis{Min: 1, Max: 0, N: 3}}, Channels: channels}, sweep.Shard{}},
		{"huge", sweep.Manifest{Grid: sweep.Grid{X: sweep.Axis{Min: 0, Max: 1, N: 100000}, Y: sweep.Axis{Min: 0, Max: 1, N: 100000}}, Channels: channels}, sweep.Shard{}},
		{"not JSON", sweep.Manifest{Grid: gr, Channels: channels, Identity: map[string]any{"f": func() {}}}, sweep.Shard{}},
		{"shard", manifest(gr, 1), sweep.Shard{Index: 2, Count: 2}},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := sweep.Open(dir, c.m, c.shard, false); err == nil || !strings.HasPrefix(err.Error(), "sweep: ") {
				t.Errorf("Open: %v", err)
			}
			if names := dirNames(t, dir); len(names) != 0 {
				t.Errorf("folder holds %q", names)
			}
		})
	}
}

func TestManifestFile(t *testing.T) {
	gr := grid2(t, "-1:1:5", "-0.5:0.5:3")
	dir := t.TempDir()
	m := manifest(gr, 7)
	open(t, dir, m, sweep.Shard{})
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	grid, _ := raw["grid"].(map[string]any)
	if raw["version"] != 1.0 || grid["x"] != "-1:1:5" || grid["y"] != "-0.5:0.5:3" {
		t.Errorf("manifest.json:\n%s", b)
	}
	got, err := sweep.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Grid != gr || !slices.Equal(got.Channels, channels) || got.Identity["seed"] != 7.0 || got.Info["host"] != "test" {
		t.Errorf("ReadManifest: %+v", got)
	}
	if _, err := sweep.ReadManifest(t.TempDir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadManifest of an empty folder: %v", err)
	}
}

// TestNumpy checks that numpy reads surface.npz with the loss at
// loss[iy, ix] for the point (x[ix], y[iy]).
func TestNumpy(t *testing.T) {
	py := numpy(t)
	for _, gr := range []sweep.Grid{grid2(t, "0:1:5", "-1:1:3"), grid1(t, "-1:1:6")} {
		t.Run(fmt.Sprint(gr.Shape()), func(t *testing.T) {
			dir := t.TempDir()
			s := run(t, dir, manifest(gr, 1), sweep.Shard{}, &quad{})
			const script = `
import json, sys
import numpy as np
d = np.load(sys.argv[1])
x = d["xcoordinates"]
if "ycoordinates" in d:
    X, Y = np.meshgrid(x, d["ycoordinates"])
else:
    X, Y = x, np.zeros_like(x)
want = (X - 0.3)**2 + 2*(Y + 0.1)**2
loss = d["loss"]
print(json.dumps({"keys": sorted(d.keys()), "shape": list(loss.shape), "dtype": str(loss.dtype),
    "mask": str(d["mask"].dtype), "all": bool(d["mask"].all()), "err": float(np.abs(loss - want).max())}))
`
			out, err := exec.Command(py, "-c", script, s.Path()).CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			var got struct {
				Keys        []string
				Shape       []int
				DType, Mask string
				All         bool
				Err         float64
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			wantKeys := []string{"accuracy", "loss", "mask", "xcoordinates"}
			if gr.Is2D() {
				wantKeys = append(wantKeys, "ycoordinates")
			}
			if !slices.Equal(got.Keys, wantKeys) || !slices.Equal(got.Shape, gr.Shape()) || got.DType != "float64" ||
				got.Mask != "bool" || !got.All || got.Err > 1e-15 {
				t.Errorf("numpy sees %+v, want keys %q, shape %v", got, wantKeys, gr.Shape())
			}
		})
	}
}
