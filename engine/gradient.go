package engine

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/lsweep/lsweep/autodiff"

	"github.com/lsweep/lsweep/internal/half"
	ort "github.com/yalue/onnxruntime_go"
	"google.golang.org/protobuf/proto"

	"github.com/lsweep/lsweep/dataset"
	"github.com/lsweep/lsweep/internal/onnxmodel"
	"github.com/lsweep/lsweep/internal/onnxpb"
	"github.com/lsweep/lsweep/loss"
	"github.com/lsweep/lsweep/onnx"
)

// gradState is what Gradient and HessianVector keep from one call to the
// next.
type gradState struct {
	weights []onnx.Param // the tensors differentiated, in Params order
	names   []string
	labels  []ort.Value // per batch of e.batches
	grad    diffModel   // the gradient model
	hvp     diffModel   // the Hessian-vector-product model
}

// diffModel is a model autodiff built, with the weights stored for patching.
type diffModel struct {
	// others holds the values of the non-weight tensors the model was built
	// with (none: their untouched values).
	others  map[string][]float64
	model   *onnx.Model   // as autodiff built it, weights as inputs
	patcher *onnx.Patcher // the same with the weights stored, for patching
	in, out []string
	scalars int // outputs before the per-weight ones
	// dirInputs feeds an HVP model's direction as graph inputs instead of
	// storing it (kept for the benchmark that measures the difference).
	dirInputs bool
}

// subset is an evenly spaced subset of the dataset in batches, with the
// labels a differentiated model takes.
type subset struct {
	data    *dataset.Dataset
	batches []batch
	labels  []ort.Value
}

func (s *subset) close() {
	for _, b := range s.batches {
		b.destroy()
	}
	for _, l := range s.labels {
		l.Destroy()
	}
}

// Gradient returns the mean loss over the dataset and its gradient with
// respect to the Evaluator's weights (the RoleWeight params), with the tensors
// in values set as Evaluate sets them. samples > 0 uses the evenly spaced
// subset of samples samples (sample floor(j*N/samples) for j < samples)
// instead of the whole dataset; 0 uses every sample. The result is the sum
// over batches, in dataset order, of each batch's mean loss and gradient
// weighted by the batch's size, in float64, divided by the samples used: the
// same bits whatever the number of sessions. The gradient map holds one
// slice per weight, in the tensor's element order.
//
// The gradient comes from the model autodiff.GradientModel builds, with
// the weights written back as stored tensors and patched in place for each
// call, and fresh sessions made from its bytes, as Evaluate does (see the
// package documentation for why). The gradient model is built on the first
// call and again whenever the values of the non-weight tensors change.
// It stops between batches when ctx is cancelled and returns ctx.Err(). An
// op the gradient model cannot differentiate gives an error wrapping
// autodiff.ErrNoGradient.
func (e *Evaluator) Gradient(ctx context.Context, values map[string][]float64, samples int) (float64, map[string][]float64, error) {
	r, err := e.differentiate(ctx, false, values, nil, samples)
	if err != nil {
		return 0, nil, err
	}
	return r.loss, r.vectors, nil
}

// HVP is the result of HessianVector.
type HVP struct {
	Loss    float64              // mean loss
	Slope   float64              // g . v: the derivative of the loss along v
	Product map[string][]float64 // H v, one slice per weight
}

// HessianVector returns the exact product of the Hessian of the mean loss
// (with respect to the Evaluator's weights, at values) with the direction
// dir, together with the loss and its slope along dir, over the dataset or
// the evenly spaced subset of samples samples, as Gradient does. dir holds
// one slice per weight; a weight it lacks has a zero direction. The product
// comes from the model autodiff.HVPModel builds (forward-mode over the
// gradient graph); it is summed over batches in dataset order, so it has the
// same bits whatever the number of sessions.
func (e *Evaluator) HessianVector(ctx context.Context, values, dir map[string][]float64, samples int) (HVP, error) {
	r, err := e.differentiate(ctx, true, values, dir, samples)
	if err != nil {
		return HVP{}, err
	}
	return HVP{Loss: r.loss, Slope: r.scalars[0], Product: r.vectors}, nil
}

// diffResult is the outcome of one run of a differentiated model over data.
type diffResult struct {
	loss    float64
	scalars []float64            // the scalar outputs after the loss
	vectors map[string][]float64 // the per-weight outputs
}

// differentiate runs the gradient model, or with hvp the HVP model along
// dir, over the dataset or a subset, and averages its outputs.
func (e *Evaluator) differentiate(ctx context.Context, hvp bool, values, dir map[string][]float64, samples int) (diffResult, error) {
	if e.grad == nil {
		gs, err := e.prepareGradient()
		if err != nil {
			return diffResult{}, err
		}
		e.grad = gs
	}
	gs := e.grad
	dm := &gs.grad
	if hvp {
		dm = &gs.hvp
	}
	isWeight := make(map[string]bool, len(gs.weights))
	for _, w := range gs.weights {
		isWeight[w.Name] = true
	}
	others := make(map[string][]float64)
	for name, v := range values {
		b, ok := e.base[name]
		if !ok {
			return diffResult{}, fmt.Errorf("engine: %s has no float tensor %q to set", e.model.Path, name)
		}
		if len(v) != b.len() {
			return diffResult{}, fmt.Errorf("engine: tensor %q has %d elements, got %d values", name, b.len(), len(v))
		}
		if !isWeight[name] && !slices.Equal(v, b.float64s()) {
			others[name] = v
		}
	}
	if dm.patcher == nil || !sameValues(others, dm.others) {
		if err := e.buildDiff(dm, hvp, others); err != nil {
			return diffResult{}, err
		}
	}
	for _, w := range gs.weights {
		var err error
		if v, ok := values[w.Name]; ok {
			err = dm.patcher.Set(w.Name, v)
		} else {
			err = dm.patcher.SetFunc(w.Name, e.base[w.Name].fill)
		}
		if err != nil {
			return diffResult{}, err
		}
	}
	var extra []ort.Value
	if hvp {
		for name := range dir {
			if !isWeight[name] {
				return diffResult{}, fmt.Errorf("engine: %s: direction for %q, which is not a weight", e.model.Path, name)
			}
		}
		for _, w := range gs.weights {
			v, ok := dir[w.Name]
			if !ok {
				v = make([]float64, w.Size())
			}
			if int64(len(v)) != w.Size() {
				return diffResult{}, fmt.Errorf("engine: direction for %q has %d elements, want %d", w.Name, len(v), w.Size())
			}
			if !dm.dirInputs {
				if err := dm.patcher.Set(autodiff.DirPrefix+w.Name, v); err != nil {
					return diffResult{}, err
				}
				continue
			}
			t, err := floatTensor(gradType(w.DType), w.Shape, v)
			if err != nil {
				for _, x := range extra {
					x.Destroy()
				}
				return diffResult{}, fmt.Errorf("engine: direction for %q: %w", w.Name, err)
			}
			extra = append(extra, t)
		}
		defer func() {
			for _, x := range extra {
				x.Destroy()
			}
		}()
	}

	data, batches, labels := e.data, e.batches, gs.labels
	if samples > 0 && samples < e.data.N() {
		sub, err := e.subset(samples)
		if err != nil {
			return diffResult{}, err
		}
		data, batches, labels = sub.data, sub.batches, sub.labels
	}

	sizes := make([]int, len(gs.weights))
	for i, p := range gs.weights {
		sizes[i] = int(p.Size())
	}
	// Each batch's outputs, scaled by its size, are summed in batch order as
	// they arrive, whichever session computed them.
	results := make([]chan batchOut, len(batches))
	for i := range results {
		results[i] = make(chan batchOut, 1)
	}
	workers := min(max(1, e.diffWorkers), len(batches))
	model := dm.patcher.Bytes()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for w := 0; w < workers; w++ {
		go func() {
			sess, err := ort.NewDynamicAdvancedSessionWithONNXData(model, dm.in, dm.out, e.diffOpts)
			if err != nil {
				err = fmt.Errorf("engine: %s: ONNX Runtime cannot load the %s model: %w", e.model.Path, dm.kind(), cleanORT(err))
				for i := w; i < len(batches); i += workers {
					results[i] <- batchOut{err: err}
				}
				return
			}
			defer sess.Destroy()
			for i := w; i < len(batches); i += workers {
				if err := ctx.Err(); err != nil {
					results[i] <- batchOut{err: err}
					continue
				}
				out := batchOut{scalars: make([]float64, dm.scalars), vectors: make([][]float64, len(sizes))}
				for k, n := range sizes {
					out.vectors[k] = make([]float64, n)
				}
				out.err = e.diffBatch(sess, dm, data, batches[i], labels[i], extra, &out)
				results[i] <- out
			}
		}()
	}
	total := batchOut{scalars: make([]float64, dm.scalars), vectors: make([][]float64, len(sizes))}
	for k, n := range sizes {
		total.vectors[k] = make([]float64, n)
	}
	var firstErr error
	for i := range results {
		out := <-results[i]
		if out.err != nil {
			if firstErr == nil {
				firstErr = out.err
				cancel()
			}
			continue
		}
		if firstErr != nil {
			continue
		}
		for k, v := range out.scalars {
			total.scalars[k] += v
		}
		for k, v := range out.vectors {
			t := total.vectors[k]
			for j, x := range v {
				t[j] += x
			}
		}
	}
	if firstErr != nil {
		return diffResult{}, firstErr
	}
	n := 0
	for _, b := range batches {
		n += b.hi - b.lo
	}
	if e.head == loss.Tokens {
		n = e.seq.Labelled(data.Y, e.steps)
		if n == 0 {
			return diffResult{}, fmt.Errorf("engine: %s: entry %q has no labelled token (every label is the ignore index %d)", data.Path, data.YKey, e.seq.IgnoreIndex)
		}
	}
	r := diffResult{vectors: make(map[string][]float64, len(gs.weights))}
	for k := range total.scalars {
		total.scalars[k] /= float64(n)
	}
	r.loss, r.scalars = total.scalars[0], total.scalars[1:]
	for i, p := range gs.weights {
		g := total.vectors[i]
		for j := range g {
			g[j] /= float64(n)
		}
		r.vectors[p.Name] = g
	}
	return r, nil
}

// batchOut is one batch's outputs, each times the batch's sample count.
type batchOut struct {
	scalars []float64
	vectors [][]float64
	err     error
}

// kind names the model in messages.
func (dm *diffModel) kind() string {
	if dm.scalars > 1 {
		return "Hessian-vector-product"
	}
	return "gradient"
}

// gradType is the type of the gradient and direction of a tensor of type dt.
func gradType(dt onnx.DataType) onnx.DataType {
	if dt == onnx.Float16 || dt == onnx.BFloat16 {
		return onnx.Float
	}
	return dt
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

// diffBatch runs one batch and adds its outputs, times the number of samples
// it holds, to out. A padded batch (a fixed batch size larger than the
// samples left) is corrected with a second run on copies of its last sample,
// which is what the padding repeats; d is the dataset b is a batch of.
func (e *Evaluator) diffBatch(sess *ort.DynamicAdvancedSession, dm *diffModel, d *dataset.Dataset, b batch, labels ort.Value, extra []ort.Value, out *batchOut) error {
	run := func(xs []ort.Value, y ort.Value, scale float64) error {
		outs := make([]ort.Value, len(dm.out))
		if err := sess.Run(slices.Concat(xs, []ort.Value{y}, extra), outs); err != nil {
			return fmt.Errorf("engine: %s: %s run: %w", e.model.Path, dm.kind(), cleanORT(err))
		}
		defer func() {
			for _, o := range outs {
				if o != nil {
					o.Destroy()
				}
			}
		}()
		for k := range out.scalars {
			l, ok, err := appendFloats(nil, outs[k], 1)
			if err != nil || !ok {
				return fmt.Errorf("engine: %s: %s model output %q: wrong type or size (%v)", e.model.Path, dm.kind(), dm.out[k], err)
			}
			out.scalars[k] += scale * l[0]
		}
		var scratch []float64
		for i, g := range out.vectors {
			var ok bool
			var err error
			scratch, ok, err = appendFloats(scratch[:0], outs[dm.scalars+i], len(g))
			if err != nil || !ok {
				return fmt.Errorf("engine: %s: %s model output %q: wrong type or size (%v)", e.model.Path, dm.kind(), dm.out[dm.scalars+i], err)
			}
			for j, v := range scratch {
				g[j] += scale * v
			}
		}
		return nil
	}
	real := b.hi - b.lo
	// The tokens head's model sums over labelled tokens, and padding rows
	// are labelled with the ignore index only: no weight, no correction.
	if e.head == loss.Tokens {
		return run(b.values(), labels, 1)
	}
	if err := run(b.values(), labels, float64(b.rows)); err != nil {
		return err
	}
	if b.rows == real {
		return nil
	}
	xs, err := e.inputTensors(d, b.hi-1, b.hi, b.rows)
	if err != nil {
		return err
	}
	last := batch{tensors: xs}
	defer last.destroy()
	y, err := e.labelTensor(d, b.hi-1, b.hi, b.rows)
	if err != nil {
		return err
	}
	defer y.Destroy()
	return run(last.values(), y, -float64(b.rows-real))
}

// prepareGradient lists the weights and makes the label tensors.
func (e *Evaluator) prepareGradient() (*gradState, error) {
	gs := &gradState{}
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

// buildDiff builds the gradient model (or with hvp the HVP model) of the
// model with the non-weight tensors in others set, and its patcher.
func (e *Evaluator) buildDiff(dm *diffModel, hvp bool, others map[string][]float64) error {
	gs := e.grad
	src := e.model
	if len(others) > 0 {
		// A patcher of those tensors makes the model bytes with their
		// values (not the evaluation patcher, whose bytes may refer to a
		// weights file of its own).
		names := make([]string, 0, len(others))
		for name := range others {
			names = append(names, name)
		}
		slices.Sort(names)
		p, err := e.model.NewPatcher(names)
		if err != nil {
			return err
		}
		for _, name := range names {
			if err := p.Set(name, others[name]); err != nil {
				return err
			}
		}
		if src, err = onnx.Parse(p.Bytes(), e.model.Path, e.model.Dir); err != nil {
			return err
		}
	}
	build, scalars, prefix := autodiff.GradientModelWith, []string{autodiff.GradLoss}, autodiff.GradPrefix
	if hvp {
		build, scalars, prefix = autodiff.HVPModelWith, []string{autodiff.GradLoss, autodiff.Slope}, autodiff.HVPPrefix
	}
	gm, err := build(src, e.output.Name, e.head, gs.names, autodiff.Options{Sequence: &e.seq})
	if err != nil {
		return err
	}
	store := make([]storedTensor, 0, 2*len(gs.weights))
	for _, w := range gs.weights {
		store = append(store, storedTensor{w.Name, w.DType, w.Shape})
	}
	// The direction is the same for every batch of a product: stored like
	// the weights and patched per call, ONNX Runtime folds its transforms
	// (the flipped kernels of the input gradients) and prepacks the
	// convolutions with it, as it does with the weights.
	if hvp && !dm.dirInputs {
		for _, w := range gs.weights {
			store = append(store, storedTensor{autodiff.DirPrefix + w.Name, gradType(w.DType), w.Shape})
		}
	}
	stored, err := storeTensors(gm, store)
	if err != nil {
		return err
	}
	withScalars, err := withScalarOutputs(stored, scalars)
	if err != nil {
		return err
	}
	names := make([]string, len(store))
	for i, t := range store {
		names[i] = t.name
	}
	p, err := withScalars.NewPatcher(names)
	if err != nil {
		return err
	}
	dm.model, dm.patcher = gm, p
	dm.in = append(e.inputNames(), autodiff.GradLabels)
	dm.out = nil
	for _, s := range scalars {
		dm.out = append(dm.out, scalarOutput(s))
	}
	for _, n := range gs.names {
		dm.out = append(dm.out, prefix+n)
		if hvp && dm.dirInputs {
			dm.in = append(dm.in, autodiff.DirPrefix+n)
		}
	}
	dm.scalars = len(scalars)
	dm.others = make(map[string][]float64, len(others))
	for name, v := range others {
		dm.others[name] = slices.Clone(v)
	}
	return nil
}

// storedTensor is a tensor that storeTensors turns from a graph input into
// an initializer.
type storedTensor struct {
	name  string
	dt    onnx.DataType
	shape []int64
}

// storeTensors returns a copy of model gm with the tensors ts, inputs there,
// turned into stored tensors (of zeros, to be patched).
func storeTensors(gm *onnx.Model, ts []storedTensor) (*onnx.Model, error) {
	c := gm.Clone()
	g := onnxmodel.Graph(c)
	stored := make(map[string]bool, len(ts))
	for _, t := range ts {
		stored[t.name] = true
		g.Initializer = append(g.Initializer, &onnxpb.TensorProto{
			Name: proto.String(t.name), Dims: slices.Clone(t.shape), DataType: proto.Int32(int32(t.dt)),
			RawData: make([]byte, int(onnx.NumElements(t.shape))*t.dt.Size()),
		})
	}
	var ins []*onnxpb.ValueInfoProto
	for _, vi := range g.GetInput() {
		if !stored[vi.GetName()] {
			ins = append(ins, vi)
		}
	}
	if len(ins) != len(g.GetInput())-len(ts) {
		return nil, fmt.Errorf("engine: %s: the differentiated model does not take every tensor to store as an input", gm.Path)
	}
	g.Input = ins
	return c, nil
}

func (gs *gradState) close() {
	for _, l := range gs.labels {
		l.Destroy()
	}
	gs.labels = nil
}

// subset returns the batches of the evenly spaced subset of n samples.
func (e *Evaluator) subset(n int) (*subset, error) {
	if s, ok := e.subsets[n]; ok {
		return s, nil
	}
	d := e.data
	idx := make([]int, n)
	for j := range idx {
		idx[j] = j * d.N() / n
	}
	sub := d.Subset(idx)
	s := &subset{data: sub}
	for lo := 0; lo < n; lo += e.batch {
		b, err := e.newBatch(sub, lo, min(lo+e.batch, n))
		if err != nil {
			s.close()
			return nil, err
		}
		s.batches = append(s.batches, b)
		l, err := e.labelTensor(sub, b.lo, b.hi, b.rows)
		if err != nil {
			s.close()
			return nil, err
		}
		s.labels = append(s.labels, l)
	}
	// A subset's tensors hold a copy of its samples: keep the last few sizes
	// only.
	if len(e.subsets) >= 4 {
		for k, old := range e.subsets {
			old.close()
			delete(e.subsets, k)
		}
	}
	if e.subsets == nil {
		e.subsets = make(map[int]*subset)
	}
	e.subsets[n] = s
	return s, nil
}

// labelTensor returns the targets of samples [lo, hi) of d as the gradient
// model's labels input, with rows rows (extra rows repeat the last sample):
// int64 [rows] for class heads, [rows, cols] in the loss type for MSE.
func (e *Evaluator) labelTensor(d *dataset.Dataset, lo, hi, rows int) (ort.Value, error) {
	if e.head == loss.Tokens {
		// Padding rows are not scored.
		v := make([]int64, rows*e.steps)
		for i := range v {
			v[i] = e.seq.IgnoreIndex
		}
		for i, y := range d.Y[lo*e.steps : hi*e.steps] {
			v[i] = int64(y)
		}
		t, err := ort.NewTensor(ort.NewShape(int64(rows), int64(e.steps)), v)
		if err != nil {
			return nil, fmt.Errorf("engine: labels: %w", err)
		}
		return t, nil
	}
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
			le.PutUint16(raw[2*i:], half.Float16bits(v))
		default:
			return nil, fmt.Errorf("tensor of type %v", dt)
		}
	}
	return ort.NewCustomDataTensor(ort.NewShape(shape...), raw, ort.TensorElementDataType(dt))
}

// scalarOutput is the name of the one-element copy of scalar output name
// that the engine reads: the Go binding of ONNX Runtime cannot pass rank-0
// tensors.
func scalarOutput(name string) string { return "lsweep/" + name + "1" }

// withScalarOutputs returns a copy of model gm that also outputs each of its
// scalar outputs names as a one-element tensor named scalarOutput(name).
func withScalarOutputs(gm *onnx.Model, names []string) (*onnx.Model, error) {
	c := gm.Clone()
	g := onnxmodel.Graph(c)
	shape := "lsweep/shape1"
	g.Initializer = append(g.Initializer, &onnxpb.TensorProto{Name: proto.String(shape), Dims: []int64{1}, DataType: proto.Int32(int32(onnx.Int64)), Int64Data: []int64{1}})
	for _, name := range names {
		var elem int32
		for _, o := range g.GetOutput() {
			if o.GetName() == name {
				elem = o.GetType().GetTensorType().GetElemType()
			}
		}
		if elem == 0 {
			return nil, fmt.Errorf("engine: %s: not a differentiated model (no output %q)", gm.Path, name)
		}
		out := scalarOutput(name)
		g.Node = append(g.Node, &onnxpb.NodeProto{Name: proto.String(out), OpType: proto.String("Reshape"), Input: []string{name, shape}, Output: []string{out}})
		g.Output = append(g.Output, &onnxpb.ValueInfoProto{Name: proto.String(out), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
			ElemType: proto.Int32(elem),
			Shape:    &onnxpb.TensorShapeProto{Dim: []*onnxpb.TensorShapeProto_Dimension{{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: 1}}}},
		}}}})
	}
	return c, nil
}

// gradientBytes marshals gradient model gm with its loss as a one-element
// output too.
func gradientBytes(gm *onnx.Model) ([]byte, error) {
	c, err := withScalarOutputs(gm, []string{autodiff.GradLoss})
	if err != nil {
		return nil, err
	}
	return c.Marshal()
}
