package flatness

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/lsweep/lsweep/landscape"
	"github.com/lsweep/lsweep/loss"
	"github.com/lsweep/lsweep/normalize"
	"github.com/lsweep/lsweep/onnx"
)

// ErrIncompatible is returned, wrapped, when two models cannot be compared:
// they take different inputs or predict different label sets.
var ErrIncompatible = errors.New("flatness: models are not comparable")

// Model is one side of a comparison.
type Model struct {
	Path string // the ONNX file
	// Label names the model in reports; "" means the file's name (its
	// path when both models' files have the same name).
	Label string
}

// streamBase is the PCG stream of direction 0; direction k uses
// streamBase+k. Package landscape draws its x and y directions from the
// same streams.
const streamBase = 0x6c7377656570

// side is one model while it is being measured.
type side struct {
	model  Model
	onnx   *onnx.Model
	land   *landscape.Landscape
	params []normalize.Param
	slices Slices
	point  map[string][]float64
}

// Compare measures the flatness of two models on the same data, the same
// way, with the same random seeds, and judges whether the candidate is
// sharper than the base.
//
// Along each of Options.Directions random directions d_k (normalised as
// Options.Normalize says, filter-wise by default), Compare evaluates each
// model's mean loss over the data at th + a*d_k for Options.Points values of
// a over [-Options.Radius, Options.Radius]; Measure turns these slices into
// metrics and Judge compares each metric with its noise band and threshold.
// Both models are evaluated by their own engine.Evaluator with the same
// Options.Engine.
//
// The models need not share tensors: models of different architectures
// are compared by their metrics (Report.SameArchitecture is then false).
// Models that take different inputs (element type or fixed dimensions
// other than the batch) or predict different label sets (numbers of
// classes, or regression widths) are refused with an error wrapping
// ErrIncompatible, before any evaluation.
//
// If ctx is cancelled, Compare returns ctx.Err() and, if at least two
// directions were complete for both models, the report of those
// (Report.Partial set).
func Compare(ctx context.Context, base, candidate Model, data string, opts *Options) (*Report, error) {
	start := time.Now()
	o, err := opts.resolved()
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
	if err := compatibleGraphs(b, c, o); err != nil {
		return nil, err
	}
	for _, s := range []*side{b, c} {
		s.land, err = landscape.Open(landscape.Config{
			Model: s.model.Path, Data: data, Dataset: o.Dataset, Engine: o.Engine,
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
	x := coordinates(o.Points, o.Radius)
	perModel := 1 + o.Directions*(o.Points-1)
	total, done := 2*perModel, 0
	if o.Progress != nil {
		o.Progress.Start(total, 0)
	}
	step := func() {
		done++
		if o.Progress != nil {
			o.Progress.Step(done)
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
			d, err := normalize.Random(s.params, rng(o.Seed, k), o.Normalize)
			if err != nil {
				return nil, fmt.Errorf("flatness: %s: direction %d: %w", s.model.Path, k, err)
			}
			d.RoundFloat32()
			lossRow := make([]float64, len(x))
			accRow := make([]float64, len(x))
			for i, a := range x {
				if a == 0 {
					lossRow[i], accRow[i] = centre[s][0], centre[s][1]
					continue
				}
				s.point = normalize.Point(s.point, s.params, d, nil, a, 0)
				res, err := s.land.Engine().Evaluate(ctx, s.point)
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
	if o.Progress != nil {
		o.Progress.Finish()
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

	mb, err := Measure(&b.slices, o.Rise)
	if err != nil {
		return nil, err
	}
	mc, err := Measure(&c.slices, o.Rise)
	if err != nil {
		return nil, err
	}
	lambda, err := lambdaMax(ctx, b, c, data, o)
	if err != nil {
		return nil, err
	}
	for _, info := range Metrics {
		if info.Name == LambdaMax {
			rep.Metrics = append(rep.Metrics, lambda)
			continue
		}
		th, checked := o.Thresholds[info.Name]
		rep.Metrics = append(rep.Metrics, Judge(info, mb[info.Name], mc[info.Name], Rule{Checked: checked, Threshold: th, Noise: o.Noise}))
	}
	rep.Verdict, rep.Finding = Decide(rep.Metrics)
	rep.Summary = summary(rep)
	rep.Seconds = time.Since(start).Seconds()
	return rep, cerr
}

// rng returns the generator of direction k.
func rng(seed uint64, k int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, streamBase+uint64(k)))
}

func closeAll(sides ...*side) {
	for _, s := range sides {
		if s.land != nil {
			s.land.Close()
		}
	}
}

// lambdaMax returns the lambda_max metric.
func lambdaMax(ctx context.Context, b, c *side, data string, o Options) (MetricResult, error) {
	info, _ := Info(LambdaMax)
	switch {
	case !o.Hessian:
		return Unavailable(info, ReasonNotRequested), nil
	case o.LambdaMax == nil:
		return Unavailable(info, ReasonNoHessian), nil
	}
	var est [2]Estimate
	for i, s := range []*side{b, c} {
		ev := s.land.Engine()
		e, err := o.LambdaMax.LambdaMax(ctx, HessianTarget{
			Model: s.model.Path, Data: data, Dataset: o.Dataset, Engine: o.Engine,
			Head: ev.Head(), Params: s.params, Normalize: o.Normalize, Seed: o.Seed, Evaluator: ev,
		})
		if errors.Is(err, ErrUnavailable) {
			return Unavailable(info, fmt.Sprintf("%s: %v", s.model.Path, err)), nil
		}
		if err != nil {
			return MetricResult{}, fmt.Errorf("flatness: %s: lambda_max: %w", s.model.Path, err)
		}
		est[i] = e
	}
	th, checked := o.Thresholds[LambdaMax]
	r := Judge(info, Sample{Value: est[0].Value, Spread: est[0].Spread}, Sample{Value: est[1].Value, Spread: est[1].Spread},
		Rule{Checked: checked, Threshold: th, Noise: o.Noise})
	var notes []string
	for _, e := range est {
		if e.Note != "" {
			notes = append(notes, e.Note)
		}
	}
	r.Reason = strings.Join(notes, "; ")
	return r, nil
}

// compatibleGraphs refuses models that take different inputs, or whose
// outputs fix different numbers of classes, before anything is evaluated.
func compatibleGraphs(b, c *side, o Options) error {
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
			ErrIncompatible, b.model.Path, c.model.Path, desc(ib), desc(ic))
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
		ErrIncompatible, b.model.Path, what(cb), ob.Name, ob.Shape, c.model.Path, what(cc), oc.Name, oc.Shape)
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
func drawSizes(params []normalize.Param) []int {
	var out []int
	for _, p := range params {
		if p.Kind == normalize.Weight {
			out = append(out, len(p.Values))
		}
	}
	return out
}

// moved returns the number of tensors and values a direction moves.
func moved(params []normalize.Param, o normalize.Options) (tensors, values int) {
	for _, p := range params {
		switch {
		case p.Kind == normalize.Weight:
		case o.Ignore != normalize.IgnoreNone:
			continue
		case p.Kind == normalize.State && o.DirType != normalize.DirStates:
			continue
		}
		tensors++
		values += len(p.Values)
	}
	return tensors, values
}

// labels returns the names of the two models in reports.
func labels(b, c Model) (string, string) {
	lb, lc := b.Label, c.Label
	nb, nc := filepath.Base(b.Path), filepath.Base(c.Path)
	if nb == nc {
		nb, nc = b.Path, c.Path
	}
	if lb == "" {
		lb = nb
	}
	if lc == "" {
		lc = nc
	}
	return lb, lc
}

// summary returns one sentence on the outcome.
func summary(r *Report) string {
	var worse, better, failed []string
	for _, m := range r.Metrics {
		switch {
		case !m.Pass && m.Status == StatusUnavailable:
			failed = append(failed, fmt.Sprintf("%s is not a number", m.Name))
		case !m.Pass:
			failed = append(failed, fmt.Sprintf("%s %s (limit %s)", m.Name, signedPct(m.Worsening, m.HigherIsWorse), pct(m.Threshold)))
		case m.Flatness && m.Status == StatusWorse:
			worse = append(worse, m.Name)
		case m.Flatness && m.Status == StatusBetter:
			better = append(better, m.Name)
		}
	}
	who := r.Candidate.Label
	switch {
	case len(failed) > 0:
		return fmt.Sprintf("%s is sharper than %s beyond the limits: %s.", who, r.Base.Label, strings.Join(failed, ", "))
	case r.Finding == FindingSame:
		return fmt.Sprintf("%s is as flat as %s: no flatness metric differs beyond its spread across directions.", who, r.Base.Label)
	case r.Finding == FindingSharper:
		return fmt.Sprintf("%s is sharper than %s (%s), within the limits.", who, r.Base.Label, strings.Join(worse, ", "))
	case r.Finding == FindingFlatter:
		return fmt.Sprintf("%s is flatter than %s (%s).", who, r.Base.Label, strings.Join(better, ", "))
	}
	return fmt.Sprintf("%s is flatter than %s by %s and sharper by %s, within the limits.", who, r.Base.Label, strings.Join(better, ", "), strings.Join(worse, ", "))
}

// signedPct formats a worsening as the change of the metric's value.
func signedPct(worsening float64, higherIsWorse bool) string {
	if !higherIsWorse {
		worsening = -worsening
	}
	if math.IsInf(worsening, 0) {
		return map[bool]string{true: "+inf%", false: "-inf%"}[worsening > 0]
	}
	return fmt.Sprintf("%+.1f%%", worsening)
}

func pct(v float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".") + "%"
}

// newReport fills what a report knows before any evaluation.
func newReport(b, c *side, data string, o Options) *Report {
	lb, lc := labels(b.model, c.model)
	r := &Report{
		Base:      modelSummary(b, lb, o),
		Candidate: modelSummary(c, lc, o),
		Data:      DataSummary{Path: data, Samples: b.land.Engine().Samples()},
		Settings: Settings{
			Directions: o.Directions, Points: o.Points, Radius: o.Radius, Rise: o.Rise, Seed: o.Seed,
			Norm: string(o.Normalize.Norm), Ignore: string(o.Normalize.Ignore), DirType: string(o.Normalize.DirType),
			Noise: o.Noise, Thresholds: o.Thresholds, Hessian: o.Hessian,
		},
	}
	if h, ok := b.land.Identity()["data_sha256"].(string); ok {
		r.Data.SHA256 = h
	}
	r.SameArchitecture = architecture(b) == architecture(c)
	r.SameDraws = slices.Equal(drawSizes(b.params), drawSizes(c.params))
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

func modelSummary(s *side, label string, o Options) ModelSummary {
	ev := s.land.Engine()
	m := ModelSummary{
		Path: s.model.Path, Label: label,
		Head: string(ev.Head()), Output: ev.Output().Name, Ops: len(s.onnx.Nodes()),
	}
	if h, ok := s.land.Identity()["model_sha256"].(string); ok {
		m.SHA256 = h
	}
	m.Tensors, m.Values = moved(s.params, o.Normalize)
	return m
}
