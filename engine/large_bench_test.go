package engine_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lsweep/lsweep/dataset"
	"github.com/lsweep/lsweep/engine"
	"github.com/lsweep/lsweep/internal/testenv"
	"github.com/lsweep/lsweep/landscape"
	"github.com/lsweep/lsweep/loss"
	"github.com/lsweep/lsweep/onnx"
)

// BenchmarkLargeModel measures a model of the sizes people study, made by
// scripts/bench-gpt2.sh (a GPT-2-small-shaped language model, 124M
// parameters, its weights in an external-data file): one point of a 2-D
// landscape (directions in a file, memory-mapped, the point written into
// the model bytes, a fresh session) against plain inference of the
// untouched model, both in the same run. It reports seconds per point,
// point/inference (the target is <= 1.10) and the process's peak resident
// memory over the weights' bytes. The model and data come from
// $LSWEEP_LARGE_MODEL and $LSWEEP_LARGE_DATA ($LSWEEP_LARGE_SAMPLES
// samples, all if unset; $LSWEEP_LARGE_SHIFT=1 for labels that are the
// input ids); without them the benchmark is skipped.
func BenchmarkLargeModel(b *testing.B) {
	model, data := os.Getenv("LSWEEP_LARGE_MODEL"), os.Getenv("LSWEEP_LARGE_DATA")
	if model == "" || data == "" {
		b.Skip("LSWEEP_LARGE_MODEL and LSWEEP_LARGE_DATA not set (scripts/bench-gpt2.sh sets them)")
	}
	testenv.RequireRuntime(b)
	samples, _ := strconv.Atoi(os.Getenv("LSWEEP_LARGE_SAMPLES"))
	seq := loss.DefaultSequence
	seq.Shift = os.Getenv("LSWEEP_LARGE_SHIFT") == "1"
	dir := b.TempDir()
	l, err := landscape.Open(landscape.Config{Model: model, Data: data, TwoD: true, Scratch: dir,
		Dataset: dataset.Options{Samples: samples}, Engine: engine.Options{Sequence: &seq}})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	if err := l.SaveDirections(dir + "/directions.npz"); err != nil {
		b.Fatal(err)
	}
	m, err := onnx.Load(model)
	if err != nil {
		b.Fatal(err)
	}
	var weights int64
	for _, p := range m.Params() {
		if p.DType.IsFloat() {
			weights += p.Size() * int64(p.DType.Size())
		}
	}
	plain := engine.PlainInference(b, l.Engine(), m)
	var tPlain, tPoint time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		plain()
		t1 := time.Now()
		if _, err := l.At(context.Background(), 0.3, -0.2); err != nil {
			b.Fatal(err)
		}
		tPlain += t1.Sub(t0)
		tPoint += time.Since(t1)
	}
	b.ReportMetric(tPoint.Seconds()/float64(b.N), "s/point")
	b.ReportMetric(tPlain.Seconds()/float64(b.N), "s/inference")
	b.ReportMetric(float64(tPoint)/float64(tPlain), "point/inference")
	b.ReportMetric(float64(l.Engine().Samples()), "samples")
	if peak := peakRSS(); peak > 0 {
		// Includes the plain-inference session, which holds its own copy
		// of the weights: an upper bound of a sweep's own peak.
		b.ReportMetric(float64(peak)/float64(weights), "peak/weights")
	}
}

// peakRSS returns the process's peak resident memory in bytes (VmHWM), or
// 0 where /proc does not tell.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}
