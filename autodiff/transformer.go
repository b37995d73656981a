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
// here and its forward rule beside it, registered in init. (This init runs
// after those of rules.go and tangent.go, which make the tables: the go tool
// hands a package's files to the compiler in name order.)

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

// reduceMean averages v over axes in the form the target opset wants (axes
// an input from opset 18 on, an attribute before).
func (b *gradBuilder) reduceMean(v string, axes []int64, keep bool) string {
	k := int64(0)
	if keep {
		k = 1
	}
	var out string
	if b.target >= 18 {
		out = b.op("ReduceMean", []string{v, b.ci(axes...)}, attrI("keepdims", k))
	} else {
		out = b.op("ReduceMean", []string{v}, attrIs("axes", axes...), attrI("keepdims", k))
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

// geluSlope returns the derivative of the exact GELU at x:
// Phi(x) + x phi(x) = 0.5 (1 + erf(x/sqrt2)) + x exp(-x^2/2)/sqrt(2 pi).
func (b *gradBuilder) geluSlope(x string) string {
	dt := b.dt(x)
	cdf := b.op("Mul", []string{b.op("Add", []string{b.cf(dt, 1), b.op("Erf", []string{b.op("Mul", []string{x, b.cf(dt, 1/math.Sqrt2)})})}), b.cf(dt, 0.5)})
	pdf := b.op("Mul", []string{b.op("Exp", []string{b.op("Mul", []string{b.op("Mul", []string{x, x}), b.cf(dt, -0.5)})}), b.cf(dt, 1/math.Sqrt(2*math.Pi))})
	return b.like(b.op("Add", []string{cdf, b.op("Mul", []string{x, pdf})}), x)
}

func gradGelu(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	if a := attrString(n, "approximate", "none"); a != "none" {
		return nil, b.noGrad("approximate=%s is not supported", a)
	}
	x := input(n, 0)
	return []string{b.like(b.op("Mul", []string{dy[0], b.geluSlope(x)}), x)}, nil
}

func tanGelu(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	if a := attrString(n, "approximate", "none"); a != "none" {
		return nil, b.noGrad("approximate=%s is not supported", a)
	}
	x, y := input(n, 0), n.GetOutput()[0]
	return []string{b.like(b.op("Mul", []string{dx[0], b.geluSlope(x)}), y)}, nil
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
	if d < 0 || post < 0 || k < 0 {
		return nil, b.noGrad("the gathered axis, the axes after it and the indices need fixed sizes")
	}
	b.needOpset(16)
	g := b.op("Reshape", []string{dy[0], b.ci(-1, k, post)})
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

// gradMaxMin routes the gradient of an elementwise Max or Min of two
// operands to the one that wins, the first on ties (as tanMaxMin does).
func gradMaxMin(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	if len(n.GetInput()) == 1 {
		return []string{dy[0]}, nil
	}
	if len(n.GetInput()) != 2 {
		return nil, b.noGrad("%d operands; two are supported", len(n.GetInput()))
	}
	cmp := "GreaterOrEqual"
	if n.GetOpType() == "Min" {
		cmp = "LessOrEqual"
	}
	return b.route(n, b.op(cmp, []string{input(n, 0), input(n, 1)}), dy[0], 0, 1, need)
}

// layerNormParts recomputes, for a LayerNormalization n, the normalised
// input xhat and the inverse standard deviation s over the normalised axes.
func (b *gradBuilder) layerNormParts(n *onnxpb.NodeProto) (xhat, s string, axes []int64, err error) {
	x := input(n, 0)
	r := b.rank(x)
	if r < 0 {
		return "", "", nil, b.noGrad("input of unknown rank")
	}
	for a := normAxis(n.AttrInt("axis", -1), r); a < r; a++ {
		axes = append(axes, int64(a))
	}
	dt := b.dt(x)
	mean := b.reduceMean(x, axes, true)
	xc := b.like(b.op("Sub", []string{x, mean}), x)
	v := b.reduceMean(b.like(b.op("Mul", []string{xc, xc}), x), axes, true)
	s = b.op("Reciprocal", []string{b.op("Sqrt", []string{b.op("Add", []string{v, b.cf(dt, float64(float32(attrFloat(n, "epsilon", 1e-5))))})})})
	b.like(s, v)
	return b.like(b.op("Mul", []string{xc, s}), x), s, axes, nil
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

func gradLayerNorm(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	for i := 1; i < len(dy); i++ {
		if dy[i] != "" {
			return nil, b.noGrad("gradient through the Mean or InvStdDev outputs")
		}
	}
	x, scale, y := input(n, 0), input(n, 1), n.GetOutput()[0]
	xhat, s, axes, err := b.layerNormParts(n)
	if err != nil {
		return nil, err
	}
	r := b.rank(x)
	lead := make([]int64, 0, r)
	for a := 0; a < r-len(axes); a++ {
		lead = append(lead, int64(a))
	}
	out := make([]string, len(need))
	if need[0] {
		g := b.like(b.op("Mul", []string{dy[0], b.castTo(scale, b.dt(x))}), y)
		out[0] = b.normBackward(g, xhat, s, axes)
	}
	leadSum := func(v, like string) string {
		if len(lead) == 0 {
			return b.reshapeLike(v, like)
		}
		return b.reshapeLike(b.reduceSum(b.like(v, y), lead, false), like)
	}
	if len(need) > 1 && need[1] {
		out[1] = leadSum(b.op("Mul", []string{dy[0], xhat}), scale)
	}
	if len(need) > 2 && need[2] {
		out[2] = leadSum(dy[0], input(n, 2))
	}
	return out, nil
}

func tanLayerNorm(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	x, scale, y := input(n, 0), input(n, 1), n.GetOutput()[0]
	if len(n.GetOutput()) > 1 && slices.ContainsFunc(n.GetOutput()[1:], func(o string) bool { return o != "" }) {
		return nil, b.noGrad("the Mean or InvStdDev outputs are used")
	}
	xhat, s, axes, err := b.layerNormParts(n)
	if err != nil {
		return nil, err
	}
	var terms []string
	if dx[0] != "" {
		t := b.normBackward(dx[0], xhat, s, axes)
		terms = append(terms, b.like(b.op("Mul", []string{t, b.castTo(scale, b.dt(x))}), y))
	}
	if len(dx) > 1 && dx[1] != "" {
		terms = append(terms, b.like(b.op("Mul", []string{xhat, b.castTo(dx[1], b.dt(x))}), y))
	}
	if len(dx) > 2 && dx[2] != "" {
		terms = append(terms, b.castTo(dx[2], b.dt(x)))
	}
	out := make([]string, len(n.GetOutput()))
	out[0] = b.expandTo(b.like(b.sum(terms...), y), y)
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

// einsumTerms parses an explicit two-operand equation "ab,bc->ac" whose
// operands have no repeated letter and no ellipsis, and whose every letter
// appears in at least two of the three terms (so that no operand axis is
// summed alone, which the adjoint would have to broadcast back).
func einsumTerms(eq string) (a, c, y string, ok bool) {
	eq = strings.ReplaceAll(eq, " ", "")
	lhs, out, found := strings.Cut(eq, "->")
	if !found || strings.Contains(eq, ".") {
		return "", "", "", false
	}
	ops := strings.Split(lhs, ",")
	if len(ops) != 2 {
		return "", "", "", false
	}
	a, c, y = ops[0], ops[1], out
	for _, t := range []string{a, c, y} {
		for i, r := range t {
			if strings.ContainsRune(t[i+1:], r) {
				return "", "", "", false
			}
		}
	}
	for _, r := range a + c + y {
		k := 0
		for _, t := range []string{a, c, y} {
			if strings.ContainsRune(t, r) {
				k++
			}
		}
		if k < 2 {
			return "", "", "", false
		}
	}
	return a, c, y, true
}

// gradEinsum differentiates a two-operand Einsum by Einsums: for
// Y = einsum("a,c->y", A, C), dA = einsum("y,c->a", dY, C) and
// dC = einsum("a,y->c", A, dY).
func gradEinsum(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	a, c, y, ok := einsumTerms(attrString(n, "equation", ""))
	if !ok {
		return nil, b.noGrad("equation %q: only explicit two-operand equations without repeated or lone indices are supported", attrString(n, "equation", ""))
	}
	out := make([]string, len(need))
	if need[0] {
		out[0] = b.like(b.op("Einsum", []string{dy[0], input(n, 1)}, attrS("equation", y+","+c+"->"+a)), input(n, 0))
	}
	if need[1] {
		out[1] = b.like(b.op("Einsum", []string{input(n, 0), dy[0]}, attrS("equation", a+","+y+"->"+c)), input(n, 1))
	}
	return out, nil
}

func tanEinsum(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	if len(n.GetInput()) != 2 {
		return nil, b.noGrad("Einsum of %d operands", len(n.GetInput()))
	}
	y := n.GetOutput()[0]
	var t1, t2 string
	if dx[0] != "" {
		t1 = b.like(b.op("Einsum", []string{dx[0], input(n, 1)}, n.GetAttribute()...), y)
	}
	if dx[1] != "" {
		t2 = b.like(b.op("Einsum", []string{input(n, 0), dx[1]}, n.GetAttribute()...), y)
	}
	return []string{b.like(b.sum(t1, t2), y)}, nil
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
