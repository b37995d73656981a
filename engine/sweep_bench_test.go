package engine_test

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/lsweep/lsweep/engine"
	"github.com/lsweep/lsweep/internal/testenv"
	"github.com/lsweep/lsweep/landscape"
	"github.com/lsweep/lsweep/npz"
	"github.com/lsweep/lsweep/onnx"
	"github.com/lsweep/lsweep/sweep"
)

// cifarData writes n deterministic random CIFAR-shaped samples.
func cifarData(tb testing.TB, n int) string {
	r := rand.New(rand.NewPCG(3, 4))
	x := &npz.Array{Shape: []int{n, 3, 32, 32}, DType: "float32", Data: make([]float64, n*3*32*32)}
	for i := range x.Data {
		x.Data[i] = r.NormFloat64()
	}
	y := &npz.Array{Shape: []int{n}, DType: "int64", Data: make([]float64, n)}
	for i := range y.Data {
		y.Data[i] = float64(r.IntN(10))
	}
	path := filepath.Join(tb.TempDir(), "cifar.npz")
	if err := npz.WriteFile(path, []npz.Entry{{Name: "x", Array: x}, {Name: "y", Array: y}}); err != nil {
		tb.Fatal(err)
	}
	return path
}

// BenchmarkSweep runs a whole 2-D sweep (directions, coarse-to-fine order,
// the store and its flushes included) and, in the same run, plain ONNX
// Runtime inference of the untouched model once per grid point. It reports
// the sweep's points x samples per second over plain inference's samples
// per second as "sweep/inference"; the target is >= 0.90.
func BenchmarkSweep(b *testing.B) {
	cases := []struct {
		name, model string
		data        func(testing.TB) string
		batch, side int
	}{
		{"digits-resnet", "../fixtures/testdata/digits/resnet_skip.onnx", func(testing.TB) string { return "../fixtures/testdata/digits/data.npz" }, 256, 7},
		{"cifar-resnet20", "../fixtures/testdata/cifar/resnet20.onnx", func(tb testing.TB) string { return cifarData(tb, 1024) }, 128, 3},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			testenv.RequireRuntime(b)
			data := c.data(b)
			l, err := landscape.Open(landscape.Config{Model: c.model, Data: data, TwoD: true, Engine: engine.Options{BatchSize: c.batch}})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			m, err := onnx.Load(c.model)
			if err != nil {
				b.Fatal(err)
			}
			plain := engine.PlainInference(b, l.Engine(), m)
			plain()
			g := sweep.Grid{X: sweep.Axis{Min: -1, Max: 1, N: c.side}, Y: sweep.Axis{Min: -1, Max: 1, N: c.side}}
			var tPlain, tSweep time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				for k := 0; k < g.Len(); k++ {
					plain()
				}
				t1 := time.Now()
				store, err := sweep.Open(b.TempDir(), sweep.Manifest{Identity: l.Identity(), Grid: g, Channels: landscape.Channels}, sweep.Shard{Index: 0, Count: 1}, false)
				if err != nil {
					b.Fatal(err)
				}
				if err := sweep.Run(context.Background(), store, g, sweep.CoarseToFine(g), l, nil); err != nil {
					b.Fatal(err)
				}
				tPlain += t1.Sub(t0)
				tSweep += time.Since(t1)
			}
			n := l.Engine().Samples()
			b.ReportMetric(float64(tPlain)/float64(tSweep), "sweep/inference")
			b.ReportMetric(float64(g.Len()*n*b.N)/tSweep.Seconds(), "point-samples/s")
			b.ReportMetric(float64(g.Len()*n*b.N)/tPlain.Seconds(), "inference-samples/s")
		})
	}
}
