package engine

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/x448/float16"
	ort "github.com/yalue/onnxruntime_go"

	"github.com/lsweep/lsweep/dataset"
	"github.com/lsweep/lsweep/loss"
	"github.com/lsweep/lsweep/onnx"
)

// Options configures an Evaluator. The zero value means: library found by
// FindLibrary, CPU, ONNX Runtime's default thread count, batches of
// DefaultBatchSize, output and head detected from the graph.
type Options struct {
	Library   string    // path of libonnxruntime.so; "" searches (FindLibrary)
	Device    string    // "cpu" (default) or "cuda"
	DeviceID  int       // CUDA device ordinal
	Threads   int       // intra-op threads; 0 lets ONNX Runtime use one per core
	BatchSize int       // samples per run for models with a dynamic batch; 0 means DefaultBatchSize
	Output    string    // graph output to compute the loss on; "" detects
	Head      loss.Head // "" detects from the graph (onnx.Model.DetectHead, loss.Refine)
}

// DefaultBatchSize is the batch size used for dynamic-batch models when
// Options.BatchSize is 0.
const DefaultBatchSize = 256

// Result is the loss and accuracy of a model at one weight vector.
type Result struct {
	N        int     // samples evaluated
	Loss     float64 // mean per-sample loss
	Accuracy float64 // fraction correct in [0, 1]; NaN for regression
	Seconds  float64 // wall time of the evaluation, every per-point cost included
}

// Evaluator evaluates one model on one dataset at any values of its stored
// float tensors. It is not safe for concurrent use.
type Evaluator struct {
	model   *onnx.Model // as run: possibly rewritten to a dynamic batch
	data    *dataset.Dataset
	params  []onnx.Param
	head    loss.Head
	output  onnx.ValueInfo
	input   onnx.ValueInfo
	cols    int
	batch   int
	patcher *onnx.Patcher
	base    map[string][]float64 // untouched values of every settable tensor
	dirty   map[string]bool      // tensors whose bytes differ from base
	opts    *ort.SessionOptions
	inputs  []ort.Value // one per batch, made once
	bounds  [][2]int    // sample range of each batch
	scratch []float64   // one batch's outputs
	notes   []string
}

// New prepares an Evaluator: it loads ONNX Runtime (Init), checks the dataset
// against the model's input and head, converts the inputs once into tensors
// of the model's input type, and marshals the model once for patching.
func New(m *onnx.Model, d *dataset.Dataset, opts Options) (*Evaluator, error) {
	if _, err := Init(opts.Library); err != nil {
		return nil, err
	}
	e := &Evaluator{data: d, dirty: make(map[string]bool)}
	if err := e.prepare(m, opts); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

func (e *Evaluator) prepare(m *onnx.Model, opts Options) error {
	inputs := m.Inputs()
	if len(inputs) != 1 {
		names := make([]string, len(inputs))
		for i, in := range inputs {
			names[i] = in.Name
		}
		return fmt.Errorf("engine: %s: the model has %d inputs %v; lsweep feeds exactly one", m.Path, len(inputs), names)
	}
	e.input = inputs[0]
	if !supportedInput(e.input.ElemType) {
		return fmt.Errorf("engine: %s: input %q is %v, which lsweep cannot feed", m.Path, e.input.Name, e.input.ElemType)
	}
	if err := e.data.CheckInput(e.input.Name, e.input.Dims()); err != nil {
		return err
	}
	h, err := m.DetectHead(opts.Output)
	if err != nil {
		return err
	}
	e.output = h.Output
	e.cols = 1
	for _, dim := range h.Output.Shape[min(1, len(h.Output.Shape)):] {
		if dim.Value < 0 {
			e.cols = -1 // learned from the first run
			break
		}
		e.cols *= int(dim.Value)
	}
	e.head = h.Kind
	if opts.Head != "" {
		e.head = opts.Head
	}

	if e.opts, err = sessionOptions(m, opts); err != nil {
		return err
	}

	// Batching. A model exported with a fixed batch of 1 is rewritten to take
	// any batch, and the rewrite is checked on real samples; if it fails the
	// model runs one sample at a time.
	e.model = m
	fixed := int(e.input.Dims()[0])
	switch {
	case len(e.input.Shape) == 0:
		return fmt.Errorf("engine: %s: input %q has no shape; lsweep needs a batch dimension", m.Path, e.input.Name)
	case fixed < 0:
		e.batch = opts.BatchSize
		if e.batch <= 0 {
			e.batch = DefaultBatchSize
		}
	case fixed == 1 && e.data.N() > 1:
		e.batch = 1
		if dyn, ok := m.WithDynamicBatch(); ok {
			if err := e.checkDynamic(m, dyn, opts); err != nil {
				e.notes = append(e.notes, fmt.Sprintf("model has a fixed batch of 1 and does not run with a larger one (%v): evaluating one sample per run", err))
			} else {
				e.model = dyn
				e.batch = opts.BatchSize
				if e.batch <= 0 {
					e.batch = DefaultBatchSize
				}
				e.notes = append(e.notes, "model has a fixed batch of 1: rewritten to a dynamic batch (checked against single-sample runs)")
			}
		}
	default:
		e.batch = fixed
	}
	if e.batch > e.data.N() && fixed < 0 {
		e.batch = e.data.N()
	}

	// Every float tensor can be set: weights for the method's directions,
	// and biases, normalisation parameters and running statistics for the
	// variants that move them too.
	e.params = e.model.Params()
	var names []string
	for _, p := range e.params {
		if p.DType.IsFloat() && p.Size() > 0 {
			names = append(names, p.Name)
		}
	}
	if e.patcher, err = e.model.NewPatcher(names); err != nil {
		return err
	}
	e.base = make(map[string][]float64, len(names))
	for _, p := range e.params {
		if p.DType.IsFloat() && p.Size() > 0 {
			if e.base[p.Name], err = e.model.Value(p.Name); err != nil {
				return err
			}
		}
	}

	if err := e.makeInputs(fixed); err != nil {
		return err
	}
	// One untouched run settles the output width and the head, and checks
	// the labels, before any caller's time is spent.
	if e.cols < 0 {
		if err := e.learnCols(); err != nil {
			return err
		}
	}
	if opts.Head == "" {
		e.head = loss.Refine(e.head, e.cols, e.data.YIsInteger)
	}
	return e.checkTargets()
}

// checkTargets checks the dataset's targets against the head.
func (e *Evaluator) checkTargets() error {
	if err := loss.CheckShape(e.head, e.cols); err != nil {
		return fmt.Errorf("engine: %s: output %q: %w (use --loss to choose another, or --output)", e.model.Path, e.output.Name, err)
	}
	if e.head == loss.MSE {
		if len(e.data.Y) != e.data.N()*e.cols {
			return fmt.Errorf("engine: %s: entry %q holds %d targets, a regression output of %d per sample needs %d", e.data.Path, e.data.YKey, len(e.data.Y), e.cols, e.data.N()*e.cols)
		}
		return nil
	}
	return e.data.CheckLabels(e.head.Classes(e.cols))
}

func supportedInput(t onnx.DataType) bool {
	switch t {
	case onnx.Float, onnx.Double, onnx.Float16, onnx.Int64, onnx.Int32, onnx.Uint8, onnx.Int8, onnx.Bool:
		return true
	}
	return false
}

func sessionOptions(m *onnx.Model, opts Options) (*ort.SessionOptions, error) {
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("engine: session options: %w", err)
	}
	fail := func(err error) (*ort.SessionOptions, error) {
		so.Destroy()
		return nil, err
	}
	if opts.Threads > 0 {
		if err := so.SetIntraOpNumThreads(opts.Threads); err != nil {
			return fail(fmt.Errorf("engine: threads: %w", err))
		}
	}
	if err := so.SetInterOpNumThreads(1); err != nil {
		return fail(fmt.Errorf("engine: threads: %w", err))
	}
	// The model runs from bytes, so ONNX Runtime needs to be told where the
	// external data files of tensors that stay external are.
	if m.Dir != "" {
		if err := so.AddSessionConfigEntry("session.model_external_initializers_file_folder_path", m.Dir); err != nil {
			return fail(fmt.Errorf("engine: session config: %w", err))
		}
	}
	switch opts.Device {
	case "", "cpu":
		if err := so.AddSessionConfigEntry("session.use_env_allocators", "1"); err != nil {
			return fail(fmt.Errorf("engine: session config: %w", err))
		}
	case "cuda":
		cuda, err := ort.NewCUDAProviderOptions()
		if err == nil {
			err = cuda.Update(map[string]string{"device_id": fmt.Sprint(opts.DeviceID)})
			if err == nil {
				err = so.AppendExecutionProviderCUDA(cuda)
			}
			cuda.Destroy()
		}
		if err != nil {
			return fail(fmt.Errorf("engine: --device cuda: this ONNX Runtime library has no usable CUDA execution provider (%v); install the GPU build of ONNX Runtime %s (onnxruntime-gpu, with CUDA 12 and cuDNN 9) and pass its libonnxruntime.so with --onnxruntime", err, RuntimeVersion))
		}
	default:
		return fail(fmt.Errorf("engine: unknown device %q (want cpu or cuda)", opts.Device))
	}
	return so, nil
}

// makeInputs converts the dataset into input tensors, one per batch. With a
// fixed batch larger than one, the last batch is padded by repeating its
// last sample; the padded rows are not counted.
func (e *Evaluator) makeInputs(fixed int) error {
	n := e.data.N()
	sample := e.data.SampleShape()
	for lo := 0; lo < n; lo += e.batch {
		hi := min(lo+e.batch, n)
		rows := hi - lo
		if fixed > 1 {
			rows = fixed
		}
		shape := append([]int64{int64(rows)}, toInt64(sample)...)
		raw := encodeInput(e.input.ElemType, e.data, lo, hi, rows)
		t, err := ort.NewCustomDataTensor(ort.NewShape(shape...), raw, ort.TensorElementDataType(e.input.ElemType))
		if err != nil {
			return fmt.Errorf("engine: input tensor %v: %w", shape, err)
		}
		e.inputs = append(e.inputs, t)
		e.bounds = append(e.bounds, [2]int{lo, hi})
	}
	return nil
}

func toInt64(s []int) []int64 {
	out := make([]int64, len(s))
	for i, v := range s {
		out[i] = int64(v)
	}
	return out
}

// encodeInput returns samples [lo, hi) of the dataset's inputs as the bytes
// of a tensor of type t with rows samples (rows >= hi-lo; extra rows repeat
// the last sample). Values are converted without scaling.
func encodeInput(t onnx.DataType, d *dataset.Dataset, lo, hi, rows int) []byte {
	per := 1
	for _, v := range d.SampleShape() {
		per *= v
	}
	size := t.Size()
	out := make([]byte, rows*per*size)
	le := binary.LittleEndian
	for r := 0; r < rows; r++ {
		src := d.X[min(lo+r, hi-1)*per:][:per]
		dst := out[r*per*size:]
		for i, v := range src {
			b := dst[i*size:]
			switch t {
			case onnx.Float:
				le.PutUint32(b, math.Float32bits(float32(v)))
			case onnx.Double:
				le.PutUint64(b, math.Float64bits(v))
			case onnx.Float16:
				le.PutUint16(b, float16.Fromfloat32(float32(v)).Bits())
			case onnx.Int64:
				le.PutUint64(b, uint64(int64(v)))
			case onnx.Int32:
				le.PutUint32(b, uint32(int32(v)))
			case onnx.Uint8, onnx.Int8, onnx.Bool:
				b[0] = byte(int64(v))
			}
		}
	}
	return out
}

// Params returns every stored tensor of the model as run, with its role.
// Evaluate can set those of a float type.
func (e *Evaluator) Params() []onnx.Param { return e.params }

// Base returns the untouched values of a settable tensor. The slice must not
// be changed.
func (e *Evaluator) Base(name string) []float64 { return e.base[name] }

// Head returns the loss head in use.
func (e *Evaluator) Head() loss.Head { return e.head }

// Output returns the graph output the loss is computed on.
func (e *Evaluator) Output() onnx.ValueInfo { return e.output }

// BatchSize returns the number of samples per run.
func (e *Evaluator) BatchSize() int { return e.batch }

// Notes returns what the Evaluator decided on the caller's behalf (a batch
// rewrite, a fallback), one sentence each.
func (e *Evaluator) Notes() []string { return e.notes }

// Evaluate returns the loss and accuracy over the whole dataset with the
// tensors named in values set to those values and every other tensor at its
// untouched value. A nil map evaluates the untouched model. It stops between
// batches when ctx is cancelled and returns ctx.Err().
func (e *Evaluator) Evaluate(ctx context.Context, values map[string][]float64) (Result, error) {
	start := time.Now()
	sum := loss.NewSum(e.head, e.cols)
	err := e.run(ctx, values, func(out []float64, lo, hi int) error {
		targets := e.data.Y[lo:hi]
		if e.head == loss.MSE {
			targets = e.data.Y[lo*e.cols : hi*e.cols]
		}
		return loss.Add(sum, out, targets)
	})
	if err != nil {
		return Result{}, err
	}
	return Result{N: sum.N(), Loss: sum.Loss(), Accuracy: sum.Accuracy(), Seconds: time.Since(start).Seconds()}, nil
}

// Predict returns the model's output on every sample, row-major with
// OutputWidth values per sample, with the tensors in values set as for
// Evaluate.
func (e *Evaluator) Predict(ctx context.Context, values map[string][]float64) ([]float64, error) {
	out := make([]float64, 0, e.data.N()*e.cols)
	err := e.run(ctx, values, func(batch []float64, lo, hi int) error {
		out = append(out, batch...)
		return nil
	})
	return out, err
}

// OutputWidth returns the number of output values per sample.
func (e *Evaluator) OutputWidth() int { return e.cols }

// set patches the model bytes so that the tensors in values have those
// values and every other tensor its untouched value.
func (e *Evaluator) set(values map[string][]float64) error {
	for name := range e.dirty {
		if _, ok := values[name]; !ok {
			if err := e.patcher.Set(name, e.base[name]); err != nil {
				return err
			}
			delete(e.dirty, name)
		}
	}
	for name, v := range values {
		if _, ok := e.base[name]; !ok {
			return fmt.Errorf("engine: %s has no float tensor %q to set", e.model.Path, name)
		}
		if err := e.patcher.Set(name, v); err != nil {
			return err
		}
		e.dirty[name] = true
	}
	return nil
}

// run sets the weights, creates a session from the patched model bytes and
// runs every batch, handing each batch's outputs (padding dropped) to fn.
//
// A fresh session per weight vector is the fast path on CPU: ONNX Runtime
// then folds, pre-packs and lays out the weights as constants, which
// feeding them as graph inputs prevents (1.5-12x slower runs, measured);
// creating the session costs milliseconds (see the package doc).
func (e *Evaluator) run(ctx context.Context, values map[string][]float64, fn func(out []float64, lo, hi int) error) error {
	if err := e.set(values); err != nil {
		return err
	}
	sess, err := ort.NewDynamicAdvancedSessionWithONNXData(e.patcher.Bytes(), []string{e.input.Name}, []string{e.output.Name}, e.opts)
	if err != nil {
		return fmt.Errorf("engine: %s: ONNX Runtime cannot load the model: %w", e.model.Path, err)
	}
	defer sess.Destroy()
	outs := []ort.Value{nil}
	for i, in := range e.inputs {
		if err := ctx.Err(); err != nil {
			return err
		}
		outs[0] = nil
		if err := sess.Run([]ort.Value{in}, outs); err != nil {
			return fmt.Errorf("engine: %s: run: %w", e.model.Path, err)
		}
		lo, hi := e.bounds[i][0], e.bounds[i][1]
		e.scratch, err = e.floats(e.scratch[:0], outs[0], hi-lo)
		outs[0].Destroy()
		if err != nil {
			return err
		}
		if err := fn(e.scratch, lo, hi); err != nil {
			return err
		}
	}
	return nil
}

// floats appends the first rows samples of an output tensor to dst as
// float64.
func (e *Evaluator) floats(dst []float64, out ort.Value, rows int) ([]float64, error) {
	want := rows * e.cols
	switch t := out.(type) {
	case *ort.Tensor[float32]:
		data := t.GetData()
		if len(data) < want {
			return dst, e.shapeErr(out, rows)
		}
		for _, v := range data[:want] {
			dst = append(dst, float64(v))
		}
		return dst, nil
	case *ort.Tensor[float64]:
		data := t.GetData()
		if len(data) < want {
			return dst, e.shapeErr(out, rows)
		}
		return append(dst, data[:want]...), nil
	case *ort.CustomDataTensor:
		raw := t.GetData()
		if len(raw) < 2*want {
			return dst, e.shapeErr(out, rows)
		}
		for i := 0; i < want; i++ {
			dst = append(dst, float64(float16.Frombits(binary.LittleEndian.Uint16(raw[2*i:])).Float32()))
		}
		return dst, nil
	}
	return dst, fmt.Errorf("engine: %s: output %q is not a float tensor", e.model.Path, e.output.Name)
}

func (e *Evaluator) shapeErr(out ort.Value, rows int) error {
	return fmt.Errorf("engine: %s: output %q has shape %v for a batch of %d, expected %d values per sample", e.model.Path, e.output.Name, out.GetShape(), rows, e.cols)
}

// learnCols runs the first batch once to learn the number of output values
// per sample when the graph does not declare it.
func (e *Evaluator) learnCols() error {
	sess, err := ort.NewDynamicAdvancedSessionWithONNXData(e.patcher.Bytes(), []string{e.input.Name}, []string{e.output.Name}, e.opts)
	if err != nil {
		return fmt.Errorf("engine: %s: ONNX Runtime cannot load the model: %w", e.model.Path, err)
	}
	defer sess.Destroy()
	outs := []ort.Value{nil}
	if err := sess.Run([]ort.Value{e.inputs[0]}, outs); err != nil {
		return fmt.Errorf("engine: %s: run: %w", e.model.Path, err)
	}
	defer outs[0].Destroy()
	shape := outs[0].GetShape()
	rows := int64(1)
	if len(shape) > 0 {
		rows = shape[0]
	}
	if rows <= 0 {
		return fmt.Errorf("engine: %s: output %q has shape %v", e.model.Path, e.output.Name, shape)
	}
	e.cols = int(shape.FlattenedSize() / rows)
	return nil
}

// checkDynamic runs the rewritten model on two samples at once and compares
// with two single-sample runs of the original model.
func (e *Evaluator) checkDynamic(orig, dyn *onnx.Model, opts Options) error {
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
		out, err := runOnce(single, e.input, e.output.Name, e.data, i, i+1, e.opts)
		if err != nil {
			return err
		}
		ref = append(ref, out...)
	}
	got, err := runOnce(batched, e.input, e.output.Name, e.data, 0, 2, e.opts)
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

// runOnce runs model bytes on samples [lo, hi) and returns the output as
// float64.
func runOnce(model []byte, in onnx.ValueInfo, output string, d *dataset.Dataset, lo, hi int, so *ort.SessionOptions) ([]float64, error) {
	sess, err := ort.NewDynamicAdvancedSessionWithONNXData(model, []string{in.Name}, []string{output}, so)
	if err != nil {
		return nil, err
	}
	defer sess.Destroy()
	shape := append([]int64{int64(hi - lo)}, toInt64(d.SampleShape())...)
	t, err := ort.NewCustomDataTensor(ort.NewShape(shape...), encodeInput(in.ElemType, d, lo, hi, hi-lo), ort.TensorElementDataType(in.ElemType))
	if err != nil {
		return nil, err
	}
	defer t.Destroy()
	outs := []ort.Value{nil}
	if err := sess.Run([]ort.Value{t}, outs); err != nil {
		return nil, err
	}
	defer outs[0].Destroy()
	switch o := outs[0].(type) {
	case *ort.Tensor[float32]:
		out := make([]float64, len(o.GetData()))
		for i, v := range o.GetData() {
			out[i] = float64(v)
		}
		return out, nil
	case *ort.Tensor[float64]:
		return append([]float64(nil), o.GetData()...), nil
	}
	return nil, errors.New("output is not float32 or float64")
}

// Close releases the ONNX Runtime objects the Evaluator holds.
func (e *Evaluator) Close() error {
	for _, t := range e.inputs {
		t.Destroy()
	}
	e.inputs = nil
	if e.opts != nil {
		e.opts.Destroy()
		e.opts = nil
	}
	return nil
}
