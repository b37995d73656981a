package normalize

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// eps is added to a direction's norm before dividing by it, as the
// reference implementation does.
const eps = 1e-10

// Direction is one direction in weight space: a value per element of each
// tensor it moves. A tensor it does not hold is not moved.
type Direction struct {
	// Names lists the tensors the direction moves, in a fixed order (that
	// of the params the direction was made from).
	Names []string
	// Values holds, for each name, one value per element of the tensor,
	// row-major, in float32: the precision of the weights they move and of
	// the files they are saved in, and half the memory of float64 for the
	// models of hundreds of millions of weights people study. The
	// arithmetic that makes them is in float64, rounded once per value.
	Values map[string][]float32
	// Shapes holds, for each name, the tensor's shape. Random, Difference,
	// Normalize and Load fill it; Save needs it.
	Shapes map[string][]int64
}

// newDirection returns an empty Direction with room for n tensors.
func newDirection(n int) *Direction {
	return &Direction{
		Names:  make([]string, 0, n),
		Values: make(map[string][]float32, n),
		Shapes: make(map[string][]int64, n),
	}
}

// add appends a tensor to d.
func (d *Direction) add(name string, shape []int64, v []float32) {
	d.Names = append(d.Names, name)
	d.Values[name] = v
	d.Shapes[name] = slices.Clone(shape)
}

// Clone returns a deep copy of d.
func (d *Direction) Clone() *Direction {
	c := newDirection(len(d.Names))
	for _, n := range d.Names {
		c.add(n, d.Shapes[n], slices.Clone(d.Values[n]))
	}
	return c
}

// Norm returns the Euclidean norm of d over all its tensors.
func (d *Direction) Norm() float64 { return math.Sqrt(Dot(d, d)) }

// Dot returns the inner product of x and y over all tensors; a tensor
// only one of them holds contributes nothing. It panics if a tensor both
// hold has different lengths in each.
func Dot(x, y *Direction) float64 {
	var s float64
	for _, n := range x.Names {
		yv, ok := y.Values[n]
		if !ok {
			continue
		}
		xv := x.Values[n]
		if len(xv) != len(yv) {
			panic(fmt.Sprintf("normalize: tensor %q has %d values in one direction and %d in the other", n, len(xv), len(yv)))
		}
		for i, a := range xv {
			s += float64(a) * float64(yv[i])
		}
	}
	return s
}

// Random returns a random direction for the model that params describe,
// normalised as opts says (see Normalize).
//
// Its entries are i.i.d. N(0, 1) values from rng.NormFloat64, drawn only
// for the tensors opts.Draws selects (the Weight tensors, and Embedding
// tensors with opts.Embeddings), in params order and row-major within each,
// so the same seed gives the same draw for two models whose drawn tensors
// come in the same order with the same sizes. The caller orders params
// (by depth in the graph, say) and must keep that order to reproduce a
// direction.
//
// Random returns an error if params are inconsistent (a name empty or
// repeated, Values that do not fill Shape, a FilterAxis or FilterView that
// does not fit) or opts holds an unknown value; opts.Orthogonalize is
// ignored (see RandomPair).
func Random(params []Param, rng *rand.Rand, opts Options) (*Direction, error) {
	if err := check(params); err != nil {
		return nil, err
	}
	o, err := opts.resolved()
	if err != nil {
		return nil, err
	}
	return random(params, rng, o), nil
}

// random is Random with checked arguments.
func random(params []Param, rng *rand.Rand, o Options) *Direction {
	d := newDirection(len(params))
	randomEach(params, rng, o, &drawBuffers{}, func(name string, shape []int64, v []float32) error {
		d.add(name, shape, slices.Clone(v))
		return nil
	})
	return d
}

// RandomEach makes the direction Random makes, one tensor at a time: emit
// gets each tensor's values as soon as they are made, in the order of the
// direction's Names, in a buffer that is reused for the next tensor (emit
// must copy what it keeps), so that directions of hundreds of millions of
// values can be written out without being held, or left to the garbage
// collector.
// An error from emit stops it and is returned; other errors are Random's.
func RandomEach(params []Param, rng *rand.Rand, opts Options, emit func(name string, shape []int64, v []float32) error) error {
	if err := check(params); err != nil {
		return err
	}
	o, err := opts.resolved()
	if err != nil {
		return err
	}
	return randomEach(params, rng, o, &drawBuffers{}, emit)
}

// drawBuffers are randomEach's buffers, which a caller making several
// directions hands to each in turn.
type drawBuffers struct {
	w []float64
	v []float32
}

// randomEach is RandomEach with checked arguments: the rule of Normalize
// (see arrange) applied to each tensor as it is drawn.
func randomEach(params []Param, rng *rand.Rand, o Options, buf *drawBuffers, emit func(name string, shape []int64, v []float32) error) error {
	w, v := buf.w, buf.v
	defer func() { buf.w, buf.v = w, v }()
	for i := range params {
		p := &params[i]
		n := len(p.Values)
		if cap(v) < n {
			v = make([]float32, n)
		}
		v = v[:n]
		switch {
		case o.Draws(p.Kind):
			// The draw is normalised in float64 and rounded once.
			if cap(w) < n {
				w = make([]float64, n)
			}
			w = w[:n]
			for j := range w {
				w[j] = rng.NormFloat64()
			}
			normalizeWeight(w, p, o.Norm)
			for j, x := range w {
				v[j] = float32(x)
			}
		case o.Ignore == IgnoreNone && p.Kind != Embedding && o.DirType.moves(p.Kind):
			copy(v, p.Values)
		default:
			continue
		}
		if err := emit(p.Name, slices.Clone(p.Shape), v); err != nil {
			return err
		}
	}
	return nil
}

// toFloat32 returns v rounded to float32 (to nearest, ties to even).
func toFloat32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// RandomPair returns two random directions, x drawn before y from the same
// rng, as Random makes them. If opts.Orthogonalize is set, y is then made
// orthogonal to x by Orthogonalize; y's filters then no longer have
// exactly the norms of the model's filters.
func RandomPair(params []Param, rng *rand.Rand, opts Options) (x, y *Direction, err error) {
	if err := check(params); err != nil {
		return nil, nil, err
	}
	o, err := opts.resolved()
	if err != nil {
		return nil, nil, err
	}
	x = random(params, rng, o)
	y = random(params, rng, o)
	if o.Orthogonalize {
		Orthogonalize(y, x)
	}
	return x, y, nil
}

// Normalize normalises d in place for the model that params describe, as
// opts says (opts.Orthogonalize is ignored):
//
//   - Each tensor d holds that opts.Draws selects (a Weight, or an
//     Embedding with opts.Embeddings) is scaled as opts.Norm says (see the
//     package documentation); one d does not hold stays out.
//   - With Ignore biasbn, every other tensor is removed from d. With Ignore
//     none, each Trainable tensor, and each State tensor if DirType is
//     states, gets d = th, whether or not d held it before (reusing its
//     slice if it did); State tensors are removed with DirType weights.
//     Embedding tensors that opts does not include are removed either way.
//   - Names is put in params order.
//
// Normalize panics if params are inconsistent (see Random), opts holds an
// unknown value, or d holds a tensor params do not describe or one with
// the wrong number of values: these are programming errors.
func Normalize(d *Direction, params []Param, opts Options) {
	if err := check(params); err != nil {
		panic(err.Error())
	}
	o, err := opts.resolved()
	if err != nil {
		panic(err.Error())
	}
	arrange(d, params, o)
}

// arrange is Normalize with checked arguments.
func arrange(d *Direction, params []Param, o Options) {
	if d.Values == nil {
		d.Values = make(map[string][]float32)
	}
	if d.Shapes == nil {
		d.Shapes = make(map[string][]int64)
	}
	known := 0
	for i := range params {
		if _, ok := d.Values[params[i].Name]; ok {
			known++
		}
	}
	if known != len(d.Values) {
		for n := range d.Values {
			if !slices.ContainsFunc(params, func(p Param) bool { return p.Name == n }) {
				panic(fmt.Sprintf("normalize: direction moves tensor %q, which the model does not have", n))
			}
		}
	}
	names := make([]string, 0, len(params))
	for i := range params {
		p := &params[i]
		v, ok := d.Values[p.Name]
		if ok && len(v) != len(p.Values) {
			panic(fmt.Sprintf("normalize: tensor %q: direction has %d values, the model %d", p.Name, len(v), len(p.Values)))
		}
		switch {
		case o.Draws(p.Kind):
			if !ok {
				continue
			}
			w := make([]float64, len(v))
			for j, x := range v {
				w[j] = float64(x)
			}
			normalizeWeight(w, p, o.Norm)
			for j, x := range w {
				v[j] = float32(x)
			}
		case o.Ignore == IgnoreNone && p.Kind != Embedding && o.DirType.moves(p.Kind):
			if !ok {
				v = make([]float32, len(p.Values))
				d.Values[p.Name] = v
			}
			copy(v, p.Values)
		default:
			delete(d.Values, p.Name)
			delete(d.Shapes, p.Name)
			continue
		}
		names = append(names, p.Name)
		d.Shapes[p.Name] = slices.Clone(p.Shape)
	}
	d.Names = names
}

// normalizeWeight scales v, the direction of the Weight tensor p, as norm
// says.
func normalizeWeight(v []float64, p *Param, norm Norm) {
	switch norm {
	case NormFilter:
		view := p.Shape
		if p.FilterView != nil {
			view = p.FilterView
		}
		filterNormalize(v, p.Values, view, p.FilterAxis)
	case NormLayer:
		scale(v, math.Sqrt(sumSq(p.Values))/(math.Sqrt(sumSq(v))+eps))
	case NormWeight:
		for i, t := range p.Values {
			v[i] *= float64(t)
		}
	case NormNone:
	}
}

// filterNormalize scales each filter of d, the slice along axis of the
// row-major array of shape view, to the norm of the same filter of th.
// Axis -1 makes the whole array one filter.
func filterNormalize(d []float64, th []float32, view []int64, axis int) {
	if axis < 0 {
		scale(d, math.Sqrt(sumSq(th))/(math.Sqrt(sumSq(d))+eps))
		return
	}
	outer, m, inner := 1, int(view[axis]), 1
	for _, n := range view[:axis] {
		outer *= int(n)
	}
	for _, n := range view[axis+1:] {
		inner *= int(n)
	}
	if len(d) == 0 {
		return
	}
	dn := make([]float64, m)
	tn := make([]float64, m)
	i := 0
	for range outer {
		for j := range m {
			dn[j] += sumSq(d[i : i+inner])
			tn[j] += sumSq(th[i : i+inner])
			i += inner
		}
	}
	for j := range dn {
		dn[j] = math.Sqrt(tn[j]) / (math.Sqrt(dn[j]) + eps)
	}
	i = 0
	for range outer {
		for j := range m {
			scale(d[i:i+inner], dn[j])
			i += inner
		}
	}
}

func sumSq[T float32 | float64](v []T) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return s
}

func scale(v []float64, c float64) {
	for i := range v {
		v[i] *= c
	}
}

// Orthogonalize makes y orthogonal to x in place, y <- y - (y.x / x.x) x
// over all tensors, then rescales y to the norm it had before. A tensor
// that x moves and y does not is added to y. If x is zero, y is left
// unchanged; if y was parallel to x, it becomes zero. It panics if a
// tensor both hold has different lengths in each.
func Orthogonalize(y, x *Direction) {
	xx := Dot(x, x)
	if xx == 0 {
		return
	}
	before := y.Norm()
	c := Dot(y, x) / xx
	if y.Values == nil {
		y.Values = make(map[string][]float32)
	}
	if y.Shapes == nil {
		y.Shapes = make(map[string][]int64)
	}
	for _, n := range x.Names {
		if _, ok := y.Values[n]; !ok {
			y.add(n, x.Shapes[n], make([]float32, len(x.Values[n])))
		}
	}
	// y - c x is formed twice in float64, once for its norm and once to be
	// stored rescaled, so that each value is rounded to float32 once.
	moved := func(n string, i int, v float32) float64 {
		if xv, ok := x.Values[n]; ok {
			return float64(v) - c*float64(xv[i])
		}
		return float64(v)
	}
	var after float64
	for _, n := range y.Names {
		for i, v := range y.Values[n] {
			m := moved(n, i, v)
			after += m * m
		}
	}
	ratio := 1.0
	if after > 0 {
		ratio = before / math.Sqrt(after)
	}
	for _, n := range y.Names {
		yv := y.Values[n]
		for i, v := range yv {
			m := moved(n, i, v)
			if after > 0 {
				m *= ratio
			}
			yv[i] = float32(m)
		}
	}
}

// Difference returns the direction from one model to another, to - from,
// without normalisation, over the tensors dirType selects: Weight and
// Trainable tensors for weights ("" means weights), tensors of every kind
// for states, by their Kind in from. Its Names are in the order of from.
//
// The models must have the same tensors with the same shapes; if not, the
// error is a *MismatchError that names the tensors that only one of them
// has and those whose shapes differ. Difference also returns an error if
// either params slice is inconsistent (see Random) or dirType is unknown.
func Difference(from, to []Param, dirType DirType) (*Direction, error) {
	t, err := resolveDirType(dirType)
	if err != nil {
		return nil, err
	}
	if err := check(from); err != nil {
		return nil, fmt.Errorf("normalize: from: %w", err)
	}
	if err := check(to); err != nil {
		return nil, fmt.Errorf("normalize: to: %w", err)
	}
	byName := make(map[string]*Param, len(to))
	for i := range to {
		byName[to[i].Name] = &to[i]
	}
	me := &MismatchError{Op: "difference", A: "from", B: "to"}
	inFrom := make(map[string]bool, len(from))
	for i := range from {
		p := &from[i]
		inFrom[p.Name] = true
		q, ok := byName[p.Name]
		switch {
		case !ok:
			me.OnlyA = append(me.OnlyA, p.Name)
		case !slices.Equal(p.Shape, q.Shape):
			me.Shapes = append(me.Shapes, ShapeMismatch{Name: p.Name, A: p.Shape, B: q.Shape})
		}
	}
	for i := range to {
		if !inFrom[to[i].Name] {
			me.OnlyB = append(me.OnlyB, to[i].Name)
		}
	}
	if me.any() {
		return nil, me
	}
	d := newDirection(len(from))
	for i := range from {
		p := &from[i]
		if !t.moves(p.Kind) {
			continue
		}
		q := byName[p.Name]
		v := make([]float32, len(p.Values))
		for j, a := range p.Values {
			v[j] = float32(float64(q.Values[j]) - float64(a))
		}
		d.add(p.Name, p.Shape, v)
	}
	return d, nil
}

// Point sets dst to the point th + a x + b y of the model that params
// describe, for every tensor that x or y moves, and returns dst; tensors
// that neither moves are not set (the caller takes them from the model).
// y may be nil. If dst is nil a new map is allocated; a slice that dst
// already holds for a tensor is reused if it is long enough, so that
// calling Point again with the same dst allocates nothing.
//
// Point panics if x or y moves a tensor params do not describe or holds the
// wrong number of values for one: these are programming errors.
func Point(dst map[string][]float64, params []Param, x, y *Direction, a, b float64) map[string][]float64 {
	if dst == nil {
		dst = make(map[string][]float64, len(x.Values))
	}
	nx, ny := 0, 0
	for i := range params {
		p := &params[i]
		xv, okx := x.Values[p.Name]
		var yv []float32
		oky := false
		if y != nil {
			yv, oky = y.Values[p.Name]
		}
		if !okx && !oky {
			continue
		}
		n := len(p.Values)
		if okx && len(xv) != n || oky && len(yv) != n {
			panic(fmt.Sprintf("normalize: tensor %q: direction length differs from the model's %d values", p.Name, n))
		}
		out := dst[p.Name]
		if cap(out) < n {
			out = make([]float64, n)
		}
		out = out[:n]
		switch {
		case okx && oky:
			nx++
			ny++
			for j, t := range p.Values {
				out[j] = float64(t) + a*float64(xv[j]) + b*float64(yv[j])
			}
		case okx:
			nx++
			for j, t := range p.Values {
				out[j] = float64(t) + a*float64(xv[j])
			}
		default:
			ny++
			for j, t := range p.Values {
				out[j] = float64(t) + b*float64(yv[j])
			}
		}
		dst[p.Name] = out
	}
	if nx != len(x.Values) || y != nil && ny != len(y.Values) {
		panic("normalize: a direction moves a tensor that the model does not have")
	}
	return dst
}
