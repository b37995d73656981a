package dataset_test

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io/fs"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lsweep/lsweep/dataset"
)

var le, be = binary.LittleEndian, binary.BigEndian

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

// TestLoadDTypes checks every supported dtype in both byte orders, in C and
// Fortran order, from stored and deflated archives.
func TestLoadDTypes(t *testing.T) {
	const n = 3
	shape := []int{n, 2, 2}
	types := []struct {
		typ, name string
		vals      []float64 // C order, n*4 values
		integer   bool
	}{
		{"f2", "float16", []float64{0, -1, 2.5, 65504, -0.125, 1024, 3, 4, 5, 6, 7, 8}, false},
		{"f4", "float32", []float64{0, -1.5, 2.25, math.MaxFloat32, -math.SmallestNonzeroFloat32, 0x1p-10, 6, 7, 8, 9, 10, 11}, false},
		{"f8", "float64", []float64{0, -1.5, 2.25, math.MaxFloat64, -math.SmallestNonzeroFloat64, math.Pi, 6, 7, 8, 9, 10, 11}, false},
		{"i1", "int8", []float64{0, -128, 127, 3, -4, 5, 6, 7, 8, 9, 10, 11}, true},
		{"u1", "uint8", []float64{0, 255, 127, 3, 4, 5, 6, 7, 8, 9, 10, 11}, true},
		{"i2", "int16", []float64{0, -32768, 32767, 3, -4, 5, 6, 7, 8, 9, 10, 11}, true},
		{"u2", "uint16", []float64{0, 65535, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, true},
		{"i4", "int32", []float64{0, -1 << 31, 1<<31 - 1, 3, -4, 5, 6, 7, 8, 9, 10, 11}, true},
		{"u4", "uint32", []float64{0, 1<<32 - 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, true},
		{"i8", "int64", []float64{0, -1 << 62, 1 << 53, 3, -4, 5, 6, 7, 8, 9, 10, 11}, true},
		{"u8", "uint64", []float64{0, 1 << 63, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, true},
		{"b1", "bool", []float64{0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0, 0}, true},
	}
	for _, ty := range types {
		for _, order := range []struct {
			name string
			bo   binary.AppendByteOrder
			ch   string
		}{{"little", le, "<"}, {"big", be, ">"}} {
			for _, fortran := range []bool{false, true} {
				for _, compress := range []bool{false, true} {
					name := ty.name + "/" + order.name
					if fortran {
						name += "/fortran"
					}
					if compress {
						name += "/deflate"
					}
					t.Run(name, func(t *testing.T) {
						stored := ty.vals
						if fortran {
							stored = toFortran(shape, ty.vals)
						}
						descr := order.ch + ty.typ
						if ty.typ[1] == '1' {
							descr = "|" + ty.typ
						}
						x := npyBytes(descr, fortran, shape, encode(order.bo, ty.typ, stored))
						y := npyBytes(descr, fortran, []int{n}, encode(order.bo, ty.typ, ty.vals[:n]))
						path := writeNPZ(t, t.TempDir(), "d.npz", compress, entry{"x.npy", x}, entry{"y.npy", y})
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
		}
	}
}

// TestLoadLayouts checks entry names, folders and the Samples subset.
func TestLoadLayouts(t *testing.T) {
	const n = 10
	x := npyBytes("<f4", false, []int{n, 2}, encode(le, "f4", seq(2*n, 1)))
	y := npyBytes("<i8", false, []int{n}, encode(le, "i8", seq(n, 1)))
	xf := npyBytes("<f4", true, []int{n, 2}, encode(le, "f4", toFortran([]int{n, 2}, seq(2*n, 1))))
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
			return writeNPZ(t, dir, "d.npz", false, entry{"x.npy", x}, entry{"y.npy", y})
		}, dataset.Options{}, nil},
		{"npz without suffix", func(t *testing.T, dir string) string {
			return writeNPZ(t, dir, "d.npz", true, entry{"x", x}, entry{"y", y})
		}, dataset.Options{}, nil},
		{"npz other keys", func(t *testing.T, dir string) string {
			return writeNPZ(t, dir, "d.zip", false, entry{"y.npy", x}, entry{"x.npy", y})
		}, dataset.Options{XKey: "y", YKey: "x"}, nil},
		{"folder", func(t *testing.T, dir string) string {
			writeFile(t, dir, "data/x.npy", x)
			writeFile(t, dir, "data/y.npy", y)
			return filepath.Join(dir, "data")
		}, dataset.Options{}, nil},
		{"folder keys with suffix", func(t *testing.T, dir string) string {
			writeFile(t, dir, "data/in.npy", x)
			writeFile(t, dir, "data/out.npy", y)
			return filepath.Join(dir, "data")
		}, dataset.Options{XKey: "in.npy", YKey: "out"}, nil},
		{"subset 4 of 10", func(t *testing.T, dir string) string {
			return writeNPZ(t, dir, "d.npz", false, entry{"x.npy", x}, entry{"y.npy", y})
		}, dataset.Options{Samples: 4}, []int{0, 2, 5, 7}},
		{"subset 3 of 10 fortran", func(t *testing.T, dir string) string {
			return writeNPZ(t, dir, "d.npz", false, entry{"x.npy", xf}, entry{"y.npy", y})
		}, dataset.Options{Samples: 3}, []int{0, 3, 6}},
		{"subset 1", func(t *testing.T, dir string) string {
			return writeNPZ(t, dir, "d.npz", false, entry{"x.npy", x}, entry{"y.npy", y})
		}, dataset.Options{Samples: 1}, []int{0}},
		{"subset n keeps all", func(t *testing.T, dir string) string {
			return writeNPZ(t, dir, "d.npz", false, entry{"x.npy", x}, entry{"y.npy", y})
		}, dataset.Options{Samples: n}, nil},
		{"subset over n keeps all", func(t *testing.T, dir string) string {
			return writeNPZ(t, dir, "d.npz", false, entry{"x.npy", x}, entry{"y.npy", y})
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
	path := writeNPZ(t, t.TempDir(), "d.npz", false,
		entry{"x.npy", npyBytes("<f4", false, []int{n}, encode(le, "f4", seq(n, 1)))},
		entry{"y.npy", npyBytes("<i8", false, []int{n}, encode(le, "i8", labels))})
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

// rawZip writes an archive with one entry whose header fields are set by hand.
func rawZip(t *testing.T, dir string, fh *zip.FileHeader, raw []byte, more ...entry) string {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, err := zw.CreateRaw(fh)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(raw)
	for _, e := range more {
		w, _ := zw.Create(e.name)
		w.Write(e.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return writeFile(t, dir, "d.npz", b.Bytes())
}

func TestLoadErrors(t *testing.T) {
	goodX := npyBytes("<f4", false, []int{3, 2}, encode(le, "f4", seq(6, 1)))
	goodY := npyBytes("<i8", false, []int{3}, encode(le, "i8", seq(3, 1)))
	npz := func(x, y []byte) func(t *testing.T, dir string) string {
		return func(t *testing.T, dir string) string {
			return writeNPZ(t, dir, "d.npz", false, entry{"x.npy", x}, entry{"y.npy", y})
		}
	}
	badX := func(x []byte) func(t *testing.T, dir string) string { return npz(x, goodY) }
	header := func(dict string) func(t *testing.T, dir string) string { return badX(npyRaw(dict, nil)) }
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
			return writeNPZ(t, dir, "d.npz", false, entry{"inputs.npy", goodX}, entry{"labels.npy", goodY})
		}, dataset.Options{}, dataset.ErrMissingKey, []string{`no entry "x"`, `"inputs", "labels"`, "--x-key and --y-key"}},
		{"missing y in npz", npz(goodX, goodY), dataset.Options{YKey: "target"},
			dataset.ErrMissingKey, []string{`no entry "target"`, `"x", "y"`, "--x-key and --y-key"}},
		{"missing y in folder", func(t *testing.T, dir string) string {
			writeFile(t, dir, "data/x.npy", goodX)
			writeFile(t, dir, "data/labels.npy", goodY)
			return filepath.Join(dir, "data")
		}, dataset.Options{}, dataset.ErrMissingKey, []string{`no file "y.npy"`, `"labels", "x"`, "--x-key and --y-key"}},
		{"empty folder", func(t *testing.T, dir string) string { return dir },
			dataset.Options{}, dataset.ErrMissingKey, []string{`no file "x.npy"`, "it holds none"}},
		{"negative samples", npz(goodX, goodY), dataset.Options{Samples: -1}, nil, []string{"-1 samples"}},
		{"complex64", badX(npyBytes("<c8", false, []int{3}, make([]byte, 24))),
			dataset.Options{}, dataset.ErrDType, []string{`entry "x"`, "complex64"}},
		{"complex128", badX(npyBytes("<c16", false, []int{3}, make([]byte, 48))),
			dataset.Options{}, dataset.ErrDType, []string{`entry "x"`, "complex128"}},
		{"object", badX(npyBytes("|O", false, []int{3}, make([]byte, 24))),
			dataset.Options{}, dataset.ErrDType, []string{`entry "x"`, "object"}},
		{"unicode string labels", npz(goodX, npyBytes("<U3", false, []int{3}, make([]byte, 36))),
			dataset.Options{}, dataset.ErrDType, []string{`entry "y"`, "string", "integer class indices"}},
		{"bytes", badX(npyBytes("|S3", false, []int{3}, make([]byte, 9))),
			dataset.Options{}, dataset.ErrDType, []string{"string"}},
		{"float128", badX(npyBytes("<f16", false, []int{3}, make([]byte, 48))),
			dataset.Options{}, dataset.ErrDType, []string{"float128"}},
		{"datetime", badX(npyBytes("<M8[ns]", false, []int{3}, make([]byte, 24))),
			dataset.Options{}, dataset.ErrDType, []string{"datetime64"}},
		{"structured", header("{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (3,), }"),
			dataset.Options{}, dataset.ErrDType, []string{"structured"}},
		{"sample counts differ", npz(goodX, npyBytes("<i8", false, []int{2}, encode(le, "i8", seq(2, 1)))),
			dataset.Options{}, dataset.ErrShape, []string{`entry "x" has 3 samples but entry "y" has 2`, "[3 2]", "[2]"}},
		{"no samples", npz(npyBytes("<f4", false, []int{0, 2}, nil), npyBytes("<i8", false, []int{0}, nil)),
			dataset.Options{}, dataset.ErrEmpty, []string{`entry "x" has no samples`, "[0 2]"}},
		{"scalar x", badX(npyBytes("<f4", false, nil, encode(le, "f4", []float64{1}))),
			dataset.Options{}, dataset.ErrShape, []string{`entry "x" is a 0-d array`}},
		{"scalar y", npz(goodX, npyBytes("<f4", false, nil, encode(le, "f4", []float64{1}))),
			dataset.Options{}, dataset.ErrShape, []string{`entry "y" is a 0-d array`}},
		{"truncated data", badX(npyBytes("<f4", false, []int{1000, 1000}, make([]byte, 8))),
			dataset.Options{}, dataset.ErrFormat, []string{`entry "x"`, "truncated", "4000000 bytes"}},
		{"truncated data in folder", func(t *testing.T, dir string) string {
			writeFile(t, dir, "data/x.npy", npyBytes("<f8", false, []int{3, 2}, make([]byte, 47)))
			writeFile(t, dir, "data/y.npy", goodY)
			return filepath.Join(dir, "data")
		}, dataset.Options{}, dataset.ErrFormat, []string{"x.npy: truncated", "48 bytes"}},
		{"huge shape", badX(npyBytes("<f8", false, []int{1 << 40, 1 << 40}, nil)),
			dataset.Options{}, dataset.ErrFormat, []string{"too large"}},
		{"huge shape fits int", badX(npyBytes("<f8", false, []int{1 << 20, 1 << 20}, nil)),
			dataset.Options{}, dataset.ErrFormat, []string{"truncated"}},
		{"negative dim", header("{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 2), }"),
			dataset.Options{}, dataset.ErrFormat, []string{"bad dimension -1"}},
		{"no shape", header("{'descr': '<f4', 'fortran_order': False, }"),
			dataset.Options{}, dataset.ErrFormat, []string{"no 'shape'"}},
		{"no descr", header("{'fortran_order': False, 'shape': (3,), }"),
			dataset.Options{}, dataset.ErrFormat, []string{"no 'descr'"}},
		{"bad fortran_order", header("{'descr': '<f4', 'fortran_order': 1, 'shape': (3,), }"),
			dataset.Options{}, dataset.ErrFormat, []string{"fortran_order"}},
		{"bad descr", header("{'descr': '', 'fortran_order': False, 'shape': (3,), }"),
			dataset.Options{}, dataset.ErrFormat, []string{"malformed dtype"}},
		{"header not a dict", header("[1, 2]"), dataset.Options{}, dataset.ErrFormat, []string{"not a dictionary"}},
		{"header garbage", header("{'descr': '<f4', 'fortran_order': Flase, 'shape': (3,)}"),
			dataset.Options{}, dataset.ErrFormat, []string{"malformed .npy header"}},
		{"header unterminated", badX([]byte("\x93NUMPY\x01\x00\x10\x00{'descr': '<f4',")),
			dataset.Options{}, dataset.ErrFormat, []string{"malformed .npy header"}},
		{"header beyond entry", badX([]byte("\x93NUMPY\x01\x00\xff\xff{}")),
			dataset.Options{}, dataset.ErrFormat, []string{"header claims 65535 bytes"}},
		{"header huge v2", badX([]byte("\x93NUMPY\x02\x00\xff\xff\xff\x7f{}")),
			dataset.Options{}, dataset.ErrFormat, []string{"header claims"}},
		{"bad magic", badX([]byte("\x93NUMPZ\x01\x00\x10\x00{}              ")),
			dataset.Options{}, dataset.ErrFormat, []string{"not a .npy array"}},
		{"bad version", badX([]byte("\x93NUMPY\x09\x00\x10\x00{}              ")),
			dataset.Options{}, dataset.ErrFormat, []string{"version 9.0"}},
		{"short entry", badX([]byte("\x93NUM")), dataset.Options{}, dataset.ErrFormat, []string{"truncated"}},
		{"impossible deflate ratio", func(t *testing.T, dir string) string {
			return rawZip(t, dir, &zip.FileHeader{Name: "x.npy", Method: zip.Deflate,
				CompressedSize64: 10, UncompressedSize64: 1 << 40}, make([]byte, 10), entry{"y.npy", goodY})
		}, dataset.Options{}, dataset.ErrFormat, []string{`entry "x"`, "corrupt archive"}},
		{"corrupt deflate", func(t *testing.T, dir string) string {
			return rawZip(t, dir, &zip.FileHeader{Name: "x.npy", Method: zip.Deflate,
				CompressedSize64: 64, UncompressedSize64: 200}, bytes.Repeat([]byte{0xff}, 64), entry{"y.npy", goodY})
		}, dataset.Options{}, dataset.ErrFormat, []string{`entry "x"`}},
		{"bad checksum", func(t *testing.T, dir string) string {
			return rawZip(t, dir, &zip.FileHeader{Name: "x.npy", Method: zip.Store, CRC32: crc32.ChecksumIEEE(goodX) + 1,
				CompressedSize64: uint64(len(goodX)), UncompressedSize64: uint64(len(goodX))}, goodX, entry{"y.npy", goodY})
		}, dataset.Options{}, dataset.ErrFormat, []string{`entry "x"`, "checksum"}},
		{"stored size lies", func(t *testing.T, dir string) string {
			return rawZip(t, dir, &zip.FileHeader{Name: "x.npy", Method: zip.Store, CRC32: crc32.ChecksumIEEE(goodX),
				CompressedSize64: uint64(len(goodX)), UncompressedSize64: 1 << 30}, goodX, entry{"y.npy", goodY})
		}, dataset.Options{}, dataset.ErrFormat, []string{`entry "x"`}},
		{"numpy complex", func(*testing.T, string) string { return "testdata/complex.npz" },
			dataset.Options{}, dataset.ErrDType, []string{`entry "x"`, "complex64"}},
		{"numpy object", func(*testing.T, string) string { return "testdata/object.npz" },
			dataset.Options{}, dataset.ErrDType, []string{`entry "x"`, "object"}},
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

// TestLoadTruncations cuts a valid archive and a valid .npy at every length:
// Load must fail cleanly, never panic.
func TestLoadTruncations(t *testing.T) {
	x := npyBytes("<f4", true, []int{3, 2}, encode(le, "f4", seq(6, 1)))
	y := npyBytes("<i8", false, []int{3}, encode(le, "i8", seq(3, 1)))
	dir := t.TempDir()
	full := writeNPZ(t, dir, "full.npz", true, entry{"x.npy", x}, entry{"y.npy", y})
	archive := mustRead(t, full)
	for _, tc := range []struct {
		name string
		data []byte
		file func(cut []byte) string
	}{
		{"npz", archive, func(cut []byte) string { return writeFile(t, dir, "cut.npz", cut) }},
		{"npy", x, func(cut []byte) string {
			writeFile(t, dir, "folder/y.npy", y)
			writeFile(t, dir, "folder/x.npy", cut)
			return filepath.Join(dir, "folder")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for n := range len(tc.data) {
				if _, err := dataset.Load(tc.file(tc.data[:n]), dataset.Options{}); err == nil {
					t.Errorf("cut at %d of %d bytes: no error", n, len(tc.data))
				}
			}
			if _, err := dataset.Load(tc.file(tc.data), dataset.Options{}); err != nil {
				t.Errorf("whole file: %v", err)
			}
		})
	}
}

// TestLoadZeros checks that the deflate-ratio sanity check accepts data
// that compress as well as deflate allows, from Go and from numpy's zlib.
func TestLoadZeros(t *testing.T) {
	const n, m = 1000, 1000
	x := npyBytes("<f8", false, []int{n, m}, make([]byte, 8*n*m))
	y := npyBytes("<i8", false, []int{n}, make([]byte, 8*n))
	path := writeNPZ(t, t.TempDir(), "zeros.npz", true, entry{"x.npy", x}, entry{"y.npy", y})
	d, err := dataset.Load(path, dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d.N() != n || len(d.X) != n*m || d.CountNaN() != 0 {
		t.Errorf("XShape = %v, %d values", d.XShape, len(d.X))
	}
}
