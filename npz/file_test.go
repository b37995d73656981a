package npz_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"hash/crc32"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lsweep/lsweep/npz"
)

// fixtureArrays are the arrays testdata/make.py writes, in its order.
func fixtureArrays() []npz.Entry {
	inf, nan, negz := math.Inf(1), math.NaN(), math.Copysign(0, -1)
	every := []struct {
		dtype string
		vals  []float64
	}{
		{"float16", []float64{1, -2.5, 0x1p-14, 0x1p-24, 65504, inf, nan, negz}},
		{"float32", []float64{0, -1.5, 2.25, math.MaxFloat32, -0x1p-149, float64(float32(0.1)), inf, -inf}},
		{"float64", []float64{0, -1.5, math.Pi, math.MaxFloat64, 5e-324, 0.1, nan, negz}},
		{"int8", []float64{-128, 127, 0, -1, 1, 2, 3, 4}},
		{"int16", []float64{-32768, 32767, 0, -1, 1, 2, 3, 4}},
		{"int32", []float64{-1 << 31, 1<<31 - 1, 0, -1, 1, 2, 3, 4}},
		{"int64", []float64{-1 << 63, 1 << 62, 0, -1, 1, 2, 3, 1 << 53}},
		{"uint8", []float64{0, 255, 1, 2, 3, 4, 5, 6}},
		{"uint16", []float64{0, 65535, 1, 2, 3, 4, 5, 6}},
		{"uint32", []float64{0, 1<<32 - 1, 1, 2, 3, 4, 5, 6}},
		{"uint64", []float64{0, 1 << 63, 1, 2, 3, 4, 5, 1 << 53}},
		{"bool", []float64{1, 0, 1, 1, 0, 0, 1, 0}},
	}
	var es []npz.Entry
	for _, e := range every {
		es = append(es, npz.Entry{Name: e.dtype, Array: &npz.Array{Shape: []int{2, 4}, DType: e.dtype, Data: e.vals}})
	}
	return append(es,
		npz.Entry{Name: "scalar", Array: &npz.Array{Shape: []int{}, DType: "float64", Data: []float64{2.5}}},
		npz.Entry{Name: "empty", Array: &npz.Array{Shape: []int{0, 3}, DType: "float32", Data: []float64{}}},
		npz.Entry{Name: "x/conv1.weight", Array: &npz.Array{Shape: []int{2, 3}, DType: "float32", Data: seq(6, 1)}},
		npz.Entry{Name: "bigendian", Array: &npz.Array{Shape: []int{2, 2}, DType: "float64", Data: []float64{1.5, -2, 3.25, 1e300}}},
		npz.Entry{Name: "fortran", Array: &npz.Array{Shape: []int{2, 3, 4}, DType: "int16", Data: seq(24, 1)}},
	)
}

// checkArrays checks that got holds exactly the arrays of want.
func checkArrays(t *testing.T, got map[string]*npz.Array, want []npz.Entry) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d arrays, want %d", len(got), len(want))
	}
	for _, e := range want {
		a, ok := got[e.Name]
		switch {
		case !ok:
			t.Errorf("no array %q", e.Name)
		case !slices.Equal(a.Shape, e.Array.Shape) || a.DType != e.Array.DType || !sameFloats(a.Data, e.Array.Data):
			t.Errorf("%s = %v %s %v, want %v %s %v", e.Name, a.Shape, a.DType, a.Data, e.Array.Shape, e.Array.DType, e.Array.Data)
		}
	}
}

// TestReadNumpyFixtures reads files written by numpy itself (testdata/make.py).
func TestReadNumpyFixtures(t *testing.T) {
	want := fixtureArrays()
	for _, name := range []string{"numpy.npz", "compressed.npz"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", name)
			got, err := npz.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			checkArrays(t, got, want)

			f, err := npz.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var keys []string
			for _, e := range want {
				keys = append(keys, e.Name)
			}
			if !slices.Equal(f.Keys(), keys) {
				t.Errorf("Keys() = %q, want %q", f.Keys(), keys)
			}
			for _, k := range []string{"float32", "float32.npy", "x/conv1.weight"} {
				if !f.Has(k) {
					t.Errorf("Has(%q) = false", k)
				}
			}
			for _, k := range []string{"", "x", "conv1.weight", "float"} {
				if f.Has(k) {
					t.Errorf("Has(%q) = true", k)
				}
			}
			a, err := f.Read("scalar")
			if err != nil {
				t.Fatal(err)
			}
			if v, err := a.Scalar(); v != 2.5 || err != nil {
				t.Errorf("Scalar() = %v, %v", v, err)
			}
			if err := f.Close(); err != nil {
				t.Error(err)
			}
		})
	}
	for _, name := range []string{"v2.npy", "v3.npy"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		a, err := readNPY(t, data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		checkArrays(t, map[string]*npz.Array{"bigendian": a}, want[len(want)-2:len(want)-1])
	}
	for _, k := range []string{"complex", "object", "strings"} {
		f, err := npz.Open("testdata/refused.npz")
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.Read(k)
		f.Close()
		if !errors.Is(err, npz.ErrDType) || !strings.Contains(err.Error(), `npz: testdata/refused.npz: entry "`+k+`": unsupported dtype`) {
			t.Errorf("Read(%q): %v, want ErrDType", k, err)
		}
	}
}

// everyDType returns entries of every dtype, holding extreme values, in
// several shapes.
func everyDType() []npz.Entry {
	ext := []struct {
		dtype string
		vals  []float64
	}{
		{"float16", []float64{0, math.Copysign(0, -1), 1, -2.5, 0x1p-14, 0x1p-24, 65504, math.Inf(1), math.Inf(-1), math.NaN()}},
		{"float32", []float64{0, math.Copysign(0, -1), math.MaxFloat32, -0x1p-149, float64(float32(0.1)), math.Inf(-1), math.NaN(), 1}},
		{"float64", []float64{0, math.Copysign(0, -1), math.MaxFloat64, 5e-324, 0.1, math.Pi, math.Inf(1), math.NaN()}},
		{"int8", []float64{-128, 127, 0, -1}},
		{"int16", []float64{-32768, 32767, 0, -1}},
		{"int32", []float64{-1 << 31, 1<<31 - 1, 0, -1}},
		{"int64", []float64{-1 << 63, 1<<63 - 1024, 1<<53 + 2, -1}},
		{"uint8", []float64{0, 255, 1, 128}},
		{"uint16", []float64{0, 65535, 1, 128}},
		{"uint32", []float64{0, 1<<32 - 1, 1, 128}},
		{"uint64", []float64{0, 1<<64 - 2048, 1 << 63, 1<<53 + 2}},
		{"bool", []float64{0, 1, 1, 0}},
	}
	var es []npz.Entry
	for _, e := range ext {
		n := len(e.vals)
		es = append(es,
			npz.Entry{Name: e.dtype, Array: &npz.Array{Shape: []int{n}, DType: e.dtype, Data: e.vals}},
			npz.Entry{Name: e.dtype + "/2d", Array: &npz.Array{Shape: []int{2, n / 2}, DType: e.dtype, Data: e.vals}},
			npz.Entry{Name: e.dtype + "/0d", Array: &npz.Array{Shape: []int{}, DType: e.dtype, Data: e.vals[1:2]}},
			npz.Entry{Name: e.dtype + "/empty", Array: &npz.Array{Shape: []int{0, 2, 1}, DType: e.dtype, Data: []float64{}}},
		)
	}
	return es
}

// TestRoundTrip writes every dtype with WriteFile and reads it back.
func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "every.npz")
	es := everyDType()
	if err := npz.WriteFile(path, es); err != nil {
		t.Fatal(err)
	}
	got, err := npz.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	checkArrays(t, got, es)

	// The fixtures, every value representable in its dtype, survive too;
	// and the same arrays always give the same bytes.
	fixed := fixtureArrays()
	for _, name := range []string{"a.npz", "b.npz"} {
		if err := npz.WriteFile(filepath.Join(t.TempDir(), name), fixed); err != nil {
			t.Fatal(err)
		}
	}
	if err := npz.WriteFile(path, fixed); err != nil {
		t.Fatal(err)
	}
	got, err = npz.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	checkArrays(t, got, fixed)
	again := filepath.Join(t.TempDir(), "again.npz")
	if err := npz.WriteFile(again, fixed); err != nil {
		t.Fatal(err)
	}
	if a, b := mustRead(t, path), mustRead(t, again); !bytes.Equal(a, b) {
		t.Errorf("the same arrays written twice give different files")
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestWriteNPYLayout checks the header layout numpy.save writes.
func TestWriteNPYLayout(t *testing.T) {
	for _, tt := range []struct {
		a    *npz.Array
		dict string
		data int // bytes of data
	}{
		{&npz.Array{Shape: []int{3}, DType: "float32", Data: seq(3, 1)}, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 12},
		{&npz.Array{Shape: []int{2, 3}, Data: seq(6, 1)}, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", 48},
		{&npz.Array{DType: "uint8", Data: []float64{7}}, "{'descr': '|u1', 'fortran_order': False, 'shape': (), }", 1},
		{&npz.Array{Shape: []int{0, 4}, DType: "bool", Data: nil}, "{'descr': '|b1', 'fortran_order': False, 'shape': (0, 4), }", 0},
		{&npz.Array{Shape: []int{1}, DType: "int8", Data: []float64{-1}}, "{'descr': '|i1', 'fortran_order': False, 'shape': (1,), }", 1},
		{&npz.Array{Shape: []int{1}, DType: "float16", Data: []float64{-1}}, "{'descr': '<f2', 'fortran_order': False, 'shape': (1,), }", 2},
		{&npz.Array{Shape: []int{2, 2}, DType: "uint64", Data: seq(4, 1)}, "{'descr': '<u8', 'fortran_order': False, 'shape': (2, 2), }", 32},
	} {
		var b bytes.Buffer
		if err := npz.WriteNPY(&b, tt.a); err != nil {
			t.Fatal(err)
		}
		out := b.Bytes()
		hlen := int(le.Uint16(out[8:]))
		h := string(out[10 : 10+hlen])
		if string(out[:8]) != "\x93NUMPY\x01\x00" || (10+hlen)%64 != 0 || strings.TrimRight(h, " \n") != tt.dict || !strings.HasSuffix(h, " \n") {
			t.Errorf("header %q, want %q padded to 64 bytes", out[:10+hlen], tt.dict)
		}
		if data := len(out) - 10 - hlen; data != tt.data {
			t.Errorf("%s: %d bytes of data, want %d", tt.dict, data, tt.data)
		}
	}

	// A header too long for version 1.0.
	shape := make([]int, 25000)
	for i := range shape {
		shape[i] = 1
	}
	var b bytes.Buffer
	if err := npz.WriteNPY(&b, &npz.Array{Shape: shape, DType: "int32", Data: []float64{-5}}); err != nil {
		t.Fatal(err)
	}
	out := b.Bytes()
	if string(out[:8]) != "\x93NUMPY\x02\x00" || (12+le.Uint32(out[8:]))%64 != 0 {
		t.Errorf("long header starts %q, length %d", out[:8], le.Uint32(out[8:]))
	}
	a, err := readNPY(t, out)
	if err != nil || len(a.Shape) != len(shape) || !sameFloats(a.Data, []float64{-5}) {
		t.Errorf("long header read back as %v, %v", a, err)
	}
}

func TestWriteErrors(t *testing.T) {
	good := &npz.Array{Shape: []int{2}, DType: "float32", Data: []float64{1, 2}}
	tests := []struct {
		name  string
		entry npz.Entry
		is    error
		want  string // substring of the message
	}{
		{"no name", npz.Entry{Array: good}, npz.ErrValue, "entry 1 has no name"},
		{"nil array", npz.Entry{Name: "w", Array: nil}, npz.ErrValue, "nil"},
		{"bad dtype", npz.Entry{Name: "w", Array: &npz.Array{Shape: []int{1}, DType: "complex64", Data: []float64{1}}}, npz.ErrDType, `"complex64"`},
		{"big-endian descr", npz.Entry{Name: "w", Array: &npz.Array{Shape: []int{1}, DType: ">f4", Data: []float64{1}}}, npz.ErrDType, `">f4"`},
		{"too few values", npz.Entry{Name: "w", Array: &npz.Array{Shape: []int{2, 2}, Data: []float64{1}}}, npz.ErrValue, "shape [2 2] holds 4 values, Data has 1"},
		{"scalar without value", npz.Entry{Name: "w", Array: &npz.Array{}}, npz.ErrValue, "holds 1 values, Data has 0"},
		{"negative dim", npz.Entry{Name: "w", Array: &npz.Array{Shape: []int{-1}}}, npz.ErrValue, "negative"},
		{"huge shape", npz.Entry{Name: "w", Array: &npz.Array{Shape: []int{1 << 40, 1 << 40}}}, npz.ErrValue, "too large"},
		{"fraction", npz.Entry{Name: "w", Array: &npz.Array{Shape: []int{3}, DType: "int32", Data: []float64{1, 2.5, 3}}}, npz.ErrValue, "Data[1] = 2.5 is not an integer"},
		{"NaN", npz.Entry{Name: "w", Array: &npz.Array{Shape: []int{1}, DType: "uint8", Data: []float64{math.NaN()}}}, npz.ErrValue, "Data[0] = NaN is not an integer"},
		{"Inf", npz.Entry{Name: "w", Array: &npz.Array{Shape: []int{1}, DType: "int64", Data: []float64{math.Inf(1)}}}, npz.ErrValue, "+Inf is not an integer"},
		{"bool 2", npz.Entry{Name: "w", Array: &npz.Array{Shape: []int{2}, DType: "bool", Data: []float64{1, 2}}}, npz.ErrValue, "Data[1] = 2 is not a bool"},
		{"bool -1", npz.Entry{Name: "w", Array: &npz.Array{Shape: []int{1}, DType: "bool", Data: []float64{-1}}}, npz.ErrValue, "not a bool"},
		{"int8 128", npz.Entry{Name: "w", Array: &npz.Array{Shape: []int{1}, DType: "int8", Data: []float64{128}}}, npz.ErrValue, "128 is outside the range of int8 [-128, 127]"},
		{"int8 -129", npz.Entry{Name: "w", Array: &npz.Array{Shape: []int{1}, DType: "int8", Data: []float64{-129}}}, npz.ErrValue, "outside"},
		{"uint8 256", npz.Entry{Name: "w", Array: &npz.Array{Shape: []int{1}, DType: "uint8", Data: []float64{256}}}, npz.ErrValue, "outside the range of uint8 [0, 255]"},
		{"uint8 -1", npz.Entry{Name: "w", Array: &npz.Array{Shape: []int{1}, DType: "uint8", Data: []float64{-1}}}, npz.ErrValue, "outside"},
		{"int16", npz.Entry{Name: "w", Array: &npz.Array{Shape: []int{1}, DType: "int16", Data: []float64{32768}}}, npz.ErrValue, "outside"},
		{"uint16", npz.Entry{Name: "w", Array: &npz.Array{Shape: []int{1}, DType: "uint16", Data: []float64{65536}}}, npz.ErrValue, "outside"},
		{"int32", npz.Entry{Name: "w", Array: &npz.Array{Shape: []int{1}, DType: "int32", Data: []float64{-1<<31 - 1}}}, npz.ErrValue, "outside"},
		{"uint32", npz.Entry{Name: "w", Array: &npz.Array{Shape: []int{1}, DType: "uint32", Data: []float64{1 << 32}}}, npz.ErrValue, "outside"},
		{"int64", npz.Entry{Name: "w", Array: &npz.Array{Shape: []int{1}, DType: "int64", Data: []float64{1 << 63}}}, npz.ErrValue, "outside"},
		{"uint64", npz.Entry{Name: "w", Array: &npz.Array{Shape: []int{1}, DType: "uint64", Data: []float64{1 << 64}}}, npz.ErrValue, "outside"},
		{"duplicate", npz.Entry{Name: "a", Array: good}, npz.ErrValue, `entry "a": name given twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := writeFile(t, dir, "old.npz", []byte("old contents"))
			err := npz.WriteFile(path, []npz.Entry{{Name: "a", Array: good}, tt.entry})
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			t.Log(msg)
			if !errors.Is(err, tt.is) || !strings.Contains(msg, tt.want) || !strings.HasPrefix(msg, "npz: "+path+": ") {
				t.Errorf("error %q, want one matching %v, starting with the path and containing %q", msg, tt.is, tt.want)
			}
			if tt.entry.Name != "" && !strings.Contains(msg, `entry "`+tt.entry.Name+`"`) {
				t.Errorf("error %q does not name the entry", msg)
			}
			if got := string(mustRead(t, path)); got != "old contents" {
				t.Errorf("the old file now holds %q", got)
			}
			checkOnly(t, dir, "old.npz")

			if tt.entry.Name != "a" { // WriteNPY refuses the same arrays
				var b bytes.Buffer
				err := npz.WriteNPY(&b, tt.entry.Array)
				if tt.entry.Name != "" && (!errors.Is(err, tt.is) || b.Len() != 0) {
					t.Errorf("WriteNPY: %v, %d bytes written", err, b.Len())
				}
			}
		})
	}
}

// checkOnly checks that dir holds only the named files.
func checkOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, de := range des {
		got = append(got, de.Name())
	}
	if !slices.Equal(got, names) {
		t.Errorf("%s holds %q, want %q", dir, got, names)
	}
}

// TestWriteFileAtomic checks that WriteFile replaces a file as a whole,
// keeps its permissions, and leaves no temporary file behind.
func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.npz")
	one := []npz.Entry{{Name: "a", Array: &npz.Array{Shape: []int{2}, Data: []float64{1, 2}}}}
	two := []npz.Entry{{Name: "b", Array: &npz.Array{Shape: []int{1}, DType: "int8", Data: []float64{3}}}}
	if err := npz.WriteFile(path, one); err != nil {
		t.Fatal(err)
	}
	checkOnly(t, dir, "s.npz")
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("new file: %v, %v, want mode 0644", st.Mode(), err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := npz.WriteFile(path, two); err != nil {
		t.Fatal(err)
	}
	checkOnly(t, dir, "s.npz")
	got, err := npz.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	checkArrays(t, got, two)
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("replaced file: %v, %v, want mode 0600", st.Mode(), err)
	}

	// A failed rename, onto a folder that is not empty, removes the
	// temporary file.
	if err := os.MkdirAll(filepath.Join(dir, "d.npz", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := npz.WriteFile(filepath.Join(dir, "d.npz"), one); err == nil {
		t.Error("WriteFile onto a folder: no error")
	} else {
		t.Log(err)
	}
	checkOnly(t, dir, "d.npz", "s.npz")

	// A folder that does not exist.
	err = npz.WriteFile(filepath.Join(dir, "none", "s.npz"), one)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("WriteFile into a missing folder: %v, want fs.ErrNotExist", err)
	}

	// A relative path, in the working folder.
	t.Chdir(dir)
	if err := npz.WriteFile("r.npz", two); err != nil {
		t.Fatal(err)
	}
	checkOnly(t, dir, "d.npz", "r.npz", "s.npz")
}

// rawZip returns an archive with one entry whose header fields are set by
// hand.
func rawZip(t *testing.T, fh *zip.FileHeader, raw []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, err := zw.CreateRaw(fh)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(raw)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestFileErrors(t *testing.T) {
	good := npyBytes("<f4", false, []int{3, 2}, encode(le, "f4", seq(6, 1)))
	tests := []struct {
		name string
		data []byte // the archive; nil for a missing file
		key  string // "" to check Open's error
		is   error
		want []string
	}{
		{"missing file", nil, "", fs.ErrNotExist, []string{"no such file"}},
		{"empty file", []byte{}, "", npz.ErrFormat, []string{"not a readable .npz (zip) archive"}},
		{"npy file", good, "", npz.ErrFormat, []string{"not a readable .npz"}},
		{"missing entry", zipBytes(t, false, entry{"a.npy", good}, entry{"b", good}, entry{"d/", nil}), "x",
			fs.ErrNotExist, []string{`entry "x": no such entry (it holds "a", "b")`}},
		{"empty archive", zipBytes(t, false), "x", fs.ErrNotExist, []string{"it holds none"}},
		{"not npy", zipBytes(t, true, entry{"x.npy", []byte("x,y\n1,2\n")}), "x", npz.ErrFormat, []string{`entry "x": not a .npy array`}},
		{"truncated", zipBytes(t, false, entry{"x.npy", good[:len(good)-1]}), "x", npz.ErrFormat, []string{`entry "x": truncated`}},
		{"impossible deflate ratio", rawZip(t, &zip.FileHeader{Name: "x.npy", Method: zip.Deflate,
			CompressedSize64: 10, UncompressedSize64: 1 << 40}, make([]byte, 10)),
			"x", npz.ErrFormat, []string{`entry "x"`, "corrupt archive"}},
		{"corrupt deflate", rawZip(t, &zip.FileHeader{Name: "x.npy", Method: zip.Deflate,
			CompressedSize64: 64, UncompressedSize64: 200}, bytes.Repeat([]byte{0xff}, 64)),
			"x", npz.ErrFormat, []string{`entry "x"`}},
		{"bad checksum", rawZip(t, &zip.FileHeader{Name: "x.npy", Method: zip.Store, CRC32: crc32.ChecksumIEEE(good) + 1,
			CompressedSize64: uint64(len(good)), UncompressedSize64: uint64(len(good))}, good),
			"x", zip.ErrChecksum, []string{`entry "x"`, "checksum"}},
		{"stored size lies", rawZip(t, &zip.FileHeader{Name: "x.npy", Method: zip.Store, CRC32: crc32.ChecksumIEEE(good),
			CompressedSize64: uint64(len(good)), UncompressedSize64: 1 << 30}, good),
			"x", npz.ErrFormat, []string{`entry "x"`, "corrupt archive"}},
		{"unknown method", rawZip(t, &zip.FileHeader{Name: "x.npy", Method: 99, CRC32: crc32.ChecksumIEEE(good),
			CompressedSize64: uint64(len(good)), UncompressedSize64: uint64(len(good))}, good),
			"x", zip.ErrAlgorithm, []string{`entry "x"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "d.npz")
			if tt.data != nil {
				writeFile(t, dir, "d.npz", tt.data)
			}
			f, err := npz.Open(path)
			if tt.key != "" {
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				_, err = f.Read(tt.key)
			} else if err == nil {
				f.Close()
			}
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			t.Log(msg)
			var e *npz.Error
			if !errors.As(err, &e) || e.Path != path || e.Entry != tt.key {
				t.Errorf("error %#v, want an *npz.Error with path %q and entry %q", err, path, tt.key)
			}
			if !errors.Is(err, tt.is) || !strings.HasPrefix(msg, "npz: "+path+": ") {
				t.Errorf("error %q, want one matching %v that starts with the path", msg, tt.is)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			if tt.key != "" && tt.is != fs.ErrNotExist {
				if _, err := npz.ReadFile(path); err == nil {
					t.Errorf("ReadFile: no error")
				}
			}
		})
	}
	if _, err := npz.Open(t.TempDir()); !errors.Is(err, npz.ErrFormat) {
		t.Errorf("Open(folder): %v, want ErrFormat", err)
	}
}

// TestReadFileZeros checks that the deflate-ratio sanity check accepts
// data that compress as well as deflate allows.
func TestReadFileZeros(t *testing.T) {
	const n, m = 1000, 1000
	x := npyBytes("<f8", false, []int{n, m}, make([]byte, 8*n*m))
	path := writeFile(t, t.TempDir(), "zeros.npz", zipBytes(t, true, entry{"x.npy", x}))
	got, err := npz.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	a := got["x"]
	if !slices.Equal(a.Shape, []int{n, m}) || len(a.Data) != n*m || slices.ContainsFunc(a.Data, func(v float64) bool { return v != 0 }) {
		t.Errorf("x has shape %v and %d values, want [%d %d] zeros", a.Shape, len(a.Data), n, m)
	}
}
