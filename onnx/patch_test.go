package onnx_test

import (
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/x448/float16"

	"github.com/lsweep/lsweep/internal/fixtures"
	"github.com/lsweep/lsweep/onnx"
)

// TestPatcher sets every float tensor of every storage kind (raw_data, typed
// fields, Constant nodes, external data, float16) to new values and reads the
// patched bytes back as a model.
func TestPatcher(t *testing.T) {
	dir := t.TempDir()
	ext, err := fixtures.ExternalData(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tiny := range append(fixtures.All(), ext) {
		t.Run(tiny.Name, func(t *testing.T) {
			m := parse(t, tiny, dir)
			var names []string
			dtypes := map[string]onnx.DataType{}
			for _, p := range m.Params() {
				if p.DType.IsFloat() {
					names = append(names, p.Name)
					dtypes[p.Name] = p.DType
				}
			}
			if len(names) == 0 {
				return
			}
			for _, file := range []bool{false, true} {
				checkPatcher(t, m, tiny, dir, names, dtypes, file)
			}
		})
	}
}

// checkPatcher is TestPatcher for a Patcher of the model bytes or, with
// file, of a file of its own (NewFilePatcher), whose model must read the
// same values from the file's folder and refer to no other external file.
func checkPatcher(t *testing.T, m *onnx.Model, tiny *fixtures.Tiny, dir string, names []string, dtypes map[string]onnx.DataType, file bool) {
	t.Helper()
	var p *onnx.Patcher
	var err error
	if file {
		p, err = m.NewFilePatcher(names, filepath.Join(t.TempDir(), "weights.data"))
	} else {
		p, err = m.NewPatcher(names)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if file {
		dir = p.Dir()
		fresh, err := onnx.Parse(p.Bytes(), "fresh", dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			a, _ := m.Value(name)
			b, err := fresh.Value(name)
			if err != nil || !slices.Equal(a, b) {
				t.Fatalf("%s: the file patcher's model holds %v, the model %v (%v)", name, b, a, err)
			}
		}
	}
	size := len(p.Bytes())
	want := map[string][]float64{}
	for k, name := range names {
		base, err := m.Value(name)
		if err != nil {
			t.Fatal(err)
		}
		v := make([]float64, len(base))
		for i := range v {
			v[i] = float64(k+1) + 0.25*float64(i) - base[i]
		}
		if err := p.Set(name, v); err != nil {
			t.Fatal(err)
		}
		want[name] = v
	}
	if len(p.Bytes()) != size {
		t.Fatalf("patching changed the size from %d to %d bytes", size, len(p.Bytes()))
	}
	back, err := onnx.Parse(p.Bytes(), "patched", dir)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range want {
		got, err := back.Value(name)
		if err != nil {
			t.Fatal(err)
		}
		for i := range v {
			w := float64(float32(v[i]))
			if dtypes[name] == onnx.Float16 {
				w = float64(float16.Fromfloat32(float32(v[i])).Float32())
			}
			if got[i] != w {
				t.Fatalf("%s[%d] = %g, want %g", name, i, got[i], w)
			}
		}
	}
	// The original model is untouched.
	for name := range want {
		a, _ := m.Value(name)
		b := tiny.Values[name].Data
		for i := range b {
			if math.Abs(a[i]-b[i]) > 1e-6*(1+math.Abs(b[i])) {
				t.Fatalf("%s changed in the original model", name)
			}
		}
	}
	if err := p.Set(names[0], []float64{1}); err == nil && len(want[names[0]]) != 1 {
		t.Error("Set accepted the wrong number of values")
	}
	if err := p.Set("no such tensor", nil); err == nil {
		t.Error("Set accepted an unknown name")
	}
}
