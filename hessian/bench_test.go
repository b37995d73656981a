package hessian_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/lsweep/lsweep/hessian"
)

func benchLanczos(b *testing.B, op hessian.Operator, opts *hessian.Options) {
	ctx := context.Background()
	b.ReportAllocs()
	var products int
	for i := 0; b.Loop(); i++ {
		res, err := hessian.Lanczos(ctx, op, rand.New(rand.NewPCG(uint64(i), 1)), opts)
		if err != nil {
			b.Fatal(err)
		}
		products += res.Products
	}
	b.ReportMetric(float64(products)/float64(b.N), "products/op")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(products), "ns/product")
}

// A diagonal operator of the size of a small CIFAR ResNet's weights: the cost of Lanczos itself (the basis, the
// full reorthogonalisation), since the products are almost free. Spectrum -1..100 evenly spaced, so that the
// default options run all 100 products.
func BenchmarkLanczosDiagonal300k(b *testing.B) {
	benchLanczos(b, diagonal(linspace(-1, 100, 300_000)), nil)
}

// The same with MaxIter 30: memory and time grow with the Krylov dimension.
func BenchmarkLanczosDiagonal300kMaxIter30(b *testing.B) {
	benchLanczos(b, diagonal(linspace(-1, 100, 300_000)), &hessian.Options{MaxIter: 30})
}

// A dense rotated matrix of order 1000 (spectrum -30..50), default options.
func BenchmarkLanczosDense1000(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 7))
	op := hessian.NewDense(1000, rotated(linspace(-30, 50, 1000), rng))
	benchLanczos(b, op, nil)
}
