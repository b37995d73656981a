package landscape_test

import (
	"context"
	"testing"
	"time"

	"github.com/lsweep/lsweep/internal/testenv"
	"github.com/lsweep/lsweep/landscape"
)

// referencePointSeconds is what the reference implementation takes for one
// convexity point of its ResNet-20 on 256 samples: 42 exact Hessian-vector
// products of about 2.6 s each (measured with it on a machine of this
// kind, not in the same run).
const referencePointSeconds = 110

// BenchmarkConvexityPoint times one convexity point (Hessian: lambda_min and
// lambda_max by Lanczos on exact products, tolerance 1e-3, the self-check
// included) of the CIFAR-shaped ResNet-20 on the 256 samples of its PyTorch
// references, and, in the same run, one plain evaluation of the same model
// and data. It reports the seconds of a point ("s/point"), its products
// ("hvps/point"), a product's cost in evaluations ("hvp/inference"), and
// referencePointSeconds over s/point ("x-reference").
//
//	go test -run '^$' -bench ConvexityPoint -benchtime 1x ./landscape
func BenchmarkConvexityPoint(b *testing.B) {
	testenv.RequireRuntime(b)
	l, err := landscape.Open(landscape.Config{Model: "../fixtures/testdata/cifar/resnet20.onnx", Data: firstOf(b, "../fixtures/testdata/cifar/hess_data.npz", "", 256)})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	if _, err := l.Engine().Evaluate(ctx, nil); err != nil {
		b.Fatal(err)
	}
	var tPoint, tInf time.Duration
	products := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		e, err := l.Hessian(ctx, 0, 0, landscape.HessianOptions{Tol: 1e-3})
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := l.Engine().Evaluate(ctx, nil); err != nil {
			b.Fatal(err)
		}
		tPoint += t1.Sub(t0)
		tInf += time.Since(t1)
		products += e.Products
		if i == 0 {
			b.Logf("lambda_max %.6g, lambda_min %.6g, %d products, %.1f s", e.Max, e.Min, e.Products, e.Seconds)
		}
	}
	s := tPoint.Seconds() / float64(b.N)
	b.ReportMetric(s, "s/point")
	b.ReportMetric(float64(products)/float64(b.N), "hvps/point")
	b.ReportMetric(tPoint.Seconds()/float64(products)/(tInf.Seconds()/float64(b.N)), "hvp/inference")
	b.ReportMetric(referencePointSeconds/s, "x-reference")
}
