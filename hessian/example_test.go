package hessian_test

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/lsweep/lsweep/hessian"
)

// The Hessian of the quadratic ½xᵀAx − bᵀx is A, whatever b: finite differences of its gradient recover A's
// extreme eigenvalues.
func ExampleLanczos() {
	a := hessian.NewDense(3, []float64{
		2, 1, 0,
		1, 2, 0,
		0, 0, -0.5,
	}) // eigenvalues 3, 1 and -0.5
	b := []float64{1, 2, 3}
	grad := func(ctx context.Context, dst, x []float64) error {
		if err := a.Apply(ctx, dst, x); err != nil {
			return err
		}
		for i := range dst {
			dst[i] -= b[i]
		}
		return nil
	}
	fd := &hessian.FiniteDifference{Grad: grad, X: []float64{0.3, -1, 2}}
	res, err := hessian.Lanczos(context.Background(), fd, rand.New(rand.NewPCG(1, 2)), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("min %.6f, max %.6f, |min/max| %.4f, converged %v\n", res.Min, res.Max, res.Ratio(), res.Converged)
	// Output:
	// min -0.500000, max 3.000000, |min/max| 0.1667, converged true
}
