package onnx

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/lsweep/lsweep/internal/regularfile"

	"google.golang.org/protobuf/proto"

	"github.com/lsweep/lsweep/internal/onnxmodel"
	"github.com/lsweep/lsweep/internal/onnxpb"
)

// ErrNotONNX is returned (wrapped) when a file does not parse as an ONNX model.
var ErrNotONNX = errors.New("onnx: not an ONNX model")

// Model is a parsed ONNX model together with the folder its external data is
// resolved against.
type Model struct {
	// Path is the file the model was read from, or a caller-chosen name.
	Path string
	// Dir is the folder external data locations are relative to. Empty means
	// that external data cannot be read.
	Dir string
	// The parsed model, for lsweep's own packages only (internal/onnxmodel).
	holder
}

// holder names onnxmodel.Holder in lower case so that the embedded field is
// unexported.
type holder = onnxmodel.Holder

func init() {
	onnxmodel.Register(
		func(m onnxmodel.Model, t *onnxpb.TensorProto) ([]float64, error) { return m.(*Model).readTensor(t) },
		func(m onnxmodel.Model) map[string]*onnxpb.TensorProto { return m.(*Model).storedTensors() },
	)
}

// newModel returns a Model over mp, which it does not copy.
func newModel(path, dir string, mp *onnxpb.ModelProto) *Model {
	m := &Model{Path: path, Dir: dir}
	onnxmodel.With(&m.holder, mp)
	return m
}

func (m *Model) pb() *onnxpb.ModelProto { return onnxmodel.Proto(&m.holder) }

// Load reads and parses the model file at path.
func Load(path string) (*Model, error) {
	data, err := regularfile.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	return Parse(data, path, filepath.Dir(path))
}

// Parse parses model bytes. name is used in errors; dir is the folder that
// external data is resolved against.
func Parse(data []byte, name, dir string) (*Model, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: %s is empty", ErrNotONNX, name)
	}
	var mp onnxpb.ModelProto
	if err := proto.Unmarshal(data, &mp); err != nil {
		return nil, fmt.Errorf("%w: %s: %v (truncated or not a model file)", ErrNotONNX, name, err)
	}
	if mp.GetGraph() == nil || mp.GetIrVersion() == 0 {
		return nil, fmt.Errorf("%w: %s has no graph or no IR version", ErrNotONNX, name)
	}
	return newModel(name, dir, &mp), nil
}

func (m *Model) graph() *onnxpb.GraphProto { return m.pb().GetGraph() }

// IRVersion returns the ONNX IR version the model file declares.
func (m *Model) IRVersion() int64 { return m.pb().GetIrVersion() }

// ProducerName returns the name of the tool that wrote the model ("pytorch"),
// empty when the file does not say.
func (m *Model) ProducerName() string { return m.pb().GetProducerName() }

// ProducerVersion returns the version of the tool that wrote the model
// ("2.1.0"), empty when the file does not say.
func (m *Model) ProducerVersion() string { return m.pb().GetProducerVersion() }

// Opset returns the version of the default ("" or "ai.onnx") operator set, or
// 0 if the model imports none.
func (m *Model) Opset() int64 {
	for _, o := range m.pb().GetOpsetImport() {
		if d := o.GetDomain(); d == "" || d == "ai.onnx" {
			return o.GetVersion()
		}
	}
	return 0
}

// Node is one node of a model's main graph.
type Node struct {
	Name    string
	OpType  string   // "Conv", "Relu", ...
	Domain  string   // the operator set: "" for ONNX's own
	Inputs  []string // value names; "" for an omitted optional input
	Outputs []string
}

// Nodes returns the nodes of the main graph in file order (which exporters
// make an execution order).
func (m *Model) Nodes() []Node {
	nodes := m.graph().GetNode()
	out := make([]Node, len(nodes))
	for i, n := range nodes {
		out[i] = Node{Name: n.GetName(), OpType: n.GetOpType(), Domain: n.GetDomain(),
			Inputs: slices.Clone(n.GetInput()), Outputs: slices.Clone(n.GetOutput())}
	}
	return out
}

// Dim is one dimension of a value's shape: a fixed size, or a symbolic or
// unknown one (Value < 0).
type Dim struct {
	Value int64  // the size, or -1 when not fixed
	Param string // the symbolic name, if any
}

func (d Dim) String() string {
	switch {
	case d.Value >= 0:
		return fmt.Sprint(d.Value)
	case d.Param != "":
		return d.Param
	}
	return "?"
}

// ValueInfo describes a graph input or output.
type ValueInfo struct {
	Name     string
	ElemType DataType // UNDEFINED for non-tensor values
	Shape    []Dim    // nil when the rank is unknown
}

// Dims returns the shape as sizes, with -1 for dimensions that are not fixed.
func (v ValueInfo) Dims() []int64 {
	out := make([]int64, len(v.Shape))
	for i, d := range v.Shape {
		out[i] = d.Value
	}
	return out
}

func valueInfo(vi *onnxpb.ValueInfoProto) ValueInfo {
	out := ValueInfo{Name: vi.GetName()}
	tt := vi.GetType().GetTensorType()
	if tt == nil {
		return out
	}
	out.ElemType = DataType(tt.GetElemType())
	if tt.GetShape() == nil {
		return out
	}
	out.Shape = make([]Dim, 0, len(tt.GetShape().GetDim()))
	for _, d := range tt.GetShape().GetDim() {
		dim := Dim{Value: -1, Param: d.GetDimParam()}
		if _, ok := d.GetValue().(*onnxpb.TensorShapeProto_Dimension_DimValue); ok {
			dim.Value = d.GetDimValue()
		}
		out.Shape = append(out.Shape, dim)
	}
	return out
}

// Inputs returns the graph inputs that must be fed: those that are not also
// initializers (IR 3 exporters list every initializer as an input too).
func (m *Model) Inputs() []ValueInfo {
	inits := make(map[string]bool)
	for _, t := range m.graph().GetInitializer() {
		inits[t.GetName()] = true
	}
	var out []ValueInfo
	for _, vi := range m.graph().GetInput() {
		if !inits[vi.GetName()] {
			out = append(out, valueInfo(vi))
		}
	}
	return out
}

// Outputs returns the graph outputs.
func (m *Model) Outputs() []ValueInfo {
	var out []ValueInfo
	for _, vi := range m.graph().GetOutput() {
		out = append(out, valueInfo(vi))
	}
	return out
}

// Marshal returns the model's bytes, deterministically ordered.
func (m *Model) Marshal() ([]byte, error) {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m.pb())
	if err != nil {
		return nil, fmt.Errorf("onnx: %s: marshal: %w", m.Path, err)
	}
	return b, nil
}

// Clone returns a deep copy of the model.
func (m *Model) Clone() *Model {
	return newModel(m.Path, m.Dir, proto.Clone(m.pb()).(*onnxpb.ModelProto))
}
