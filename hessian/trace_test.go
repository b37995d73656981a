package hessian_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lsweep/lsweep/hessian"
)

// sumOffDiag2 returns Σ_{i≠j} a_ij² of a row-major n×n matrix: half the variance of a Rademacher sample zᵀAz.
func sumOffDiag2(a []float64, n int) float64 {
	var s float64
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			if i != j {
				s += a[i*n+j] * a[i*n+j]
			}
		}
	}
	return s
}

// Dense operators with known traces: the estimate is within 3 standard errors of the trace, and the samples'
// variance is near its known value 2 Σ_{i≠j} H_ij².
func TestTraceDense(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(17, 18))
	for _, c := range []struct {
		name string
		eig  []float64
	}{
		{"positive-definite", linspace(1, 10, 60)},
		{"indefinite", linspace(-30, 50, 80)},
		{"hessian-like", append(linspace(-0.1, 0.1, 95), 40, 25, 12, -3, -1.5)},
		{"repeated", append(make([]float64, 40), 5, 5, 5, -2, -2)},
		{"negative-definite", linspace(-9, -1, 30)},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := len(c.eig)
			a := rotated(c.eig, rng)
			var exact float64
			for _, v := range c.eig {
				exact += v
			}
			res, err := hessian.Trace(ctx, hessian.NewDense(n, a), rng, &hessian.TraceOptions{Probes: 400, Tol: -1})
			if err != nil {
				t.Fatal(err)
			}
			var mean, v float64
			for _, s := range res.Samples {
				mean += s
			}
			mean /= float64(len(res.Samples))
			for _, s := range res.Samples {
				v += (s - mean) * (s - mean)
			}
			v /= float64(len(res.Samples) - 1)
			wantVar := 2 * sumOffDiag2(a, n)
			t.Logf("trace %.6g ± %.3g (exact %.6g, %.2f SE off); sample variance %.4g, expected %.4g", res.Trace,
				res.StdErr, exact, math.Abs(res.Trace-exact)/res.StdErr, v, wantVar)
			if res.Probes != 400 || len(res.Samples) != 400 {
				t.Errorf("%d probes, %d samples, want 400", res.Probes, len(res.Samples))
			}
			if math.Abs(res.Trace-mean) > 1e-12*math.Abs(mean)+1e-12 ||
				math.Abs(res.StdErr-math.Sqrt(v/400)) > 1e-9*res.StdErr {
				t.Errorf("trace %g ± %g, but the samples give %g ± %g", res.Trace, res.StdErr, mean, math.Sqrt(v/400))
			}
			if math.Abs(res.Trace-exact) > 3*res.StdErr {
				t.Errorf("trace %g ± %g, exact %g", res.Trace, res.StdErr, exact)
			}
			// The sample variance of 400 samples is within about 15% of the variance (its relative standard
			// error is about sqrt(2/399) for near-normal samples); allow 30%.
			if math.Abs(v-wantVar) > 0.3*wantVar {
				t.Errorf("sample variance %g, expected %g", v, wantVar)
			}
		})
	}
}

// On a diagonal operator every Rademacher sample is the trace: zᵀDz = Σ dᵢzᵢ² and zᵢ² = 1. So the estimate is
// exact with any number of probes, the standard error is 0, and the early stop comes at MinProbes.
func TestTraceDiagonalExact(t *testing.T) {
	d := append(linspace(-3, 7, 999), 1e3)
	var exact float64
	for _, v := range d {
		exact += v
	}
	res, err := hessian.Trace(context.Background(), diagonal(d), rand.New(rand.NewPCG(1, 1)), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range res.Samples {
		if s != res.Samples[0] {
			t.Fatalf("samples differ: %v", res.Samples)
		}
	}
	if math.Abs(res.Trace-exact) > 1e-12*math.Abs(exact) || res.StdErr != 0 || res.Probes != hessian.DefaultMinProbes {
		t.Errorf("%+v, want trace %g ± 0 after %d probes", res, exact, hessian.DefaultMinProbes)
	}
}

// Early stopping: with a tolerance the estimate stops as soon as the relative standard error is below it (not
// before MinProbes), and runs to Probes with a negative one.
func TestTraceEarlyStop(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(3, 3))
	op := hessian.NewDense(50, rotated(linspace(1, 10, 50), rng))
	for _, c := range []struct {
		name     string
		opts     hessian.TraceOptions
		min, max int
		early    bool
	}{
		{"tol-5%", hessian.TraceOptions{Tol: 0.05}, hessian.DefaultMinProbes, 99, true},
		{"tol-5%-min-30", hessian.TraceOptions{Tol: 0.05, MinProbes: 30}, 30, 30, true},
		{"never", hessian.TraceOptions{Tol: -1, Probes: 37}, 37, 37, false},
		{"tiny-tol", hessian.TraceOptions{Tol: 1e-9, Probes: 25}, 25, 25, false},
		{"min-above-probes", hessian.TraceOptions{Tol: 0.5, Probes: 4, MinProbes: 10}, 4, 4, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := hessian.Trace(ctx, op, rand.New(rand.NewPCG(9, 9)), &c.opts)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d probes: %.5g ± %.3g (%.2g relative)", res.Probes, res.Trace, res.StdErr,
				res.StdErr/res.Trace)
			if res.Probes < c.min || res.Probes > c.max || len(res.Samples) != res.Probes {
				t.Errorf("%d probes, want %d..%d", res.Probes, c.min, c.max)
			}
			tol := c.opts.Tol
			if c.early && !(res.StdErr <= tol*math.Abs(res.Trace)) {
				t.Errorf("stopped with relative standard error %g > %g", res.StdErr/res.Trace, tol)
			}
			// It stopped at the first chance: one probe fewer was not enough.
			if c.early && res.Probes > max(c.min, 2) {
				prev := res.Samples[:res.Probes-1]
				var mean, v float64
				for _, s := range prev {
					mean += s
				}
				mean /= float64(len(prev))
				for _, s := range prev {
					v += (s - mean) * (s - mean)
				}
				se := math.Sqrt(v / float64(len(prev)-1) / float64(len(prev)))
				if se <= tol*math.Abs(mean) {
					t.Errorf("could have stopped after %d probes", len(prev))
				}
			}
		})
	}
}

func TestTraceEdges(t *testing.T) {
	ctx := context.Background()
	if _, err := hessian.Trace(ctx, diagonal(nil), nil, nil); !errors.Is(err, hessian.ErrEmpty) {
		t.Errorf("empty: %v", err)
	}
	res, err := hessian.Trace(ctx, diagonal{2, 3}, nil, &hessian.TraceOptions{Probes: 1})
	if err != nil || res.Trace != 5 || !math.IsNaN(res.StdErr) || res.Probes != 1 {
		t.Errorf("one probe: %+v, %v", res, err)
	}
	// The zero operator: 0 ± 0, stopping at MinProbes.
	res, err = hessian.Trace(ctx, diagonal(make([]float64, 7)), nil, nil)
	if err != nil || res.Trace != 0 || res.StdErr != 0 || res.Probes != hessian.DefaultMinProbes {
		t.Errorf("zero operator: %+v, %v", res, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	op := &countingOp{Operator: diagonal(linspace(1, 2, 10)), at: 3, cancel: cancel}
	res, err = hessian.Trace(cctx, op, nil, &hessian.TraceOptions{Tol: -1})
	if !errors.Is(err, context.Canceled) || res.Probes != 3 || math.Abs(res.Trace-15) > 1e-12 {
		t.Errorf("cancelled: %+v, %v", res, err)
	}
	boom := errors.New("boom")
	op = &countingOp{Operator: diagonal(linspace(1, 2, 10)), at: 2, err: boom}
	if res, err := hessian.Trace(ctx, op, nil, nil); !errors.Is(err, boom) || res.Probes != 1 {
		t.Errorf("failing product: %+v, %v", res, err)
	}
	op = &countingOp{Operator: diagonal(linspace(1, 2, 10)), at: 2, poison: true}
	if _, err := hessian.Trace(ctx, op, nil, nil); !errors.Is(err, hessian.ErrNotFinite) {
		t.Errorf("NaN product: %v", err)
	}
}
