package loss

import (
	"fmt"
	"math"
	"strings"
)

// Head is the kind of output a model ends in, which decides the loss.
type Head string

// The heads lsweep knows.
const (
	Logits      Head = "logits"       // unnormalised scores: softmax cross-entropy
	LogProbs    Head = "logprobs"     // log-probabilities (LogSoftmax): negative log-likelihood
	Probs       Head = "probs"        // probabilities (Softmax): -log p[label]
	Sigmoid     Head = "sigmoid"      // one probability per sample: binary cross-entropy
	BinaryLogit Head = "binary_logit" // one logit per sample: binary cross-entropy on sigmoid(z)
	MSE         Head = "mse"          // regression: mean squared error
	Tokens      Head = "tokens"       // logits [N, T, V], labels [N, T]: cross-entropy over labelled tokens
)

// Heads lists every head, in the order help texts show them.
var Heads = []Head{Logits, LogProbs, Probs, Sigmoid, BinaryLogit, MSE, Tokens}

// DefaultIgnoreIndex is the label of tokens that are not scored, PyTorch's
// ignore_index default.
const DefaultIgnoreIndex = -100

// Sequence configures the Tokens head. A nil *Sequence means
// DefaultSequence.
type Sequence struct {
	// IgnoreIndex is the label of tokens that count neither in the loss
	// nor in the number of tokens.
	IgnoreIndex int64
	// Shift says the labels are the inputs themselves, as Hugging Face
	// causal language models take them: the logits at position t are
	// scored against label t+1, and the last position against none.
	Shift bool
}

// DefaultSequence is the Tokens head's configuration when none is given.
var DefaultSequence = Sequence{IgnoreIndex: DefaultIgnoreIndex}

// Ignored reports whether label is the ignore index, scored nowhere.
func (s Sequence) Ignored(label float64) bool {
	return label == math.Trunc(label) && int64(label) == s.IgnoreIndex
}

// Labelled counts the tokens of labels, sequences of steps tokens each,
// that the Tokens head scores: all but the ignored ones and, with Shift,
// the first of each sequence, which no position predicts.
func (s Sequence) Labelled(labels []float64, steps int) int {
	n := 0
	for i, y := range labels {
		if s.Shift && i%steps == 0 || s.Ignored(y) {
			continue
		}
		n++
	}
	return n
}

// Or returns *s, or DefaultSequence if s is nil.
func (s *Sequence) Or() Sequence {
	if s == nil {
		return DefaultSequence
	}
	return *s
}

// ParseHead returns the head named s. It accepts the head names and the
// common names of their losses (ce, cross-entropy, nll, bce, regression).
func ParseHead(s string) (Head, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "logits", "ce", "cross-entropy", "crossentropy", "softmax-ce":
		return Logits, nil
	case "logprobs", "log-probs", "logsoftmax", "nll":
		return LogProbs, nil
	case "probs", "probabilities", "softmax":
		return Probs, nil
	case "sigmoid", "bce":
		return Sigmoid, nil
	case "binary_logit", "binary-logit", "bce-logits":
		return BinaryLogit, nil
	case "mse", "regression":
		return MSE, nil
	case "tokens", "token-ce", "lm", "sequence":
		return Tokens, nil
	}
	names := make([]string, len(Heads))
	for i, h := range Heads {
		names[i] = string(h)
	}
	return "", fmt.Errorf("loss: unknown head %q (want one of %s)", s, strings.Join(names, ", "))
}

// Classification reports whether the head's targets are class labels.
func (h Head) Classification() bool { return h != MSE }

// Classes returns the number of classes a head with cols output columns
// distinguishes (2 for the single-column binary heads), or 0 for regression.
func (h Head) Classes(cols int) int {
	switch h {
	case MSE:
		return 0
	case Sigmoid, BinaryLogit:
		return 2
	}
	return cols
}

// Refine settles the head of a graph whose output is not followed by a
// normalising op (detected as Logits): a single column is a binary logit when
// the targets are integers and a regression output otherwise.
func Refine(h Head, cols int, integerTargets bool) Head {
	if h != Logits || cols != 1 {
		return h
	}
	if integerTargets {
		return BinaryLogit
	}
	return MSE
}

// FromValues returns the head that output rows (row-major, cols values
// each) show by their values: Probs when every value is in [0, 1] and every
// row sums to 1 (to 1e-4), LogProbs when every value is at most 0 and every
// row's exponentials sum to 1, Logits otherwise (and for fewer than 2
// columns or no rows).
func FromValues(out []float64, cols int) Head {
	if cols < 2 || len(out) < cols || len(out)%cols != 0 {
		return Logits
	}
	probs, logProbs := true, true
	for r := 0; r+cols <= len(out) && (probs || logProbs); r += cols {
		var sp, se float64
		for _, v := range out[r : r+cols] {
			probs = probs && v >= 0 && v <= 1
			logProbs = logProbs && v <= 0
			sp += v
			se += math.Exp(v)
		}
		probs = probs && math.Abs(sp-1) <= 1e-4
		logProbs = logProbs && math.Abs(se-1) <= 1e-4
	}
	switch {
	case probs:
		return Probs
	case logProbs:
		return LogProbs
	}
	return Logits
}

// ValuesReason says why FromValues returned h, for messages.
func ValuesReason(h Head) string {
	switch h {
	case Probs:
		return "are non-negative and sum to 1"
	case LogProbs:
		return "are non-positive and their exponentials sum to 1"
	}
	return "are unconstrained"
}

// CheckShape reports whether outputs with cols columns can carry head h.
func CheckShape(h Head, cols int) error {
	switch h {
	case Sigmoid, BinaryLogit:
		if cols != 1 {
			return fmt.Errorf("loss: head %s needs one output per sample, the output has %d", h, cols)
		}
	case Logits, LogProbs, Probs, Tokens:
		if cols < 2 {
			return fmt.Errorf("loss: head %s needs at least 2 classes, the output has %d column(s)", h, cols)
		}
	}
	return nil
}

// probFloor keeps -log p finite when a probability head outputs exactly 0;
// it caps one sample's loss at about 27.6.
const probFloor = 1e-12

// Sum accumulates per-sample losses and correct predictions.
// Its zero value is not usable: make one with NewSum.
type Sum struct {
	head    Head
	cols    int
	loss    float64
	sq      float64 // sum of squared per-sample losses, for the spread of a sample mean
	correct float64
	n       int
	row     []float64 // scratch: one row in float64

	// Tokens head: steps positions of vocab logits per sequence.
	seq                  Sequence
	steps, vocab         int
	tokens               int     // labelled tokens
	seqs                 int     // sequences with a labelled token
	seqLoss, seqsCorrect float64 // sums over those sequences
	// Over every sequence: the sums of squares and products of its summed
	// token loss y and its labelled tokens x (TokenSums).
	yy, xy, xx float64
}

// NewTokenSum returns an empty Sum for the Tokens head: logits of steps
// positions of vocab values per sequence, labels of steps positions.
func NewTokenSum(seq Sequence, steps, vocab int) *Sum {
	return &Sum{head: Tokens, cols: steps * vocab, seq: seq, steps: steps, vocab: vocab}
}

// NewSum returns an empty Sum for outputs of cols columns.
func NewSum(h Head, cols int) *Sum { return &Sum{head: h, cols: cols} }

// Add adds a batch: out holds rows x cols outputs row-major, targets holds
// one label per row (classification) or rows x cols targets (regression).
func Add[T float32 | float64](s *Sum, out []T, targets []float64) error {
	if s.cols <= 0 || len(out)%s.cols != 0 {
		return fmt.Errorf("loss: %d outputs do not make rows of %d", len(out), s.cols)
	}
	rows := len(out) / s.cols
	if s.head == Tokens {
		return addTokens(s, out, targets, rows)
	}
	want := rows
	if s.head == MSE {
		want = len(out)
	}
	if len(targets) != want {
		return fmt.Errorf("loss: %d targets for %d outputs of head %s", len(targets), rows, s.head)
	}
	if cap(s.row) < s.cols {
		s.row = make([]float64, s.cols)
	}
	row := s.row[:s.cols]
	for r := 0; r < rows; r++ {
		for j, v := range out[r*s.cols : (r+1)*s.cols] {
			row[j] = float64(v)
		}
		if s.head == MSE {
			var se float64
			for j, v := range row {
				d := v - targets[r*s.cols+j]
				se += d * d
			}
			l := se / float64(s.cols)
			s.loss += l
			s.sq += l * l
			continue
		}
		l, ok := s.sample(row, int(targets[r]))
		s.loss += l
		s.sq += l * l
		if ok {
			s.correct++
		}
	}
	s.n += rows
	return nil
}

// Target returns the label that position i of labels (sequences of steps
// tokens, flattened) is scored against, and false where it is scored
// against none: the ignore index, and with Shift the last position of each
// sequence (position t is scored against label t+1).
func (s Sequence) Target(labels []float64, steps, i int) (float64, bool) {
	if s.Shift {
		if (i+1)%steps == 0 {
			return 0, false
		}
		i++
	}
	label := labels[i]
	return label, !s.Ignored(label)
}

// addTokens adds rows sequences of the Tokens head.
func addTokens[T float32 | float64](s *Sum, out []T, labels []float64, rows int) error {
	if len(labels) != rows*s.steps {
		return fmt.Errorf("loss: %d labels for %d sequences of %d tokens", len(labels), rows, s.steps)
	}
	if cap(s.row) < s.vocab {
		s.row = make([]float64, s.vocab)
	}
	row := s.row[:s.vocab]
	return s.addSequences(labels, func(i, label int) (float64, bool) {
		for j, v := range out[i*s.vocab:][:s.vocab] {
			row[j] = float64(v)
		}
		return s.sample(row, label)
	})
}

// AddTokenScores adds sequences of the Tokens head from scores already
// taken at each position's label (onnx.TokenScorer): logprob holds the
// log-softmax of the logits at the label and hit 1 where the label has the
// largest logit, one value per position, where the label is the one
// Sequence.Target gives (any value where it gives none: not read).
func AddTokenScores(s *Sum, logprob, hit []float64, labels []float64) error {
	if s.head != Tokens {
		return fmt.Errorf("loss: token scores for head %s", s.head)
	}
	if len(logprob) != len(labels) || len(hit) != len(labels) || len(labels)%s.steps != 0 {
		return fmt.Errorf("loss: %d log-probabilities and %d hits for %d labels of sequences of %d tokens", len(logprob), len(hit), len(labels), s.steps)
	}
	return s.addSequences(labels, func(i, _ int) (float64, bool) { return -logprob[i], hit[i] == 1 })
}

// addSequences adds the sequences of labels (steps each), scoring the
// position i that Sequence.Target pairs with a label by score(i, label):
// its loss and whether it is right.
func (s *Sum) addSequences(labels []float64, score func(i, label int) (float64, bool)) error {
	rows := len(labels) / s.steps
	for r := 0; r < rows; r++ {
		var l float64
		k, right := 0, 0
		for t := 0; t < s.steps; t++ {
			i := r*s.steps + t
			label, ok := s.seq.Target(labels, s.steps, i)
			if !ok {
				continue
			}
			if err := s.checkLabel(label, r, t); err != nil {
				return err
			}
			tl, ok := score(i, int(label))
			l += tl
			k++
			if ok {
				right++
			}
		}
		s.addSequence(l, k, right)
	}
	s.n += rows
	return nil
}

// checkLabel checks the label position t of sequence r is scored against.
func (s *Sum) checkLabel(label float64, r, t int) error {
	if label != math.Trunc(label) || label < 0 || label >= float64(s.vocab) {
		lt := t
		if s.seq.Shift {
			lt++
		}
		return fmt.Errorf("loss: label %g of sequence %d, position %d, is neither in [0, %d) nor the ignore index %d", label, r, lt, s.vocab, s.seq.IgnoreIndex)
	}
	return nil
}

// addSequence adds one sequence's total token loss l over its k labelled
// tokens, right of them predicted right.
func (s *Sum) addSequence(l float64, k, right int) {
	x := float64(k)
	s.yy, s.xy, s.xx = s.yy+l*l, s.xy+x*l, s.xx+x*x
	s.loss += l
	s.correct += float64(right)
	s.tokens += k
	if k > 0 {
		s.seqs++
		s.seqLoss += l / float64(k)
		if right == k {
			s.seqsCorrect++
		}
	}
}

// sample returns one sample's loss and whether its prediction is right.
// label has been checked to lie in [0, classes).
func (s *Sum) sample(row []float64, label int) (float64, bool) {
	switch s.head {
	case Sigmoid:
		p := row[0]
		y := float64(label)
		return -(y*math.Log(max(p, probFloor)) + (1-y)*math.Log(max(1-p, probFloor))), (p > 0.5) == (label == 1)
	case BinaryLogit:
		z := row[0]
		// log(1+exp(-|z|)) + max(z,0) - y z: stable for any z.
		l := math.Log1p(math.Exp(-math.Abs(z))) + max(z, 0) - float64(label)*z
		return l, (z > 0) == (label == 1)
	}
	best := 0
	for j, v := range row {
		if v > row[best] {
			best = j
		}
	}
	correct := best == label
	switch s.head {
	case LogProbs:
		return -row[label], correct
	case Probs:
		return -math.Log(max(row[label], probFloor)), correct
	}
	// Logits: log-sum-exp shifted by the maximum.
	m := row[best]
	var sum float64
	for _, v := range row {
		sum += math.Exp(v - m)
	}
	return m + math.Log(sum) - row[label], correct
}

// N returns the number of samples (sequences, for the Tokens head) added.
func (s *Sum) N() int { return s.n }

// Loss returns the mean loss over the samples added (NaN if none); for the
// Tokens head, the mean over the labelled tokens of all sequences.
func (s *Sum) Loss() float64 { return s.loss / float64(s.count()) }

// Accuracy returns the fraction of correct predictions in [0, 1]; NaN for
// regression or when no sample was added. For the Tokens head it is the
// fraction of labelled tokens whose label has the largest logit.
func (s *Sum) Accuracy() float64 {
	if s.head == MSE {
		return math.NaN()
	}
	return s.correct / float64(s.count())
}

func (s *Sum) count() int {
	if s.head == Tokens {
		return s.tokens
	}
	return s.n
}

// SumSquares returns the sum over the samples added of their squared loss
// (not for the Tokens head, whose loss is a mean over tokens: 0 there).
// With N and Loss it gives the spread of the per-sample losses.
func (s *Sum) SumSquares() float64 { return s.sq }

// Tokens returns the number of labelled tokens added (Tokens head).
func (s *Sum) Tokens() int { return s.tokens }

// SequenceLoss returns, for the Tokens head, the mean over the sequences
// that have a labelled token of their mean token loss (NaN if none).
func (s *Sum) SequenceLoss() float64 { return s.seqLoss / float64(s.seqs) }

// SequenceAccuracy returns, for the Tokens head, the fraction of the
// sequences with a labelled token whose labelled tokens are all predicted
// right (NaN if none).
func (s *Sum) SequenceAccuracy() float64 { return s.seqsCorrect / float64(s.seqs) }

// TokenSums returns, for the Tokens head, the sums over the sequences added
// of each one's summed token loss y and its labelled tokens x, and of y*y,
// x*y and x*x: what a ratio estimate of the loss per token from a sample
// of sequences needs (estimate.Plan.LookRatio).
func (s *Sum) TokenSums() (y, x, yy, xy, xx float64) {
	return s.loss, float64(s.tokens), s.yy, s.xy, s.xx
}

// Merge adds the samples of o to s. Both must have the same head and width.
func (s *Sum) Merge(o *Sum) {
	s.yy, s.xy, s.xx = s.yy+o.yy, s.xy+o.xy, s.xx+o.xx
	s.loss += o.loss
	s.sq += o.sq
	s.correct += o.correct
	s.n += o.n
	s.tokens += o.tokens
	s.seqs += o.seqs
	s.seqLoss += o.seqLoss
	s.seqsCorrect += o.seqsCorrect
}
