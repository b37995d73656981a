package normalize

import (
	"fmt"
	"math"
	"strings"
)

// Kind says how a tensor takes part in a direction.
type Kind int

// Kinds of tensors.
const (
	// Weight is a Conv, ConvTranspose, Gemm or MatMul weight: its direction
	// is random, normalised filter-wise (or as Options.Norm says).
	Weight Kind = iota
	// Trainable is any other trained tensor, such as a bias or a BatchNorm
	// scale or shift (the reference implementation's "biasbn" group).
	Trainable
	// State is a running statistic (a BatchNorm mean or variance): it moves
	// only with DirType States.
	State
	// Embedding is a table read a row at a time: token embeddings, a
	// position table, a class token. FilterAxis is its row axis. Random
	// directions leave it out unless Options.Embeddings is set; then it is
	// drawn and normalised as a Weight, one filter per row. Difference
	// moves it as a trained tensor.
	Embedding
)

// String returns "weight", "trainable", "state" or "embedding".
func (k Kind) String() string {
	switch k {
	case Weight:
		return "weight"
	case Trainable:
		return "trainable"
	case State:
		return "state"
	case Embedding:
		return "embedding"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Param describes one tensor of a model.
type Param struct {
	Name  string
	Shape []int64 // dimensions, outermost first; empty for a scalar
	Kind  Kind
	// FilterAxis is, for a Weight, the axis whose slices each produce one
	// output unit: 0 for Conv [M, C, kH, kW] and Gemm with transB = 1, 1 for
	// ConvTranspose [C, M, kH, kW], Gemm with transB = 0 and MatMul weights
	// [in, out]. -1 makes the whole tensor one filter. Other kinds ignore it.
	FilterAxis int
	// FilterView, if not nil, is the shape in which the filters are read: the
	// filters are the slices along FilterAxis of the data read row-major in
	// this shape (a flat weight reshaped before use). Its product must equal
	// that of Shape.
	FilterView []int64
	// Values holds the model's values, row-major (C order), in float32 (the
	// directions are scaled by them; see Direction.Values); its length is
	// the product of Shape.
	Values []float32
}

// Norm is how Normalize scales the random direction of a Weight tensor.
type Norm string

// Normalisations. The zero value "" means NormFilter.
const (
	NormFilter Norm = "filter" // per filter: ||d[j]|| = ||th[j]||
	NormLayer  Norm = "layer"  // per tensor: ||d|| = ||th||
	NormWeight Norm = "weight" // d * th, element by element
	NormNone   Norm = "none"   // the raw N(0, 1) draw
)

// Ignore says which tensors other than weights a direction leaves out.
type Ignore string

// Ignore values. The zero value "" means IgnoreBiasBN.
const (
	// IgnoreBiasBN leaves every tensor that is not a Weight out of the
	// direction, as the paper does.
	IgnoreBiasBN Ignore = "biasbn"
	// IgnoreNone gives Trainable tensors (and State tensors with DirType
	// States) the direction d = th.
	IgnoreNone Ignore = "none"
)

// DirType says which kinds of tensors a direction may move.
type DirType string

// Direction types. The zero value "" means DirWeights.
const (
	// DirWeights moves trained tensors only (Weight and Trainable); running
	// statistics stay at the model's values.
	DirWeights DirType = "weights"
	// DirStates moves every tensor, running statistics included, as
	// interpolation between two models needs.
	DirStates DirType = "states"
)

// Options says how Random and Normalize make a direction. The zero value
// means filter normalisation, Ignore biasbn, DirType weights, no
// orthogonalisation and no embeddings: the paper's setting.
type Options struct {
	Norm    Norm
	Ignore  Ignore
	DirType DirType
	// Orthogonalize makes RandomPair orthogonalise y against x after both
	// are normalised (see the function Orthogonalize). The paper does not.
	Orthogonalize bool
	// Embeddings makes random directions move Embedding tensors as
	// weights, normalised per row; by default they stay still whatever
	// Ignore says, since a token's row moves only the tokens that use it.
	Embeddings bool
}

// Draws reports whether a random direction made with o draws values for
// tensors of kind k (and normalises them as Norm says): Weight always,
// Embedding when o.Embeddings is set. It is the one place that rule lives.
func (o Options) Draws(k Kind) bool { return k == Weight || k == Embedding && o.Embeddings }

// Includes lists the groups of tensors that --include can add to random
// directions.
var Includes = []string{"embeddings"}

// ParseInclude sets in o the groups of tensors that names add to random
// directions: "embeddings". Any other name gives an error that lists them.
func (o *Options) ParseInclude(names []string) error {
	for _, n := range names {
		switch n {
		case "embeddings":
			o.Embeddings = true
		default:
			return fmt.Errorf("normalize: unknown group %q to include: want %s", n, orList(Includes))
		}
	}
	return nil
}

// WithDefaults returns o with its zero fields set to the defaults the
// zero value stands for: NormFilter, IgnoreBiasBN and DirWeights. It is the
// one place these defaults live; flags and manifests take them from here.
func (o Options) WithDefaults() Options {
	if o.Norm == "" {
		o.Norm = NormFilter
	}
	if o.Ignore == "" {
		o.Ignore = IgnoreBiasBN
	}
	if o.DirType == "" {
		o.DirType = DirWeights
	}
	return o
}

var (
	norms    = []Norm{NormFilter, NormLayer, NormWeight, NormNone}
	ignores  = []Ignore{IgnoreBiasBN, IgnoreNone}
	dirTypes = []DirType{DirWeights, DirStates}
)

// ParseNorm returns the Norm named s: "filter", "layer", "weight" or
// "none". Any other string gives an error that lists these.
func ParseNorm(s string) (Norm, error) { return parse("normalisation", s, norms) }

// ParseIgnore returns the Ignore named s: "biasbn" or "none". Any other
// string gives an error that lists these.
func ParseIgnore(s string) (Ignore, error) { return parse("ignore value", s, ignores) }

// ParseDirType returns the DirType named s: "weights" or "states". Any
// other string gives an error that lists these.
func ParseDirType(s string) (DirType, error) { return parse("direction type", s, dirTypes) }

func parse[T ~string](what, s string, valid []T) (T, error) {
	for _, v := range valid {
		if string(v) == s {
			return v, nil
		}
	}
	return "", fmt.Errorf("normalize: unknown %s %q: want %s", what, s, orList(valid))
}

// orList returns "a, b or c".
func orList[T ~string](vs []T) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = string(v)
	}
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// resolved returns o with its zero fields replaced by their defaults, or
// an error if a field holds an unknown value.
func (o Options) resolved() (Options, error) {
	if o.Norm == "" {
		o.Norm = NormFilter
	}
	if o.Ignore == "" {
		o.Ignore = IgnoreBiasBN
	}
	if o.DirType == "" {
		o.DirType = DirWeights
	}
	if _, err := ParseNorm(string(o.Norm)); err != nil {
		return o, err
	}
	if _, err := ParseIgnore(string(o.Ignore)); err != nil {
		return o, err
	}
	if _, err := resolveDirType(o.DirType); err != nil {
		return o, err
	}
	return o, nil
}

// resolveDirType returns t, DirWeights if t is "", or an error.
func resolveDirType(t DirType) (DirType, error) {
	if t == "" {
		return DirWeights, nil
	}
	return ParseDirType(string(t))
}

// moves reports whether a direction of type t moves tensors of kind k at
// all.
func (t DirType) moves(k Kind) bool { return k != State || t == DirStates }

// numel returns the product of shape, or an error if a dimension is
// negative or the product overflows an int.
func numel(shape []int64) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("shape %v has a negative dimension", shape)
		}
		if d != 0 && int64(n) > math.MaxInt/d {
			return 0, fmt.Errorf("shape %v is too large", shape)
		}
		n *= int(d)
	}
	return n, nil
}

// check returns an error if params are not a valid description of a
// model: names empty or repeated, Values that do not fill Shape, an
// unknown Kind, or a Weight whose FilterAxis or FilterView does not fit.
func check(params []Param) error {
	seen := make(map[string]bool, len(params))
	for i := range params {
		if err := checkParam(&params[i], i, seen); err != nil {
			return err
		}
	}
	return nil
}

func checkParam(p *Param, i int, seen map[string]bool) error {
	if p.Name == "" {
		return fmt.Errorf("normalize: tensor %d has no name", i)
	}
	if seen[p.Name] {
		return fmt.Errorf("normalize: tensor %q: name given twice", p.Name)
	}
	seen[p.Name] = true
	n, err := numel(p.Shape)
	if err != nil {
		return fmt.Errorf("normalize: tensor %q: %w", p.Name, err)
	}
	if len(p.Values) != n {
		return fmt.Errorf("normalize: tensor %q: shape %v holds %d values, Values has %d", p.Name, p.Shape, n, len(p.Values))
	}
	switch p.Kind {
	case Weight, Embedding:
	case Trainable, State:
		return nil
	default:
		return fmt.Errorf("normalize: tensor %q: unknown kind %d", p.Name, int(p.Kind))
	}
	view := p.Shape
	if p.FilterView != nil {
		nv, err := numel(p.FilterView)
		if err != nil {
			return fmt.Errorf("normalize: tensor %q: filter view: %w", p.Name, err)
		}
		if nv != n {
			return fmt.Errorf("normalize: tensor %q: filter view %v holds %d values, shape %v holds %d", p.Name, p.FilterView, nv, p.Shape, n)
		}
		view = p.FilterView
	}
	if p.FilterAxis < -1 || p.FilterAxis >= len(view) {
		return fmt.Errorf("normalize: tensor %q: filter axis %d out of range for shape %v (want -1 to %d)", p.Name, p.FilterAxis, view, len(view)-1)
	}
	return nil
}
