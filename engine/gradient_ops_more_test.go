package engine

import (
	"fmt"

	"github.com/lsweep/lsweep/internal/onnxpb"
	"github.com/lsweep/lsweep/onnx"
)

// moreOpCases are the per-op graphs of the activations, reductions and
// normalisations beyond CNNs, of the forms transformer exports take, and of
// points close to the kinks of Relu, MaxPool and Max.
func moreOpCases() []opCase {
	// pre is x + P on [N, 3, 4], scaled by k: inputs on both sides of the
	// kinks of the piecewise ops when k is large enough.
	pre := func(b *graphBuilder, k float64) string {
		h := b.node("Add", []string{b.scaled(b.input(3, 4)), b.param("P", []int64{3, 4}, 0.5, 0)})
		if k != 1 {
			h = b.node("Mul", []string{h, b.constant("k", []int64{}, k)})
		}
		return h
	}
	act := func(op string, dt onnx.DataType, opset int64, k float64, attrs ...*onnxpb.AttributeProto) opCase {
		return opCase{name: fmt.Sprintf("%s_opset%d", op, opset), dt: dt, opset: opset, build: func(b *graphBuilder) (string, int) {
			return b.node(op, []string{pre(b, k)}, attrs...), 3
		}}
	}
	positive := func(b *graphBuilder) string {
		x := b.input(3, 4)
		return b.node("Add", []string{b.node("Mul", []string{b.scaled(x), x}), b.param("P", []int64{3, 4}, 0.5, 0.3)})
	}
	reduce := func(op string, opset int64, pos bool, attrs ...*onnxpb.AttributeProto) opCase {
		return opCase{name: fmt.Sprintf("%s_opset%d", op, opset), dt: tDouble, opset: opset, build: func(b *graphBuilder) (string, int) {
			var h string
			if pos {
				h = positive(b)
			} else {
				h = pre(b, 1)
			}
			var in []string
			rank := 3
			switch {
			case opset >= 18:
				in = []string{h, b.ints("ax", 2)}
			default:
				attrs = append(attrs, aInts("axes", 2))
			}
			if len(in) == 0 {
				in = []string{h}
			}
			for _, a := range attrs {
				if a.GetName() == "keepdims" && a.GetI() == 0 {
					rank = 2
				}
			}
			return b.node(op, in, attrs...), rank
		}}
	}
	einsum := func(name, eq string, dt onnx.DataType, shapes ...[]int64) opCase {
		// The first operand is computed from x ([N] + shapes[0][1:]), the
		// others are weights.
		return opCase{name: "Einsum_" + name, dt: dt, opset: 13, build: func(b *graphBuilder) (string, int) {
			in := []string{b.scaled(b.input(shapes[0][1:]...))}
			for k, s := range shapes[1:] {
				in = append(in, b.param(fmt.Sprintf("E%d", k), s, 0.5, 0))
			}
			y := b.node("Einsum", in, aString("equation", eq))
			_, out, _ := cutArrow(eq)
			return y, len(out)
		}}
	}
	// multi appends a node with k outputs and returns their names.
	multi := func(b *graphBuilder, op string, in []string, k int, attrs ...*onnxpb.AttributeProto) []string {
		name := fmt.Sprintf("%s_%d", op, b.nodes)
		b.nodes++
		outs := make([]string, k)
		for i := range outs {
			outs[i] = fmt.Sprintf("%s_out%d", name, i)
		}
		b.g.Node = append(b.g.Node, &onnxpb.NodeProto{Name: ptr(name), OpType: ptr(op), Input: in, Output: outs, Attribute: attrs})
		return outs
	}
	// kinked is act with the small steps of opCase.eps.
	kinked := func(c opCase) opCase {
		c.eps, c.hEps = 2e-4, 1e-3
		return c
	}
	return []opCase{
		act("Sin", tDouble, 13, 1),
		act("Cos", tFloat, 13, 1),
		kinked(act("HardSigmoid", tFloat, 13, 2, aFloat("alpha", 0.4), aFloat("beta", 0.45))),
		kinked(act("HardSwish", tFloat, 14, 3)),
		kinked(act("Elu", tFloat, 13, 1, aFloat("alpha", 0.7))),
		kinked(act("Selu", tFloat, 13, 1)),
		act("Softsign", tFloat, 13, 1),
		{name: "Gelu_tanh_opset20", dt: tFloat, opset: 20, build: func(b *graphBuilder) (string, int) {
			return b.node("Gelu", []string{pre(b, 1.5)}, aString("approximate", "tanh")), 3
		}},
		kinked(opCase{name: "PRelu_slope_per_column", dt: tFloat, opset: 13, build: func(b *graphBuilder) (string, int) {
			return b.node("PRelu", []string{pre(b, 1), b.param("S", []int64{4}, 0.3, 0)}), 3
		}}),
		kinked(opCase{name: "PRelu_slope_per_row", dt: tFloat, opset: 13, build: func(b *graphBuilder) (string, int) {
			return b.node("PRelu", []string{pre(b, 1), b.param("S", []int64{3, 1}, 0.3, 0)}), 3
		}}),
		{name: "InstanceNormalization", dt: tFloat, opset: 13, build: func(b *graphBuilder) (string, int) {
			h := b.scaled(b.input(3, 4, 5))
			return b.node("InstanceNormalization", []string{h, b.param("S", []int64{3}, 0.3, 0.5), b.param("B", []int64{3}, 0.3, 0)}, aFloat("epsilon", 1e-3)), 4
		}},
		reduce("ReduceL2", 13, false, aInt("keepdims", 0)),
		reduce("ReduceL2", 18, false),
		reduce("ReduceLogSumExp", 13, false),
		reduce("ReduceLogSumExp", 18, false, aInt("keepdims", 0)),
		reduce("ReduceSumSquare", 13, false, aInt("keepdims", 0)),
		reduce("ReduceL1", 13, false),
		reduce("ReduceLogSum", 13, true, aInt("keepdims", 0)),
		reduce("ReduceLogSum", 18, true),
		reduce("ReduceProd", 13, true, aInt("keepdims", 0)),
		reduce("ReduceProd", 18, false),
		{name: "ReduceProd_zeros", dt: tDouble, opset: 13, build: func(b *graphBuilder) (string, int) {
			// Rows of four with no, one and two exact zeros at the first
			// point: the zeros are W - W0, a weight minus a constant equal
			// to its first value, so that they move with the weight.
			w := b.param("W", []int64{3, 4}, 0.5, 0)
			w0 := b.constant("W0", []int64{3, 4}, b.g.Initializer[len(b.g.Initializer)-1].DoubleData...)
			m := b.constant("M", []int64{3, 4}, 1, 1, 1, 1, 1, 0, 1, 1, 0, 1, 0, 1)
			h := b.node("Add", []string{b.node("Mul", []string{pre(b, 1), m}), b.node("Sub", []string{w, w0})})
			return b.node("ReduceProd", []string{h}, aInts("axes", 2)), 3
		}},
		{name: "CumSum", dt: tDouble, opset: 14, build: func(b *graphBuilder) (string, int) {
			b.g.Initializer = append(b.g.Initializer, &onnxpb.TensorProto{Name: ptr("cs_axis"), DataType: ptrI32(int32(onnx.Int64)), Int64Data: []int64{2}})
			return b.node("CumSum", []string{pre(b, 1), "cs_axis"}), 3
		}},
		{name: "CumSum_exclusive_reverse", dt: tDouble, opset: 14, build: func(b *graphBuilder) (string, int) {
			b.g.Initializer = append(b.g.Initializer, &onnxpb.TensorProto{Name: ptr("cs_axis"), DataType: ptrI32(int32(onnx.Int64)), Int64Data: []int64{-2}})
			return b.node("CumSum", []string{pre(b, 1), "cs_axis"}, aInt("exclusive", 1), aInt("reverse", 1)), 3
		}},
		{name: "Mean_three", dt: tFloat, opset: 13, build: func(b *graphBuilder) (string, int) {
			h := pre(b, 1)
			return b.node("Mean", []string{h, b.param("Q", []int64{4}, 0.5, 0), b.node("Tanh", []string{h})}), 3
		}},
		{name: "Max_three", dt: tDouble, opset: 13, build: func(b *graphBuilder) (string, int) {
			h := pre(b, 1)
			return b.node("Max", []string{h, b.param("Q", []int64{4}, 0.5, 0), b.node("Sin", []string{h}), b.param("R", []int64{3, 1}, 0.5, 0)}), 3
		}},
		{name: "Min_three", dt: tDouble, opset: 13, build: func(b *graphBuilder) (string, int) {
			h := pre(b, 1)
			return b.node("Min", []string{b.param("Q", []int64{4}, 0.5, 0), h, b.node("Tanh", []string{h})}), 3
		}},
		{name: "LayerNormalization_statistics", dt: tFloat, opset: 17, build: func(b *graphBuilder) (string, int) {
			// The Mean and InvStdDev outputs used, as a training graph
			// would: Y + Mean * InvStdDev. In float: ONNX Runtime has no
			// double statistics, and float ones under double data would
			// drown the differences in their rounding.
			h := pre(b, 1)
			o := multi(b, "LayerNormalization", []string{h, b.param("S", []int64{4}, 0.3, 0.5), b.param("B", []int64{4}, 0.3, 0)}, 3, aInt("axis", -1))
			return b.node("Add", []string{o[0], b.node("Mul", []string{o[1], o[2]})}), 3
		}},
		{name: "LayerNormalization_statistics_only", dt: tFloat, opset: 17, build: func(b *graphBuilder) (string, int) {
			h := pre(b, 1)
			o := multi(b, "LayerNormalization", []string{h, b.param("S", []int64{3, 4}, 0.3, 0.5)}, 3, aInt("axis", 1))
			return b.node("Mul", []string{h, b.node("Sub", []string{o[1], o[2]})}), 3
		}},
		{name: "Split_num_outputs_opset18", dt: tDouble, opset: 18, build: func(b *graphBuilder) (string, int) {
			// 5 columns in chunks of 3 and 2; the second chunk is unused.
			h := b.scaled(b.input(3, 5))
			o := multi(b, "Split", []string{h}, 2, aInt("axis", 2), aInt("num_outputs", 2))
			return b.node("Mul", []string{o[0], b.param("Q", []int64{3}, 0.5, 0)}), 3
		}},
		{name: "Split_attribute_opset11", dt: tDouble, opset: 11, build: func(b *graphBuilder) (string, int) {
			h := b.scaled(b.input(3, 4))
			o := multi(b, "Split", []string{h}, 2, aInt("axis", 1), aInts("split", 1, 2))
			return b.node("Concat", []string{o[1], b.node("Tanh", []string{o[0]})}, aInt("axis", 1)), 3
		}},
		{name: "Split_equal_three", dt: tDouble, opset: 13, build: func(b *graphBuilder) (string, int) {
			h := b.scaled(b.input(3, 6))
			o := multi(b, "Split", []string{h}, 3, aInt("axis", -1))
			return b.node("Sum", []string{o[0], b.node("Mul", []string{o[1], o[2]})}), 3
		}},
		einsum("bhqd_bhkd", "bhqd,bhkd->bhqk", tDouble, []int64{-1, 2, 3, 4}, []int64{1, 2, 5, 4}),
		einsum("bhqk_bhkd", "bhqk,bhkd->bhqd", tDouble, []int64{-1, 2, 3, 5}, []int64{1, 2, 5, 4}),
		einsum("bld_dk", "bld,dk->blk", tDouble, []int64{-1, 3, 4}, []int64{4, 5}),
		einsum("lone_index", "bij,jk->bk", tDouble, []int64{-1, 3, 4}, []int64{4, 2}),
		einsum("implicit", "bj,jk", tDouble, []int64{-1, 4}, []int64{4, 3}),
		einsum("three_operands", "bi,ij,jk->bk", tDouble, []int64{-1, 3}, []int64{3, 4}, []int64{4, 2}),
		einsum("transpose", "bij->bji", tDouble, []int64{-1, 3, 4}),
		// MatMul in double: ONNX Runtime fuses a Transpose into a MatMul
		// after it, and its fused kernel has no double form (a model with
		// that pattern itself cannot run in double).
		{name: "MatMul_batched_weight2d_double", dt: tDouble, opset: 13, build: func(b *graphBuilder) (string, int) {
			return b.node("MatMul", []string{b.scaled(b.input(2, 3, 4)), b.param("W", []int64{4, 3}, 0.5, 0)}), 4
		}},
		{name: "MatMul_batched_broadcast_double", dt: tDouble, opset: 13, build: func(b *graphBuilder) (string, int) {
			return b.node("MatMul", []string{b.scaled(b.input(2, 3, 4)), b.param("W", []int64{2, 4, 5}, 0.5, 0)}), 4
		}},
		// Points close to the kinks: inputs of Relu, MaxPool and Max about
		// 1e-2 from them, where the steps of the differences (1e-6 and 1e-5
		// relative) do not cross.
		{name: "Relu_near_kink", dt: tDouble, opset: 13, build: func(b *graphBuilder) (string, int) {
			h := b.node("Mul", []string{b.scaled(b.input(3, 4)), b.constant("small", []int64{}, 1e-2)})
			r := b.node("Relu", []string{b.node("Add", []string{h, b.param("P", []int64{3, 4}, 1e-2, 0)})})
			return b.node("Mul", []string{r, b.param("W", []int64{3, 4}, 30, 0)}), 3
		}},
		{name: "MaxPool_near_tie", dt: tDouble, opset: 13, build: func(b *graphBuilder) (string, int) {
			// Windows of 2x2 over a constant that is the same in each window,
			// plus 1e-2 of the data.
			base := make([]float64, 2*4*4)
			for i := range base {
				c, r, col := i/16, i%16/4, i%4
				base[i] = float64(c*4+r/2*2+col/2) * 0.1
			}
			h := b.node("Mul", []string{b.scaled(b.input(2, 4, 4)), b.constant("small", []int64{}, 1e-2)})
			h = b.node("Add", []string{h, b.constant("base", []int64{2, 4, 4}, base...)})
			p := b.node("MaxPool", []string{h}, aInts("kernel_shape", 2, 2), aInts("strides", 2, 2))
			return b.node("Mul", []string{p, b.node("Mul", []string{p, b.param("W", []int64{2, 2, 2}, 3, 0)})}), 4
		}},
		{name: "Max_near_tie", dt: tDouble, opset: 13, build: func(b *graphBuilder) (string, int) {
			q := b.param("Q", []int64{3, 4}, 0.5, 0)
			h := b.node("Add", []string{q, b.node("Mul", []string{b.scaled(b.input(3, 4)), b.constant("small", []int64{}, 1e-2)})})
			m := b.node("Max", []string{h, q})
			return b.node("Mul", []string{m, b.node("Mul", []string{m, b.param("W", []int64{4}, 3, 0)})}), 3
		}},
	}
}

// cutArrow splits an Einsum equation at "->".
func cutArrow(eq string) (string, string, bool) {
	for i := 0; i+1 < len(eq); i++ {
		if eq[i:i+2] == "->" {
			return eq[:i], eq[i+2:], true
		}
	}
	// Implicit output: the letters that occur once, sorted.
	count := map[rune]int{}
	for _, r := range eq {
		if r != ',' {
			count[r]++
		}
	}
	out := ""
	for r := 'a'; r <= 'z'; r++ {
		if count[r] == 1 {
			out += string(r)
		}
	}
	return eq, out, false
}
