package normalize_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lsweep/lsweep/normalize"
)

// newRand returns a generator seeded with seed.
func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// param returns a tensor of the given shape and kind whose values are
// drawn from r, scaled per filter so that filters have clearly different
// norms.
func param(name string, shape []int64, kind normalize.Kind, axis int, view []int64, r *rand.Rand) normalize.Param {
	n := 1
	for _, d := range shape {
		n *= int(d)
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64() * (1 + 3*r.Float64()))
	}
	return normalize.Param{Name: name, Shape: shape, Kind: kind, FilterAxis: axis, FilterView: view, Values: v}
}

// rawDraw returns the N(0, 1) values Random draws with seed for params: a
// slice per Weight tensor, in params order.
func rawDraw(seed uint64, params []normalize.Param) map[string][]float64 {
	r := newRand(seed)
	m := make(map[string][]float64)
	for _, p := range params {
		if p.Kind != normalize.Weight {
			continue
		}
		v := make([]float64, len(p.Values))
		for i := range v {
			v[i] = r.NormFloat64()
		}
		m[p.Name] = v
	}
	return m
}

// filters splits the indices of a row-major array of shape view into the
// filters along axis (all of it for axis -1), computing each element's
// multi-index independently of the package.
func filters(view []int64, axis int) [][]int {
	n := 1
	for _, d := range view {
		n *= int(d)
	}
	if axis < 0 {
		all := make([]int, n)
		for i := range all {
			all[i] = i
		}
		return [][]int{all}
	}
	out := make([][]int, view[axis])
	for i := range n {
		rest := i
		var idx int
		for k := len(view) - 1; k >= 0; k-- {
			if k == axis {
				idx = rest % int(view[k])
			}
			rest /= int(view[k])
		}
		out[idx] = append(out[idx], i)
	}
	return out
}

func norm[T float32 | float64](v []T, idx []int) float64 {
	var s float64
	for _, i := range idx {
		s += float64(v[i]) * float64(v[i])
	}
	return math.Sqrt(s)
}

func cosine[T float32 | float64](a []T, b []float64, idx []int) float64 {
	var s float64
	for _, i := range idx {
		s += float64(a[i]) * b[i]
	}
	return s / (norm(a, idx) * norm(b, idx))
}

func toFloat32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

func f64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func relErr(got, want float64) float64 {
	if want == 0 {
		return math.Abs(got)
	}
	return math.Abs(got-want) / math.Abs(want)
}

func TestFilterNorm(t *testing.T) {
	for _, tc := range []struct {
		name  string
		shape []int64
		axis  int
		view  []int64
	}{
		{"Conv [M,C,kh,kw]", []int64{8, 3, 3, 3}, 0, nil},
		{"ConvTranspose [C,M,kh,kw]", []int64{3, 8, 3, 3}, 1, nil},
		{"Gemm transB=1 [N,K]", []int64{10, 16}, 0, nil},
		{"Gemm transB=0 [K,N]", []int64{16, 10}, 1, nil},
		{"MatMul [in,out]", []int64{32, 5}, 1, nil},
		{"MatMul 3-D [b,K,N]", []int64{2, 6, 5}, 2, nil},
		{"whole tensor", []int64{4, 7}, -1, nil},
		{"view [12] as [3,4]", []int64{12}, 1, []int64{3, 4}},
		{"Conv 1x1 [M,C,1,1]", []int64{6, 4, 1, 1}, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRand(1)
			params := []normalize.Param{
				param("bias0", []int64{5}, normalize.Trainable, 0, nil, r),
				param("w", tc.shape, normalize.Weight, tc.axis, tc.view, r),
			}
			const seed = 42
			d, err := normalize.Random(params, newRand(seed), normalize.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(d.Names, []string{"w"}) {
				t.Fatalf("Names = %q, want [w]", d.Names)
			}
			got, th, raw := d.Values["w"], params[1].Values, rawDraw(seed, params)["w"]
			view := tc.shape
			if tc.view != nil {
				view = tc.view
			}
			fs := filters(view, tc.axis)
			wantCount := 1
			if tc.axis >= 0 {
				wantCount = int(view[tc.axis])
			}
			if len(fs) != wantCount {
				t.Fatalf("%d filters, want %d", len(fs), wantCount)
			}
			for j, idx := range fs {
				r := norm(raw, idx)
				want := norm(th, idx) * r / (r + 1e-10) // the reference's formula, epsilon included
				// Directions are stored in float32: within its rounding.
				if e := relErr(norm(got, idx), want); e > 1e-7 {
					t.Errorf("filter %d: norm %.17g, want %.17g (relative error %.3g)", j, norm(got, idx), want, e)
				}
				if e := relErr(norm(got, idx), norm(th, idx)); e > 1e-7 {
					t.Errorf("filter %d: norm %.17g, weight filter's norm %.17g", j, norm(got, idx), norm(th, idx))
				}
				if c := cosine(got, raw, idx); math.Abs(c-1) > 1e-12 {
					t.Errorf("filter %d: cosine with the raw draw = %.17g, want 1", j, c)
				}
			}
		})
	}
}

func TestNorms(t *testing.T) {
	r := newRand(2)
	params := []normalize.Param{
		param("conv", []int64{4, 3, 3, 3}, normalize.Weight, 0, nil, r),
		param("fc", []int64{16, 10}, normalize.Weight, 1, nil, r),
	}
	const seed = 7
	raw := rawDraw(seed, params)
	for _, tc := range []struct {
		norm  normalize.Norm
		check func(t *testing.T, name string, d, th, raw []float64)
	}{
		{"", func(t *testing.T, name string, d, th, raw []float64) {
			// The default is filter: the first filter has its weight's norm.
			idx := filters([]int64{4, 3, 3, 3}, 0)[0]
			if name == "fc" {
				idx = filters([]int64{16, 10}, 1)[0]
			}
			if e := relErr(norm(d, idx), norm(th, idx)); e > 1e-7 {
				t.Errorf("%s: first filter's norm %g, want %g", name, norm(d, idx), norm(th, idx))
			}
		}},
		{normalize.NormLayer, func(t *testing.T, name string, d, th, raw []float64) {
			all := filters([]int64{int64(len(d))}, -1)[0]
			if e := relErr(norm(d, all), norm(th, all)); e > 1e-7 {
				t.Errorf("%s: norm %g, want the tensor's %g", name, norm(d, all), norm(th, all))
			}
			if c := cosine(d, raw, all); math.Abs(c-1) > 1e-12 {
				t.Errorf("%s: cosine with the raw draw %.17g, want 1", name, c)
			}
		}},
		{normalize.NormWeight, func(t *testing.T, name string, d, th, raw []float64) {
			for i := range d {
				if d[i] != float64(float32(raw[i]*th[i])) {
					t.Fatalf("%s[%d] = %g, want %g * %g", name, i, d[i], raw[i], th[i])
				}
			}
		}},
		{normalize.NormNone, func(t *testing.T, name string, d, th, raw []float64) {
			if !slices.Equal(d, f64(toFloat32(raw))) {
				t.Errorf("%s: not the raw draw rounded to float32", name)
			}
		}},
	} {
		t.Run(string(tc.norm), func(t *testing.T) {
			d, err := normalize.Random(params, newRand(seed), normalize.Options{Norm: tc.norm})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range params {
				tc.check(t, p.Name, f64(d.Values[p.Name]), f64(p.Values), raw[p.Name])
			}
		})
	}
}

// bnParams returns a conv, its bias, a BatchNorm's four tensors and an fc
// weight.
func bnParams() []normalize.Param {
	r := newRand(3)
	return []normalize.Param{
		param("conv.w", []int64{4, 2, 3, 3}, normalize.Weight, 0, nil, r),
		param("conv.b", []int64{4}, normalize.Trainable, 0, nil, r),
		param("bn.scale", []int64{4}, normalize.Trainable, 0, nil, r),
		param("bn.shift", []int64{4}, normalize.Trainable, 0, nil, r),
		param("bn.mean", []int64{4}, normalize.State, 0, nil, r),
		param("bn.var", []int64{4}, normalize.State, 0, nil, r),
		param("fc.w", []int64{3, 4}, normalize.Weight, 0, nil, r),
	}
}

func TestIgnoreAndDirType(t *testing.T) {
	params := bnParams()
	const seed = 11
	ref, err := normalize.Random(params, newRand(seed), normalize.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ignore  normalize.Ignore
		dirType normalize.DirType
		want    []string // tensors moved, in order; all but the weights get d = th
	}{
		{"", "", []string{"conv.w", "fc.w"}},
		{normalize.IgnoreBiasBN, normalize.DirWeights, []string{"conv.w", "fc.w"}},
		{normalize.IgnoreBiasBN, normalize.DirStates, []string{"conv.w", "fc.w"}},
		{normalize.IgnoreNone, normalize.DirWeights, []string{"conv.w", "conv.b", "bn.scale", "bn.shift", "fc.w"}},
		{normalize.IgnoreNone, normalize.DirStates, []string{"conv.w", "conv.b", "bn.scale", "bn.shift", "bn.mean", "bn.var", "fc.w"}},
	} {
		t.Run(string(tc.ignore)+","+string(tc.dirType), func(t *testing.T) {
			d, err := normalize.Random(params, newRand(seed), normalize.Options{Ignore: tc.ignore, DirType: tc.dirType})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(d.Names, tc.want) {
				t.Fatalf("Names = %q, want %q", d.Names, tc.want)
			}
			if len(d.Values) != len(tc.want) || len(d.Shapes) != len(tc.want) {
				t.Errorf("%d values and %d shapes for %d tensors", len(d.Values), len(d.Shapes), len(tc.want))
			}
			for _, p := range params {
				v, ok := d.Values[p.Name]
				if !ok {
					continue
				}
				want := p.Values
				if p.Kind == normalize.Weight {
					// Other tensors draw nothing, so the weights' directions do not depend on Ignore.
					want = ref.Values[p.Name]
				}
				if !slices.Equal(v, want) {
					t.Errorf("%s = %v, want %v", p.Name, v, want)
				}
				if !slices.Equal(d.Shapes[p.Name], p.Shape) {
					t.Errorf("%s: shape %v, want %v", p.Name, d.Shapes[p.Name], p.Shape)
				}
			}
		})
	}
}

func TestNormalizeOwnDirection(t *testing.T) {
	params := bnParams()
	d := &normalize.Direction{
		Names:  []string{"fc.w", "bn.mean", "conv.w"},
		Values: map[string][]float32{"fc.w": make([]float32, 12), "bn.mean": make([]float32, 4), "conv.w": make([]float32, 72)},
	}
	for i := range d.Values["conv.w"] {
		d.Values["conv.w"][i] = float32(i%5) - 2
	}
	normalize.Normalize(d, params, normalize.Options{Ignore: normalize.IgnoreNone})
	if want := []string{"conv.w", "conv.b", "bn.scale", "bn.shift", "fc.w"}; !slices.Equal(d.Names, want) {
		t.Errorf("Names = %q, want %q", d.Names, want)
	}
	if _, ok := d.Values["bn.mean"]; ok {
		t.Error("a running statistic stays in a weights direction")
	}
	if !slices.Equal(d.Values["bn.scale"], params[2].Values) {
		t.Error("bn.scale: direction is not the tensor itself")
	}
	for i, v := range d.Values["fc.w"] {
		if v != 0 {
			t.Fatalf("fc.w[%d] = %g: a zero direction must stay zero", i, v)
		}
	}
	idx := filters(params[0].Shape, 0)[1]
	if e := relErr(norm(d.Values["conv.w"], idx), norm(params[0].Values, idx)); e > 1e-7 {
		t.Errorf("conv.w filter 1: relative norm error %g", e)
	}
	defer func() {
		if recover() == nil {
			t.Error("no panic for a tensor the model lacks")
		}
	}()
	normalize.Normalize(&normalize.Direction{Names: []string{"nope"}, Values: map[string][]float32{"nope": {1}}}, params, normalize.Options{})
}

func TestSeeds(t *testing.T) {
	params := bnParams()
	a, _ := normalize.Random(params, newRand(5), normalize.Options{})
	b, _ := normalize.Random(params, newRand(5), normalize.Options{})
	c, _ := normalize.Random(params, newRand(6), normalize.Options{})
	for _, n := range a.Names {
		if !slices.Equal(a.Values[n], b.Values[n]) {
			t.Errorf("%s: same seed, different directions", n)
		}
		if slices.Equal(a.Values[n], c.Values[n]) {
			t.Errorf("%s: different seeds, same direction", n)
		}
	}
}

// TestScaleInvariance checks the paper's key property: scaling one filter
// of the model by c > 0 scales the same filter of the filter-normalised
// direction by c and leaves the others unchanged, so th + a d moves that
// filter in proportion to it.
func TestScaleInvariance(t *testing.T) {
	for _, tc := range []struct {
		name  string
		shape []int64
		axis  int
	}{
		{"Conv", []int64{6, 3, 3, 3}, 0},
		{"ConvTranspose", []int64{3, 6, 2, 2}, 1},
		{"MatMul", []int64{8, 6}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			params := []normalize.Param{param("w", tc.shape, normalize.Weight, tc.axis, nil, newRand(8))}
			scaled := []normalize.Param{params[0]}
			scaled[0].Values = slices.Clone(params[0].Values)
			const c, j = 3.7, 2
			fs := filters(tc.shape, tc.axis)
			for _, i := range fs[j] {
				scaled[0].Values[i] *= c
			}
			d, _ := normalize.Random(params, newRand(9), normalize.Options{})
			ds, _ := normalize.Random(scaled, newRand(9), normalize.Options{})
			for k, idx := range fs {
				for _, i := range idx {
					want := d.Values["w"][i]
					if k == j {
						want *= c
					}
					if e := relErr(float64(ds.Values["w"][i]), float64(want)); e > 1.2e-7 {
						t.Fatalf("filter %d, element %d: %g, want %g", k, i, ds.Values["w"][i], want)
					}
				}
			}
			// Without normalisation, the direction ignores the scale.
			n, _ := normalize.Random(params, newRand(9), normalize.Options{Norm: normalize.NormNone})
			ns, _ := normalize.Random(scaled, newRand(9), normalize.Options{Norm: normalize.NormNone})
			if !slices.Equal(n.Values["w"], ns.Values["w"]) {
				t.Error("unnormalised directions differ")
			}
		})
	}
}

func TestRandomErrors(t *testing.T) {
	ok := param("w", []int64{2, 3}, normalize.Weight, 0, nil, newRand(1))
	with := func(f func(p *normalize.Param)) []normalize.Param {
		p := ok
		p.Values = slices.Clone(ok.Values)
		f(&p)
		return []normalize.Param{p}
	}
	for _, tc := range []struct {
		name   string
		params []normalize.Param
		opts   normalize.Options
		want   string
	}{
		{"values short", with(func(p *normalize.Param) { p.Values = p.Values[:5] }), normalize.Options{}, `tensor "w": shape [2 3] holds 6 values, Values has 5`},
		{"axis", with(func(p *normalize.Param) { p.FilterAxis = 2 }), normalize.Options{}, `filter axis 2 out of range`},
		{"view", with(func(p *normalize.Param) { p.FilterView = []int64{4, 2} }), normalize.Options{}, `filter view [4 2] holds 8 values`},
		{"twice", append(with(func(*normalize.Param) {}), ok), normalize.Options{}, `tensor "w": name given twice`},
		{"no name", with(func(p *normalize.Param) { p.Name = "" }), normalize.Options{}, `tensor 0 has no name`},
		{"kind", with(func(p *normalize.Param) { p.Kind = 7 }), normalize.Options{}, `unknown kind 7`},
		{"norm", []normalize.Param{ok}, normalize.Options{Norm: "filters"}, `unknown normalisation "filters": want filter, layer, weight or none`},
		{"ignore", []normalize.Param{ok}, normalize.Options{Ignore: "bn"}, `unknown ignore value "bn": want biasbn or none`},
		{"dir type", []normalize.Param{ok}, normalize.Options{DirType: "state"}, `unknown direction type "state": want weights or states`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := normalize.Random(tc.params, newRand(1), tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "normalize: ") {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	for _, s := range []string{"filter", "layer", "weight", "none"} {
		if n, err := normalize.ParseNorm(s); err != nil || string(n) != s {
			t.Errorf("ParseNorm(%q) = %q, %v", s, n, err)
		}
	}
	for _, s := range []string{"biasbn", "none"} {
		if n, err := normalize.ParseIgnore(s); err != nil || string(n) != s {
			t.Errorf("ParseIgnore(%q) = %q, %v", s, n, err)
		}
	}
	for _, s := range []string{"weights", "states"} {
		if n, err := normalize.ParseDirType(s); err != nil || string(n) != s {
			t.Errorf("ParseDirType(%q) = %q, %v", s, n, err)
		}
	}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"norm", second(normalize.ParseNorm("Filter")), `normalize: unknown normalisation "Filter": want filter, layer, weight or none`},
		{"ignore", second(normalize.ParseIgnore("")), `normalize: unknown ignore value "": want biasbn or none`},
		{"dir type", second(normalize.ParseDirType("all")), `normalize: unknown direction type "all": want weights or states`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err == nil || tc.err.Error() != tc.want {
				t.Errorf("error %v, want %s", tc.err, tc.want)
			}
		})
	}
}

func second[T any](_ T, err error) error { return err }

func TestDifference(t *testing.T) {
	from := bnParams()
	to := bnParams()
	for i := range to {
		for j := range to[i].Values {
			to[i].Values[j] = 2*to[i].Values[j] + float32(j)
		}
	}
	for _, tc := range []struct {
		dirType normalize.DirType
		want    []string
	}{
		{"", []string{"conv.w", "conv.b", "bn.scale", "bn.shift", "fc.w"}},
		{normalize.DirWeights, []string{"conv.w", "conv.b", "bn.scale", "bn.shift", "fc.w"}},
		{normalize.DirStates, []string{"conv.w", "conv.b", "bn.scale", "bn.shift", "bn.mean", "bn.var", "fc.w"}},
	} {
		t.Run(string(tc.dirType), func(t *testing.T) {
			d, err := normalize.Difference(from, to, tc.dirType)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(d.Names, tc.want) {
				t.Fatalf("Names = %q, want %q", d.Names, tc.want)
			}
			for i, p := range from {
				v, ok := d.Values[p.Name]
				if !ok {
					continue
				}
				for j := range v {
					if want := float32(float64(to[i].Values[j]) - float64(p.Values[j])); v[j] != want {
						t.Fatalf("%s[%d] = %g, want %g", p.Name, j, v[j], want)
					}
				}
			}
		})
	}
}

func TestDifferenceErrors(t *testing.T) {
	base := bnParams()
	many := func() []normalize.Param {
		var ps []normalize.Param
		for i := range 10 {
			ps = append(ps, normalize.Param{Name: string(rune('a' + i)), Shape: []int64{1}, Kind: normalize.Trainable, Values: []float32{1}})
		}
		return ps
	}
	reshaped := bnParams()
	reshaped[6].Shape = []int64{4, 3}
	for _, tc := range []struct {
		name     string
		from, to []normalize.Param
		want     string
		onlyFrom []string
		onlyTo   []string
		shapes   []string
	}{
		{"missing", base, bnParams()[:6], `normalize: difference: from and to differ: in from only: "fc.w"`, []string{"fc.w"}, nil, nil},
		{"extra", base[:6], bnParams(), `normalize: difference: from and to differ: in to only: "fc.w"`, nil, []string{"fc.w"}, nil},
		{"shape", base, reshaped, `normalize: difference: from and to differ: shapes differ: "fc.w" [3 4] in from, [4 3] in to`, nil, nil, []string{"fc.w"}},
		{"many", many(), base, `in from only: "a", "b", "c" and 7 more; in to only: "conv.w", "conv.b", "bn.scale" and 4 more`, []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}, []string{"conv.w", "conv.b", "bn.scale", "bn.shift", "bn.mean", "bn.var", "fc.w"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := normalize.Difference(tc.from, tc.to, normalize.DirStates)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %s", err, tc.want)
			}
			var me *normalize.MismatchError
			if !errors.As(err, &me) {
				t.Fatalf("error %T is not a *MismatchError", err)
			}
			var shapes []string
			for _, s := range me.Shapes {
				shapes = append(shapes, s.Name)
			}
			if !slices.Equal(me.OnlyA, tc.onlyFrom) || !slices.Equal(me.OnlyB, tc.onlyTo) || !slices.Equal(shapes, tc.shapes) {
				t.Errorf("only in from %q, only in to %q, shapes %q", me.OnlyA, me.OnlyB, shapes)
			}
		})
	}
}

// pairFor returns two filter-normalised random directions for params that
// also move the BatchNorm tensors.
func pairFor(t *testing.T, params []normalize.Param) (x, y *normalize.Direction) {
	t.Helper()
	x, y, err := normalize.RandomPair(params, newRand(21), normalize.Options{Ignore: normalize.IgnoreNone, DirType: normalize.DirStates})
	if err != nil {
		t.Fatal(err)
	}
	return x, y
}

func TestSaveLoad(t *testing.T) {
	params := bnParams()
	fresh, _, err := normalize.RandomPair(params, newRand(21), normalize.Options{Ignore: normalize.IgnoreNone, DirType: normalize.DirStates})
	if err != nil {
		t.Fatal(err)
	}
	x, y := pairFor(t, params)
	for _, tc := range []struct {
		name string
		y    *normalize.Direction
	}{{"x and y", y}, {"x only", nil}} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "directions.npz")
			if err := normalize.Save(path, fresh, tc.y); err != nil {
				t.Fatal(err)
			}
			lx, ly, err := normalize.Load(path, params)
			if err != nil {
				t.Fatal(err)
			}
			if (ly == nil) != (tc.y == nil) {
				t.Fatalf("loaded y is %v, saved %v", ly, tc.y)
			}
			for _, pair := range [][2]*normalize.Direction{{x, lx}, {tc.y, ly}} {
				want, got := pair[0], pair[1]
				if want == nil {
					continue
				}
				if !slices.Equal(got.Names, want.Names) {
					t.Fatalf("Names = %q, want %q", got.Names, want.Names)
				}
				for _, n := range want.Names {
					if !slices.Equal(got.Values[n], want.Values[n]) {
						t.Errorf("%s: loaded values differ from the saved ones", n)
					}
					if !slices.Equal(got.Shapes[n], want.Shapes[n]) {
						t.Errorf("%s: shape %v, want %v", n, got.Shapes[n], want.Shapes[n])
					}
				}
			}
			// A resumed run computes exactly the points a fresh one does.
			p1 := normalize.Point(nil, params, x, tc.y, 0.3, -0.7)
			p2 := normalize.Point(nil, params, lx, ly, 0.3, -0.7)
			for n, v := range p1 {
				if !slices.Equal(v, p2[n]) {
					t.Errorf("%s: point from reloaded directions differs", n)
				}
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	params := bnParams()
	x, y := pairFor(t, params)
	dir := t.TempDir()
	path := filepath.Join(dir, "directions.npz")
	if err := normalize.Save(path, x, y); err != nil {
		t.Fatal(err)
	}
	xOnly := filepath.Join(dir, "x.npz")
	if err := normalize.Save(xOnly, x, nil); err != nil {
		t.Fatal(err)
	}

	other := bnParams()
	other[0].Name, other[6].Name = "features.0.weight", "classifier.weight"
	reshaped := bnParams()
	reshaped[6].Shape, reshaped[6].FilterAxis = []int64{4, 3}, 1
	both := bnParams()[1:]
	both[5].Shape = []int64{4, 3}
	moreWeights := append(bnParams(), param("fc2.w", []int64{2, 3}, normalize.Weight, 0, nil, newRand(4)))
	for _, tc := range []struct {
		name   string
		path   string
		params []normalize.Param
		want   []string
	}{
		{"another model", path, other, []string{path, `in the model only: "x/features.0.weight", "x/classifier.weight", "y/features.0.weight" and 1 more`, `in the file only: "x/conv.w", "x/fc.w", "y/conv.w" and 1 more`}},
		{"shape", path, reshaped, []string{path, `shapes differ: "x/fc.w" [4 3] in the model, [3 4] in the file, "y/fc.w" [4 3] in the model, [3 4] in the file`}},
		{"names and shape", path, both, []string{path, `in the file only: "x/conv.w", "y/conv.w"; shapes differ: "x/fc.w" [4 3] in the model, [3 4] in the file`}},
		{"missing weight", xOnly, moreWeights, []string{xOnly, `in the model only: "x/fc2.w"`}},
		{"not there", filepath.Join(dir, "none.npz"), params, []string{"normalize: load directions: npz: ", "none.npz"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := normalize.Load(tc.path, tc.params)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestSaveErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.npz")
	for _, tc := range []struct {
		name string
		x    *normalize.Direction
		want string
	}{
		{"no shape", &normalize.Direction{Names: []string{"w"}, Values: map[string][]float32{"w": {1, 2}}}, `tensor "x/w": the direction holds no shape`},
		{"short", &normalize.Direction{Names: []string{"w"}, Values: map[string][]float32{"w": {1, 2}}, Shapes: map[string][]int64{"w": {3}}}, `shape [3] holds 3 values, the direction has 2`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := normalize.Save(path, tc.x, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
			if _, err := os.Stat(path); err == nil {
				t.Error("a file was written")
			}
		})
	}
}

// TestNumpy checks that numpy reads what Save writes, with the right
// shapes and values.
func TestNumpy(t *testing.T) {
	const python = "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		t.Skip("no", python)
	}
	if err := exec.Command(python, "-c", "import numpy").Run(); err != nil {
		t.Skip("python3 has no numpy")
	}
	params := bnParams()
	x, y := pairFor(t, params)
	path := filepath.Join(t.TempDir(), "directions.npz")
	if err := normalize.Save(path, x, y); err != nil {
		t.Fatal(err)
	}
	script := `
import sys, numpy as np
f = np.load(sys.argv[1])
for k in f.files:
    a = f[k]
    print(k, a.dtype, ",".join(map(str, a.shape)), "%.17g" % a.flat[0], "%.17g" % a.flat[-1])
`
	out, err := exec.Command(python, "-c", script, path).CombinedOutput()
	if err != nil {
		t.Fatalf("numpy: %v\n%s", err, out)
	}
	var want []string
	for _, d := range []struct {
		prefix string
		d      *normalize.Direction
	}{{"x/", x}, {"y/", y}} {
		for _, n := range d.d.Names {
			v := d.d.Values[n]
			var dims []string
			for _, s := range d.d.Shapes[n] {
				dims = append(dims, strconv.FormatInt(s, 10))
			}
			want = append(want, fmt.Sprintf("%s%s float32 %s %.17g %.17g", d.prefix, n, strings.Join(dims, ","), v[0], v[len(v)-1]))
		}
	}
	if got := strings.Split(strings.TrimSpace(string(out)), "\n"); !slices.Equal(got, want) {
		t.Errorf("numpy reads\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestPoint(t *testing.T) {
	params := bnParams()
	x, y := pairFor(t, params)
	xw, err := normalize.Random(params, newRand(1), normalize.Options{}) // weights only
	if err != nil {
		t.Fatal(err)
	}
	const a, b = 0.25, -1.5
	for _, tc := range []struct {
		name string
		x, y *normalize.Direction
	}{
		{"x and y", x, y},
		{"x only", x, nil},
		{"y moves more than x", xw, y},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := normalize.Point(nil, params, tc.x, tc.y, a, b)
			for _, p := range params {
				xv, okx := tc.x.Values[p.Name]
				var yv []float32
				oky := false
				if tc.y != nil {
					yv, oky = tc.y.Values[p.Name]
				}
				v, ok := got[p.Name]
				if ok != (okx || oky) {
					t.Fatalf("%s: set %v, moved by x %v, by y %v", p.Name, ok, okx, oky)
				}
				for i := range v {
					want := float64(p.Values[i])
					if okx {
						want += a * float64(xv[i])
					}
					if oky {
						want += b * float64(yv[i])
					}
					if math.Abs(v[i]-want) > 1e-15*(1+math.Abs(want)) {
						t.Fatalf("%s[%d] = %g, want %g", p.Name, i, v[i], want)
					}
				}
			}
			dst := normalize.Point(nil, params, tc.x, tc.y, 0, 0)
			if allocs := testing.AllocsPerRun(10, func() { normalize.Point(dst, params, tc.x, tc.y, a, b) }); allocs != 0 {
				t.Errorf("%g allocations when reusing dst", allocs)
			}
		})
	}
}

func TestOrthogonalize(t *testing.T) {
	params := bnParams()
	for _, tc := range []struct {
		name string
		opts normalize.Options
	}{
		{"filter", normalize.Options{}},
		{"none, states", normalize.Options{Norm: normalize.NormNone, Ignore: normalize.IgnoreNone, DirType: normalize.DirStates}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x, y, err := normalize.RandomPair(params, newRand(3), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			before := y.Norm()
			if c := normalize.Dot(x, y) / (x.Norm() * before); math.Abs(c) < 1e-3 {
				t.Fatalf("cosine %g before: the test needs directions that are not orthogonal", c)
			}
			normalize.Orthogonalize(y, x)
			// Within float32's rounding of the stored values.
			if c := normalize.Dot(x, y) / (x.Norm() * y.Norm()); math.Abs(c) > 1e-6 {
				t.Errorf("cosine %g after", c)
			}
			if e := relErr(y.Norm(), before); e > 1e-7 {
				t.Errorf("norm %g, was %g", y.Norm(), before)
			}
			opts := tc.opts
			opts.Orthogonalize = true
			x2, y2, _ := normalize.RandomPair(params, newRand(3), opts)
			for _, n := range y.Names {
				if !slices.Equal(y.Values[n], y2.Values[n]) || !slices.Equal(x.Values[n], x2.Values[n]) {
					t.Errorf("%s: Options.Orthogonalize differs from Orthogonalize", n)
				}
			}
		})
	}
}

// resnet20 returns tensors shaped like those of a CIFAR ResNet-20: 19
// convolutions and a linear layer (20 weight tensors, 270k weights), with
// BatchNorm after each convolution and a bias on the linear layer.
func resnet20() []normalize.Param {
	r := newRand(20)
	var ps []normalize.Param
	add := func(name string, shape []int64, kind normalize.Kind) {
		ps = append(ps, param(name, shape, kind, 0, nil, r))
	}
	conv := func(name string, out, in int64) {
		add(name+".weight", []int64{out, in, 3, 3}, normalize.Weight)
		add(name+".bn.weight", []int64{out}, normalize.Trainable)
		add(name+".bn.bias", []int64{out}, normalize.Trainable)
		add(name+".bn.running_mean", []int64{out}, normalize.State)
		add(name+".bn.running_var", []int64{out}, normalize.State)
	}
	conv("conv1", 16, 3)
	in := int64(16)
	for s, width := range []int64{16, 32, 64} {
		for b := range 3 {
			name := "layer" + strconv.Itoa(s+1) + "." + strconv.Itoa(b)
			conv(name+".conv1", width, in)
			conv(name+".conv2", width, width)
			in = width
		}
	}
	add("fc.weight", []int64{10, 64}, normalize.Weight)
	add("fc.bias", []int64{10}, normalize.Trainable)
	return ps
}

func BenchmarkRandom(b *testing.B) {
	params := resnet20()
	n := 0
	for _, p := range params {
		n += len(p.Values)
	}
	b.SetBytes(8 * int64(n))
	b.ReportAllocs()
	r := newRand(1)
	for b.Loop() {
		if _, err := normalize.Random(params, r, normalize.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPoint(b *testing.B) {
	params := resnet20()
	x, y, err := normalize.RandomPair(params, newRand(1), normalize.Options{})
	if err != nil {
		b.Fatal(err)
	}
	dst := normalize.Point(nil, params, x, y, 0, 0)
	n := 0
	for _, v := range dst {
		n += len(v)
	}
	b.SetBytes(8 * int64(n))
	b.ReportAllocs()
	for b.Loop() {
		normalize.Point(dst, params, x, y, 0.1, -0.2)
	}
}

// TestMap checks that Map gives the directions Save wrote, as Load does,
// with every value in place in the file's mapping, and refuses what Load
// refuses.
func TestMap(t *testing.T) {
	params := bnParams()
	x, y := pairFor(t, params)
	path := filepath.Join(t.TempDir(), "directions.npz")
	if err := normalize.Save(path, x, y); err != nil {
		t.Fatal(err)
	}
	mx, my, closer, err := normalize.Map(path, params)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	for _, pair := range [][2]*normalize.Direction{{x, mx}, {y, my}} {
		want, got := pair[0], pair[1]
		if !slices.Equal(got.Names, want.Names) {
			t.Fatalf("Names = %q, want %q", got.Names, want.Names)
		}
		for _, n := range want.Names {
			if !slices.Equal(got.Values[n], want.Values[n]) || !slices.Equal(got.Shapes[n], want.Shapes[n]) {
				t.Errorf("%s: mapped values or shape differ from the saved ones", n)
			}
		}
	}
	var me *normalize.MismatchError
	if _, _, _, err := normalize.Map(path, params[:len(params)-1]); !errors.As(err, &me) {
		t.Errorf("a file with a tensor the model lacks: %v, want a MismatchError", err)
	}
}

// TestSaveRandom checks that SaveRandom writes the file Save writes for
// the directions Random makes with the same generators, byte for byte, for
// one and two directions and with Ignore none (tensors that are copies of
// the model's), and refuses orthogonal ones.
func TestSaveRandom(t *testing.T) {
	params := bnParams()
	dir := t.TempDir()
	for _, opts := range []normalize.Options{{}, {Ignore: normalize.IgnoreNone, DirType: normalize.DirStates}} {
		for _, k := range []int{1, 2} {
			var dirs []*normalize.Direction
			var rngs []*rand.Rand
			for j := range k {
				d, err := normalize.Random(params, newRand(uint64(40+j)), opts)
				if err != nil {
					t.Fatal(err)
				}
				dirs = append(dirs, d)
				rngs = append(rngs, newRand(uint64(40+j)))
			}
			dirs = append(dirs, nil)
			want, got := filepath.Join(dir, "want.npz"), filepath.Join(dir, "got.npz")
			if err := normalize.Save(want, dirs[0], dirs[1]); err != nil {
				t.Fatal(err)
			}
			if err := normalize.SaveRandom(got, params, rngs, opts); err != nil {
				t.Fatal(err)
			}
			a, _ := os.ReadFile(want)
			b, _ := os.ReadFile(got)
			if len(a) == 0 || !bytes.Equal(a, b) {
				t.Errorf("%+v, %d directions: SaveRandom's file differs from Save's of Random's directions", opts, k)
			}
		}
	}
	if err := normalize.SaveRandom(filepath.Join(dir, "o.npz"), params, []*rand.Rand{newRand(1), newRand(2)}, normalize.Options{Orthogonalize: true}); err == nil {
		t.Error("no error for orthogonal directions")
	}
}
