package npz_test

import (
	"encoding/binary"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/lsweep/lsweep/npz"
)

// TestMapInPlace checks that every float32 array WriteFile writes, whatever
// the lengths of the names and arrays before it, is handed out in place by
// Map with the values Read gives, that a write to such a slice changes
// neither the file nor a second mapping, and that entries of other types
// are converted.
func TestMapInPlace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.npz")
	var entries []npz.Entry
	for i := range 9 {
		v := make([]float32, 3*i+1)
		for j := range v {
			v[j] = float32(math.Sin(float64(7*i+j))) * 3
		}
		name := "x/" + "abcdefghi"[:i] + "w" // names of several lengths
		entries = append(entries, npz.Entry{Name: name, Array: &npz.Array{Shape: []int{len(v)}, DType: "float32", Float32: v}})
		if i%3 == 1 {
			entries = append(entries, npz.Entry{Name: name + "_f64", Array: &npz.Array{Shape: []int{2}, DType: "float64", Data: []float64{1.5, math.Pi}}})
		}
	}
	if err := npz.WriteFile(path, entries); err != nil {
		t.Fatal(err)
	}
	m, err := npz.Map(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for _, e := range entries {
		got, shape, err := m.Float32(e.Name)
		if err != nil {
			t.Fatal(err)
		}
		a, err := m.Read(e.Name)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(shape, a.Shape) {
			t.Errorf("%s: shape %v, Read %v", e.Name, shape, a.Shape)
		}
		for i, x := range a.Data {
			if float64(got[i]) != float64(float32(x)) {
				t.Fatalf("%s[%d] = %v, Read %v", e.Name, i, got[i], x)
			}
		}
		if want := e.Array.DType == "float32"; m.InPlace(e.Name) != want {
			t.Errorf("%s (%s): in place %v, want %v", e.Name, e.Array.DType, m.InPlace(e.Name), want)
		}
	}
	v, _, _ := m.Float32(entries[0].Name)
	was := v[0]
	v[0] = 12345
	m2, err := npz.Map(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	if w, _, _ := m2.Float32(entries[0].Name); w[0] != was {
		t.Errorf("a write to a mapped slice reached another mapping: %v, want %v", w[0], was)
	}
	if a, _ := npz.ReadFile(path); a[entries[0].Name].Data[0] != float64(was) {
		t.Errorf("a write to a mapped slice reached the file")
	}
}

// TestMapOthers checks that Map reads what it cannot hand out in place:
// deflated entries, big-endian and float64 arrays, an unaligned stored
// float32 array as a plain zip writer leaves it.
func TestMapOthers(t *testing.T) {
	vals := []float64{1, -2.5, 3.25, 1e-3}
	data := zipBytes(t, false,
		entry{"odd.npy", npyBytes("<f4", false, []int{4}, encode(binary.LittleEndian, "f4", vals))},
		entry{"big.npy", npyBytes(">f4", false, []int{2, 2}, encode(binary.BigEndian, "f4", vals))},
		entry{"f8.npy", npyBytes("<f8", false, []int{4}, encode(binary.LittleEndian, "f8", vals))},
	)
	deflated := zipBytes(t, true, entry{"z.npy", npyBytes("<f4", false, []int{4}, encode(binary.LittleEndian, "f4", vals))})
	dir := t.TempDir()
	for _, p := range []string{writeFile(t, dir, "a.npz", data), writeFile(t, dir, "z.npz", deflated)} {
		m, err := npz.Map(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range m.Keys() {
			got, _, err := m.Float32(k)
			if err != nil {
				t.Fatalf("%s %s: %v", p, k, err)
			}
			for i, x := range vals {
				if got[i] != float32(x) {
					t.Errorf("%s %s[%d] = %v, want %v", filepath.Base(p), k, i, got[i], x)
				}
			}
		}
		if _, _, err := m.Float32("missing"); err == nil {
			t.Error("no error for a missing entry")
		}
		m.Close()
	}
}
