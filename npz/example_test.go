package npz_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/lsweep/lsweep/npz"
)

// This example writes a loss surface and its axes as numpy.savez would,
// for numpy.load(path)["loss"], and reads them back.
func ExampleWriteFile() {
	dir, err := os.MkdirTemp("", "npz")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "surface.npz")

	err = npz.WriteFile(path, []npz.Entry{
		{Name: "x", Array: &npz.Array{Shape: []int{3}, Data: []float64{-1, 0, 1}}},
		{Name: "y", Array: &npz.Array{Shape: []int{2}, Data: []float64{-1, 1}}},
		// Rows are y, columns are x.
		{Name: "loss", Array: &npz.Array{Shape: []int{2, 3}, DType: "float32", Data: []float64{2.5, 1.25, 2.1, 2.75, 1.5, 2.2}}},
		{Name: "steps", Array: &npz.Array{DType: "int64", Data: []float64{300}}},
	})
	if err != nil {
		log.Fatal(err)
	}

	f, err := npz.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	fmt.Println(f.Keys())
	loss, err := f.Read("loss")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(loss.Shape, loss.DType, loss.Data)
	steps, err := f.Read("steps")
	if err != nil {
		log.Fatal(err)
	}
	n, err := steps.Scalar()
	fmt.Println(n, err)
	// Output:
	// [x y loss steps]
	// [2 3] float32 [2.5 1.25 2.0999999046325684 2.75 1.5 2.200000047683716]
	// 300 <nil>
}
