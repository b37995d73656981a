package pipeline_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/lsweep/lsweep/internal/testenv"
	"github.com/lsweep/lsweep/landscape"
	"github.com/lsweep/lsweep/pipeline"
	"github.com/lsweep/lsweep/sweep"
)

// BenchmarkTolerance runs, in the same run, the 51 x 51 surface of the
// digits ResNet with skips on every point and every sample, and with
// --tolerance 0.02 on the same directions, and reports each one's seconds
// ("s-full", "s-tolerance") and sample forwards, and the full run's over
// the estimated one's ("x-time", "x-forwards": the work saved).
//
//	go test -run '^$' -bench Tolerance -benchtime 1x ./pipeline
func BenchmarkTolerance(b *testing.B) {
	testenv.RequireRuntime(b)
	ctx := context.Background()
	grid := sweep.Grid{X: sweep.Axis{Min: -1, Max: 1, N: 51}, Y: sweep.Axis{Min: -1, Max: 1, N: 51}}
	var tFull, tEst time.Duration
	var fFull, fEst int64
	for b.Loop() {
		cfg := pipeline.Config{
			Landscape: landscape.Config{Model: filepath.Join(digits, "resnet_skip.onnx"), Data: digitsData},
			Grid:      grid, NoPlot: true, Out: filepath.Join(b.TempDir(), "full"),
		}
		start := time.Now()
		full, err := pipeline.Run(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		tFull += time.Since(start)
		cfg.Out = filepath.Join(b.TempDir(), "tolerance")
		cfg.Tolerance = &pipeline.Tolerance{Rel: 0.02, Abs: pipeline.DefaultToleranceAbs}
		start = time.Now()
		est, err := pipeline.Run(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		tEst += time.Since(start)
		fFull, fEst = full.SampleForwards, est.SampleForwards
	}
	b.ReportMetric(tFull.Seconds()/float64(b.N), "s-full")
	b.ReportMetric(tEst.Seconds()/float64(b.N), "s-tolerance")
	b.ReportMetric(float64(fFull), "forwards-full")
	b.ReportMetric(float64(fEst), "forwards-tolerance")
	b.ReportMetric(tFull.Seconds()/tEst.Seconds(), "x-time")
	b.ReportMetric(float64(fFull)/float64(fEst), "x-forwards")
}
