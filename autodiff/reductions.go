package autodiff

import (
	"maps"
	"slices"

	"github.com/lsweep/lsweep/internal/onnxpb"
	"github.com/lsweep/lsweep/onnx"
)

// Rules for the other reductions (ReduceL2, ReduceLogSumExp,
// ReduceSumSquare, ReduceL1, ReduceLogSum, ReduceProd), CumSum, Mean and
// InstanceNormalization. A reduction's gradient is dy, with the reduced axes
// restored, times the derivative of the reduction with respect to each
// element; its tangent is the same derivative times dx, summed over the
// reduced axes.

func init() {
	maps.Copy(gradRules, map[string]gradRule{
		"ReduceL2":              gradReduceSmooth,
		"ReduceLogSumExp":       gradReduceSmooth,
		"ReduceSumSquare":       gradReduceSmooth,
		"ReduceL1":              gradReduceSmooth,
		"ReduceLogSum":          gradReduceSmooth,
		"ReduceProd":            gradReduceSmooth,
		"CumSum":                gradCumSum,
		"Mean":                  gradMean,
		"InstanceNormalization": gradInstanceNorm,
	})
	maps.Copy(tangentRules, map[string]tangentRule{
		"ReduceL2":              tanReduceSmooth,
		"ReduceLogSumExp":       tanReduceSmooth,
		"ReduceSumSquare":       tanReduceSmooth,
		"ReduceL1":              tanReduceSmooth,
		"ReduceLogSum":          tanReduceSmooth,
		"ReduceProd":            tanReduceSmooth,
		"CumSum":                tanLinear,
		"Mean":                  tanMean,
		"InstanceNormalization": tanInstanceNorm,
	})
}

// keepAxes returns v, an output or output-shaped gradient of the reduction
// n over axes, with the reduced axes present (as size 1).
func (b *gradBuilder) keepAxes(n *onnxpb.NodeProto, v string, axes []int64) string {
	if n.AttrInt("keepdims", 1) != 0 {
		return v
	}
	out := b.op("Unsqueeze", []string{v, b.ci(axes...)})
	if vi := b.info[v]; vi != nil && vi.ranked {
		dims := []int64{}
		k := 0
		for i := 0; i < len(vi.dims)+len(axes); i++ {
			if containsAxis(axes, i) {
				dims = append(dims, 1)
				continue
			}
			dims = append(dims, vi.dims[k])
			k++
		}
		b.setInfo(out, vi.dt, dims, true)
	}
	return out
}

func containsAxis(axes []int64, i int) bool {
	for _, a := range axes {
		if int(a) == i {
			return true
		}
	}
	return false
}

// reduceSlope returns the derivative of the reduction n with respect to each
// element of its input x, shaped like x: x / y for the L2 norm (0 where the
// norm is 0, as PyTorch), softmax(x) for log-sum-exp, 2 x for the sum of
// squares, sign(x) for the L1 norm, the product of the others for the
// product (prodSlope). (ReduceLogSum's, 1 / sum(x), is
// constant along the reduced axes and applied where the rules use it.)
func (b *gradBuilder) reduceSlope(n *onnxpb.NodeProto, axes []int64) string {
	x := input(n, 0)
	dt := b.dt(x)
	yk := b.keepAxes(n, n.GetOutput()[0], axes)
	var d string
	switch n.GetOpType() {
	case "ReduceL2":
		zero := b.cf(dt, 0)
		d = b.op("Where", []string{b.op("Equal", []string{yk, zero}), zero, b.op("Div", []string{x, yk})})
	case "ReduceLogSumExp":
		d = b.op("Exp", []string{b.op("Sub", []string{x, yk})})
	case "ReduceSumSquare":
		d = b.op("Mul", []string{x, b.cf(dt, 2)})
	case "ReduceL1":
		d = b.op("Sign", []string{x})
	case "ReduceProd":
		d = b.prodSlope(x, axes)
	}
	return b.like(d, x)
}

// prodSlope returns the derivative of the product of x over axes with
// respect to each element: the product of the other elements, computed
// without dividing by zero. With p the product of the nonzero elements and
// z the number of zeros, it is p / x where z = 0, p at the zero where
// z = 1, and 0 everywhere else. Its values are right, its derivative is not
// where x has zeros (the branches are constants there): the forward rule,
// which nothing differentiates again, uses it; the reverse rule, which the
// Hessian-vector product differentiates, uses othersProduct.
func (b *gradBuilder) prodSlope(x string, axes []int64) string {
	dt := b.dt(x)
	zero, one := b.cf(dt, 0), b.cf(dt, 1)
	isZero := b.op("Equal", []string{x, zero})
	if xi := b.info[x]; xi != nil {
		b.setInfo(isZero, onnx.Bool, xi.dims, xi.ranked)
	}
	nz := b.like(b.op("Where", []string{isZero, one, x}), x)
	p := b.reduceOp("ReduceProd", nz, axes, true)
	z := b.reduceSum(b.like(b.castTo(isZero, dt), x), axes, true)
	atNonzero := b.op("Where", []string{b.op("Equal", []string{z, zero}), b.op("Div", []string{p, nz}), zero})
	atZero := b.op("Where", []string{b.op("Equal", []string{z, one}), p, zero})
	return b.op("Where", []string{isZero, atZero, atNonzero})
}

// maxProdAxis bounds the number of elements of a ReduceProd's reduction
// whose gradient othersProduct builds (it makes a square of them per
// reduction).
const maxProdAxis = 1024

// othersProduct returns, for each element of x, the product of the other
// elements of its reduction over axes, as a polynomial in x (so that its
// derivative is right at zeros too): the reduced axes moved last and
// flattened to K elements, a K x K copy per reduction with the diagonal set
// to 1, multiplied along its rows. The reduced sizes must be fixed.
func (b *gradBuilder) othersProduct(x string, axes []int64) (string, error) {
	xi := b.info[x]
	r := len(xi.dims)
	k := int64(1)
	var perm, keep, red []int64
	for a := 0; a < r; a++ {
		if !containsAxis(axes, a) {
			perm = append(perm, int64(a))
			keep = append(keep, 0) // Reshape's 0: the size as it is
		}
	}
	for _, a := range axes {
		d := xi.dims[a]
		if d < 0 {
			return "", b.noGrad("a product over axes of sizes fixed at run time")
		}
		k *= d
		perm = append(perm, a)
		red = append(red, d)
	}
	if k > maxProdAxis {
		return "", b.noGrad("a product over %d elements (at most %d)", k, maxProdAxis)
	}
	dt := b.dt(x)
	inv := make([]int64, r)
	for i, p := range perm {
		inv[p] = int64(i)
	}
	eye := make([]float64, k*k)
	for i := int64(0); i < k; i++ {
		eye[i*k+i] = 1
	}
	isEye := b.op("Cast", []string{b.cfs(dt, []int64{k, k}, eye)}, attrI("to", int64(onnx.Bool)))
	var kept []int64
	for _, a := range perm[:len(keep)] {
		kept = append(kept, xi.dims[a])
	}
	flat := b.op("Reshape", []string{b.op("Transpose", []string{x}, attrIs("perm", perm...)), b.ci(append(slices.Clone(keep), 1, k)...)})
	b.setInfo(flat, dt, append(slices.Clone(kept), 1, k), true)
	rows := b.op("Where", []string{isEye, b.cf(dt, 1), flat})
	b.setInfo(rows, dt, append(slices.Clone(kept), k, k), true)
	others := b.reduceOp("ReduceProd", rows, []int64{int64(len(keep) + 1)}, false)
	others = b.op("Reshape", []string{others, b.ci(append(keep, red...)...)})
	return b.like(b.op("Transpose", []string{others}, attrIs("perm", inv...)), x), nil
}

// smoothAxes returns the reduced axes of n, refusing the no-op form (the
// input returned as it is, which for these reductions would be a different
// function than the reduction over no axis).
func (b *gradBuilder) smoothAxes(n *onnxpb.NodeProto) ([]int64, error) {
	axes, noop, err := b.reduceAxes(n)
	if err != nil {
		return nil, err
	}
	if noop {
		return nil, b.noGrad("noop_with_empty_axes with no axes")
	}
	return axes, nil
}

func gradReduceSmooth(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	axes, err := b.smoothAxes(n)
	if err != nil {
		return nil, err
	}
	x := input(n, 0)
	g := b.keepAxes(n, dy[0], axes)
	out := make([]string, len(need))
	if n.GetOpType() == "ReduceLogSum" {
		// The slope 1 / sum(x) is constant along the reduced axes.
		yk := b.keepAxes(n, n.GetOutput()[0], axes)
		g = b.op("Div", []string{g, b.op("Exp", []string{yk})})
		out[0] = b.like(b.op("Expand", []string{g, b.shapeLike(x)}), x)
		return out, nil
	}
	var d string
	if n.GetOpType() == "ReduceProd" {
		if d, err = b.othersProduct(x, axes); err != nil {
			return nil, err
		}
	} else {
		d = b.reduceSlope(n, axes)
	}
	out[0] = b.like(b.op("Mul", []string{d, g}), x)
	return out, nil
}

func tanReduceSmooth(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	if len(dx) > 1 && dx[1] != "" {
		return nil, b.noGrad("float axes")
	}
	axes, err := b.smoothAxes(n)
	if err != nil {
		return nil, err
	}
	x, y := input(n, 0), n.GetOutput()[0]
	keep := n.AttrInt("keepdims", 1) != 0
	if n.GetOpType() == "ReduceLogSum" {
		s := b.reduceSum(b.like(dx[0], x), axes, keep)
		return []string{b.like(b.op("Div", []string{s, b.op("Exp", []string{y})}), y)}, nil
	}
	d := b.reduceSlope(n, axes)
	return []string{b.like(b.reduceSum(b.like(b.op("Mul", []string{dx[0], d}), x), axes, keep), y)}, nil
}

// gradCumSum: each output sums the inputs up to it, so each input's
// gradient sums the output gradients from it on: the cumulative sum of dy
// in the other direction, exclusive when the forward one is.
func gradCumSum(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	out := make([]string, len(need))
	out[0] = b.like(b.op("CumSum", []string{dy[0], input(n, 1)},
		attrI("exclusive", n.AttrInt("exclusive", 0)), attrI("reverse", 1-min(1, n.AttrInt("reverse", 0)))), input(n, 0))
	return out, nil
}

func gradMean(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	y := n.GetOutput()[0]
	g := b.like(b.op("Mul", []string{dy[0], b.cf(b.dt(y), 1/float64(len(n.GetInput())))}), y)
	out := make([]string, len(need))
	for i, ok := range need {
		if !ok {
			continue
		}
		s, err := b.sumTo(g, y, input(n, i))
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

func tanMean(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	y := n.GetOutput()[0]
	s := b.sum(dx...)
	t := b.like(b.op("Mul", []string{s, b.cf(b.dt(y), 1/float64(len(n.GetInput())))}), s)
	return []string{b.expandTo(t, y)}, nil
}

// instanceAxes returns the axes InstanceNormalization normalises over (the
// spatial ones) and a reshape of a per-channel vector v to broadcast
// against the input.
func (b *gradBuilder) instanceAxes(n *onnxpb.NodeProto) (axes []int64, bc func(v string) string, err error) {
	x := input(n, 0)
	r := b.rank(x)
	if r < 3 {
		return nil, nil, b.noGrad("input of unknown rank or without spatial axes")
	}
	shape := []int64{-1}
	for a := 2; a < r; a++ {
		axes = append(axes, int64(a))
		shape = append(shape, 1)
	}
	dt := b.dt(x)
	bc = func(v string) string {
		out := b.op("Reshape", []string{b.castTo(v, dt), b.ci(shape...)})
		if vi := b.info[v]; vi != nil && vi.ranked && len(vi.dims) == 1 {
			b.setInfo(out, dt, append([]int64{vi.dims[0]}, shape[1:]...), true)
		}
		return out
	}
	return axes, bc, nil
}

// gradInstanceNorm is LayerNormalization's rule over the spatial axes with a
// scale and bias per channel.
func gradInstanceNorm(b *gradBuilder, n *onnxpb.NodeProto, dy []string, need []bool) ([]string, error) {
	x, scale, y := input(n, 0), input(n, 1), n.GetOutput()[0]
	axes, bc, err := b.instanceAxes(n)
	if err != nil {
		return nil, err
	}
	xhat, s := b.normParts(x, axes, attrFloat(n, "epsilon", 1e-5))
	// Sums over the batch and the spatial axes, per channel.
	perChannel := append([]int64{0}, axes...)
	out := make([]string, len(need))
	if need[0] {
		out[0] = b.normBackward(b.like(b.op("Mul", []string{dy[0], bc(scale)}), y), xhat, s, axes)
	}
	if need[1] {
		out[1] = b.castTo(b.reduceSum(b.like(b.op("Mul", []string{dy[0], xhat}), y), perChannel, false), b.dt(scale))
	}
	if need[2] {
		out[2] = b.castTo(b.reduceSum(b.like(dy[0], y), perChannel, false), b.dt(input(n, 2)))
	}
	for i := 1; i < len(out); i++ {
		if out[i] != "" {
			b.like(out[i], input(n, i))
		}
	}
	return out, nil
}

func tanInstanceNorm(b *gradBuilder, n *onnxpb.NodeProto, dx []string) ([]string, error) {
	x, scale, y := input(n, 0), input(n, 1), n.GetOutput()[0]
	axes, bc, err := b.instanceAxes(n)
	if err != nil {
		return nil, err
	}
	xhat, s := b.normParts(x, axes, attrFloat(n, "epsilon", 1e-5))
	var terms []string
	if dx[0] != "" {
		t := b.normBackward(b.like(dx[0], x), xhat, s, axes)
		terms = append(terms, b.like(b.op("Mul", []string{t, bc(scale)}), y))
	}
	if dx[1] != "" {
		terms = append(terms, b.like(b.op("Mul", []string{xhat, bc(dx[1])}), y))
	}
	if dx[2] != "" {
		terms = append(terms, bc(dx[2]))
	}
	return []string{b.expandTo(b.like(b.sum(terms...), y), y)}, nil
}

// meanScale returns 1/count as a scalar of type dt, count being the number
// of elements of x over axes: a constant when those sizes are fixed, computed
// from the shapes otherwise.
func (b *gradBuilder) meanScale(x string, axes []int64, dt onnx.DataType) string {
	xi := b.info[x]
	count := int64(1)
	for _, a := range axes {
		if xi == nil || !xi.ranked || xi.dims[a] < 0 {
			count = -1
			break
		}
		count *= xi.dims[a]
	}
	if count > 0 {
		return b.cf(dt, 1/float64(count))
	}
	sx := b.setScalar(b.op("Size", []string{x}), onnx.Int64)
	red := b.reduceMean(x, axes, true)
	sr := b.setScalar(b.op("Size", []string{red}), onnx.Int64)
	return b.op("Div", []string{b.castTo(sr, dt), b.castTo(sx, dt)})
}
