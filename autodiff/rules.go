package autodiff

import (
	"maps"
	"math"
	"slices"

	"github.com/lsweep/lsweep/internal/onnxpb"
	"github.com/lsweep/lsweep/onnx"
)

// gradRule adds the nodes that compute the gradient of the loss with respect
// to the inputs of n for which need is true, given the gradients dy of its
// outputs ("" for an output without one). It returns one name per input,
// "" where it computes none.
type gradRule func(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error)

// gradRules maps op types to their gradient rules. GradientOps lists them.
// It is made before any init runs, and each file's init registers its rules,
// so that the order in which the files' inits run does not matter.
var gradRules = make(map[string]gradRule)

func init() {
	maps.Copy(gradRules, map[string]gradRule{
		"Identity":           gradIdentity,
		"Dropout":            gradIdentity,
		"Reshape":            gradReshape,
		"Flatten":            gradReshape,
		"Squeeze":            gradReshape,
		"Unsqueeze":          gradReshape,
		"Transpose":          gradTranspose,
		"Cast":               gradCast,
		"Relu":               gradRelu,
		"LeakyRelu":          gradLeakyRelu,
		"Sigmoid":            gradSigmoid,
		"Tanh":               gradTanh,
		"Softmax":            gradSoftmax,
		"LogSoftmax":         gradLogSoftmax,
		"Exp":                gradExp,
		"Log":                gradLog,
		"Sqrt":               gradSqrt,
		"Neg":                gradNeg,
		"Abs":                gradAbs,
		"Reciprocal":         gradReciprocal,
		"Softplus":           gradSoftplus,
		"Clip":               gradClip,
		"Add":                gradAdd,
		"Sum":                gradAdd,
		"Expand":             gradExpand,
		"Sub":                gradSub,
		"Mul":                gradMul,
		"Div":                gradDiv,
		"Gemm":               gradGemm,
		"MatMul":             gradMatMul,
		"Conv":               gradConv,
		"ConvTranspose":      gradConvTranspose,
		"BatchNormalization": gradBatchNorm,
		"MaxPool":            gradMaxPool,
		"AveragePool":        gradAveragePool,
		"GlobalAveragePool":  gradGlobalAveragePool,
		"Concat":             gradConcat,
		"Pad":                gradPad,
		"ReduceSum":          gradReduce,
		"ReduceMean":         gradReduce,
	})
}

// GradientOps returns the op types GradientModel can differentiate through,
// sorted.
func GradientOps() []string { return slices.Sorted(maps.Keys(gradRules)) }

func gradIdentity(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	return []string{dy[0]}, nil
}

func gradReshape(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	out := make([]string, len(need))
	out[0] = b.reshapeLike(dy[0], input(n, 0))
	return out, nil
}

func gradTranspose(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	x := input(n, 0)
	perm := attrInts(n, "perm")
	if perm == nil {
		r := b.rank(x)
		if r < 0 {
			return nil, b.noGrad("Transpose without perm on a value of unknown rank")
		}
		for i := r - 1; i >= 0; i-- {
			perm = append(perm, int64(i))
		}
	}
	inv := make([]int64, len(perm))
	for i, p := range perm {
		inv[p] = int64(i)
	}
	return []string{b.like(b.op("Transpose", []string{dy[0]}, attrIs("perm", inv...)), x)}, nil
}

func gradCast(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	x := input(n, 0)
	dt := b.dt(x)
	// A low-precision stored tensor cast up keeps the gradient's precision:
	// its gradient output is float anyway.
	if (dt == onnx.Float16 || dt == onnx.BFloat16) && b.wrt[x] {
		return []string{dy[0]}, nil
	}
	return []string{b.castTo(dy[0], dt)}, nil
}

func gradRelu(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	y := n.GetOutput()[0]
	return []string{b.like(b.op("Mul", []string{dy[0], b.reluMask(y)}), y)}, nil
}

// reluMask returns 1 where the Relu output y is positive and 0 elsewhere, in
// y's type. The gradient is its product with dy rather than Where(y > 0, dy,
// 0): the same values wherever dy is finite (a zero may carry dy's sign,
// which no sum can tell apart), and ONNX Runtime's Mul runs at about twice
// the rate of its Where (ResNet-20's masks: 28 ms of a 640 ms gradient as
// Where, 15 ms with the Cast as Mul). The Greater and Cast are the same
// nodes in the tangent pass, which ONNX Runtime computes once.
func (b *gradBuilder) reluMask(y string) string {
	dt := b.dt(y)
	return b.op("Cast", []string{b.op("Greater", []string{y, b.cf(dt, 0)})}, attrI("to", int64(dt)))
}

func gradLeakyRelu(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	x := input(n, 0)
	dt := b.dt(x)
	alpha := attrFloat(n, "alpha", 0.01)
	mask := b.op("Greater", []string{x, b.cf(dt, 0)})
	neg := b.op("Mul", []string{dy[0], b.cf(dt, float64(float32(alpha)))})
	return []string{b.like(b.op("Where", []string{mask, dy[0], neg}), x)}, nil
}

func gradSigmoid(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	y := n.GetOutput()[0]
	d := b.op("Mul", []string{y, b.op("Sub", []string{b.cf(b.dt(y), 1), y})})
	return []string{b.like(b.op("Mul", []string{dy[0], d}), y)}, nil
}

func gradTanh(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	y := n.GetOutput()[0]
	d := b.op("Sub", []string{b.cf(b.dt(y), 1), b.op("Mul", []string{y, y})})
	return []string{b.like(b.op("Mul", []string{dy[0], d}), y)}, nil
}

// softmaxAxis returns the axis of a Softmax or LogSoftmax in opset 13 form.
func softmaxAxis(n *onnxpb.NodeProto) int64 { return n.AttrInt("axis", -1) }

func gradSoftmax(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	y := n.GetOutput()[0]
	s := b.op("ReduceSum", []string{b.op("Mul", []string{dy[0], y}), b.ci(softmaxAxis(n))}, attrI("keepdims", 1))
	return []string{b.like(b.op("Mul", []string{y, b.op("Sub", []string{dy[0], s})}), y)}, nil
}

func gradLogSoftmax(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	y := n.GetOutput()[0]
	s := b.op("ReduceSum", []string{dy[0], b.ci(softmaxAxis(n))}, attrI("keepdims", 1))
	return []string{b.like(b.op("Sub", []string{dy[0], b.op("Mul", []string{b.op("Exp", []string{y}), s})}), y)}, nil
}

func gradExp(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	y := n.GetOutput()[0]
	return []string{b.like(b.op("Mul", []string{dy[0], y}), y)}, nil
}

func gradLog(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	x := input(n, 0)
	return []string{b.like(b.op("Div", []string{dy[0], x}), x)}, nil
}

func gradSqrt(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	y := n.GetOutput()[0]
	return []string{b.like(b.op("Div", []string{b.op("Mul", []string{dy[0], b.cf(b.dt(y), 0.5)}), y}), y)}, nil
}

func gradNeg(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	return []string{b.like(b.op("Neg", []string{dy[0]}), input(n, 0))}, nil
}

func gradAbs(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	x := input(n, 0)
	return []string{b.like(b.op("Mul", []string{dy[0], b.op("Sign", []string{x})}), x)}, nil
}

func gradReciprocal(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	y := n.GetOutput()[0]
	return []string{b.like(b.op("Neg", []string{b.op("Mul", []string{dy[0], b.op("Mul", []string{y, y})})}), y)}, nil
}

func gradSoftplus(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	x := input(n, 0)
	return []string{b.like(b.op("Mul", []string{dy[0], b.op("Sigmoid", []string{x})}), x)}, nil
}

// clipMask returns where the input of Clip n lies strictly inside its
// bounds ("" when it has none): where the derivative is 1, not 0.
func (b *gradBuilder) clipMask(n *onnxpb.NodeProto) string {
	x := input(n, 0)
	var mask string
	if lo := input(n, 1); lo != "" {
		mask = b.op("Greater", []string{x, lo})
	}
	if hi := input(n, 2); hi != "" {
		m := b.op("Less", []string{x, hi})
		if mask != "" {
			m = b.op("And", []string{mask, m})
		}
		mask = m
	}
	return mask
}

func gradClip(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	if len(need) > 1 && need[1] || len(need) > 2 && need[2] {
		return nil, b.noGrad("no gradient with respect to the bounds of Clip")
	}
	x := input(n, 0)
	mask := b.clipMask(n)
	out := make([]string, len(need))
	if mask == "" {
		out[0] = dy[0]
		return out, nil
	}
	out[0] = b.like(b.op("Where", []string{mask, dy[0], b.cf(b.dt(x), 0)}), x)
	return out, nil
}

// sumTo reduces g, shaped like ref, to the shape of x, which broadcast to
// ref's shape: it sums over the axes x lacks or holds as 1.
func (b *gradBuilder) sumTo(g, ref, x string) (string, error) {
	ri, xi := b.info[ref], b.info[x]
	if ri == nil || xi == nil || !ri.ranked || !xi.ranked {
		return "", b.noGrad("broadcasting between values of unknown rank")
	}
	ry, rx := len(ri.dims), len(xi.dims)
	if rx > ry {
		return "", b.noGrad("operand of rank %d broadcast to rank %d", rx, ry)
	}
	lead := ry - rx
	var axes []int64
	for i := 0; i < lead; i++ {
		axes = append(axes, int64(i))
	}
	dynamic := false
	for i, dx := range xi.dims {
		dy := ri.dims[lead+i]
		switch {
		case sameDim(dx, dy), dy == 1:
		case dx == 1:
			axes = append(axes, int64(lead+i))
		case dx > 1:
		default:
			dynamic = true
		}
	}
	if dynamic {
		return b.sumToDynamic(g, lead, x), nil
	}
	if len(axes) == 0 {
		return g, nil
	}
	r := b.op("ReduceSum", []string{g, b.ci(axes...)}, attrI("keepdims", 1))
	if lead > 0 {
		return b.reshapeLike(r, x), nil
	}
	return b.like(r, x), nil
}

// sumToDynamic is sumTo for shapes known only at run time: it sums over the
// lead leading axes and over every axis where x has size 1.
func (b *gradBuilder) sumToDynamic(g string, lead int, x string) string {
	r := g
	if lead > 0 {
		axes := make([]int64, lead)
		for i := range axes {
			axes[i] = int64(i)
		}
		r = b.op("ReduceSum", []string{r, b.ci(axes...)}, attrI("keepdims", 0))
	}
	ones := b.op("Equal", []string{b.shapeOf(x), b.ci(1)})
	axes := b.op("Reshape", []string{b.op("NonZero", []string{ones}), b.ci(-1)})
	r = b.op("ReduceSum", []string{r, axes}, attrI("keepdims", 1), attrI("noop_with_empty_axes", 1))
	return b.like(b.op("Reshape", []string{r, b.shapeOf(x)}), x)
}

func gradAdd(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	y := n.GetOutput()[0]
	out := make([]string, len(need))
	for i, ok := range need {
		if !ok {
			continue
		}
		g, err := b.sumTo(dy[0], y, input(n, i))
		if err != nil {
			return nil, err
		}
		out[i] = g
	}
	return out, nil
}

func gradExpand(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	g, err := b.sumTo(dy[0], n.GetOutput()[0], input(n, 0))
	if err != nil {
		return nil, err
	}
	out := make([]string, len(need))
	out[0] = g
	return out, nil
}

func gradSub(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	out, err := gradAdd(b, n, dy, need)
	if err != nil || !need[1] {
		return out, err
	}
	out[1] = b.like(b.op("Neg", []string{out[1]}), input(n, 1))
	return out, nil
}

func gradMul(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	y := n.GetOutput()[0]
	out := make([]string, len(need))
	for i := 0; i < 2; i++ {
		if !need[i] {
			continue
		}
		p := b.like(b.op("Mul", []string{dy[0], input(n, 1-i)}), y)
		g, err := b.sumTo(p, y, input(n, i))
		if err != nil {
			return nil, err
		}
		out[i] = g
	}
	return out, nil
}

func gradDiv(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	y := n.GetOutput()[0]
	out := make([]string, len(need))
	t := b.like(b.op("Div", []string{dy[0], input(n, 1)}), y)
	var err error
	if need[0] {
		if out[0], err = b.sumTo(t, y, input(n, 0)); err != nil {
			return nil, err
		}
	}
	if need[1] {
		g, err := b.sumTo(b.like(b.op("Mul", []string{t, y}), y), y, input(n, 1))
		if err != nil {
			return nil, err
		}
		out[1] = b.like(b.op("Neg", []string{g}), input(n, 1))
	}
	return out, nil
}

func (b *gradBuilder) gemm(a, c string, transA, transB int64, alpha float64) string {
	attrs := []*onnxpb.AttributeProto{}
	if transA != 0 {
		attrs = append(attrs, attrI("transA", 1))
	}
	if transB != 0 {
		attrs = append(attrs, attrI("transB", 1))
	}
	if alpha != 1 {
		attrs = append(attrs, attrF("alpha", float32(alpha)))
	}
	return b.op("Gemm", []string{a, c}, attrs...)
}

func gradGemm(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	A, B, y := input(n, 0), input(n, 1), n.GetOutput()[0]
	alpha, beta := attrFloat(n, "alpha", 1), attrFloat(n, "beta", 1)
	ta, tb := n.AttrInt("transA", 0), n.AttrInt("transB", 0)
	g := dy[0]
	out := make([]string, len(need))
	if need[0] {
		switch {
		case ta == 0 && tb == 0:
			out[0] = b.gemm(g, B, 0, 1, alpha)
		case ta == 0:
			out[0] = b.gemm(g, B, 0, 0, alpha)
		case tb == 0:
			out[0] = b.gemm(B, g, 0, 1, alpha)
		default:
			out[0] = b.gemm(B, g, 1, 1, alpha)
		}
		b.like(out[0], A)
	}
	if need[1] {
		switch {
		case tb == 0 && ta == 0:
			out[1] = b.gemm(A, g, 1, 0, alpha)
		case tb == 0:
			out[1] = b.gemm(A, g, 0, 0, alpha)
		case ta == 0:
			out[1] = b.gemm(g, A, 1, 0, alpha)
		default:
			out[1] = b.gemm(g, A, 1, 1, alpha)
		}
		b.like(out[1], B)
	}
	if len(need) > 2 && need[2] {
		s, err := b.sumTo(g, y, input(n, 2))
		if err != nil {
			return nil, err
		}
		if beta != 1 {
			s = b.like(b.op("Mul", []string{s, b.cf(b.dt(y), float64(float32(beta)))}), input(n, 2))
		}
		out[2] = s
	}
	return out, nil
}

// swapLast returns the permutation of rank r that swaps the last two axes.
func swapLast(r int) []int64 {
	p := make([]int64, r)
	for i := range p {
		p[i] = int64(i)
	}
	p[r-1], p[r-2] = p[r-2], p[r-1]
	return p
}

func gradMatMul(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	A, B, y := input(n, 0), input(n, 1), n.GetOutput()[0]
	ra, rb := b.rank(A), b.rank(B)
	if ra < 1 || rb < 1 {
		return nil, b.noGrad("MatMul operands of unknown rank")
	}
	g := dy[0]
	out := make([]string, 2)
	switch {
	case ra == 2 && rb == 2:
		if need[0] {
			out[0] = b.like(b.gemm(g, B, 0, 1, 1), A)
		}
		if need[1] {
			out[1] = b.like(b.gemm(A, g, 1, 0, 1), B)
		}
		return out, nil
	case ra > 2 && rb == 2:
		if need[0] {
			if b.dt(y) == onnx.Double {
				// ONNX Runtime fuses a Transpose into the MatMul after it,
				// and its fused kernel has no double form: g B' as a Gemm of
				// g flattened.
				fg := b.op("Flatten", []string{g}, attrI("axis", int64(ra-1)))
				out[0] = b.reshapeLike(b.gemm(fg, B, 0, 1, 1), A)
			} else {
				bt := b.op("Transpose", []string{B}, attrIs("perm", 1, 0))
				out[0] = b.like(b.op("MatMul", []string{g, bt}), A)
			}
		}
		if need[1] {
			fa := b.op("Flatten", []string{A}, attrI("axis", int64(ra-1)))
			fg := b.op("Flatten", []string{g}, attrI("axis", int64(ra-1)))
			out[1] = b.like(b.gemm(fa, fg, 1, 0, 1), B)
		}
		return out, nil
	case ra == 1 && rb == 1:
		if need[0] {
			out[0] = b.like(b.op("Mul", []string{g, B}), A)
		}
		if need[1] {
			out[1] = b.like(b.op("Mul", []string{g, A}), B)
		}
		return out, nil
	}
	// General batched case, with 1-D operands made 2-D as numpy does.
	ai, bi, yi := b.info[A], b.info[B], b.info[y]
	if !yi.ranked {
		return nil, b.noGrad("MatMul output of unknown rank")
	}
	a2, b2 := A, B
	adims, bdims := slices.Clone(ai.dims), slices.Clone(bi.dims)
	gdims := slices.Clone(yi.dims)
	if ra == 1 {
		a2 = b.op("Unsqueeze", []string{A, b.ci(0)})
		adims = []int64{1, adims[0]}
		g = b.op("Unsqueeze", []string{g, b.ci(-2)})
		gdims = append(gdims[:len(gdims)-1], 1, gdims[len(gdims)-1])
	}
	if rb == 1 {
		b2 = b.op("Unsqueeze", []string{B, b.ci(1)})
		bdims = []int64{bdims[0], 1}
		g = b.op("Unsqueeze", []string{g, b.ci(-1)})
		gdims = append(gdims, 1)
	}
	dt := b.dt(y)
	b.setInfo(a2, dt, adims, true)
	b.setInfo(b2, dt, bdims, true)
	b.setInfo(g, dt, gdims, true)
	batch := gdims[:len(gdims)-2]
	// g B' and A' g; in double as Einsums, ONNX Runtime's fusion of a
	// Transpose into a MatMul having no double kernel.
	product := func(l, r string, lt, rt bool) string {
		if dt == onnx.Double {
			lhs, rhs := "...ij", "...jk"
			if lt {
				lhs = "...ji"
			}
			if rt {
				rhs = "...kj"
			}
			// Einsum's ellipses broadcast between operands of one rank.
			lr, rr := b.rank(l), b.rank(r)
			lead := func(v string, k int) string {
				axes := make([]int64, k)
				for i := range axes {
					axes[i] = int64(i)
				}
				return b.op("Unsqueeze", []string{v, b.ci(axes...)})
			}
			if lr < rr {
				l = lead(l, rr-lr)
			} else if rr < lr {
				r = lead(r, lr-rr)
			}
			return b.op("Einsum", []string{l, r}, attrS("equation", lhs+","+rhs+"->...ik"))
		}
		if lt {
			l = b.op("Transpose", []string{l}, attrIs("perm", swapLast(b.rank(l))...))
		}
		if rt {
			r = b.op("Transpose", []string{r}, attrIs("perm", swapLast(b.rank(r))...))
		}
		return b.op("MatMul", []string{l, r})
	}
	if need[0] {
		full := product(g, b2, false, true)
		b.setInfo(full, dt, append(slices.Clone(batch), adims[len(adims)-2], adims[len(adims)-1]), true)
		s, err := b.sumTo(full, full, a2)
		if err != nil {
			return nil, err
		}
		out[0] = b.reshapeLike(s, A)
	}
	if need[1] {
		full := product(a2, g, true, false)
		b.setInfo(full, dt, append(slices.Clone(batch), bdims[len(bdims)-2], bdims[len(bdims)-1]), true)
		s, err := b.sumTo(full, full, b2)
		if err != nil {
			return nil, err
		}
		out[1] = b.reshapeLike(s, B)
	}
	return out, nil
}

// convWindow reads the geometry of a Conv or ConvTranspose n with input x
// and weight w.
func (b *gradBuilder) convWindow(n *onnxpb.NodeProto, x, w string) (window, error) {
	xi, wi := b.info[x], b.info[w]
	if xi == nil || wi == nil || !xi.ranked || !wi.ranked || len(xi.dims) < 3 || len(wi.dims) != len(xi.dims) {
		return window{}, b.noGrad("input or weight of unknown rank")
	}
	win := windowOf(n, xi.dims[2:], wi.dims[2:])
	sp := len(xi.dims) - 2
	if len(win.k) != sp || slices.Min(win.k) < 0 {
		return window{}, b.noGrad("kernel shape unknown")
	}
	if win.pads == nil {
		return window{}, b.noGrad("auto_pad %s needs fixed spatial sizes of the input", win.autoPad)
	}
	return win, nil
}

func gradConv(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	x, w, y := input(n, 0), input(n, 1), n.GetOutput()[0]
	win, err := b.convWindow(n, x, w)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(need))
	if need[0] {
		out[0] = b.convInputGrad(dy[0], w, x, y, win)
	}
	if need[1] {
		if out[1], err = b.convWeightGrad(x, dy[0], y, w, win); err != nil {
			return nil, err
		}
	}
	if len(need) > 2 && need[2] {
		out[2] = b.reduceSum(b.like(dy[0], y), spatialAxes(b.rank(y), true), false)
	}
	return out, nil
}

func gradConvTranspose(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	x, w, y := input(n, 0), input(n, 1), n.GetOutput()[0]
	if n.Attr("output_shape") != nil {
		return nil, b.noGrad("output_shape is not supported; give pads and output_padding")
	}
	if ap := attrString(n, "auto_pad", "NOTSET"); ap != "NOTSET" && ap != "VALID" {
		return nil, b.noGrad("auto_pad %s is not supported; give pads and output_padding", ap)
	}
	win, err := b.convWindow(n, x, w)
	if err != nil {
		return nil, err
	}
	for i, p := range win.outPad {
		if p >= max(win.s[i], win.d[i]) {
			return nil, b.noGrad("output_padding %d not smaller than the stride", p)
		}
	}
	out := make([]string, len(need))
	if need[0] {
		// ConvTranspose is the adjoint of the Conv with the same weight and
		// geometry, which is therefore its input gradient.
		c := b.op("Conv", []string{dy[0], w}, convAttrs(win, win.s, win.d, win.pads, win.group)...)
		out[0] = b.like(c, x)
	}
	if need[1] {
		if out[1], err = b.convWeightGrad(b.like(dy[0], y), x, x, w, win); err != nil {
			return nil, err
		}
	}
	if len(need) > 2 && need[2] {
		out[2] = b.reduceSum(b.like(dy[0], y), spatialAxes(b.rank(y), true), false)
	}
	return out, nil
}

// spatialAxes returns [0, 2, 3, ..., r-1] (withBatch) or [2, ..., r-1].
func spatialAxes(r int, withBatch bool) []int64 {
	var a []int64
	if withBatch {
		a = append(a, 0)
	}
	for i := 2; i < r; i++ {
		a = append(a, int64(i))
	}
	return a
}

func convAttrs(win window, strides, dilations, pads []int64, group int64) []*onnxpb.AttributeProto {
	attrs := []*onnxpb.AttributeProto{attrIs("strides", strides...), attrIs("dilations", dilations...), attrIs("pads", pads...)}
	if group != 1 {
		attrs = append(attrs, attrI("group", group))
	}
	return attrs
}

// convInputGrad returns the gradient with respect to the input x of a Conv
// of geometry win and weight w, given the gradient dy of its output y. With
// unit strides it is a Conv of dy with the kernel flipped and its channel axes
// swapped, which ONNX Runtime runs as fast as the forward Conv (and, with
// the weight stored, prepacks like it); otherwise it is the ConvTranspose
// convAdjoint makes. For strides above 1 the sub-pixel form, one stride-1
// Conv whose output channels are the s*s phases of x interleaved back by
// DepthToSpace (or Reshape and Transpose), was measured slower: on the digits
// ResNet its Conv cost what the ConvTranspose did and the interleave came on
// top (DepthToSpace 0.6 ms a batch, the 6-D Transpose 1.9 ms, against 0.56
// ms for the ConvTranspose).
func (b *gradBuilder) convInputGrad(dy, w, x, y string, win window) string {
	sp := len(win.k)
	r := sp + 2
	wi := b.info[w]
	ok := wi != nil && wi.ranked && wi.dims[0] >= 0 && wi.dims[1] >= 0
	pads := make([]int64, 2*sp)
	for i := 0; ok && i < sp; i++ {
		ext := (win.k[i] - 1) * win.d[i]
		pads[i], pads[sp+i] = ext-win.pads[i], ext-win.pads[sp+i]
		ok = win.s[i] == 1 && pads[i] >= 0 && pads[sp+i] >= 0
	}
	if !ok {
		return b.convAdjoint(dy, w, x, y, win, win.group)
	}
	g := win.group
	wt := w
	if g == 1 {
		perm := make([]int64, r)
		for i := range perm {
			perm[i] = int64(i)
		}
		perm[0], perm[1] = 1, 0
		wt = b.op("Transpose", []string{w}, attrIs("perm", perm...))
	} else {
		m, cg := wi.dims[0], wi.dims[1]
		perm := []int64{0, 2, 1}
		for i := 3; i < r+1; i++ {
			perm = append(perm, int64(i))
		}
		wt = b.op("Reshape", []string{w, b.concatShape(b.ci(g, m/g, cg), b.ci(win.k...))})
		wt = b.op("Transpose", []string{wt}, attrIs("perm", perm...))
		wt = b.op("Reshape", []string{wt, b.concatShape(b.ci(cg*g, m/g), b.ci(win.k...))})
	}
	starts, ends, steps := make([]int64, sp), make([]int64, sp), make([]int64, sp)
	for i := range starts {
		starts[i], ends[i], steps[i] = -1, math.MinInt64, -1
	}
	wt = b.op("Slice", []string{wt, b.ci(starts...), b.ci(ends...), b.ci(spatialAxes(r, false)...), b.ci(steps...)})
	return b.like(b.op("Conv", []string{dy, wt}, convAttrs(win, win.s, win.d, pads, g)...), x)
}

// convAdjoint returns the adjoint of the convolution of geometry win applied
// to dy: a ConvTranspose with weight w whose output has the spatial sizes of
// x. y is the convolution's output (for its sizes).
func (b *gradBuilder) convAdjoint(dy, w, x, y string, win window, group int64) string {
	xi, yi := b.info[x], b.info[y]
	sp := len(win.k)
	static := xi.ranked && yi.ranked && len(yi.dims) == sp+2
	for i := 0; static && i < sp; i++ {
		static = xi.dims[2+i] >= 0 && yi.dims[2+i] >= 0
	}
	if static {
		pads := make([]int64, 2*sp)
		outPad := make([]int64, sp)
		for i := 0; i < sp; i++ {
			total := win.s[i]*(yi.dims[2+i]-1) + win.keff(i)
			e := total - win.pads[i] - xi.dims[2+i]
			pads[i] = win.pads[i]
			if e >= 0 {
				pads[sp+i] = e
			} else {
				outPad[i] = -e
			}
		}
		attrs := convAttrs(win, win.s, win.d, pads, group)
		if slices.Max(outPad) > 0 {
			attrs = append(attrs, attrIs("output_padding", outPad...))
		}
		return b.like(b.op("ConvTranspose", []string{dy, w}, attrs...), x)
	}
	// Sizes known at run time only: crop the beginning by the pads, then cut
	// or zero-fill the end to x's sizes.
	pads := make([]int64, 2*sp)
	copy(pads, win.pads[:sp])
	ct := b.op("ConvTranspose", []string{dy, w}, convAttrs(win, win.s, win.d, pads, group)...)
	r := sp + 2
	axes := spatialAxes(r, false)
	want := b.dimsOf(x, 2, r)
	sl := b.op("Slice", []string{ct, b.ci(make([]int64, sp)...), want, b.ci(axes...)})
	b.setInfo(sl, b.dt(x), unknownDims(r), true)
	have := b.op("Slice", []string{b.shapeOf(sl), b.ci(2), b.ci(int64(r))})
	fill := b.op("Sub", []string{want, have})
	padv := b.concatShape(b.ci(make([]int64, r+2)...), fill)
	return b.like(b.op("Pad", []string{sl, padv}), x)
}

// convWeightGrad returns the gradient with respect to the weight w of a
// convolution of geometry win that maps x to an output whose gradient is dy:
// the correlation of x with dy, computed as a Conv with the batch and channel
// axes swapped (strides and dilations trade places), cut to the kernel size.
// For groups, the groups of x are moved into the channel axis beside the
// batch so that one grouped Conv does every group. y is the value shaped like
// dy.
func (b *gradBuilder) convWeightGrad(x, dy, y, w string, win window) (string, error) {
	if gw, ok := b.convWeightGather(x, dy, y, w, win); ok {
		return gw, nil
	}
	xi, yi, wi := b.info[x], b.info[y], b.info[w]
	sp := len(win.k)
	r := sp + 2
	perm := make([]int64, r)
	for i := range perm {
		perm[i] = int64(i)
	}
	perm[0], perm[1] = 1, 0
	g := win.group
	var xt string
	if g == 1 {
		xt = b.op("Transpose", []string{x}, attrIs("perm", perm...))
	} else {
		cg := wi.dims[1]
		if cg < 0 {
			return "", b.noGrad("grouped convolution with a weight of unknown shape")
		}
		xr := b.op("Reshape", []string{x, b.concatShape(b.ci(-1, g, cg), b.dimsOf(x, 2, r))})
		gp := []int64{2, 1, 0}
		for i := 3; i < r+1; i++ {
			gp = append(gp, int64(i))
		}
		xt = b.op("Transpose", []string{xr}, attrIs("perm", gp...))
		xt = b.op("Reshape", []string{xt, b.concatShape(b.ci(cg, -1), b.dimsOf(x, 2, r))})
	}
	dyt := b.op("Transpose", []string{dy}, attrIs("perm", perm...))
	gw := b.op("Conv", []string{xt, dyt}, convAttrs(win, win.d, win.s, win.pads, g)...)
	gw = b.op("Transpose", []string{gw}, attrIs("perm", perm...))
	exact := xi.ranked && yi.ranked && len(yi.dims) == r
	for i := 0; exact && i < sp; i++ {
		in, o := xi.dims[2+i], yi.dims[2+i]
		exact = in >= 0 && o >= 0 && (in+win.pads[i]+win.pads[sp+i]-((o-1)*win.s[i]+1))/win.d[i]+1 == win.k[i]
	}
	if !exact {
		gw = b.op("Slice", []string{gw, b.ci(make([]int64, sp)...), b.ci(win.k...), b.ci(spatialAxes(r, false)...)})
	}
	return b.like(gw, w), nil
}

// patchLimit bounds the values per sample of the patch matrix that
// convWeightGather builds.
const patchLimit = 1 << 20

// convWeightGather is convWeightGrad as one matrix product, for fixed
// spatial sizes and one group: the patches of x (im2col, made by one Gather
// with precomputed indices, with a zero row standing for the padding) times
// dy. ok is false where it does not apply or the patches would be large.
//
// The patches are laid out [C*K, P*N] (x moved to [C, spatial..., N], so that
// each index gathers the N samples' values of one position at once) and dy
// as [M, P*N], and the product is taken as Gemm(patches, dy, transB=1): the
// long reduction axis is contiguous in both operands and the wide operand is
// the one read in place. Measured in one session and thread on the layers of
// ResNet-20 at batch 32, that costs 0.5 to 0.8 of the earlier layout's time
// (0.77 summed over the network), patches [N*P, K*C] from x
// in channels-last order times dy [M, N*P], whose Gemm runs at half the rate
// (65 against 130 GFLOP/s for the 16-channel layers) and whose Gather copies
// blocks of C instead of N values; the Conv form of the product, with input
// and gradient as batch and kernel, costs about twice as much again. The
// product's Transpose back to [M, C, K] follows a Reshape so that ONNX
// Runtime does not fuse it into the Gemm, which would swap the operands back
// to the slow order. One product per kernel offset, each on a strided Slice
// of the padded x in the same layout (no Gather), ran no faster over both
// benchmark networks and made sessions 30 to 90% slower to create.
func (b *gradBuilder) convWeightGather(x, dy, y, w string, win window) (string, bool) {
	xi, yi, wi := b.info[x], b.info[y], b.info[w]
	sp := len(win.k)
	r := sp + 2
	if win.group != 1 || xi == nil || yi == nil || wi == nil || !xi.ranked || !yi.ranked || !wi.static() || len(xi.dims) != r || len(yi.dims) != r {
		return "", false
	}
	in, out := xi.dims[2:], yi.dims[2:]
	if slices.Min(in) < 0 || slices.Min(out) < 0 {
		return "", false
	}
	m, c := wi.dims[0], wi.dims[1]
	k, p, size := prodDims(win.k), prodDims(out), prodDims(in)
	if c*k*p > patchLimit {
		return "", false
	}
	// Patch row (o, q) reads input position q*s - pad + o*d, or the zero
	// row where that falls in the padding.
	idx := make([]int64, k*p)
	pos, off := make([]int64, sp), make([]int64, sp)
	for q := int64(0); q < p; q++ {
		rest := q
		for i := sp - 1; i >= 0; i-- {
			pos[i] = rest % out[i]
			rest /= out[i]
		}
		for o := int64(0); o < k; o++ {
			rest := o
			for i := sp - 1; i >= 0; i-- {
				off[i] = rest % win.k[i]
				rest /= win.k[i]
			}
			flat := int64(0)
			for i := 0; i < sp; i++ {
				v := pos[i]*win.s[i] - win.pads[i] + off[i]*win.d[i]
				if v < 0 || v >= in[i] {
					flat = size
					break
				}
				flat = flat*in[i] + v
			}
			idx[o*p+q] = flat
		}
	}
	last := make([]int64, r) // batch last: [C, spatial..., N]
	for i := 0; i < r-1; i++ {
		last[i] = int64(i + 1)
	}
	xl := b.op("Reshape", []string{b.op("Transpose", []string{x}, attrIs("perm", last...)), b.ci(c, size, -1)})
	xz := b.op("Pad", []string{xl, b.ci(0, 0, 0, 0, 1, 0)})
	patches := b.op("Reshape", []string{b.op("Gather", []string{xz, b.ci(idx...)}, attrI("axis", 1)), b.ci(c*k, -1)}) // [C*K, P*N]
	dyt := b.op("Reshape", []string{b.op("Transpose", []string{dy}, attrIs("perm", last...)), b.ci(m, -1)})           // [M, P*N]
	gw := b.gemm(patches, dyt, 0, 1, 1)                                                                               // [C*K, M]
	gw = b.op("Transpose", []string{b.op("Reshape", []string{gw, b.ci(c, k, m)})}, attrIs("perm", 2, 0, 1))
	return b.like(b.op("Reshape", []string{gw, b.ci(wi.dims...)}), w), true
}

func gradBatchNorm(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	if n.AttrInt("training_mode", 0) != 0 {
		return nil, b.noGrad("training_mode=1 is not inference")
	}
	for i, o := range n.GetOutput() {
		if i > 0 && o != "" && dy[i] != "" {
			return nil, b.noGrad("gradient through the running statistics outputs")
		}
	}
	x, scale, mean, variance := input(n, 0), input(n, 1), input(n, 3), input(n, 4)
	r := b.rank(x)
	if r < 2 {
		return nil, b.noGrad("input of unknown rank")
	}
	dt := b.dt(x)
	g := b.like(dy[0], x)
	axes := spatialAxes(r, true)
	inv := b.op("Reciprocal", []string{b.op("Sqrt", []string{b.op("Add", []string{variance, b.cf(b.dt(variance), float64(float32(attrFloat(n, "epsilon", 1e-5))))})})})
	bc := func(v string) string {
		if r == 2 {
			return v
		}
		shape := []int64{-1}
		for i := 2; i < r; i++ {
			shape = append(shape, 1)
		}
		return b.op("Reshape", []string{v, b.ci(shape...)})
	}
	k := b.op("Mul", []string{scale, inv})
	out := make([]string, len(need))
	if need[0] {
		out[0] = b.like(b.op("Mul", []string{g, bc(b.castTo(k, dt))}), x)
	}
	var s0 string
	sum0 := func() string {
		if s0 == "" {
			s0 = b.reduceSum(g, axes, false)
		}
		return s0
	}
	if need[2] {
		out[2] = sum0()
	}
	if need[1] || need[3] || need[4] {
		s1 := b.reduceSum(b.like(b.op("Mul", []string{g, x}), x), axes, false)
		t := b.op("Sub", []string{s1, b.op("Mul", []string{mean, sum0()})})
		if need[1] {
			out[1] = b.op("Mul", []string{t, inv})
		}
		if need[3] {
			out[3] = b.op("Neg", []string{b.op("Mul", []string{k, sum0()})})
		}
		if need[4] {
			cube := b.op("Mul", []string{inv, b.op("Mul", []string{inv, inv})})
			out[4] = b.op("Mul", []string{b.op("Mul", []string{scale, t}), b.op("Mul", []string{cube, b.cf(b.dt(variance), -0.5)})})
		}
	}
	for i := 1; i < len(out); i++ {
		if out[i] != "" {
			b.like(out[i], input(n, i))
		}
	}
	return out, nil
}

func gradMaxPool(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	if n.AttrInt("storage_order", 0) != 0 {
		return nil, b.noGrad("storage_order=1 is not supported")
	}
	x := input(n, 0)
	xi := b.info[x]
	if xi == nil || !xi.ranked || len(xi.dims) < 3 {
		return nil, b.noGrad("input of unknown rank")
	}
	win := windowOf(n, xi.dims[2:], nil)
	if len(win.k) != len(xi.dims)-2 {
		return nil, b.noGrad("no kernel_shape")
	}
	// The forward pass reports where each maximum came from.
	if len(n.Output) < 2 {
		n.Output = append(n.Output, "")
	}
	if n.Output[1] == "" {
		n.Output[1] = b.fresh("indices")
		b.setInfo(n.Output[1], onnx.Int64, b.info[n.Output[0]].dims, b.info[n.Output[0]].ranked)
	}
	overlap := false
	for i := range win.k {
		overlap = overlap || win.s[i] < win.keff(i)
	}
	dt := b.dt(x)
	size := b.op("Reshape", []string{b.op("Size", []string{x}), b.ci(1)})
	zeros := b.op("ConstantOfShape", []string{size}, attrT("value", scalarTensor(dt, []int64{1}, 0)))
	b.isZero[zeros] = true
	idx := b.op("Reshape", []string{n.Output[1], b.ci(-1)})
	upd := b.op("Reshape", []string{dy[0], b.ci(-1)})
	attrs := []*onnxpb.AttributeProto{attrI("axis", 0)}
	if overlap {
		// Windows that overlap can pick the same element twice.
		b.needOpset(16)
		attrs = append(attrs, attrS("reduction", "add"))
	}
	sc := b.op("ScatterElements", []string{zeros, idx, upd}, attrs...)
	b.setInfo(sc, dt, []int64{dimUnknown}, true)
	return []string{b.reshapeLike(sc, x)}, nil
}

func gradAveragePool(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	x, y := input(n, 0), n.GetOutput()[0]
	xi, yi := b.info[x], b.info[y]
	if xi == nil || !xi.ranked || len(xi.dims) < 3 {
		return nil, b.noGrad("input of unknown rank")
	}
	win := windowOf(n, xi.dims[2:], nil)
	sp := len(xi.dims) - 2
	r := sp + 2
	if len(win.k) != sp {
		return nil, b.noGrad("no kernel_shape")
	}
	if win.ceil {
		return nil, b.noGrad("ceil_mode=1 is not supported")
	}
	if win.pads == nil {
		return nil, b.noGrad("auto_pad %s needs fixed spatial sizes of the input", win.autoPad)
	}
	dt := b.dt(x)
	var scale string
	if n.AttrInt("count_include_pad", 0) != 0 || slices.Max(win.pads) == 0 {
		scale = b.cf(dt, 1/float64(prodDims(win.k)))
	} else {
		// Windows that overlap the padding average fewer elements.
		fixed := yi.ranked && len(yi.dims) == r && slices.Min(xi.dims[2:]) >= 0 && slices.Min(yi.dims[2:]) >= 0
		if !fixed || slices.Max(win.d) != 1 {
			return nil, b.noGrad("count_include_pad=0 with padding needs fixed sizes and no dilation")
		}
		osz := yi.dims[2:]
		cnt := make([]float64, prodDims(osz))
		for j := range cnt {
			c := 1.0
			rest := int64(j)
			for i := sp - 1; i >= 0; i-- {
				o := rest % osz[i]
				rest /= osz[i]
				lo := o*win.s[i] - win.pads[i]
				hi := lo + win.k[i]
				c *= float64(min(hi, xi.dims[2+i]) - max(lo, 0))
			}
			cnt[j] = 1 / c
		}
		scale = b.cfs(dt, osz, cnt)
	}
	flat := b.op("Reshape", []string{dy[0], b.concatShape(b.ci(-1, 1), b.dimsOf(y, 2, r))})
	flat = b.op("Mul", []string{flat, scale})
	od := []int64{dimUnknown, 1}
	if yi.ranked {
		od = append(od, yi.dims[2:]...)
	} else {
		od = unknownDims(r)
	}
	b.setInfo(flat, dt, od, true)
	ones := make([]float64, prodDims(win.k))
	for i := range ones {
		ones[i] = 1
	}
	w := b.cfs(dt, append([]int64{1, 1}, win.k...), ones)
	dx := b.convAdjoint(flat, w, x, flat, win, 1)
	b.setInfo(dx, dt, append([]int64{dimUnknown, 1}, xi.dims[2:]...), true)
	return []string{b.reshapeLike(dx, x)}, nil
}

func gradGlobalAveragePool(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	x, y := input(n, 0), n.GetOutput()[0]
	xi := b.info[x]
	dt := b.dt(x)
	if xi != nil && xi.ranked && len(xi.dims) > 2 && prodDims(xi.dims[2:]) > 0 {
		// A broadcast Mul by a constant [1, 1, spatial...] of 1/size spreads
		// the gradient faster than Expand does.
		hw := prodDims(xi.dims[2:])
		fill := make([]float64, hw)
		for i := range fill {
			fill[i] = 1 / float64(hw)
		}
		c := b.cfs(dt, append([]int64{1, 1}, xi.dims[2:]...), fill)
		return []string{b.like(b.op("Mul", []string{dy[0], c}), x)}, nil
	}
	sy := b.castTo(b.setScalar(b.op("Size", []string{y}), onnx.Int64), dt)
	sx := b.castTo(b.setScalar(b.op("Size", []string{x}), onnx.Int64), dt)
	g := b.op("Mul", []string{dy[0], b.op("Div", []string{sy, sx})})
	return []string{b.like(b.op("Expand", []string{g, b.shapeLike(x)}), x)}, nil
}

func gradConcat(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	y := n.GetOutput()[0]
	r := b.rank(y)
	if r < 0 {
		return nil, b.noGrad("output of unknown rank")
	}
	axis := normAxis(n.AttrInt("axis", 0), r)
	var sizes []string
	for _, in := range n.GetInput() {
		if b.rank(in) != r {
			return nil, b.noGrad("input of unknown rank")
		}
		sizes = append(sizes, b.dimsOf(in, axis, axis+1))
	}
	parts := b.opN("Split", []string{dy[0], b.concatShape(sizes...)}, len(sizes), attrI("axis", int64(axis)))
	out := make([]string, len(need))
	for i := range out {
		if need[i] {
			out[i] = b.like(parts[i], input(n, i))
		}
	}
	return out, nil
}

func gradPad(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	if mode := attrString(n, "mode", "constant"); mode != "constant" {
		return nil, b.noGrad("mode %s is not supported", mode)
	}
	if len(need) > 2 && need[2] {
		return nil, b.noGrad("no gradient with respect to the pad value")
	}
	x, pads := input(n, 0), input(n, 1)
	var neg string
	if p, ok := b.ints(pads); ok {
		q := make([]int64, len(p))
		for i, v := range p {
			q[i] = -v
		}
		neg = b.ci(q...)
	} else {
		neg = b.op("Neg", []string{pads})
	}
	in := []string{dy[0], neg}
	if axes := input(n, 3); axes != "" {
		in = append(in, "", axes)
	}
	out := make([]string, len(need))
	out[0] = b.like(b.op("Pad", in), x)
	return out, nil
}

// reduceAxes returns the axes a Reduce* node n reduces, normalised and
// sorted; none (nil, true) for a no-op reduction.
func (b *gradBuilder) reduceAxes(n *onnxpb.NodeProto) ([]int64, bool, error) {
	r := b.rank(input(n, 0))
	if r < 0 {
		return nil, false, b.noGrad("input of unknown rank")
	}
	var axes []int64
	if a := input(n, 1); a != "" {
		v, ok := b.ints(a)
		if !ok {
			return nil, false, b.noGrad("axes computed at run time")
		}
		axes = v
	} else {
		axes = attrInts(n, "axes")
	}
	if len(axes) == 0 && n.AttrInt("noop_with_empty_axes", 0) != 0 {
		return nil, true, nil
	}
	if len(axes) == 0 {
		for i := 0; i < r; i++ {
			axes = append(axes, int64(i))
		}
	}
	norm := make([]int64, len(axes))
	for i, a := range axes {
		norm[i] = int64(normAxis(a, r))
	}
	slices.Sort(norm)
	return norm, false, nil
}

func gradReduce(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	x, y := input(n, 0), n.GetOutput()[0]
	norm, noop, err := b.reduceAxes(n)
	if err != nil {
		return nil, err
	}
	if noop {
		return []string{dy[0]}, nil
	}
	g := dy[0]
	dt := b.dt(x)
	if n.GetOpType() == "ReduceMean" {
		xi := b.info[x]
		count := int64(1)
		for _, a := range norm {
			if xi.dims[a] < 0 {
				count = -1
				break
			}
			count *= xi.dims[a]
		}
		var scale string
		if count > 0 {
			scale = b.cf(dt, 1/float64(count))
		} else {
			sy := b.castTo(b.setScalar(b.op("Size", []string{y}), onnx.Int64), dt)
			sx := b.castTo(b.setScalar(b.op("Size", []string{x}), onnx.Int64), dt)
			scale = b.op("Div", []string{sy, sx})
		}
		g = b.op("Mul", []string{g, scale})
	}
	if n.AttrInt("keepdims", 1) == 0 {
		g = b.op("Unsqueeze", []string{g, b.ci(norm...)})
	}
	return []string{b.like(b.op("Expand", []string{g, b.shapeLike(x)}), x)}, nil
}
