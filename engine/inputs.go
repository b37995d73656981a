package engine

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/lsweep/lsweep/dataset"
	"github.com/lsweep/lsweep/internal/onnxmodel"
	"github.com/lsweep/lsweep/loss"
	"github.com/lsweep/lsweep/onnx"
)

// InputNames returns the names of the inputs of m that data feed (the
// graph inputs that are not stored tensors), in order: what
// dataset.Options.Inputs needs.
func InputNames(m *onnx.Model) []string {
	var names []string
	for _, in := range m.Inputs() {
		names = append(names, in.Name)
	}
	return names
}

// checkInputs checks every model input against the entry that feeds it:
// its presence, type, shape and values, and token ids against the
// embedding tables they index.
func (e *Evaluator) checkInputs(m *onnx.Model) error {
	e.inputs = m.Inputs()
	if len(e.inputs) == 0 {
		return fmt.Errorf("engine: %s: the model has no inputs to feed", m.Path)
	}
	e.input = e.inputs[0]
	for _, in := range e.inputs {
		if !supportedInput(in.ElemType) {
			return fmt.Errorf("engine: %s: input %q is %v, which lsweep cannot feed", m.Path, in.Name, in.ElemType)
		}
		if len(in.Shape) == 0 {
			return fmt.Errorf("engine: %s: input %q has no shape; lsweep needs a batch dimension", m.Path, in.Name)
		}
		d := e.data.Input(in.Name)
		if d == nil {
			return fmt.Errorf("engine: %s: no data for model input %q: %w (load the data with dataset.Options.Inputs naming the model's inputs)", m.Path, in.Name, dataset.ErrMissingKey)
		}
		if err := e.data.CheckInput(in.Name, in.Dims()); err != nil {
			return err
		}
		if b, b0 := in.Dims()[0], e.input.Dims()[0]; max(b, 0) != max(b0, 0) {
			return fmt.Errorf("engine: %s: inputs %q and %q have different batch dimensions (%d and %d)", m.Path, e.input.Name, in.Name, b0, b)
		}
		if err := e.checkValues(in, d); err != nil {
			return err
		}
	}
	if err := e.checkSymbols(); err != nil {
		return err
	}
	return e.checkVocabulary(m)
}

// checkSymbols checks that the entries agree on every named dimension the
// inputs share (the sequence length of ids and mask, say), which no
// per-input check sees when the dimension is dynamic.
func (e *Evaluator) checkSymbols() error {
	type seen struct {
		size  int
		input string
		entry string
	}
	first := map[string]seen{}
	for _, in := range e.inputs {
		d := e.data.Input(in.Name)
		for i, dim := range in.Shape {
			if i == 0 || dim.Value >= 0 || dim.Param == "" || i >= len(d.Shape) {
				continue
			}
			s, ok := first[dim.Param]
			if !ok {
				first[dim.Param] = seen{d.Shape[i], in.Name, d.Entry()}
				continue
			}
			if s.size != d.Shape[i] {
				return fmt.Errorf("engine: %s: model inputs %q and %q share dimension %q, but %s has %d there and %s has %d: %w",
					e.data.Path, s.input, in.Name, dim.Param, s.entry, s.size, d.Entry(), d.Shape[i], dataset.ErrShape)
			}
		}
	}
	return nil
}

// checkValues checks that the values of d fit the type of model input in:
// integers in range for an integer input, 0 and 1 for a bool one.
func (e *Evaluator) checkValues(in onnx.ValueInfo, d *dataset.Input) error {
	lo, hi := 0.0, 0.0
	switch in.ElemType {
	case onnx.Int64:
		lo, hi = -(1 << 53), 1<<53
	case onnx.Int32:
		lo, hi = math.MinInt32, math.MaxInt32
	case onnx.Int8:
		lo, hi = math.MinInt8, math.MaxInt8
	case onnx.Uint8:
		lo, hi = 0, math.MaxUint8
	case onnx.Bool:
		lo, hi = 0, 1
	default:
		return nil
	}
	per := max(1, d.SampleLen())
	for i, v := range d.Data {
		if v != math.Trunc(v) || v < lo || v > hi {
			return fmt.Errorf("engine: %s: %s (%s) cannot feed model input %q (%v): sample %d holds %g; want integers in [%g, %g]",
				e.data.Path, d.Entry(), d.DType, in.Name, in.ElemType, i/per, v, lo, hi)
		}
	}
	return nil
}

// checkVocabulary checks the values of integer inputs that a Gather
// (an embedding lookup) uses as indices into a stored table, directly or
// through a Cast, against the table's rows: an id out of range is an error
// naming the entry, the id and the table, before ONNX Runtime runs.
func (e *Evaluator) checkVocabulary(m *onnx.Model) error {
	stored := onnxmodel.StoredTensors(m)
	feeds := map[string]string{} // value -> model input it is (a cast of)
	for _, in := range e.inputs {
		if in.ElemType != onnx.Int64 && in.ElemType != onnx.Int32 {
			continue
		}
		feeds[in.Name] = in.Name
	}
	for _, n := range onnxmodel.Graph(m).GetNode() {
		ins := n.GetInput()
		switch n.GetOpType() {
		case "Cast":
			if src, ok := feeds[ins[0]]; ok && len(n.GetOutput()) > 0 {
				feeds[n.GetOutput()[0]] = src
			}
		case "Gather":
			if len(ins) < 2 {
				continue
			}
			src, ok := feeds[ins[1]]
			t := stored[ins[0]]
			if !ok || t == nil || len(t.GetDims()) == 0 {
				continue
			}
			for _, a := range n.GetAttribute() {
				if a.GetName() == "axis" && a.GetI() != 0 {
					ok = false
				}
			}
			if !ok {
				continue
			}
			rows := t.GetDims()[0]
			d := e.data.Input(src)
			per := max(1, d.SampleLen())
			for i, v := range d.Data {
				if v < 0 || v >= float64(rows) {
					top := slicesMax(d.Data)
					return fmt.Errorf("engine: %s: %s feeds model input %q, whose ids index the %d rows of %q: sample %d holds id %g (the largest id is %g); ids must lie in [0, %d)",
						e.data.Path, d.Entry(), src, rows, ins[0], i/per, v, top, rows)
				}
			}
		}
	}
	return nil
}

func slicesMax(v []float64) float64 {
	m := math.Inf(-1)
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

// largestIDs describes the range of the integer inputs for an ONNX Runtime
// error about indices, which otherwise names neither the entry nor the id.
func (e *Evaluator) largestIDs(err error) string {
	msg := strings.ToLower(err.Error())
	if !strings.Contains(msg, "indices") && !strings.Contains(msg, "out of") {
		return ""
	}
	var parts []string
	for _, in := range e.inputs {
		d := e.data.Input(in.Name)
		if d == nil || in.ElemType.IsFloat() {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s (input %q) holds ids up to %g", d.Entry(), in.Name, slicesMax(d.Data)))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, "; ") + ")"
}

// tokenHead settles whether the loss is the Tokens head: asked for, or
// logits [N, T, V] (V > 1) with labels [N, T], whose values CheckTokenLabels
// then checks (float labels too, so that -100.0 gets a message about tokens
// rather than about class labels); it records T and V.
func (e *Evaluator) tokenHead(opts Options) error {
	e.seq = opts.Sequence.Or()
	dims := e.output.Dims()
	d := e.data
	auto := opts.Head == "" && e.head == loss.Logits && len(dims) == 3 && dims[2] != 1 && len(d.YShape) == 2 &&
		(dims[1] <= 0 || int64(d.YShape[1]) == dims[1])
	if e.head != loss.Tokens && !auto {
		return nil
	}
	if len(dims) != 3 {
		return fmt.Errorf("engine: %s: output %q has shape %v; the tokens head needs logits [N, T, V]", e.model.Path, e.output.Name, dims)
	}
	if len(d.YShape) != 2 {
		return fmt.Errorf("engine: %s: %s has shape %v; token labels need shape [%d T] for logits %v", d.Path, d.YKey, d.YShape, d.N(), dims)
	}
	e.head, e.steps = loss.Tokens, d.YShape[1]
	if dims[1] > 0 && dims[1] != int64(e.steps) {
		return fmt.Errorf("engine: %s: entry %q has %d labels per sequence, output %q has %d positions", d.Path, d.YKey, e.steps, e.output.Name, dims[1])
	}
	if dims[2] > 0 {
		e.vocab = int(dims[2])
	}
	e.maskPadding()
	return nil
}

// paddingMasks are the model inputs, by name, whose zeros mark padding.
var paddingMasks = []string{"attention_mask", "input_mask"}

// maskPadding ignores, with Sequence.Shift, the labels at the positions the
// model's attention mask marks as padding (0): the labels are then the input
// ids, padding included, and a padded position's id is no token to predict
// (Hugging Face's collators set those labels to -100 for the same reason).
// The Evaluator works on a copy of the labels; the dataset is not changed.
func (e *Evaluator) maskPadding() {
	d := e.data
	if !e.seq.Shift {
		return
	}
	for _, name := range paddingMasks {
		in := d.Input(name)
		if in == nil || len(in.Data) != len(d.Y) || in.Name != name {
			continue
		}
		y := slices.Clone(d.Y)
		n := 0
		for i, m := range in.Data {
			if m == 0 && !e.seq.Ignored(y[i]) {
				y[i] = float64(e.seq.IgnoreIndex)
				n++
			}
		}
		if n > 0 {
			masked := *d
			masked.Y = y
			e.data = &masked
			e.notes = append(e.notes, fmt.Sprintf("%d labels at positions input %q marks as padding (0) are not scored", n, name))
		}
		return
	}
}

// Sequence returns the tokens head's configuration (meaningful when Head
// is loss.Tokens).
func (e *Evaluator) Sequence() loss.Sequence { return e.seq }

// newSum returns an empty loss sum for the head in use.
func (e *Evaluator) newSum() *loss.Sum {
	if e.head == loss.Tokens {
		return loss.NewTokenSum(e.seq, e.steps, e.vocab)
	}
	return loss.NewSum(e.head, e.cols)
}
