package engine

import (
	"context"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/lsweep/lsweep/internal/half"
	"github.com/lsweep/lsweep/loss"
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
// evaluation through the scorer gives the numbers package loss gives from
// its logits (Predict), aligned and shifted: the loss to 1e-6 relative,
// the token and sequence counts exactly.
func TestTokenScoresMatchLogits(t *testing.T) {
	requireRuntime(t)
	for _, c := range seqCases[2:] {
		t.Run(c.name, func(t *testing.T) {
			e, _ := openSeq(t, c, Options{})
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
		})
	}
}
