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

// MinScoreOpset is the lowest opset of the default domain whose graphs
// WithTokenScores extends (GatherElements and TopK's tie rule are opset
// 11's); TokenScorer's own model serves the others.
const MinScoreOpset = 11

// TokenScorer returns the bytes of a small model that scores a language
// model's logits against one label per position: the log-probability of
// the label under the softmax over the last axis, and whether the label is
// the arg-max. Run on the logits as ONNX Runtime returns them, it gives
// back T numbers per sequence instead of T x V, so that a language model's
// loss costs neither a copy of its logits into Go nor a log-softmax there.
// Logits of type dt are scored in float32 (float16 and bfloat16 are
// converted exactly) or, for double, in double: both outputs have that
// type. WithTokenScores puts the same nodes into the model itself.
func TokenScorer(dt DataType) ([]byte, error) {
	g := &onnxpb.GraphProto{
		Name: proto.String("token_scorer"),
		Input: []*onnxpb.ValueInfoProto{
			tensorInfo(ScorerLogits, dt, dynDims("N", "T", "V")),
			tensorInfo(ScorerLabels, Int64, dynDims("N", "T")),
		},
	}
	score, err := addScores(g, 17, dt, ScorerLogits, ScorerLabels, ScorerLogProb, ScorerHit, func(s string) string { return s })
	if err != nil {
		return nil, err
	}
	g.Output = []*onnxpb.ValueInfoProto{
		tensorInfo(ScorerLogProb, score, dynDims("N", "T")),
		tensorInfo(ScorerHit, score, dynDims("N", "T")),
	}
	return proto.Marshal(&onnxpb.ModelProto{
		IrVersion:    proto.Int64(8),
		ProducerName: proto.String("lsweep"),
		OpsetImport:  []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(17)}},
		Graph:        g,
	})
}

// ScoreNames are the values WithTokenScores adds to a model.
type ScoreNames struct {
	Labels  string // the input of the labels, [N, T] int64
	LogProb string // the output of the log-probabilities at the labels, [N, T]
	Hit     string // the output that is 1 where the label is the arg-max, [N, T]
}

// WithTokenScores returns a copy of m in which the logits output, [N, T,
// V], is also scored against one label per position by TokenScorer's
// nodes, for models of opset MinScoreOpset or later: a graph input of the
// labels and two graph outputs are added (names in the returned
// ScoreNames, new to the graph), the logits stay an output. A session that
// asks for the scores only never hands the logits back, and ONNX Runtime
// runs the scoring with the model's own threads.
func (m *Model) WithTokenScores(output string) (*Model, ScoreNames, error) {
	var names ScoreNames
	opset := m.Opset()
	if opset < MinScoreOpset {
		return nil, names, fmt.Errorf("onnx: %s: opset %d is older than %d, whose ops scoring needs", m.Path, opset, MinScoreOpset)
	}
	c := m.Clone()
	g := c.graph()
	var logits *onnxpb.ValueInfoProto
	for _, o := range g.GetOutput() {
		if o.GetName() == output {
			logits = o
		}
	}
	if logits == nil {
		return nil, names, fmt.Errorf("onnx: %s has no output %q", m.Path, output)
	}
	dims := logits.GetType().GetTensorType().GetShape().GetDim()
	if len(dims) != 3 {
		return nil, names, fmt.Errorf("onnx: %s: output %q has %d axes, token scores need [N, T, V]", m.Path, output, len(dims))
	}
	used := map[string]bool{}
	for _, vi := range g.GetInput() {
		used[vi.GetName()] = true
	}
	for _, t := range g.GetInitializer() {
		used[t.GetName()] = true
	}
	for _, n := range g.GetNode() {
		for _, o := range n.GetOutput() {
			used[o] = true
		}
	}
	fresh := func(s string) string {
		name := "lsweep_score/" + s
		for used[name] {
			name += "_"
		}
		used[name] = true
		return name
	}
	names = ScoreNames{Labels: fresh("labels"), LogProb: fresh("logprob"), Hit: fresh("hit")}
	dt := DataType(logits.GetType().GetTensorType().GetElemType())
	score, err := addScores(g, opset, dt, output, names.Labels, names.LogProb, names.Hit, fresh)
	if err != nil {
		return nil, names, fmt.Errorf("onnx: %s: output %q: %w", m.Path, output, err)
	}
	nt := func() *onnxpb.TensorShapeProto { // [N, T] as the logits have them
		return &onnxpb.TensorShapeProto{Dim: []*onnxpb.TensorShapeProto_Dimension{
			proto.Clone(dims[0]).(*onnxpb.TensorShapeProto_Dimension), proto.Clone(dims[1]).(*onnxpb.TensorShapeProto_Dimension),
		}}
	}
	g.Input = append(g.Input, tensorInfo(names.Labels, Int64, nt()))
	g.Output = append(g.Output, tensorInfo(names.LogProb, score, nt()), tensorInfo(names.Hit, score, nt()))
	return c, names, nil
}

// addScores adds to g the nodes that score logits (of type dt, [N, T, V])
// against labels into logprob and hit, in the forms of the given opset,
// naming what else they need with fresh; it returns the scores' type.
func addScores(g *onnxpb.GraphProto, opset int64, dt DataType, logits, labels, logprob, hit string, fresh func(string) string) (DataType, error) {
	var score DataType
	switch dt {
	case Float, Float16, BFloat16:
		score = Float
	case Double:
		score = Double
	default:
		return 0, fmt.Errorf("logits of type %v cannot be scored", dt)
	}
	node := func(op string, in []string, out []string, attrs ...*onnxpb.AttributeProto) {
		g.Node = append(g.Node, &onnxpb.NodeProto{OpType: proto.String(op), Input: in, Output: out, Attribute: attrs})
	}
	ints := func(name string, v int64) *onnxpb.AttributeProto {
		return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
	}
	constant := func(hint string, v int64) string {
		name := fresh(hint)
		g.Initializer = append(g.Initializer, &onnxpb.TensorProto{
			Name: proto.String(name), DataType: proto.Int32(int32(Int64)), Dims: []int64{1}, Int64Data: []int64{v},
		})
		return name
	}
	// Unsqueeze and Squeeze take their axes as an input from opset 13,
	// as an attribute before.
	last := ""
	axes := func(op string, in, out string) {
		if opset >= 13 {
			if last == "" {
				last = constant("last", 2)
			}
			node(op, []string{in, last}, []string{out})
			return
		}
		node(op, []string{in}, []string{out}, &onnxpb.AttributeProto{Name: proto.String("axes"), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: []int64{2}})
	}
	z := logits
	if dt != score {
		z = fresh("z")
		node("Cast", []string{logits}, []string{z}, ints("to", int64(score)))
	}
	// Axis 2, the last of [N, T, V]: before opset 13 LogSoftmax flattens
	// the axes before it into one, which for the last axis is the same.
	ls, idx, picked, top, best, eq := fresh("logsoftmax"), fresh("index"), fresh("picked"), fresh("top"), fresh("best"), fresh("equal")
	node("LogSoftmax", []string{z}, []string{ls}, ints("axis", 2))
	axes("Unsqueeze", labels, idx)
	node("GatherElements", []string{ls, idx}, []string{picked}, ints("axis", 2))
	axes("Squeeze", picked, logprob)
	// TopK with k = 1 rather than ArgMax: the same index (the lower one of
	// equal values, by TopK's definition) in three quarters of the time on
	// a GPT-2-sized vocabulary.
	node("TopK", []string{z, constant("k", 1)}, []string{fresh("top_value"), top}, ints("axis", 2))
	axes("Squeeze", top, best)
	node("Equal", []string{best, labels}, []string{eq})
	node("Cast", []string{eq}, []string{hit}, ints("to", int64(score)))
	return score, nil
}

// dynDims returns a shape of named dimensions.
func dynDims(names ...string) *onnxpb.TensorShapeProto {
	s := &onnxpb.TensorShapeProto{}
	for _, n := range names {
		s.Dim = append(s.Dim, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: n}})
	}
	return s
}

// tensorInfo returns the value info of a tensor.
func tensorInfo(name string, t DataType, shape *onnxpb.TensorShapeProto) *onnxpb.ValueInfoProto {
	return &onnxpb.ValueInfoProto{
		Name: proto.String(name),
		Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
			ElemType: proto.Int32(int32(t)), Shape: shape,
		}}},
	}
}
