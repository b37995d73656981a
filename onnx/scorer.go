package onnx

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/lsweep/lsweep/internal/onnxpb"
)

// The inputs and outputs of TokenScorer's model.
const (
	ScorerLogits  = "logits"  // [N, T, V] logits of the scored model's type
	ScorerLabels  = "labels"  // [N, T] int64, each in [0, V)
	ScorerLogProb = "logprob" // [N, T] log-softmax of the logits at the label
	ScorerHit     = "hit"     // [N, T] 1 where the label has the largest logit (the first, on ties), else 0
)

// TokenScorer returns the bytes of a small model that scores a language
// model's logits against one label per position: the log-probability of
// the label under the softmax over the last axis, and whether the label is
// the arg-max. Run on the logits as ONNX Runtime returns them, it gives
// back T numbers per sequence instead of T x V, so that a language model's
// loss costs neither a copy of its logits into Go nor a log-softmax there.
// Logits of type dt are scored in float32 (float16 and bfloat16 are
// converted exactly) or, for double, in double: both outputs have that
// type.
func TokenScorer(dt DataType) ([]byte, error) {
	var score DataType
	switch dt {
	case Float, Float16, BFloat16:
		score = Float
	case Double:
		score = Double
	default:
		return nil, fmt.Errorf("onnx: logits of type %v cannot be scored", dt)
	}
	dyn := func(names ...string) *onnxpb.TensorShapeProto {
		s := &onnxpb.TensorShapeProto{}
		for _, n := range names {
			s.Dim = append(s.Dim, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: n}})
		}
		return s
	}
	info := func(name string, t DataType, shape *onnxpb.TensorShapeProto) *onnxpb.ValueInfoProto {
		return &onnxpb.ValueInfoProto{
			Name: proto.String(name),
			Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
				ElemType: proto.Int32(int32(t)), Shape: shape,
			}}},
		}
	}
	node := func(op string, in []string, out string, attrs ...*onnxpb.AttributeProto) *onnxpb.NodeProto {
		return &onnxpb.NodeProto{OpType: proto.String(op), Input: in, Output: []string{out}, Attribute: attrs}
	}
	ints := func(name string, v int64) *onnxpb.AttributeProto {
		return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
	}
	z := ScorerLogits
	var nodes []*onnxpb.NodeProto
	if dt != score {
		z = "z"
		nodes = append(nodes, node("Cast", []string{ScorerLogits}, z, ints("to", int64(score))))
	}
	nodes = append(nodes,
		node("LogSoftmax", []string{z}, "ls", ints("axis", -1)),
		node("Unsqueeze", []string{ScorerLabels, "last"}, "idx"),
		node("GatherElements", []string{"ls", "idx"}, "picked", ints("axis", -1)),
		node("Squeeze", []string{"picked", "last"}, ScorerLogProb),
		// TopK with k = 1 rather than ArgMax: the same index (the lower
		// one of equal values, by TopK's definition) in three quarters of
		// the time on a GPT-2-sized vocabulary.
		&onnxpb.NodeProto{OpType: proto.String("TopK"), Input: []string{z, "one"}, Output: []string{"topv", "topi"}, Attribute: []*onnxpb.AttributeProto{ints("axis", -1)}},
		node("Squeeze", []string{"topi", "last"}, "best"),
		node("Equal", []string{"best", ScorerLabels}, "eq"),
		node("Cast", []string{"eq"}, ScorerHit, ints("to", int64(score))),
	)
	mp := &onnxpb.ModelProto{
		IrVersion:    proto.Int64(8),
		ProducerName: proto.String("lsweep"),
		OpsetImport:  []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(17)}},
		Graph: &onnxpb.GraphProto{
			Name: proto.String("token_scorer"),
			Node: nodes,
			Initializer: []*onnxpb.TensorProto{{
				Name: proto.String("last"), DataType: proto.Int32(int32(Int64)), Dims: []int64{1}, Int64Data: []int64{-1},
			}, {
				Name: proto.String("one"), DataType: proto.Int32(int32(Int64)), Dims: []int64{1}, Int64Data: []int64{1},
			}},
			Input: []*onnxpb.ValueInfoProto{
				info(ScorerLogits, dt, dyn("N", "T", "V")),
				info(ScorerLabels, Int64, dyn("N", "T")),
			},
			Output: []*onnxpb.ValueInfoProto{
				info(ScorerLogProb, score, dyn("N", "T")),
				info(ScorerHit, score, dyn("N", "T")),
			},
		},
	}
	return proto.Marshal(mp)
}
