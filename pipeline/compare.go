package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lsweep/lsweep/autodiff"
	"github.com/lsweep/lsweep/dataset"
	"github.com/lsweep/lsweep/engine"
	"github.com/lsweep/lsweep/flatness"
	"github.com/lsweep/lsweep/landscape"
	"github.com/lsweep/lsweep/loss"
	"github.com/lsweep/lsweep/normalize"
	"github.com/lsweep/lsweep/onnx"
	"github.com/lsweep/lsweep/sweep"
)

// CompareOptions configures a flatness comparison: what flatness.Options
// says (the directions, the slices, the verdict rule), and how the models
// are evaluated. A nil *CompareOptions, and the zero value of each field,
// mean the defaults.
type CompareOptions struct {
	flatness.Options
	// Dataset chooses the data's entries and a subset of samples.
	Dataset dataset.Options
	// Engine configures ONNX Runtime, the batch size, the output and the
	// head; the same settings evaluate both models.
	Engine engine.Options
	// LambdaMax estimates lambda_max when Options.Hessian is set; Lanczos
	// is lsweep's.
	LambdaMax LambdaMaxer
	// Progress, if not nil, is told of every model evaluation.
	Progress sweep.Progress
}

// side is one model while it is being measured.
type side struct {
	model  flatness.Model
	onnx   *onnx.Model
	land   *landscape.Landscape
	params []normalize.Param
	slices flatness.Slices
}

// Compare measures the flatness of two models on the same data, the same
// way, with the same random seeds, and judges whether the candidate is
// sharper than the base.
//
// Along each of Options.Directions random directions d_k (normalised as
// Options.Normalize says, filter-wise by default), Compare evaluates each
// model's mean loss over the data at th + a*d_k for Options.Points values of
// a over [-Options.Radius, Options.Radius]; flatness.Conclude turns these
// slices into metrics and judges them. Each model is loaded once and
// evaluated by its own landscape with the same Engine options; lambda_max
// is estimated on that landscape.
//
// The models need not share tensors: models of different architectures
// are compared by their metrics (Report.SameArchitecture is then false).
// Models that take different inputs (element type or fixed dimensions
// other than the batch) or predict different label sets (numbers of
// classes, or regression widths) are refused with an error wrapping
// flatness.ErrIncompatible, before any evaluation.
//
// If ctx is cancelled, Compare returns ctx.Err() and, if at least two
// directions were complete for both models, the report of those
// (Report.Partial set).
func Compare(ctx context.Context, base, candidate flatness.Model, data string, opts *CompareOptions) (*flatness.Report, error) {
	start := time.Now()
	var co CompareOptions
	if opts != nil {
		co = *opts
	}
	o, err := co.Options.Resolved()
	if err != nil {
		return nil, err
	}
	b := &side{model: base}
	c := &side{model: candidate}
	for _, s := range []*side{b, c} {
		if s.onnx, err = onnx.Load(s.model.Path); err != nil {
			return nil, err
		}
	}
	if err := compatibleGraphs(b, c, co); err != nil {
		return nil, err
	}
	for _, s := range []*side{b, c} {
		s.land, err = landscape.OpenModel(s.onnx, landscape.Config{
			Model: s.model.Path, Data: data, Dataset: co.Dataset, Engine: co.Engine,
			Seed: o.Seed, Normalize: o.Normalize,
		})
		if err != nil {
			closeAll(b, c)
			return nil, err
		}
		s.params = s.land.Params()
	}
	defer closeAll(b, c)
	if err := compatibleHeads(b, c); err != nil {
		return nil, err
	}

	rep := newReport(b, c, data, o)
	x := flatness.Coordinates(o.Points, o.Radius)
	perModel := 1 + o.Directions*(o.Points-1)
	total, done := 2*perModel, 0
	if co.Progress != nil {
		co.Progress.Start(total, 0)
	}
	step := func() {
		done++
		if co.Progress != nil {
			co.Progress.Step(done)
		}
	}
	centre := make(map[*side][2]float64)
	for _, s := range []*side{b, c} {
		s.slices.X = x
		res, err := s.land.Engine().Evaluate(ctx, nil)
		if err != nil {
			return nil, err
		}
		centre[s] = [2]float64{res.Loss, res.Accuracy}
		step()
	}
	var cerr error
directions:
	for k := range o.Directions {
		rows := make(map[*side][2][]float64)
		for _, s := range []*side{b, c} {
			d, err := normalize.Random(s.params, landscape.Generator(o.Seed, k), o.Normalize)
			if err != nil {
				return nil, fmt.Errorf("flatness: %s: direction %d: %w", s.model.Path, k, err)
			}
			lossRow := make([]float64, len(x))
			accRow := make([]float64, len(x))
			for i, a := range x {
				if a == 0 {
					lossRow[i], accRow[i] = centre[s][0], centre[s][1]
					continue
				}
				res, err := s.land.Engine().EvaluateMove(ctx, engine.Move{Coefs: []float64{a}, Dirs: []map[string][]float32{d.Values}})
				if err != nil {
					if ctx.Err() != nil {
						cerr = ctx.Err()
						break directions
					}
					return nil, fmt.Errorf("flatness: %s: direction %d at %g: %w", s.model.Path, k, a, err)
				}
				lossRow[i], accRow[i] = res.Loss, res.Accuracy
				step()
			}
			rows[s] = [2][]float64{lossRow, accRow}
		}
		for _, s := range []*side{b, c} {
			s.slices.Loss = append(s.slices.Loss, rows[s][0])
			s.slices.Acc = append(s.slices.Acc, rows[s][1])
		}
	}
	if co.Progress != nil {
		co.Progress.Finish()
	}
	if cerr != nil {
		if len(b.slices.Loss) < 2 {
			return nil, cerr
		}
		rep.Partial = true
		rep.Notes = append(rep.Notes, fmt.Sprintf("interrupted: %d of %d directions complete", len(b.slices.Loss), o.Directions))
	}
	rep.Base.CentreLoss, rep.Base.CentreAccuracy = centre[b][0], centre[b][1]
	rep.Candidate.CentreLoss, rep.Candidate.CentreAccuracy = centre[c][0], centre[c][1]
	rep.X = x
	rep.BaseSlices, rep.CandidateSlices = b.slices, c.slices
	rep.Settings.Directions = len(b.slices.Loss)

	lambda, err := lambdaMax(ctx, b, c, data, co, o)
	if err != nil {
		return nil, err
	}
	if err := flatness.Conclude(rep, o, lambda); err != nil {
		return nil, err
	}
	rep.Seconds = time.Since(start).Seconds()
	return rep, cerr
}

func closeAll(sides ...*side) {
	for _, s := range sides {
		if s.land != nil {
			s.land.Close()
		}
	}
}

// lambdaMax returns the lambda_max metric.
func lambdaMax(ctx context.Context, b, c *side, data string, co CompareOptions, o flatness.Options) (flatness.MetricResult, error) {
	info, _ := flatness.Info(flatness.LambdaMax)
	switch {
	case !o.Hessian:
		return flatness.Unavailable(info, flatness.ReasonNotRequested), nil
	case co.LambdaMax == nil:
		return flatness.Unavailable(info, flatness.ReasonNoHessian), nil
	}
	var est [2]flatness.Estimate
	for i, s := range []*side{b, c} {
		ev := s.land.Engine()
		e, err := co.LambdaMax.LambdaMax(ctx, HessianTarget{
			Model: s.model.Path, Data: data, Dataset: co.Dataset, Engine: co.Engine,
			Head: ev.Head(), Params: s.params, Normalize: o.Normalize, Seed: o.Seed, Evaluator: ev, Landscape: s.land,
		})
		if errors.Is(err, flatness.ErrUnavailable) {
			return flatness.Unavailable(info, fmt.Sprintf("%s: %v", s.model.Path, err)), nil
		}
		if err != nil {
			return flatness.MetricResult{}, fmt.Errorf("flatness: %s: lambda_max: %w", s.model.Path, err)
		}
		est[i] = e
	}
	return flatness.JudgeLambdaMax(est[0], est[1], o), nil
}

// compatibleGraphs refuses models that take different inputs, or whose
// outputs fix different numbers of classes, before anything is evaluated.
func compatibleGraphs(b, c *side, o CompareOptions) error {
	ib, ic := b.onnx.Inputs(), c.onnx.Inputs()
	desc := func(in []onnx.ValueInfo) string {
		var s []string
		for _, v := range in {
			s = append(s, fmt.Sprintf("%q %v %v", v.Name, v.ElemType, v.Shape))
		}
		return strings.Join(s, ", ")
	}
	incompatible := len(ib) != len(ic)
	for i := 0; !incompatible && i < len(ib); i++ {
		incompatible = ib[i].ElemType != ic[i].ElemType || !sameDims(ib[i].Dims(), ic[i].Dims())
	}
	if incompatible {
		return fmt.Errorf("%w: %s and %s take different inputs (%s; %s): the comparison evaluates both on the same data",
			flatness.ErrIncompatible, b.model.Path, c.model.Path, desc(ib), desc(ic))
	}
	hb, errB := b.onnx.DetectHead(o.Engine.Output)
	hc, errC := c.onnx.DetectHead(o.Engine.Output)
	if errB != nil || errC != nil {
		return nil // Open reports it
	}
	cb, okB := classes(hb, o.Engine.Head)
	cc, okC := classes(hc, o.Engine.Head)
	if okB && okC && cb != cc {
		return labelError(b, c, hb.Output, hc.Output, cb, cc)
	}
	return nil
}

// sameDims reports whether two input shapes agree: the same rank and the
// same size wherever both fix one, the batch dimension aside.
func sameDims(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 1; i < len(a); i++ {
		if a[i] >= 0 && b[i] >= 0 && a[i] != b[i] {
			return false
		}
	}
	return true
}

// classes returns the number of classes an output predicts (its width for
// regression, as a negative number), if its shape fixes it.
func classes(h onnx.Head, forced loss.Head) (int, bool) {
	cols := 1
	for _, d := range h.Output.Shape[min(1, len(h.Output.Shape)):] {
		if d.Value < 0 {
			return 0, false
		}
		cols *= int(d.Value)
	}
	kind := h.Kind
	if forced != "" {
		kind = forced
	}
	kind = loss.Refine(kind, cols, true)
	if kind == loss.MSE {
		return -cols, true
	}
	return kind.Classes(cols), true
}

func labelError(b, c *side, ob, oc onnx.ValueInfo, cb, cc int) error {
	what := func(n int) string {
		if n < 0 {
			return fmt.Sprintf("regresses %d values", -n)
		}
		return fmt.Sprintf("predicts %d classes", n)
	}
	return fmt.Errorf("%w: %s %s (output %q %v) but %s %s (output %q %v): the comparison needs models of the same label set",
		flatness.ErrIncompatible, b.model.Path, what(cb), ob.Name, ob.Shape, c.model.Path, what(cc), oc.Name, oc.Shape)
}

// compatibleHeads checks the heads the evaluators settled on.
func compatibleHeads(b, c *side) error {
	eb, ec := b.land.Engine(), c.land.Engine()
	n := func(e interface {
		Head() loss.Head
		OutputWidth() int
	}) int {
		if e.Head() == loss.MSE {
			return -e.OutputWidth()
		}
		return e.Head().Classes(e.OutputWidth())
	}
	if cb, cc := n(eb), n(ec); cb != cc {
		return labelError(b, c, eb.Output(), ec.Output(), cb, cc)
	}
	return nil
}

// architecture describes a model's graph for SameArchitecture: its op
// types in order, and its float tensors' names and shapes.
func architecture(s *side) string {
	var sb strings.Builder
	for _, n := range s.onnx.Nodes() {
		sb.WriteString(n.OpType)
		sb.WriteByte(' ')
	}
	sb.WriteByte('|')
	for _, p := range s.params {
		fmt.Fprintf(&sb, " %s%v", p.Name, p.Shape)
	}
	return sb.String()
}

// drawSizes returns the sizes of the tensors Random draws for, in order.
func drawSizes(params []normalize.Param, o normalize.Options) []int {
	var out []int
	for _, p := range params {
		if o.Draws(p.Kind) {
			out = append(out, len(p.Values))
		}
	}
	return out
}

// moved returns the number of tensors and values a direction moves.
func moved(params []normalize.Param, o normalize.Options) (tensors, values int) {
	for _, p := range params {
		switch {
		case o.Draws(p.Kind):
		case p.Kind == normalize.Embedding, o.Ignore != normalize.IgnoreNone:
			continue
		case p.Kind == normalize.State && o.DirType != normalize.DirStates:
			continue
		}
		tensors++
		values += len(p.Values)
	}
	return tensors, values
}

// newReport fills what a report knows before any evaluation.
func newReport(b, c *side, data string, o flatness.Options) *flatness.Report {
	lb, lc := flatness.Labels(b.model, c.model)
	r := &flatness.Report{
		Base:      modelSummary(b, lb, o),
		Candidate: modelSummary(c, lc, o),
		Data:      flatness.DataSummary{Path: data, Samples: b.land.Engine().Samples()},
		Settings: flatness.Settings{
			Directions: o.Directions, Points: o.Points, Radius: o.Radius, Rise: o.Rise, Seed: o.Seed,
			Norm: string(o.Normalize.Norm), Ignore: string(o.Normalize.Ignore), DirType: string(o.Normalize.DirType),
			Noise: o.Noise, Thresholds: o.Thresholds, Hessian: o.Hessian,
		},
	}
	if o.Normalize.Embeddings {
		r.Settings.Include = []string{"embeddings"}
	}
	if h, ok := b.land.Identity()["data_sha256"].(string); ok {
		r.Data.SHA256 = h
	}
	r.SameArchitecture = architecture(b) == architecture(c)
	r.SameDraws = slices.Equal(drawSizes(b.params, o.Normalize), drawSizes(c.params, o.Normalize))
	switch {
	case r.SameArchitecture:
	case r.SameDraws:
		r.Notes = append(r.Notes, "different architectures, compared by their metrics; their weights have the same sizes in the same order, so the directions come from the same random draws")
	default:
		r.Notes = append(r.Notes, "different architectures, compared by their metrics only: the directions come from the same seeds, but not the same random draws")
	}
	for _, s := range []*side{b, c} {
		for _, n := range s.land.Engine().Notes() {
			r.Notes = append(r.Notes, s.model.Path+": "+n)
		}
	}
	return r
}

func modelSummary(s *side, label string, o flatness.Options) flatness.ModelSummary {
	ev := s.land.Engine()
	m := flatness.ModelSummary{
		Path: s.model.Path, Label: label,
		Head: string(ev.Head()), Output: ev.Output().Name, Ops: len(s.onnx.Nodes()),
	}
	if h, ok := s.land.Identity()["model_sha256"].(string); ok {
		m.SHA256 = h
	}
	m.Tensors, m.Values = moved(s.params, o.Normalize)
	return m
}

// LambdaMaxer estimates the largest eigenvalue of the Hessian of a model's
// mean loss with respect to its weights. Compare calls it once per model,
// after the slices, when Options.Hessian is set.
type LambdaMaxer interface {
	// LambdaMax returns the largest eigenvalue of the Hessian at the
	// target's stored weights, over the tensors the comparison's
	// directions move (target.Params, Kind Weight, and others as
	// target.Normalize says), and its uncertainty (a Lanczos residual,
	// say; 0 if unknown). An error wrapping flatness.ErrUnavailable makes the
	// metric unavailable; any other error fails the comparison.
	LambdaMax(ctx context.Context, target HessianTarget) (flatness.Estimate, error)
}

// HessianTarget is what a LambdaMaxer is asked about: one model of a
// comparison, its data and the evaluation settings the slices used.
type HessianTarget struct {
	Model     string          // the model file
	Data      string          // the data file or folder
	Dataset   dataset.Options // entry names and subset, as for the slices
	Engine    engine.Options  // library, device, threads, batch size, output and head
	Head      loss.Head       // the head the slices' loss used
	Params    []normalize.Param
	Normalize normalize.Options // which tensors the directions move
	Seed      uint64            // for a random start vector
	// Evaluator and Landscape are the comparison's own, open for the
	// duration of the call, for estimators that reuse them.
	Evaluator *engine.Evaluator
	Landscape *landscape.Landscape
}

// LambdaMaxFunc adapts a function to LambdaMaxer.
type LambdaMaxFunc func(ctx context.Context, target HessianTarget) (flatness.Estimate, error)

// LambdaMax calls f.
func (f LambdaMaxFunc) LambdaMax(ctx context.Context, target HessianTarget) (flatness.Estimate, error) {
	return f(ctx, target)
}

// Lanczos returns the LambdaMaxer lsweep uses: the largest eigenvalue of the
// Hessian with respect to the model's weights, by Lanczos on the
// Hessian-vector products opts.HVP selects, exact by default
// (landscape.Landscape.Hessian on the comparison's landscape), with the
// Lanczos residual as its spread. A model whose ops have no gradient rule
// makes the metric unavailable.
func Lanczos(opts landscape.HessianOptions) LambdaMaxer {
	return LambdaMaxFunc(func(ctx context.Context, t HessianTarget) (flatness.Estimate, error) {
		if t.Landscape == nil {
			return flatness.Estimate{}, errors.New("pipeline: no landscape to estimate lambda_max on")
		}
		o := opts
		o.Seed = t.Seed
		e, err := t.Landscape.Hessian(ctx, 0, 0, o)
		if errors.Is(err, autodiff.ErrNoGradient) {
			return flatness.Estimate{}, fmt.Errorf("%w: %v", flatness.ErrUnavailable, err)
		}
		if err != nil {
			return flatness.Estimate{}, err
		}
		note := fmt.Sprintf("%d Hessian-vector products", e.Products)
		if !e.Converged {
			note += ", not converged"
		}
		return flatness.Estimate{Value: e.Max, Spread: e.MaxResidual, Note: note}, nil
	})
}
