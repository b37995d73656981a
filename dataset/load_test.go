package dataset_test

import (
	"archive/zip"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lsweep/lsweep/dataset"
)

// TestLoadNumpyFixtures reads files written by numpy itself (testdata/make.py).
func TestLoadNumpyFixtures(t *testing.T) {
	inf, nan := math.Inf(1), math.NaN()
	tests := []struct {
		path   string
		opts   dataset.Options
		xShape []int
		xDType string
		x      []float64
		yShape []int
		yDType string
		y      []float64
		yInt   bool
		nan    int
	}{
		{"stored.npz", dataset.Options{}, []int{5, 1, 2, 3}, "float32", seq(30, 0.5), []int{5}, "int64", []float64{0, 1, 2, 1, 0}, true, 0},
		{"compressed.npz", dataset.Options{}, []int{4, 3}, "uint8", seq(12, 1), []int{4}, "float64", seq(4, 0.25), false, 0},
		{"float16.npz", dataset.Options{}, []int{4, 2}, "float16",
			[]float64{1, -2.5, math.Ldexp(1, -14), math.Ldexp(1, -24), 65504, inf, nan, math.Copysign(0, -1)},
			[]int{4}, "int32", []float64{3, 2, 1, 0}, true, 2},
		{"fortran", dataset.Options{}, []int{3, 2, 4}, "float64", seq(24, 1), []int{3}, "uint16", []float64{1, 0, 1}, true, 0},
		// Samples 0 and 1 (i*3/2 for i = 0, 1) of arange(24).reshape(3, 2, 4).
		{"fortran", dataset.Options{Samples: 2}, []int{2, 2, 4}, "float64", seq(16, 1), []int{2}, "uint16", []float64{1, 0}, true, 0},
		{"bigendian.npz", dataset.Options{XKey: "inputs", YKey: "labels"}, []int{2, 2}, "float64", []float64{1.5, -2, 3.25, 1e300}, []int{2}, "bool", []float64{1, 0}, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			path := filepath.Join("testdata", tt.path)
			d, err := dataset.Load(path, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if d.Path != path {
				t.Errorf("Path = %q, want %q", d.Path, path)
			}
			if !slices.Equal(d.XShape, tt.xShape) || d.XDType != tt.xDType || !sameFloats(d.X, tt.x) {
				t.Errorf("x = %v %s %v, want %v %s %v", d.XShape, d.XDType, d.X, tt.xShape, tt.xDType, tt.x)
			}
			if !slices.Equal(d.YShape, tt.yShape) || d.YDType != tt.yDType || !sameFloats(d.Y, tt.y) || d.YIsInteger != tt.yInt {
				t.Errorf("y = %v %s %v int=%v, want %v %s %v int=%v", d.YShape, d.YDType, d.Y, d.YIsInteger, tt.yShape, tt.yDType, tt.y, tt.yInt)
			}
			if got := d.CountNaN(); got != tt.nan {
				t.Errorf("CountNaN() = %d, want %d", got, tt.nan)
			}
			if d.N() != tt.xShape[0] || !slices.Equal(d.SampleShape(), tt.xShape[1:]) {
				t.Errorf("N() = %d, SampleShape() = %v, want %d, %v", d.N(), d.SampleShape(), tt.xShape[0], tt.xShape[1:])
			}
		})
	}
}

// TestLoadDTypes checks that x and y of every dtype npz reads come out as
// float64, with their dtype named and integer labels told apart; the byte
// orders, Fortran order and deflated entries are npz's tests.
func TestLoadDTypes(t *testing.T) {
	const n = 3
	shape := []int{n, 2, 2}
	types := []struct {
		name    string
		vals    []float64 // C order, n*4 values
		integer bool
	}{
		{"float16", []float64{0, -1, 2.5, 65504, -0.125, 1024, 3, 4, 5, 6, 7, 8}, false},
		{"float32", []float64{0, -1.5, 2.25, math.MaxFloat32, -math.SmallestNonzeroFloat32, 0x1p-10, 6, 7, 8, 9, 10, 11}, false},
		{"float64", []float64{0, -1.5, 2.25, math.MaxFloat64, -math.SmallestNonzeroFloat64, math.Pi, 6, 7, 8, 9, 10, 11}, false},
		{"int8", []float64{0, -128, 127, 3, -4, 5, 6, 7, 8, 9, 10, 11}, true},
		{"uint8", []float64{0, 255, 127, 3, 4, 5, 6, 7, 8, 9, 10, 11}, true},
		{"int16", []float64{0, -32768, 32767, 3, -4, 5, 6, 7, 8, 9, 10, 11}, true},
		{"uint16", []float64{0, 65535, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, true},
		{"int32", []float64{0, -1 << 31, 1<<31 - 1, 3, -4, 5, 6, 7, 8, 9, 10, 11}, true},
		{"uint32", []float64{0, 1<<32 - 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, true},
		{"int64", []float64{0, -1 << 62, 1 << 53, 3, -4, 5, 6, 7, 8, 9, 10, 11}, true},
		{"uint64", []float64{0, 1 << 63, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, true},
		{"bool", []float64{0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0, 0}, true},
	}
	for _, ty := range types {
		t.Run(ty.name, func(t *testing.T) {
			path := writeXY(t, t.TempDir(), "d.npz", arr(ty.name, shape, ty.vals), arr(ty.name, []int{n}, ty.vals[:n]))
			d, err := dataset.Load(path, dataset.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !sameFloats(d.X, ty.vals) || !slices.Equal(d.XShape, shape) || d.XDType != ty.name {
				t.Errorf("x = %v %v %s, want %v %v %s", d.XShape, d.X, d.XDType, shape, ty.vals, ty.name)
			}
			if !sameFloats(d.Y, ty.vals[:n]) || d.YIsInteger != ty.integer {
				t.Errorf("y = %v int=%v, want %v int=%v", d.Y, d.YIsInteger, ty.vals[:n], ty.integer)
			}
		})
	}
}

// TestLoadLayouts checks entry names, folders and the Samples subset.
func TestLoadLayouts(t *testing.T) {
	const n = 10
	x := arr("float32", []int{n, 2}, seq(2*n, 1))
	y := arr("int64", []int{n}, seq(n, 1))
	// x in Fortran order: stored as its transpose is in C order.
	xt := make([]float64, 2*n)
	for i := range n {
		xt[i], xt[n+i] = float64(2*i), float64(2*i+1)
	}
	xf := npyAs(t, arr("float32", []int{2, n}, xt), "{'descr': '<f4', 'fortran_order': True, 'shape': (10, 2), }")
	rows := func(idx ...int) []float64 {
		var v []float64
		for _, i := range idx {
			v = append(v, float64(2*i), float64(2*i+1))
		}
		return v
	}
	tests := []struct {
		name  string
		write func(t *testing.T, dir string) string
		opts  dataset.Options
		index []int
	}{
		{"npz with suffix", func(t *testing.T, dir string) string {
			return writeXY(t, dir, "d.npz", x, y)
		}, dataset.Options{}, nil},
		{"npz without suffix", func(t *testing.T, dir string) string {
			return writeZip(t, dir, "d.npz", zip.Deflate, file{"x", npy(t, x)}, file{"y", npy(t, y)})
		}, dataset.Options{}, nil},
		{"npz other keys", func(t *testing.T, dir string) string {
			return writeXY(t, dir, "d.zip", y, x)
		}, dataset.Options{XKey: "y", YKey: "x"}, nil},
		{"folder", func(t *testing.T, dir string) string {
			writeFile(t, dir, "data/x.npy", npy(t, x))
			writeFile(t, dir, "data/y.npy", npy(t, y))
			return filepath.Join(dir, "data")
		}, dataset.Options{}, nil},
		{"folder keys with suffix", func(t *testing.T, dir string) string {
			writeFile(t, dir, "data/in.npy", npy(t, x))
			writeFile(t, dir, "data/out.npy", npy(t, y))
			return filepath.Join(dir, "data")
		}, dataset.Options{XKey: "in.npy", YKey: "out"}, nil},
		{"subset 4 of 10", func(t *testing.T, dir string) string {
			return writeXY(t, dir, "d.npz", x, y)
		}, dataset.Options{Samples: 4}, []int{0, 2, 5, 7}},
		{"subset 3 of 10 fortran", func(t *testing.T, dir string) string {
			return writeZip(t, dir, "d.npz", zip.Store, file{"x.npy", xf}, file{"y.npy", npy(t, y)})
		}, dataset.Options{Samples: 3}, []int{0, 3, 6}},
		{"subset 1", func(t *testing.T, dir string) string {
			return writeXY(t, dir, "d.npz", x, y)
		}, dataset.Options{Samples: 1}, []int{0}},
		{"subset n keeps all", func(t *testing.T, dir string) string {
			return writeXY(t, dir, "d.npz", x, y)
		}, dataset.Options{Samples: n}, nil},
		{"subset over n keeps all", func(t *testing.T, dir string) string {
			return writeXY(t, dir, "d.npz", x, y)
		}, dataset.Options{Samples: 100}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := dataset.Load(tt.write(t, t.TempDir()), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			idx := tt.index
			if idx == nil {
				idx = []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
			}
			var wantY []float64
			for _, i := range idx {
				wantY = append(wantY, float64(i))
			}
			if !slices.Equal(d.Index, tt.index) {
				t.Errorf("Index = %v, want %v", d.Index, tt.index)
			}
			if !sameFloats(d.X, rows(idx...)) || !slices.Equal(d.XShape, []int{len(idx), 2}) {
				t.Errorf("x = %v %v, want %v", d.XShape, d.X, rows(idx...))
			}
			if !sameFloats(d.Y, wantY) || !slices.Equal(d.YShape, []int{len(idx)}) {
				t.Errorf("y = %v %v, want %v", d.YShape, d.Y, wantY)
			}
		})
	}
}

// TestSamplesEveryClass checks that a subset of a class-sorted file keeps
// every class once the classes are at least n/Samples samples long, as
// Options.Samples promises.
func TestSamplesEveryClass(t *testing.T) {
	const n, classes = 1797, 10
	labels := make([]float64, n)
	for i := range labels {
		labels[i] = float64(i * classes / n)
	}
	path := writeXY(t, t.TempDir(), "d.npz", arr("float32", []int{n}, seq(n, 1)), arr("int64", []int{n}, labels))
	for _, s := range []int{11, 20, 50, 100, 1000} { // classes are 179 or 180 long
		d, err := dataset.Load(path, dataset.Options{Samples: s})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[float64]bool{}
		for _, v := range d.Y {
			seen[v] = true
		}
		if d.N() != s || len(seen) != classes {
			t.Errorf("Samples %d: N() = %d, %d classes seen, want %d, %d", s, d.N(), len(seen), s, classes)
		}
	}
}

// TestLoadErrors checks the errors of Load: those it finds itself, and a
// few of npz's, which it must report with the path and entry and keep
// matching their sentinel. npz's tests cover the files it refuses.
func TestLoadErrors(t *testing.T) {
	goodX := npy(t, arr("float32", []int{3, 2}, seq(6, 1)))
	goodY := npy(t, arr("int64", []int{3}, seq(3, 1)))
	archive := func(x, y []byte) func(t *testing.T, dir string) string {
		return func(t *testing.T, dir string) string {
			return writeZip(t, dir, "d.npz", zip.Store, file{"x.npy", x}, file{"y.npy", y})
		}
	}
	badX := func(x []byte) func(t *testing.T, dir string) string { return archive(x, goodY) }
	tests := []struct {
		name  string
		write func(t *testing.T, dir string) string // returns the path to load
		opts  dataset.Options
		is    error    // sentinel the error must match
		want  []string // substrings of the message, besides the path
	}{
		{"missing file", func(t *testing.T, dir string) string { return filepath.Join(dir, "nope.npz") },
			dataset.Options{}, fs.ErrNotExist, []string{"no such file"}},
		{"empty file", func(t *testing.T, dir string) string { return writeFile(t, dir, "d.npz", nil) },
			dataset.Options{}, dataset.ErrFormat, []string{"not an .npz archive"}},
		{"text file", func(t *testing.T, dir string) string { return writeFile(t, dir, "d.npz", []byte("a,b\n1,2\n")) },
			dataset.Options{}, dataset.ErrFormat, []string{"not an .npz archive"}},
		{"single npy", func(t *testing.T, dir string) string { return writeFile(t, dir, "x.npy", goodX) },
			dataset.Options{}, dataset.ErrFormat, []string{"a single .npy file"}},
		{"broken zip", func(t *testing.T, dir string) string { return writeFile(t, dir, "d.npz", []byte("PK\x03\x04garbage")) },
			dataset.Options{}, dataset.ErrFormat, []string{"not a readable .npz"}},
		{"missing x in npz", func(t *testing.T, dir string) string {
			return writeZip(t, dir, "d.npz", zip.Store, file{"inputs.npy", goodX}, file{"labels.npy", goodY})
		}, dataset.Options{}, dataset.ErrMissingKey, []string{`no entry "x"`, `"inputs", "labels"`, "--x-key and --y-key"}},
		{"missing y in npz", archive(goodX, goodY), dataset.Options{YKey: "target"},
			dataset.ErrMissingKey, []string{`no entry "target"`, `"x", "y"`, "--x-key and --y-key"}},
		{"missing y in folder", func(t *testing.T, dir string) string {
			writeFile(t, dir, "data/x.npy", goodX)
			writeFile(t, dir, "data/target.npy", goodY)
			return filepath.Join(dir, "data")
		}, dataset.Options{}, dataset.ErrMissingKey, []string{`no file "y.npy"`, `"target", "x"`, "--x-key and --y-key"}},
		{"empty folder", func(t *testing.T, dir string) string { return dir },
			dataset.Options{}, dataset.ErrMissingKey, []string{`no file "x.npy"`, "it holds none"}},
		{"negative samples", archive(goodX, goodY), dataset.Options{Samples: -1}, nil, []string{"-1 samples"}},
		{"complex64", badX(npyAs(t, arr("float64", []int{3}, make([]float64, 3)), "{'descr': '<c8', 'fortran_order': False, 'shape': (3,), }")),
			dataset.Options{}, dataset.ErrDType, []string{`entry "x"`, "complex64"}},
		{"unicode string labels", archive(goodX, npyAs(t, arr("float32", []int{9}, make([]float64, 9)), "{'descr': '<U3', 'fortran_order': False, 'shape': (3,), }")),
			dataset.Options{}, dataset.ErrDType, []string{`entry "y"`, "string", "integer class indices"}},
		{"sample counts differ", archive(goodX, npy(t, arr("int64", []int{2}, seq(2, 1)))),
			dataset.Options{}, dataset.ErrShape, []string{`entry "x" has 3 samples but entry "y" has 2`, "[3 2]", "[2]"}},
		{"no samples", archive(npy(t, arr("float32", []int{0, 2}, nil)), npy(t, arr("int64", []int{0}, nil))),
			dataset.Options{}, dataset.ErrEmpty, []string{`entry "x" has no samples`, "[0 2]"}},
		{"scalar x", badX(npy(t, arr("float32", nil, []float64{1}))),
			dataset.Options{}, dataset.ErrShape, []string{`entry "x" is a 0-d array`}},
		{"scalar y", archive(goodX, npy(t, arr("float32", nil, []float64{1}))),
			dataset.Options{}, dataset.ErrShape, []string{`entry "y" is a 0-d array`}},
		{"truncated data", badX(npyAs(t, arr("float32", []int{2}, make([]float64, 2)), "{'descr': '<f4', 'fortran_order': False, 'shape': (1000, 1000), }")),
			dataset.Options{}, dataset.ErrFormat, []string{`entry "x"`, "truncated", "4000000 bytes"}},
		{"truncated data in folder", func(t *testing.T, dir string) string {
			x := npy(t, arr("float64", []int{3, 2}, seq(6, 1)))
			writeFile(t, dir, "data/x.npy", x[:len(x)-1])
			writeFile(t, dir, "data/y.npy", goodY)
			return filepath.Join(dir, "data")
		}, dataset.Options{}, dataset.ErrFormat, []string{"x.npy: truncated", "48 bytes"}},
		{"numpy strings", func(*testing.T, string) string { return "testdata/strings.npz" },
			dataset.Options{}, dataset.ErrDType, []string{`entry "y"`, "string"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.write(t, t.TempDir())
			d, err := dataset.Load(path, tt.opts)
			if err == nil {
				t.Fatalf("Load(%q) = %v, want an error", path, d)
			}
			msg := err.Error()
			t.Log(msg)
			if !strings.HasPrefix(msg, "dataset: "+path) {
				t.Errorf("error %q does not start with %q", msg, "dataset: "+path)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q does not match %v", msg, tt.is)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
		})
	}
}

// TestLoadTruncations cuts a valid archive at every length: Load must fail
// cleanly, never panic. (npz's tests cut .npy arrays.)
func TestLoadTruncations(t *testing.T) {
	dir := t.TempDir()
	full := writeXY(t, dir, "full.npz", arr("float32", []int{3, 2}, seq(6, 1)), arr("int64", []int{3}, seq(3, 1)))
	archive, err := os.ReadFile(full)
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(archive) {
		if _, err := dataset.Load(writeFile(t, dir, "cut.npz", archive[:n]), dataset.Options{}); err == nil {
			t.Errorf("cut at %d of %d bytes: no error", n, len(archive))
		}
	}
	if _, err := dataset.Load(writeFile(t, dir, "cut.npz", archive), dataset.Options{}); err != nil {
		t.Errorf("whole file: %v", err)
	}
}
