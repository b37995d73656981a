package autodiff

import (
	"maps"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/lsweep/lsweep/internal/onnxmodel"
	"github.com/lsweep/lsweep/internal/onnxpb"
	"github.com/lsweep/lsweep/loss"
	"github.com/lsweep/lsweep/onnx"
)

// Names of the values a Hessian-vector-product model adds (besides GradLoss
// and GradLabels, which it shares with a gradient model).
const (
	DirPrefix = "dir/"  // inputs: DirPrefix + name is the direction's part for tensor name
	HVPPrefix = "hvp/"  // outputs: HVPPrefix + name is the product's part for tensor name
	Slope     = "slope" // output: the directional derivative of the loss, g . v, a scalar
)

// HVPModel returns a model that computes, for a batch, the mean loss, its
// derivative along a direction v and the exact product H v of the loss's
// Hessian with v, with respect to the stored tensors named in wrt.
//
// Its inputs are those of GradientModel's model plus DirPrefix+name for each
// wrt tensor, shaped like the tensor (float for float16 and bfloat16
// tensors). Its outputs are GradLoss, Slope (g . v, in the loss type) and
// HVPPrefix+name for each wrt tensor, shaped like the tensor, in the type
// GradientModel gives the gradient.
//
// The product is the forward-mode derivative of the gradient model along v
// (Pearlmutter's R-operator): every value of the gradient graph gets a
// tangent, pushed through each node by its forward rule. It is the Hessian
// that reverse-mode automatic differentiation differentiates twice: piecewise
// ops (Relu, MaxPool, Clip, Abs) contribute their derivative on the piece
// the point lies on and nothing at the kinks, as PyTorch's double backward
// does. An op of the gradient graph without a forward rule gives an error
// wrapping ErrNoGradient that names the node and its op. m is not changed.
func HVPModel(m *onnx.Model, output string, h loss.Head, wrt []string) (*onnx.Model, error) {
	return differentiate(m, output, h, wrt, true, Options{})
}

// HVPModelWith is HVPModel with options; for the loss.Tokens head its
// outputs are sums over the batch's labelled tokens, as GradientModelWith's.
func HVPModelWith(m *onnx.Model, output string, h loss.Head, wrt []string, opts Options) (*onnx.Model, error) {
	return differentiate(m, output, h, wrt, true, opts)
}

// tangentRule adds the nodes that compute the tangents of n's outputs given
// the tangents dx of its inputs ("" where an input's tangent is zero). It
// returns one name per output, "" where the tangent is zero. It is called
// only when some input has a tangent and some output is a float value.
type tangentRule func(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error)

// tangentRules maps op types to their forward rules. TangentOps lists them.
// Like gradRules, it is made before any init runs.
var tangentRules = make(map[string]tangentRule)

func init() {
	maps.Copy(tangentRules, map[string]tangentRule{
		"Identity":           tanIdentity,
		"Dropout":            tanIdentity,
		"Reshape":            tanLinear,
		"Flatten":            tanLinear,
		"Squeeze":            tanLinear,
		"Unsqueeze":          tanLinear,
		"Transpose":          tanLinear,
		"Expand":             tanLinear,
		"Slice":              tanLinear,
		"Gather":             tanLinear,
		"GatherElements":     tanLinear,
		"Split":              tanLinear,
		"ReduceSum":          tanLinear,
		"ReduceMean":         tanLinear,
		"AveragePool":        tanLinear,
		"GlobalAveragePool":  tanLinear,
		"Neg":                tanLinear,
		"Cast":               tanCast,
		"Pad":                tanPad,
		"Concat":             tanConcat,
		"ScatterElements":    tanScatter,
		"Add":                tanAdd,
		"Sum":                tanAdd,
		"Sub":                tanAdd,
		"Mul":                tanMul,
		"Div":                tanDiv,
		"Where":              tanWhere,
		"Sign":               tanZero,
		"Relu":               tanRelu,
		"LeakyRelu":          tanLeakyRelu,
		"Sigmoid":            tanSigmoid,
		"Tanh":               tanTanh,
		"Exp":                tanExp,
		"Log":                tanLog,
		"Sqrt":               tanSqrt,
		"Reciprocal":         tanReciprocal,
		"Softplus":           tanSoftplus,
		"Abs":                tanAbs,
		"Clip":               tanClip,
		"Max":                tanMaxMin,
		"Min":                tanMaxMin,
		"Softmax":            tanSoftmax,
		"LogSoftmax":         tanLogSoftmax,
		"Gemm":               tanGemm,
		"MatMul":             tanMatMul,
		"Conv":               tanConv,
		"ConvTranspose":      tanConv,
		"BatchNormalization": tanBatchNorm,
		"MaxPool":            tanMaxPool,
	})
}

// TangentOps returns the op types HVPModel pushes tangents through, sorted.
func TangentOps() []string { return slices.Sorted(maps.Keys(tangentRules)) }

// hvpIO is what the tangent pass adds to the model's interface.
type hvpIO struct {
	inputs, outputs []*onnxpb.ValueInfoProto
}

// tangents pushes the direction through every node of the gradient graph
// built so far (b.fwd, then b.nodes) and adds the outputs of an HVP model:
// Slope from the loss lossName and HVPPrefix+name from the gradient
// grads[name] of each wrt tensor.
func (b *gradBuilder) tangents(lossName string, wrt []string, grads map[string]string) (hvpIO, error) {
	var io hvpIO
	for _, name := range wrt {
		wi := b.info[name]
		dt := gradType(wi.dt)
		dir := DirPrefix + name
		io.inputs = append(io.inputs, tensorValueInfo(dir, dt, wi.dims))
		b.setInfo(dir, dt, wi.dims, true)
		b.tan[name] = b.castTo(dir, wi.dt)
	}
	nodes := slices.Concat(b.fwd, b.nodes)
	for _, n := range nodes {
		dx := make([]string, len(n.GetInput()))
		some := false
		for i, in := range n.GetInput() {
			if in != "" && b.tan[in] != "" {
				dx[i] = b.tan[in]
				some = true
			}
		}
		if !some {
			continue
		}
		b.node = n
		floatOut := false
		for _, o := range n.GetOutput() {
			if o == "" {
				continue
			}
			dt := b.dt(o)
			if dt == onnx.Undefined {
				return io, b.noGrad("the type of output %q is unknown, so whether it depends on the direction is too", o)
			}
			floatOut = floatOut || dt.IsFloat()
		}
		if !floatOut {
			continue // integer and boolean values carry no derivative
		}
		if d := n.GetDomain(); d != "" && d != "ai.onnx" {
			return io, b.noGrad("ops of domain %q have no second-order rule here", d)
		}
		rule := tangentRules[n.GetOpType()]
		if rule == nil {
			return io, b.noGrad("no second-order (forward) rule for %s", n.GetOpType())
		}
		dys, err := rule(b, n, dx)
		if err != nil {
			return io, err
		}
		for i, t := range dys {
			if o := n.GetOutput()[i]; t != "" && o != "" && b.dt(o).IsFloat() {
				if b.info[t] == nil || !b.info[t].ranked {
					b.like(t, o)
				}
				b.tan[o] = t
			}
		}
	}

	lt := b.dt(lossName)
	slope := b.tan[lossName]
	if slope == "" {
		slope = b.cf(lt, 0)
	}
	b.nodes = append(b.nodes, &onnxpb.NodeProto{OpType: proto.String("Identity"), Name: proto.String(b.fresh("slope")), Input: []string{slope}, Output: []string{Slope}})
	io.outputs = append(io.outputs, tensorValueInfo(Slope, lt, []int64{}))
	for _, name := range wrt {
		wi := b.info[name]
		dt := gradType(wi.dt)
		hv := b.tan[grads[name]]
		if hv == "" {
			hv = b.zeros(dt, wi.dims)
		}
		hv = b.castTo(hv, dt)
		b.nodes = append(b.nodes, &onnxpb.NodeProto{OpType: proto.String("Identity"), Name: proto.String(b.fresh("hvp")), Input: []string{hv}, Output: []string{HVPPrefix + name}})
		io.outputs = append(io.outputs, tensorValueInfo(HVPPrefix+name, dt, wi.dims))
	}
	return io, nil
}

// gradType is the type of the gradient of a tensor of type dt.
func gradType(dt onnx.DataType) onnx.DataType {
	if dt == onnx.Float16 || dt == onnx.BFloat16 {
		return onnx.Float
	}
	return dt
}

// prune keeps the nodes and initializers that the outputs need.
func prune(nodes []*onnxpb.NodeProto, inits []*onnxpb.TensorProto, outputs []*onnxpb.ValueInfoProto) ([]*onnxpb.NodeProto, []*onnxpb.TensorProto) {
	need := make(map[string]bool)
	for _, o := range outputs {
		need[o.GetName()] = true
	}
	keep := make([]bool, len(nodes))
	for k := len(nodes) - 1; k >= 0; k-- {
		n := nodes[k]
		for _, o := range n.GetOutput() {
			keep[k] = keep[k] || o != "" && need[o]
		}
		if !keep[k] {
			continue
		}
		for _, in := range n.GetInput() {
			need[in] = true
		}
	}
	var outN []*onnxpb.NodeProto
	for k, n := range nodes {
		if keep[k] {
			outN = append(outN, n)
		}
	}
	var outI []*onnxpb.TensorProto
	for _, t := range inits {
		if need[t.GetName()] {
			outI = append(outI, t)
		}
	}
	return outN, outI
}

// zerosLike returns a tensor of zeros shaped and typed like v.
func (b *gradBuilder) zerosLike(v string) string {
	if b.isZero[v] {
		return v
	}
	vi := b.info[v]
	if vi.static() {
		return b.zeros(vi.dt, vi.dims)
	}
	out := b.op("ConstantOfShape", []string{b.shapeOf(v)}, attrT("value", scalarTensor(vi.dt, []int64{1}, 0)))
	b.like(out, v)
	b.isZero[out] = true
	return out
}

// expandTo broadcasts the tangent t to the shape of value y, where it may be
// smaller (a tangent of one operand of a broadcasting op).
func (b *gradBuilder) expandTo(t, y string) string {
	if ti, yi := b.info[t], b.info[y]; ti != nil && yi != nil && ti.ranked && yi.ranked && sameShape(ti.dims, yi.dims) {
		return t
	}
	return b.like(b.op("Expand", []string{t, b.shapeLike(y)}), y)
}

// sum adds the non-empty terms; "" when there are none.
func (b *gradBuilder) sum(terms ...string) string {
	var ts []string
	for _, t := range terms {
		if t != "" {
			ts = append(ts, t)
		}
	}
	switch len(ts) {
	case 0:
		return ""
	case 1:
		return ts[0]
	}
	op := "Sum"
	if len(ts) == 2 {
		op = "Add"
	}
	out := b.op(op, ts)
	infos := make([]*vinfo, len(ts))
	for i, t := range ts {
		if infos[i] = b.info[t]; infos[i] == nil {
			infos[i] = &vinfo{}
		}
	}
	dims := broadcastDims(infos...)
	b.setInfo(out, b.dt(ts[0]), dims, dims != nil)
	return out
}

// again appends a copy of n with the given inputs and fresh outputs (the
// outputs that are empty in n stay empty) and returns the outputs.
func (b *gradBuilder) again(n *onnxpb.NodeProto, inputs []string) []string {
	outs := make([]string, len(n.GetOutput()))
	for i, o := range n.GetOutput() {
		if o != "" {
			outs[i] = b.fresh("t_" + lowerOp(n.GetOpType()))
			b.like(outs[i], o)
		}
	}
	c := &onnxpb.NodeProto{
		Name:      proto.String(b.fresh("t_node")),
		OpType:    n.OpType,
		Domain:    n.Domain,
		Input:     inputs,
		Output:    outs,
		Attribute: n.GetAttribute(),
	}
	b.nodes = append(b.nodes, c)
	return outs
}

func lowerOp(s string) string {
	out := []byte(s)
	for i, c := range out {
		if c >= 'A' && c <= 'Z' {
			out[i] = c + 'a' - 'A'
		}
	}
	return string(out)
}

func tanIdentity(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	out := make([]string, len(n.GetOutput()))
	out[0] = dx[0]
	return out, nil
}

// tanLinear is the rule of an op that is linear in its first input given the
// others, which are indices, shapes or axes: the same op on the tangent.
func tanLinear(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	for i := 1; i < len(dx); i++ {
		if dx[i] != "" {
			return nil, b.noGrad("input %d, which %s is not linear in, depends on the weights", i, n.GetOpType())
		}
	}
	if dx[0] == "" {
		return make([]string, len(n.GetOutput())), nil
	}
	in := slices.Clone(n.GetInput())
	in[0] = dx[0]
	return b.again(n, in), nil
}

func tanZero(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	return make([]string, len(n.GetOutput())), nil
}

func tanCast(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	return b.again(n, []string{dx[0]}), nil
}

func tanPad(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	if mode := attrString(n, "mode", "constant"); mode != "constant" {
		return nil, b.noGrad("mode %s is not supported", mode)
	}
	if len(dx) > 2 && dx[2] != "" {
		return nil, b.noGrad("the pad value depends on the weights")
	}
	in := slices.Clone(n.GetInput())
	in[0] = dx[0]
	if len(in) > 2 {
		in[2] = "" // the tangent of a constant pad value is zero
	}
	return b.again(n, in), nil
}

func tanConcat(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	in := make([]string, len(dx))
	for i, t := range dx {
		if t == "" {
			t = b.zerosLike(input(n, i))
		}
		in[i] = t
	}
	return b.again(n, in), nil
}

func tanScatter(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	if r := attrString(n, "reduction", "none"); r != "none" && r != "add" {
		return nil, b.noGrad("reduction %s is not supported", r)
	}
	if dx[1] != "" {
		return nil, b.noGrad("float indices")
	}
	data, upd := dx[0], dx[2]
	if data == "" {
		data = b.zerosLike(input(n, 0))
	}
	if upd == "" {
		upd = b.zerosLike(input(n, 2))
	}
	return b.again(n, []string{data, input(n, 1), upd}), nil
}

func tanAdd(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	y := n.GetOutput()[0]
	terms := make([]string, len(dx))
	for i, d := range dx {
		if d != "" && n.GetOpType() == "Sub" && i == 1 {
			d = b.like(b.op("Neg", []string{d}), input(n, 1))
		}
		terms[i] = d
	}
	return []string{b.expandTo(b.sum(terms...), y)}, nil
}

func tanMul(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	y := n.GetOutput()[0]
	var t1, t2 string
	if dx[0] != "" {
		t1 = b.like(b.op("Mul", []string{dx[0], input(n, 1)}), y)
	}
	if dx[1] != "" {
		t2 = b.like(b.op("Mul", []string{input(n, 0), dx[1]}), y)
	}
	return []string{b.expandTo(b.like(b.sum(t1, t2), y), y)}, nil
}

func tanDiv(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	c, y := input(n, 1), n.GetOutput()[0]
	var t string
	if dx[0] != "" {
		t = b.like(b.op("Div", []string{dx[0], c}), y)
	}
	if dx[1] != "" {
		q := b.like(b.op("Div", []string{b.op("Mul", []string{y, dx[1]}), c}), y)
		if t == "" {
			t = b.like(b.op("Neg", []string{q}), y)
		} else {
			t = b.like(b.op("Sub", []string{t, q}), y)
		}
	}
	return []string{b.expandTo(t, y)}, nil
}

func tanWhere(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	y := n.GetOutput()[0]
	zero := b.cf(b.dt(y), 0)
	a, c := dx[1], dx[2]
	if a == "" {
		a = zero
	}
	if c == "" {
		c = zero
	}
	t := b.like(b.op("Where", []string{input(n, 0), a, c}), y)
	return []string{b.expandTo(t, y)}, nil
}

// mask returns Where(cond, t, 0) shaped like y.
func (b *gradBuilder) mask(cond, t, y string) string {
	return b.expandTo(b.like(b.op("Where", []string{cond, t, b.cf(b.dt(y), 0)}), y), y)
}

func tanRelu(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	// The same mask as gradRelu's, so that the product is the derivative of
	// the gradient graph as built.
	y := n.GetOutput()[0]
	return []string{b.expandTo(b.like(b.op("Mul", []string{dx[0], b.reluMask(y)}), y), y)}, nil
}

func tanLeakyRelu(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	x, y := input(n, 0), n.GetOutput()[0]
	alpha := attrFloat(n, "alpha", 0.01)
	neg := b.op("Mul", []string{dx[0], b.cf(b.dt(x), float64(float32(alpha)))})
	return []string{b.like(b.op("Where", []string{b.op("Greater", []string{x, b.cf(b.dt(x), 0)}), dx[0], neg}), y)}, nil
}

// scaled returns dx * f, shaped like y.
func (b *gradBuilder) scaled(dx, f, y string) string {
	return b.like(b.op("Mul", []string{dx, f}), y)
}

func tanSigmoid(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	y := n.GetOutput()[0]
	return []string{b.scaled(dx[0], b.op("Mul", []string{y, b.op("Sub", []string{b.cf(b.dt(y), 1), y})}), y)}, nil
}

func tanTanh(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	y := n.GetOutput()[0]
	return []string{b.scaled(dx[0], b.op("Sub", []string{b.cf(b.dt(y), 1), b.op("Mul", []string{y, y})}), y)}, nil
}

func tanExp(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	y := n.GetOutput()[0]
	return []string{b.scaled(dx[0], y, y)}, nil
}

func tanLog(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	y := n.GetOutput()[0]
	return []string{b.like(b.op("Div", []string{dx[0], input(n, 0)}), y)}, nil
}

func tanSqrt(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	y := n.GetOutput()[0]
	return []string{b.like(b.op("Div", []string{b.op("Mul", []string{dx[0], b.cf(b.dt(y), 0.5)}), y}), y)}, nil
}

func tanReciprocal(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	y := n.GetOutput()[0]
	return []string{b.like(b.op("Neg", []string{b.op("Mul", []string{dx[0], b.op("Mul", []string{y, y})})}), y)}, nil
}

func tanSoftplus(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	y := n.GetOutput()[0]
	return []string{b.scaled(dx[0], b.op("Sigmoid", []string{input(n, 0)}), y)}, nil
}

func tanAbs(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	y := n.GetOutput()[0]
	return []string{b.scaled(dx[0], b.op("Sign", []string{input(n, 0)}), y)}, nil
}

func tanClip(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	if len(dx) > 1 && dx[1] != "" || len(dx) > 2 && dx[2] != "" {
		return nil, b.noGrad("the bounds of Clip depend on the weights")
	}
	y := n.GetOutput()[0]
	m := b.clipMask(n)
	if m == "" {
		return []string{dx[0]}, nil
	}
	return []string{b.mask(m, dx[0], y)}, nil
}

func tanSoftmax(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	y := n.GetOutput()[0]
	yt := b.like(b.op("Mul", []string{y, dx[0]}), y)
	s := b.op("ReduceSum", []string{yt, b.ci(softmaxAxis(n))}, attrI("keepdims", 1))
	return []string{b.like(b.op("Sub", []string{yt, b.op("Mul", []string{y, s})}), y)}, nil
}

func tanLogSoftmax(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	y := n.GetOutput()[0]
	s := b.op("ReduceSum", []string{b.op("Mul", []string{b.op("Exp", []string{y}), dx[0]}), b.ci(softmaxAxis(n))}, attrI("keepdims", 1))
	return []string{b.like(b.op("Sub", []string{dx[0], s}), y)}, nil
}

func tanGemm(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	A, B, y := input(n, 0), input(n, 1), n.GetOutput()[0]
	beta := attrFloat(n, "beta", 1)
	var attrs []*onnxpb.AttributeProto
	for _, a := range n.GetAttribute() {
		if a.GetName() != "beta" {
			attrs = append(attrs, a)
		}
	}
	gemm := func(a, c string) string {
		return b.like(b.op("Gemm", []string{a, c}, attrs...), y)
	}
	var t1, t2, t3 string
	if dx[0] != "" {
		t1 = gemm(dx[0], B)
	}
	if dx[1] != "" {
		t2 = gemm(A, dx[1])
	}
	if len(dx) > 2 && dx[2] != "" {
		t3 = dx[2]
		if beta != 1 {
			t3 = b.like(b.op("Mul", []string{t3, b.cf(b.dt(y), float64(float32(beta)))}), input(n, 2))
		}
	}
	return []string{b.expandTo(b.like(b.sum(t1, t2, t3), y), y)}, nil
}

func tanMatMul(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	A, B, y := input(n, 0), input(n, 1), n.GetOutput()[0]
	var t1, t2 string
	if dx[0] != "" {
		t1 = b.like(b.op("MatMul", []string{dx[0], B}), y)
	}
	if dx[1] != "" {
		t2 = b.like(b.op("MatMul", []string{A, dx[1]}), y)
	}
	return []string{b.like(b.sum(t1, t2), y)}, nil
}

// tanConv is the rule of Conv and ConvTranspose, linear in the input and in
// the weight and bias together.
func tanConv(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	x, w, y := input(n, 0), input(n, 1), n.GetOutput()[0]
	bias := ""
	if len(dx) > 2 {
		bias = dx[2]
	}
	var t1, t2 string
	if dx[0] != "" {
		t1 = b.again(n, []string{dx[0], w})[0]
	}
	switch {
	case dx[1] != "" && bias != "":
		t2 = b.again(n, []string{x, dx[1], bias})[0]
	case dx[1] != "":
		t2 = b.again(n, []string{x, dx[1]})[0]
	case bias != "":
		r := b.rank(y)
		if r < 0 {
			return nil, b.noGrad("output of unknown rank")
		}
		shape := []int64{1, -1}
		for i := 2; i < r; i++ {
			shape = append(shape, 1)
		}
		t2 = b.op("Reshape", []string{bias, b.ci(shape...)})
		if t1 == "" {
			t2 = b.expandTo(b.like(t2, bias), y)
		}
	}
	return []string{b.like(b.sum(t1, t2), y)}, nil
}

func tanBatchNorm(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	if n.AttrInt("training_mode", 0) != 0 {
		return nil, b.noGrad("training_mode=1 is not inference")
	}
	x, scale, mean, variance, y := input(n, 0), input(n, 1), input(n, 3), input(n, 4), n.GetOutput()[0]
	r := b.rank(x)
	if r < 2 {
		return nil, b.noGrad("input of unknown rank")
	}
	dt := b.dt(x)
	bc := func(v string) string {
		if r == 2 {
			return v
		}
		shape := []int64{-1}
		for i := 2; i < r; i++ {
			shape = append(shape, 1)
		}
		return b.op("Reshape", []string{b.castTo(v, dt), b.ci(shape...)})
	}
	var terms []string
	if dx[0] != "" {
		// The normalisation of the tangent with zero shift and mean.
		z := b.zerosLike(mean)
		terms = append(terms, b.like(b.op("BatchNormalization", []string{dx[0], scale, z, z, variance}, attrF("epsilon", float32(attrFloat(n, "epsilon", 1e-5)))), y))
	}
	if dx[1] != "" || dx[2] != "" || dx[3] != "" || dx[4] != "" {
		vt := b.dt(variance)
		inv := b.op("Reciprocal", []string{b.op("Sqrt", []string{b.op("Add", []string{variance, b.cf(vt, float64(float32(attrFloat(n, "epsilon", 1e-5))))})})})
		// y = (x - mean) c1 + B with c1 = scale * inv: the tangent is
		// (x - mean) dc1 + dB - c1 dmean.
		var dc1 string
		if dx[1] != "" {
			dc1 = b.op("Mul", []string{dx[1], inv})
		}
		if dx[4] != "" {
			cube := b.op("Mul", []string{inv, b.op("Mul", []string{inv, inv})})
			dv := b.op("Mul", []string{b.op("Mul", []string{scale, cube}), b.op("Mul", []string{dx[4], b.cf(vt, -0.5)})})
			dc1 = b.sum(dc1, dv)
		}
		if dc1 != "" {
			xc := b.op("Sub", []string{x, bc(mean)})
			terms = append(terms, b.like(b.op("Mul", []string{xc, bc(dc1)}), y))
		}
		var d0 string
		if dx[2] != "" {
			d0 = dx[2]
		}
		if dx[3] != "" {
			d0 = b.sum(d0, b.op("Neg", []string{b.op("Mul", []string{b.op("Mul", []string{scale, inv}), dx[3]})}))
		}
		if d0 != "" {
			terms = append(terms, bc(d0))
		}
	}
	t := b.sum(terms...)
	b.setInfo(t, dt, nil, false)
	return []string{b.expandTo(t, y)}, nil
}

func tanMaxPool(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	if n.AttrInt("storage_order", 0) != 0 {
		return nil, b.noGrad("storage_order=1 is not supported")
	}
	y := n.GetOutput()[0]
	if len(n.Output) < 2 || n.Output[1] == "" {
		return nil, b.noGrad("max pool without the indices its gradient rule adds")
	}
	// The indices point into the input flattened whole: the tangent of each
	// maximum is the tangent of the element it came from.
	flat := b.op("Reshape", []string{dx[0], b.ci(-1)})
	b.setInfo(flat, b.dt(y), []int64{dimUnknown}, true)
	return []string{b.like(b.op("Gather", []string{flat, n.Output[1]}, attrI("axis", 0)), y)}, nil
}

// kinkOps are the ops whose derivative jumps somewhere: a loss built with
// them is only piecewise smooth, and a difference of losses across a kink
// measures something else than the derivative on either side.
var kinkOps = map[string]bool{
	"Relu": true, "LeakyRelu": true, "PRelu": true, "MaxPool": true, "Abs": true, "Clip": true,
	"Max": true, "Min": true, "ReduceMax": true, "ReduceMin": true, "HardSigmoid": true, "HardSwish": true,
	"Elu": true, "Selu": true, "Sign": true, "Floor": true, "Ceil": true, "Round": true, "ReduceL1": true,
}

// Kinks returns the op types of m's main graph whose derivatives jump, sorted;
// none means the model's loss is smooth in its weights. (A Where is not
// counted: exporters use it for masks that do not depend on the weights.)
func Kinks(m *onnx.Model) []string {
	seen := make(map[string]bool)
	for _, n := range onnxmodel.Graph(m).GetNode() {
		if d := n.GetDomain(); (d == "" || d == "ai.onnx") && kinkOps[n.GetOpType()] {
			seen[n.GetOpType()] = true
		}
	}
	var ops []string
	for op := range seen {
		ops = append(ops, op)
	}
	slices.Sort(ops)
	return ops
}
