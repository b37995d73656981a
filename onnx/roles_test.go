package onnx_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/lsweep/lsweep/internal/fixtures"
	"github.com/lsweep/lsweep/internal/onnxpb"
	"github.com/lsweep/lsweep/npz"
	"github.com/lsweep/lsweep/onnx"
)

// torchRole is the role a PyTorch parameter of the transformer fixtures has,
// read from its name: the embedding, position and class-token tables, the
// scale and shift of every LayerNorm/RMSNorm, the Linear and attention
// matrices, and their biases.
func torchRole(name string) onnx.Role {
	name = strings.TrimSuffix(name, " (transposed)")
	module, last := "", name
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		module, last = name[:i], name[i+1:]
	}
	leaf := module[strings.LastIndexByte(module, '.')+1:]
	switch {
	case name == "cls" || name == "pos" || leaf == "emb" || leaf == "tok" || leaf == "pos":
		return onnx.RoleEmbedding
	case strings.HasPrefix(leaf, "norm") || strings.HasPrefix(leaf, "ln") || leaf == "rms":
		if last == "weight" {
			return onnx.RoleNormScale
		}
		return onnx.RoleNormBias
	case last == "weight" || last == "in_proj_weight":
		return onnx.RoleWeight
	}
	return onnx.RoleBias
}

// torchNames maps each float initializer of a fixture to the PyTorch
// parameter it holds: the npz's grad/<name> entries (initializers named as
// the state_dict) or the fixture's names.json (anonymous initializers).
func torchNames(t *testing.T, model, source string) map[string]string {
	t.Helper()
	out := map[string]string{}
	if strings.HasSuffix(source, ".json") {
		b, err := os.ReadFile(source)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	f, err := npz.Open(source)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, k := range f.Keys() {
		if name, ok := strings.CutPrefix(k, "grad/"); ok {
			out[name] = name
		}
	}
	return out
}

// TestTransformerRoles checks the role and filter axis of every initializer
// of the transformer fixtures against the PyTorch parameter it holds, and
// that the decomposed and fused LayerNorm exports of one network agree
// tensor for tensor.
func TestTransformerRoles(t *testing.T) {
	const tr, seq = "../fixtures/testdata/transformer/", "../fixtures/testdata/sequence/"
	cases := []struct{ model, names string }{
		{tr + "vit_opset14.onnx", tr + "vit_params.npz"},
		{tr + "vit_opset17.onnx", tr + "vit_params.npz"},
		{tr + "rms_encoder.onnx", tr + "rms_encoder.names.json"},
		{seq + "encoder.onnx", seq + "encoder.ref.npz"},
		{seq + "causal_lm.onnx", seq + "lm.ref.npz"},
	}
	roles := map[string][]onnx.Param{}
	for _, c := range cases {
		t.Run(filepath.Base(c.model), func(t *testing.T) {
			m, err := onnx.Load(c.model)
			if err != nil {
				t.Fatal(err)
			}
			names := torchNames(t, c.model, c.names)
			seen := 0
			var inits []onnx.Param
			for _, p := range m.Params() {
				if p.Constant {
					// torch writes its own numbers (epsilons, GELU's 0.5, the
					// attention scale, a causal mask) as Constant nodes.
					if p.DType.IsFloat() && p.Role != onnx.RoleConstant {
						t.Errorf("Constant node %s: role %s, want %s", p.Name, p.Role, onnx.RoleConstant)
					}
					continue
				}
				inits = append(inits, p)
				torch, ok := names[p.Name]
				if !p.DType.IsFloat() {
					if ok || p.Role != onnx.RoleInteger {
						t.Errorf("%s: %s tensor with role %s", p.Name, p.DType, p.Role)
					}
					continue
				}
				if !ok {
					t.Errorf("float initializer %s is no PyTorch parameter", p.Name)
					continue
				}
				seen++
				want := torchRole(torch)
				wantAxis := -1
				switch want {
				case onnx.RoleWeight:
					// [out, in] behind a Transpose or in a Gemm with transB=1;
					// a folded transpose stores [in, out].
					wantAxis = 0
					if strings.HasSuffix(torch, "(transposed)") {
						wantAxis = 1
					}
				case onnx.RoleEmbedding:
					wantAxis = len(p.Shape) - 2 // one row per token or position
				}
				if p.Role != want || p.FilterAxis != wantAxis {
					t.Errorf("%s (%s) %v: role %s axis %d, want %s axis %d", p.Name, torch, p.Shape, p.Role, p.FilterAxis, want, wantAxis)
				}
			}
			if seen != len(names) {
				t.Errorf("%d of %d PyTorch parameters found", seen, len(names))
			}
			roles[filepath.Base(c.model)] = inits
		})
	}
	a, b := roles["vit_opset14.onnx"], roles["vit_opset17.onnx"]
	if len(a) == 0 || len(b) == 0 {
		return
	}
	byName := map[string]onnx.Param{}
	for _, p := range b {
		byName[p.Name] = p
	}
	for _, p := range a {
		if !p.DType.IsFloat() {
			continue
		}
		q, ok := byName[p.Name]
		if !ok || p.Role != q.Role || p.FilterAxis != q.FilterAxis || !slices.Equal(p.Shape, q.Shape) {
			t.Errorf("%s: opset 14 gives %s axis %d, opset 17 %s axis %d", p.Name, p.Role, p.FilterAxis, q.Role, q.FilterAxis)
		}
	}
}

// TestLabel checks the readable names of anonymous initializers: the path of
// the node that consumes them.
func TestLabel(t *testing.T) {
	m, err := onnx.Load("../fixtures/testdata/transformer/rms_encoder.onnx")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"onnx::MatMul_102": "/q",
		"onnx::MatMul_106": "/fc1",
		"onnx::MatMul_107": "/fc2",
		"onnx::Add_101":    "/Add",
		"head.weight":      "head.weight",
		"rms.weight":       "rms.weight",
	}
	got := map[string]string{}
	for _, p := range m.Params() {
		got[p.Name] = p.Label()
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: label %q, want %q", name, got[name], w)
		}
	}
	for _, c := range []struct{ name, node, want string }{
		{"onnx::MatMul_367", "/encoder/layers.0/mlp/fc1/MatMul", "/encoder/layers.0/mlp/fc1"},
		{"1234", "fc/Gemm", "fc"},
		{"onnx::Mul_5", "Mul_5", "Mul_5"},
		{"onnx::Mul_6", "", "onnx::Mul_6"},
		{"encoder.fc1.weight", "/encoder/fc1/MatMul", "encoder.fc1.weight"},
	} {
		if got := (onnx.Param{Name: c.name, ConsumerNode: c.node}).Label(); got != c.want {
			t.Errorf("Label of %s consumed by %q: %q, want %q", c.name, c.node, got, c.want)
		}
	}
}

// TestWrittenOutNorms checks the roles of scales and shifts after the other
// ways exporters write a normalisation out: x * Pow(mean(x^2) + eps, -0.5)
// (RMSNorm) and (x - mean) * Reciprocal(Sqrt(var + eps)) with the scale on
// the left; a plain multiplier and an attention mask stay "other".
func TestWrittenOutNorms(t *testing.T) {
	g := &onnxpb.GraphProto{Name: proto.String("norms")}
	init := func(name string, dims ...int64) {
		n := int(onnx.NumElements(dims))
		g.Initializer = append(g.Initializer, &onnxpb.TensorProto{Name: proto.String(name), Dims: dims, DataType: proto.Int32(1), FloatData: make([]float32, n)})
	}
	node := func(op string, out string, in ...string) {
		g.Node = append(g.Node, &onnxpb.NodeProto{Name: proto.String("/" + out + "/" + op), OpType: proto.String(op), Input: in, Output: []string{out}})
	}
	for _, s := range []string{"two", "eps", "mhalf"} {
		init(s)
	}
	init("g1", 4)
	init("g2", 4)
	init("b2", 4)
	init("k", 3)
	init("w", 4, 3)
	init("mask", 2, 2)
	node("Pow", "sq", "x", "two")
	node("ReduceMean", "ms", "sq")
	node("Add", "mse", "ms", "eps")
	node("Pow", "inv", "mse", "mhalf")
	node("Mul", "n1", "x", "inv")
	node("Mul", "s1", "n1", "g1")
	node("ReduceMean", "mu", "s1")
	node("Sub", "c", "s1", "mu")
	node("Pow", "c2", "c", "two")
	node("ReduceMean", "var", "c2")
	node("Add", "vare", "var", "eps")
	node("Sqrt", "sd", "vare")
	node("Reciprocal", "isd", "sd")
	node("Mul", "n2", "c", "isd")
	node("Mul", "s2", "g2", "n2")
	node("Add", "o", "s2", "b2")
	node("MatMul", "y", "o", "w")
	node("Mul", "z", "y", "k")
	node("MatMul", "sc", "z", "z")
	node("Add", "scm", "sc", "mask")
	node("Softmax", "p", "scm")
	g.Input = []*onnxpb.ValueInfoProto{fixtures.ValueInfo("x", 1, 2, 4)}
	g.Output = []*onnxpb.ValueInfoProto{fixtures.ValueInfo("p", 1, 2, 2)}
	data, err := proto.Marshal(&onnxpb.ModelProto{IrVersion: proto.Int64(8), OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(17)}}, Graph: g})
	if err != nil {
		t.Fatal(err)
	}
	m, err := onnx.Parse(data, "norms.onnx", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]onnx.Role{
		"g1": onnx.RoleNormScale, "g2": onnx.RoleNormScale, "b2": onnx.RoleNormBias,
		"w": onnx.RoleWeight, "k": onnx.RoleOther, "mask": onnx.RoleOther, "mhalf": onnx.RoleOther,
	}
	for _, p := range m.Params() {
		if w, ok := want[p.Name]; ok && p.Role != w {
			t.Errorf("%s: role %s, want %s", p.Name, p.Role, w)
		}
		if p.Name == "w" && p.FilterAxis != 1 {
			t.Errorf("w [in, out]: filter axis %d, want 1", p.FilterAxis)
		}
	}
}
