package dataset

import (
	"cmp"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"

	"github.com/lsweep/lsweep/internal/errkind"
	"github.com/lsweep/lsweep/npz"
)

// Options says which entries to read and how many samples to keep.
// The zero value reads "x" and "y" (or "labels") and keeps every sample.
type Options struct {
	// XKey names the entry holding the inputs of a one-input model; ""
	// means the entry named like the model's input if there is one, else
	// "x". It cannot be used with several inputs (InputKeys can).
	XKey string
	// YKey names the entry holding the labels or targets; "" means "y",
	// or "labels" when there is no "y".
	YKey string
	// Inputs names the model's inputs, in the model's order; each is fed
	// from the entry of the same name unless InputKeys says otherwise.
	// Empty means one input, read from XKey (or "x").
	Inputs []string
	// InputKeys maps a model input to the entry that feeds it.
	InputKeys map[string]string
	// Samples, if greater than 0 and less than the number of samples n,
	// keeps the Samples samples at indices i*n/Samples (rounded down) for i
	// in [0, Samples): evenly spaced over the file, starting at sample 0, so
	// that a file sorted by class still gives every class that fills at
	// least n/Samples consecutive samples. The subset depends only on n and
	// Samples. Samples 0 or >= n keeps all samples; a negative Samples is an
	// error.
	Samples int
	// MaxBytes caps the memory the inputs and targets may take once read
	// (8 bytes a value), checked from the sizes the files declare before any
	// data is read or inflated: 0 means DefaultMaxBytes, a negative value no
	// cap.
	MaxBytes int64
}

// DefaultMaxBytes is the default Options.MaxBytes: 8 GiB, a billion values.
const DefaultMaxBytes = 8 << 30

// Dataset holds evaluation inputs and labels or targets Y, converted to
// float64 in C (row-major) order. X and its fields are the first input;
// Inputs holds every input, X's among them. Sample i of X is
// X[i*SampleLen() : (i+1)*SampleLen()] and its label or target is row i of Y.
type Dataset struct {
	Path       string // file or folder it was read from
	XKey, YKey string // entries read

	XShape []int     // [n, ...] after any conversion to C order and subsetting
	XDType string    // NumPy dtype name as stored: "float32", "float16", "uint8", "int64", "bool", ...
	X      []float64 // input values converted without scaling

	// Inputs holds one entry per model input (Options.Inputs), X's first.
	Inputs []Input

	YShape     []int     // [n] or [n, ...]
	YDType     string    // NumPy dtype name as stored
	Y          []float64 // labels or regression targets
	YIsInteger bool      // YDType is an integer type or bool

	// Index holds the index in the file of each kept sample when
	// Options.Samples selected a subset; it is nil when all are kept.
	Index []int

	xName, yName string // how messages name the entries
}

// Input is the data of one model input.
type Input struct {
	Name  string    // the model input ("" for a one-input dataset loaded without Options.Inputs)
	Key   string    // the entry read
	Shape []int     // [n, ...]
	DType string    // NumPy dtype name as stored
	Data  []float64 // values converted without scaling (integers exact up to 2^53)
	name  string    // how messages name the entry
}

// Entry names the entry in messages: entry "key" or file "key.npy".
func (in *Input) Entry() string { return in.name }

// SampleLen returns the number of values in one sample.
func (in *Input) SampleLen() int {
	m := 1
	for _, v := range in.Shape[1:] {
		m *= v
	}
	return m
}

// IsInteger reports whether the entry holds integers or bools.
func (in *Input) IsInteger() bool { return !strings.HasPrefix(in.DType, "float") }

// Load reads inputs and labels from path, which is either an .npz archive
// (as np.savez and np.savez_compressed write, entries named with or
// without ".npy") or a folder holding <entry>.npy files.
//
// Arrays may hold bool, signed or unsigned integers of any width, or
// float16, float32 or float64 values, in either byte order and in C or
// Fortran order; values are converted to float64 without scaling (integers
// beyond 2^53 lose precision). Every input and Y must have the same number of
// samples along their first axis, and at least one.
func Load(path string, opts Options) (*Dataset, error) {
	if opts.Samples < 0 {
		return nil, fmt.Errorf("dataset: %s: %d samples requested, want 0 (all) or more", path, opts.Samples)
	}
	src, err := openSource(path)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	keys, err := inputKeys(path, src, opts)
	if err != nil {
		return nil, err
	}
	yk := opts.YKey
	if yk == "" {
		yk = "y"
		if !src.has("y") && src.has("labels") {
			yk = "labels"
		}
	}
	for i, k := range keys {
		if !src.has(k) {
			err := src.missing(k)
			if len(opts.Inputs) > 0 {
				err = fmt.Errorf("%w (model input %q)", err, opts.Inputs[i])
			}
			return nil, err
		}
	}
	if !src.has(yk) {
		return nil, src.missing(yk)
	}
	d := &Dataset{Path: path, XKey: keys[0], YKey: yk, yName: src.name(yk)}
	// Shapes from the headers first: a mismatch or an oversized entry is
	// reported before anything is inflated or allocated.
	ys, err := src.info(yk)
	if err != nil {
		return nil, err
	}
	values := count(ys)
	var what []string
	for _, k := range keys {
		xs, err := src.info(k)
		if err != nil {
			return nil, err
		}
		if len(xs) > 0 && len(ys) > 0 && xs[0] != ys[0] {
			return nil, errkind.Errorf(ErrShape, "dataset: %s: %s has %d samples but %s has %d (shapes %v and %v)",
				path, src.name(k), xs[0], d.yName, ys[0], xs, ys)
		}
		if c := count(xs); c < 0 || values < 0 {
			values = -1
		} else {
			values += c
		}
		what = append(what, fmt.Sprintf("%s %v", src.name(k), xs))
	}
	limit := opts.MaxBytes
	if limit == 0 {
		limit = DefaultMaxBytes
	}
	if limit > 0 && (values < 0 || values > limit/8) {
		return nil, errkind.Errorf(ErrTooLarge, "dataset: %s: %s and %s %v hold %d values, %d bytes once read, more than the cap of %d bytes (raise it with --max-data-bytes)",
			path, strings.Join(what, ", "), d.yName, ys, values, 8*values, limit)
	}
	var xas []*npz.Array
	for _, k := range keys {
		a, err := src.read(k)
		if err != nil {
			return nil, err
		}
		xas = append(xas, a)
	}
	ya, err := src.read(yk)
	if err != nil {
		return nil, err
	}
	for i, a := range append(xas[:len(xas):len(xas)], ya) {
		name := d.yName
		if i < len(keys) {
			name = src.name(keys[i])
		}
		if len(a.Shape) == 0 {
			return nil, errkind.Errorf(ErrShape, "dataset: %s: %s is a 0-d array (a single value); want samples along the first axis", path, name)
		}
	}
	n := xas[0].Shape[0]
	if n == 0 {
		return nil, errkind.Errorf(ErrEmpty, "dataset: %s: %s has no samples (shape %v)", path, src.name(keys[0]), xas[0].Shape)
	}
	for i, a := range xas {
		if a.Shape[0] != n {
			return nil, errkind.Errorf(ErrShape, "dataset: %s: %s has %d samples but %s has %d (shapes %v and %v)",
				path, src.name(keys[0]), n, src.name(keys[i]), a.Shape[0], xas[0].Shape, a.Shape)
		}
	}
	if ya.Shape[0] != n {
		return nil, errkind.Errorf(ErrShape, "dataset: %s: %s has %d samples but %s has %d (shapes %v and %v)",
			path, src.name(keys[0]), n, d.yName, ya.Shape[0], xas[0].Shape, ya.Shape)
	}
	if s := opts.Samples; s > 0 && s < n {
		d.Index = make([]int, s)
		for i := range d.Index {
			hi, lo := bits.Mul64(uint64(i), uint64(n))
			q, _ := bits.Div64(hi, lo, uint64(s)) // i < s, so no overflow
			d.Index[i] = int(q)
		}
	}
	for i, a := range xas {
		in := Input{Key: keys[i], Shape: a.Shape, DType: a.DType, Data: rows(a, d.Index), name: src.name(keys[i])}
		if len(opts.Inputs) > 0 {
			in.Name = opts.Inputs[i]
		}
		if d.Index != nil {
			in.Shape[0] = len(d.Index)
		}
		d.Inputs = append(d.Inputs, in)
	}
	d.X, d.XShape, d.XDType, d.xName = d.Inputs[0].Data, d.Inputs[0].Shape, d.Inputs[0].DType, d.Inputs[0].name
	d.YDType = ya.DType
	d.YIsInteger = !strings.HasPrefix(ya.DType, "float")
	d.Y, d.YShape = rows(ya, d.Index), ya.Shape
	if d.Index != nil {
		d.YShape[0] = len(d.Index)
	}
	return d, nil
}

// inputKeys returns the entry of each model input.
func inputKeys(path string, src source, opts Options) ([]string, error) {
	if len(opts.Inputs) > 1 && opts.XKey != "" {
		return nil, errkind.Errorf(ErrMissingKey, "dataset: %s: the model has %d inputs %v; name their entries with --input NAME=ENTRY, not --x-key", path, len(opts.Inputs), opts.Inputs)
	}
	for name := range opts.InputKeys {
		if !slices.Contains(opts.Inputs, name) {
			return nil, errkind.Errorf(ErrMissingKey, "dataset: %s: --input %s=...: the model has no input %q (its inputs: %v)", path, name, name, opts.Inputs)
		}
	}
	if len(opts.Inputs) <= 1 {
		k := opts.XKey
		if len(opts.Inputs) == 1 {
			if m, ok := opts.InputKeys[opts.Inputs[0]]; ok {
				k = m
			} else if k == "" && src.has(opts.Inputs[0]) {
				k = opts.Inputs[0]
			}
		}
		return []string{cmp.Or(k, "x")}, nil
	}
	keys := make([]string, len(opts.Inputs))
	for i, name := range opts.Inputs {
		keys[i] = cmp.Or(opts.InputKeys[name], name)
	}
	return keys, nil
}

// Entries returns the entries read, inputs first, then the labels.
func (d *Dataset) Entries() []string {
	var out []string
	for _, in := range d.Inputs {
		out = append(out, in.Key)
	}
	if len(out) == 0 {
		out = append(out, d.XKey)
	}
	return append(out, d.YKey)
}

// Input returns the data of the model input named name, or nil. A dataset
// of one input loaded without Options.Inputs feeds any name.
func (d *Dataset) Input(name string) *Input {
	if len(d.Inputs) == 0 {
		xName, _ := d.names()
		return &Input{Key: d.XKey, Shape: d.XShape, DType: d.XDType, Data: d.X, name: xName}
	}
	for i := range d.Inputs {
		if d.Inputs[i].Name == name || len(d.Inputs) == 1 && d.Inputs[i].Name == "" {
			return &d.Inputs[i]
		}
	}
	return nil
}

// Subset returns the dataset of the samples at the given indices, in that
// order; Index is not carried over.
func (d *Dataset) Subset(idx []int) *Dataset {
	s := &Dataset{Path: d.Path, XKey: d.XKey, YKey: d.YKey, YDType: d.YDType, YIsInteger: d.YIsInteger, xName: d.xName, yName: d.yName}
	pick := func(data []float64, shape []int) ([]float64, []int) {
		a := &npz.Array{Shape: shape, Data: data}
		if idx == nil {
			return slices.Clone(data), slices.Clone(shape)
		}
		return rows(a, idx), append([]int{len(idx)}, shape[1:]...)
	}
	for _, in := range d.Inputs {
		c := in
		c.Data, c.Shape = pick(in.Data, in.Shape)
		s.Inputs = append(s.Inputs, c)
	}
	if len(s.Inputs) == 0 {
		c := *d.Input("")
		c.Data, c.Shape = pick(d.X, d.XShape)
		s.Inputs = []Input{c}
	}
	s.X, s.XShape, s.XDType = s.Inputs[0].Data, s.Inputs[0].Shape, s.Inputs[0].DType
	s.Y, s.YShape = pick(d.Y, d.YShape)
	return s
}

// count returns the number of values of shape, or -1 if it overflows.
func count(shape []int) int64 {
	n := int64(1)
	for _, d := range shape {
		if d != 0 && n > math.MaxInt64/8/int64(d) {
			return -1
		}
		n *= int64(d)
	}
	return n
}

// rows returns the samples of a at the given indices of its first axis,
// or all of a.Data if idx is nil.
func rows(a *npz.Array, idx []int) []float64 {
	if idx == nil {
		return a.Data
	}
	m := 1
	for _, d := range a.Shape[1:] {
		m *= d
	}
	out := make([]float64, len(idx)*m)
	for k, r := range idx {
		copy(out[k*m:(k+1)*m], a.Data[r*m:(r+1)*m])
	}
	return out
}

// N returns the number of samples.
func (d *Dataset) N() int {
	if len(d.XShape) == 0 {
		return 0
	}
	return d.XShape[0]
}

// SampleShape returns the shape of one sample, XShape[1:], in a new slice.
func (d *Dataset) SampleShape() []int {
	if len(d.XShape) == 0 {
		return nil
	}
	return append([]int{}, d.XShape[1:]...)
}

// SampleLen returns the number of values in one sample, the product of
// SampleShape.
func (d *Dataset) SampleLen() int {
	m := 1
	for _, v := range d.SampleShape() {
		m *= v
	}
	return m
}

// CountNaN returns how many input values are NaN or infinite.
func (d *Dataset) CountNaN() int {
	c := 0
	count := func(x []float64) {
		for _, v := range x {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				c++
			}
		}
	}
	if len(d.Inputs) == 0 {
		count(d.X)
	}
	for _, in := range d.Inputs {
		count(in.Data)
	}
	return c
}

func (d *Dataset) names() (x, y string) {
	x, y = d.xName, d.yName
	if x == "" {
		x = fmt.Sprintf("entry %q", d.XKey)
	}
	if y == "" {
		y = fmt.Sprintf("entry %q", d.YKey)
	}
	return x, y
}

// CheckInput checks the sample shape against modelShape, the shape of the
// model input named inputName. The first model dimension is the batch
// dimension and is not checked; the others are fixed if > 0 and dynamic
// (matching any size) if <= 0. The error, matching ErrShape, names the
// file, the entry and the expected shape (dynamic dimensions shown as ?),
// and suggests the NumPy call that fixes the data when a transpose between
// channels-last (NHWC) and channels-first (NCHW) layouts, or a reshape,
// would make the shapes agree.
func (d *Dataset) CheckInput(inputName string, modelShape []int64) error {
	in := d.Input(inputName)
	if in == nil {
		return errkind.Errorf(ErrMissingKey, "dataset: %s: no entry feeds model input %q", d.Path, inputName)
	}
	if len(modelShape) == 0 {
		return errkind.Errorf(ErrShape, "dataset: %s: model input %q has shape [] with no batch dimension", d.Path, inputName)
	}
	sample := in.Shape[1:]
	want := modelShape[1:]
	if fits(sample, want) {
		return nil
	}
	msg := fmt.Sprintf("dataset: %s: %s has samples of shape %v, model input %q expects %s",
		d.Path, in.name, sample, inputName, dimString(want))
	if hint := layoutHint(sample, want, in.Key); hint != "" {
		msg += " (" + hint + ")"
	}
	return errkind.Errorf(ErrShape, "%s", msg)
}

// fits reports whether shape matches want, whose dims <= 0 match anything.
func fits(shape []int, want []int64) bool {
	if len(shape) != len(want) {
		return false
	}
	for i, w := range want {
		if w > 0 && int64(shape[i]) != w {
			return false
		}
	}
	return true
}

func dimString(want []int64) string {
	s := make([]string, len(want))
	for i, w := range want {
		if w > 0 {
			s[i] = strconv.FormatInt(w, 10)
		} else {
			s[i] = "?"
		}
	}
	return "[" + strings.Join(s, " ") + "]"
}

// layoutHint suggests how to turn samples of shape sample into want, or
// returns "".
func layoutHint(sample []int, want []int64, key string) string {
	permuted := func(perm ...int) []int {
		p := make([]int, len(perm))
		for i, j := range perm {
			p[i] = sample[j]
		}
		return p
	}
	if len(sample) == len(want) {
		type layout struct {
			perm []int  // sample axes in the order the model wants
			np   string // the same transpose on the batched array
			what string
		}
		var cands []layout
		switch len(sample) {
		case 3:
			cands = []layout{
				{[]int{2, 0, 1}, "(0, 3, 1, 2)", "the data look NHWC while the model takes NCHW"},
				{[]int{1, 2, 0}, "(0, 2, 3, 1)", "the data look NCHW while the model takes NHWC"},
			}
		case 2:
			cands = []layout{
				{[]int{1, 0}, "(0, 2, 1)", "the two sample axes look swapped (channels-last data, channels-first model or the reverse)"},
			}
		}
		var found []layout
		for _, c := range cands {
			if fits(permuted(c.perm...), want) {
				found = append(found, c)
			}
		}
		if len(found) == 1 {
			return fmt.Sprintf("%s: transpose %s with %s.transpose%s", found[0].what, key, key, found[0].np)
		}
	}
	have, need := 1, int64(1)
	dims := make([]string, len(want))
	for _, v := range sample {
		have *= v
	}
	for i, w := range want {
		if w <= 0 {
			return ""
		}
		need *= w
		dims[i] = strconv.FormatInt(w, 10)
	}
	if int64(have) == need {
		return fmt.Sprintf("the sizes agree: reshape %s with %s.reshape(-1, %s)", key, key, strings.Join(dims, ", "))
	}
	return ""
}

// CheckLabels checks that Y holds class labels for a model with classes
// outputs: Y must have shape [n] or [n, 1] and hold integers (whatever the
// dtype) in [0, classes). The error, matching ErrLabels or ErrShape, names
// the index in the file and the value of the first bad label.
func (d *Dataset) CheckLabels(classes int) error {
	_, yName := d.names()
	if classes < 1 {
		return errkind.Errorf(ErrLabels, "dataset: %s: the model has %d classes, want at least 1", d.Path, classes)
	}
	n := d.N()
	if !(len(d.YShape) == 1 || len(d.YShape) == 2 && d.YShape[1] == 1) {
		hint := ""
		if len(d.YShape) == 2 && d.YShape[1] == classes {
			hint = fmt.Sprintf(" (one-hot labels? store %s.argmax(1))", d.YKey)
		}
		return errkind.Errorf(ErrShape, "dataset: %s: %s has shape %v; class labels need shape [%d] or [%d 1]%s",
			d.Path, yName, d.YShape, n, n, hint)
	}
	for i, v := range d.Y {
		at := i
		if d.Index != nil && i < len(d.Index) {
			at = d.Index[i]
		}
		vs := strconv.FormatFloat(v, 'g', -1, 64)
		if v != math.Trunc(v) || math.IsInf(v, 0) {
			return errkind.Errorf(ErrLabels, "dataset: %s: %s: %s[%d] = %s is not an integer class index", d.Path, yName, d.YKey, at, vs)
		}
		if v < 0 || v >= float64(classes) {
			return errkind.Errorf(ErrLabels, "dataset: %s: %s: %s[%d] = %s is outside [0, %d) for a model with %d classes",
				d.Path, yName, d.YKey, at, vs, classes, classes)
		}
	}
	return nil
}

// BatchFloat32 copies samples [lo, hi) of X, converted to float32, into dst
// and returns dst[:(hi-lo)*SampleLen()]; values beyond float32's range
// become ±Inf. If dst is nil or too short a new slice is allocated. It
// panics if 0 <= lo <= hi <= N() does not hold.
func (d *Dataset) BatchFloat32(dst []float32, lo, hi int) []float32 {
	if lo < 0 || hi < lo || hi > d.N() {
		panic(fmt.Sprintf("dataset: batch [%d, %d) out of range [0, %d)", lo, hi, d.N()))
	}
	m := d.SampleLen()
	src := d.X[lo*m : hi*m]
	if cap(dst) < len(src) {
		dst = make([]float32, len(src))
	}
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = float32(v)
	}
	return dst
}

// CheckTokenLabels checks that Y holds token labels for logits of steps
// positions of vocab classes: shape [n, steps], integers in [0, vocab) or
// equal to ignore. The error, matching ErrLabels or ErrShape, names the
// sample and position in the file and the value of the first bad label.
func (d *Dataset) CheckTokenLabels(steps, vocab int, ignore int64) error {
	_, yName := d.names()
	if len(d.YShape) != 2 || d.YShape[1] != steps {
		return errkind.Errorf(ErrShape, "dataset: %s: %s has shape %v; token labels need shape [%d %d]", d.Path, yName, d.YShape, d.N(), steps)
	}
	for i, v := range d.Y {
		at := i / steps
		if d.Index != nil && at < len(d.Index) {
			at = d.Index[at]
		}
		if v == float64(ignore) {
			continue
		}
		if v != math.Trunc(v) || v < 0 || v >= float64(vocab) {
			return errkind.Errorf(ErrLabels, "dataset: %s: %s: %s[%d, %d] = %s is neither a token in [0, %d) nor the ignore index %d",
				d.Path, yName, d.YKey, at, i%steps, strconv.FormatFloat(v, 'g', -1, 64), vocab, ignore)
		}
	}
	return nil
}
