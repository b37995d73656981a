package normalize_test

import (
	"fmt"
	"log"
	"math"
	"math/rand/v2"

	"github.com/lsweep/lsweep/normalize"
)

// This example makes a filter-normalised random direction for a model with
// one 2x3 linear weight laid out [in, out], as TensorFlow exports it (the
// filters are its columns), and a bias, which the default Ignore biasbn
// leaves out. Each filter of the direction has its weight's norm.
func ExampleRandom() {
	params := []normalize.Param{
		{Name: "dense/kernel", Shape: []int64{2, 3}, Kind: normalize.Weight, FilterAxis: 1, Values: []float32{3, 0, 1, 4, 2, 0}},
		{Name: "dense/bias", Shape: []int64{3}, Kind: normalize.Trainable, Values: []float32{0.1, 0.2, 0.3}},
	}
	d, err := normalize.Random(params, rand.New(rand.NewPCG(1, 2)), normalize.Options{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.Names)
	v := d.Values["dense/kernel"]
	for j := range 3 {
		fmt.Printf("filter %d: norm %.6f\n", j, math.Hypot(float64(v[j]), float64(v[3+j])))
	}
	// Output:
	// [dense/kernel]
	// filter 0: norm 5.000000
	// filter 1: norm 2.000000
	// filter 2: norm 1.000000
}
