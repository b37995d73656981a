package engine

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/lsweep/lsweep/dataset"
	"github.com/lsweep/lsweep/estimate"
	"github.com/lsweep/lsweep/loss"
)

// ordered is the dataset in the random order of a seed, in batches that
// end at every look of a plan, so that a prefix is a whole number of
// batches. The batches are cut by the data and the looks alone, so the
// sums, and the bits of every estimate, do not depend on the sessions.
type ordered struct {
	seed    uint64
	checks  []int
	data    *dataset.Dataset
	batches []batch
	ends    []int // ends[k]: the batches that make up the prefix checks[k]
}

func (o *ordered) close() {
	for _, b := range o.batches {
		b.destroy()
	}
}

// orderedData returns the dataset in the order of seed, cut at checks.
func (e *Evaluator) orderedData(seed uint64, checks []int) (*ordered, error) {
	if o := e.order; o != nil && o.seed == seed && slices.Equal(o.checks, checks) {
		return o, nil
	}
	if e.order != nil {
		e.order.close()
		e.order = nil
	}
	o := &ordered{seed: seed, checks: slices.Clone(checks)}
	o.data = e.data.Subset(estimate.Order(e.data.N(), seed))
	lo := 0
	for _, c := range checks {
		for ; lo < c; lo = min(lo+e.batch, c) {
			b, err := e.newBatch(o.data, lo, min(lo+e.batch, c))
			if err != nil {
				o.close()
				return nil, err
			}
			o.batches = append(o.batches, b)
		}
		o.ends = append(o.ends, len(o.batches))
	}
	e.order = o
	return o, nil
}

// EvaluateSequential is Evaluate on growing prefixes of the samples in the
// random order of seed (estimate.Order), looked at where plan says and
// stopped as soon as its rule is met: the loss is then the prefix's mean
// and Result.SE its standard error (0 when every sample was used),
// Result.N the samples used. The order is the same at every point of a
// landscape, so neighbouring points share their sampling noise. plan must
// be made for Samples() samples. For the Tokens head the samples are
// sequences, and the loss per labelled token, a ratio of the prefix's
// totals, is estimated as such (estimate.Plan.LookRatio): Result.N counts
// sequences, Result.Tokens their labelled tokens.
func (e *Evaluator) EvaluateSequential(ctx context.Context, values map[string][]float64, plan estimate.Plan, seed uint64) (Result, error) {
	return e.sequential(ctx, func() error { return e.set(values) }, plan, seed)
}

// EvaluateMoveSequential is EvaluateSequential at the point m names (see
// EvaluateMove).
func (e *Evaluator) EvaluateMoveSequential(ctx context.Context, m Move, plan estimate.Plan, seed uint64) (Result, error) {
	return e.sequential(ctx, func() error { return e.setMove(m) }, plan, seed)
}

// sequential is EvaluateSequential with the weights set by set.
func (e *Evaluator) sequential(ctx context.Context, set func() error, plan estimate.Plan, seed uint64) (Result, error) {
	start := time.Now()
	if plan.N != e.data.N() || len(plan.Checks) == 0 || plan.Checks[len(plan.Checks)-1] != plan.N {
		return Result{}, fmt.Errorf("engine: a plan for %d samples, the data have %d", plan.N, e.data.N())
	}
	o, err := e.orderedData(seed, plan.Checks)
	if err != nil {
		return Result{}, err
	}
	sums := make([]*loss.Sum, len(o.batches))
	add := func(i int, out []float64) error {
		sums[i] = e.newSum()
		return e.addBatch(sums[i], o.data, o.batches[i], out)
	}
	var (
		total   *loss.Sum
		est     estimate.Estimate
		stopped bool
	)
	look := func(k int) (bool, error) {
		// In batch order, whatever order the batches finished in.
		total = e.newSum()
		for _, s := range sums[:o.ends[k]] {
			total.Merge(s)
		}
		if e.head == loss.Tokens {
			// The loss per token is a ratio of totals over sequences.
			y, x, yy, xy, xx := total.TokenSums()
			est = plan.LookRatio(total.N(), estimate.Sums{Y: y, X: x, YY: yy, XY: xy, XX: xx})
		} else {
			est = plan.Look(total.N(), total.Loss()*float64(total.N()), total.SumSquares())
		}
		stopped = est.Stop
		return !est.Stop, nil
	}
	if err := set(); err != nil {
		return Result{}, err
	}
	if err := e.runStaged(ctx, o.batches, o.ends, false, add, look); err != nil {
		return Result{}, err
	}
	if !stopped {
		// runStaged asks nothing after the last stage: every sample ran.
		look(len(o.ends) - 1)
	}
	r := Result{N: total.N(), Loss: est.Mean, SE: est.SE, Accuracy: total.Accuracy(), Seconds: time.Since(start).Seconds()}
	if e.head == loss.Tokens {
		r.Tokens, r.SequenceLoss, r.SequenceAccuracy = total.Tokens(), total.SequenceLoss(), total.SequenceAccuracy()
	}
	return r, nil
}
