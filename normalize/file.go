package normalize

import (
	"fmt"
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
			s := make([]int, len(shape))
			for i, d := range shape {
				s[i] = int(d)
			}
			entries = append(entries, npz.Entry{Name: dd.prefix + name, Array: &npz.Array{Shape: s, DType: "float32", Float32: v}})
		}
	}
	if err := npz.WriteFile(path, entries); err != nil {
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

	byName := make(map[string]*Param, len(params))
	for i := range params {
		byName[params[i].Name] = &params[i]
	}
	me := &MismatchError{Op: "load " + path, A: "the model", B: "the file"}
	inFile := make(map[string]bool)
	keys := f.Keys()
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
			a, err := f.Read(key)
			if err != nil {
				return nil, nil, fmt.Errorf("normalize: load directions: %w", err)
			}
			shape := make([]int64, len(a.Shape))
			for j, s := range a.Shape {
				shape[j] = int64(s)
			}
			if !slices.Equal(shape, p.Shape) {
				me.Shapes = append(me.Shapes, ShapeMismatch{Name: key, A: p.Shape, B: shape})
				continue
			}
			dd.d.add(p.Name, p.Shape, toFloat32(a.Data))
		}
	}
	if me.any() {
		return nil, nil, me
	}
	return x, y, nil
}
