package dataset_test

import (
	"path/filepath"
	"testing"

	"github.com/lsweep/lsweep/dataset"
)

// FuzzLoadNPY feeds arbitrary bytes as x.npy: Load must return an error or
// a consistent dataset, never panic or allocate beyond the file.
func FuzzLoadNPY(f *testing.F) {
	f.Add(npy(f, arr("float32", []int{3, 2}, seq(6, 1))))
	f.Add(npy(f, arr("float16", []int{3, 2}, seq(6, 1))))
	f.Add(npy(f, arr("bool", []int{3}, []float64{0, 1, 1})))
	f.Add(npy(f, arr("int64", []int{3, 1, 1}, seq(3, 1))))
	y := npy(f, arr("int64", []int{3}, seq(3, 1)))
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
