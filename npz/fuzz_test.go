package npz_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/lsweep/lsweep/npz"
)

// FuzzReadNPY feeds arbitrary bytes to ReadNPY: it must return an error or
// a consistent array, never panic or allocate beyond the data, whether the
// size is given or not; and an array it reads must survive WriteNPY and
// ReadNPY unchanged.
func FuzzReadNPY(f *testing.F) {
	f.Add(npyBytes("<f4", false, []int{3, 2}, encode(le, "f4", seq(6, 1))))
	f.Add(npyBytes(">f2", true, []int{3, 2}, encode(be, "f2", seq(6, 1))))
	f.Add(npyBytes("|b1", false, []int{3}, []byte{0, 1, 2}))
	f.Add(npyBytes(">u8", false, []int{}, encode(be, "u8", []float64{1 << 63})))
	f.Add(npyRaw("{'descr': '<i8', 'fortran_order': True, 'shape': (3, 1, 2), }", make([]byte, 48)))
	f.Add([]byte("\x93NUMPY\x02\x00\x10\x00\x00\x00{'descr': '<f4', }"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := npz.ReadNPY(bytes.NewReader(data), int64(len(data)))
		b, errb := npz.ReadNPY(bytes.NewReader(data), -1)
		if (err == nil) != (errb == nil) {
			t.Fatalf("with size %d: %v; with size -1: %v", len(data), err, errb)
		}
		if err != nil {
			return
		}
		if a.Len() != len(a.Data) || !slices.Equal(a.Shape, b.Shape) || a.DType != b.DType || !sameFloats(a.Data, b.Data) {
			t.Fatalf("with size %d: %v; with size -1: %v", len(data), a, b)
		}
		var w bytes.Buffer
		if err := npz.WriteNPY(&w, a); err != nil {
			t.Fatalf("WriteNPY(%v): %v", a, err)
		}
		c, err := npz.ReadNPY(&w, int64(w.Len()))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(a.Shape, c.Shape) || a.DType != c.DType || !sameFloats(a.Data, c.Data) {
			t.Fatalf("read %v, written and read back %v", a, c)
		}
	})
}

// FuzzReadNPZ feeds arbitrary bytes as an .npz archive: ReadFile, Keys,
// Info and Read must return errors or arrays, never panic, hang or inflate
// beyond what the entries' sizes allow.
func FuzzReadNPZ(f *testing.F) {
	for _, p := range []string{"testdata/numpy.npz", "testdata/compressed.npz", "testdata/refused.npz"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	path := filepath.Join(f.TempDir(), "seed.npz")
	if err := npz.WriteFile(path, []npz.Entry{{Name: "x/w", Array: &npz.Array{DType: "float32", Shape: []int{2, 2}, Data: seq(4, 1)}}}); err == nil {
		if b, err := os.ReadFile(path); err == nil {
			f.Add(b)
		}
	}
	// One file per worker process, rewritten for each input: a folder per
	// input would cost more than reading it.
	p := filepath.Join(f.TempDir(), "fuzz.npz")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := npz.ReadFile(p)
		if err == nil {
			for k, a := range m {
				if a.Len() != len(a.Data) {
					t.Fatalf("%s: shape %v with %d values", k, a.Shape, len(a.Data))
				}
			}
		}
		z, err := npz.Open(p)
		if err != nil {
			return
		}
		defer z.Close()
		for _, k := range z.Keys() {
			shape, _, ierr := z.Info(k)
			a, rerr := z.Read(k)
			if rerr == nil && (ierr != nil || !slices.Equal(shape, a.Shape)) {
				t.Fatalf("%s: Info gives %v, %v; Read gives %v", k, shape, ierr, a.Shape)
			}
		}
	})
}
