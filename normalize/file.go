package normalize

import (
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/lsweep/lsweep/npz"
)

// Save writes x and y to one .npz file at path, atomically (see
// npz.WriteFile): an entry "x/<name>" for each tensor x moves and
// "y/<name>" for each tensor y moves, float32, each shaped like its
// tensor, in Names order. numpy.load(path)["x/conv1.weight"] gives one.
// y may be nil.
//
// Save returns an error, and writes nothing, if a direction lacks the
// shape of a tensor it moves or holds a number of values that does not
// fill it.
func Save(path string, x, y *Direction) error {
	if x == nil {
		return fmt.Errorf("normalize: save %s: no x direction", path)
	}
	n := len(x.Names)
	if y != nil {
		n += len(y.Names)
	}
	entries := make([]npz.Entry, 0, n)
	for _, dd := range []struct {
		prefix string
		d      *Direction
	}{{"x/", x}, {"y/", y}} {
		if dd.d == nil {
			continue
		}
		for _, name := range dd.d.Names {
			v := dd.d.Values[name]
			shape, ok := dd.d.Shapes[name]
			if !ok {
				return fmt.Errorf("normalize: save %s: tensor %q: the direction holds no shape for it", path, dd.prefix+name)
			}
			size, err := numel(shape)
			if err != nil {
				return fmt.Errorf("normalize: save %s: tensor %q: %w", path, dd.prefix+name, err)
			}
			if size != len(v) {
				return fmt.Errorf("normalize: save %s: tensor %q: shape %v holds %d values, the direction has %d", path, dd.prefix+name, shape, size, len(v))
			}
			entries = append(entries, entry(dd.prefix+name, shape, v))
		}
	}
	if err := npz.WriteFile(path, entries); err != nil {
		return fmt.Errorf("normalize: save directions: %w", err)
	}
	return nil
}

// entry is the .npz entry of a direction's tensor.
func entry(key string, shape []int64, v []float32) npz.Entry {
	s := make([]int, len(shape))
	for i, d := range shape {
		s[i] = int(d)
	}
	return npz.Entry{Name: key, Array: &npz.Array{Shape: s, DType: "float32", Float32: v}}
}

// SaveRandom writes to path what Save writes for the random directions
// that Random makes for params with each of rngs (x with the first, y with
// the second if there is one), making and writing them one tensor at a
// time (RandomEach): no direction is ever held whole, which for a model of
// hundreds of millions of weights is the difference between fitting in
// memory and not. opts.Orthogonalize, which needs both whole, is refused;
// other errors are Random's and Save's.
func SaveRandom(path string, params []Param, rngs []*rand.Rand, opts Options) error {
	if opts.Orthogonalize {
		return fmt.Errorf("normalize: save %s: orthogonal directions are made whole (RandomPair), not one tensor at a time", path)
	}
	if len(rngs) == 0 || len(rngs) > 2 {
		return fmt.Errorf("normalize: save %s: %d generators given, want 1 (x) or 2 (x and y)", path, len(rngs))
	}
	if err := check(params); err != nil {
		return err
	}
	o, err := opts.resolved()
	if err != nil {
		return err
	}
	buf := &drawBuffers{}
	err = npz.WriteStream(path, func(add func(npz.Entry) error) error {
		for k, rng := range rngs {
			prefix := []string{"x/", "y/"}[k]
			err := randomEach(params, rng, o, buf, func(name string, shape []int64, v []float32) error {
				return add(entry(prefix+name, shape, v))
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("normalize: save directions: %w", err)
	}
	return nil
}

// Load reads the directions that Save wrote to path and checks them
// against the model that params describe. y is nil if the file holds no
// "y/" entries. The directions' Names are in params order and their values
// are those of the file, rounded to float32 where the file holds float64.
//
// Every entry must be named "x/<name>" or "y/<name>" for a tensor of
// params and have its shape, and each direction must move every Weight
// tensor of params (the directions that Random and Difference make
// always do; one that leaves a weight fixed holds zeros for it). If not,
// the error is a *MismatchError that names the file and the entries that
// only the model or only the file has and those whose shapes differ. Load
// also returns an error, wrapping the npz package's, if the file cannot
// be read, and one if params are inconsistent (see Random).
func Load(path string, params []Param) (x, y *Direction, err error) {
	if err := check(params); err != nil {
		return nil, nil, err
	}
	f, err := npz.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("normalize: load directions: %w", err)
	}
	defer f.Close()
	return load(path, params, f.Keys(), func(key string) ([]float32, []int, error) {
		a, err := f.Read(key)
		if err != nil {
			return nil, nil, err
		}
		return toFloat32(a.Data), a.Shape, nil
	})
}

// Map is Load with the values left in the file: the directions' slices are
// views of a memory map of it (npz.Map; copy-on-write, so writing to them
// changes neither the file nor the other processes that map it), which
// costs the process no memory of its own for models of hundreds of
// millions of weights. Entries the file does not hold as Save writes them
// are read as Load reads them. The directions must not be used after
// closer is closed.
func Map(path string, params []Param) (x, y *Direction, closer io.Closer, err error) {
	if err := check(params); err != nil {
		return nil, nil, nil, err
	}
	m, err := npz.Map(path)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("normalize: load directions: %w", err)
	}
	x, y, err = load(path, params, m.Keys(), m.Float32)
	if err != nil {
		m.Close()
		return nil, nil, nil, err
	}
	return x, y, m, nil
}

// load is Load over the entries keys, each read by read.
func load(path string, params []Param, keys []string, read func(key string) ([]float32, []int, error)) (x, y *Direction, err error) {

	byName := make(map[string]*Param, len(params))
	for i := range params {
		byName[params[i].Name] = &params[i]
	}
	me := &MismatchError{Op: "load " + path, A: "the model", B: "the file"}
	inFile := make(map[string]bool)
	var hasY bool
	for _, k := range keys {
		if inFile[k] {
			continue
		}
		inFile[k] = true
		prefix, name, ok := strings.Cut(k, "/")
		if !ok || prefix != "x" && prefix != "y" || byName[name] == nil {
			me.OnlyB = append(me.OnlyB, k)
		}
		hasY = hasY || prefix == "y"
	}
	for _, prefix := range []string{"x/", "y/"} {
		if prefix == "y/" && !hasY {
			continue
		}
		for i := range params {
			if p := &params[i]; p.Kind == Weight && !inFile[prefix+p.Name] {
				me.OnlyA = append(me.OnlyA, prefix+p.Name)
			}
		}
	}

	x = newDirection(len(params))
	if hasY {
		y = newDirection(len(params))
	}
	for _, dd := range []struct {
		prefix string
		d      *Direction
	}{{"x/", x}, {"y/", y}} {
		if dd.d == nil {
			continue
		}
		for i := range params {
			p := &params[i]
			key := dd.prefix + p.Name
			if !inFile[key] {
				continue
			}
			v, dims, err := read(key)
			if err != nil {
				return nil, nil, fmt.Errorf("normalize: load directions: %w", err)
			}
			shape := make([]int64, len(dims))
			for j, s := range dims {
				shape[j] = int64(s)
			}
			if !slices.Equal(shape, p.Shape) {
				me.Shapes = append(me.Shapes, ShapeMismatch{Name: key, A: p.Shape, B: shape})
				continue
			}
			dd.d.add(p.Name, p.Shape, v)
		}
	}
	if me.any() {
		return nil, nil, me
	}
	return x, y, nil
}
