package autodiff

import (
	"path/filepath"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/lsweep/lsweep/internal/fixtures"
	"github.com/lsweep/lsweep/internal/onnxmodel"
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
		ms = append(ms, onnxmodel.With(&onnx.Model{Path: tiny.Name + ".onnx"}, proto.Clone(tiny.Model).(*onnxpb.ModelProto)))
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

// headInputs walks m's graph back from output and returns the float stored
// tensors (initializers and Constant values) the output is computed from,
// not counting what reaches it only through shapes and comparisons (inputs
// of Shape, Size, ConstantOfShape, the comparisons, ArgMax, ArgMin, NonZero,
// and casts to integer types), which carry no derivative.
func headInputs(m *onnx.Model, output string) []string {
	noDerivative := map[string]bool{"Shape": true, "Size": true, "ConstantOfShape": true, "Equal": true, "Greater": true,
		"Less": true, "GreaterOrEqual": true, "LessOrEqual": true, "ArgMax": true, "ArgMin": true, "NonZero": true}
	reach := map[string]bool{output: true}
	nodes := onnxmodel.Graph(m).GetNode()
	for k := len(nodes) - 1; k >= 0; k-- {
		n := nodes[k]
		if !slices.ContainsFunc(n.GetOutput(), func(o string) bool { return reach[o] }) || noDerivative[n.GetOpType()] {
			continue
		}
		if n.GetOpType() == "Cast" && !onnx.DataType(n.AttrInt("to", 0)).IsFloat() {
			continue
		}
		for _, in := range n.GetInput() {
			reach[in] = true
		}
	}
	var out []string
	for name, t := range onnxmodel.StoredTensors(m) {
		if reach[name] && onnx.DataType(t.GetDataType()).IsFloat() {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// TestGradientReachesEveryWeight walks the forward graph of every committed
// and tiny model and shows that each float tensor the head output is
// computed from reaches the loss through differentiated nodes: with respect
// to the model's weights, and again with respect to every such tensor
// (biases, normalisation parameters, class tokens and position tables,
// Constant values), the head output is in the dependence set, each tensor's
// gradient has contributions from the backward pass (it is not the zeros a
// tensor the loss does not depend on gets), and the gradient output of the
// built model is not a constant. No part of a network is silently constant.
func TestGradientReachesEveryWeight(t *testing.T) {
	for _, m := range committedModels(t) {
		t.Run(filepath.Base(m.Path), func(t *testing.T) {
			out, h := headOf(t, m)
			all := headInputs(m, out)
			for _, wrt := range [][]string{weights(t, m), all} {
				b := newGradBuilder(m.Clone(), m.Opset())
				if err := b.safeBuild(out, h, wrt); err != nil {
					t.Fatal(err)
				}
				if !b.dep[out] {
					t.Errorf("the head output %q does not depend on the tensors", out)
				}
				producer := map[string]*onnxpb.NodeProto{}
				for _, n := range onnxmodel.Graph(b.m).GetNode() {
					for _, o := range n.GetOutput() {
						producer[o] = n
					}
				}
				for _, w := range wrt {
					if len(b.grads[w]) == 0 {
						t.Errorf("%q gets no gradient", w)
						continue
					}
					id := producer[GradPrefix+w]
					if id == nil || id.GetOpType() != "Identity" {
						t.Errorf("no gradient output for %q", w)
						continue
					}
					if src := id.GetInput()[0]; b.isZero[src] || producer[src] == nil || producer[src].GetOpType() == "ConstantOfShape" {
						t.Errorf("the gradient of %q is a constant (%s)", w, src)
					}
				}
			}
			t.Logf("%d weights, %d float tensors feeding the head", len(weights(t, m)), len(all))
		})
	}
}

// closureCase is a model and the tensors to differentiate.
type closureCase struct {
	m   *onnx.Model
	wrt []string
	h   loss.Head // "": the head headOf finds
}

// closureCases are the models the closure test builds gradients of: the
// committed and tiny models with respect to their weights, and a graph per
// op with a gradient rule.
func closureCases(t *testing.T) []closureCase {
	var cs []closureCase
	for _, m := range committedModels(t) {
		cs = append(cs, closureCase{m, weights(t, m), ""})
	}
	covered := map[string]bool{}
	for _, og := range opGraphs() {
		g := &tgraph{g: &onnxpb.GraphProto{Name: proto.String(og.name)}}
		m := g.model(og.build(g), og.opset)
		m.Path = og.name + ".onnx"
		cs = append(cs, closureCase{m, g.wrt, loss.MSE})
		for _, n := range onnxmodel.Graph(m).GetNode() {
			covered[n.GetOpType()] = true
		}
	}
	for op := range gradRules {
		if !covered[op] {
			t.Errorf("no graph of opGraphs differentiates through %s", op)
		}
	}
	return cs
}

// TestTangentRulesCoverGradientOps shows that every op the gradient models
// contain has a second-order (forward) rule, or cannot carry a derivative:
// its outputs are all of non-float type, or its inputs are (a constant, or
// zeros made from a shape), so that no tangent enters it. The types are the
// builder's own, from its shape and type inference. This is the closure that
// makes HVPModel work wherever GradientModel does. The models are the
// committed ones, the tiny ones and a graph per op with a gradient rule; the
// HVP model of each is built too.
func TestTangentRulesCoverGradientOps(t *testing.T) {
	seen := map[string]bool{}
	exempt := map[string]bool{}
	carries := func(dt onnx.DataType) bool { return dt == onnx.Undefined || dt.IsFloat() }
	for _, c := range closureCases(t) {
		m := c.m
		out, h := headOf(t, m)
		if c.h != "" {
			h = c.h
		}
		b := newGradBuilder(m.Clone(), m.Opset())
		if err := b.safeBuild(out, h, c.wrt); err != nil {
			t.Errorf("%s: gradient model: %v", m.Path, err)
			continue
		}
		for _, n := range onnxmodel.Graph(b.m).GetNode() {
			op := n.GetOpType()
			seen[op] = true
			if tangentRules[op] != nil {
				continue
			}
			in, out := false, false
			for _, v := range n.GetInput() {
				in = in || v != "" && carries(b.dt(v))
			}
			for _, v := range n.GetOutput() {
				out = out || v != "" && carries(b.dt(v))
			}
			if in && out {
				t.Errorf("%s: node %q (%s) maps float values to float values and %s has no forward rule", m.Path, n.GetName(), op, op)
			}
			exempt[op] = true
		}
		if _, err := HVPModel(m, out, h, c.wrt); err != nil {
			t.Errorf("%s: HVP model: %v", m.Path, err)
		}
	}
	var ops, without []string
	for op := range seen {
		ops = append(ops, op)
	}
	for op := range exempt {
		without = append(without, op)
	}
	slices.Sort(ops)
	slices.Sort(without)
	t.Logf("%d op types in the gradient models: %v", len(ops), ops)
	t.Logf("without a forward rule, carrying no derivative: %v", without)
	for op := range gradRules {
		if tangentRules[op] == nil {
			t.Errorf("%s has a gradient rule and no forward rule", op)
		}
	}
}
