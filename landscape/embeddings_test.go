package landscape_test

import (
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lsweep/lsweep/internal/testenv"
	"github.com/lsweep/lsweep/landscape"
	"github.com/lsweep/lsweep/normalize"
	"github.com/lsweep/lsweep/npz"
	"github.com/lsweep/lsweep/onnx"
)

// TestTransformerDirections checks what random directions move in the
// transformer fixtures: by default (ignore biasbn) the weights only, the
// LayerNorm scale and shift and the embedding tables still; with ignore none
// the LayerNorm parameters move along d = th but the tables and the
// exporter's constants (epsilons, GELU's 0.5) stay still; with
// Embeddings the tables move, each row with the norm of the model's row, and
// the weights' directions are those drawn without them.
func TestTransformerDirections(t *testing.T) {
	testenv.RequireRuntime(t)
	for _, c := range []struct{ model, data string }{
		{"../fixtures/testdata/sequence/encoder.onnx", "../fixtures/testdata/sequence/encoder_data.npz"},
		{"../fixtures/testdata/transformer/vit_opset14.onnx", "../fixtures/testdata/digits/data.npz"},
	} {
		t.Run(filepath.Base(c.model), func(t *testing.T) {
			m, err := onnx.Load(c.model)
			if err != nil {
				t.Fatal(err)
			}
			roles := map[string]onnx.Role{}
			for _, p := range m.Params() {
				roles[p.Name] = p.Role
			}
			open := func(o normalize.Options) (*landscape.Landscape, *normalize.Direction) {
				t.Helper()
				l, err := landscape.Open(landscape.Config{Model: c.model, Data: c.data, Seed: 3, TwoD: true, Normalize: o})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { l.Close() })
				return l, l.X
			}
			count := func(d *normalize.Direction) map[onnx.Role]int {
				n := map[onnx.Role]int{}
				for _, name := range d.Names {
					n[roles[name]]++
				}
				return n
			}
			_, def := open(normalize.Options{})
			if got := count(def); len(got) != 1 || got[onnx.RoleWeight] == 0 {
				t.Errorf("default direction moves %v, want weights only", got)
			}
			_, none := open(normalize.Options{Ignore: normalize.IgnoreNone})
			got := count(none)
			if got[onnx.RoleEmbedding] != 0 || got[onnx.RoleConstant] != 0 || got[onnx.RoleNormScale] == 0 || got[onnx.RoleNormBias] == 0 {
				t.Errorf("ignore none moves %v, want the LayerNorm parameters and no embedding or exporter constant", got)
			}
			l, inc := open(normalize.Options{Embeddings: true})
			got = count(inc)
			if got[onnx.RoleEmbedding] != 2 || got[onnx.RoleNormScale] != 0 || got[onnx.RoleNormBias] != 0 || got[onnx.RoleBias] != 0 {
				t.Errorf("with embeddings the direction moves %v, want the weights and 2 tables", got)
			}
			for _, name := range def.Names {
				if !slices.Equal(def.Values[name], inc.Values[name]) {
					t.Errorf("%s: including the embeddings changed the weight's direction", name)
				}
			}
			for _, p := range l.Params() {
				if p.Kind != normalize.Embedding {
					continue
				}
				d := inc.Values[p.Name]
				// One row per token or position: the last axis is the width.
				width := int(p.Shape[len(p.Shape)-1])
				for r := 0; r < len(d)/width; r++ {
					dn := math.Sqrt(sumSq(d[r*width : (r+1)*width]))
					tn := math.Sqrt(sumSq(p.Values[r*width : (r+1)*width]))
					if math.Abs(dn-tn) > 1e-6*tn {
						t.Errorf("%s row %d: direction norm %g, the model's row %g", p.Name, r, dn, tn)
					}
				}
			}
		})
	}
}

func sumSq(v []float32) float64 {
	s := 0.0
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return s
}

// TestOldConstantDirections checks the message for a directions file made
// before exporters' Constant values got the role constant, when --ignore
// none moved them: the mismatch names them as Constant-node numbers and
// says what to do; a file with another stray tensor gets no such hint.
func TestOldConstantDirections(t *testing.T) {
	testenv.RequireRuntime(t)
	model, data := "../fixtures/testdata/sequence/encoder.onnx", "../fixtures/testdata/sequence/encoder_data.npz"
	m, err := onnx.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	var constant string
	for _, p := range m.Params() {
		if p.Role == onnx.RoleConstant && p.DType == onnx.Float {
			constant = p.Name
			break
		}
	}
	if constant == "" {
		t.Fatal("the encoder has no float Constant value")
	}
	cfg := landscape.Config{Model: model, Data: data, Seed: 3, TwoD: true, Normalize: normalize.Options{Ignore: normalize.IgnoreNone}}
	l, err := landscape.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	saved := filepath.Join(dir, "directions.npz")
	if err := l.SaveDirections(saved); err != nil {
		t.Fatal(err)
	}
	l.Close()
	entries, err := npz.ReadFile(saved)
	if err != nil {
		t.Fatal(err)
	}
	value, err := m.Value(constant)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, extra string) string {
		var list []npz.Entry
		for k, a := range entries {
			list = append(list, npz.Entry{Name: k, Array: a})
		}
		for _, p := range []string{"x/", "y/"} {
			list = append(list, npz.Entry{Name: p + extra, Array: &npz.Array{Shape: []int{len(value)}, DType: "float32", Data: value}})
		}
		path := filepath.Join(dir, name)
		if err := npz.WriteFile(path, list); err != nil {
			t.Fatal(err)
		}
		return path
	}
	cfg.DirectionsFile = write("old.npz", constant)
	_, err = landscape.Open(cfg)
	if err == nil || !strings.Contains(err.Error(), "Constant nodes") || !strings.Contains(err.Error(), "--ignore none") || !strings.Contains(err.Error(), constant) {
		t.Errorf("old file: %v", err)
	}
	cfg.DirectionsFile = write("stray.npz", "not.in.the.model")
	if _, err = landscape.Open(cfg); err == nil || strings.Contains(err.Error(), "Constant nodes") || !strings.Contains(err.Error(), "not.in.the.model") {
		t.Errorf("stray tensor: %v", err)
	}
}
