package onnx_test

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/lsweep/lsweep/internal/fixtures"
	"github.com/lsweep/lsweep/internal/onnxmodel"
	"github.com/lsweep/lsweep/internal/onnxpb"
	"github.com/lsweep/lsweep/onnx"
)

// parse marshals a fixture's proto and parses it back, as a file would be.
func parse(t *testing.T, tiny *fixtures.Tiny, dir string) *onnx.Model {
	t.Helper()
	data, err := proto.Marshal(tiny.Model)
	if err != nil {
		t.Fatal(err)
	}
	m, err := onnx.Parse(data, tiny.Name+".onnx", dir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestPerturbable checks, for graphs built the way each exporter builds them,
// that the weights found and their filter axes are the ones the builder
// declares (METHOD.md: Conv 0, ConvTranspose 1, Gemm transB=1 0, transB=0 1,
// MatMul [in, out] 1, axes mapped back through Transpose).
func TestPerturbable(t *testing.T) {
	tinies := fixtures.All()
	ext, err := fixtures.ExternalData(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tinies = append(tinies, ext)
	for _, tiny := range tinies {
		t.Run(tiny.Name, func(t *testing.T) {
			m := parse(t, tiny, t.TempDir())
			got, err := m.Perturbable()
			if len(tiny.Perturbable) == 0 {
				if !errors.Is(err, onnx.ErrNoWeights) {
					t.Fatalf("want ErrNoWeights, got %v (%d weights)", err, len(got))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			byName := make(map[string]onnx.Param)
			for _, p := range got {
				byName[p.Name] = p
			}
			if len(got) != len(tiny.Perturbable) {
				t.Errorf("found %d weights, want %d", len(got), len(tiny.Perturbable))
			}
			for _, w := range tiny.Perturbable {
				p, ok := byName[w.Name]
				if !ok {
					t.Errorf("weight %q not found", w.Name)
					continue
				}
				if p.Consumer != w.Consumer || p.FilterAxis != w.FilterAxis || !slices.Equal(p.Shape, w.Shape) || !slices.Equal(p.FilterView, w.View) {
					t.Errorf("weight %q: got consumer %s axis %d shape %v view %v, want %s axis %d shape %v view %v",
						w.Name, p.Consumer, p.FilterAxis, p.Shape, p.FilterView, w.Consumer, w.FilterAxis, w.Shape, w.View)
				}
			}
		})
	}
}

// TestReadTensor reads every stored float tensor back, whatever its storage,
// and compares it with the values the builder wrote.
func TestReadTensor(t *testing.T) {
	dir := t.TempDir()
	ext, err := fixtures.ExternalData(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tiny := range append(fixtures.All(), ext) {
		t.Run(tiny.Name, func(t *testing.T) {
			m := parse(t, tiny, dir)
			for name, want := range tiny.Values {
				got, err := m.Value(name)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if len(got) != len(want.Data) {
					t.Fatalf("%s: %d values, want %d", name, len(got), len(want.Data))
				}
				for i := range got {
					if math.Abs(got[i]-want.Data[i]) > 1e-6*(1+math.Abs(want.Data[i])) {
						t.Fatalf("%s[%d] = %g, want %g", name, i, got[i], want.Data[i])
					}
				}
			}
		})
	}
}

func TestExternalDataOutsideFolder(t *testing.T) {
	tiny := fixtures.ExternalDataEscaping()
	m := parse(t, tiny, t.TempDir())
	for _, p := range m.Params() {
		if !p.External {
			continue
		}
		_, err := m.Value(p.Name)
		if err == nil || !contains(err.Error(), "outside the model's folder") || !contains(err.Error(), p.Name) {
			t.Fatalf("%s: want an error naming the tensor and the escape, got %v", p.Name, err)
		}
		return
	}
	t.Fatal("fixture has no external tensor")
}

func TestExternalDataMissing(t *testing.T) {
	dir := t.TempDir()
	tiny, err := fixtures.ExternalData(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := parse(t, tiny, t.TempDir()) // a folder without weights.bin
	_, err = m.NewPatcher([]string{tiny.Perturbable[0].Name})
	if err == nil || !contains(err.Error(), "weights.bin") {
		t.Fatalf("want an error naming the missing file, got %v", err)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// TestExternalDataHostile checks external data that leaves the model's
// folder through a symbolic link, or is a FIFO, or whose declared shape is
// far larger than the file: each is refused at once with the tensor named,
// before anything is allocated or blocks.
func TestExternalDataHostile(t *testing.T) {
	src := t.TempDir()
	tiny, err := fixtures.ExternalData(src)
	if err != nil {
		t.Fatal(err)
	}
	name := tiny.Perturbable[0].Name
	cases := map[string]func(dir string) error{
		"symlink outside": func(dir string) error {
			outside := filepath.Join(t.TempDir(), "secret")
			if err := os.WriteFile(outside, make([]byte, 4096), 0o644); err != nil {
				return err
			}
			return os.Symlink(outside, filepath.Join(dir, "weights.bin"))
		},
		"fifo": func(dir string) error { return syscall.Mkfifo(filepath.Join(dir, "weights.bin"), 0o644) },
	}
	for label, setup := range cases {
		t.Run(label, func(t *testing.T) {
			dir := t.TempDir()
			if err := setup(dir); err != nil {
				t.Skip(err)
			}
			m := parse(t, tiny, dir)
			_, err := m.Value(name)
			if err == nil || !contains(err.Error(), name) {
				t.Fatalf("want an error naming %s, got %v", name, err)
			}
			t.Log(err)
		})
	}
	t.Run("symlink inside", func(t *testing.T) {
		dir := t.TempDir()
		data, err := os.ReadFile(filepath.Join(src, "weights.bin"))
		if err != nil {
			t.Fatal(err)
		}
		os.Mkdir(filepath.Join(dir, "blobs"), 0o755)
		os.WriteFile(filepath.Join(dir, "blobs", "w.bin"), data, 0o644)
		if err := os.Symlink(filepath.Join("blobs", "w.bin"), filepath.Join(dir, "weights.bin")); err != nil {
			t.Fatal(err)
		}
		m := parse(t, tiny, dir)
		if _, err := m.Value(name); err != nil {
			t.Fatalf("a link inside the folder: %v", err)
		}
	})
	t.Run("huge shape", func(t *testing.T) {
		m := parse(t, tiny, src)
		for _, init := range onnxmodel.Graph(m).GetInitializer() {
			if init.GetName() == name {
				init.Dims = []int64{1 << 20, 1 << 20}
				// Without a declared length, only the file's size stands
				// between the shape and the allocation.
				var kept []*onnxpb.StringStringEntryProto
				for _, kv := range init.GetExternalData() {
					if kv.GetKey() != "length" {
						kept = append(kept, kv)
					}
				}
				init.ExternalData = kept
			}
		}
		_, err := m.Value(name)
		if err == nil || !contains(err.Error(), "too short") {
			t.Fatalf("want a too-short error before allocating 4 TB, got %v", err)
		}
		t.Log(err)
	})
}
