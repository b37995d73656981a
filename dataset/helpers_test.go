package dataset_test

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/lsweep/lsweep/npz"
)

// arr returns an array of the dtype and shape holding vals in C order.
func arr(dtype string, shape []int, vals []float64) *npz.Array {
	return &npz.Array{Shape: shape, DType: dtype, Data: vals}
}

// npy returns a as npz.WriteNPY writes it.
func npy(t testing.TB, a *npz.Array) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := npz.WriteNPY(&b, a); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// npyAs returns npy(a) with the dictionary of its header replaced by dict:
// a file that package npz does not write, of another dtype, in Fortran
// order, or with a shape that its data do not fill. The data stay those of
// a, and the header its length, so dict must be shorter than a's.
func npyAs(t testing.TB, a *npz.Array, dict string) []byte {
	t.Helper()
	b := npy(t, a)
	h := b[10 : 10+binary.LittleEndian.Uint16(b[8:])] // format 1.0
	if len(dict) >= len(h) {
		t.Fatalf("header %q is longer than %d bytes", dict, len(h)-1)
	}
	copy(h, dict)
	for i := len(dict); i < len(h)-1; i++ {
		h[i] = ' '
	}
	return b
}

// writeXY writes x and y to dir/name with npz.WriteFile, as the entries
// "x" and "y", and returns the path.
func writeXY(t testing.TB, dir, name string, x, y *npz.Array) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := npz.WriteFile(p, []npz.Entry{{Name: "x", Array: x}, {Name: "y", Array: y}}); err != nil {
		t.Fatal(err)
	}
	return p
}

// file is a member of an archive that writeZip writes.
type file struct {
	name string
	data []byte
}

// writeZip writes the files to dir/name as a zip archive, with the method
// zip.Store or zip.Deflate, and returns the path.
func writeZip(t testing.TB, dir, name string, method uint16, files ...file) string {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, f := range files {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: method})
		if err == nil {
			_, err = w.Write(f.data)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return writeFile(t, dir, name, b.Bytes())
}

// writeFile writes data to dir/name, making the folders it needs, and
// returns the path.
func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// seq returns 0, 1, ..., n-1 scaled by k.
func seq(n int, k float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = float64(i) * k
	}
	return v
}

// sameFloats reports whether a and b are equal, NaN equal to NaN and the
// sign of zero significant.
func sameFloats(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool {
		return math.Float64bits(x) == math.Float64bits(y) || math.IsNaN(x) && math.IsNaN(y)
	})
}
