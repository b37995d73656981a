package sweep_test

import (
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lsweep/lsweep/npz"
	"github.com/lsweep/lsweep/sweep"
)

func TestMerge(t *testing.T) {
	for _, gr := range []sweep.Grid{grid2(t, "-1:1:13", "-0.5:0.5:8"), grid1(t, "-1:1:10")} {
		m := manifest(gr, 1)
		want := readSurface(t, run(t, t.TempDir(), m, sweep.Shard{}, &quad{}).Path())

		dir := t.TempDir()
		var total int64
		for i := range 3 {
			q := &quad{}
			s := run(t, dir, m, sweep.Shard{Index: i, Count: 3}, q)
			if s.Path() != filepath.Join(dir, "shard-"+string(rune('0'+i))+"-of-3.npz") {
				t.Errorf("Path() = %q", s.Path())
			}
			total += q.calls.Load()
		}
		if total != int64(gr.Len()) {
			t.Errorf("3 shards computed %d points, want %d", total, gr.Len())
		}
		got, err := sweep.Merge(dir)
		if err != nil {
			t.Fatal(err)
		}
		sameSurface(t, got, want)
		sameSurface(t, readSurface(t, filepath.Join(dir, "surface.npz")), want)
		checkComplete(t, got, gr)

		// Merging again, surface.npz included, changes nothing.
		got, err = sweep.Merge(dir)
		if err != nil {
			t.Fatal(err)
		}
		sameSurface(t, got, want)
	}
}

func TestMergePartial(t *testing.T) {
	gr := grid2(t, "-1:1:9", "-1:1:9")
	m := manifest(gr, 1)
	dir := t.TempDir()
	run(t, dir, m, sweep.Shard{Index: 0, Count: 3}, &quad{})
	run(t, dir, m, sweep.Shard{Index: 2, Count: 3}, &quad{})
	got, err := sweep.Merge(dir)
	if err != nil {
		t.Fatal(err)
	}
	missing := sweep.Shard{Index: 1, Count: 3}.Take(sweep.CoarseToFine(gr))
	slices.Sort(missing)
	if !slices.Equal(got.Missing(), missing) {
		t.Errorf("Missing() = %v, want shard 1's points %v", got.Missing(), missing)
	}
	if got.Count() != gr.Len()-len(missing) {
		t.Errorf("Count() = %d", got.Count())
	}
	for _, i := range missing {
		if !math.IsNaN(got.Values["loss"][i]) || got.Mask[i] {
			t.Fatalf("missing point %d: %v, mask %v", i, got.Values["loss"][i], got.Mask[i])
		}
	}

	// The last shard completes the surface.
	run(t, dir, m, sweep.Shard{Index: 1, Count: 3}, &quad{})
	got, err = sweep.Merge(dir)
	if err != nil {
		t.Fatal(err)
	}
	checkComplete(t, got, gr)
}

// copyFile copies the file src to dst.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestMergeRefuses(t *testing.T) {
	gr := grid2(t, "-1:1:5", "-1:1:3")
	m := manifest(gr, 1)
	shards := func(t *testing.T, m sweep.Manifest, count int) string {
		dir := t.TempDir()
		for i := range count {
			run(t, dir, m, sweep.Shard{Index: i, Count: count}, &quad{})
		}
		return dir
	}
	t.Run("no manifest", func(t *testing.T) {
		dir := t.TempDir()
		_, err := sweep.Merge(dir)
		if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "holds no manifest.json") {
			t.Errorf("Merge: %v", err)
		}
	})
	t.Run("no results", func(t *testing.T) {
		dir := t.TempDir()
		open(t, dir, m, sweep.Shard{Index: 0, Count: 2})
		if _, err := sweep.Merge(dir); err == nil || !strings.Contains(err.Error(), "to merge") {
			t.Errorf("Merge: %v", err)
		}
	})
	t.Run("counts", func(t *testing.T) {
		dir := shards(t, m, 3)
		copyFile(t, filepath.Join(dir, "shard-0-of-3.npz"), filepath.Join(dir, "shard-1-of-2.npz"))
		if _, err := sweep.Merge(dir); err == nil || !strings.Contains(err.Error(), "shards of two runs") {
			t.Errorf("Merge: %v", err)
		}
	})
	t.Run("index", func(t *testing.T) {
		dir := shards(t, m, 2)
		copyFile(t, filepath.Join(dir, "shard-0-of-2.npz"), filepath.Join(dir, "shard-2-of-2.npz"))
		if _, err := sweep.Merge(dir); err == nil || !strings.Contains(err.Error(), "does not exist") {
			t.Errorf("Merge: %v", err)
		}
	})
	t.Run("other grid", func(t *testing.T) {
		dir := shards(t, m, 2)
		other := shards(t, manifest(grid2(t, "-1:1:7", "-1:1:3"), 1), 2)
		copyFile(t, filepath.Join(other, "shard-1-of-2.npz"), filepath.Join(dir, "shard-1-of-2.npz"))
		_, err := sweep.Merge(dir)
		if err == nil || !strings.Contains(err.Error(), "shard-1-of-2.npz holds the grid x -1:1:7, y -1:1:3, the run's is x -1:1:5, y -1:1:3") {
			t.Errorf("Merge: %v", err)
		}
	})
	t.Run("other channels", func(t *testing.T) {
		dir := shards(t, m, 2)
		m2 := manifest(gr, 1)
		m2.Channels = []string{"loss", "acc"}
		other := t.TempDir()
		run(t, other, m2, sweep.Shard{Index: 0, Count: 2}, &quad{})
		copyFile(t, filepath.Join(other, "shard-0-of-2.npz"), filepath.Join(dir, "shard-0-of-2.npz"))
		if _, err := sweep.Merge(dir); err == nil || !strings.Contains(err.Error(), "channels") {
			t.Errorf("Merge: %v", err)
		}
	})
	t.Run("other run", func(t *testing.T) {
		// Shards of another run are refused when they start.
		dir := shards(t, m, 2)
		if _, err := sweep.Open(dir, manifest(gr, 2), sweep.Shard{Index: 0, Count: 2}, false); err == nil {
			t.Error("Open of a shard of another run: no error")
		}
	})
}

func TestReadSurfaceErrors(t *testing.T) {
	dir := t.TempDir()
	arr := func(shape []int, data ...float64) *npz.Array { return &npz.Array{Shape: shape, Data: data} }
	e := func(name string, a *npz.Array) npz.Entry { return npz.Entry{Name: name, Array: a} }
	mask := &npz.Array{Shape: []int{3}, DType: "bool", Data: []float64{1, 0, 1}}
	cases := []struct {
		name    string
		entries []npz.Entry
		want    string
	}{
		{"no mask", []npz.Entry{e("xcoordinates", arr([]int{3}, 0, 1, 2)), e("loss", arr([]int{3}, 1, 2, 3))}, `not a surface file: no entry "mask"`},
		{"no x", []npz.Entry{e("loss", arr([]int{3}, 1, 2, 3)), e("mask", mask)}, `not a surface file: no entry "xcoordinates"`},
		{"uneven", []npz.Entry{e("xcoordinates", arr([]int{3}, 0, 1, 3)), e("loss", arr([]int{3}, 1, 2, 3)), e("mask", mask)}, `entry "xcoordinates" does not hold evenly spaced coordinates`},
		{"shape", []npz.Entry{e("xcoordinates", arr([]int{3}, 0, 1, 2)), e("loss", arr([]int{1, 3}, 1, 2, 3)), e("mask", mask)}, `entry "loss" has shape [1 3], the coordinates make [3]`},
		{"2-D shape", []npz.Entry{e("xcoordinates", arr([]int{3}, 0, 1, 2)), e("ycoordinates", arr([]int{2}, 0, 1)), e("loss", arr([]int{3, 2}, 1, 2, 3, 4, 5, 6)), e("mask", mask)}, `entry "loss" has shape [3 2], the coordinates make [2 3]`},
		{"mask dtype", []npz.Entry{e("xcoordinates", arr([]int{3}, 0, 1, 2)), e("loss", arr([]int{3}, 1, 2, 3)), e("mask", arr([]int{3}, 1, 0, 1))}, `"mask" has dtype float64, want bool`},
		{"no channels", []npz.Entry{e("xcoordinates", arr([]int{3}, 0, 1, 2)), e("mask", mask)}, `no channels`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, c.name+".npz")
			if err := npz.WriteFile(path, c.entries); err != nil {
				t.Fatal(err)
			}
			_, err := sweep.ReadSurface(path)
			if err == nil || !strings.HasPrefix(err.Error(), "sweep: ") || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("ReadSurface: %v\nwant %q", err, c.want)
			}
		})
	}
	if _, err := sweep.ReadSurface(filepath.Join(dir, "none.npz")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadSurface of no file: %v", err)
	}
}

func TestSurfaceMin(t *testing.T) {
	gr := grid2(t, "-1:1:21", "-1:1:21")
	dir := t.TempDir()
	s := run(t, dir, manifest(gr, 1), sweep.Shard{}, &quad{})
	sf := readSurface(t, s.Path())
	i, v := sf.Min("loss")
	if x, y := gr.Coord(i); math.Abs(x-0.3) > 1e-15 || math.Abs(y+0.1) > 1e-15 || v != f(x, y) {
		t.Errorf("Min = %d (%v, %v) %v, want the point (0.3, -0.1)", i, x, y, v)
	}
	// Points not computed, and NaN values, do not count.
	sf.Mask[i] = false
	sf.Values["loss"][0] = math.NaN()
	if j, w := sf.Min("loss"); j == i || j < 0 || w < v {
		t.Errorf("Min without point %d = %d, %v", i, j, w)
	}
	if j, w := sf.Min("nothing"); j != -1 || !math.IsNaN(w) {
		t.Errorf("Min of no channel = %d, %v", j, w)
	}
}

func TestCoarsePreview(t *testing.T) {
	// A sweep stopped after a ninth of its points has the minimum's
	// neighbourhood within a few grid steps.
	gr := grid2(t, "-1:1:41", "-1:1:41")
	dir := t.TempDir()
	s := open(t, dir, manifest(gr, 1), sweep.Shard{})
	order := sweep.CoarseToFine(gr)
	for _, i := range order[:gr.Len()/9] {
		x, y := gr.Coord(i)
		if err := s.Record(i, []float64{f(x, y), g(x, y)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	i, _ := readSurface(t, s.Path()).Min("loss")
	x, y := gr.Coord(i)
	if math.Hypot(x-0.3, y+0.1) > 0.15 {
		t.Errorf("coarse minimum at (%v, %v), want near (0.3, -0.1)", x, y)
	}
}
