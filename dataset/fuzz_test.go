package dataset_test

import (
	"path/filepath"
	"testing"

	"github.com/lsweep/lsweep/dataset"
)

// FuzzLoadNPY feeds arbitrary bytes as x.npy: Load must return an error or
// a consistent dataset, never panic or allocate beyond the file.
func FuzzLoadNPY(f *testing.F) {
	f.Add(npyBytes("<f4", false, []int{3, 2}, encode(le, "f4", seq(6, 1))))
	f.Add(npyBytes(">f2", true, []int{3, 2}, encode(be, "f2", seq(6, 1))))
	f.Add(npyBytes("|b1", false, []int{3}, []byte{0, 1, 2}))
	f.Add(npyRaw("{'descr': '<i8', 'fortran_order': True, 'shape': (3, 1, 1), }", make([]byte, 24)))
	y := npyBytes("<i8", false, []int{3}, encode(le, "i8", seq(3, 1)))
	f.Fuzz(func(t *testing.T, x []byte) {
		dir := t.TempDir()
		writeFile(t, dir, "x.npy", x)
		writeFile(t, dir, "y.npy", y)
		d, err := dataset.Load(dir, dataset.Options{Samples: 2})
		if err != nil {
			return
		}
		if d.N() != 2 || len(d.X) != d.N()*d.SampleLen() {
			t.Errorf("XShape %v with %d values", d.XShape, len(d.X))
		}
		d.CountNaN()
		d.BatchFloat32(nil, 0, d.N())
		d.CheckInput("in", []int64{-1, 2})
		d.CheckLabels(3)
		if filepath.Base(d.Path) != filepath.Base(dir) {
			t.Errorf("Path = %q", d.Path)
		}
	})
}
