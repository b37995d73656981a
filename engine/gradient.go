package engine

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sync"

	"github.com/lsweep/lsweep/autodiff"

	"github.com/x448/float16"
	ort "github.com/yalue/onnxruntime_go"
	"google.golang.org/protobuf/proto"

	"github.com/lsweep/lsweep/dataset"
	"github.com/lsweep/lsweep/internal/onnxpb"
	"github.com/lsweep/lsweep/loss"
	"github.com/lsweep/lsweep/onnx"
)

// lossOutput is the one-element copy of the gradient model's scalar loss that
// the engine reads: the Go binding of ONNX Runtime cannot pass rank-0
// tensors.
const lossOutput = "lsweep/loss1"

// gradState is what Gradient keeps from one call to the next.
type gradState struct {
	weights []onnx.Param // the tensors differentiated, in Params order
	names   []string
	// others holds the values of the non-weight tensors the gradient model
	// was built with (none: their untouched values).
	others  map[string][]float64
	model   *onnx.Model   // the gradient model, weights as inputs
	patcher *onnx.Patcher // the same with the weights stored, for patching
	labels  []ort.Value   // per batch of e.batches
	subsets map[int]*gradSubset
	in, out []string
}

// gradSubset is an evenly spaced subset of the dataset in batches.
type gradSubset struct {
	batches []batch
	labels  []ort.Value
}

// Gradient returns the mean loss over the dataset and its gradient with
// respect to the Evaluator's weights (the RoleWeight params), with the tensors
// in values set as Evaluate sets them. samples > 0 uses the evenly spaced
// subset of samples samples (sample floor(j*N/samples) for j < samples)
// instead of the whole dataset; 0 uses every sample. The result is the sum
// over batches of each batch's mean loss and gradient weighted by the batch's
// size, in float64, divided by the samples used. The gradient map holds one
// slice per weight, in the tensor's element order.
//
// The gradient comes from the model autodiff.GradientModel builds, with
// the weights written back as stored tensors and patched in place for each
// call, and fresh sessions made from its bytes, as Evaluate does (see the
// package documentation for why). The gradient model is built on the first
// call and again whenever the values of the non-weight tensors change.
// Batches are shared among the sessions in a fixed order, so the result does
// not depend on scheduling. It stops between batches when ctx is cancelled
// and returns ctx.Err(). An op the gradient model cannot differentiate gives
// an error wrapping autodiff.ErrNoGradient.
func (e *Evaluator) Gradient(ctx context.Context, values map[string][]float64, samples int) (float64, map[string][]float64, error) {
	if e.grad == nil {
		gs, err := e.prepareGradient()
		if err != nil {
			return 0, nil, err
		}
		e.grad = gs
	}
	gs := e.grad
	isWeight := make(map[string]bool, len(gs.weights))
	for _, w := range gs.weights {
		isWeight[w.Name] = true
	}
	others := make(map[string][]float64)
	for name, v := range values {
		base, ok := e.base[name]
		if !ok {
			return 0, nil, fmt.Errorf("engine: %s has no float tensor %q to set", e.model.Path, name)
		}
		if len(v) != len(base) {
			return 0, nil, fmt.Errorf("engine: tensor %q has %d elements, got %d values", name, len(base), len(v))
		}
		if !isWeight[name] && !slices.Equal(v, base) {
			others[name] = v
		}
	}
	if gs.patcher == nil || !sameValues(others, gs.others) {
		if err := e.buildGradient(others); err != nil {
			return 0, nil, err
		}
	}
	for _, w := range gs.weights {
		v, ok := values[w.Name]
		if !ok {
			v = e.base[w.Name]
		}
		if err := gs.patcher.Set(w.Name, v); err != nil {
			return 0, nil, err
		}
	}

	batches, labels := e.batches, gs.labels
	if samples > 0 && samples < e.data.N() {
		sub, err := e.subset(samples)
		if err != nil {
			return 0, nil, err
		}
		batches, labels = sub.batches, sub.labels
	}

	type acc struct {
		loss float64
		grad [][]float64
		err  error
	}
	workers := min(max(1, e.sessions), len(batches))
	accs := make([]acc, workers)
	model := gs.patcher.Bytes()
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := &accs[w]
			sess, err := ort.NewDynamicAdvancedSessionWithONNXData(model, gs.in, gs.out, e.opts)
			if err != nil {
				a.err = fmt.Errorf("engine: %s: ONNX Runtime cannot load the gradient model: %w", e.model.Path, err)
				return
			}
			defer sess.Destroy()
			a.grad = make([][]float64, len(gs.weights))
			for i, p := range gs.weights {
				a.grad[i] = make([]float64, p.Size())
			}
			// Batches w, w+workers, ...: a fixed share, summed in order.
			for i := w; i < len(batches); i += workers {
				if err := ctx.Err(); err != nil {
					a.err = err
					return
				}
				if a.err = e.gradBatch(sess, batches[i], labels[i], a.grad, &a.loss); a.err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, a := range accs {
		if a.err != nil {
			return 0, nil, a.err
		}
	}
	total := accs[0]
	for _, a := range accs[1:] {
		total.loss += a.loss
		for i := range total.grad {
			for j, v := range a.grad[i] {
				total.grad[i][j] += v
			}
		}
	}
	n := 0
	for _, b := range batches {
		n += b.hi - b.lo
	}
	grad := make(map[string][]float64, len(gs.weights))
	for i, p := range gs.weights {
		g := total.grad[i]
		for j := range g {
			g[j] /= float64(n)
		}
		grad[p.Name] = g
	}
	return total.loss / float64(n), grad, nil
}

func sameValues(a, b map[string][]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for name, v := range a {
		if w, ok := b[name]; !ok || !slices.Equal(v, w) {
			return false
		}
	}
	return true
}

// gradBatch runs one batch and adds its loss and gradient, times the number
// of samples it holds, to loss and grad. A padded batch (a fixed batch size
// larger than the samples left) is corrected with a second run on copies of
// its last sample, which is what the padding repeats.
func (e *Evaluator) gradBatch(sess *ort.DynamicAdvancedSession, b batch, labels ort.Value, grad [][]float64, lossSum *float64) error {
	run := func(x, y ort.Value, scale float64) error {
		outs := make([]ort.Value, 1+len(grad))
		if err := sess.Run([]ort.Value{x, y}, outs); err != nil {
			return fmt.Errorf("engine: %s: gradient run: %w", e.model.Path, err)
		}
		defer func() {
			for _, o := range outs {
				if o != nil {
					o.Destroy()
				}
			}
		}()
		l, ok, err := appendFloats(nil, outs[0], 1)
		if err != nil || !ok {
			return fmt.Errorf("engine: %s: gradient model loss output: %v", e.model.Path, err)
		}
		*lossSum += scale * l[0]
		var scratch []float64
		for i := range grad {
			scratch, ok, err = appendFloats(scratch[:0], outs[1+i], len(grad[i]))
			if err != nil || !ok {
				return fmt.Errorf("engine: %s: gradient output %d: wrong type or size (%v)", e.model.Path, i, err)
			}
			g := grad[i]
			for j, v := range scratch {
				g[j] += scale * v
			}
		}
		return nil
	}
	real := b.hi - b.lo
	if err := run(b.tensor, labels, float64(b.rows)); err != nil {
		return err
	}
	if b.rows == real {
		return nil
	}
	x, err := inputTensor(e.input.ElemType, e.data, b.hi-1, b.hi, b.rows)
	if err != nil {
		return err
	}
	defer x.Destroy()
	y, err := e.labelTensor(e.data, b.hi-1, b.hi, b.rows)
	if err != nil {
		return err
	}
	defer y.Destroy()
	return run(x, y, -float64(b.rows-real))
}

// prepareGradient lists the weights and makes the label tensors.
func (e *Evaluator) prepareGradient() (*gradState, error) {
	gs := &gradState{subsets: map[int]*gradSubset{}}
	for _, p := range e.params {
		if p.Role == onnx.RoleWeight && p.Size() > 0 {
			if !p.DType.IsFloat() || p.DType == onnx.BFloat16 {
				return nil, fmt.Errorf("engine: %s: weight %q is %v, which Gradient cannot store", e.model.Path, p.Name, p.DType)
			}
			gs.weights = append(gs.weights, p)
			gs.names = append(gs.names, p.Name)
		}
	}
	if len(gs.names) == 0 {
		return nil, fmt.Errorf("engine: %s: %w", e.model.Path, onnx.ErrNoWeights)
	}
	gs.in = []string{e.input.Name, autodiff.GradLabels}
	gs.out = []string{lossOutput}
	for _, n := range gs.names {
		gs.out = append(gs.out, autodiff.GradPrefix+n)
	}
	for _, b := range e.batches {
		t, err := e.labelTensor(e.data, b.lo, b.hi, b.rows)
		if err != nil {
			gs.close()
			return nil, err
		}
		gs.labels = append(gs.labels, t)
	}
	return gs, nil
}

// buildGradient builds the gradient model of the model with the non-weight
// tensors in others set, and its patcher.
func (e *Evaluator) buildGradient(others map[string][]float64) error {
	gs := e.grad
	src := e.model
	if len(others) > 0 {
		// The evaluation patcher makes the model bytes with those values.
		if err := e.set(others); err != nil {
			return err
		}
		var err error
		if src, err = onnx.Parse(slices.Clone(e.patcher.Bytes()), e.model.Path, e.model.Dir); err != nil {
			return err
		}
	}
	gm, err := autodiff.GradientModel(src, e.output.Name, e.head, gs.names)
	if err != nil {
		return err
	}
	stored, err := storeWeights(gm, gs.weights)
	if err != nil {
		return err
	}
	withLoss, err := withLossOutput(stored)
	if err != nil {
		return err
	}
	p, err := withLoss.NewPatcher(gs.names)
	if err != nil {
		return err
	}
	gs.model, gs.patcher = gm, p
	gs.others = make(map[string][]float64, len(others))
	for name, v := range others {
		gs.others[name] = slices.Clone(v)
	}
	return nil
}

// storeWeights returns a copy of gradient model gm with the weights, inputs
// there, turned back into stored tensors (of zeros, to be patched).
func storeWeights(gm *onnx.Model, weights []onnx.Param) (*onnx.Model, error) {
	c := gm.Clone()
	g := c.Graph()
	isWeight := make(map[string]bool, len(weights))
	for _, w := range weights {
		isWeight[w.Name] = true
		g.Initializer = append(g.Initializer, &onnxpb.TensorProto{
			Name: proto.String(w.Name), Dims: slices.Clone(w.Shape), DataType: proto.Int32(int32(w.DType)),
			RawData: make([]byte, int(w.Size())*w.DType.Size()),
		})
	}
	var ins []*onnxpb.ValueInfoProto
	for _, vi := range g.GetInput() {
		if !isWeight[vi.GetName()] {
			ins = append(ins, vi)
		}
	}
	if len(ins) != len(g.GetInput())-len(weights) {
		return nil, fmt.Errorf("engine: %s: the gradient model does not take every weight as an input", gm.Path)
	}
	g.Input = ins
	return c, nil
}

func (gs *gradState) close() {
	for _, l := range gs.labels {
		l.Destroy()
	}
	gs.labels = nil
	for _, s := range gs.subsets {
		for _, b := range s.batches {
			b.tensor.Destroy()
		}
		for _, l := range s.labels {
			l.Destroy()
		}
	}
	gs.subsets = nil
}

// subset returns the batches of the evenly spaced subset of n samples.
func (e *Evaluator) subset(n int) (*gradSubset, error) {
	gs := e.grad
	if s, ok := gs.subsets[n]; ok {
		return s, nil
	}
	d := e.data
	per := d.SampleLen()
	yper := 1
	if e.head == loss.MSE {
		yper = e.cols
	}
	sub := &dataset.Dataset{Path: d.Path, XKey: d.XKey, YKey: d.YKey, XDType: d.XDType, YDType: d.YDType, YIsInteger: d.YIsInteger}
	sub.XShape = append([]int{n}, d.XShape[1:]...)
	sub.YShape = append([]int{n}, d.YShape[1:]...)
	for j := 0; j < n; j++ {
		i := j * d.N() / n
		sub.X = append(sub.X, d.X[i*per:(i+1)*per]...)
		sub.Y = append(sub.Y, d.Y[i*yper:(i+1)*yper]...)
	}
	s := &gradSubset{}
	fixed := int(e.input.Dims()[0])
	for lo := 0; lo < n; lo += e.batch {
		b := batch{lo: lo, hi: min(lo+e.batch, n)}
		b.rows = b.hi - b.lo
		if fixed > 1 {
			b.rows = fixed
		}
		t, err := inputTensor(e.input.ElemType, sub, b.lo, b.hi, b.rows)
		if err != nil {
			return nil, fmt.Errorf("engine: %s: input tensor: %w", e.model.Path, err)
		}
		b.tensor = t
		s.batches = append(s.batches, b)
		l, err := e.labelTensor(sub, b.lo, b.hi, b.rows)
		if err != nil {
			return nil, err
		}
		s.labels = append(s.labels, l)
	}
	// A subset's batches would need the data's own lifetime; keep the last
	// few sizes only.
	if len(gs.subsets) >= 4 {
		for k, old := range gs.subsets {
			for _, b := range old.batches {
				b.tensor.Destroy()
			}
			for _, l := range old.labels {
				l.Destroy()
			}
			delete(gs.subsets, k)
		}
	}
	gs.subsets[n] = s
	return s, nil
}

// labelTensor returns the targets of samples [lo, hi) of d as the gradient
// model's labels input, with rows rows (extra rows repeat the last sample):
// int64 [rows] for class heads, [rows, cols] in the loss type for MSE.
func (e *Evaluator) labelTensor(d *dataset.Dataset, lo, hi, rows int) (ort.Value, error) {
	if e.head != loss.MSE {
		v := make([]int64, rows)
		for r := range v {
			v[r] = int64(d.Y[min(lo+r, hi-1)])
		}
		t, err := ort.NewTensor(ort.NewShape(int64(rows)), v)
		if err != nil {
			return nil, fmt.Errorf("engine: labels: %w", err)
		}
		return t, nil
	}
	lt := onnx.Float
	if e.output.ElemType == onnx.Double {
		lt = onnx.Double
	}
	v := make([]float64, 0, rows*e.cols)
	for r := 0; r < rows; r++ {
		i := min(lo+r, hi-1)
		v = append(v, d.Y[i*e.cols:(i+1)*e.cols]...)
	}
	return floatTensor(lt, []int64{int64(rows), int64(e.cols)}, v)
}

// floatTensor returns values as a tensor of float type dt (float, double or
// float16).
func floatTensor(dt onnx.DataType, shape []int64, values []float64) (ort.Value, error) {
	size := dt.Size()
	raw := make([]byte, len(values)*size)
	le := binary.LittleEndian
	for i, v := range values {
		switch dt {
		case onnx.Float:
			le.PutUint32(raw[4*i:], math.Float32bits(float32(v)))
		case onnx.Double:
			le.PutUint64(raw[8*i:], math.Float64bits(v))
		case onnx.Float16:
			le.PutUint16(raw[2*i:], float16.Fromfloat32(float32(v)).Bits())
		default:
			return nil, fmt.Errorf("tensor of type %v", dt)
		}
	}
	return ort.NewCustomDataTensor(ort.NewShape(shape...), raw, ort.TensorElementDataType(dt))
}

// withLossOutput returns a copy of gradient model gm that also outputs its
// loss as a one-element tensor named lossOutput.
func withLossOutput(gm *onnx.Model) (*onnx.Model, error) {
	c := gm.Clone()
	g := c.Graph()
	var lossType int32
	for _, o := range g.GetOutput() {
		if o.GetName() == autodiff.GradLoss {
			lossType = o.GetType().GetTensorType().GetElemType()
		}
	}
	if lossType == 0 {
		return nil, fmt.Errorf("engine: %s: not a gradient model (no output %q)", gm.Path, autodiff.GradLoss)
	}
	shape := lossOutput + "/shape"
	g.Initializer = append(g.Initializer, &onnxpb.TensorProto{Name: proto.String(shape), Dims: []int64{1}, DataType: proto.Int32(int32(onnx.Int64)), Int64Data: []int64{1}})
	g.Node = append(g.Node, &onnxpb.NodeProto{Name: proto.String(lossOutput), OpType: proto.String("Reshape"), Input: []string{autodiff.GradLoss, shape}, Output: []string{lossOutput}})
	g.Output = append(g.Output, &onnxpb.ValueInfoProto{Name: proto.String(lossOutput), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
		ElemType: proto.Int32(lossType),
		Shape:    &onnxpb.TensorShapeProto{Dim: []*onnxpb.TensorShapeProto_Dimension{{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: 1}}}},
	}}}})
	return c, nil
}

// gradientBytes marshals gradient model gm with its loss as lossOutput too.
func gradientBytes(gm *onnx.Model) ([]byte, error) {
	c, err := withLossOutput(gm)
	if err != nil {
		return nil, err
	}
	return c.Marshal()
}
