package autodiff

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/lsweep/lsweep/internal/onnxmodel"
	"github.com/lsweep/lsweep/internal/onnxpb"
	"github.com/lsweep/lsweep/loss"
	"github.com/lsweep/lsweep/onnx"
)

// ErrNoGradient is returned (wrapped) by GradientModel when an op on a path
// from a chosen tensor to the loss has no gradient rule here, or uses an
// attribute the rule does not handle; the error names the node and its op.
var ErrNoGradient = errors.New("onnx: no gradient")

// Names of the values a gradient model adds.
const (
	GradLabels = "labels" // input: int64 [N] class labels, or [N, k] regression targets
	GradLoss   = "loss"   // output: the mean per-sample loss of the batch, a scalar
	GradPrefix = "grad/"  // outputs: GradPrefix + name is the gradient of the loss w.r.t. name
)

// GradientOpset is the lowest default-domain opset a gradient model is
// written in. Models of a lower opset (down to 7) are raised to it, with the
// nodes whose meaning changed on the way (Softmax, LogSoftmax, Squeeze,
// Unsqueeze, ReduceSum, Pad, Clip, Split, Dropout) rewritten to keep their
// meaning. A max pool whose windows overlap raises it to 16, for
// ScatterElements with reduction "add".
const GradientOpset = 13

// GradientModel returns a model that computes the loss of a batch and its
// gradient with respect to the stored tensors named in wrt.
//
// Its inputs are the data inputs of m, GradLabels (int64 [N] for class heads;
// for MSE the targets [N, k] in the loss type) and the tensors in wrt,
// promoted from initializers or Constant values to graph inputs under the
// same names, types and shapes. Its outputs are GradLoss, a scalar holding
// the mean over the batch of the per-sample loss of head h as package loss
// defines it (softmax cross-entropy for Logits, NLL for LogProbs, -log p for
// Probs, binary cross-entropy for Sigmoid and BinaryLogit, mean squared error
// for MSE), and GradPrefix+name for each wrt tensor, shaped like the tensor.
// The loss type is double for a double output and float otherwise; gradients
// have the tensor's type, except that float16 and bfloat16 tensors get float
// gradients.
//
// The loss is computed on the output DetectHead(output) chooses; an empty h
// takes the kind DetectHead reports. Only nodes needed for that output are
// kept, and only those on a path from a wrt tensor to the loss are
// differentiated. An op on such a path without a rule gives an error wrapping
// ErrNoGradient that names the node and its op type. m is not changed.
func GradientModel(m *onnx.Model, output string, h loss.Head, wrt []string) (*onnx.Model, error) {
	return differentiate(m, output, h, wrt, false, Options{})
}

// Options configure GradientModelWith and HVPModelWith. The zero value is
// what GradientModel and HVPModel use.
type Options struct {
	// Sequence configures the loss.Tokens head (nil: loss.DefaultSequence).
	Sequence *loss.Sequence
}

// GradientModelWith is GradientModel with options. For the loss.Tokens head
// (logits [N, T, V]), GradLabels is int64 [N, T] and GradLoss is the sum,
// not the mean, of the cross-entropy over the batch's labelled tokens (those
// whose label is not the ignore index; with Sequence.Shift, position t
// scored against label t+1 and the last position against none): the mean
// over a dataset is the sum over batches divided by the labelled tokens of
// all of them, which a mean per batch would not give.
func GradientModelWith(m *onnx.Model, output string, h loss.Head, wrt []string, opts Options) (*onnx.Model, error) {
	return differentiate(m, output, h, wrt, false, opts)
}

// differentiate builds a gradient model, or with hvp an HVP model.
func differentiate(m *onnx.Model, output string, h loss.Head, wrt []string, hvp bool, opts Options) (*onnx.Model, error) {
	head, err := m.DetectHead(output)
	if err != nil {
		return nil, err
	}
	if h == "" {
		h = head.Kind
	}
	if !slices.Contains(loss.Heads, h) {
		return nil, fmt.Errorf("onnx: %s: unknown loss head %q", m.Path, h)
	}
	if len(wrt) == 0 {
		return nil, fmt.Errorf("onnx: %s: gradient with respect to no tensor", m.Path)
	}
	opset := m.Opset()
	if opset < 7 {
		return nil, fmt.Errorf("onnx: %s: opset %d is older than 7 (legacy broadcasting); a gradient needs opset 7 or newer", m.Path, opset)
	}
	b := newGradBuilder(m.Clone(), opset)
	b.hvp = hvp
	b.seq = opts.Sequence.Or()
	if err := b.safeBuild(head.Output.Name, h, wrt); err != nil {
		return nil, err
	}
	return b.m, nil
}

// ErrMalformed is returned (wrapped) when a graph breaks the rules of the
// ONNX operators it uses so that a rule here cannot apply (an axis out of
// range, a permutation that is none, ...).
var ErrMalformed = errors.New("onnx: malformed graph")

// safeBuild is build with a failure of a rule on a graph that breaks the
// operators' rules turned into an error naming the node: models come from
// files users download, and the checks of every attribute of every op are
// not all written out.
func (b *gradBuilder) safeBuild(output string, h loss.Head, wrt []string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			where := "before any node"
			if n := b.node; n != nil {
				where = fmt.Sprintf("node %q (%s)", n.Label(), n.GetOpType())
			}
			err = fmt.Errorf("%w: %s: %s: %v", ErrMalformed, b.m.Path, where, r)
		}
	}()
	return b.build(output, h, wrt)
}

// gradBuilder holds the state of one GradientModel call.
type gradBuilder struct {
	m       *onnx.Model
	g       *onnxpb.GraphProto
	stored  map[string]*onnxpb.TensorProto // initializers and Constant values
	opset   int64                          // the model's opset
	target  int64                          // the opset the result is written in
	info    map[string]*vinfo
	used    map[string]bool // every value name in the graph
	syms    map[string]int64
	nextSym int64
	counter int

	fwd    []*onnxpb.NodeProto // forward nodes kept, after rewriting
	nodes  []*onnxpb.NodeProto // nodes added for the loss and the gradient
	inits  []*onnxpb.TensorProto
	consts map[string]string // cache of constants by key
	shapes map[string]string // cache of Shape(v)

	wrt    map[string]bool
	dep    map[string]bool     // float values that depend on a wrt tensor
	grads  map[string][]string // gradient contributions per value
	summed map[string]string
	node   *onnxpb.NodeProto // the node whose rule runs, for errors

	seq    loss.Sequence     // the Tokens head's configuration
	hvp    bool              // build a Hessian-vector-product model
	tan    map[string]string // tangent of each value along the direction; absent: zero
	isZero map[string]bool   // values known to hold zeros only
}

func newGradBuilder(m *onnx.Model, opset int64) *gradBuilder {
	return &gradBuilder{
		m:       m,
		g:       onnxmodel.Graph(m),
		opset:   opset,
		target:  max(opset, GradientOpset),
		info:    make(map[string]*vinfo),
		used:    make(map[string]bool),
		syms:    make(map[string]int64),
		nextSym: -2,
		consts:  make(map[string]string),
		shapes:  make(map[string]string),
		wrt:     make(map[string]bool),
		dep:     make(map[string]bool),
		grads:   make(map[string][]string),
		summed:  make(map[string]string),
		tan:     make(map[string]string),
		isZero:  make(map[string]bool),
	}
}

func (b *gradBuilder) errorf(format string, args ...any) error {
	return fmt.Errorf("onnx: %s: %s", b.m.Path, fmt.Sprintf(format, args...))
}

// noGrad returns an error wrapping ErrNoGradient about the current node.
func (b *gradBuilder) noGrad(format string, args ...any) error {
	n := b.node
	return fmt.Errorf("%w: %s: node %q (%s): %s", ErrNoGradient, b.m.Path, n.Label(), n.GetOpType(), fmt.Sprintf(format, args...))
}

func (b *gradBuilder) build(output string, h loss.Head, wrt []string) error {
	g := b.g
	b.stored = onnxmodel.StoredTensors(b.m)
	for _, n := range g.GetNode() {
		for _, s := range n.GetInput() {
			b.used[s] = true
		}
		for _, s := range n.GetOutput() {
			b.used[s] = true
		}
	}
	for _, t := range g.GetInitializer() {
		b.used[t.GetName()] = true
	}
	for _, vi := range g.GetInput() {
		b.used[vi.GetName()] = true
	}
	for _, vi := range g.GetOutput() {
		b.used[vi.GetName()] = true
	}
	reserved := []string{GradLabels, GradLoss}
	if b.hvp {
		reserved = append(reserved, Slope)
	}
	for _, name := range wrt {
		if b.wrt[name] {
			return b.errorf("tensor %q named twice", name)
		}
		t := b.stored[name]
		if t == nil {
			return b.errorf("no initializer or Constant value named %q to differentiate with respect to", name)
		}
		if !onnx.DataType(t.GetDataType()).IsFloat() {
			return b.errorf("tensor %q is %v; a gradient needs a float tensor", name, onnx.DataType(t.GetDataType()))
		}
		b.wrt[name] = true
		b.info[name] = &vinfo{dt: onnx.DataType(t.GetDataType()), dims: slices.Clone(t.GetDims()), ranked: true}
		reserved = append(reserved, GradPrefix+name)
		if b.hvp {
			reserved = append(reserved, DirPrefix+name, HVPPrefix+name)
		}
	}
	for _, name := range reserved {
		if b.used[name] {
			return b.errorf("the model already has a value named %q, which the gradient model needs", name)
		}
		b.used[name] = true
	}

	// Keep only the nodes the head output needs.
	producer := make(map[string]int)
	for k, n := range g.GetNode() {
		for _, o := range n.GetOutput() {
			producer[o] = k
		}
	}
	keep := make([]bool, len(g.GetNode()))
	stack := []string{output}
	seen := map[string]bool{output: true}
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		k, ok := producer[v]
		if !ok || keep[k] {
			continue
		}
		keep[k] = true
		n := g.GetNode()[k]
		for _, in := range n.GetInput() {
			if in != "" && !seen[in] {
				seen[in] = true
				stack = append(stack, in)
			}
		}
		for _, a := range n.GetAttribute() {
			if a.GetG() != nil || len(a.GetGraphs()) > 0 {
				return b.errorf("node %q (%s) has a subgraph; gradient models do not handle control flow", n.Label(), n.GetOpType())
			}
		}
	}

	// Value information: inputs, stored tensors, then node by node, with old
	// forms rewritten for the target opset on the way.
	for _, vi := range g.GetInput() {
		b.info[vi.GetName()] = b.fromValueInfo(vi)
	}
	for _, t := range g.GetInitializer() {
		b.info[t.GetName()] = &vinfo{dt: onnx.DataType(t.GetDataType()), dims: slices.Clone(t.GetDims()), ranked: true}
	}
	declared := make(map[string]*onnxpb.ValueInfoProto)
	for _, vi := range g.GetValueInfo() {
		declared[vi.GetName()] = vi
	}
	for _, vi := range g.GetOutput() {
		declared[vi.GetName()] = vi
	}
	for k, n := range g.GetNode() {
		if !keep[k] {
			continue
		}
		repl, err := b.upgrade(n)
		if err != nil {
			return err
		}
		for _, r := range repl {
			b.infer(r, declared)
			b.fwd = append(b.fwd, r)
		}
	}
	if err := b.checkRaise(); err != nil {
		return err
	}
	b.foldBatchNorms(output)

	// Promote the wrt tensors to graph inputs.
	var inits []*onnxpb.TensorProto
	usedByKept := make(map[string]bool)
	for _, n := range b.fwd {
		for _, in := range n.GetInput() {
			usedByKept[in] = true
		}
	}
	usedByKept[output] = true
	wrtInfo := make(map[string]*onnxpb.ValueInfoProto)
	for _, t := range g.GetInitializer() {
		if b.wrt[t.GetName()] {
			wrtInfo[t.GetName()] = tensorValueInfo(t.GetName(), onnx.DataType(t.GetDataType()), t.GetDims())
			continue
		}
		if usedByKept[t.GetName()] {
			inits = append(inits, t)
		}
	}
	fwd := b.fwd[:0]
	for _, n := range b.fwd {
		if n.GetOpType() == "Constant" && len(n.GetOutput()) == 1 && b.wrt[n.GetOutput()[0]] {
			t := b.stored[n.GetOutput()[0]]
			wrtInfo[n.GetOutput()[0]] = tensorValueInfo(n.GetOutput()[0], onnx.DataType(t.GetDataType()), t.GetDims())
			continue
		}
		fwd = append(fwd, n)
	}
	b.fwd = fwd
	for _, name := range wrt {
		if wrtInfo[name] == nil {
			// A Constant node that the head output does not need.
			t := b.stored[name]
			wrtInfo[name] = tensorValueInfo(name, onnx.DataType(t.GetDataType()), t.GetDims())
		}
	}

	// Which values depend on a wrt tensor.
	for name := range b.wrt {
		b.dep[name] = true
	}
	for _, n := range b.fwd {
		hit := false
		for _, in := range n.GetInput() {
			hit = hit || b.dep[in]
		}
		if !hit {
			continue
		}
		for _, o := range n.GetOutput() {
			// An output of unknown type counts as dependent: its node then
			// needs a rule, or the build fails naming it.
			if vi := b.info[o]; o != "" && (vi == nil || vi.dt == onnx.Undefined || vi.dt.IsFloat()) {
				b.dep[o] = true
			}
		}
	}

	if err := b.checkRules(output); err != nil {
		return err
	}

	// The loss, and the gradient of the output.
	lossName, dOut, labels, err := b.lossHead(output, h)
	if err != nil {
		return err
	}
	if b.dep[output] {
		b.addGrad(output, dOut)
	}

	// Backward, in reverse node order.
	for k := len(b.fwd) - 1; k >= 0; k-- {
		n := b.fwd[k]
		dys := make([]string, len(n.GetOutput()))
		anyOut := false
		for i, o := range n.GetOutput() {
			if o != "" && b.dep[o] && len(b.grads[o]) > 0 {
				dys[i] = b.gradOf(o)
				anyOut = true
			}
		}
		if !anyOut {
			continue
		}
		need := make([]bool, len(n.GetInput()))
		anyIn := false
		for i, in := range n.GetInput() {
			if in != "" && b.dep[in] {
				need[i] = true
				anyIn = true
			}
		}
		if !anyIn {
			continue
		}
		b.node = n
		if d := n.GetDomain(); d != "" && d != "ai.onnx" {
			return b.noGrad("ops of domain %q have no gradient here", d)
		}
		for _, v := range slices.Concat(n.GetOutput(), n.GetInput()) {
			if v != "" && b.dep[v] && !b.dt(v).IsFloat() {
				return b.noGrad("value %q depends on the weights but its type is %v, not a float type", v, b.dt(v))
			}
		}
		rule := gradRules[n.GetOpType()]
		if rule == nil {
			return b.noGrad("no gradient rule for %s", n.GetOpType())
		}
		dxs, err := rule(b, n, dys, need)
		if err != nil {
			return err
		}
		for i, ok := range need {
			// A rule that gives no gradient for an input that depends on
			// the weights would make it silently constant.
			if ok && (i >= len(dxs) || dxs[i] == "") {
				return b.noGrad("the rule gives no gradient for input %d (%q)", i, n.GetInput()[i])
			}
		}
		for i, dx := range dxs {
			if dx != "" && i < len(need) && need[i] {
				b.addGrad(n.GetInput()[i], dx)
			}
		}
	}

	if err := b.checkRaise(); err != nil {
		return err
	}

	// Outputs: the loss and the gradients, or, for a Hessian-vector
	// product, the loss, its slope along the direction and the products.
	out := []*onnxpb.ValueInfoProto{tensorValueInfo(GradLoss, b.info[lossName].dt, []int64{})}
	b.nodes = append(b.nodes, &onnxpb.NodeProto{OpType: proto.String("Identity"), Name: proto.String(b.fresh("loss")), Input: []string{lossName}, Output: []string{GradLoss}})
	b.like(GradLoss, lossName)
	gradNames := make(map[string]string)
	for _, name := range wrt {
		wi := b.info[name]
		dt := wi.dt
		if dt == onnx.Float16 || dt == onnx.BFloat16 {
			dt = onnx.Float
		}
		var gname string
		if len(b.grads[name]) == 0 {
			gname = b.zeros(dt, wi.dims)
		} else {
			parts := make([]string, len(b.grads[name]))
			for i, c := range b.grads[name] {
				parts[i] = b.castTo(c, dt)
			}
			gname = parts[0]
			if len(parts) > 1 {
				gname = b.op("Sum", parts)
			}
		}
		if b.hvp {
			gradNames[name] = gname
			continue
		}
		b.nodes = append(b.nodes, &onnxpb.NodeProto{OpType: proto.String("Identity"), Name: proto.String(b.fresh("grad")), Input: []string{gname}, Output: []string{GradPrefix + name}})
		out = append(out, tensorValueInfo(GradPrefix+name, dt, wi.dims))
	}
	var dirs []*onnxpb.ValueInfoProto
	if b.hvp {
		hv, err := b.tangents(lossName, wrt, gradNames)
		if err != nil {
			return err
		}
		out = append(out, hv.outputs...)
		dirs = hv.inputs
	}

	// Inputs: the data inputs, the labels, the wrt tensors.
	var ins []*onnxpb.ValueInfoProto
	initNames := make(map[string]bool)
	for _, t := range g.GetInitializer() {
		initNames[t.GetName()] = true
	}
	for _, vi := range g.GetInput() {
		name := vi.GetName()
		if b.wrt[name] {
			continue
		}
		if initNames[name] {
			// IR 3 lists initializers as inputs too: keep those still there.
			if !usedByKept[name] {
				continue
			}
		}
		ins = append(ins, vi)
	}
	ins = append(ins, labels)
	for _, name := range wrt {
		ins = append(ins, wrtInfo[name])
	}
	ins = append(ins, dirs...)

	g.Node = append(b.fwd, b.nodes...)
	g.Initializer = append(inits, b.inits...)
	if b.hvp {
		// The gradient itself is not an output: drop what only it needs.
		g.Node, g.Initializer = prune(g.Node, g.Initializer, out)
	}
	g.Input = ins
	g.Output = out
	g.ValueInfo = nil
	g.SparseInitializer = nil
	b.setOpset()
	return nil
}

// checkRules fails for the first node, in graph order, that lies between a
// weight and output and has no rule: checking before the backward pass
// names that node rather than a later one that trips over its output (of a
// type or shape nothing could infer).
func (b *gradBuilder) checkRules(output string) error {
	reach := map[string]bool{output: b.dep[output]}
	for k := len(b.fwd) - 1; k >= 0; k-- {
		n := b.fwd[k]
		if !slices.ContainsFunc(n.GetOutput(), func(o string) bool { return o != "" && reach[o] }) {
			continue
		}
		for _, in := range n.GetInput() {
			if in != "" && b.dep[in] {
				reach[in] = true
			}
		}
	}
	for _, n := range b.fwd {
		if !slices.ContainsFunc(n.GetOutput(), func(o string) bool { return o != "" && reach[o] }) ||
			!slices.ContainsFunc(n.GetInput(), func(in string) bool { return in != "" && b.dep[in] }) {
			continue
		}
		b.node = n
		if d := n.GetDomain(); d != "" && d != "ai.onnx" {
			return b.noGrad("ops of domain %q have no gradient here", d)
		}
		if gradRules[n.GetOpType()] == nil {
			return b.noGrad("no gradient rule for %s", n.GetOpType())
		}
	}
	return nil
}

// setOpset writes the target opset and an IR version that allows it.
func (b *gradBuilder) setOpset() {
	mp := onnxmodel.Proto(b.m)
	found := false
	for _, o := range mp.GetOpsetImport() {
		if d := o.GetDomain(); d == "" || d == "ai.onnx" {
			o.Version = proto.Int64(b.target)
			found = true
		}
	}
	if !found {
		mp.OpsetImport = append(mp.OpsetImport, &onnxpb.OperatorSetIdProto{Domain: proto.String(""), Version: proto.Int64(b.target)})
	}
	ir := int64(7)
	if b.target >= 15 {
		ir = 8
	}
	if mp.GetIrVersion() < ir {
		mp.IrVersion = proto.Int64(ir)
	}
}

// needOpset raises the target opset to at least v.
func (b *gradBuilder) needOpset(v int64) { b.target = max(b.target, v) }

func tensorValueInfo(name string, dt onnx.DataType, dims []int64) *onnxpb.ValueInfoProto {
	shape := &onnxpb.TensorShapeProto{Dim: []*onnxpb.TensorShapeProto_Dimension{}}
	for _, d := range dims {
		shape.Dim = append(shape.Dim, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}})
	}
	return &onnxpb.ValueInfoProto{
		Name: proto.String(name),
		Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
			ElemType: proto.Int32(int32(dt)),
			Shape:    shape,
		}}},
	}
}

// addGrad records a gradient contribution to value v.
func (b *gradBuilder) addGrad(v, g string) {
	b.grads[v] = append(b.grads[v], g)
}

// gradOf returns the gradient of v: the sum of its contributions, in v's
// type.
func (b *gradBuilder) gradOf(v string) string {
	if s, ok := b.summed[v]; ok {
		return s
	}
	parts := b.grads[v]
	dt := b.info[v].dt
	cast := make([]string, len(parts))
	for i, p := range parts {
		cast[i] = b.castTo(p, dt)
	}
	s := cast[0]
	if len(cast) > 1 {
		s = b.op("Sum", cast)
	}
	b.summed[v] = s
	return s
}

// castTo casts v to dt when its type differs.
func (b *gradBuilder) castTo(v string, dt onnx.DataType) string {
	if vi := b.info[v]; vi != nil && vi.dt == dt {
		return v
	}
	out := b.op("Cast", []string{v}, attrI("to", int64(dt)))
	if vi := b.info[v]; vi != nil {
		b.setInfo(out, dt, vi.dims, vi.ranked)
	} else {
		b.info[out] = &vinfo{dt: dt}
	}
	return out
}

// fresh returns a value name not used in the graph.
func (b *gradBuilder) fresh(hint string) string {
	for {
		b.counter++
		name := "lsweep_grad/" + hint + "_" + strconv.Itoa(b.counter)
		if !b.used[name] {
			b.used[name] = true
			return name
		}
	}
}

// op appends a node with one output and returns the output's name. The
// output's type is taken from the first input when known; callers that know
// better call setInfo.
func (b *gradBuilder) op(opType string, inputs []string, attrs ...*onnxpb.AttributeProto) string {
	return b.opN(opType, inputs, 1, attrs...)[0]
}

// opN appends a node with n outputs.
func (b *gradBuilder) opN(opType string, inputs []string, n int, attrs ...*onnxpb.AttributeProto) []string {
	outs := make([]string, n)
	for i := range outs {
		outs[i] = b.fresh(strings.ToLower(opType))
	}
	b.nodes = append(b.nodes, &onnxpb.NodeProto{
		Name:      proto.String(outs[0]),
		OpType:    proto.String(opType),
		Input:     inputs,
		Output:    outs,
		Attribute: attrs,
	})
	switch opType {
	case "Greater", "Less", "Equal", "GreaterOrEqual", "LessOrEqual", "And", "Or", "Not", "Xor", "IsNaN", "IsInf":
		for _, o := range outs {
			b.info[o] = &vinfo{dt: onnx.Bool}
		}
	case "Shape", "Size", "NonZero", "ArgMax", "ArgMin":
		for _, o := range outs {
			b.info[o] = &vinfo{dt: onnx.Int64}
		}
	default:
		first := 0
		if opType == "Where" {
			first = 1 // the condition is boolean
		}
		if len(inputs) > first {
			if vi := b.info[inputs[first]]; vi != nil {
				for _, o := range outs {
					b.info[o] = &vinfo{dt: vi.dt}
				}
			}
		}
	}
	return outs
}

// setInfo records the type and shape of a value the builder made.
func (b *gradBuilder) setInfo(name string, dt onnx.DataType, dims []int64, ranked bool) {
	b.info[name] = &vinfo{dt: dt, dims: slices.Clone(dims), ranked: ranked}
}

// like records that value name has the type and shape of value of.
func (b *gradBuilder) like(name, of string) string {
	if vi := b.info[of]; vi != nil {
		c := *vi
		c.dims = slices.Clone(vi.dims)
		b.info[name] = &c
	}
	return name
}

// addInit adds an initializer and returns its name.
func (b *gradBuilder) addInit(hint string, t *onnxpb.TensorProto) string {
	name := b.fresh(hint)
	t.Name = proto.String(name)
	b.inits = append(b.inits, t)
	b.info[name] = &vinfo{dt: onnx.DataType(t.GetDataType()), dims: slices.Clone(t.GetDims()), ranked: true}
	return name
}

// scalarTensor returns a tensor of type dt and shape dims filled with v.
func scalarTensor(dt onnx.DataType, dims []int64, v float64) *onnxpb.TensorProto {
	n := onnx.NumElements(dims)
	values := make([]float64, n)
	for i := range values {
		values[i] = v
	}
	return floatTensor(dt, dims, values)
}

// floatTensor returns a tensor of float type dt holding values.
func floatTensor(dt onnx.DataType, dims []int64, values []float64) *onnxpb.TensorProto {
	raw := make([]byte, len(values)*dt.Size())
	onnx.EncodeFloat(raw, dt, values)
	return &onnxpb.TensorProto{DataType: proto.Int32(int32(dt)), Dims: slices.Clone(dims), RawData: raw}
}

// cf returns a scalar constant of float type dt.
func (b *gradBuilder) cf(dt onnx.DataType, v float64) string {
	key := fmt.Sprintf("f%d:%v", dt, math.Float64bits(v))
	if name, ok := b.consts[key]; ok {
		return name
	}
	name := b.addInit("c", scalarTensor(dt, []int64{}, v))
	b.consts[key] = name
	return name
}

// cfs returns a constant of float type dt with the given shape and values.
func (b *gradBuilder) cfs(dt onnx.DataType, dims []int64, values []float64) string {
	return b.addInit("c", floatTensor(dt, dims, values))
}

// ci returns a 1-D int64 constant.
func (b *gradBuilder) ci(values ...int64) string {
	key := fmt.Sprint("i", values)
	if name, ok := b.consts[key]; ok {
		return name
	}
	name := b.addInit("c", &onnxpb.TensorProto{DataType: proto.Int32(int32(onnx.Int64)), Dims: []int64{int64(len(values))}, Int64Data: slices.Clone(values)})
	b.consts[key] = name
	return name
}

// ciScalar returns a scalar int64 constant.
func (b *gradBuilder) ciScalar(v int64) string {
	key := fmt.Sprint("is", v)
	if name, ok := b.consts[key]; ok {
		return name
	}
	name := b.addInit("c", &onnxpb.TensorProto{DataType: proto.Int32(int32(onnx.Int64)), Dims: []int64{}, Int64Data: []int64{v}})
	b.consts[key] = name
	return name
}

// zeros returns a tensor of zeros of type dt and static shape dims.
func (b *gradBuilder) zeros(dt onnx.DataType, dims []int64) string {
	out := b.op("ConstantOfShape", []string{b.ci(dims...)}, attrT("value", scalarTensor(dt, []int64{1}, 0)))
	b.setInfo(out, dt, dims, true)
	b.isZero[out] = true
	return out
}

// shapeOf returns Shape(v), made once per value.
func (b *gradBuilder) shapeOf(v string) string {
	if s, ok := b.shapes[v]; ok {
		return s
	}
	s := b.op("Shape", []string{v})
	b.setInfo(s, onnx.Int64, []int64{int64(b.rank(v))}, b.rank(v) >= 0)
	b.shapes[v] = s
	return s
}

// shapeLike returns a shape tensor for reshaping to v's shape: a constant
// when v's shape is fully known, Shape(v) otherwise.
func (b *gradBuilder) shapeLike(v string) string {
	if vi := b.info[v]; vi != nil && vi.static() {
		return b.ci(vi.dims...)
	}
	return b.shapeOf(v)
}

// reshapeLike reshapes g to the shape of v.
func (b *gradBuilder) reshapeLike(g, v string) string {
	if gi, vi := b.info[g], b.info[v]; gi != nil && vi != nil && gi.ranked && vi.ranked && sameShape(gi.dims, vi.dims) {
		return g
	}
	out := b.op("Reshape", []string{g, b.shapeLike(v)})
	return b.like(out, v)
}

// dimsOf returns part of a shape tensor for v: dims [lo, hi) of v, as
// constants where known, or sliced from Shape(v).
func (b *gradBuilder) dimsOf(v string, lo, hi int) string {
	vi := b.info[v]
	if vi != nil && vi.ranked {
		ok := true
		for _, d := range vi.dims[lo:hi] {
			ok = ok && d >= 0
		}
		if ok {
			return b.ci(vi.dims[lo:hi]...)
		}
	}
	out := b.op("Slice", []string{b.shapeOf(v), b.ci(int64(lo)), b.ci(int64(hi))})
	b.setInfo(out, onnx.Int64, []int64{int64(hi - lo)}, true)
	return out
}

// concatShape concatenates 1-D int64 shape pieces.
func (b *gradBuilder) concatShape(parts ...string) string {
	if len(parts) == 1 {
		return parts[0]
	}
	out := b.op("Concat", parts, attrI("axis", 0))
	b.info[out] = &vinfo{dt: onnx.Int64, ranked: true, dims: []int64{-1}}
	return out
}

// reduceSum sums g over axes. keep keeps the reduced axes as size 1.
func (b *gradBuilder) reduceSum(g string, axes []int64, keep bool) string {
	k := int64(0)
	if keep {
		k = 1
	}
	out := b.op("ReduceSum", []string{g, b.ci(axes...)}, attrI("keepdims", k))
	if gi := b.info[g]; gi != nil && gi.ranked {
		var dims []int64
		for i, d := range gi.dims {
			if slices.Contains(axes, int64(i)) {
				if keep {
					dims = append(dims, 1)
				}
				continue
			}
			dims = append(dims, d)
		}
		b.setInfo(out, gi.dt, dims, true)
	}
	return out
}

// Attribute constructors.

func attrI(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

func attrIs(name string, v ...int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: slices.Clone(v)}
}

func attrF(name string, v float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_FLOAT.Enum(), F: proto.Float32(v)}
}

func attrS(name, v string) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_STRING.Enum(), S: []byte(v)}
}

func attrT(name string, t *onnxpb.TensorProto) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_TENSOR.Enum(), T: t}
}

// Attribute readers.

func attrInts(n *onnxpb.NodeProto, name string) []int64 {
	if a := n.Attr(name); a != nil {
		return a.GetInts()
	}
	return nil
}

func attrFloat(n *onnxpb.NodeProto, name string, def float64) float64 {
	if a := n.Attr(name); a != nil {
		return float64(a.GetF())
	}
	return def
}

func attrString(n *onnxpb.NodeProto, name, def string) string {
	if a := n.Attr(name); a != nil {
		return string(a.GetS())
	}
	return def
}

// input returns input i of n, or "" when absent.
func input(n *onnxpb.NodeProto, i int) string {
	if i < len(n.GetInput()) {
		return n.GetInput()[i]
	}
	return ""
}
