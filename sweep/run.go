package sweep

import (
	"context"
	"errors"
	"fmt"
)

// Evaluator computes the values of one point of the plane, one per
// channel, such as the loss and the accuracy of a model at weights
// θ + x·δ + y·η. For a 1-D grid y is 0. Evaluate should return promptly
// with an error once ctx is cancelled.
type Evaluator interface {
	Evaluate(ctx context.Context, x, y float64) ([]float64, error)
}

// Progress is told how a Run goes: Start with the number of points to do
// and of those already done (a resumed run starts with some), Step after
// each point computed with the number done so far, and Finish once at the
// end, whether the run completed, failed or was cancelled.
// progress.Reporter implements it.
type Progress interface {
	Start(total, done int)
	Step(done int)
	Finish()
}

// ProgressTotal is a Progress whose total can change while a run goes:
// RunAdaptive lowers it from every point of the grid as cells are filled,
// down to the points it computes, so that the rate and the time left count
// computed points only. progress.Reporter implements it.
type ProgressTotal interface {
	Progress
	SetTotal(total int)
}

// Run evaluates with ev, in the given order, every point of points that s
// lacks, records each in s and tells p (which may be nil) of the progress.
// Points s already holds are skipped, so running again after an
// interruption computes only what is left.
//
// Run writes s's file at the end. If ctx is cancelled, it stops before the
// next point (or, if ev stops on cancellation, during the current one),
// writes what it computed and returns ctx.Err(). An error from ev, or
// values of the wrong count, stops the run too, after the write; the error
// names the point and its coordinates. An error writing the file is
// returned as well.
func Run(ctx context.Context, s *Store, g Grid, points []int, ev Evaluator, p Progress) error {
	if !g.same(s.grid) {
		return fmt.Errorf("sweep: Run on the grid %v of a store of the grid %v", g, s.grid)
	}
	n := g.Len()
	done := 0
	for _, i := range points {
		if i < 0 || i >= n {
			return fmt.Errorf("sweep: point %d is not in the grid of %d points", i, n)
		}
		if s.Done(i) {
			done++
		}
	}
	if p != nil {
		p.Start(len(points), done)
		defer p.Finish()
	}
	// stop writes the file and returns cause, joined with a write error.
	stop := func(cause error) error {
		if ferr := s.Flush(); ferr != nil {
			return errors.Join(cause, ferr)
		}
		return cause
	}
	for _, i := range points {
		if ctx.Err() != nil {
			return stop(ctx.Err())
		}
		if s.Done(i) {
			continue
		}
		x, y := g.Coord(i)
		v, err := ev.Evaluate(ctx, x, y)
		if err != nil {
			if ctx.Err() != nil {
				return stop(ctx.Err())
			}
			return stop(fmt.Errorf("sweep: %s: %w", pointName(g, i), err))
		}
		if len(v) != len(s.channels) {
			return stop(fmt.Errorf("sweep: %s: the evaluator returned %d values for %d channels %q", pointName(g, i), len(v), len(s.channels), s.channels))
		}
		if err := s.Record(i, v); err != nil {
			return stop(err)
		}
		done++
		if p != nil {
			p.Step(done)
		}
	}
	return stop(nil)
}
