package engine_test

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/x448/float16"
	"google.golang.org/protobuf/proto"

	"github.com/lsweep/lsweep/dataset"
	"github.com/lsweep/lsweep/engine"
	"github.com/lsweep/lsweep/internal/fixtures"
	"github.com/lsweep/lsweep/internal/testenv"
	"github.com/lsweep/lsweep/loss"
	"github.com/lsweep/lsweep/onnx"
)

// writeModel writes a fixture's model into a fresh folder and loads it.
func writeModel(t *testing.T, tiny *fixtures.Tiny) *onnx.Model {
	t.Helper()
	data, err := proto.Marshal(tiny.Model)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), tiny.Name+".onnx")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := onnx.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// tinyData makes n samples for a fixture: its random inputs, and labels or
// (for regression) random targets.
func tinyData(tiny *fixtures.Tiny, n int) *dataset.Dataset {
	x := fixtures.RandomInput(tiny, n, 7)
	d := &dataset.Dataset{Path: tiny.Name + ".npz", XKey: "x", YKey: "y", XDType: "float32", X: x.Data}
	for _, s := range x.Shape {
		d.XShape = append(d.XShape, int(s))
	}
	if tiny.Head == "regression" {
		r := rand.New(rand.NewPCG(8, 9))
		d.Y = make([]float64, n)
		for i := range d.Y {
			d.Y[i] = r.NormFloat64()
		}
		d.YShape, d.YDType = []int{n, 1}, "float32"
		return d
	}
	for _, l := range fixtures.Labels(tiny, n, 8) {
		d.Y = append(d.Y, float64(l))
	}
	d.YShape, d.YDType, d.YIsInteger = []int{n}, "int64", true
	return d
}

var fixtureHeads = map[string]loss.Head{
	"logits": loss.Logits, "logprobs": loss.LogProbs, "probs": loss.Probs,
	"sigmoid": loss.Sigmoid, "regression": loss.MSE,
}

// TestTinyAgainstReference evaluates every tiny fixture with its weights
// perturbed and compares ONNX Runtime's outputs and lsweep's loss with the
// fixtures' independent float64 forward pass at the same weights. The
// batch size of 3 on 7 samples leaves a partial last batch.
func TestTinyAgainstReference(t *testing.T) {
	testenv.RequireRuntime(t)
	extDir := t.TempDir()
	ext, err := fixtures.ExternalData(extDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tiny := range append(fixtures.All(), ext) {
		if tiny.Head == "" {
			continue
		}
		t.Run(tiny.Name, func(t *testing.T) {
			var m *onnx.Model
			if tiny == ext {
				var err error
				if m, err = onnx.Load(filepath.Join(extDir, "model.onnx")); err != nil {
					t.Fatal(err)
				}
			} else {
				m = writeModel(t, tiny)
			}
			const n = 7
			d := tinyData(tiny, n)
			e, err := engine.New(m, d, engine.Options{BatchSize: 3, Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			if want := fixtureHeads[tiny.Head]; e.Head() != want {
				t.Errorf("head %s, want %s", e.Head(), want)
			}
			dtypes := map[string]onnx.DataType{}
			for _, p := range m.Params() {
				dtypes[p.Name] = p.DType
			}
			r := rand.New(rand.NewPCG(1, 1))
			values := map[string][]float64{}
			refValues := map[string]fixtures.Tensor{}
			for _, w := range tiny.Perturbable {
				base := tiny.Values[w.Name]
				v := make([]float64, len(base.Data))
				for i, b := range base.Data {
					v[i] = b + 0.3*r.NormFloat64()*(math.Abs(b)+0.1)
				}
				values[w.Name] = v
				// The reference sees the values as stored: rounded to the
				// tensor's type.
				rounded := make([]float64, len(v))
				for i, x := range v {
					rounded[i] = float64(float32(x))
					if dtypes[w.Name] == onnx.Float16 {
						rounded[i] = float64(float16.Fromfloat32(float32(x)).Float32())
					}
				}
				refValues[w.Name] = fixtures.Tensor{Shape: base.Shape, Data: rounded}
			}
			for _, perturb := range []bool{false, true} {
				w, rv := values, refValues
				if !perturb {
					w, rv = nil, nil
				}
				got, err := e.Predict(context.Background(), w)
				if err != nil {
					t.Fatal(err)
				}
				want := referenceOutputs(t, tiny, rv, d)
				if len(got) != len(want) {
					t.Fatalf("perturbed=%v: %d outputs, want %d", perturb, len(got), len(want))
				}
				for i := range got {
					if math.Abs(got[i]-want[i]) > 1e-5*(1+math.Abs(want[i])) {
						t.Fatalf("perturbed=%v: output[%d] = %g, reference %g", perturb, i, got[i], want[i])
					}
				}
				res, err := e.Evaluate(context.Background(), w)
				if err != nil {
					t.Fatal(err)
				}
				sum := loss.NewSum(e.Head(), e.OutputWidth())
				if err := loss.Add(sum, want, d.Y); err != nil {
					t.Fatal(err)
				}
				if res.N != n || math.Abs(res.Loss-sum.Loss()) > 1e-5*math.Abs(sum.Loss()) {
					t.Errorf("perturbed=%v: n %d loss %.8g, reference %.8g", perturb, res.N, res.Loss, sum.Loss())
				}
			}
		})
	}
}

// referenceOutputs runs the fixtures' float64 forward pass sample by sample
// (a fixed-batch model takes one at a time) and returns the head's outputs.
func referenceOutputs(t *testing.T, tiny *fixtures.Tiny, values map[string]fixtures.Tensor, d *dataset.Dataset) []float64 {
	t.Helper()
	per := len(d.X) / d.N()
	var out []float64
	for i := 0; i < d.N(); i++ {
		shape := []int64{1}
		for _, s := range d.SampleShape() {
			shape = append(shape, int64(s))
		}
		x := fixtures.Tensor{Shape: shape, Data: d.X[i*per : (i+1)*per]}
		res, err := fixtures.Forward(tiny, values, map[string]fixtures.Tensor{tiny.InputName: x})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, res[tiny.OutputName].Data...)
	}
	return out
}
