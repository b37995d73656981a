package onnx_test

import (
	"os"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/lsweep/lsweep/autodiff"
	"github.com/lsweep/lsweep/fixtures"
	"github.com/lsweep/lsweep/onnx"
)

// FuzzParseModel feeds arbitrary bytes to the model reader and everything
// that reads a parsed model: the weights and their filter axes, the head,
// every tensor's values and a gradient model. Any of them may refuse the
// input; none may panic or hang.
func FuzzParseModel(f *testing.F) {
	for _, tiny := range fixtures.All() {
		if b, err := proto.Marshal(tiny.Model); err == nil {
			f.Add(b)
		}
	}
	if b, err := os.ReadFile("../fixtures/testdata/digits/mlp_softmax.onnx"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := onnx.Parse(data, "fuzz.onnx", t.TempDir())
		if err != nil {
			return
		}
		m.Inputs()
		m.Outputs()
		for _, p := range m.Params() {
			m.Value(p.Name)
		}
		ps, err := m.Perturbable()
		h, herr := m.DetectHead("")
		if err != nil || herr != nil || len(ps) == 0 {
			return
		}
		names := make([]string, len(ps))
		for i, p := range ps {
			names[i] = p.Name
		}
		autodiff.GradientModel(m, h.Output.Name, h.Kind, names)
	})
}
