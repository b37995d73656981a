package npz_test

import (
	"bytes"
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
