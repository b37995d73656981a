package onnx_test

import (
	"math/rand/v2"
	"os"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/lsweep/lsweep/autodiff"
	"github.com/lsweep/lsweep/internal/fixtures"
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
		// No folder: external data is refused, and the fuzzer is not slowed
		// by a temporary folder per input.
		m, err := onnx.Parse(data, "fuzz.onnx", "")
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

// TestMutatedModels reads 4,000 models made by overwriting a few random bytes
// of the fixtures (a quick search for what FuzzParseModel looks for, run in
// every test run): every reader may refuse them, none may panic or loop. It
// found an index past a node's inputs, a pass-through loop and rules applied
// to values of no float type, all fixed.
func TestMutatedModels(t *testing.T) {
	var seeds [][]byte
	for _, tiny := range fixtures.All() {
		if b, err := proto.Marshal(tiny.Model); err == nil {
			seeds = append(seeds, b)
		}
	}
	for _, p := range []string{"../fixtures/testdata/digits/mlp_softmax.onnx", "../fixtures/testdata/transformer/vit_opset14.onnx"} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	r := rand.New(rand.NewPCG(5, 6))
	dir := t.TempDir()
	for i := 0; i < 4000; i++ {
		s := slices.Clone(seeds[r.IntN(len(seeds))])
		for k := 0; k < 1+r.IntN(4); k++ {
			s[r.IntN(len(s))] = byte(r.IntN(256))
		}
		m, err := onnx.Parse(s, "mutated.onnx", dir)
		if err != nil {
			continue
		}
		for _, p := range m.Params() {
			m.Value(p.Name)
		}
		ps, err := m.Perturbable()
		h, herr := m.DetectHead("")
		if err != nil || herr != nil || len(ps) == 0 {
			continue
		}
		names := make([]string, len(ps))
		for i, p := range ps {
			names[i] = p.Name
		}
		autodiff.GradientModel(m, h.Output.Name, h.Kind, names)
		autodiff.HVPModel(m, h.Output.Name, h.Kind, names)
	}
}
