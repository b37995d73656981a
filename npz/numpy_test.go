package npz_test

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/lsweep/lsweep/npz"
)

// loadScript prints, as JSON, the keys of the .npz file sys.argv[1] and
// the dtype, shape and C-order values of each array, as numpy.load gives
// them. Values are strings that strconv.ParseFloat reads exactly.
const loadScript = `
z = np.load(sys.argv[1])
arrays = {}
for k in z.files:
    a = z[k]
    conv = (lambda v: repr(float(v))) if a.dtype.kind == "f" else (lambda v: str(int(v)))
    arrays[k] = {"dtype": a.dtype.name, "shape": list(a.shape), "values": [conv(v) for v in a.ravel(order="C").tolist()]}
json.dump({"files": z.files, "arrays": arrays}, sys.stdout)
`

// numpyArrays is what loadScript prints.
type numpyArrays struct {
	Files  []string
	Arrays map[string]struct {
		DType  string
		Shape  []int
		Values []string
	}
}

// numpyLoad loads the .npz file at path with numpy.load.
func numpyLoad(t *testing.T, path string) (keys []string, arrays map[string]*npz.Array) {
	t.Helper()
	var out numpyArrays
	if err := json.Unmarshal(numpy(t, loadScript, path), &out); err != nil {
		t.Fatal(err)
	}
	arrays = make(map[string]*npz.Array)
	for k, a := range out.Arrays {
		v := make([]float64, len(a.Values))
		for i, s := range a.Values {
			var err error
			if v[i], err = strconv.ParseFloat(s, 64); err != nil {
				t.Fatal(err)
			}
		}
		arrays[k] = &npz.Array{Shape: a.Shape, DType: a.DType, Data: v}
	}
	return out.Files, arrays
}

// TestNumpyLoadsWriteFile checks that numpy.load reads what WriteFile
// writes: every dtype, 0-d and empty arrays, names with '/'.
func TestNumpyLoadsWriteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "every.npz")
	es := everyDType()
	for _, e := range fixtureArrays() {
		es = append(es, npz.Entry{Name: "fixture/" + e.Name, Array: e.Array})
	}
	if err := npz.WriteFile(path, es); err != nil {
		t.Fatal(err)
	}
	keys, arrays := numpyLoad(t, path)
	var want []string
	for _, e := range es {
		want = append(want, e.Name)
	}
	if !slices.Equal(keys, want) {
		t.Errorf("numpy.load keys %q, want %q", keys, want)
	}
	checkArrays(t, arrays, es)
}

// TestNumpyRounding checks that WriteFile rounds float64 values to
// float32 and float16, bit for bit, as numpy's astype does.
func TestNumpyRounding(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var d []float64
	for range 20000 {
		// Values over float16's range and beyond, and its subnormals.
		d = append(d, math.Ldexp(r.Float64()-0.5, r.IntN(60)-30))
	}
	for h := range 1 << 15 { // halfway between neighbouring float16 values
		d = append(d, (math.Ldexp(float64(h), -24)+math.Ldexp(float64(h+1), -24))/2)
	}
	d = append(d, 0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(), 65504, 65519.99, 65520, -65520,
		math.MaxFloat64, 5e-324, math.MaxFloat32, math.Nextafter(math.MaxFloat32, math.Inf(1)), 0x1p-149, 0x1p-150, 0x1p-25, 0x1p-26)
	n := []int{len(d)}
	path := filepath.Join(t.TempDir(), "round.npz")
	err := npz.WriteFile(path, []npz.Entry{
		{Name: "d", Array: &npz.Array{Shape: n, DType: "float64", Data: d}},
		{Name: "f", Array: &npz.Array{Shape: n, DType: "float32", Data: d}},
		{Name: "h", Array: &npz.Array{Shape: n, DType: "float16", Data: d}},
	})
	if err != nil {
		t.Fatal(err)
	}
	out := numpy(t, `
import warnings
warnings.simplefilter("ignore")
z = np.load(sys.argv[1])
bad = {}
for k, u in (("f", np.uint32), ("h", np.uint16)):
    want = z["d"].astype(z[k].dtype)
    bad[k] = [int(i) for i in np.nonzero(z[k].view(u) != want.view(u))[0][:10]]
json.dump(bad, sys.stdout)
`, path)
	var bad map[string][]int
	if err := json.Unmarshal(out, &bad); err != nil {
		t.Fatal(err)
	}
	if len(bad) != 2 {
		t.Fatalf("numpy said %s", out)
	}
	for k, idx := range bad {
		for _, i := range idx {
			t.Errorf("%s: %v converted unlike numpy", k, d[i])
		}
	}
}

// TestReadNumpySavez reads what numpy.savez and numpy.savez_compressed
// write: every dtype in both byte orders, C and Fortran order.
func TestReadNumpySavez(t *testing.T) {
	dir := t.TempDir()
	out := numpy(t, `
arrays = {}
for t in ("f2", "f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "b1"):
    for bo in "<>":
        dt = np.dtype(bo + t)
        if dt.kind == "f":
            v = np.array([0.0, -0.0, 1.5, -2.25, np.inf, -np.inf, np.nan, np.finfo(dt).max, np.finfo(dt).tiny, 0.1, 1e-3, 7])
        elif dt.kind == "b":
            v = np.array([1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 1])
        else:
            v = np.array([np.iinfo(dt).min, np.iinfo(dt).max, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9], dtype=object)
        a = v.astype(dt).reshape(2, 3, 2)
        arrays[bo + t + "/c"] = a
        arrays[bo + t + "/fortran"] = np.asfortranarray(a)
        arrays[bo + t + "/0d"] = a[1, 2, 0].reshape(())
np.savez(sys.argv[1], **arrays)
np.savez_compressed(sys.argv[2], **arrays)
`, filepath.Join(dir, "stored.npz"), filepath.Join(dir, "deflated.npz"))
	if len(out) != 0 {
		t.Fatalf("numpy said %s", out)
	}
	for _, name := range []string{"stored.npz", "deflated.npz"} {
		path := filepath.Join(dir, name)
		_, want := numpyLoad(t, path)
		if len(want) != 72 {
			t.Fatalf("numpy wrote %d arrays, want 72", len(want))
		}
		got, err := npz.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var es []npz.Entry
		for k, a := range want {
			es = append(es, npz.Entry{Name: k, Array: a})
		}
		checkArrays(t, got, es)
	}
}
