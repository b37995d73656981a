package autodiff

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/lsweep/lsweep/internal/fixtures"
	"github.com/lsweep/lsweep/internal/onnxmodel"
	"github.com/lsweep/lsweep/internal/onnxpb"
	"github.com/lsweep/lsweep/onnx"
)

// opGraph is a small graph that differentiates through one op (the graphs'
// numbers are checked in package engine; here only what the builders
// emit matters): the data x, float weights (wrt), and the op between them
// and the output.
type opGraph struct {
	name  string
	opset int64
	build func(g *tgraph) string // returns the output
}

// tgraph builds an opGraph's model.
type tgraph struct {
	g     *onnxpb.GraphProto
	wrt   []string
	nodes int
}

// in declares x with sample shape dims (the batch first) and returns it
// multiplied by a weight, so that its consumers lie on a weight's path.
func (g *tgraph) in(dims ...int64) string {
	g.g.Input = append(g.g.Input, fixtures.ValueInfo("x", int32(onnx.Float), append([]int64{-1}, dims...)...))
	return g.n("Mul", "x", g.w(dims...))
}

// w adds a weight of the given shape.
func (g *tgraph) w(dims ...int64) string {
	name := fmt.Sprintf("w%d", len(g.wrt))
	n := 1
	for _, d := range dims {
		n *= int(d)
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = 0.5 + 0.01*float32(i)
	}
	g.g.Initializer = append(g.g.Initializer, &onnxpb.TensorProto{Name: proto.String(name), Dims: dims,
		DataType: proto.Int32(int32(onnx.Float)), FloatData: v})
	g.wrt = append(g.wrt, name)
	return name
}

// c adds a float constant (not differentiated).
func (g *tgraph) c(dims []int64, v ...float32) string {
	name := fmt.Sprintf("c%d", len(g.g.Initializer))
	g.g.Initializer = append(g.g.Initializer, &onnxpb.TensorProto{Name: proto.String(name), Dims: dims,
		DataType: proto.Int32(int32(onnx.Float)), FloatData: v})
	return name
}

// i adds a 1-D int64 constant.
func (g *tgraph) i(v ...int64) string {
	name := fmt.Sprintf("i%d", len(g.g.Initializer))
	g.g.Initializer = append(g.g.Initializer, &onnxpb.TensorProto{Name: proto.String(name), Dims: []int64{int64(len(v))},
		DataType: proto.Int32(int32(onnx.Int64)), Int64Data: v})
	return name
}

// scalar adds a scalar int64 constant.
func (g *tgraph) scalar(v int64) string {
	name := fmt.Sprintf("i%d", len(g.g.Initializer))
	g.g.Initializer = append(g.g.Initializer, &onnxpb.TensorProto{Name: proto.String(name),
		DataType: proto.Int32(int32(onnx.Int64)), Int64Data: []int64{v}})
	return name
}

// n appends a node with one output.
func (g *tgraph) n(op string, in ...string) string { return g.na(op, in)[0] }

// na appends a node with attributes and k outputs (one if k is omitted).
func (g *tgraph) na(op string, in []string, attrs ...*onnxpb.AttributeProto) []string {
	return g.nk(op, in, 1, attrs...)
}

func (g *tgraph) nk(op string, in []string, k int, attrs ...*onnxpb.AttributeProto) []string {
	g.nodes++
	outs := make([]string, k)
	for i := range outs {
		outs[i] = fmt.Sprintf("%s_%d_%d", op, g.nodes, i)
	}
	g.g.Node = append(g.g.Node, &onnxpb.NodeProto{Name: proto.String(outs[0]), OpType: proto.String(op), Input: in, Output: outs, Attribute: attrs})
	return outs
}

// model finishes the graph with output y, flattened to [N, -1] so that
// every graph has an MSE head of one shape kind.
func (g *tgraph) model(y string, opset int64) *onnx.Model {
	out := g.na("Flatten", []string{y}, attrI("axis", 1))[0]
	g.g.Output = []*onnxpb.ValueInfoProto{fixtures.ValueInfo(out, int32(onnx.Float), -1, 0)}
	g.g.Output[0].GetType().GetTensorType().GetShape().GetDim()[1].Value = nil
	return onnxmodel.With(&onnx.Model{Path: "op.onnx"}, &onnxpb.ModelProto{IrVersion: proto.Int64(8),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(opset)}}, Graph: g.g})
}

// opGraphs returns a graph for each op with a gradient rule, and more for
// the forms whose rules emit other ops (overlapping pools, slices bounded at
// run time, grouped convolutions, the outputs of LayerNormalization).
func opGraphs() []opGraph {
	unary := func(op string, opset int64, attrs ...*onnxpb.AttributeProto) opGraph {
		return opGraph{op, opset, func(g *tgraph) string { return g.na(op, []string{g.in(3, 4)}, attrs...)[0] }}
	}
	binary := func(op string) opGraph {
		return opGraph{op, 13, func(g *tgraph) string { return g.n(op, g.in(3, 4), g.w(4)) }}
	}
	f := func(name string, opset int64, build func(g *tgraph) string) opGraph {
		return opGraph{name, opset, build}
	}
	ints := func(name string, v ...int64) *onnxpb.AttributeProto { return attrIs(name, v...) }
	return []opGraph{
		unary("Identity", 13), unary("Dropout", 13), unary("Relu", 13), unary("LeakyRelu", 13), unary("Sigmoid", 13),
		unary("Tanh", 13), unary("Softmax", 13), unary("LogSoftmax", 13), unary("Exp", 13), unary("Log", 13),
		unary("Sqrt", 13), unary("Neg", 13), unary("Abs", 13), unary("Reciprocal", 13), unary("Softplus", 13),
		unary("Erf", 13), unary("Sin", 13), unary("Cos", 13), unary("HardSigmoid", 13), unary("HardSwish", 14),
		unary("Elu", 13), unary("Selu", 13), unary("Softsign", 13), unary("Gelu", 20),
		unary("Gelu", 20, attrS("approximate", "tanh")), unary("Flatten", 13), unary("Transpose", 13, ints("perm", 0, 2, 1)),
		unary("ReduceMax", 13, ints("axes", 2)), unary("ReduceMin", 18), unary("ReduceL2", 13, attrI("keepdims", 0)),
		unary("ReduceLogSumExp", 13), unary("ReduceSumSquare", 13), unary("ReduceL1", 13), unary("ReduceLogSum", 13),
		unary("ReduceProd", 13, ints("axes", 2)),
		f("ReduceProd_opset18", 18, func(g *tgraph) string { return g.n("ReduceProd", g.in(3, 4), g.i(1, 2)) }),
		unary("ReduceMean", 13, ints("axes", 1)), unary("Trilu", 14),
		binary("Add"), binary("Sub"), binary("Mul"), binary("Div"), binary("Pow"), binary("PRelu"),
		f("Sum", 13, func(g *tgraph) string { h := g.in(3, 4); return g.n("Sum", h, g.w(4), g.n("Tanh", h)) }),
		f("Mean", 13, func(g *tgraph) string { h := g.in(3, 4); return g.n("Mean", h, g.w(4), g.n("Tanh", h)) }),
		f("Max", 13, func(g *tgraph) string { h := g.in(3, 4); return g.n("Max", h, g.w(4), g.n("Tanh", h)) }),
		f("Min", 13, func(g *tgraph) string { h := g.in(3, 4); return g.n("Min", g.w(3, 1), h) }),
		f("Clip", 13, func(g *tgraph) string { return g.n("Clip", g.in(3, 4), g.c(nil, -0.5), g.c(nil, 0.5)) }),
		f("Pow_constant", 14, func(g *tgraph) string { return g.n("Pow", g.in(3, 4), g.c(nil, 2)) }),
		f("Reshape", 13, func(g *tgraph) string { return g.n("Reshape", g.in(3, 4), g.i(0, 12)) }),
		f("Reshape_runtime", 14, func(g *tgraph) string {
			h := g.in(3, 4)
			batch := g.n("Slice", g.n("Shape", h), g.i(0), g.i(1))
			return g.n("Reshape", h, g.na("Concat", []string{batch, g.i(-1)}, attrI("axis", 0))[0])
		}),
		f("Squeeze_Unsqueeze", 13, func(g *tgraph) string { return g.n("Squeeze", g.n("Unsqueeze", g.in(3, 4), g.i(1)), g.i(1)) }),
		f("Cast", 13, func(g *tgraph) string {
			return g.na("Cast", []string{g.n("Tanh", g.na("Cast", []string{g.in(3, 4)}, attrI("to", int64(onnx.Double)))[0])}, attrI("to", int64(onnx.Float)))[0]
		}),
		f("Expand", 13, func(g *tgraph) string { return g.n("Mul", g.n("Expand", g.w(4), g.n("Shape", g.in(3, 4))), g.in2()) }),
		f("Gemm", 13, func(g *tgraph) string {
			return g.na("Gemm", []string{g.in(4), g.w(3, 4), g.w(3)}, attrI("transB", 1), attrF("alpha", 0.5), attrF("beta", 2))[0]
		}),
		f("MatMul", 13, func(g *tgraph) string { return g.n("MatMul", g.in(3, 4), g.w(2, 4, 5)) }),
		f("MatMul_2d", 13, func(g *tgraph) string { return g.n("MatMul", g.in(4), g.w(4, 5)) }),
		f("Conv", 13, func(g *tgraph) string {
			return g.na("Conv", []string{g.in(2, 5, 5), g.w(4, 1, 3, 3), g.w(4)}, attrI("group", 2), ints("pads", 1, 1, 1, 1))[0]
		}),
		f("Conv_runtime_sizes", 13, func(g *tgraph) string {
			h := g.n("Reshape", g.in(2, 25), g.i(0, 2, 5, -1))
			return g.na("Conv", []string{h, g.w(3, 2, 3, 3)}, ints("strides", 2, 2))[0]
		}),
		f("ConvTranspose", 13, func(g *tgraph) string {
			return g.na("ConvTranspose", []string{g.in(2, 3, 3), g.w(2, 3, 3, 3), g.w(3)}, ints("strides", 2, 2))[0]
		}),
		f("BatchNormalization", 13, func(g *tgraph) string {
			return g.n("BatchNormalization", g.in(3, 4, 4), g.w(3), g.w(3), g.w(3), g.w(3))
		}),
		f("MaxPool", 13, func(g *tgraph) string {
			return g.na("MaxPool", []string{g.in(2, 6, 6)}, ints("kernel_shape", 3, 3), ints("strides", 2, 2))[0]
		}),
		f("AveragePool", 13, func(g *tgraph) string {
			return g.na("AveragePool", []string{g.in(2, 7, 6)}, ints("kernel_shape", 3, 3), ints("strides", 2, 2), ints("pads", 1, 1, 1, 1))[0]
		}),
		f("GlobalAveragePool", 13, func(g *tgraph) string { return g.n("GlobalAveragePool", g.in(3, 4, 5)) }),
		f("Concat", 13, func(g *tgraph) string {
			h := g.in(3, 4)
			return g.na("Concat", []string{h, g.n("Tanh", h)}, attrI("axis", 1))[0]
		}),
		f("Pad", 13, func(g *tgraph) string { return g.n("Pad", g.in(3, 4), g.i(0, 1, 0, 0, 2, 1)) }),
		f("ReduceSum", 13, func(g *tgraph) string { return g.n("ReduceSum", g.in(3, 4), g.i(-1)) }),
		f("Gather", 13, func(g *tgraph) string { return g.n("MatMul", g.in(3), g.n("Gather", g.w(5, 3), g.i(4, 1, 4))) }),
		f("GatherElements", 13, func(g *tgraph) string {
			h := g.in(3, 2)
			return g.na("GatherElements", []string{h, g.n("Expand", g.i(0, 1), g.n("Shape", h))}, attrI("axis", 2))[0]
		}),
		f("Where", 13, func(g *tgraph) string {
			h := g.in(3, 4)
			return g.n("Where", g.n("Greater", h, g.c(nil, 0)), h, g.w(4))
		}),
		f("Slice", 13, func(g *tgraph) string {
			return g.n("MatMul", g.in(3), g.n("Slice", g.w(6, 4), g.i(1, 0), g.i(4, -1), g.i(0, 1)))
		}),
		f("Slice_runtime", 13, func(g *tgraph) string {
			w := g.w(6, 4)
			half := g.n("Div", g.n("Shape", w), g.i(2))
			return g.n("MatMul", g.in(3), g.n("Slice", w, g.n("Slice", half, g.i(0), g.i(1)), g.i(1000), g.i(0)))
		}),
		f("Split", 18, func(g *tgraph) string {
			o := g.nk("Split", []string{g.in(3, 5)}, 2, attrI("axis", 2), attrI("num_outputs", 2))
			return g.n("Mul", o[0], g.w(3))
		}),
		f("LayerNormalization", 17, func(g *tgraph) string {
			o := g.nk("LayerNormalization", []string{g.in(3, 4), g.w(4), g.w(4)}, 3)
			return g.n("Add", o[0], g.n("Mul", o[1], o[2]))
		}),
		f("InstanceNormalization", 13, func(g *tgraph) string {
			return g.n("InstanceNormalization", g.in(3, 4, 4), g.w(3), g.w(3))
		}),
		f("Einsum", 13, func(g *tgraph) string {
			return g.na("Einsum", []string{g.in(2, 3, 4), g.w(4, 5)}, attrS("equation", "bhqd,dk->bhqk"))[0]
		}),
		f("Einsum_lone", 13, func(g *tgraph) string {
			return g.na("Einsum", []string{g.in(3, 4), g.w(4, 2)}, attrS("equation", "bij,jk->bk"))[0]
		}),
		f("Tile", 13, func(g *tgraph) string { return g.n("MatMul", g.in(4), g.n("Tile", g.w(2, 3), g.i(2, 1))) }),
		f("CumSum", 14, func(g *tgraph) string { return g.n("CumSum", g.in(3, 4), g.i(1)) }),
	}
}

// in2 is the data input again (it needs no gradient).
func (g *tgraph) in2() string { return "x" }
