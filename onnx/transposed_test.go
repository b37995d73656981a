package onnx_test

import (
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/lsweep/lsweep/internal/fixtures"
	"github.com/lsweep/lsweep/internal/onnxmodel"
	"github.com/lsweep/lsweep/onnx"
)

// TestFoldTransposes makes Patchers with FoldTransposes, in the model bytes
// and in a file, sets every float tensor and checks that the patched model
// computes what the original computes with those values (a float64
// interpreter, fixtures.Forward, on both), that the tensors Transpose nodes
// reverse are stored transposed (in place, or as a copy beside a tensor
// also read as it is), and that a model of IR version 3 is left alone.
func TestFoldTransposes(t *testing.T) {
	cases := []struct {
		tiny *fixtures.Tiny
		// stored: the initializer each folded tensor's transposed values
		// are in.
		stored map[string]string
	}{
		{fixtures.TiedTranspose(), map[string]string{"tied.weight": "tied.weight::lsweep_transposed", "head.weight": "head.weight"}},
		{fixtures.ThroughOps(), map[string]string{"Parameter1": "Parameter1"}},
		{fixtures.IR3Inputs(), nil},
		{fixtures.ConvNet(), nil},
	}
	for _, c := range cases {
		for _, file := range []bool{false, true} {
			name := c.tiny.Name
			if file {
				name += "/file"
			}
			t.Run(name, func(t *testing.T) {
				dir := t.TempDir()
				m := parse(t, c.tiny, dir)
				opts := onnx.PatcherOptions{FoldTransposes: true}
				if file {
					opts.File = filepath.Join(dir, "weights.data")
				}
				var names []string
				values := map[string]fixtures.Tensor{}
				for k, p := range m.Params() {
					if !p.DType.IsFloat() {
						continue
					}
					names = append(names, p.Name)
					v := make([]float64, p.Size())
					for i := range v {
						v[i] = math.Sin(float64(7*k+i)) / 2
						if p.DType == onnx.Float16 {
							v[i] = float64(float32(math.Round(v[i]*256) / 256)) // exact in float16
						} else {
							v[i] = float64(float32(v[i]))
						}
					}
					values[p.Name] = fixtures.Tensor{Shape: p.Shape, Data: v}
				}
				p, err := m.NewPatcherWith(names, opts)
				if err != nil {
					t.Fatal(err)
				}
				defer p.Close()
				for _, n := range names {
					if err := p.Set(n, values[n].Data); err != nil {
						t.Fatal(err)
					}
				}
				back, err := onnx.Parse(p.Bytes(), "patched", filepath.Dir(opts.File))
				if err != nil {
					t.Fatal(err)
				}
				for n, v := range values {
					want := v.Data
					at := n
					if s, ok := c.stored[n]; ok {
						want, at = transpose(v.Data, v.Shape), s
					}
					got, err := back.Value(at)
					if err != nil || !slices.Equal(got, want) {
						t.Errorf("%s stored as %q: %v, want %v (%v)", n, at, got, want, err)
					}
				}
				var transposes int
				for _, n := range back.Nodes() {
					if n.OpType == "Transpose" {
						transposes++
					}
				}
				if wantT := countOps(c.tiny, "Transpose") - len(c.stored); transposes != wantT {
					t.Errorf("%d Transpose nodes left, want %d", transposes, wantT)
				}
				if file {
					return // Forward reads no external data
				}
				x := fixtures.Tensor{Shape: []int64{2, 6}}
				in := c.tiny.Model.GetGraph().GetInput()[0]
				x.Shape = []int64{2}
				for _, d := range in.GetType().GetTensorType().GetShape().GetDim()[1:] {
					x.Shape = append(x.Shape, d.GetDimValue())
				}
				for i := 0; i < int(x.Shape[0]*x.Shape[1]*max(1, prod(x.Shape[2:]))); i++ {
					x.Data = append(x.Data, math.Cos(float64(i)))
				}
				inputs := map[string]fixtures.Tensor{in.GetName(): x}
				ref, err := fixtures.Forward(c.tiny, values, inputs)
				if err != nil {
					t.Fatal(err)
				}
				folded := &fixtures.Tiny{Name: "folded", Model: onnxmodel.Proto(back), Values: map[string]fixtures.Tensor{}}
				out, err := fixtures.Forward(folded, nil, inputs)
				if err != nil {
					t.Fatal(err)
				}
				for k, r := range ref {
					for i := range r.Data {
						if math.Abs(out[k].Data[i]-r.Data[i]) > 1e-12*(1+math.Abs(r.Data[i])) {
							t.Fatalf("output %s[%d]: folded %v, original %v", k, i, out[k].Data[i], r.Data[i])
						}
					}
				}
			})
		}
	}
}

func transpose(v []float64, shape []int64) []float64 {
	rows, cols := int(shape[0]), int(shape[1])
	out := make([]float64, len(v))
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			out[c*rows+r] = v[r*cols+c]
		}
	}
	return out
}

func countOps(tiny *fixtures.Tiny, op string) int {
	n := 0
	for _, node := range tiny.Model.GetGraph().GetNode() {
		if node.GetOpType() == op {
			n++
		}
	}
	return n
}

func prod(dims []int64) int64 {
	p := int64(1)
	for _, d := range dims {
		p *= d
	}
	return p
}
