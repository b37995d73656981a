package engine

import (
	"testing"

	"github.com/lsweep/lsweep/onnx"
)

// PlainInference returns a function that runs the untouched model m over
// e's batches with one session made beforehand and ONNX Runtime's default
// threading: the baseline of the benchmarks.
func PlainInference(tb testing.TB, e *Evaluator, m *onnx.Model) func() {
	p := newPlainInference(tb, e, m)
	return func() { p.run(tb) }
}

// SetLargeModelBytes sets the weight size from which a model is treated as
// large (one session, weights in a file of Options.Scratch) until the
// test ends.
func SetLargeModelBytes(tb testing.TB, n int64) {
	old := largeModelBytes
	largeModelBytes = n
	tb.Cleanup(func() { largeModelBytes = old })
}
