package engine

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/lsweep/lsweep/internal/mmapfile"
	"github.com/lsweep/lsweep/onnx"
)

// Move is the point th + Coefs[0]*Dirs[0] + Coefs[1]*Dirs[1] + ... of
// weight space: the model's own values th plus a combination of
// directions, each holding float32 values for the tensors it moves (a
// tensor no direction holds keeps its value). It is how a landscape names
// its points: the Evaluator writes each value straight into the model
// bytes, so a point costs no copy of the weights, which for a model of a
// hundred million weights is the difference between fitting in memory and
// not.
type Move struct {
	Coefs []float64
	Dirs  []map[string][]float32
	// Done, if not nil, is called with each tensor's name once its values
	// are in the model bytes: a caller whose directions are memory-mapped
	// lets the system drop their pages there, so that they are not all in
	// memory at once, nor with the model's sessions. Tensors are written
	// concurrently: Done may be called from several goroutines at once.
	Done func(name string)
}

// EvaluateMove is Evaluate at the point m names. Each value is computed in
// float64 as th + c0*d0 + c1*d1 + ... (terms in the order of Dirs, those of
// the directions that do not hold the tensor left out) and rounded once to
// the tensor's type: the same bits as Evaluate given those float64 values.
func (e *Evaluator) EvaluateMove(ctx context.Context, m Move) (Result, error) {
	if err := e.setMove(m); err != nil {
		return Result{}, err
	}
	return e.evaluate(ctx, e.data, e.batches)
}

// setMove patches the model bytes to the point m and marks what it set, so
// that the next Evaluate restores it.
func (e *Evaluator) setMove(m Move) error {
	names, err := e.moveNames(m)
	if err != nil {
		return err
	}
	if err := e.restore(func(name string) bool { _, found := slices.BinarySearch(names, name); return found }); err != nil {
		return err
	}
	for _, name := range names {
		e.dirty[name] = true
	}
	// Tensors are written by one goroutine per thread: for a model of a
	// hundred million weights the writes take seconds, and each tensor's
	// bytes are its own (a page two tensors share is only released, which
	// loses nothing of a shared or read-only mapping).
	var (
		next    atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		first   error
	)
	for w := 0; w < min(e.threads, len(names)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(names) {
					return
				}
				name := names[i]
				terms := m.terms(name)
				// A large model's values are mapped: they fault in at
				// once rather than page by page. A small model's are in
				// memory, where the calls would only cost time.
				if e.large {
					mmapfile.PopulateValues(e.base[name].f32)
					for _, t := range terms {
						mmapfile.PopulateValues(t.d)
					}
				}
				if err := e.patcher.SetFunc(name, e.base[name].plus(terms)); err != nil {
					errOnce.Do(func() { first = err })
					return
				}
				e.patcher.Release(name)
				e.external.Release(name)
				if m.Done != nil {
					m.Done(name)
				}
			}
		}()
	}
	wg.Wait()
	return first
}

// moveNames returns the tensors m moves, sorted, once each checked against
// the model (a tensor it has, of the direction's length) before anything is
// written.
func (e *Evaluator) moveNames(m Move) ([]string, error) {
	if len(m.Coefs) != len(m.Dirs) {
		return nil, fmt.Errorf("engine: a move of %d coefficients and %d directions", len(m.Coefs), len(m.Dirs))
	}
	var names []string
	seen := map[string]bool{}
	for _, d := range m.Dirs {
		for name, v := range d {
			b, ok := e.base[name]
			if !ok {
				return nil, fmt.Errorf("engine: %s has no float tensor %q to move", e.model.Path, name)
			}
			if len(v) != b.len() {
				return nil, fmt.Errorf("engine: tensor %q has %d elements, its direction %d", name, b.len(), len(v))
			}
			if !seen[name] {
				seen[name] = true
				names = append(names, name)
			}
		}
	}
	slices.Sort(names)
	return names, nil
}

// terms returns the c*d of m that move the named tensor, in the order of
// Dirs.
func (m Move) terms(name string) []term {
	var ts []term
	for k, d := range m.Dirs {
		if v, ok := d[name]; ok {
			ts = append(ts, term{m.Coefs[k], v})
		}
	}
	return ts
}

// term is one c*d of a Move, for one tensor.
type term struct {
	c float64
	d []float32
}

// baseValues is a settable tensor's untouched values: in float32, which
// holds float32, float16 and bfloat16 values exactly in half the memory of
// float64, or in float64 for a double tensor.
type baseValues struct {
	f32 []float32
	f64 []float64
}

func newBaseValues(v []float64, dt onnx.DataType) baseValues {
	if dt == onnx.Double {
		return baseValues{f64: v}
	}
	f := make([]float32, len(v))
	for i, x := range v {
		f[i] = float32(x)
	}
	return baseValues{f32: f}
}

func (b baseValues) len() int { return max(len(b.f32), len(b.f64)) }

// float64s returns the values in a new float64 slice.
func (b baseValues) float64s() []float64 {
	if b.f64 != nil {
		return append([]float64(nil), b.f64...)
	}
	out := make([]float64, len(b.f32))
	b.fill(0, out)
	return out
}

// fill sets dst to the values from element lo on (onnx.Patcher.SetFunc).
func (b baseValues) fill(lo int, dst []float64) {
	if b.f64 != nil {
		copy(dst, b.f64[lo:])
		return
	}
	for i, x := range b.f32[lo : lo+len(dst)] {
		dst[i] = float64(x)
	}
}

// plus returns the fill function of the values plus the terms.
func (b baseValues) plus(terms []term) func(lo int, dst []float64) {
	if b.f32 != nil && len(terms) == 2 {
		// A 2-D landscape's point in one pass rather than three, the sums
		// in the same order: (th + c0*d0) + c1*d1.
		c0, c1 := terms[0].c, terms[1].c
		return func(lo int, dst []float64) {
			th, d0, d1 := b.f32[lo:lo+len(dst)], terms[0].d[lo:lo+len(dst)], terms[1].d[lo:lo+len(dst)]
			for i := range dst {
				// The conversions round each product: never fused into
				// a multiply-add, whatever the architecture.
				dst[i] = float64(th[i]) + float64(c0*float64(d0[i])) + float64(c1*float64(d1[i]))
			}
		}
	}
	return func(lo int, dst []float64) {
		b.fill(lo, dst)
		for _, t := range terms {
			for i, x := range t.d[lo : lo+len(dst)] {
				dst[i] += float64(t.c * float64(x))
			}
		}
	}
}

// MoveValues returns the values of every tensor m moves at the point m
// names, computed as EvaluateMove computes them (before the rounding to
// the tensor's type), for a caller that differentiates there.
func (e *Evaluator) MoveValues(m Move) (map[string][]float64, error) {
	names, err := e.moveNames(m)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]float64, len(names))
	for _, name := range names {
		b := e.base[name]
		x := make([]float64, b.len())
		b.plus(m.terms(name))(0, x)
		out[name] = x
	}
	return out, nil
}
