package loss_test

import (
	"math"
	"strings"
	"testing"

	"github.com/lsweep/lsweep/loss"
)

// Each case's expected loss is worked out by hand from the definition.
func TestHeads(t *testing.T) {
	ln := math.Log
	cases := []struct {
		name    string
		head    loss.Head
		cols    int
		out     []float64
		targets []float64
		loss    float64
		acc     float64
	}{
		{"logits", loss.Logits, 3, []float64{1, 2, 3, 0, 0, 0}, []float64{2, 1},
			((ln(math.Exp(1)+math.Exp(2)+math.Exp(3)) - 3) + ln(3)) / 2, 0.5},
		{"logits large", loss.Logits, 2, []float64{1000, 0}, []float64{1}, 1000, 0},
		{"logprobs", loss.LogProbs, 2, []float64{ln(0.25), ln(0.75), ln(0.9), ln(0.1)}, []float64{1, 1},
			(-ln(0.75) - ln(0.1)) / 2, 0.5},
		{"probs", loss.Probs, 2, []float64{0.25, 0.75, 0.9, 0.1}, []float64{1, 0},
			(-ln(0.75) - ln(0.9)) / 2, 1},
		{"probs zero", loss.Probs, 2, []float64{1, 0}, []float64{1}, -ln(1e-12), 0},
		{"sigmoid", loss.Sigmoid, 1, []float64{0.8, 0.3, 0.6}, []float64{1, 1, 0},
			(-ln(0.8) - ln(0.3) - ln(0.4)) / 3, 1.0 / 3},
		{"binary logit", loss.BinaryLogit, 1, []float64{2, -1}, []float64{1, 1},
			(ln(1+math.Exp(-2)) + ln(1+math.Exp(1))) / 2, 0.5},
		{"binary logit large", loss.BinaryLogit, 1, []float64{-800}, []float64{1}, 800, 0},
		{"mse", loss.MSE, 2, []float64{1, 2, 3, 4}, []float64{0, 0, 3, 2}, ((1+4)/2.0 + (0+4)/2.0) / 2, math.NaN()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := loss.NewSum(c.head, c.cols)
			// Added in two batches where possible: the mean must not depend on batching.
			half := len(c.targets) / 2
			per := len(c.out) / len(c.targets)
			if err := loss.Add(s, c.out[:half*per], c.targets[:half]); err != nil {
				t.Fatal(err)
			}
			if err := loss.Add(s, c.out[half*per:], c.targets[half:]); err != nil {
				t.Fatal(err)
			}
			if got := s.Loss(); math.Abs(got-c.loss) > 1e-12*(1+math.Abs(c.loss)) {
				t.Errorf("loss %.15g, want %.15g", got, c.loss)
			}
			if got := s.Accuracy(); !(got == c.acc || math.IsNaN(got) && math.IsNaN(c.acc)) {
				t.Errorf("accuracy %g, want %g", got, c.acc)
			}
		})
	}
}

func TestFloat32Outputs(t *testing.T) {
	s := loss.NewSum(loss.Logits, 2)
	if err := loss.Add(s, []float32{0, 0}, []float64{0}); err != nil {
		t.Fatal(err)
	}
	if got := s.Loss(); math.Abs(got-math.Ln2) > 1e-15 {
		t.Errorf("loss %g, want ln 2", got)
	}
}

func TestAddErrors(t *testing.T) {
	s := loss.NewSum(loss.Logits, 3)
	if err := loss.Add(s, []float64{1, 2}, []float64{0}); err == nil {
		t.Error("ragged outputs accepted")
	}
	if err := loss.Add(s, []float64{1, 2, 3}, []float64{0, 1}); err == nil {
		t.Error("target count mismatch accepted")
	}
}

func TestParseHeadAndRefine(t *testing.T) {
	for in, want := range map[string]loss.Head{"ce": loss.Logits, "NLL": loss.LogProbs, "softmax": loss.Probs, "bce": loss.Sigmoid, "regression": loss.MSE, "binary_logit": loss.BinaryLogit} {
		if got, err := loss.ParseHead(in); err != nil || got != want {
			t.Errorf("ParseHead(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := loss.ParseHead("hinge"); err == nil {
		t.Error("unknown head accepted")
	}
	if got := loss.Refine(loss.Logits, 1, true); got != loss.BinaryLogit {
		t.Errorf("one column, integer labels: %v", got)
	}
	if got := loss.Refine(loss.Logits, 1, false); got != loss.MSE {
		t.Errorf("one column, float targets: %v", got)
	}
	if got := loss.Refine(loss.Logits, 10, true); got != loss.Logits {
		t.Errorf("ten columns: %v", got)
	}
}

func TestFromValues(t *testing.T) {
	for _, c := range []struct {
		out  []float64
		want loss.Head
	}{
		{[]float64{0.2, 0.8, 0.5, 0.5}, loss.Probs},
		{[]float64{math.Log(0.2), math.Log(0.8), math.Log(0.5), math.Log(0.5)}, loss.LogProbs},
		{[]float64{0.2, 0.8, 0.5, 0.6}, loss.Logits},  // a row sums to 1.1
		{[]float64{1.2, -0.2, 0.5, 0.5}, loss.Logits}, // out of [0, 1]
		{[]float64{-3, -4, -1, -0.2}, loss.Logits},    // negative, not normalised
		{[]float64{1, 0, 1, 0, 0.5}, loss.Logits},     // not whole rows
	} {
		if got := loss.FromValues(c.out, 2); got != c.want {
			t.Errorf("%v: %s, want %s", c.out, got, c.want)
		}
	}
}

// TestTokens checks the tokens head on two sequences of three positions
// over two classes, split into batches of one: the mean is over the
// labelled tokens of both (the ignore index counts for nothing), which the
// mean of the two batches' means is not; the sequence numbers and the
// shift follow their definitions.
func TestTokens(t *testing.T) {
	ce := func(z0, z1 float64, y int) float64 {
		m := max(z0, z1)
		lse := m + math.Log(math.Exp(z0-m)+math.Exp(z1-m))
		return lse - []float64{z0, z1}[y]
	}
	out := []float64{
		2, 0, 0, 1, 1, 0, // sequence 0: predicts 0, 1, 0
		0, 3, 0, 0, 0, 0, // sequence 1: predicts 1, 0 (tie: the first), 0
	}
	labels := []float64{0, 1, -100, 1, -100, -100}
	total := loss.NewTokenSum(loss.DefaultSequence, 3, 2)
	for r := 0; r < 2; r++ {
		s := loss.NewTokenSum(loss.DefaultSequence, 3, 2)
		if err := loss.Add(s, out[6*r:6*r+6], labels[3*r:3*r+3]); err != nil {
			t.Fatal(err)
		}
		total.Merge(s)
	}
	l0, l1, l3 := ce(2, 0, 0), ce(0, 1, 1), ce(0, 3, 1)
	if got, want := total.Loss(), (l0+l1+l3)/3; math.Abs(got-want) > 1e-15 {
		t.Errorf("loss %v, want %v (the mean of batch means would be %v)", got, want, ((l0+l1)/2+l3)/2)
	}
	if total.Tokens() != 3 || total.N() != 2 || total.Accuracy() != 1 || total.SequenceAccuracy() != 1 {
		t.Errorf("tokens %d, sequences %d, accuracy %v, sequence accuracy %v", total.Tokens(), total.N(), total.Accuracy(), total.SequenceAccuracy())
	}
	if got, want := total.SequenceLoss(), ((l0+l1)/2+l3)/2; math.Abs(got-want) > 1e-15 {
		t.Errorf("sequence loss %v, want %v", got, want)
	}

	// Shifted: position t against label t+1; sequence 1 then has no
	// labelled token and counts in neither sequence number.
	s := loss.NewTokenSum(loss.Sequence{IgnoreIndex: -100, Shift: true}, 3, 2)
	if err := loss.Add(s, out, labels); err != nil {
		t.Fatal(err)
	}
	if got, want := s.Loss(), ce(2, 0, 1); s.Tokens() != 1 || math.Abs(got-want) > 1e-15 || s.Accuracy() != 0 || s.SequenceAccuracy() != 0 {
		t.Errorf("shifted: loss %v (want %v), tokens %d, accuracy %v, sequence accuracy %v", got, want, s.Tokens(), s.Accuracy(), s.SequenceAccuracy())
	}

	bad := loss.NewTokenSum(loss.DefaultSequence, 3, 2)
	if err := loss.Add(bad, out, []float64{0, 2, 1, 1, 1, 1}); err == nil || !strings.Contains(err.Error(), "label 2") {
		t.Errorf("label 2 of 2 classes: error %v", err)
	}
}

// SumSquares is the sum of the squared per-sample losses, each taken from a
// Sum of that sample alone, whatever the batching.
func TestSumSquares(t *testing.T) {
	for _, c := range []struct {
		head    loss.Head
		cols    int
		out     []float64
		targets []float64
	}{
		{loss.Logits, 3, []float64{1, 2, 3, 0, 0, 0, -1, 4, 0.5}, []float64{2, 1, 0}},
		{loss.MSE, 2, []float64{1, 2, 3, 4}, []float64{0, 0, 3, 2}},
	} {
		var want float64
		rows := len(c.out) / c.cols
		tper := len(c.targets) / rows
		for r := 0; r < rows; r++ {
			one := loss.NewSum(c.head, c.cols)
			if err := loss.Add(one, c.out[r*c.cols:(r+1)*c.cols], c.targets[r*tper:(r+1)*tper]); err != nil {
				t.Fatal(err)
			}
			want += one.Loss() * one.Loss()
		}
		a, b := loss.NewSum(c.head, c.cols), loss.NewSum(c.head, c.cols)
		if err := loss.Add(a, c.out[:c.cols], c.targets[:tper]); err != nil {
			t.Fatal(err)
		}
		if err := loss.Add(b, c.out[c.cols:], c.targets[tper:]); err != nil {
			t.Fatal(err)
		}
		a.Merge(b)
		if got := a.SumSquares(); math.Abs(got-want) > 1e-12*want {
			t.Errorf("%s: sum of squares %.15g, want %.15g", c.head, got, want)
		}
	}
}
