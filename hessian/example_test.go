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

// The three largest and the two smallest eigenvalues of a matrix with a repeated eigenvalue, which Largest finds
// twice.
func ExampleLargest() {
	a := hessian.NewDense(5, []float64{
		4, 0, 0, 0, 0,
		0, 1, 2, 0, 0, // the block [[1, 2], [2, 1]] has eigenvalues 3 and -1
		0, 2, 1, 0, 0,
		0, 0, 0, 4, 0,
		0, 0, 0, 0, -2,
	})
	ctx := context.Background()
	top, err := hessian.Largest(ctx, a, 3, rand.New(rand.NewPCG(1, 2)), &hessian.EigenOptions{Tol: 1e-10})
	if err != nil {
		fmt.Println(err)
		return
	}
	bottom, err := hessian.Smallest(ctx, a, 2, rand.New(rand.NewPCG(1, 2)), &hessian.EigenOptions{Vectors: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("largest %.6f, converged %v\n", top.Values, top.Converged)
	v := bottom.Vectors[0]
	fmt.Printf("smallest %.6f, eigenvector of %.0f: component 5 %.6f\n", bottom.Values, bottom.Values[0], v[4])
	// Output:
	// largest [4.000000 4.000000 3.000000], converged true
	// smallest [-2.000000 -1.000000], eigenvector of -2: component 5 1.000000
}

// On a diagonal matrix every Rademacher probe gives the trace exactly: the standard error is 0, and the
// estimate stops after MinProbes probes.
func ExampleTrace() {
	d := hessian.NewDense(3, []float64{
		1, 0, 0,
		0, -2, 0,
		0, 0, 5,
	})
	res, err := hessian.Trace(context.Background(), d, rand.New(rand.NewPCG(1, 2)), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("trace %g ± %g after %d probes\n", res.Trace, res.StdErr, res.Probes)
	// Output:
	// trace 4 ± 0 after 10 probes
}

// Stochastic Lanczos quadrature of a matrix with eigenvalues -1 (once), 0 (twice) and 3 (once): a Rademacher
// start vector sees each eigenvector equally on a diagonal matrix, so the nodes are the distinct eigenvalues and
// the weights their shares of the spectrum.
func ExampleSLQ() {
	d := hessian.NewDense(4, []float64{
		3, 0, 0, 0,
		0, 0, 0, 0,
		0, 0, -1, 0,
		0, 0, 0, 0,
	})
	dens, err := hessian.SLQ(context.Background(), d, rand.New(rand.NewPCG(1, 2)), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	q := dens.Runs[0]
	fmt.Printf("nodes %.4f\nweights %.4f\n%d products\n", q.Nodes, q.Weights, dens.Products)
	m1, _ := dens.Moment(1)
	fmt.Printf("mean eigenvalue %.4f\n", m1)
	// Output:
	// nodes [-1.0000 0.0000 3.0000]
	// weights [0.2500 0.5000 0.2500]
	// 3 products
	// mean eigenvalue 0.5000
}
