package autodiff

import (
	"path/filepath"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/lsweep/lsweep/fixtures"
	"github.com/lsweep/lsweep/internal/onnxpb"
	"github.com/lsweep/lsweep/loss"
	"github.com/lsweep/lsweep/onnx"
)

// committedModels are the exported models of fixtures/testdata: PyTorch
// CNNs and MLPs, BatchNorm kept and folded, IR 3, fixed batch 1, and the
// transformers with LayerNorm decomposed and fused.
func committedModels(t *testing.T) []*onnx.Model {
	t.Helper()
	paths, err := filepath.Glob("../fixtures/testdata/*/*.onnx")
	if err != nil || len(paths) < 15 {
		t.Fatalf("committed models: %v (%d)", err, len(paths))
	}
	var ms []*onnx.Model
	for _, p := range paths {
		m, err := onnx.Load(p)
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	for _, tiny := range fixtures.All() {
		if tiny.Name == "NoWeights" {
			continue
		}
		ms = append(ms, &onnx.Model{Path: tiny.Name + ".onnx", Proto: proto.Clone(tiny.Model).(*onnxpb.ModelProto)})
	}
	return ms
}

// headOf is the head engine settles on: the graph's, a single unnormalised
// column being a regression output (the fixtures' labels are not integers
// there).
func headOf(t *testing.T, m *onnx.Model) (string, loss.Head) {
	t.Helper()
	h, err := m.DetectHead("")
	if err != nil {
		t.Fatal(err)
	}
	if d := h.Output.Dims(); h.Kind == loss.Logits && len(d) == 2 && d[1] == 1 {
		return h.Output.Name, loss.MSE
	}
	return h.Output.Name, h.Kind
}

// weights are the tensors the method perturbs.
func weights(t *testing.T, m *onnx.Model) []string {
	t.Helper()
	ps, err := m.Perturbable()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
	}
	return names
}

// TestGradientReachesEveryWeight builds the gradient of every committed and
// tiny model with respect to its weights and checks that each weight's
// gradient has contributions from the backward pass (it is not the zeros a
// weight the loss does not depend on gets) and that the head output depends
// on every weight: no part of a network is silently constant.
func TestGradientReachesEveryWeight(t *testing.T) {
	for _, m := range committedModels(t) {
		t.Run(filepath.Base(m.Path), func(t *testing.T) {
			wrt := weights(t, m)
			out, h := headOf(t, m)
			b := newGradBuilder(m.Clone(), m.Opset())
			if err := b.build(out, h, wrt); err != nil {
				t.Fatal(err)
			}
			for _, w := range wrt {
				if len(b.grads[w]) == 0 {
					t.Errorf("weight %q gets no gradient", w)
				}
			}
		})
	}
}

// TestTangentRulesCoverGradientOps shows that every op the gradient models
// contain has a second-order (forward) rule, or has no float output and so
// carries no derivative: the closure that makes HVPModel work wherever
// GradientModel does.
func TestTangentRulesCoverGradientOps(t *testing.T) {
	noFloat := map[string]bool{"Shape": true, "Size": true, "Equal": true, "Greater": true, "Less": true,
		"GreaterOrEqual": true, "LessOrEqual": true, "And": true, "Or": true, "Not": true, "NonZero": true,
		"ConstantOfShape": true, "Range": true, "Constant": true, "ArgMax": true}
	seen := map[string]bool{}
	for _, m := range committedModels(t) {
		out, h := headOf(t, m)
		gm, err := GradientModel(m, out, h, weights(t, m))
		if err != nil {
			t.Fatalf("%s: %v", m.Path, err)
		}
		for _, n := range gm.Graph().GetNode() {
			seen[n.GetOpType()] = true
		}
	}
	var ops []string
	for op := range seen {
		ops = append(ops, op)
		if tangentRules[op] == nil && !noFloat[op] {
			t.Errorf("%s appears in gradient models and has no forward rule", op)
		}
	}
	slices.Sort(ops)
	t.Logf("%d op types in the gradient models: %v", len(ops), ops)
	for op := range gradRules {
		if tangentRules[op] == nil {
			t.Errorf("%s has a gradient rule and no forward rule", op)
		}
	}
}
