package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lsweep/lsweep/autodiff"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/lsweep/lsweep/internal/onnxpb"
	"github.com/lsweep/lsweep/loss"
	"github.com/lsweep/lsweep/onnx"
)

// opCase is a tiny graph around one op, to check its gradient rule against
// finite differences.
type opCase struct {
	name  string
	dt    onnx.DataType // onnx.Double where ONNX Runtime has the kernels
	opset int64
	head  loss.Head // "" means MSE on the output
	build func(b *graphBuilder) (y string, rank int)
	// eps and hEps, when set, replace the steps of the differences of
	// losses and of gradients: smaller ones for piecewise ops that ONNX
	// Runtime runs in float only, whose kinks the default float steps
	// would cross.
	eps, hEps float64
}

const (
	tDouble = onnx.Double
	tFloat  = onnx.Float
)

func opCases() []opCase {
	convCase := func(name string, dt onnx.DataType, x []int64, w []int64, bias bool, attrs ...*onnxpb.AttributeProto) opCase {
		return opCase{name: name, dt: dt, opset: 13, build: func(b *graphBuilder) (string, int) {
			h := b.scaled(b.input(x...))
			in := []string{h, b.param("W", w, 0.5, 0)}
			if bias {
				in = append(in, b.param("B", w[:1], 0.5, 0))
			}
			return b.node("Conv", in, attrs...), len(x) + 1
		}}
	}
	convT := func(name string, x []int64, w []int64, attrs ...*onnxpb.AttributeProto) opCase {
		return opCase{name: name, dt: tFloat, opset: 13, build: func(b *graphBuilder) (string, int) {
			h := b.scaled(b.input(x...))
			in := []string{h, b.param("W", w, 0.5, 0), b.param("B", []int64{w[1] * max(1, groupOf(attrs))}, 0.5, 0)}
			return b.node("ConvTranspose", in, attrs...), len(x) + 1
		}}
	}
	binary := func(op string, x, p []int64, pos bool) opCase {
		return opCase{name: op + shapeName(x, p), dt: tDouble, opset: 13, build: func(b *graphBuilder) (string, int) {
			h := b.scaled(b.input(x...))
			off := 0.0
			if pos {
				off = 0.5
			}
			return b.node(op, []string{h, b.param("P", p, 0.7, off)}), len(x) + 1
		}}
	}
	unary := func(op string, dt onnx.DataType, positive bool, attrs ...*onnxpb.AttributeProto) opCase {
		return opCase{name: op, dt: dt, opset: 13, build: func(b *graphBuilder) (string, int) {
			x := b.input(3, 4)
			var h string
			if positive {
				h = b.node("Mul", []string{x, x})
				h = b.node("Add", []string{h, b.param("P", []int64{3, 4}, 0.5, 0.3)})
			} else {
				h = b.node("Add", []string{x, b.param("P", []int64{3, 4}, 0.5, 0)})
			}
			return b.node(op, []string{h}, attrs...), 3
		}}
	}
	gemm := func(name string, ta, tb int64, cShape []int64, alpha, beta float32) opCase {
		return opCase{name: name, dt: tDouble, opset: 13, build: func(b *graphBuilder) (string, int) {
			h := b.scaled(b.input(4))
			a := h
			if ta != 0 {
				a = b.node("Transpose", []string{h}, aInts("perm", 1, 0))
			}
			wShape := []int64{4, 3}
			if tb != 0 {
				wShape = []int64{3, 4}
			}
			in := []string{a, b.param("W", wShape, 0.5, 0)}
			if cShape != nil {
				in = append(in, b.param("C", cShape, 0.5, 0))
			}
			return b.node("Gemm", in, aInt("transA", ta), aInt("transB", tb), aFloat("alpha", alpha), aFloat("beta", beta)), 2
		}}
	}
	softmax := func(op string, opset int64, axis *int64) opCase {
		name := op
		if axis != nil {
			name += fmt.Sprintf("_axis%d", *axis)
		}
		return opCase{name: fmt.Sprintf("%s_opset%d", name, opset), dt: tDouble, opset: opset, build: func(b *graphBuilder) (string, int) {
			h := b.scaled(b.input(3, 4))
			var attrs []*onnxpb.AttributeProto
			if axis != nil {
				attrs = append(attrs, aInt("axis", *axis))
			}
			return b.node(op, []string{h}, attrs...), 3
		}}
	}
	i64 := func(v int64) *int64 { return &v }
	pool := func(name string, op string, dt onnx.DataType, opset int64, x []int64, attrs ...*onnxpb.AttributeProto) opCase {
		return opCase{name: name, dt: dt, opset: opset, build: func(b *graphBuilder) (string, int) {
			h := b.scaled(b.input(x...))
			return b.node(op, []string{h}, attrs...), len(x) + 1
		}}
	}
	head := func(h loss.Head, cols int64, tail string) opCase {
		return opCase{name: "head_" + string(h), dt: tDouble, opset: 13, head: h, build: func(b *graphBuilder) (string, int) {
			x := b.input(4)
			y := b.node("Gemm", []string{x, b.param("W", []int64{cols, 4}, 0.7, 0), b.param("B", []int64{cols}, 0.3, 0)}, aInt("transB", 1))
			switch tail {
			case "Softmax", "LogSoftmax":
				y = b.node(tail, []string{y}, aInt("axis", 1))
			case "Sigmoid":
				y = b.node(tail, []string{y})
			}
			return y, 2
		}}
	}

	return append([]opCase{
		convCase("Conv", tFloat, []int64{2, 5, 5}, []int64{3, 2, 3, 3}, true, aInts("pads", 1, 1, 1, 1)),
		convCase("Conv_stride2_remainder", tFloat, []int64{2, 6, 7}, []int64{3, 2, 3, 3}, true, aInts("pads", 1, 1, 1, 1), aInts("strides", 2, 2)),
		convCase("Conv_asym_pads_stride3", tFloat, []int64{2, 8, 7}, []int64{2, 2, 2, 3}, false, aInts("pads", 0, 2, 1, 0), aInts("strides", 3, 2)),
		convCase("Conv_dilation2", tFloat, []int64{2, 7, 7}, []int64{3, 2, 3, 3}, true, aInts("dilations", 2, 2), aInts("pads", 1, 2, 0, 1)),
		convCase("Conv_dilation_stride", tFloat, []int64{2, 9, 8}, []int64{2, 2, 2, 2}, false, aInts("dilations", 2, 3), aInts("strides", 2, 2)),
		convCase("Conv_group2", tFloat, []int64{4, 5, 5}, []int64{6, 2, 3, 3}, true, aInt("group", 2), aInts("pads", 1, 1, 1, 1)),
		convCase("Conv_depthwise_stride2", tFloat, []int64{3, 6, 6}, []int64{3, 1, 3, 3}, true, aInt("group", 3), aInts("strides", 2, 2), aInts("pads", 1, 1, 1, 1)),
		convCase("Conv_same_upper", tFloat, []int64{2, 6, 5}, []int64{3, 2, 3, 2}, false, aString("auto_pad", "SAME_UPPER"), aInts("strides", 2, 2)),
		convCase("Conv_same_lower", tFloat, []int64{2, 6, 5}, []int64{3, 2, 2, 3}, false, aString("auto_pad", "SAME_LOWER"), aInts("strides", 2, 1)),
		convCase("Conv_valid", tFloat, []int64{2, 6, 5}, []int64{3, 2, 3, 3}, false, aString("auto_pad", "VALID"), aInts("strides", 2, 2)),
		convCase("Conv_1d", tFloat, []int64{2, 9}, []int64{3, 2, 3}, true, aInts("pads", 1, 0), aInts("strides", 2)),
		convCase("Conv_3d", tFloat, []int64{2, 4, 4, 3}, []int64{2, 2, 2, 2, 2}, true, aInts("pads", 1, 0, 1, 0, 1, 0)),
		convT("ConvTranspose", []int64{2, 3, 3}, []int64{2, 3, 3, 3}),
		convT("ConvTranspose_stride2_pads_outpad", []int64{2, 3, 4}, []int64{2, 3, 3, 3}, aInts("strides", 2, 2), aInts("pads", 1, 0, 1, 1), aInts("output_padding", 1, 0)),
		convT("ConvTranspose_group_dilation", []int64{4, 3, 3}, []int64{4, 2, 2, 3}, aInt("group", 2), aInts("dilations", 2, 1), aInts("strides", 1, 2)),
		gemm("Gemm", 0, 0, nil, 1, 1),
		gemm("Gemm_transB", 0, 1, []int64{3}, 1, 1),
		gemm("Gemm_transA", 1, 0, []int64{1, 3}, 0.5, 2),
		gemm("Gemm_transA_transB", 1, 1, []int64{1}, 1.5, 0.5),
		{name: "Gemm_stored_A", dt: tDouble, opset: 13, build: func(b *graphBuilder) (string, int) {
			h := b.scaled(b.input(4))
			ht := b.node("Transpose", []string{h}, aInts("perm", 1, 0))
			y := b.node("Gemm", []string{b.param("A", []int64{3, 4}, 0.5, 0), ht, b.param("C", []int64{3, 1}, 0.5, 0)})
			return b.node("Transpose", []string{y}, aInts("perm", 1, 0)), 2
		}},
		{name: "MatMul_2d", dt: tDouble, opset: 13, build: func(b *graphBuilder) (string, int) {
			return b.node("MatMul", []string{b.scaled(b.input(4)), b.param("W", []int64{4, 3}, 0.5, 0)}), 2
		}},
		{name: "MatMul_batched_weight2d", dt: tFloat, opset: 13, build: func(b *graphBuilder) (string, int) {
			return b.node("MatMul", []string{b.scaled(b.input(2, 3, 4)), b.param("W", []int64{4, 3}, 0.5, 0)}), 4
		}},
		{name: "MatMul_batched_broadcast", dt: tFloat, opset: 13, build: func(b *graphBuilder) (string, int) {
			return b.node("MatMul", []string{b.scaled(b.input(2, 3, 4)), b.param("W", []int64{2, 4, 5}, 0.5, 0)}), 4
		}},
		{name: "MatMul_left_weight_batched", dt: tFloat, opset: 13, build: func(b *graphBuilder) (string, int) {
			return b.node("MatMul", []string{b.param("W", []int64{1, 3, 2}, 0.5, 0), b.scaled(b.input(2, 4))}), 3
		}},
		{name: "MatMul_1d_left", dt: tFloat, opset: 13, build: func(b *graphBuilder) (string, int) {
			return b.node("MatMul", []string{b.param("v", []int64{3}, 0.5, 0), b.scaled(b.input(3, 4))}), 2
		}},
		{name: "MatMul_1d_right", dt: tFloat, opset: 13, build: func(b *graphBuilder) (string, int) {
			return b.node("MatMul", []string{b.scaled(b.input(3, 4)), b.param("v", []int64{4}, 0.5, 0)}), 2
		}},
		{name: "MatMul_both_computed", dt: tFloat, opset: 13, build: func(b *graphBuilder) (string, int) {
			h := b.scaled(b.input(3, 3))
			return b.node("MatMul", []string{h, b.node("Transpose", []string{h}, aInts("perm", 0, 2, 1))}), 3
		}},
		binary("Add", []int64{3, 4}, []int64{4}, false),
		binary("Add", []int64{3, 4}, []int64{3, 1}, false),
		binary("Add", []int64{2, 3, 4}, []int64{1, 3, 1}, false),
		binary("Sub", []int64{3, 4}, []int64{3, 4}, false),
		binary("Sub", []int64{3, 4}, []int64{1}, false),
		binary("Mul", []int64{3, 4}, []int64{3, 1}, false),
		binary("Mul", []int64{2, 3, 4}, []int64{4}, false),
		binary("Div", []int64{3, 4}, []int64{4}, true),
		binary("Div", []int64{2, 3, 4}, []int64{3, 1}, true),
		{name: "Add_same_source", dt: tDouble, opset: 13, build: func(b *graphBuilder) (string, int) {
			h := b.scaled(b.input(3, 4))
			return b.node("Add", []string{h, b.node("Tanh", []string{h})}), 3
		}},
		{name: "Div_computed_denominator", dt: tDouble, opset: 13, build: func(b *graphBuilder) (string, int) {
			h := b.scaled(b.input(3, 4))
			den := b.node("Add", []string{b.node("Mul", []string{h, h}), b.param("P", []int64{1, 4}, 0.5, 0.5)})
			return b.node("Div", []string{b.node("Sigmoid", []string{h}), den}), 3
		}},
		{name: "Sub_broadcast_batch_operand", dt: tDouble, opset: 13, build: func(b *graphBuilder) (string, int) {
			// The batch operand is the broadcast one: [N,1,4] - [3,4].
			h := b.scaled(b.input(1, 4))
			return b.node("Sub", []string{b.param("P", []int64{3, 4}, 0.5, 0), h}), 3
		}},
		unary("Relu", tDouble, false),
		unary("LeakyRelu", tFloat, false, aFloat("alpha", 0.2)),
		unary("Sigmoid", tDouble, false),
		unary("Tanh", tDouble, false),
		unary("Exp", tDouble, false),
		unary("Log", tDouble, true),
		unary("Sqrt", tDouble, true),
		unary("Neg", tDouble, false),
		unary("Abs", tDouble, false),
		unary("Reciprocal", tDouble, true),
		unary("Softplus", tFloat, false),
		softmax("Softmax", 13, nil),
		softmax("Softmax", 13, i64(1)),
		softmax("Softmax", 11, nil),
		softmax("Softmax", 11, i64(2)),
		softmax("LogSoftmax", 13, i64(1)),
		softmax("LogSoftmax", 11, nil),
		softmax("LogSoftmax", 11, i64(-1)),
		{name: "Clip", dt: tDouble, opset: 13, build: func(b *graphBuilder) (string, int) {
			h := b.scaled(b.input(3, 4))
			return b.node("Clip", []string{h, b.constant("lo", nil, -0.3), b.constant("hi", nil, 0.4)}), 3
		}},
		{name: "Clip_opset9", dt: tFloat, opset: 9, build: func(b *graphBuilder) (string, int) {
			h := b.scaled(b.input(3, 4))
			return b.node("Clip", []string{h}, aFloat("min", -0.3), aFloat("max", 0.4)), 3
		}},
		{name: "Sum", dt: tDouble, opset: 13, build: func(b *graphBuilder) (string, int) {
			h := b.scaled(b.input(3, 4))
			return b.node("Sum", []string{h, b.param("P", []int64{4}, 0.5, 0), b.node("Sigmoid", []string{h})}), 3
		}},
		{name: "BatchNormalization", dt: tDouble, opset: 13, build: func(b *graphBuilder) (string, int) {
			h := b.scaled(b.input(3, 4, 4))
			return b.node("BatchNormalization", []string{h, b.param("scale", []int64{3}, 0.5, 0.5), b.param("bias", []int64{3}, 0.5, 0),
				b.param("mean", []int64{3}, 0.3, 0), b.param("var", []int64{3}, 0.5, 0.5)}, aFloat("epsilon", 1e-3)), 4
		}},
		{name: "Conv_BatchNormalization_folded", dt: tFloat, opset: 13, build: func(b *graphBuilder) (string, int) {
			h := b.scaled(b.input(2, 5, 5))
			c := b.node("Conv", []string{h, b.param("W", []int64{3, 2, 3, 3}, 0.5, 0), b.constant("B", []int64{3}, 0.1, -0.2, 0.3)}, aInts("pads", 1, 1, 1, 1))
			y := b.node("BatchNormalization", []string{c, b.constant("scale", []int64{3}, 0.9, 1.3, 0.6), b.constant("bias", []int64{3}, 0.1, 0, -0.2),
				b.constant("mean", []int64{3}, 0.2, -0.1, 0.05), b.constant("var", []int64{3}, 1.5, 0.7, 2)}, aFloat("epsilon", 1e-3))
			return b.node("Relu", []string{y}), 4
		}},
		{name: "BatchNormalization_rank2_opset9", dt: tDouble, opset: 9, build: func(b *graphBuilder) (string, int) {
			h := b.scaled(b.input(3))
			return b.node("BatchNormalization", []string{h, b.param("scale", []int64{3}, 0.5, 0.5), b.param("bias", []int64{3}, 0.5, 0),
				b.param("mean", []int64{3}, 0.3, 0), b.param("var", []int64{3}, 0.5, 0.5)}), 2
		}},
		pool("MaxPool", "MaxPool", tFloat, 13, []int64{2, 6, 6}, aInts("kernel_shape", 2, 2), aInts("strides", 2, 2)),
		pool("MaxPool_double", "MaxPool", tDouble, 13, []int64{2, 6, 6}, aInts("kernel_shape", 2, 2), aInts("strides", 2, 2)),
		pool("MaxPool_overlap_pads", "MaxPool", tFloat, 13, []int64{2, 7, 6}, aInts("kernel_shape", 3, 3), aInts("strides", 2, 2), aInts("pads", 1, 1, 1, 1)),
		pool("MaxPool_ceil_dilation", "MaxPool", tFloat, 13, []int64{2, 7, 8}, aInts("kernel_shape", 2, 2), aInts("strides", 2, 3), aInts("dilations", 2, 1), aInt("ceil_mode", 1)),
		pool("MaxPool_same_upper_opset16", "MaxPool", tFloat, 16, []int64{2, 5, 5}, aInts("kernel_shape", 3, 3), aInts("strides", 2, 2), aString("auto_pad", "SAME_UPPER")),
		pool("AveragePool", "AveragePool", tFloat, 13, []int64{2, 6, 6}, aInts("kernel_shape", 2, 2), aInts("strides", 2, 2)),
		pool("AveragePool_pads_exclude", "AveragePool", tFloat, 13, []int64{2, 7, 6}, aInts("kernel_shape", 3, 3), aInts("strides", 2, 2), aInts("pads", 1, 1, 1, 1)),
		pool("AveragePool_pads_include", "AveragePool", tFloat, 13, []int64{2, 7, 6}, aInts("kernel_shape", 3, 2), aInts("strides", 2, 1), aInts("pads", 1, 0, 1, 1), aInt("count_include_pad", 1)),
		pool("AveragePool_same_lower", "AveragePool", tFloat, 13, []int64{2, 5, 6}, aInts("kernel_shape", 3, 3), aInts("strides", 2, 2), aString("auto_pad", "SAME_LOWER")),
		pool("GlobalAveragePool", "GlobalAveragePool", tFloat, 13, []int64{3, 4, 5}),
		{name: "Flatten_Reshape_Transpose", dt: tDouble, opset: 13, build: func(b *graphBuilder) (string, int) {
			h := b.scaled(b.input(2, 3, 4))
			f := b.node("Flatten", []string{h}, aInt("axis", 2))                   // [2N, 12]
			r := b.node("Reshape", []string{f, b.ints("shape", 0, 3, -1)})         // [2N, 3, 4]
			t := b.node("Transpose", []string{r}, aInts("perm", 2, 0, 1))          // [4, 2N, 3]
			t = b.node("Mul", []string{t, b.param("P", []int64{4, 1, 3}, 0.5, 0)}) // broadcast along the batch
			t = b.node("Transpose", []string{t})                                   // [3, 2N, 4]
			return b.node("Reshape", []string{t, b.ints("back", -1, 24)}), 2
		}},
		{name: "Concat_Identity_Dropout", dt: tDouble, opset: 13, build: func(b *graphBuilder) (string, int) {
			h := b.scaled(b.input(2, 3))
			c := b.node("Concat", []string{h, b.node("Identity", []string{b.input2()}), b.node("Sigmoid", []string{h})}, aInt("axis", -1))
			return b.node("Dropout", []string{c}), 3
		}},
		{name: "Concat_axis1_param", dt: tDouble, opset: 13, build: func(b *graphBuilder) (string, int) {
			h := b.scaled(b.input(2, 3))
			p := b.node("Expand", []string{b.param("P", []int64{1, 1, 3}, 0.5, 0), b.node("Shape", []string{h})})
			return b.node("Concat", []string{h, p}, aInt("axis", 1)), 3
		}},
		{name: "Pad", dt: tDouble, opset: 13, build: func(b *graphBuilder) (string, int) {
			h := b.scaled(b.input(2, 4, 3))
			return b.node("Pad", []string{h, b.ints("pads", 0, 0, 1, 0, 0, 1, 2, 1)}), 4
		}},
		{name: "Pad_negative_opset9", dt: tFloat, opset: 9, build: func(b *graphBuilder) (string, int) {
			h := b.scaled(b.input(2, 4, 3))
			return b.node("Pad", []string{h}, aInts("pads", 0, 0, -1, 1, 0, 0, 2, -1), aFloat("value", 0.5)), 4
		}},
		{name: "Squeeze_Unsqueeze", dt: tDouble, opset: 13, build: func(b *graphBuilder) (string, int) {
			h := b.scaled(b.input(1, 4))
			s := b.node("Squeeze", []string{h, b.ints("ax", 1)})
			u := b.node("Unsqueeze", []string{s, b.ints("ax2", 0, 3)})          // [1, N, 4, 1]
			u = b.node("Mul", []string{u, b.param("P", []int64{4, 2}, 0.5, 0)}) // [1, N, 4, 2]
			return b.node("Transpose", []string{u}, aInts("perm", 1, 0, 2, 3)), 4
		}},
		{name: "Squeeze_Unsqueeze_opset11", dt: tDouble, opset: 11, build: func(b *graphBuilder) (string, int) {
			h := b.scaled(b.input(1, 4))
			s := b.node("Squeeze", []string{h}, aInts("axes", 1))
			return b.node("Unsqueeze", []string{s}, aInts("axes", 2)), 3
		}},
		{name: "Cast", dt: tFloat, opset: 13, build: func(b *graphBuilder) (string, int) {
			h := b.scaled(b.input(3, 4))
			c := b.node("Cast", []string{h}, aInt("to", int64(onnx.Double)))
			c = b.node("Tanh", []string{c})
			return b.node("Cast", []string{c}, aInt("to", int64(onnx.Float))), 3
		}},
		{name: "Constant", dt: tDouble, opset: 13, build: func(b *graphBuilder) (string, int) {
			h := b.scaled(b.input(3))
			w := b.floatTensor("", tDouble, []int64{3, 2}, []float64{0.3, -0.2, 0.5, 0.1, -0.7, 0.4})
			b.g.Node = append(b.g.Node, &onnxpb.NodeProto{OpType: ptr("Constant"), Output: []string{"cw"}, Attribute: []*onnxpb.AttributeProto{aTensor("value", w)}})
			b.wrt = append(b.wrt, "cw")
			return b.node("MatMul", []string{h, "cw"}), 2
		}},
		{name: "ReduceSum_ReduceMean", dt: tDouble, opset: 13, build: func(b *graphBuilder) (string, int) {
			h := b.scaled(b.input(3, 4))
			s := b.node("ReduceSum", []string{h, b.ints("ax", -1)}, aInt("keepdims", 0)) // [N, 3]
			m := b.node("ReduceMean", []string{h}, aInts("axes", 1))                     // [N, 1, 4]
			return b.node("Add", []string{b.node("Unsqueeze", []string{s, b.ints("ax2", 2)}), m}), 3
		}},
		{name: "ReduceMean_opset18", dt: tDouble, opset: 18, build: func(b *graphBuilder) (string, int) {
			h := b.scaled(b.input(3, 4))
			return b.node("ReduceMean", []string{h, b.ints("ax", 1, 2)}, aInt("keepdims", 1)), 3
		}},
		// Transformer ops.
		{name: "Pow_constant", dt: tDouble, opset: 13, build: func(b *graphBuilder) (string, int) {
			h := b.node("Add", []string{b.node("Mul", []string{b.input(3, 4), b.input2()}), b.param("P", []int64{3, 4}, 0.5, 0.3)})
			return b.node("Pow", []string{h, b.constant("two", []int64{}, 2)}), 3
		}},
		{name: "Pow_both", dt: tDouble, opset: 13, build: func(b *graphBuilder) (string, int) {
			h := b.node("Add", []string{b.node("Mul", []string{b.input(3, 4), b.input2()}), b.param("P", []int64{3, 4}, 0.5, 0.3)})
			return b.node("Pow", []string{h, b.param("E", []int64{4}, 0.3, 0.5)}), 3
		}},
		unary("Erf", tFloat, false),
		{name: "Gelu_opset20", dt: tFloat, opset: 20, build: func(b *graphBuilder) (string, int) {
			return b.node("Gelu", []string{b.scaled(b.input(3, 4))}), 3
		}},
		{name: "Where", dt: tDouble, opset: 13, build: func(b *graphBuilder) (string, int) {
			x := b.input(3, 4)
			c := b.node("Greater", []string{x, b.constant("zero", []int64{}, 0)})
			return b.node("Where", []string{c, b.scaled(x), b.param("Q", []int64{4}, 0.5, 0)}), 3
		}},
		{name: "Gather_rows", dt: tDouble, opset: 13, build: func(b *graphBuilder) (string, int) {
			// An embedding lookup: rows of a table picked twice.
			emb := b.param("E", []int64{5, 3}, 0.5, 0)
			g := b.node("Gather", []string{emb, b.ints("idx", 4, 1, 4)}) // [3, 3]
			return b.node("MatMul", []string{b.scaled(b.input(3)), g}), 2
		}},
		{name: "Gather_token", dt: tDouble, opset: 14, build: func(b *graphBuilder) (string, int) {
			// The class token of [N, T, D]: a scalar index on axis 1.
			h := b.scaled(b.input(3, 4))
			b.g.Initializer = append(b.g.Initializer, &onnxpb.TensorProto{Name: ptr("zero_i"), DataType: ptrI32(int32(onnx.Int64)), Int64Data: []int64{1}})
			return b.node("Gather", []string{h, "zero_i"}, aInt("axis", 1)), 2
		}},
		{name: "GatherElements", dt: tDouble, opset: 13, build: func(b *graphBuilder) (string, int) {
			// Indices that repeat an element, along the last axis.
			h := b.scaled(b.input(3, 2))
			b.g.Initializer = append(b.g.Initializer, &onnxpb.TensorProto{Name: ptr("ge_idx"), DataType: ptrI32(int32(onnx.Int64)), Dims: []int64{1, 3, 2}, Int64Data: []int64{0, 0, 1, 1, 1, 0}})
			return b.node("GatherElements", []string{h, b.node("Expand", []string{"ge_idx", b.node("Shape", []string{h})})}, aInt("axis", 2)), 3
		}},
		{name: "Slice_static", dt: tDouble, opset: 13, build: func(b *graphBuilder) (string, int) {
			w := b.param("W", []int64{6, 4}, 0.5, 0)
			s := b.node("Slice", []string{w, b.ints("st", 1, 0), b.ints("en", 4, -1), b.ints("ax", 0, 1)}) // [3, 3]
			return b.node("MatMul", []string{b.scaled(b.input(3)), s}), 2
		}},
		{name: "Slice_runtime_bounds", dt: tDouble, opset: 13, build: func(b *graphBuilder) (string, int) {
			// Bounds computed from a shape, as torch exports chunk().
			w := b.param("W", []int64{6, 4}, 0.5, 0)
			half := b.node("Div", []string{b.node("Slice", []string{b.node("Shape", []string{w}), b.ints("s0", 0), b.ints("s1", 1)}), b.ints("two", 2)})
			s := b.node("Slice", []string{w, half, b.ints("big", 1000), b.ints("ax0", 0), b.ints("one", 1)}) // rows 3..5
			return b.node("MatMul", []string{b.scaled(b.input(3)), s}), 2
		}},
		{name: "Slice_step2", dt: tDouble, opset: 13, build: func(b *graphBuilder) (string, int) {
			h := b.scaled(b.input(3, 4))
			return b.node("Slice", []string{h, b.ints("st", -1), b.ints("en", -100), b.ints("ax", 2), b.ints("sp", -2)}), 3
		}},
		{name: "Split", dt: tDouble, opset: 13, build: func(b *graphBuilder) (string, int) {
			h := b.scaled(b.input(3, 4))
			out := fmt.Sprintf("Split_%d", b.nodes)
			b.g.Node = append(b.g.Node, &onnxpb.NodeProto{Name: ptr(out), OpType: ptr("Split"), Input: []string{h, b.ints("sp", 1, 3)}, Output: []string{out + "_a", out + "_b"}, Attribute: []*onnxpb.AttributeProto{aInt("axis", 2)}})
			b.nodes++
			return b.node("Mul", []string{out + "_a", b.node("ReduceSum", []string{out + "_b", b.ints("ax", 2)}, aInt("keepdims", 1))}), 3
		}},
		{name: "Max_Min", dt: tDouble, opset: 13, build: func(b *graphBuilder) (string, int) {
			h := b.scaled(b.input(3, 4))
			m := b.node("Max", []string{h, b.param("Q", []int64{4}, 0.5, 0)})
			return b.node("Min", []string{m, b.param("R", []int64{3, 1}, 0.5, 0.2)}), 3
		}},
		{name: "LayerNormalization_opset17", dt: tDouble, opset: 17, build: func(b *graphBuilder) (string, int) {
			h := b.scaled(b.input(3, 4))
			return b.node("LayerNormalization", []string{h, b.param("S", []int64{4}, 0.3, 0.5), b.param("B", []int64{4}, 0.3, 0)}, aInt("axis", -1)), 3
		}},
		{name: "LayerNormalization_two_axes", dt: tDouble, opset: 17, build: func(b *graphBuilder) (string, int) {
			h := b.scaled(b.input(3, 4))
			return b.node("LayerNormalization", []string{h, b.param("S", []int64{3, 4}, 0.3, 0.5)}, aInt("axis", 1), aFloat("epsilon", 1e-3)), 3
		}},
		{name: "ReduceMax_keepdims0", dt: tDouble, opset: 13, build: func(b *graphBuilder) (string, int) {
			h := b.scaled(b.input(3, 4))
			return b.node("ReduceMax", []string{h}, aInts("axes", 2), aInt("keepdims", 0)), 2
		}},
		{name: "ReduceMin_opset18", dt: tDouble, opset: 18, build: func(b *graphBuilder) (string, int) {
			h := b.scaled(b.input(3, 4))
			return b.node("ReduceMin", []string{h, b.ints("ax", 1)}, aInt("keepdims", 1)), 3
		}},
		{name: "Tile", dt: tDouble, opset: 13, build: func(b *graphBuilder) (string, int) {
			t := b.node("Tile", []string{b.param("T", []int64{2, 3}, 0.5, 0), b.ints("reps", 2, 1)}) // [4, 3]
			return b.node("MatMul", []string{b.scaled(b.input(4)), t}), 2
		}},
		{name: "Trilu", dt: tDouble, opset: 14, build: func(b *graphBuilder) (string, int) {
			h := b.node("MatMul", []string{b.scaled(b.input(3, 3)), b.param("W", []int64{3, 3}, 0.5, 0)})
			return b.node("Trilu", []string{h}, aInt("upper", 0)), 3
		}},
		{name: "Einsum_attention", dt: tDouble, opset: 13, build: func(b *graphBuilder) (string, int) {
			q := b.node("MatMul", []string{b.scaled(b.input(3, 4)), b.param("Wq", []int64{4, 4}, 0.5, 0)})
			k := b.node("MatMul", []string{b.input2(), b.param("Wk", []int64{4, 4}, 0.5, 0)})
			s := b.node("Einsum", []string{q, k}, aString("equation", "bqd,bkd->bqk"))
			return b.node("Einsum", []string{b.node("Softmax", []string{s}, aInt("axis", -1)), q}, aString("equation", "bqk,bkd->bqd")), 3
		}},
		head(loss.Logits, 3, ""),
		head(loss.LogProbs, 3, "LogSoftmax"),
		head(loss.Probs, 3, "Softmax"),
		head(loss.Sigmoid, 1, "Sigmoid"),
		head(loss.BinaryLogit, 1, ""),
		head(loss.MSE, 2, ""),
	}, moreOpCases()...)
}

func ptr(s string) *string { return &s }

func ptrI32(v int32) *int32 { return &v }

func groupOf(attrs []*onnxpb.AttributeProto) int64 {
	for _, a := range attrs {
		if a.GetName() == "group" {
			return a.GetI()
		}
	}
	return 1
}

func shapeName(x, p []int64) string {
	return fmt.Sprintf("_%v_by_%v", x, p)
}

// input2 declares a second use of x (the data), which needs no gradient.
func (b *graphBuilder) input2() string { return "x" }

// TestGradientOps checks every gradient rule on a tiny graph around its op,
// at three points (the graph's random weights, then twice those weights
// perturbed by 20%): the gradient computed by ONNX Runtime through
// GradientModel against central finite differences of the gradient model's
// own loss; the Hessian-vector product of HVPModel against central
// differences of those gradients along a random direction; and the slope
// against the gradient . direction.
func TestGradientOps(t *testing.T) {
	requireRuntime(t)
	for _, c := range opCases() {
		t.Run(c.name, func(t *testing.T) {
			b := newGraph(c.dt, 7)
			y, rank := c.build(b)
			m := b.model(y, rank, c.opset)
			checkOpGradient(t, m, b, c)
		})
	}
}

func checkOpGradient(t *testing.T, m *onnx.Model, b *graphBuilder, c opCase) {
	const n = 3
	rng := rand.New(rand.NewPCG(11, 12))
	xShape := append([]int64{n}, b.x[1:]...)
	x := make([]float64, n*int(numelOf(b.x[1:])))
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	h := c.head
	if h == "" {
		h = loss.MSE
	}
	cols := forwardCols(t, m, x, xShape, c.dt)
	var labels []float64
	switch h {
	case loss.MSE:
		for i := 0; i < n*cols; i++ {
			labels = append(labels, rng.NormFloat64())
		}
	case loss.Sigmoid, loss.BinaryLogit:
		labels = []float64{0, 1, 1}
	default:
		for i := 0; i < n; i++ {
			labels = append(labels, float64(rng.IntN(cols)))
		}
	}
	gm, err := autodiff.GradientModel(m, "", h, b.wrt)
	if err != nil {
		t.Fatal(err)
	}
	lt := onnx.Float
	if c.dt == onnx.Double {
		lt = onnx.Double
	}
	r := newGradRunner(t, gm, x, xShape, c.dt, labels, h, lt, b.wrt)
	values := map[string][]float64{}
	for _, w := range b.wrt {
		v, err := m.Value(w)
		if err != nil {
			t.Fatal(err)
		}
		values[w] = v
	}
	eps, tol := 1e-6, 1e-6
	// Differences of double gradients are exact to about hEps^2; of float
	// gradients, to float32 rounding over the step.
	hEps, hTol := 1e-5, 1e-6
	if c.dt == onnx.Float {
		eps, tol = 2e-3, 1e-2
		hEps, hTol = 1e-2, 2e-2
	}
	if c.eps != 0 {
		eps, hEps = c.eps, c.hEps
	}
	hm, err := autodiff.HVPModel(m, "", h, b.wrt)
	if err != nil {
		t.Fatal(err)
	}
	hr := newHVPRunner(t, hm, r)
	for point := 0; point < 3; point++ {
		if point > 0 {
			// In the order of b.wrt, not of the map: the same point every run.
			for _, w := range b.wrt {
				v := values[w]
				for i := range v {
					v[i] *= 1 + 0.2*rng.NormFloat64()
				}
			}
		}
		rel := r.fdCheck(t, values, eps, 40, rng)
		relHv, relSlope := hr.check(t, values, hEps, rng)
		t.Logf("point %d: gradient relative error %.2g, Hessian-vector product %.2g, slope %.2g (%v, opset %d -> %d)", point, rel, relHv, relSlope, c.dt, c.opset, gm.Opset())
		if rel > tol || math.IsNaN(rel) {
			t.Errorf("point %d: gradient differs from finite differences: relative error %.3g > %g", point, rel, tol)
		}
		if relHv > hTol || math.IsNaN(relHv) {
			t.Errorf("point %d: Hessian-vector product differs from differences of gradients: relative error %.3g > %g", point, relHv, hTol)
		}
		if relSlope > hTol || math.IsNaN(relSlope) {
			t.Errorf("point %d: slope differs from gradient . direction: relative error %.3g > %g", point, relSlope, hTol)
		}
	}
}

func numelOf(d []int64) int64 {
	n := int64(1)
	for _, v := range d {
		n *= v
	}
	return n
}

// forwardCols runs the model once and returns the output values per sample.
func forwardCols(t *testing.T, m *onnx.Model, x []float64, xShape []int64, dt onnx.DataType) int {
	t.Helper()
	data, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	out := m.Outputs()[0].Name
	sess, err := ort.NewDynamicAdvancedSessionWithONNXData(data, []string{"x"}, []string{out}, nil)
	if err != nil {
		t.Fatalf("ONNX Runtime rejects the test graph: %v", err)
	}
	defer sess.Destroy()
	xt := testTensor(t, dt, xShape, x)
	defer xt.Destroy()
	outs := []ort.Value{nil}
	if err := sess.Run([]ort.Value{xt}, outs); err != nil {
		t.Fatal(err)
	}
	defer outs[0].Destroy()
	v, _, err := appendFloats(nil, outs[0], -1)
	if err != nil {
		t.Fatal(err)
	}
	return len(v) / int(xShape[0])
}
