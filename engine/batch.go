package engine

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/lsweep/lsweep/internal/half"
	ort "github.com/yalue/onnxruntime_go"

	"github.com/lsweep/lsweep/dataset"
	"github.com/lsweep/lsweep/loss"
	"github.com/lsweep/lsweep/onnx"
)

// batch is samples [lo, hi) of the dataset as input tensors of rows
// samples, one per model input (rows > hi-lo pads a fixed batch by
// repeating the last sample), and for the Tokens head the label each
// position is scored against (loss.Sequence.Target; 0 where none), as the
// token scorer takes them.
type batch struct {
	lo, hi, rows int
	tensors      []*ort.CustomDataTensor
	targets      *ort.Tensor[int64]
}

// values returns the batch's tensors as ONNX Runtime inputs.
func (b batch) values() []ort.Value {
	vs := make([]ort.Value, len(b.tensors))
	for i, t := range b.tensors {
		vs[i] = t
	}
	return vs
}

func (b batch) destroy() {
	for _, t := range b.tensors {
		t.Destroy()
	}
	if b.targets != nil {
		b.targets.Destroy()
	}
}

// newBatch returns samples [lo, hi) of d as a batch of rows samples (rows
// is the model's fixed batch if it has one larger than 1).
func (e *Evaluator) newBatch(d *dataset.Dataset, lo, hi int) (batch, error) {
	b := batch{lo: lo, hi: hi, rows: hi - lo}
	if fixed := int(e.input.Dims()[0]); fixed > 1 {
		b.rows = fixed
	}
	ts, err := e.inputTensors(d, b.lo, b.hi, b.rows)
	if err != nil {
		return b, fmt.Errorf("engine: %s: input tensor for samples %d-%d: %w", e.model.Path, b.lo, b.hi, err)
	}
	b.tensors = ts
	if e.head == loss.Tokens {
		labels := d.Y[lo*e.steps : hi*e.steps]
		targets := make([]int64, b.rows*e.steps)
		for i := range labels {
			if y, ok := e.seq.Target(labels, e.steps, i); ok {
				targets[i] = int64(y)
			}
		}
		if b.targets, err = ort.NewTensor(ort.NewShape(int64(b.rows), int64(e.steps)), targets); err != nil {
			b.destroy()
			return b, fmt.Errorf("engine: %s: label tensor for samples %d-%d: %w", e.model.Path, b.lo, b.hi, err)
		}
	}
	return b, nil
}

// inputTensors returns samples [lo, hi) of d as one tensor per model input,
// with rows samples each.
func (e *Evaluator) inputTensors(d *dataset.Dataset, lo, hi, rows int) ([]*ort.CustomDataTensor, error) {
	var ts []*ort.CustomDataTensor
	for _, in := range e.inputs {
		t, err := inputTensor(in.ElemType, d.Input(in.Name), lo, hi, rows)
		if err != nil {
			for _, t := range ts {
				t.Destroy()
			}
			return nil, fmt.Errorf("input %q: %w", in.Name, err)
		}
		ts = append(ts, t)
	}
	return ts, nil
}

// shareBatches is the number of batches a small dataset is cut into at
// least.
const shareBatches = 8

// maxFixedBatch is the largest fixed batch accepted when it exceeds the
// number of samples (which it is then padded to).
const maxFixedBatch = 4096

// chooseBatching settles the batch size. A model exported with a fixed batch
// of 1 is rewritten to take any batch, and the rewrite is checked on real
// samples; if the graph does not allow it the model runs one sample at a
// time.
func (e *Evaluator) chooseBatching(m *onnx.Model, opts Options) error {
	e.model = m
	size := opts.BatchSize
	if size <= 0 {
		size = DefaultBatchSize
		if e.cols > 0 && size*e.cols > MaxBatchOutput {
			size = max(1, MaxBatchOutput/e.cols)
			e.notes = append(e.notes, fmt.Sprintf("output %q holds %d values per sample: batches of %d samples (--batch-size to override)", e.output.Name, e.cols, size))
		}
	}
	fixed := int(e.input.Dims()[0])
	switch {
	case fixed < 0:
		e.batch = size
	case fixed == 1 && e.data.N() > 1:
		e.batch = 1
		dyn, ok := m.WithDynamicBatch()
		if !ok {
			e.notes = append(e.notes, "model has a fixed batch of 1: evaluating one sample per run")
			break
		}
		if err := e.checkDynamic(m, dyn); err != nil {
			e.notes = append(e.notes, fmt.Sprintf("model has a fixed batch of 1 and does not run with a larger one (%v): evaluating one sample per run", err))
			break
		}
		e.model, e.batch = dyn, size
		e.notes = append(e.notes, "model has a fixed batch of 1: rewritten to a dynamic batch (checked against single-sample runs)")
	default:
		// A fixed batch larger than the data is padded: the padding must
		// stay within what the data would take, or a declared batch of 2^40
		// is an allocation that ends the process.
		if per := e.sampleLen(); fixed > max(e.data.N(), maxFixedBatch) || per > 0 && fixed > (1<<31)/per {
			return fmt.Errorf("engine: %s: input %q has a fixed batch of %d, far more than the %d samples to evaluate; export the model with a dynamic batch", m.Path, e.input.Name, fixed, e.data.N())
		}
		e.batch = fixed
		return nil
	}
	// Share the samples out so that sessions have work even on small data:
	// at least shareBatches batches. The count is fixed, not the number of
	// sessions, so that the batches, and so the bits of every sum, are the
	// same whatever the threads, sessions, shards or ranks.
	if per := (e.data.N() + shareBatches - 1) / shareBatches; e.batch > per {
		e.batch = max(1, per)
	}
	return nil
}

// makeBatches converts the dataset into input tensors, one per batch.
func (e *Evaluator) makeBatches() error {
	n := e.data.N()
	for lo := 0; lo < n; lo += e.batch {
		b, err := e.newBatch(e.data, lo, min(lo+e.batch, n))
		if err != nil {
			return err
		}
		e.batches = append(e.batches, b)
	}
	return nil
}

// inputTensor returns samples [lo, hi) of the dataset's inputs as a tensor of
// type t with rows samples (rows >= hi-lo; extra rows repeat the last
// sample). Values are converted without scaling.
func inputTensor(t onnx.DataType, d *dataset.Input, lo, hi, rows int) (*ort.CustomDataTensor, error) {
	per := d.SampleLen()
	size := t.Size()
	raw := make([]byte, rows*per*size)
	le := binary.LittleEndian
	for r := 0; r < rows; r++ {
		src := d.Data[min(lo+r, hi-1)*per:][:per]
		dst := raw[r*per*size:]
		for i, v := range src {
			b := dst[i*size:]
			switch t {
			case onnx.Float:
				le.PutUint32(b, math.Float32bits(float32(v)))
			case onnx.Double:
				le.PutUint64(b, math.Float64bits(v))
			case onnx.Float16:
				le.PutUint16(b, half.Float16bits(v))
			case onnx.Int64:
				le.PutUint64(b, uint64(int64(v)))
			case onnx.Int32:
				le.PutUint32(b, uint32(int32(v)))
			case onnx.Uint8, onnx.Int8, onnx.Bool:
				b[0] = byte(int64(v))
			}
		}
	}
	shape := []int64{int64(rows)}
	for _, s := range d.Shape[1:] {
		shape = append(shape, int64(s))
	}
	return ort.NewCustomDataTensor(ort.NewShape(shape...), raw, ort.TensorElementDataType(t))
}

// sampleLen returns the number of input values of one sample, all inputs
// together.
func (e *Evaluator) sampleLen() int {
	n := 0
	for _, in := range e.inputs {
		n += e.data.Input(in.Name).SampleLen()
	}
	return n
}

// checkDynamic runs the rewritten model on two samples at once and compares
// with two single-sample runs of the original model.
func (e *Evaluator) checkDynamic(orig, dyn *onnx.Model) error {
	single, err := orig.Marshal()
	if err != nil {
		return err
	}
	batched, err := dyn.Marshal()
	if err != nil {
		return err
	}
	var ref []float64
	for i := 0; i < 2; i++ {
		out, err := e.runOnce(single, i, i+1)
		if err != nil {
			return err
		}
		ref = append(ref, out...)
	}
	got, err := e.runOnce(batched, 0, 2)
	if err != nil {
		return err
	}
	if len(got) != len(ref) {
		return fmt.Errorf("batched output has %d values, single runs %d", len(got), len(ref))
	}
	for i := range got {
		if math.Abs(got[i]-ref[i]) > 1e-4*(1+math.Abs(ref[i])) {
			return fmt.Errorf("batched output differs from single runs (%g vs %g)", got[i], ref[i])
		}
	}
	return nil
}

// runOnce runs model bytes on samples [lo, hi) and returns every output
// value as float64.
func (e *Evaluator) runOnce(model []byte, lo, hi int) ([]float64, error) {
	sess, err := e.newSession(model, true) // before the patcher: no scores
	if err != nil {
		return nil, err
	}
	defer sess.Destroy()
	ts, err := e.inputTensors(e.data, lo, hi, hi-lo)
	if err != nil {
		return nil, err
	}
	b := batch{tensors: ts}
	defer b.destroy()
	outs := []ort.Value{nil}
	if err := sess.Run(b.values(), outs); err != nil {
		return nil, err
	}
	defer outs[0].Destroy()
	out, _, err := appendFloats(nil, outs[0], -1)
	return out, err
}
