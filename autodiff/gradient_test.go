package autodiff_test

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lsweep/lsweep/autodiff"

	"google.golang.org/protobuf/proto"

	"github.com/lsweep/lsweep/internal/fixtures"
	"github.com/lsweep/lsweep/internal/onnxmodel"
	"github.com/lsweep/lsweep/internal/onnxpb"
	"github.com/lsweep/lsweep/loss"
	"github.com/lsweep/lsweep/onnx"
)

// The gradient models' numbers are checked against finite differences in
// package engine, which runs them; these tests check their structure and the
// errors.

func valueInfos(vis []onnx.ValueInfo) map[string]onnx.ValueInfo {
	out := map[string]onnx.ValueInfo{}
	for _, v := range vis {
		out[v.Name] = v
	}
	return out
}

func TestGradientModelStructure(t *testing.T) {
	m := parse(t, fixtures.GemmTransB1(), "")
	before, _ := m.Marshal()
	gm, err := autodiff.GradientModel(m, "", loss.Logits, []string{"fc1.weight", "fc2.weight"})
	if err != nil {
		t.Fatal(err)
	}
	after, _ := m.Marshal()
	if !slices.Equal(before, after) {
		t.Error("GradientModel changed its receiver")
	}
	ins := valueInfos(gm.Inputs())
	for name, want := range map[string]struct {
		dt   onnx.DataType
		dims []int64
	}{
		"x":                 {onnx.Float, []int64{-1, 6}},
		autodiff.GradLabels: {onnx.Int64, []int64{-1}},
		"fc1.weight":        {onnx.Float, []int64{5, 6}},
		"fc2.weight":        {onnx.Float, []int64{3, 5}},
	} {
		in, ok := ins[name]
		if !ok {
			t.Errorf("no input %q; inputs %v", name, gm.Inputs())
			continue
		}
		if in.ElemType != want.dt || !slices.Equal(in.Dims(), want.dims) {
			t.Errorf("input %q is %v %v, want %v %v", name, in.ElemType, in.Dims(), want.dt, want.dims)
		}
	}
	if len(ins) != 4 {
		t.Errorf("inputs %v, want x, labels and the two weights", gm.Inputs())
	}
	outs := gm.Outputs()
	want := []struct {
		name string
		dims []int64
	}{{autodiff.GradLoss, []int64{}}, {"grad/fc1.weight", []int64{5, 6}}, {"grad/fc2.weight", []int64{3, 5}}}
	if len(outs) != len(want) {
		t.Fatalf("outputs %v", outs)
	}
	for i, w := range want {
		if outs[i].Name != w.name || outs[i].ElemType != onnx.Float || !slices.Equal(outs[i].Dims(), w.dims) {
			t.Errorf("output %d is %s %v %v, want %s float %v", i, outs[i].Name, outs[i].ElemType, outs[i].Dims(), w.name, w.dims)
		}
	}
	// The weights are inputs now, the biases still stored.
	for _, p := range gm.Params() {
		if p.Name == "fc1.weight" || p.Name == "fc2.weight" {
			t.Errorf("%s is still stored", p.Name)
		}
	}
	if _, err := gm.Value("fc1.bias"); err != nil {
		t.Errorf("fc1.bias: %v", err)
	}
	if gm.Opset() != 13 {
		t.Errorf("opset %d, want 13", gm.Opset())
	}
	// It round-trips.
	data, err := gm.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := onnx.Parse(data, "g.onnx", ""); err != nil {
		t.Fatal(err)
	}
}

func TestGradientModelHeads(t *testing.T) {
	for _, c := range []struct {
		tiny   *fixtures.Tiny
		head   loss.Head
		labels onnx.DataType
		dims   []int64
	}{
		{fixtures.Regression(), loss.MSE, onnx.Float, []int64{-1, 1}},
		{fixtures.SigmoidBinary(), loss.Sigmoid, onnx.Int64, []int64{-1}},
		{fixtures.SigmoidBinary(), "", onnx.Int64, []int64{-1}},
		{fixtures.MultiOutput(), loss.Probs, onnx.Int64, []int64{-1}},
		{fixtures.FixedBatch1(), loss.Logits, onnx.Int64, []int64{1}},
	} {
		t.Run(c.tiny.Name+"/"+string(c.head), func(t *testing.T) {
			m := parse(t, c.tiny, "")
			var wrt []string
			for _, w := range c.tiny.Perturbable {
				wrt = append(wrt, w.Name)
			}
			gm, err := autodiff.GradientModel(m, "", c.head, wrt)
			if err != nil {
				t.Fatal(err)
			}
			l := valueInfos(gm.Inputs())[autodiff.GradLabels]
			if l.ElemType != c.labels || !slices.Equal(l.Dims(), c.dims) {
				t.Errorf("labels %v %v, want %v %v", l.ElemType, l.Dims(), c.labels, c.dims)
			}
			// The ArgMax of MultiOutput's label output is not needed.
			for _, n := range onnxmodel.Graph(gm).GetNode() {
				if n.GetOpType() == "ArgMax" {
					t.Error("the unused ArgMax is kept")
				}
			}
		})
	}
	m := parse(t, fixtures.GemmTransB1(), "")
	if _, err := autodiff.GradientModel(m, "", loss.Sigmoid, []string{"fc1.weight"}); err == nil {
		t.Error("a sigmoid head on 3 columns is accepted")
	}
	if _, err := autodiff.GradientModel(m, "", "hinge", []string{"fc1.weight"}); err == nil {
		t.Error("an unknown head is accepted")
	}
}

// TestGradientModelStoredKinds covers weights in Constant nodes, typed
// fields, behind Transpose/Identity/Reshape/Cast (a float16 weight gets a
// float gradient), and an IR 3 model of opset 9 raised to 13.
func TestGradientModelStoredKinds(t *testing.T) {
	for _, tiny := range []*fixtures.Tiny{fixtures.ConstantWeights(), fixtures.TypedFields(), fixtures.ThroughOps(), fixtures.IR3Inputs(), fixtures.NHWCInput()} {
		t.Run(tiny.Name, func(t *testing.T) {
			m := parse(t, tiny, "")
			var wrt []string
			for _, w := range tiny.Perturbable {
				wrt = append(wrt, w.Name)
			}
			gm, err := autodiff.GradientModel(m, "", "", wrt)
			if err != nil {
				t.Fatal(err)
			}
			outs := valueInfos(gm.Outputs())
			ins := valueInfos(gm.Inputs())
			for _, w := range tiny.Perturbable {
				g, ok := outs[autodiff.GradPrefix+w.Name]
				if !ok || !slices.Equal(g.Dims(), w.Shape) {
					t.Errorf("gradient of %s: %v, want shape %v", w.Name, g, w.Shape)
				}
				if g.ElemType != onnx.Float {
					t.Errorf("gradient of %s is %v, want float", w.Name, g.ElemType)
				}
				if in := ins[w.Name]; !slices.Equal(in.Dims(), w.Shape) {
					t.Errorf("input %s has shape %v, want %v", w.Name, in.Dims(), w.Shape)
				}
			}
			for _, n := range onnxmodel.Graph(gm).GetNode() {
				if n.GetOpType() == "Constant" && slices.Contains(wrt, n.GetOutput()[0]) {
					t.Errorf("Constant node %s still computes a weight", n.GetOutput()[0])
				}
			}
			if gm.Opset() < 13 || onnxmodel.Proto(gm).GetIrVersion() < 7 {
				t.Errorf("opset %d, IR %d", gm.Opset(), onnxmodel.Proto(gm).GetIrVersion())
			}
		})
	}
}

// graph is a tiny model builder for these tests: x [N, 4] through nodes.
type graph struct {
	g *onnxpb.GraphProto
}

func newGraph() *graph {
	return &graph{g: &onnxpb.GraphProto{Input: []*onnxpb.ValueInfoProto{fixtures.ValueInfo("x", int32(onnx.Float), -1, 4)}}}
}

func (g *graph) weight(name string, dims ...int64) string {
	n := int64(1)
	for _, d := range dims {
		n *= d
	}
	g.g.Initializer = append(g.g.Initializer, &onnxpb.TensorProto{Name: proto.String(name), Dims: dims,
		DataType: proto.Int32(int32(onnx.Float)), FloatData: make([]float32, n)})
	return name
}

func (g *graph) node(name, op string, in []string, attrs ...*onnxpb.AttributeProto) string {
	g.g.Node = append(g.g.Node, &onnxpb.NodeProto{Name: proto.String(name), OpType: proto.String(op), Input: in, Output: []string{name}, Attribute: attrs})
	return name
}

func (g *graph) model(out string, cols, opset int64) *onnx.Model {
	g.g.Output = []*onnxpb.ValueInfoProto{fixtures.ValueInfo(out, int32(onnx.Float), -1, cols)}
	return onnxmodel.With(&onnx.Model{Path: "g.onnx"}, &onnxpb.ModelProto{IrVersion: proto.Int64(8), Graph: g.g,
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(opset)}}})
}

func ints(name string, v ...int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: v}
}

// TestGradientModelNoGradient checks that an op without a rule on a path
// from a weight to the loss is an error naming it, and that the same op
// elsewhere is not.
func TestGradientModelNoGradient(t *testing.T) {
	g := newGraph()
	h := g.node("mm", "MatMul", []string{"x", g.weight("W", 4, 3)})
	h = g.node("the_atan", "Atan", []string{h})
	m := g.model(h, 3, 13)
	_, err := autodiff.GradientModel(m, "", loss.Logits, []string{"W"})
	if !errors.Is(err, autodiff.ErrNoGradient) {
		t.Fatalf("error %v, want ErrNoGradient", err)
	}
	if !strings.Contains(err.Error(), `"the_atan"`) || !strings.Contains(err.Error(), "Atan") {
		t.Errorf("error %q does not name the node and its op", err)
	}

	// Atan on the data, before the weight, needs no gradient.
	g = newGraph()
	h = g.node("the_atan", "Atan", []string{"x"})
	h = g.node("mm", "MatMul", []string{h, g.weight("W", 4, 3)})
	if _, err := autodiff.GradientModel(g.model(h, 3, 13), "", loss.Logits, []string{"W"}); err != nil {
		t.Errorf("Erf before the weight: %v", err)
	}

	// Erf on a branch that does not reach the output is pruned.
	g = newGraph()
	h = g.node("mm", "MatMul", []string{"x", g.weight("W", 4, 3)})
	g.node("unused", "Atan", []string{h})
	if _, err := autodiff.GradientModel(g.model(h, 3, 13), "", loss.Logits, []string{"W"}); err != nil {
		t.Errorf("Erf off the path: %v", err)
	}

	// Unsupported attributes are named too.
	g = newGraph()
	h = g.node("r", "Reshape", []string{"x", "shape"})
	g.g.Initializer = append(g.g.Initializer, &onnxpb.TensorProto{Name: proto.String("shape"), Dims: []int64{4},
		DataType: proto.Int32(int32(onnx.Int64)), Int64Data: []int64{-1, 1, 2, 2}})
	h = g.node("pool", "MaxPool", []string{g.node("c", "Conv", []string{h, g.weight("W", 2, 1, 1, 1)})}, ints("kernel_shape", 2, 2))
	h = g.node("f", "Flatten", []string{h})
	pool := g.g.Node[2]
	pool.Attribute = append(pool.Attribute, &onnxpb.AttributeProto{Name: proto.String("storage_order"), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(1)})
	_, err = autodiff.GradientModel(g.model(h, 2, 13), "", loss.Logits, []string{"W"})
	if !errors.Is(err, autodiff.ErrNoGradient) || !strings.Contains(err.Error(), `"pool"`) {
		t.Errorf("storage_order=1: error %v", err)
	}
}

func TestGradientModelErrors(t *testing.T) {
	m := parse(t, fixtures.GemmTransB1(), "")
	for _, c := range []struct {
		name string
		wrt  []string
		want string
	}{
		{"none", nil, "no tensor"},
		{"missing", []string{"nope"}, `"nope"`},
		{"data input", []string{"x"}, `"x"`},
		{"twice", []string{"fc1.weight", "fc1.weight"}, "twice"},
	} {
		if _, err := autodiff.GradientModel(m, "", loss.Logits, c.wrt); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one mentioning %s", c.name, err, c.want)
		}
	}
	if _, err := autodiff.GradientModel(parse(t, fixtures.NoWeights(), ""), "", loss.Logits, []string{"offset"}); err == nil {
		t.Error("an integer model is accepted")
	}
	if _, err := autodiff.GradientModel(parse(t, fixtures.GemmTransB1(), ""), "nope", loss.Logits, []string{"fc1.weight"}); err == nil {
		t.Error("an unknown output is accepted")
	}
	// A value already named "labels" cannot be shadowed.
	tiny := fixtures.GemmTransB1()
	for _, n := range tiny.Model.GetGraph().GetNode() {
		for i, o := range n.Output {
			if o == "relu1" {
				n.Output[i] = autodiff.GradLabels
			}
		}
		for i, in := range n.Input {
			if in == "relu1" {
				n.Input[i] = autodiff.GradLabels
			}
		}
	}
	if _, err := autodiff.GradientModel(parse(t, tiny, ""), "", loss.Logits, []string{"fc1.weight"}); err == nil || !strings.Contains(err.Error(), autodiff.GradLabels) {
		t.Errorf("a model with a value named labels: error %v", err)
	}
}

// TestGradientModelFoldsBatchNorm checks that a Conv followed by an
// inference BatchNormalization with constant statistics becomes one Conv
// whose weight is scaled, and that the normalisation stays when its tensors
// are differentiated too.
func TestGradientModelFoldsBatchNorm(t *testing.T) {
	m, err := onnx.Load(filepath.Join("..", "fixtures", "testdata", "digits", "resnet_skip.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	ws, err := m.Perturbable()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, w := range ws {
		names = append(names, w.Name)
	}
	count := func(gm *onnx.Model, op string) int {
		n := 0
		for _, node := range onnxmodel.Graph(gm).GetNode() {
			if node.GetOpType() == op {
				n++
			}
		}
		return n
	}
	gm, err := autodiff.GradientModel(m, "", "", names)
	if err != nil {
		t.Fatal(err)
	}
	if n := count(gm, "BatchNormalization"); n != 0 {
		t.Errorf("%d BatchNormalization nodes left", n)
	}
	for _, p := range gm.Params() {
		if strings.Contains(p.Name, "running_mean") {
			t.Errorf("%s is still stored", p.Name)
		}
	}
	gm, err = autodiff.GradientModel(m, "", "", append(names, "bn1.weight"))
	if err != nil {
		t.Fatal(err)
	}
	if n := count(gm, "BatchNormalization"); n != 1 {
		t.Errorf("%d BatchNormalization nodes, want bn1's", n)
	}
}

// TestGradientModelMaxPoolOpset checks that a max pool whose windows overlap
// raises the opset to 16 (ScatterElements with reduction add) and one whose
// windows do not keeps 13.
func TestGradientModelMaxPoolOpset(t *testing.T) {
	for _, c := range []struct {
		k, s  int64
		opset int64
	}{{2, 2, 13}, {3, 2, 16}} {
		g := newGraph()
		h := g.node("r", "Reshape", []string{"x", "shape"})
		g.g.Initializer = append(g.g.Initializer, &onnxpb.TensorProto{Name: proto.String("shape"), Dims: []int64{4},
			DataType: proto.Int32(int32(onnx.Int64)), Int64Data: []int64{-1, 1, 2, 2}})
		h = g.node("c", "Conv", []string{h, g.weight("W", 2, 1, 1, 1)}, ints("pads", 1, 1, 1, 1))
		h = g.node("pool", "MaxPool", []string{h}, ints("kernel_shape", c.k, c.k), ints("strides", c.s, c.s))
		h = g.node("f", "Flatten", []string{h})
		gm, err := autodiff.GradientModel(g.model(h, 2, 13), "", loss.Logits, []string{"W"})
		if err != nil {
			t.Fatal(err)
		}
		if gm.Opset() != c.opset {
			t.Errorf("kernel %d stride %d: opset %d, want %d", c.k, c.s, gm.Opset(), c.opset)
		}
	}
}

func TestGradientOps(t *testing.T) {
	ops := autodiff.GradientOps()
	for _, want := range []string{"Conv", "ConvTranspose", "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Relu", "LeakyRelu",
		"Sigmoid", "Tanh", "Softmax", "LogSoftmax", "BatchNormalization", "MaxPool", "AveragePool", "GlobalAveragePool",
		"Flatten", "Reshape", "Transpose", "Concat", "Identity", "Dropout", "Pad", "Squeeze", "Unsqueeze", "Cast",
		"Pow", "Erf", "Gather", "GatherElements", "Where", "Slice", "Split", "Max", "Min", "ReduceMax", "ReduceMin",
		"LayerNormalization", "Gelu", "Einsum", "Trilu", "Tile", "Expand", "Sin", "Cos", "HardSigmoid", "HardSwish",
		"Elu", "Selu", "Softsign", "PRelu", "InstanceNormalization", "ReduceL2", "ReduceLogSumExp", "ReduceProd",
		"CumSum", "Mean", "Sum"} {
		if !slices.Contains(ops, want) {
			t.Errorf("no gradient rule for %s", want)
		}
		if !slices.Contains(autodiff.TangentOps(), want) {
			t.Errorf("no forward rule for %s", want)
		}
	}
}

// parse marshals a fixture's proto and parses it back, as a file would be.
func parse(t *testing.T, tiny *fixtures.Tiny, dir string) *onnx.Model {
	t.Helper()
	data, err := proto.Marshal(tiny.Model)
	if err != nil {
		t.Fatal(err)
	}
	m, err := onnx.Parse(data, tiny.Name+".onnx", dir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
