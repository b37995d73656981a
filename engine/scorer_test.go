package engine

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	ort "github.com/yalue/onnxruntime_go"
	"google.golang.org/protobuf/proto"

	"github.com/lsweep/lsweep/dataset"
	"github.com/lsweep/lsweep/internal/fixtures"
	"github.com/lsweep/lsweep/internal/half"
	"github.com/lsweep/lsweep/internal/onnxpb"
	"github.com/lsweep/lsweep/loss"
	"github.com/lsweep/lsweep/npz"
	"github.com/lsweep/lsweep/onnx"
)

// TestTokenScorer runs onnx.TokenScorer's model on logits of each float
// type, ties included, and compares every position's log-probability with
// a float64 log-sum-exp of the same (rounded) logits and its hit with the
// first arg-max.
func TestTokenScorer(t *testing.T) {
	requireRuntime(t)
	const n, steps, vocab = 3, 4, 7
	rng := rand.New(rand.NewPCG(1, 2))
	for _, dt := range []onnx.DataType{onnx.Float, onnx.Double, onnx.Float16} {
		t.Run(dt.String(), func(t *testing.T) {
			logits := make([]float64, n*steps*vocab)
			for i := range logits {
				logits[i] = 8 * rng.NormFloat64()
			}
			// Position 1 has its largest logit twice: the first is the
			// arg-max; position 2's label is the second of the two.
			copy(logits[vocab:], []float64{1, 5, 2, 5, 0, 0, 0})
			copy(logits[2*vocab:], []float64{1, 5, 2, 5, 0, 0, 0})
			labels := make([]int64, n*steps)
			for i := range labels {
				labels[i] = int64(rng.IntN(vocab))
			}
			labels[1], labels[2] = 1, 3
			raw := make([]byte, len(logits)*dt.Size())
			onnx.EncodeFloat(raw, dt, logits)
			for i := range logits { // the values the scorer sees
				switch dt {
				case onnx.Float:
					logits[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])))
				case onnx.Float16:
					logits[i] = half.Float16frombits(binary.LittleEndian.Uint16(raw[2*i:]))
				}
			}
			model, err := onnx.TokenScorer(dt)
			if err != nil {
				t.Fatal(err)
			}
			sess, err := ort.NewDynamicAdvancedSessionWithONNXData(model,
				[]string{onnx.ScorerLogits, onnx.ScorerLabels}, []string{onnx.ScorerLogProb, onnx.ScorerHit}, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer sess.Destroy()
			in, err := ort.NewCustomDataTensor(ort.NewShape(n, steps, vocab), raw, ort.TensorElementDataType(dt))
			if err != nil {
				t.Fatal(err)
			}
			defer in.Destroy()
			lab, err := ort.NewTensor(ort.NewShape(n, steps), labels)
			if err != nil {
				t.Fatal(err)
			}
			defer lab.Destroy()
			outs := []ort.Value{nil, nil}
			if err := sess.Run([]ort.Value{in, lab}, outs); err != nil {
				t.Fatal(err)
			}
			var got []float64
			for _, o := range outs {
				defer o.Destroy()
				var ok bool
				if got, ok, err = appendFloats(got, o, n*steps); err != nil || !ok {
					t.Fatalf("output %v: %v", o.GetShape(), err)
				}
			}
			tol := 1e-6
			if dt == onnx.Double {
				tol = 1e-13
			}
			for i, y := range labels {
				row := logits[i*vocab:][:vocab]
				best, m := 0, row[0]
				for j, v := range row {
					if v > m {
						best, m = j, v
					}
				}
				var s float64
				for _, v := range row {
					s += math.Exp(v - m)
				}
				want := row[y] - m - math.Log(s)
				if lp := got[i]; math.Abs(lp-want) > tol*(1+math.Abs(want)) {
					t.Errorf("position %d: log-probability %.12g, want %.12g", i, lp, want)
				}
				hit := 0.0
				if int64(best) == y {
					hit = 1
				}
				if got[n*steps+i] != hit {
					t.Errorf("position %d: hit %v, want %v (label %d, arg-max %d)", i, got[n*steps+i], hit, y, best)
				}
			}
			if got[n*steps+1] != 1 || got[n*steps+2] != 0 {
				t.Errorf("ties: hits %v at the first and the second largest", got[n*steps+1:n*steps+3])
			}
		})
	}
}

// TestTokenScoresMatchLogits checks that the causal language model's
// evaluation through the token scores, computed in the model's graph or by
// the scorer's own session (for opsets before onnx.MinScoreOpset), gives
// the numbers package loss gives from its logits (Predict), aligned and
// shifted: the loss to 1e-6 relative, the token and sequence counts
// exactly.
func TestTokenScoresMatchLogits(t *testing.T) {
	requireRuntime(t)
	for _, c := range seqCases[2:] {
		for _, inGraph := range []bool{true, false} {
			name := c.name + "/second_session"
			if inGraph {
				name = c.name + "/in_graph"
			}
			t.Run(name, func(t *testing.T) { checkTokenScores(t, c, inGraph) })
		}
	}
}

// checkTokenScores is TestTokenScoresMatchLogits with the scores computed
// in the model's graph or by the token scorer's own session.
func checkTokenScores(t *testing.T, c seqCase, inGraph bool) {
	if !inGraph {
		old := scoresInGraphOpset
		scoresInGraphOpset = 1 << 30
		defer func() { scoresInGraphOpset = old }()
	}
	e, _ := openSeq(t, c, Options{})
	if (e.scores != nil) != inGraph || (e.scorer != nil) == inGraph {
		t.Fatalf("scores in the graph %v, scorer session %v; want the graph %v", e.scores != nil, e.scorer != nil, inGraph)
	}
	matchLogits(t, e)
}

// matchLogits compares e's evaluation of the untouched model with package
// loss's numbers from its logits (Predict): the losses to 1e-6 relative,
// the rest exactly.
func matchLogits(t *testing.T, e *Evaluator) {
	t.Helper()
	r, err := e.Evaluate(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.Predict(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := loss.NewTokenSum(e.Sequence(), e.steps, e.vocab)
	if err := loss.Add(s, out, e.data.Y); err != nil {
		t.Fatal(err)
	}
	if math.Abs(r.Loss-s.Loss()) > 1e-6*s.Loss() || math.Abs(r.SequenceLoss-s.SequenceLoss()) > 1e-6*s.SequenceLoss() {
		t.Errorf("loss %.9g, sequence loss %.9g; from the logits %.9g, %.9g", r.Loss, r.SequenceLoss, s.Loss(), s.SequenceLoss())
	}
	if r.Accuracy != s.Accuracy() || r.SequenceAccuracy != s.SequenceAccuracy() || r.Tokens != s.Tokens() || r.N != s.N() {
		t.Errorf("accuracy %v, sequence accuracy %v, %d tokens, %d sequences; from the logits %v, %v, %d, %d",
			r.Accuracy, r.SequenceAccuracy, r.Tokens, r.N, s.Accuracy(), s.SequenceAccuracy(), s.Tokens(), s.N())
	}
}

// TestTokenScoresOpsets builds the smallest language model, ids -> Gather
// of an embedding table -> MatMul -> logits, at opsets 11, 12 (the axes of
// Unsqueeze and Squeeze as attributes), 13 and 17 (as inputs) and 10 (a
// second session), and checks each evaluation against package loss on its
// logits.
func TestTokenScoresOpsets(t *testing.T) {
	requireRuntime(t)
	const n, steps, vocab, width = 12, 5, 7, 4
	rng := rand.New(rand.NewPCG(8, 9))
	table := make([]float32, vocab*width)
	head := make([]float32, width*vocab)
	for i := range table {
		table[i], head[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
	}
	raw := func(v []float32) []byte {
		b := make([]byte, 4*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
		}
		return b
	}
	ids := &npz.Array{Shape: []int{n, steps}, DType: "int64"}
	labels := &npz.Array{Shape: []int{n, steps}, DType: "int64"}
	for i := 0; i < n*steps; i++ {
		ids.Data = append(ids.Data, float64(rng.IntN(vocab)))
		y := float64(rng.IntN(vocab))
		if i%6 == 0 {
			y = float64(loss.DefaultIgnoreIndex)
		}
		labels.Data = append(labels.Data, y)
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data.npz")
	if err := npz.WriteFile(data, []npz.Entry{{Name: "input_ids", Array: ids}, {Name: "labels", Array: labels}}); err != nil {
		t.Fatal(err)
	}
	for _, opset := range []int64{10, 11, 12, 13, 17} {
		t.Run(fmt.Sprint("opset", opset), func(t *testing.T) {
			g := &onnxpb.GraphProto{
				Name:  proto.String("lm"),
				Input: []*onnxpb.ValueInfoProto{fixtures.ValueInfo("input_ids", int32(onnx.Int64), -1, steps)},
				Initializer: []*onnxpb.TensorProto{
					{Name: proto.String("embed.weight"), DataType: proto.Int32(int32(onnx.Float)), Dims: []int64{vocab, width}, RawData: raw(table)},
					{Name: proto.String("head.weight"), DataType: proto.Int32(int32(onnx.Float)), Dims: []int64{width, vocab}, RawData: raw(head)},
				},
				Node: []*onnxpb.NodeProto{
					{OpType: proto.String("Gather"), Input: []string{"embed.weight", "input_ids"}, Output: []string{"h"}},
					{OpType: proto.String("MatMul"), Input: []string{"h", "head.weight"}, Output: []string{"logits"}},
				},
				Output: []*onnxpb.ValueInfoProto{fixtures.ValueInfo("logits", int32(onnx.Float), -1, steps, vocab)},
			}
			b, err := proto.Marshal(&onnxpb.ModelProto{IrVersion: proto.Int64(6), Graph: g,
				OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(opset)}}})
			if err != nil {
				t.Fatal(err)
			}
			m, err := onnx.Parse(b, "lm.onnx", dir)
			if err != nil {
				t.Fatal(err)
			}
			d, err := dataset.Load(data, dataset.Options{Inputs: InputNames(m)})
			if err != nil {
				t.Fatal(err)
			}
			e, err := New(m, d, Options{Sequence: &loss.Sequence{IgnoreIndex: loss.DefaultIgnoreIndex}})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			if inGraph := opset >= onnx.MinScoreOpset; (e.scores != nil) != inGraph {
				t.Errorf("scores in the graph: %v, want %v", e.scores != nil, inGraph)
			}
			matchLogits(t, e)
		})
	}
}
