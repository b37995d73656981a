package engine_test

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lsweep/lsweep/dataset"
	"github.com/lsweep/lsweep/engine"
	"github.com/lsweep/lsweep/internal/testenv"
	"github.com/lsweep/lsweep/npz"
	"github.com/lsweep/lsweep/onnx"
)

const digits = "../fixtures/testdata/digits"

// digitsEvaluator makes an Evaluator, with default options, of the digits
// model named model (without .onnx) over the digits data labelled by yKey
// ("" for the default); it is closed when t ends.
func digitsEvaluator(t *testing.T, model, yKey string) *engine.Evaluator {
	t.Helper()
	m, err := onnx.Load(filepath.Join(digits, model+".onnx"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := dataset.Load(filepath.Join(digits, "data.npz"), dataset.Options{YKey: yKey})
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(m, d, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// digitsRef reads PyTorch's reference numbers for the digits model named
// model, saved by fixtures/gen/make_pytorch_fixtures.py.
func digitsRef(t *testing.T, model string) map[string]*npz.Array {
	t.Helper()
	ref, err := npz.ReadFile(filepath.Join(digits, model+".ref.npz"))
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// TestPyTorchFixtures checks ONNX Runtime, run by lsweep, against PyTorch's
// own numbers saved when the fixtures were exported
// (fixtures/gen/make_pytorch_fixtures.py): the outputs and the loss of the
// untouched model, and the loss at weights th + alpha d for a saved d.
func TestPyTorchFixtures(t *testing.T) {
	testenv.RequireRuntime(t)
	for _, c := range []struct {
		model, yKey string
	}{
		{"resnet_skip", "y"},
		{"resnet_noskip", "y"},
		{"resnet_skip_folded", "y"},
		{"resnet_skip_ir3", "y"},
		{"resnet_skip_batch1", "y"},
		{"mlp_logsoftmax", "y"},
		{"mlp_softmax", "y"},
		{"mlp_sigmoid", "y_even"},
	} {
		t.Run(c.model, func(t *testing.T) {
			ref := digitsRef(t, c.model)
			e := digitsEvaluator(t, c.model, c.yKey)

			check := func(label string, values map[string][]float64, outKey, lossKey, accKey string) {
				out, err := e.Predict(context.Background(), values)
				if err != nil {
					t.Fatal(err)
				}
				diff := maxAbsDiff(out, ref[outKey].Data)
				t.Logf("%s: max |ONNX Runtime - PyTorch| output difference %.2g", label, diff)
				if diff > 1e-4 {
					t.Errorf("%s: outputs differ from PyTorch's by %g", label, diff)
				}
				res, err := e.Evaluate(context.Background(), values)
				if err != nil {
					t.Fatal(err)
				}
				wantLoss, _ := ref[lossKey].Scalar()
				wantAcc, _ := ref[accKey].Scalar()
				rel := math.Abs(res.Loss-wantLoss) / math.Abs(wantLoss)
				t.Logf("%s: loss %.8g, PyTorch %.8g (relative difference %.2g); accuracy %.4f, PyTorch %.4f", label, res.Loss, wantLoss, rel, res.Accuracy, wantAcc)
				if rel > 1e-4 {
					t.Errorf("%s: loss %.8g, PyTorch %.8g", label, res.Loss, wantLoss)
				}
				if math.Abs(res.Accuracy-wantAcc) > 1.5/float64(res.N) {
					t.Errorf("%s: accuracy %g, PyTorch %g", label, res.Accuracy, wantAcc)
				}
			}
			check("untouched", nil, "output", "loss", "accuracy")

			if _, ok := ref["alpha"]; !ok {
				return
			}
			alpha, _ := ref["alpha"].Scalar()
			values := map[string][]float64{}
			for key, dir := range ref {
				name, ok := strings.CutPrefix(key, "dir/")
				if !ok {
					continue
				}
				base := e.Base(name)
				if len(base) != len(dir.Data) {
					t.Fatalf("direction %q has %d values, the weight %d", name, len(dir.Data), len(base))
				}
				v := make([]float64, len(base))
				for i := range v {
					v[i] = base[i] + alpha*dir.Data[i]
				}
				values[name] = v
			}
			if len(values) == 0 {
				t.Fatal("reference has alpha but no directions")
			}
			check("perturbed", values, "output_at_alpha", "loss_at_alpha", "accuracy_at_alpha")
		})
	}
}

// TestResNet20 checks the CIFAR-shaped benchmark model against PyTorch's
// logits on 16 saved inputs.
func TestResNet20(t *testing.T) {
	testenv.RequireRuntime(t)
	ref, err := npz.ReadFile("../fixtures/testdata/cifar/resnet20.ref.npz")
	if err != nil {
		t.Fatal(err)
	}
	m, err := onnx.Load("../fixtures/testdata/cifar/resnet20.onnx")
	if err != nil {
		t.Fatal(err)
	}
	x := ref["x"]
	d := &dataset.Dataset{Path: "resnet20.ref.npz", XKey: "x", YKey: "y", XShape: x.Shape, XDType: "float32", X: x.Data,
		YShape: []int{x.Shape[0]}, YDType: "int64", Y: make([]float64, x.Shape[0]), YIsInteger: true}
	e, err := engine.New(m, d, engine.Options{BatchSize: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	out, err := e.Predict(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	diff := maxAbsDiff(out, ref["output"].Data)
	t.Logf("max |ONNX Runtime - PyTorch| logit difference %.2g", diff)
	if diff > 1e-4 {
		t.Errorf("logits differ from PyTorch's by %g", diff)
	}
}

func maxAbsDiff(a, b []float64) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var m float64
	for i := range a {
		m = max(m, math.Abs(a[i]-b[i]))
	}
	return m
}
