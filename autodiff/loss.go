package autodiff

import (
	"math"

	"google.golang.org/protobuf/proto"

	"github.com/lsweep/lsweep/internal/onnxpb"
	"github.com/lsweep/lsweep/loss"
	"github.com/lsweep/lsweep/onnx"
)

// probFloor is package loss's floor on probabilities (-log p stays finite).
const probFloor = 1e-12

// lossHead adds the nodes that compute the mean loss of head h on output out
// and the gradient of that loss with respect to out. It returns the loss
// value, the gradient and the labels input.
func (b *gradBuilder) lossHead(out string, h loss.Head) (lossName, dOut string, labels *onnxpb.ValueInfoProto, err error) {
	oi := b.info[out]
	if oi == nil || !oi.dt.IsFloat() {
		return "", "", nil, b.errorf("output %q is not a float tensor", out)
	}
	if h == loss.Tokens {
		return b.tokenLoss(out, oi)
	}
	lt := onnx.Float
	if oi.dt == onnx.Double {
		lt = onnx.Double
	}
	batch, cols := int64(dimUnknown), int64(dimUnknown)
	if oi.ranked {
		if len(oi.dims) == 0 {
			return "", "", nil, b.errorf("output %q is a scalar; a loss needs one row per sample", out)
		}
		batch, cols = oi.dims[0], prodDims(oi.dims[1:])
	}
	if cols >= 0 {
		if err := loss.CheckShape(h, int(cols)); err != nil {
			return "", "", nil, b.errorf("output %q: %v", out, err)
		}
	}
	z := b.castTo(out, lt)
	z2 := b.op("Flatten", []string{z}, attrI("axis", 1))
	b.setInfo(z2, lt, []int64{batch, cols}, true)

	var invN string
	if batch >= 0 {
		invN = b.cf(lt, 1/float64(batch))
	} else {
		n := b.op("Gather", []string{b.shapeOf(z2), b.ciScalar(0)})
		invN = b.op("Reciprocal", []string{b.castTo(b.setScalar(n, onnx.Int64), lt)})
	}
	b.setInfo(invN, lt, []int64{}, true)
	negInvN := b.op("Neg", []string{invN})
	one, floor := b.cf(lt, 1), b.cf(lt, probFloor)
	zero := b.cf(lt, 0)
	sumAll := func(v string) string {
		s := b.op("ReduceSum", []string{v}, attrI("keepdims", 0))
		b.setInfo(s, lt, []int64{}, true)
		return s
	}

	labelDims := []*onnxpb.TensorShapeProto_Dimension{b.dimProto(batch)}
	labelType := onnx.Int64
	var label string = GradLabels
	b.setInfo(label, onnx.Int64, []int64{batch}, true)
	column := func() string { // labels as a column [N, 1]
		return b.op("Unsqueeze", []string{label, b.ci(1)})
	}
	oneHot := func() string {
		var classes string
		if cols >= 0 {
			r := make([]int64, cols)
			for i := range r {
				r[i] = int64(i)
			}
			classes = b.ci(r...)
		} else {
			c := b.op("Gather", []string{b.shapeOf(z2), b.ciScalar(1)})
			classes = b.op("Range", []string{b.ciScalar(0), c, b.ciScalar(1)})
		}
		eq := b.op("Equal", []string{column(), classes})
		return b.castTo(b.setInfoRet(eq, onnx.Bool, []int64{batch, cols}), lt)
	}

	var dz string
	switch h {
	case loss.Logits:
		oh := oneHot()
		ls := b.op("LogSoftmax", []string{z2}, attrI("axis", 1))
		lossName = b.op("Mul", []string{sumAll(b.op("Mul", []string{ls, oh})), negInvN})
		dz = b.op("Mul", []string{b.op("Sub", []string{b.op("Exp", []string{ls}), oh}), invN})
	case loss.LogProbs:
		oh := oneHot()
		lossName = b.op("Mul", []string{sumAll(b.op("Mul", []string{z2, oh})), negInvN})
		dz = b.op("Mul", []string{oh, negInvN})
	case loss.Probs:
		oh := oneHot()
		py := b.reduceSum(b.setInfoRet(b.op("Mul", []string{z2, oh}), lt, []int64{batch, cols}), []int64{1}, true)
		lossName = b.op("Mul", []string{sumAll(b.op("Log", []string{b.op("Max", []string{py, floor})})), negInvN})
		scale := b.op("Where", []string{b.op("Greater", []string{py, floor}), b.op("Div", []string{negInvN, py}), zero})
		dz = b.op("Mul", []string{oh, scale})
	case loss.Sigmoid:
		y := b.castTo(b.setInfoRet(column(), onnx.Int64, []int64{batch, 1}), lt)
		ny := b.op("Sub", []string{one, y})
		q := b.op("Sub", []string{one, z2})
		l := b.op("Add", []string{
			b.op("Mul", []string{y, b.op("Log", []string{b.op("Max", []string{z2, floor})})}),
			b.op("Mul", []string{ny, b.op("Log", []string{b.op("Max", []string{q, floor})})}),
		})
		lossName = b.op("Mul", []string{sumAll(l), negInvN})
		inv := func(v string) string {
			return b.op("Where", []string{b.op("Greater", []string{v, floor}), b.op("Reciprocal", []string{v}), zero})
		}
		dz = b.op("Mul", []string{b.op("Sub", []string{b.op("Mul", []string{ny, inv(q)}), b.op("Mul", []string{y, inv(z2)})}), invN})
	case loss.BinaryLogit:
		y := b.castTo(b.setInfoRet(column(), onnx.Int64, []int64{batch, 1}), lt)
		soft := b.op("Log", []string{b.op("Add", []string{one, b.op("Exp", []string{b.op("Neg", []string{b.op("Abs", []string{z2})})})})})
		l := b.op("Sub", []string{b.op("Add", []string{soft, b.op("Relu", []string{z2})}), b.op("Mul", []string{y, z2})})
		lossName = b.op("Mul", []string{sumAll(l), invN})
		dz = b.op("Mul", []string{b.op("Sub", []string{b.op("Sigmoid", []string{z2}), y}), invN})
	case loss.MSE:
		labelType = lt
		labelDims = append(labelDims, b.dimProto(cols))
		b.setInfo(label, lt, []int64{batch, cols}, true)
		d := b.op("Sub", []string{z2, label})
		var invNK string
		if batch >= 0 && cols >= 0 {
			invNK = b.cf(lt, 1/float64(batch*cols))
		} else {
			invNK = b.op("Reciprocal", []string{b.castTo(b.setScalar(b.op("Size", []string{z2}), onnx.Int64), lt)})
		}
		lossName = b.op("Mul", []string{sumAll(b.op("Mul", []string{d, d})), invNK})
		dz = b.op("Mul", []string{d, b.op("Mul", []string{invNK, b.cf(lt, 2)})})
	default:
		return "", "", nil, b.errorf("unknown loss head %q", h)
	}
	b.setInfo(lossName, lt, []int64{}, true)
	b.setInfo(dz, lt, []int64{batch, cols}, true)
	dOut = b.castTo(b.reshapeLike(dz, z), oi.dt)
	labels = &onnxpb.ValueInfoProto{
		Name: proto.String(GradLabels),
		Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
			ElemType: proto.Int32(int32(labelType)),
			Shape:    &onnxpb.TensorShapeProto{Dim: labelDims},
		}}},
	}
	return lossName, dOut, labels, nil
}

// dimProto writes a dimension: its size, its symbol's name, or nothing.
func (b *gradBuilder) dimProto(d int64) *onnxpb.TensorShapeProto_Dimension {
	if d >= 0 {
		return &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}}
	}
	for name, s := range b.syms {
		if s == d {
			return &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: name}}
		}
	}
	return &onnxpb.TensorShapeProto_Dimension{}
}

// setScalar records that v is a scalar of type dt and returns v.
func (b *gradBuilder) setScalar(v string, dt onnx.DataType) string {
	b.setInfo(v, dt, []int64{}, true)
	return v
}

// setInfoRet records v's type and shape and returns v.
func (b *gradBuilder) setInfoRet(v string, dt onnx.DataType, dims []int64) string {
	b.setInfo(v, dt, dims, true)
	return v
}

// tokenLoss is lossHead for loss.Tokens: the sum over labelled tokens of
// the softmax cross-entropy of logits [N, T, V] against labels [N, T].
// Everything done to the labels (the shift, the mask) is integer work that
// no weight reaches, so the reverse and forward rules see only the ops of
// the Logits head.
func (b *gradBuilder) tokenLoss(out string, oi *vinfo) (lossName, dOut string, labels *onnxpb.ValueInfoProto, err error) {
	if !oi.ranked || len(oi.dims) != 3 || oi.dims[2] < 2 {
		return "", "", nil, b.errorf("output %q: the tokens head needs logits [N, T, V] with a fixed V of at least 2", out)
	}
	lt := onnx.Float
	if oi.dt == onnx.Double {
		lt = onnx.Double
	}
	batch, steps, vocab := oi.dims[0], oi.dims[1], oi.dims[2]
	z := b.castTo(out, lt)
	flat := b.op("Reshape", []string{z, b.ci(-1, vocab)})
	b.setInfo(flat, lt, []int64{dimUnknown, vocab}, true)

	b.setInfo(GradLabels, onnx.Int64, []int64{batch, steps}, true)
	lab := GradLabels
	ignore := b.ciScalar(b.seq.IgnoreIndex)
	if b.seq.Shift {
		// Label t+1 for position t; the last position gets the ignore index.
		rest := b.op("Slice", []string{lab, b.ci(1), b.ci(math.MaxInt64), b.ci(1)})
		first := b.op("Slice", []string{lab, b.ci(0), b.ci(1), b.ci(1)})
		pad := b.op("Add", []string{b.op("Mul", []string{first, b.ciScalar(0)}), ignore})
		lab = b.op("Concat", []string{rest, pad}, attrI("axis", 1))
		b.setInfo(lab, onnx.Int64, []int64{batch, steps}, true)
	}
	flatLab := b.setInfoRet(b.op("Reshape", []string{lab, b.ci(-1)}), onnx.Int64, []int64{dimUnknown})
	keep := b.op("Not", []string{b.op("Equal", []string{flatLab, ignore})})
	safe := b.setInfoRet(b.op("Where", []string{keep, flatLab, b.ciScalar(0)}), onnx.Int64, []int64{dimUnknown})
	w := b.op("Unsqueeze", []string{b.castTo(b.setInfoRet(keep, onnx.Bool, []int64{dimUnknown}), lt), b.ci(1)})
	b.setInfo(w, lt, []int64{dimUnknown, 1}, true)
	classes := make([]int64, vocab)
	for i := range classes {
		classes[i] = int64(i)
	}
	eq := b.op("Equal", []string{b.op("Unsqueeze", []string{safe, b.ci(1)}), b.ci(classes...)})
	oh := b.castTo(b.setInfoRet(eq, onnx.Bool, []int64{dimUnknown, vocab}), lt)
	ohw := b.setInfoRet(b.op("Mul", []string{oh, w}), lt, []int64{dimUnknown, vocab})

	ls := b.setInfoRet(b.op("LogSoftmax", []string{flat}, attrI("axis", 1)), lt, []int64{dimUnknown, vocab})
	sum := b.op("ReduceSum", []string{b.op("Mul", []string{ls, ohw})}, attrI("keepdims", 0))
	b.setInfo(sum, lt, []int64{}, true)
	lossName = b.op("Neg", []string{sum})
	b.setInfo(lossName, lt, []int64{}, true)
	dz := b.op("Mul", []string{b.op("Sub", []string{b.op("Exp", []string{ls}), oh}), w})
	b.setInfo(dz, lt, []int64{dimUnknown, vocab}, true)
	dOut = b.castTo(b.reshapeLike(dz, z), oi.dt)
	labels = &onnxpb.ValueInfoProto{
		Name: proto.String(GradLabels),
		Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
			ElemType: proto.Int32(int32(onnx.Int64)),
			Shape:    &onnxpb.TensorShapeProto{Dim: []*onnxpb.TensorShapeProto_Dimension{b.dimProto(batch), b.dimProto(steps)}},
		}}},
	}
	return lossName, dOut, labels, nil
}
