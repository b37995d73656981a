package engine

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/lsweep/lsweep/dataset"
	"github.com/lsweep/lsweep/internal/fixtures"
	"github.com/lsweep/lsweep/internal/onnxmodel"
	"github.com/lsweep/lsweep/internal/onnxpb"
	"github.com/lsweep/lsweep/loss"
	"github.com/lsweep/lsweep/onnx"
)

// TestHeadFromValues checks a converter-style graph whose probabilities come
// out of a Div by the row sums (as Hummingbird writes a scikit-learn
// pipeline, output "output_probability"): it must be read as probabilities,
// with a note, and its loss must be -log p of the graph's own outputs; and
// the same graph with a Log after the Div as log-probabilities.
func TestHeadFromValues(t *testing.T) {
	requireRuntime(t)
	for _, c := range []struct {
		log  bool
		want loss.Head
	}{{false, loss.Probs}, {true, loss.LogProbs}} {
		b := newGraph(onnx.Float, 3)
		x := b.input(4)
		z := b.node("MatMul", []string{x, b.param("W", []int64{4, 3}, 1, 0)})
		e := b.node("Exp", []string{z})
		s := b.node("ReduceSum", []string{e, b.ints("axes", 1)}, aInt("keepdims", 1))
		y := b.node("Div", []string{e, s})
		if c.log {
			y = b.node("Log", []string{y})
		}
		m := b.model(y, 2, 13)
		onnxmodel.Graph(m).Output[0].Name = ptr(y)
		r := rand.New(rand.NewPCG(1, 2))
		d := &dataset.Dataset{Path: "mem", XKey: "x", YKey: "y", XShape: []int{6, 4}, XDType: "float32", YShape: []int{6}, YDType: "int64", YIsInteger: true}
		for i := 0; i < 24; i++ {
			d.X = append(d.X, r.NormFloat64())
		}
		for i := 0; i < 6; i++ {
			d.Y = append(d.Y, float64(i%3))
		}
		ev, err := New(m, d, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if ev.Head() != c.want || len(ev.Notes()) == 0 || !strings.Contains(strings.Join(ev.Notes(), " "), string(c.want)) {
			t.Errorf("log %v: head %s, notes %q; want %s with a note", c.log, ev.Head(), ev.Notes(), c.want)
		}
		out, err := ev.Predict(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := ev.Evaluate(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		var want float64
		for i := 0; i < 6; i++ {
			p := out[i*3+int(d.Y[i])]
			if c.log {
				p = math.Exp(p)
			}
			want -= math.Log(p) / 6
		}
		if math.Abs(res.Loss-want) > 1e-6*want {
			t.Errorf("log %v: loss %g, -log p of the outputs %g", c.log, res.Loss, want)
		}
		ev.Close()
	}
}

// TestHugeFixedBatch checks that a declared fixed batch of 2^40 is refused
// with one line naming the input, not allocated.
func TestHugeFixedBatch(t *testing.T) {
	requireRuntime(t)
	tiny := fixtures.FixedBatch1()
	tiny.Model.GetGraph().GetInput()[0].GetType().GetTensorType().GetShape().GetDim()[0].Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: 1 << 40}
	m := onnxmodel.With(&onnx.Model{Path: "huge.onnx"}, tiny.Model)
	x := fixtures.RandomInput(tiny, 4, 1)
	d := &dataset.Dataset{Path: "mem", XKey: "x", YKey: "y", XShape: []int{4, 6}, XDType: "float32", X: x.Data, YShape: []int{4}, YDType: "int64", YIsInteger: true, Y: []float64{0, 1, 2, 0}}
	_, err := New(m, d, Options{})
	if err == nil || !strings.Contains(err.Error(), "fixed batch of 1099511627776") || !strings.Contains(err.Error(), `"x"`) {
		t.Fatalf("error %v", err)
	}
}
