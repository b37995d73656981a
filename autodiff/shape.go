package autodiff

import (
	"slices"

	"github.com/lsweep/lsweep/internal/onnxmodel"
	"github.com/lsweep/lsweep/internal/onnxpb"
	"github.com/lsweep/lsweep/onnx"
)

// vinfo is what the gradient builder knows of a value: its element type and
// its shape. A dimension is >= 0 when fixed, dimUnknown when nothing is known,
// and <= -2 for a symbol: two dimensions with the same symbol are equal at
// run time (the batch dimension, say).
type vinfo struct {
	dt     onnx.DataType
	dims   []int64
	ranked bool // the rank, len(dims), is known
}

const dimUnknown = -1

// static reports whether every dimension is fixed.
func (v *vinfo) static() bool {
	if v == nil || !v.ranked {
		return false
	}
	for _, d := range v.dims {
		if d < 0 {
			return false
		}
	}
	return true
}

// sameDim reports whether two dimensions are known to be equal.
func sameDim(a, b int64) bool { return a == b && a != dimUnknown }

// sameShape reports whether two shapes are known to be equal.
func sameShape(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !sameDim(a[i], b[i]) {
			return false
		}
	}
	return true
}

// rank returns the rank of v, or -1 when unknown.
func (b *gradBuilder) rank(v string) int {
	if vi := b.info[v]; vi != nil && vi.ranked {
		return len(vi.dims)
	}
	return -1
}

// dt returns the element type of v.
func (b *gradBuilder) dt(v string) onnx.DataType {
	if vi := b.info[v]; vi != nil {
		return vi.dt
	}
	return onnx.Undefined
}

func (b *gradBuilder) symbol(param string) int64 {
	if s, ok := b.syms[param]; ok {
		return s
	}
	s := b.nextSym
	b.nextSym--
	b.syms[param] = s
	return s
}

func (b *gradBuilder) fromValueInfo(vi *onnxpb.ValueInfoProto) *vinfo {
	tt := vi.GetType().GetTensorType()
	out := &vinfo{dt: onnx.DataType(tt.GetElemType())}
	if tt.GetShape() == nil {
		return out
	}
	out.ranked = true
	out.dims = []int64{}
	for _, d := range tt.GetShape().GetDim() {
		switch v := d.GetValue().(type) {
		case *onnxpb.TensorShapeProto_Dimension_DimValue:
			out.dims = append(out.dims, v.DimValue)
		case *onnxpb.TensorShapeProto_Dimension_DimParam:
			out.dims = append(out.dims, b.symbol(v.DimParam))
		default:
			out.dims = append(out.dims, dimUnknown)
		}
	}
	return out
}

// ints returns the values of a stored or builder-made integer tensor.
func (b *gradBuilder) ints(name string) ([]int64, bool) {
	if name == "" {
		return nil, false
	}
	for _, t := range b.inits {
		if t.GetName() == name && onnx.DataType(t.GetDataType()) == onnx.Int64 {
			return t.GetInt64Data(), true
		}
	}
	t := b.stored[name]
	if t == nil || onnx.DataType(t.GetDataType()).IsFloat() || b.wrt[name] {
		return nil, false
	}
	v, err := onnxmodel.ReadTensor(b.m, t)
	if err != nil {
		return nil, false
	}
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out, true
}

// floats returns the values of a stored float tensor that is not
// differentiated.
func (b *gradBuilder) floats(name string) ([]float64, bool) {
	t := b.stored[name]
	if t == nil || b.wrt[name] {
		return nil, false
	}
	v, err := onnxmodel.ReadTensor(b.m, t)
	return v, err == nil
}

// infer records the type and shape of n's outputs, from its inputs and, where
// the rules here know nothing, from the model's own annotations.
func (b *gradBuilder) infer(n *onnxpb.NodeProto, declared map[string]*onnxpb.ValueInfoProto) {
	b.node = n
	ins := make([]*vinfo, len(n.GetInput()))
	for i, in := range n.GetInput() {
		ins[i] = b.info[in]
		if ins[i] == nil {
			ins[i] = &vinfo{}
		}
	}
	outs := b.inferOp(n, ins)
	for i, o := range n.GetOutput() {
		if o == "" {
			continue
		}
		var vi *vinfo
		if i < len(outs) && outs[i] != nil {
			vi = outs[i]
		}
		if d := declared[o]; d != nil {
			dv := b.fromValueInfo(d)
			switch {
			case vi == nil:
				vi = dv
			case !vi.ranked && dv.ranked:
				vi.dims, vi.ranked = dv.dims, true
			case vi.ranked && dv.ranked && len(vi.dims) == len(dv.dims):
				for k, dim := range vi.dims {
					if dim == dimUnknown && dv.dims[k] >= 0 {
						vi.dims[k] = dv.dims[k]
					}
				}
			}
			if vi.dt == onnx.Undefined {
				vi.dt = dv.dt
			}
		}
		if vi == nil {
			vi = &vinfo{}
		}
		if vi.dt == onnx.Undefined {
			// The shape may be unknowable here, but the type must be known:
			// an output of unknown type cannot be told to depend on the
			// weights, and a dependence lost is a gradient silently zero.
			vi.dt = fallbackType(n, ins, i)
		}
		b.info[o] = vi
	}
}

// fallbackType is the element type of output i of n when the rules of
// inferOp could not say more: what the op's definition fixes (taken from
// the ONNX schemas: every default-domain op whose output type is not that of
// its first input is listed), else the type of its first input. Ops of other
// domains and ops of sequences, optionals and subgraphs get Undefined, which
// counts as depending on the weights wherever an input does, so that such a
// node on the path to the loss is an error, not a constant.
func fallbackType(n *onnxpb.NodeProto, in []*vinfo, i int) onnx.DataType {
	at := func(k int) onnx.DataType {
		if k < len(in) {
			return in[k].dt
		}
		return onnx.Undefined
	}
	attrType := func(name string, def onnx.DataType) onnx.DataType {
		if a := n.Attr(name); a != nil {
			return onnx.DataType(a.GetI())
		}
		return def
	}
	if d := n.GetDomain(); d != "" && d != "ai.onnx" {
		return onnx.Undefined
	}
	switch n.GetOpType() {
	case "Shape", "Size", "NonZero", "ArgMax", "ArgMin", "NonMaxSuppression", "SequenceLength":
		return onnx.Int64
	case "Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual", "And", "Or", "Xor", "Not", "IsNaN", "IsInf",
		"OptionalHasElement", "RegexFullMatch":
		return onnx.Bool
	case "Cast":
		return onnx.DataType(n.AttrInt("to", 0))
	case "CastLike", "Where", "DequantizeLinear":
		return at(1)
	case "OneHot":
		return at(2)
	case "QLinearConv", "QLinearMatMul":
		return at(7)
	case "QuantizeLinear":
		if len(in) > 2 && in[2].dt != onnx.Undefined {
			return in[2].dt
		}
		return onnx.Uint8
	case "DynamicQuantizeLinear":
		if i == 1 {
			return onnx.Float
		}
		return onnx.Uint8
	case "ConvInteger", "MatMulInteger":
		return onnx.Int32
	case "ConstantOfShape":
		if a := n.Attr("value"); a != nil && a.GetT() != nil {
			return onnx.DataType(a.GetT().GetDataType())
		}
		return onnx.Float
	case "Bernoulli", "EyeLike", "RandomNormalLike", "RandomUniformLike":
		return attrType("dtype", at(0))
	case "RandomNormal", "RandomUniform":
		return attrType("dtype", onnx.Float)
	case "Multinomial":
		return attrType("dtype", onnx.Int32)
	case "HannWindow", "HammingWindow", "BlackmanWindow", "MelWeightMatrix":
		return attrType("output_datatype", onnx.Float)
	case "TfIdfVectorizer":
		return onnx.Float
	case "Dropout":
		if i == 1 {
			return onnx.Bool
		}
	case "MaxPool", "TopK":
		if i == 1 {
			return onnx.Int64
		}
	case "Unique":
		if i > 0 {
			return onnx.Int64
		}
	case "BatchNormalization":
		if i > 0 {
			return at(3)
		}
	case "LayerNormalization":
		if i > 0 {
			return attrType("stash_type", onnx.Float)
		}
	case "If", "Loop", "Scan", "Optional", "OptionalGetElement", "SequenceAt", "SequenceConstruct", "SequenceEmpty",
		"SequenceInsert", "SequenceErase", "SplitToSequence", "ConcatFromSequence", "SequenceMap":
		return onnx.Undefined
	}
	return at(0)
}

func ranked(dt onnx.DataType, dims []int64) *vinfo {
	return &vinfo{dt: dt, dims: dims, ranked: dims != nil}
}

func unknownDims(r int) []int64 {
	d := make([]int64, r)
	for i := range d {
		d[i] = dimUnknown
	}
	return d
}

// broadcastDims returns the numpy broadcast of shapes; nil if a rank is
// unknown.
func broadcastDims(shapes ...*vinfo) []int64 {
	r := 0
	for _, s := range shapes {
		if !s.ranked {
			return nil
		}
		r = max(r, len(s.dims))
	}
	out := make([]int64, r)
	for i := range out {
		out[i] = 1
	}
	for _, s := range shapes {
		lead := r - len(s.dims)
		for i, d := range s.dims {
			o := &out[lead+i]
			switch {
			case d == 1:
			case *o == 1:
				*o = d
			case sameDim(*o, d):
			case *o > 1:
			case d > 1:
				*o = d
			default:
				*o = dimUnknown
			}
		}
	}
	return out
}

// prodDims multiplies dimensions: fixed when all are, the symbol when one
// symbol is multiplied by ones, unknown otherwise.
func prodDims(dims []int64) int64 {
	p := int64(1)
	sym := int64(0)
	for _, d := range dims {
		switch {
		case d >= 0:
			p *= d
		case d <= -2 && sym == 0:
			sym = d
		default:
			return dimUnknown
		}
	}
	if sym != 0 {
		if p == 1 {
			return sym
		}
		return dimUnknown
	}
	return p
}

func normAxis(a int64, r int) int {
	if a < 0 {
		a += int64(r)
	}
	return int(a)
}

func (b *gradBuilder) inferOp(n *onnxpb.NodeProto, in []*vinfo) []*vinfo {
	op := n.GetOpType()
	if d := n.GetDomain(); d != "" && d != "ai.onnx" {
		return nil
	}
	x := &vinfo{}
	if len(in) > 0 {
		x = in[0]
	}
	same := func() []*vinfo { return []*vinfo{ranked(x.dt, slices.Clone(x.dims))} }
	switch op {
	case "Constant":
		if a := n.Attr("value"); a != nil && a.GetT() != nil {
			// A scalar's dims are empty, not unknown.
			return []*vinfo{ranked(onnx.DataType(a.GetT().GetDataType()), append([]int64{}, a.GetT().GetDims()...))}
		}
		switch {
		case n.Attr("value_float") != nil:
			return []*vinfo{ranked(onnx.Float, []int64{})}
		case n.Attr("value_int") != nil:
			return []*vinfo{ranked(onnx.Int64, []int64{})}
		case n.Attr("value_floats") != nil:
			return []*vinfo{ranked(onnx.Float, []int64{int64(len(n.Attr("value_floats").GetFloats()))})}
		case n.Attr("value_ints") != nil:
			return []*vinfo{ranked(onnx.Int64, []int64{int64(len(n.Attr("value_ints").GetInts()))})}
		}
		return nil
	case "Identity", "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Neg", "Exp", "Log",
		"Sqrt", "Abs", "Reciprocal", "Softplus", "Clip", "Elu", "Erf", "Floor", "Ceil", "Round", "Sign",
		"HardSigmoid", "Selu", "Softsign", "Sin", "Cos", "InstanceNormalization", "LRN", "HardSwish", "Gelu",
		"Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "Mish", "ThresholdedRelu", "Shrink", "Celu":
		return same()
	case "BatchNormalization":
		return same()
	case "LayerNormalization":
		// Y, and the Mean and InvStdDev with the normalised axes kept, in
		// the stash type.
		outs := same()
		stash := onnx.DataType(n.AttrInt("stash_type", int64(onnx.Float)))
		var stat []int64
		if x.ranked {
			stat = slices.Clone(x.dims)
			for a := normAxis(n.AttrInt("axis", -1), len(stat)); a >= 0 && a < len(stat); a++ {
				stat[a] = 1
			}
		}
		for range n.GetOutput()[1:] {
			outs = append(outs, ranked(stash, slices.Clone(stat)))
		}
		return outs
	case "CumSum":
		return same()
	case "Dropout":
		return []*vinfo{ranked(x.dt, slices.Clone(x.dims)), ranked(onnx.Bool, slices.Clone(x.dims))}
	case "Cast":
		return []*vinfo{ranked(onnx.DataType(n.AttrInt("to", 0)), slices.Clone(x.dims))}
	case "CastLike":
		if len(in) > 1 {
			return []*vinfo{ranked(in[1].dt, slices.Clone(x.dims))}
		}
	case "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum", "Mean", "PRelu", "Mod":
		return []*vinfo{ranked(x.dt, broadcastDims(in...))}
	case "Equal", "Greater", "Less", "GreaterOrEqual", "LessOrEqual", "And", "Or", "Xor":
		return []*vinfo{ranked(onnx.Bool, broadcastDims(in...))}
	case "Not":
		return []*vinfo{ranked(onnx.Bool, slices.Clone(x.dims))}
	case "Where":
		if len(in) == 3 {
			return []*vinfo{ranked(in[1].dt, broadcastDims(in...))}
		}
	case "MatMul":
		if len(in) == 2 {
			return []*vinfo{ranked(x.dt, matMulDims(in[0], in[1]))}
		}
	case "Gemm":
		if len(in) >= 2 && in[0].ranked && in[1].ranked && len(in[0].dims) == 2 && len(in[1].dims) == 2 {
			m, nn := in[0].dims[0], in[1].dims[1]
			if n.AttrInt("transA", 0) != 0 {
				m = in[0].dims[1]
			}
			if n.AttrInt("transB", 0) != 0 {
				nn = in[1].dims[0]
			}
			return []*vinfo{ranked(x.dt, []int64{m, nn})}
		}
		return []*vinfo{ranked(x.dt, unknownDims(2))}
	case "Conv", "ConvTranspose", "MaxPool", "AveragePool", "LpPool":
		return b.inferWindow(n, in)
	case "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool":
		if !x.ranked || len(x.dims) < 2 {
			return nil
		}
		d := slices.Clone(x.dims)
		for i := 2; i < len(d); i++ {
			d[i] = 1
		}
		return []*vinfo{ranked(x.dt, d)}
	case "Flatten":
		if !x.ranked {
			return []*vinfo{ranked(x.dt, unknownDims(2))}
		}
		a := normAxis(n.AttrInt("axis", 1), len(x.dims))
		if a < 0 || a > len(x.dims) {
			return nil
		}
		return []*vinfo{ranked(x.dt, []int64{prodDims(x.dims[:a]), prodDims(x.dims[a:])})}
	case "Reshape":
		return []*vinfo{ranked(x.dt, b.reshapeDims(n, x))}
	case "Transpose":
		if !x.ranked {
			return nil
		}
		perm := attrInts(n, "perm")
		if perm == nil {
			for i := len(x.dims) - 1; i >= 0; i-- {
				perm = append(perm, int64(i))
			}
		}
		if len(perm) != len(x.dims) {
			return nil
		}
		d := make([]int64, len(perm))
		for i, p := range perm {
			if p < 0 || int(p) >= len(x.dims) {
				return nil
			}
			d[i] = x.dims[p]
		}
		return []*vinfo{ranked(x.dt, d)}
	case "Squeeze", "Unsqueeze":
		if !x.ranked {
			return nil
		}
		axes, ok := b.ints(input(n, 1))
		if !ok {
			axes = attrInts(n, "axes")
		}
		if op == "Squeeze" && len(axes) == 0 {
			var d []int64
			for _, dim := range x.dims {
				if dim < 0 {
					return nil
				}
				if dim != 1 {
					d = append(d, dim)
				}
			}
			return []*vinfo{ranked(x.dt, append([]int64{}, d...))}
		}
		if len(axes) == 0 && input(n, 1) != "" {
			return nil
		}
		return []*vinfo{ranked(x.dt, onnx.SqueezeShape(op, x.dims, axes))}
	case "Concat":
		if !x.ranked {
			return nil
		}
		a := normAxis(n.AttrInt("axis", 0), len(x.dims))
		if a < 0 || a >= len(x.dims) {
			return nil
		}
		d := slices.Clone(x.dims)
		sum := int64(0)
		for _, v := range in {
			if !v.ranked || len(v.dims) != len(d) || v.dims[a] < 0 {
				sum = dimUnknown
				break
			}
			sum += v.dims[a]
		}
		d[a] = sum
		for i := range d {
			if i == a {
				continue
			}
			for _, v := range in {
				if v.ranked && len(v.dims) == len(d) && d[i] == dimUnknown {
					d[i] = v.dims[i]
				}
			}
		}
		return []*vinfo{ranked(x.dt, d)}
	case "Pad":
		if !x.ranked {
			return nil
		}
		pads, ok := b.ints(input(n, 1))
		if !ok {
			return []*vinfo{ranked(x.dt, unknownDims(len(x.dims)))}
		}
		axes := make([]int64, len(x.dims))
		for i := range axes {
			axes[i] = int64(i)
		}
		if a, ok := b.ints(input(n, 3)); ok {
			axes = a
		}
		if len(pads) != 2*len(axes) {
			return nil
		}
		d := slices.Clone(x.dims)
		for i, a := range axes {
			a := normAxis(a, len(d))
			if d[a] >= 0 {
				d[a] += pads[i] + pads[i+len(axes)]
			} else {
				d[a] = dimUnknown
			}
		}
		return []*vinfo{ranked(x.dt, d)}
	case "Shape":
		if !x.ranked {
			return []*vinfo{ranked(onnx.Int64, unknownDims(1))}
		}
		r := int64(len(x.dims))
		start, end := n.AttrInt("start", 0), n.AttrInt("end", r)
		if start < 0 {
			start += r
		}
		if end < 0 {
			end += r
		}
		start, end = min(max(start, 0), r), min(max(end, 0), r)
		return []*vinfo{ranked(onnx.Int64, []int64{max(end-start, 0)})}
	case "Size":
		return []*vinfo{ranked(onnx.Int64, []int64{})}
	case "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
		"ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare":
		if !x.ranked {
			return nil
		}
		axes, ok := b.ints(input(n, 1))
		if !ok {
			axes = attrInts(n, "axes")
		}
		if len(axes) == 0 && n.AttrInt("noop_with_empty_axes", 0) != 0 {
			return same()
		}
		return []*vinfo{ranked(x.dt, reduceDims(x.dims, axes, n.AttrInt("keepdims", 1) != 0))}
	case "ArgMax", "ArgMin":
		if !x.ranked {
			return nil
		}
		return []*vinfo{ranked(onnx.Int64, reduceDims(x.dims, []int64{n.AttrInt("axis", 0)}, n.AttrInt("keepdims", 1) != 0))}
	case "Gather":
		if len(in) < 2 || !x.ranked || !in[1].ranked {
			return nil
		}
		a := normAxis(n.AttrInt("axis", 0), len(x.dims))
		if a < 0 || a >= len(x.dims) {
			return nil
		}
		d := append(append(slices.Clone(x.dims[:a]), in[1].dims...), x.dims[a+1:]...)
		return []*vinfo{ranked(x.dt, d)}
	case "ConstantOfShape":
		dt := onnx.Float
		if a := n.Attr("value"); a != nil && a.GetT() != nil {
			dt = onnx.DataType(a.GetT().GetDataType())
		}
		if s, ok := b.ints(input(n, 0)); ok {
			return []*vinfo{ranked(dt, slices.Clone(s))}
		}
		if x.ranked && len(x.dims) == 1 && x.dims[0] >= 0 {
			return []*vinfo{ranked(dt, unknownDims(int(x.dims[0])))}
		}
		return []*vinfo{{dt: dt}}
	case "Expand":
		if s, ok := b.ints(input(n, 1)); ok && x.ranked {
			return []*vinfo{ranked(x.dt, broadcastDims(x, ranked(x.dt, s)))}
		}
		if si := in[1]; x.ranked && si.ranked && len(si.dims) == 1 && si.dims[0] >= 0 {
			return []*vinfo{ranked(x.dt, broadcastDims(x, ranked(x.dt, unknownDims(int(si.dims[0])))))}
		}
		return []*vinfo{{dt: x.dt}}
	case "Slice":
		return []*vinfo{ranked(x.dt, b.sliceDims(n, x))}
	case "Split":
		return b.splitInfo(n, x)
	case "Range":
		return []*vinfo{ranked(x.dt, unknownDims(1))}
	case "Trilu":
		return same()
	case "Tile":
		if !x.ranked {
			return nil
		}
		d := unknownDims(len(x.dims))
		if reps, ok := b.ints(input(n, 1)); ok && len(reps) == len(d) {
			for i, v := range x.dims {
				if v >= 0 {
					d[i] = v * reps[i]
				}
			}
		}
		return []*vinfo{ranked(x.dt, d)}
	case "Einsum":
		return b.einsumInfo(n, in)
	}
	return nil
}

func reduceDims(dims, axes []int64, keep bool) []int64 {
	r := len(dims)
	red := make(map[int]bool)
	for _, a := range axes {
		red[normAxis(a, r)] = true
	}
	d := []int64{}
	for i, dim := range dims {
		switch {
		case len(axes) == 0 || red[i]:
			if keep {
				d = append(d, 1)
			}
		default:
			d = append(d, dim)
		}
	}
	return d
}

func matMulDims(a, b *vinfo) []int64 {
	if !a.ranked || !b.ranked || len(a.dims) == 0 || len(b.dims) == 0 {
		return nil
	}
	ad, bd := a.dims, b.dims
	if len(ad) == 1 {
		ad = []int64{1, ad[0]}
	}
	if len(bd) == 1 {
		bd = []int64{bd[0], 1}
	}
	batch := broadcastDims(ranked(a.dt, ad[:len(ad)-2]), ranked(b.dt, bd[:len(bd)-2]))
	out := append(batch, ad[len(ad)-2], bd[len(bd)-1])
	if len(b.dims) == 1 {
		out = out[:len(out)-1]
	}
	if len(a.dims) == 1 {
		if len(b.dims) == 1 {
			return []int64{}
		}
		out = append(out[:len(out)-2], out[len(out)-1])
	}
	return out
}

// reshapeDims infers Reshape's output shape.
func (b *gradBuilder) reshapeDims(n *onnxpb.NodeProto, x *vinfo) []int64 {
	target, ok := b.ints(input(n, 1))
	if !ok {
		if si := b.info[input(n, 1)]; si != nil && si.ranked && len(si.dims) == 1 && si.dims[0] >= 0 {
			return unknownDims(int(si.dims[0]))
		}
		return nil
	}
	allowZero := n.AttrInt("allowzero", 0) != 0
	out := make([]int64, len(target))
	infer := -1
	for i, d := range target {
		switch {
		case d == 0 && !allowZero:
			if !x.ranked || i >= len(x.dims) {
				out[i] = dimUnknown
			} else {
				out[i] = x.dims[i]
			}
		case d == -1:
			infer = i
			out[i] = dimUnknown
		default:
			out[i] = d
		}
	}
	if infer < 0 || !x.ranked {
		return out
	}
	// The inferred dimension: the input's size over the known ones, with
	// symbols cancelling.
	num, syms, ok := splitProd(x.dims)
	den, dsyms, ok2 := splitProd(append(slices.Clone(out[:infer]), out[infer+1:]...))
	if !ok || !ok2 || den == 0 {
		return out
	}
	for _, s := range dsyms {
		k := slices.Index(syms, s)
		if k < 0 {
			return out
		}
		syms = slices.Delete(syms, k, k+1)
	}
	if num%den != 0 {
		return out
	}
	q := num / den
	switch {
	case len(syms) == 0:
		out[infer] = q
	case len(syms) == 1 && q == 1:
		out[infer] = syms[0]
	}
	return out
}

// splitProd splits a product of dimensions into its fixed part and its
// symbols; ok is false when a dimension is unknown.
func splitProd(dims []int64) (p int64, syms []int64, ok bool) {
	p = 1
	for _, d := range dims {
		switch {
		case d >= 0:
			p *= d
		case d <= -2:
			syms = append(syms, d)
		default:
			return 0, nil, false
		}
	}
	return p, syms, true
}

func (b *gradBuilder) sliceDims(n *onnxpb.NodeProto, x *vinfo) []int64 {
	if !x.ranked {
		return nil
	}
	r := len(x.dims)
	d := slices.Clone(x.dims)
	starts, ok1 := b.ints(input(n, 1))
	ends, ok2 := b.ints(input(n, 2))
	if !ok1 || !ok2 {
		if input(n, 1) == "" && n.Attr("starts") != nil {
			starts, ends, ok1, ok2 = attrInts(n, "starts"), attrInts(n, "ends"), true, true
		}
	}
	if !ok1 || !ok2 || len(starts) != len(ends) {
		return unknownDims(r)
	}
	axes, ok := b.ints(input(n, 3))
	if !ok {
		if input(n, 3) != "" {
			return unknownDims(r)
		}
		axes = attrInts(n, "axes")
		if axes == nil {
			for i := range starts {
				axes = append(axes, int64(i))
			}
		}
	}
	steps, ok := b.ints(input(n, 4))
	if !ok {
		if input(n, 4) != "" {
			return unknownDims(r)
		}
		steps = make([]int64, len(starts))
		for i := range steps {
			steps[i] = 1
		}
	}
	if len(axes) != len(starts) || len(steps) != len(starts) {
		return unknownDims(r)
	}
	for i, a := range axes {
		a := normAxis(a, r)
		if a < 0 || a >= r {
			return unknownDims(r)
		}
		dim := d[a]
		if dim < 0 || steps[i] == 0 {
			d[a] = dimUnknown
			continue
		}
		s, e, st := starts[i], ends[i], steps[i]
		clamp := func(v, lo, hi int64) int64 { return min(max(v, lo), hi) }
		if s < 0 {
			s += dim
		}
		if e < 0 {
			e += dim
		}
		if st > 0 {
			s, e = clamp(s, 0, dim), clamp(e, 0, dim)
			d[a] = max(0, (e-s+st-1)/st)
		} else {
			s, e = clamp(s, 0, dim-1), clamp(e, -1, dim-1)
			d[a] = max(0, (s-e-st-1)/(-st))
		}
	}
	return d
}

func (b *gradBuilder) splitInfo(n *onnxpb.NodeProto, x *vinfo) []*vinfo {
	k := len(n.GetOutput())
	outs := make([]*vinfo, k)
	if !x.ranked {
		return nil
	}
	a := normAxis(n.AttrInt("axis", 0), len(x.dims))
	if a < 0 || a >= len(x.dims) {
		return nil
	}
	sizes, ok := b.ints(input(n, 1))
	if !ok {
		sizes = attrInts(n, "split")
	}
	dim := x.dims[a]
	for i := range outs {
		d := slices.Clone(x.dims)
		switch {
		case len(sizes) == k:
			d[a] = sizes[i]
		case dim < 0:
			d[a] = dimUnknown
		case n.Attr("num_outputs") != nil:
			// Opset 18: chunks of ceil(dim / k), the last one smaller.
			c := (dim + int64(k) - 1) / int64(k)
			d[a] = max(0, min(c, dim-int64(i)*c))
		case dim%int64(k) == 0:
			d[a] = dim / int64(k)
		default:
			d[a] = dimUnknown
		}
		outs[i] = ranked(x.dt, d)
	}
	return outs
}

// einsumSizes returns the size of each letter of spec that its operands
// give: the first size that is not 1 (1 could broadcast), else 1.
func einsumSizes(spec einsumSpec, in []*vinfo) map[rune]int64 {
	size := map[rune]int64{}
	for k, t := range spec.in {
		if k >= len(in) || !in[k].ranked || len(in[k].dims) != len(t) {
			continue
		}
		for i, r := range t {
			d := in[k].dims[i]
			if old, seen := size[r]; d == dimUnknown || seen && old != 1 {
				continue
			}
			size[r] = d
		}
	}
	return size
}

// einsumInfo infers an Einsum's output from the sizes its operands give the
// letters.
func (b *gradBuilder) einsumInfo(n *onnxpb.NodeProto, in []*vinfo) []*vinfo {
	dt := onnx.Undefined
	if len(in) > 0 {
		dt = in[0].dt
	}
	spec, ok := parseEinsum(attrString(n, "equation", ""))
	if !ok || len(spec.in) != len(in) {
		return []*vinfo{{dt: dt}}
	}
	size := einsumSizes(spec, in)
	dims := make([]int64, len(spec.out))
	for i, r := range spec.out {
		d, ok := size[r]
		if !ok {
			d = dimUnknown
		}
		dims[i] = d
	}
	return []*vinfo{ranked(dt, dims)}
}

// window is the geometry of a convolution or pooling node along its spatial
// axes.
type window struct {
	k, s, d []int64 // kernel, strides, dilations
	// pads holds the begins then the ends, explicit; nil when auto_pad SAME_*
	// needs input sizes that are not fixed.
	pads    []int64
	outPad  []int64 // ConvTranspose output_padding
	autoPad string
	ceil    bool
	group   int64
}

// windowOf reads the geometry of n for spatial sizes in (dimUnknown where not
// fixed); kernel is the kernel shape when the node has no kernel_shape.
func windowOf(n *onnxpb.NodeProto, in []int64, kernel []int64) window {
	sp := len(in)
	w := window{k: attrInts(n, "kernel_shape"), s: attrInts(n, "strides"), d: attrInts(n, "dilations"),
		autoPad: attrString(n, "auto_pad", "NOTSET"), ceil: n.AttrInt("ceil_mode", 0) != 0,
		group: n.AttrInt("group", 1), outPad: attrInts(n, "output_padding")}
	if w.k == nil {
		w.k = kernel
	}
	ones := func(v []int64) []int64 {
		if len(v) == sp {
			return v
		}
		o := make([]int64, sp)
		for i := range o {
			o[i] = 1
		}
		return o
	}
	w.s, w.d = ones(w.s), ones(w.d)
	if len(w.outPad) != sp {
		w.outPad = make([]int64, sp)
	}
	switch w.autoPad {
	case "SAME_UPPER", "SAME_LOWER":
		if n.GetOpType() == "ConvTranspose" {
			w.pads = nil
			break
		}
		w.pads = make([]int64, 2*sp)
		for i, x := range in {
			if x < 0 || len(w.k) != sp {
				w.pads = nil
				break
			}
			out := (x + w.s[i] - 1) / w.s[i]
			total := max(0, (out-1)*w.s[i]+(w.k[i]-1)*w.d[i]+1-x)
			small := total / 2
			if w.autoPad == "SAME_UPPER" {
				w.pads[i], w.pads[i+sp] = small, total-small
			} else {
				w.pads[i], w.pads[i+sp] = total-small, small
			}
		}
	case "VALID":
		w.pads = make([]int64, 2*sp)
	default:
		w.pads = attrInts(n, "pads")
		if len(w.pads) != 2*sp {
			w.pads = make([]int64, 2*sp)
		}
	}
	return w
}

// keff is the extent of the dilated kernel along axis i.
func (w window) keff(i int) int64 { return (w.k[i]-1)*w.d[i] + 1 }

// out returns the output size along spatial axis i of a convolution or
// pooling over in elements, dimUnknown if it cannot be known.
func (w window) out(i int, in int64) int64 {
	if in < 0 || w.pads == nil || len(w.k) <= i {
		return dimUnknown
	}
	sp := len(w.s)
	num := in + w.pads[i] + w.pads[i+sp] - w.keff(i)
	if num < 0 {
		return dimUnknown
	}
	if !w.ceil {
		return num/w.s[i] + 1
	}
	o := (num+w.s[i]-1)/w.s[i] + 1
	if (o-1)*w.s[i] >= in+w.pads[i] {
		o--
	}
	return o
}

func (b *gradBuilder) inferWindow(n *onnxpb.NodeProto, in []*vinfo) []*vinfo {
	x := in[0]
	if !x.ranked || len(x.dims) < 3 {
		return nil
	}
	sp := len(x.dims) - 2
	var kernel []int64
	var wdims []int64
	if len(in) > 1 && in[1].ranked && len(in[1].dims) == sp+2 {
		wdims = in[1].dims
		kernel = wdims[2:]
	}
	w := windowOf(n, x.dims[2:], kernel)
	d := slices.Clone(x.dims)
	switch n.GetOpType() {
	case "Conv":
		d[1] = dimUnknown
		if wdims != nil {
			d[1] = wdims[0]
		}
	case "ConvTranspose":
		d[1] = dimUnknown
		if wdims != nil && wdims[1] >= 0 {
			d[1] = wdims[1] * w.group
		}
	}
	outShape := attrInts(n, "output_shape")
	for i := 0; i < sp; i++ {
		xi := x.dims[2+i]
		switch {
		case n.GetOpType() != "ConvTranspose":
			d[2+i] = w.out(i, xi)
		case len(outShape) == sp:
			d[2+i] = outShape[i]
		case xi < 0 || len(w.k) != sp:
			d[2+i] = dimUnknown
		case w.autoPad == "SAME_UPPER" || w.autoPad == "SAME_LOWER":
			d[2+i] = xi * w.s[i]
		default:
			d[2+i] = w.s[i]*(xi-1) + w.outPad[i] + w.keff(i) - w.pads[i] - w.pads[i+sp]
		}
	}
	outs := []*vinfo{ranked(x.dt, d)}
	if n.GetOpType() == "MaxPool" {
		outs = append(outs, ranked(onnx.Int64, slices.Clone(d)))
	}
	return outs
}
