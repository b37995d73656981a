package onnx_test

import (
	"path/filepath"
	"testing"

	"github.com/lsweep/lsweep/internal/fixtures"
	"github.com/lsweep/lsweep/onnx"
)

// TestMapExternal checks that the float32 tensors of a model with external
// data are read in place with the values Value reads, and that a write to
// a view reaches neither the file nor a second mapping.
func TestMapExternal(t *testing.T) {
	dir := t.TempDir()
	if _, err := fixtures.ExternalData(dir); err != nil {
		t.Fatal(err)
	}
	m, err := onnx.Load(filepath.Join(dir, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range m.Params() {
		names = append(names, p.Name)
	}
	x, err := m.MapExternal(names)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	views := 0
	for _, name := range names {
		v, ok := x.Float32(name)
		if !ok {
			continue
		}
		views++
		want, err := m.Value(name)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if float64(v[i]) != want[i] {
				t.Fatalf("%s[%d] = %v in place, %v read", name, i, v[i], want[i])
			}
		}
		x.Release(name)
		if float64(v[0]) != want[0] {
			t.Fatalf("%s: released pages read back %v, want %v", name, v[0], want[0])
		}
		v[0] = 12345
		y, err := m.MapExternal([]string{name})
		if err != nil {
			t.Fatal(err)
		}
		if w, _ := y.Float32(name); w[0] != float32(want[0]) {
			t.Errorf("%s: a write to a view reached the file: %v", name, w[0])
		}
		y.Close()
	}
	if views == 0 {
		t.Fatal("no tensor read in place")
	}
}
