package autodiff

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/lsweep/lsweep/internal/onnxpb"
	"github.com/lsweep/lsweep/onnx"
)

// semanticsChanged lists, for ops whose meaning changed in some opset and
// that upgrade does not rewrite, the versions where it changed. A gradient
// model that has to raise the opset across one of them is refused.
var semanticsChanged = map[string][]int64{
	"Upsample": {10},
	"Resize":   {11, 13},
	"Slice":    {10},
	"TopK":     {10},
	"Scatter":  {11},
	"Hardmax":  {13},
	"RoiAlign": {16},
}

// upgrade returns the nodes that compute what n computes in the target
// opset: n itself, or n rewritten where its op changed meaning between the
// model's opset and the target. Dropout, which is the identity in inference,
// becomes Identity in any opset.
func (b *gradBuilder) upgrade(n *onnxpb.NodeProto) ([]*onnxpb.NodeProto, error) {
	if d := n.GetDomain(); d != "" && d != "ai.onnx" {
		return []*onnxpb.NodeProto{n}, nil
	}
	op := n.GetOpType()
	mk := func(op string, in, out []string, attrs ...*onnxpb.AttributeProto) *onnxpb.NodeProto {
		return &onnxpb.NodeProto{Name: proto.String(b.fresh("fwd")), OpType: proto.String(op), Input: in, Output: out, Attribute: attrs}
	}
	if op == "Dropout" {
		outs := n.GetOutput()
		nodes := []*onnxpb.NodeProto{mk("Identity", []string{input(n, 0)}, []string{outs[0]})}
		if len(outs) > 1 && outs[1] != "" {
			// The mask of an inference Dropout keeps everything.
			shape := b.fresh("fwd")
			nodes = append(nodes, mk("Shape", []string{input(n, 0)}, []string{shape}))
			b.info[shape] = &vinfo{dt: onnx.Int64}
			nodes = append(nodes, mk("ConstantOfShape", []string{shape}, []string{outs[1]},
				attrT("value", &onnxpb.TensorProto{DataType: proto.Int32(int32(onnx.Bool)), Dims: []int64{1}, Int32Data: []int32{1}})))
			b.info[outs[1]] = &vinfo{dt: onnx.Bool}
		}
		return nodes, nil
	}
	if b.opset >= GradientOpset {
		return []*onnxpb.NodeProto{n}, nil
	}
	withAttrs := func(keep func(name string) bool) []*onnxpb.AttributeProto {
		var out []*onnxpb.AttributeProto
		for _, a := range n.GetAttribute() {
			if keep(a.GetName()) {
				out = append(out, a)
			}
		}
		return out
	}
	clone := func(in []string, drop ...string) *onnxpb.NodeProto {
		c := proto.Clone(n).(*onnxpb.NodeProto)
		c.Input = in
		c.Attribute = withAttrs(func(name string) bool {
			for _, d := range drop {
				if d == name {
					return false
				}
			}
			return true
		})
		return c
	}
	x := input(n, 0)
	switch op {
	case "Softmax", "LogSoftmax":
		// Before opset 13 these coerce the input to 2-D at axis (default 1).
		axis := n.AttrInt("axis", 1)
		r := b.rank(x)
		if axis < 0 {
			if r < 0 {
				return nil, b.errorf("node %q (%s): negative axis on an input of unknown rank", n.Label(), op)
			}
			axis += int64(r)
		}
		if r >= 0 && axis == int64(r-1) {
			c := clone(n.GetInput(), "axis")
			c.Attribute = append(c.Attribute, attrI("axis", axis))
			return []*onnxpb.NodeProto{c}, nil
		}
		flat, soft, shape := b.fresh("fwd"), b.fresh("fwd"), b.fresh("fwd")
		return []*onnxpb.NodeProto{
			mk("Flatten", []string{x}, []string{flat}, attrI("axis", axis)),
			mk(op, []string{flat}, []string{soft}, attrI("axis", 1)),
			mk("Shape", []string{x}, []string{shape}),
			mk("Reshape", []string{soft, shape}, n.GetOutput()),
		}, nil
	case "Squeeze", "Unsqueeze", "ReduceSum":
		if n.Attr("axes") == nil {
			return []*onnxpb.NodeProto{n}, nil
		}
		return []*onnxpb.NodeProto{clone([]string{x, b.ci(attrInts(n, "axes")...)}, "axes")}, nil
	case "Split":
		if n.Attr("split") == nil {
			return []*onnxpb.NodeProto{n}, nil
		}
		return []*onnxpb.NodeProto{clone([]string{x, b.ci(attrInts(n, "split")...)}, "split")}, nil
	case "Pad":
		if b.opset >= 11 {
			return []*onnxpb.NodeProto{n}, nil
		}
		in := []string{x, b.ci(attrInts(n, "pads")...)}
		if v := attrFloat(n, "value", 0); v != 0 {
			if !b.dt(x).IsFloat() {
				return nil, b.errorf("node %q (Pad): a non-zero pad value on a %v input", n.Label(), b.dt(x))
			}
			in = append(in, b.cf(b.dt(x), v))
		}
		return []*onnxpb.NodeProto{clone(in, "pads", "value")}, nil
	case "Clip":
		if b.opset >= 11 {
			return []*onnxpb.NodeProto{n}, nil
		}
		dt := b.dt(x)
		if !dt.IsFloat() {
			return nil, b.errorf("node %q (Clip): input of type %v", n.Label(), dt)
		}
		in := []string{x, "", ""}
		if a := n.Attr("min"); a != nil {
			in[1] = b.cf(dt, float64(a.GetF()))
		}
		if a := n.Attr("max"); a != nil {
			in[2] = b.cf(dt, float64(a.GetF()))
		}
		for len(in) > 1 && in[len(in)-1] == "" {
			in = in[:len(in)-1]
		}
		return []*onnxpb.NodeProto{clone(in, "min", "max")}, nil
	case "BatchNormalization":
		if n.Attr("spatial") != nil && n.AttrInt("spatial", 1) == 0 {
			return nil, b.errorf("node %q (BatchNormalization): spatial=0 is not supported", n.Label())
		}
		return []*onnxpb.NodeProto{clone(n.GetInput(), "spatial", "is_test", "consumed_inputs")}, nil
	}
	return []*onnxpb.NodeProto{n}, nil
}

// checkRaise refuses a model whose opset must be raised across a change in
// the meaning of one of its ops. It runs again after the rules, which can
// raise the target further.
func (b *gradBuilder) checkRaise() error {
	if b.target == b.opset {
		return nil
	}
	for _, n := range b.fwd {
		if d := n.GetDomain(); d != "" && d != "ai.onnx" {
			continue
		}
		for _, v := range semanticsChanged[n.GetOpType()] {
			if b.opset < v && v <= b.target {
				return fmt.Errorf("onnx: %s: node %q (%s) changed meaning in opset %d; the gradient model needs opset %d and the model is opset %d",
					b.m.Path, n.Label(), n.GetOpType(), v, b.target, b.opset)
			}
		}
	}
	return nil
}
