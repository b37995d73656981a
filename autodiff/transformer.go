package autodiff

import (
	"math"
	"slices"
	"strings"

	"github.com/lsweep/lsweep/internal/onnxpb"
	"github.com/lsweep/lsweep/onnx"
)

// Rules for the ops transformer exports put on the weight path: Pow and Erf
// (LayerNorm and GELU decomposed), Gather and Slice (class tokens, fused
// projections cut apart), Where (masks), Split, Max/Min, and the fused
// LayerNormalization and Gelu of newer opsets. Each has its reverse rule
// here and its forward rule beside it, registered in init.

func init() {
	for op, r := range map[string]gradRule{
		"Pow":                gradPow,
		"Erf":                gradErf,
		"Gather":             gradGather,
		"GatherElements":     gradGatherElements,
		"Where":              gradWhere,
		"Slice":              gradSlice,
		"Split":              gradSplit,
		"Max":                gradMaxMin,
		"Min":                gradMaxMin,
		"LayerNormalization": gradLayerNorm,
		"Gelu":               gradGelu,
		"Trilu":              gradTrilu,
		"Einsum":             gradEinsum,
		"ReduceMax":          gradReduceMaxMin,
		"ReduceMin":          gradReduceMaxMin,
		"Tile":               gradTile,
	} {
		gradRules[op] = r
	}
	for op, r := range map[string]tangentRule{
		"Pow":                tanPow,
		"Erf":                tanErf,
		"LayerNormalization": tanLayerNorm,
		"Gelu":               tanGelu,
		"Trilu":              tanLinear,
		"Einsum":             tanEinsum,
		"ReduceMax":          tanReduceMaxMin,
		"ReduceMin":          tanReduceMaxMin,
		"Tile":               tanLinear,
	} {
		tangentRules[op] = r
	}
}

// reduceMean averages v over axes in the form the target opset wants.
func (b *gradBuilder) reduceMean(v string, axes []int64, keep bool) string {
	return b.reduceOp("ReduceMean", v, axes, keep)
}

// reduceOp reduces v over axes with op (ReduceMean, ReduceProd, ...; not
// ReduceSum, whose axes are an input from opset 13) in the form the target
// opset wants: axes an input from opset 18 on, an attribute before.
func (b *gradBuilder) reduceOp(op, v string, axes []int64, keep bool) string {
	k := int64(0)
	if keep {
		k = 1
	}
	var out string
	if b.target >= 18 {
		out = b.op(op, []string{v, b.ci(axes...)}, attrI("keepdims", k))
	} else {
		out = b.op(op, []string{v}, attrIs("axes", axes...), attrI("keepdims", k))
	}
	if vi := b.info[v]; vi != nil && vi.ranked {
		b.setInfo(out, vi.dt, reduceDims(vi.dims, axes, keep), true)
	}
	return out
}

func gradPow(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	x, p, y := input(n, 0), input(n, 1), n.GetOutput()[0]
	out := make([]string, len(need))
	if need[0] {
		// p x^(p-1); the exponent cast to x's type (Pow allows it to differ).
		pc := b.castTo(p, b.dt(x))
		d := b.op("Mul", []string{pc, b.op("Pow", []string{x, b.op("Sub", []string{pc, b.cf(b.dt(x), 1)})})})
		g, err := b.sumTo(b.like(b.op("Mul", []string{dy[0], d}), y), y, x)
		if err != nil {
			return nil, err
		}
		out[0] = g
	}
	if need[1] {
		d := b.op("Mul", []string{y, b.op("Log", []string{x})})
		g, err := b.sumTo(b.like(b.castTo(b.op("Mul", []string{dy[0], d}), b.dt(p)), y), y, p)
		if err != nil {
			return nil, err
		}
		out[1] = g
	}
	return out, nil
}

func tanPow(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	x, p, y := input(n, 0), input(n, 1), n.GetOutput()[0]
	var t1, t2 string
	if dx[0] != "" {
		pc := b.castTo(p, b.dt(x))
		d := b.op("Mul", []string{pc, b.op("Pow", []string{x, b.op("Sub", []string{pc, b.cf(b.dt(x), 1)})})})
		t1 = b.like(b.op("Mul", []string{dx[0], d}), y)
	}
	if len(dx) > 1 && dx[1] != "" {
		t2 = b.like(b.op("Mul", []string{b.castTo(dx[1], b.dt(y)), b.op("Mul", []string{y, b.op("Log", []string{x})})}), y)
	}
	return []string{b.expandTo(b.like(b.sum(t1, t2), y), y)}, nil
}

// erfSlope returns 2/sqrt(pi) exp(-x^2), the derivative of erf at x.
func (b *gradBuilder) erfSlope(x string) string {
	dt := b.dt(x)
	e := b.op("Exp", []string{b.op("Neg", []string{b.op("Mul", []string{x, x})})})
	return b.like(b.op("Mul", []string{e, b.cf(dt, 2/math.Sqrt(math.Pi))}), x)
}

func gradErf(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	x := input(n, 0)
	return []string{b.like(b.op("Mul", []string{dy[0], b.erfSlope(x)}), x)}, nil
}

func tanErf(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	x, y := input(n, 0), n.GetOutput()[0]
	return []string{b.like(b.op("Mul", []string{dx[0], b.erfSlope(x)}), y)}, nil
}

// geluSlope returns the derivative of the GELU node n at its input x. Exact
// (approximate "none"): Phi(x) + x phi(x) = 0.5 (1 + erf(x/sqrt2)) +
// x exp(-x^2/2)/sqrt(2 pi). Tanh form: with u = c (x + a x^3), c = sqrt(2/pi),
// a = 0.044715 and t = tanh(u), 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 a x^2).
func (b *gradBuilder) geluSlope(n *onnxpb.NodeProto) (string, error) {
	x := input(n, 0)
	dt := b.dt(x)
	c := func(v float64) string { return b.cf(dt, v) }
	switch a := attrString(n, "approximate", "none"); a {
	case "none":
		cdf := b.op("Mul", []string{b.op("Add", []string{c(1), b.op("Erf", []string{b.op("Mul", []string{x, c(1 / math.Sqrt2)})})}), c(0.5)})
		pdf := b.op("Mul", []string{b.op("Exp", []string{b.op("Mul", []string{b.op("Mul", []string{x, x}), c(-0.5)})}), c(1 / math.Sqrt(2*math.Pi))})
		return b.like(b.op("Add", []string{cdf, b.op("Mul", []string{x, pdf})}), x), nil
	case "tanh":
		const ga = 0.044715
		k := math.Sqrt(2 / math.Pi)
		x2 := b.op("Mul", []string{x, x})
		u := b.op("Mul", []string{b.op("Add", []string{x, b.op("Mul", []string{b.op("Mul", []string{x2, x}), c(ga)})}), c(k)})
		t := b.op("Tanh", []string{u})
		half := b.op("Mul", []string{b.op("Add", []string{c(1), t}), c(0.5)})
		du := b.op("Mul", []string{b.op("Add", []string{c(1), b.op("Mul", []string{x2, c(3 * ga)})}), c(k)})
		sech2 := b.op("Sub", []string{c(1), b.op("Mul", []string{t, t})})
		rest := b.op("Mul", []string{b.op("Mul", []string{b.op("Mul", []string{x, c(0.5)}), sech2}), du})
		return b.like(b.op("Add", []string{half, rest}), x), nil
	default:
		return "", b.noGrad("approximate=%s is not supported", a)
	}
}

func gradGelu(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	d, err := b.geluSlope(n)
	if err != nil {
		return nil, err
	}
	return []string{b.like(b.op("Mul", []string{dy[0], d}), input(n, 0))}, nil
}

func tanGelu(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	d, err := b.geluSlope(n)
	if err != nil {
		return nil, err
	}
	return []string{b.like(b.op("Mul", []string{dx[0], d}), n.GetOutput()[0])}, nil
}

// gradGather scatters the gradient back to the rows it was gathered from,
// adding where an index repeats: the data viewed as [pre, D, post] around
// the gather axis, the gradient as [pre, K, post] for K indices, and one
// ScatterElements (reduction add) along the middle axis.
func gradGather(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	x, idx := input(n, 0), input(n, 1)
	out := make([]string, len(need))
	if !need[0] {
		return out, nil
	}
	xi, ii := b.info[x], b.info[idx]
	if xi == nil || !xi.ranked || ii == nil || !ii.ranked {
		return nil, b.noGrad("data or indices of unknown rank")
	}
	r := len(xi.dims)
	a := normAxis(n.AttrInt("axis", 0), r)
	d := xi.dims[a]
	post := prodDims(xi.dims[a+1:])
	k := prodDims(ii.dims)
	// Token ids come with a dynamic batch: then the axes before the
	// gathered one must be fixed instead (none, for an embedding table).
	pre := int64(-1)
	if k < 0 {
		pre = prodDims(xi.dims[:a])
	}
	if d < 0 || post < 0 || k < 0 && pre < 0 {
		return nil, b.noGrad("the gathered axis, the axes after it and the indices (or the axes before it) need fixed sizes")
	}
	b.needOpset(16)
	g := b.op("Reshape", []string{dy[0], b.ci(pre, k, post)})
	ix := b.op("Reshape", []string{b.castTo(idx, onnx.Int64), b.ci(1, k, 1)})
	ix = b.op("Expand", []string{ix, b.op("Shape", []string{g})})
	zero := b.op("ConstantOfShape", []string{b.concatShape(b.op("Slice", []string{b.op("Shape", []string{g}), b.ci(0), b.ci(1)}), b.ci(d, post))},
		attrT("value", scalarTensor(b.dt(x), []int64{1}, 0)))
	b.isZero[zero] = true
	b.setInfo(zero, b.dt(x), []int64{dimUnknown, d, post}, true)
	sc := b.op("ScatterElements", []string{zero, ix, g}, attrI("axis", 1), attrS("reduction", "add"))
	b.setInfo(sc, b.dt(x), []int64{dimUnknown, d, post}, true)
	out[0] = b.reshapeLike(sc, x)
	return out, nil
}

func gradGatherElements(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	x, idx := input(n, 0), input(n, 1)
	out := make([]string, len(need))
	if need[0] {
		b.needOpset(16)
		sc := b.op("ScatterElements", []string{b.zerosLike(x), idx, dy[0]}, attrI("axis", n.AttrInt("axis", 0)), attrS("reduction", "add"))
		out[0] = b.like(sc, x)
	}
	return out, nil
}

func gradWhere(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	return b.route(n, input(n, 0), dy[0], 1, 2, need)
}

// route sends the gradient g of n's output to input ia where cond holds and
// to input ib elsewhere, each summed to its operand's shape.
func (b *gradBuilder) route(n *onnxpb.NodeProto, cond, g string, ia, ib int, need []bool) ([]string, error) {
	y := n.GetOutput()[0]
	zero := b.cf(b.dt(y), 0)
	out := make([]string, len(need))
	for _, c := range []struct {
		i    int
		args []string
	}{{ia, []string{cond, g, zero}}, {ib, []string{cond, zero, g}}} {
		if !need[c.i] {
			continue
		}
		s, err := b.sumTo(b.like(b.op("Where", c.args), y), y, input(n, c.i))
		if err != nil {
			return nil, err
		}
		out[c.i] = s
	}
	return out, nil
}

// gradSlice pads the gradient with zeros back to the input's size where
// the slice is known when the graph is built (unit steps, constant starts,
// ends and axes, fixed sizes on the sliced axes); otherwise it scatters the
// gradient to the positions the same Slice picks from an index tensor.
func gradSlice(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	if out, ok := b.sliceGradPad(n, dy, need); ok {
		return out, nil
	}
	if b.opset < 10 {
		return nil, b.noGrad("a Slice of opset %d with sizes unknown when the graph is built", b.opset)
	}
	x := input(n, 0)
	dt := b.dt(x)
	shape := b.shapeOf(x)
	size := b.op("Reshape", []string{b.op("Size", []string{x}), b.ci(1)})
	pos := b.op("Range", []string{b.ciScalar(0), b.setScalar(b.op("Size", []string{x}), onnx.Int64), b.ciScalar(1)})
	b.setInfo(pos, onnx.Int64, []int64{dimUnknown}, true)
	in := slices.Clone(n.GetInput())
	in[0] = b.op("Reshape", []string{pos, shape})
	picked := b.op("Slice", in)
	zero := b.op("ConstantOfShape", []string{size}, attrT("value", scalarTensor(dt, []int64{1}, 0)))
	b.isZero[zero] = true
	b.setInfo(zero, dt, []int64{dimUnknown}, true)
	sc := b.op("ScatterElements", []string{zero, b.op("Reshape", []string{picked, b.ci(-1)}), b.op("Reshape", []string{dy[0], b.ci(-1)})}, attrI("axis", 0))
	b.setInfo(sc, dt, []int64{dimUnknown}, true)
	out := make([]string, len(need))
	out[0] = b.like(b.op("Reshape", []string{sc, shape}), x)
	return out, nil
}

// sliceGradPad is gradSlice's Pad; ok is false where it does not apply.
func (b *gradBuilder) sliceGradPad(n *onnxpb.NodeProto, dy []string, need []bool) ([]string, bool) {
	x := input(n, 0)
	xi := b.info[x]
	if xi == nil || !xi.ranked {
		return nil, false
	}
	r := len(xi.dims)
	var starts, ends, axes, steps []int64
	if b.opset >= 10 && input(n, 1) != "" {
		var ok1, ok2 bool
		starts, ok1 = b.ints(input(n, 1))
		ends, ok2 = b.ints(input(n, 2))
		if !ok1 || !ok2 {
			return nil, false
		}
		if a := input(n, 3); a != "" {
			var ok bool
			if axes, ok = b.ints(a); !ok {
				return nil, false
			}
		}
		if s := input(n, 4); s != "" {
			var ok bool
			if steps, ok = b.ints(s); !ok {
				return nil, false
			}
		}
	} else {
		starts, ends, axes = attrInts(n, "starts"), attrInts(n, "ends"), attrInts(n, "axes")
	}
	if axes == nil {
		for i := range starts {
			axes = append(axes, int64(i))
		}
	}
	pads := make([]int64, 2*r)
	for i, a := range axes {
		ax := normAxis(a, r)
		if steps != nil && steps[i] != 1 {
			return nil, false
		}
		dim := xi.dims[ax]
		if dim < 0 {
			return nil, false
		}
		clamp := func(v int64) int64 {
			if v < 0 {
				v += dim
			}
			return min(max(v, 0), dim)
		}
		s, e := clamp(starts[i]), clamp(ends[i])
		e = max(e, s)
		pads[ax], pads[r+ax] = s, dim-e
	}
	out := make([]string, len(need))
	out[0] = b.like(b.op("Pad", []string{dy[0], b.ci(pads...)}), x)
	return out, true
}

func gradSplit(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	x := input(n, 0)
	r := b.rank(x)
	if r < 0 {
		return nil, b.noGrad("input of unknown rank")
	}
	parts := make([]string, len(n.GetOutput()))
	for i, o := range n.GetOutput() {
		if dy[i] != "" {
			parts[i] = dy[i]
		} else {
			parts[i] = b.zerosLike(o)
		}
	}
	out := make([]string, len(need))
	out[0] = b.like(b.op("Concat", parts, attrI("axis", int64(normAxis(n.AttrInt("axis", 0), r)))), x)
	return out, nil
}

// winMasks returns, for an elementwise Max or Min n, one boolean mask per
// operand, shaped like the output: where that operand is the first one
// equal to the result. Both rules use them, so that ties go to the first
// operand in the gradient and in the tangent alike. (PyTorch shares a tie of
// max(a, b) half and half instead; the first operand is what a running
// comparison gives, and ties of computed values are rare off constants.)
func (b *gradBuilder) winMasks(n *onnxpb.NodeProto) []string {
	y := n.GetOutput()[0]
	masks := make([]string, len(n.GetInput()))
	taken := ""
	for i, in := range n.GetInput() {
		eq := b.op("Equal", []string{in, y})
		switch {
		case i == 0:
			masks[i] = eq
		default:
			masks[i] = b.op("And", []string{eq, b.op("Not", []string{taken})})
		}
		if i < len(masks)-1 {
			if taken == "" {
				taken = eq
			} else {
				taken = b.op("Or", []string{taken, eq})
			}
		}
	}
	return masks
}

// gradMaxMin routes the gradient of an elementwise Max or Min of any number
// of operands to the one that wins, the first on ties.
func gradMaxMin(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	if len(n.GetInput()) == 1 {
		return []string{dy[0]}, nil
	}
	y := n.GetOutput()[0]
	zero := b.cf(b.dt(y), 0)
	masks := b.winMasks(n)
	out := make([]string, len(need))
	for i, ok := range need {
		if !ok {
			continue
		}
		s, err := b.sumTo(b.like(b.op("Where", []string{masks[i], dy[0], zero}), y), y, input(n, i))
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

// tanMaxMin is the forward rule of an elementwise Max or Min: the tangent
// of the operand that wins, the first one on ties (the masks of gradMaxMin).
func tanMaxMin(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	y := n.GetOutput()[0]
	if len(dx) == 1 {
		return []string{dx[0]}, nil
	}
	masks := b.winMasks(n)
	t := b.cf(b.dt(y), 0)
	for i, d := range dx {
		if d != "" {
			t = b.op("Where", []string{masks[i], d, t})
		}
	}
	return []string{b.expandTo(b.like(t, y), y)}, nil
}

// lnAxes returns the axes a LayerNormalization n normalises over.
func (b *gradBuilder) lnAxes(n *onnxpb.NodeProto) ([]int64, error) {
	r := b.rank(input(n, 0))
	if r < 0 {
		return nil, b.noGrad("input of unknown rank")
	}
	var axes []int64
	for a := normAxis(n.AttrInt("axis", -1), r); a < r; a++ {
		axes = append(axes, int64(a))
	}
	return axes, nil
}

// normStats recomputes, for a normalisation of x over axes with the given
// epsilon, the mean, the normalised input xhat and the inverse standard
// deviation s (mean and s with the axes kept), in x's type.
func (b *gradBuilder) normStats(x string, axes []int64, eps float64) (mean, xhat, s string) {
	dt := b.dt(x)
	mean = b.reduceMean(x, axes, true)
	xc := b.like(b.op("Sub", []string{x, mean}), x)
	v := b.reduceMean(b.like(b.op("Mul", []string{xc, xc}), x), axes, true)
	s = b.op("Reciprocal", []string{b.op("Sqrt", []string{b.op("Add", []string{v, b.cf(dt, float64(float32(eps)))})})})
	b.like(s, v)
	return mean, b.like(b.op("Mul", []string{xc, s}), x), s
}

// normParts is normStats without the mean.
func (b *gradBuilder) normParts(x string, axes []int64, eps float64) (xhat, s string) {
	_, xhat, s = b.normStats(x, axes, eps)
	return xhat, s
}

// normBackward is s (g - mean(g) - xhat mean(g xhat)) over axes: the
// derivative of the normalisation applied to g (a gradient, or, the map
// being self-adjoint, a tangent).
func (b *gradBuilder) normBackward(g, xhat, s string, axes []int64) string {
	m1 := b.reduceMean(g, axes, true)
	m2 := b.reduceMean(b.like(b.op("Mul", []string{g, xhat}), xhat), axes, true)
	t := b.op("Sub", []string{b.op("Sub", []string{g, m1}), b.op("Mul", []string{xhat, m2})})
	return b.like(b.op("Mul", []string{t, s}), xhat)
}

// gradLayerNorm differentiates Y and, when a graph uses them, the Mean and
// InvStdDev outputs: the mean's gradient spreads evenly over the
// normalised elements, and s = (var + eps)^-1/2 has ds/dx = -s^2 xhat / n.
func gradLayerNorm(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	x, scale, y := input(n, 0), input(n, 1), n.GetOutput()[0]
	axes, err := b.lnAxes(n)
	if err != nil {
		return nil, err
	}
	dt := b.dt(x)
	_, xhat, s := b.normStats(x, axes, attrFloat(n, "epsilon", 1e-5))
	r := b.rank(x)
	lead := make([]int64, 0, r)
	for a := 0; a < r-len(axes); a++ {
		lead = append(lead, int64(a))
	}
	out := make([]string, len(need))
	if need[0] {
		var terms []string
		if dy[0] != "" {
			g := b.like(b.op("Mul", []string{dy[0], b.castTo(scale, dt)}), y)
			terms = append(terms, b.normBackward(g, xhat, s, axes))
		}
		if len(dy) > 1 && dy[1] != "" {
			g := b.op("Mul", []string{b.castTo(dy[1], dt), b.meanScale(x, axes, dt)})
			terms = append(terms, b.like(b.op("Expand", []string{g, b.shapeLike(x)}), x))
		}
		if len(dy) > 2 && dy[2] != "" {
			k := b.op("Mul", []string{b.op("Mul", []string{s, s}), b.meanScale(x, axes, dt)})
			g := b.op("Neg", []string{b.op("Mul", []string{b.castTo(dy[2], dt), k})})
			terms = append(terms, b.like(b.op("Mul", []string{g, xhat}), x))
		}
		out[0] = b.like(b.sum(terms...), x)
	}
	leadSum := func(v, like string) string {
		if len(lead) == 0 {
			return b.reshapeLike(v, like)
		}
		return b.reshapeLike(b.reduceSum(b.like(v, y), lead, false), like)
	}
	if len(need) > 1 && need[1] {
		out[1] = leadSum(b.zeroIfNone(dy[0], y, func(g string) string { return b.op("Mul", []string{g, xhat}) }), scale)
	}
	if len(need) > 2 && need[2] {
		out[2] = leadSum(b.zeroIfNone(dy[0], y, func(g string) string { return g }), input(n, 2))
	}
	return out, nil
}

// zeroIfNone returns f(g), or zeros shaped like y when g is "" (an output
// without a gradient).
func (b *gradBuilder) zeroIfNone(g, y string, f func(string) string) string {
	if g == "" {
		return b.zerosLike(y)
	}
	return f(g)
}

func tanLayerNorm(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	x, scale, y := input(n, 0), input(n, 1), n.GetOutput()[0]
	axes, err := b.lnAxes(n)
	if err != nil {
		return nil, err
	}
	dt := b.dt(x)
	_, xhat, s := b.normStats(x, axes, attrFloat(n, "epsilon", 1e-5))
	var terms []string
	if dx[0] != "" {
		t := b.normBackward(dx[0], xhat, s, axes)
		terms = append(terms, b.like(b.op("Mul", []string{t, b.castTo(scale, dt)}), y))
	}
	if len(dx) > 1 && dx[1] != "" {
		terms = append(terms, b.like(b.op("Mul", []string{xhat, b.castTo(dx[1], dt)}), y))
	}
	if len(dx) > 2 && dx[2] != "" {
		terms = append(terms, b.castTo(dx[2], dt))
	}
	outs := n.GetOutput()
	out := make([]string, len(outs))
	out[0] = b.expandTo(b.like(b.sum(terms...), y), y)
	if dx[0] != "" && len(outs) > 1 && outs[1] != "" {
		// d mean = mean(dx).
		out[1] = b.castTo(b.like(b.reduceMean(dx[0], axes, true), s), b.dt(outs[1]))
	}
	if dx[0] != "" && len(outs) > 2 && outs[2] != "" {
		// d s = -s^2 mean(xhat dx).
		m := b.reduceMean(b.like(b.op("Mul", []string{xhat, dx[0]}), x), axes, true)
		t := b.op("Neg", []string{b.op("Mul", []string{b.op("Mul", []string{s, s}), m})})
		out[2] = b.castTo(b.like(t, s), b.dt(outs[2]))
	}
	return out, nil
}

// gradTrilu keeps the gradient where the forward pass kept its input: the
// same Trilu, a projection and so its own adjoint.
func gradTrilu(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	in := slices.Clone(n.GetInput())
	in[0] = dy[0]
	out := make([]string, len(need))
	out[0] = b.like(b.op("Trilu", in, n.GetAttribute()...), input(n, 0))
	return out, nil
}

// einsumSpec is a parsed Einsum equation: one term per operand and the
// output's, each a string of distinct letters.
type einsumSpec struct {
	in  []string
	out string
}

// parseEinsum parses an equation without ellipsis whose terms repeat no
// letter (no diagonals or traces); an implicit output is the letters that
// occur once, in alphabetical order, as the operator defines it.
func parseEinsum(eq string) (einsumSpec, bool) {
	eq = strings.ReplaceAll(eq, " ", "")
	if strings.Contains(eq, ".") || eq == "" {
		return einsumSpec{}, false
	}
	lhs, out, explicit := strings.Cut(eq, "->")
	spec := einsumSpec{in: strings.Split(lhs, ",")}
	count := map[rune]int{}
	for _, t := range spec.in {
		for _, r := range t {
			count[r]++
		}
	}
	if !explicit {
		var once []rune
		for r, k := range count {
			if k == 1 {
				once = append(once, r)
			}
		}
		slices.Sort(once)
		out = string(once)
	}
	spec.out = out
	for _, t := range append(slices.Clone(spec.in), out) {
		for i, r := range t {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') || strings.ContainsRune(t[i+1:], r) {
				return einsumSpec{}, false
			}
		}
	}
	for _, r := range out {
		if count[r] == 0 {
			return einsumSpec{}, false
		}
	}
	return spec, true
}

// gradEinsum differentiates an Einsum by Einsums: the gradient of operand i
// is the Einsum of dY with the other operands onto the letters of operand i
// that occur elsewhere; along a letter that occurs in operand i alone (an
// axis summed away), it is constant, so it is unsqueezed and expanded there.
// For Y = einsum("bqd,bkd->bqk", Q, K): dQ = einsum("bqk,bkd->bqd", dY, K).
func gradEinsum(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	eq := attrString(n, "equation", "")
	spec, ok := parseEinsum(eq)
	if !ok || len(spec.in) != len(n.GetInput()) {
		return nil, b.noGrad("equation %q: ellipses and letters repeated within a term are not supported", eq)
	}
	infos := make([]*vinfo, len(n.GetInput()))
	for k, in := range n.GetInput() {
		if infos[k] = b.info[in]; infos[k] == nil {
			infos[k] = &vinfo{}
		}
	}
	size := einsumSizes(spec, infos)
	sized := func(r rune) bool { _, ok := size[r]; return ok }
	out := make([]string, len(need))
	for i, ok := range need {
		if !ok {
			continue
		}
		x := input(n, i)
		terms := []string{spec.out}
		ins := []string{dy[0]}
		for k, t := range spec.in {
			if k != i {
				terms = append(terms, t)
				ins = append(ins, input(n, k))
			}
		}
		elsewhere := strings.Join(terms, ",")
		var keep []rune
		var lone []int64
		for pos, r := range spec.in[i] {
			if strings.ContainsRune(elsewhere, r) {
				keep = append(keep, r)
			} else {
				lone = append(lone, int64(pos))
			}
		}
		g := b.op("Einsum", ins, attrS("equation", elsewhere+"->"+string(keep)))
		if len(lone) > 0 {
			g = b.op("Expand", []string{b.op("Unsqueeze", []string{g, b.ci(lone...)}), b.shapeLike(x)})
			out[i] = b.like(g, x)
			continue
		}
		// A letter of size 1 in operand i that another operand gives a
		// larger size was broadcast: sum the gradient over it.
		dims := make([]int64, len(keep))
		for k, r := range keep {
			if dims[k] = size[r]; !sized(r) {
				dims[k] = dimUnknown
			}
		}
		b.setInfo(g, b.dt(x), dims, true)
		s, err := b.sumTo(g, g, x)
		if err != nil {
			return nil, err
		}
		out[i] = b.like(s, x)
	}
	return out, nil
}

// tanEinsum: an Einsum is linear in each operand, so its tangent is the sum
// of the same Einsum with one operand replaced by its tangent.
func tanEinsum(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	y := n.GetOutput()[0]
	var terms []string
	for i, d := range dx {
		if d == "" {
			continue
		}
		ins := slices.Clone(n.GetInput())
		ins[i] = d
		terms = append(terms, b.like(b.op("Einsum", ins, n.GetAttribute()...), y))
	}
	return []string{b.like(b.sum(terms...), y)}, nil
}

// argMask returns, for a ReduceMax or ReduceMin n, the mask of the elements
// of its input that equal the result, as a float, and their count per
// reduction, both with the reduced axes kept: the gradient is shared evenly
// among ties (as PyTorch's amax/amin share it), and the forward rule uses
// the same mask, so that the products are those of one function.
func (b *gradBuilder) argMask(n *onnxpb.NodeProto, axes []int64) (mask, count string) {
	x, y := input(n, 0), n.GetOutput()[0]
	dt := b.dt(x)
	yk := y
	if n.AttrInt("keepdims", 1) == 0 {
		yk = b.op("Unsqueeze", []string{y, b.ci(axes...)})
	}
	mask = b.like(b.castTo(b.setInfoRet(b.op("Equal", []string{x, yk}), onnx.Bool, b.info[x].dims), dt), x)
	return mask, b.reduceSum(mask, axes, true)
}

func gradReduceMaxMin(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	x := input(n, 0)
	axes, noop, err := b.reduceAxes(n)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(need))
	if noop {
		out[0] = dy[0]
		return out, nil
	}
	mask, count := b.argMask(n, axes)
	g := dy[0]
	if n.AttrInt("keepdims", 1) == 0 {
		g = b.op("Unsqueeze", []string{g, b.ci(axes...)})
	}
	out[0] = b.like(b.op("Mul", []string{mask, b.op("Div", []string{g, count})}), x)
	return out, nil
}

func tanReduceMaxMin(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	y := n.GetOutput()[0]
	axes, noop, err := b.reduceAxes(n)
	if err != nil {
		return nil, err
	}
	if noop {
		return []string{dx[0]}, nil
	}
	mask, count := b.argMask(n, axes)
	t := b.op("Div", []string{b.reduceSum(b.like(b.op("Mul", []string{dx[0], mask}), mask), axes, true), count})
	if n.AttrInt("keepdims", 1) == 0 {
		t = b.op("Squeeze", []string{t, b.ci(axes...)})
	}
	return []string{b.like(t, y)}, nil
}

// gradTile sums the gradient over the copies: each axis of length rep*d
// viewed as [rep, d], the rep axes summed. Repeats must be constants and
// the input's sizes fixed.
func gradTile(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	x := input(n, 0)
	xi := b.info[x]
	reps, ok := b.ints(input(n, 1))
	if !ok || !xi.static() || len(reps) != len(xi.dims) {
		return nil, b.noGrad("repeats computed at run time or an input of unfixed size")
	}
	var shape, axes []int64
	for i, d := range xi.dims {
		shape = append(shape, reps[i], d)
		axes = append(axes, int64(2*i))
	}
	g := b.op("Reshape", []string{dy[0], b.ci(shape...)})
	b.setInfo(g, b.dt(x), shape, true)
	out := make([]string, len(need))
	out[0] = b.like(b.reduceSum(g, axes, false), x)
	return out, nil
}
