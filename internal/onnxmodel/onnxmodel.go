// Package onnxmodel gives lsweep's own packages the protobuf behind an
// onnx.Model. Package onnx keeps it out of its public API, whose users could
// not even name the generated types; this package, being internal, is out of
// their reach too.
package onnxmodel

import "github.com/lsweep/lsweep/internal/onnxpb"

// Holder holds a model's protobuf. onnx.Model embeds it under an unexported
// alias: that gives *onnx.Model the method Model asks for without adding a
// field or method to its documentation.
type Holder struct {
	proto *onnxpb.ModelProto
}

func (h *Holder) holder() *Holder { return h }

// Model is an *onnx.Model: only a type that embeds Holder (or a *Holder,
// which package onnx itself passes to Proto and With) has the unexported
// method. ReadTensor and StoredTensors need the *onnx.Model.
type Model interface {
	holder() *Holder
}

// Proto returns m's protobuf itself, not a copy. Callers that change it must
// not keep a Patcher made before the change.
func Proto(m Model) *onnxpb.ModelProto { return m.holder().proto }

// Graph returns m's main graph.
func Graph(m Model) *onnxpb.GraphProto { return Proto(m).GetGraph() }

// With makes mp, not a copy of it, m's protobuf, and returns m:
// onnxmodel.With(&onnx.Model{Path: "test.onnx"}, mp) makes a model.
func With[M Model](m M, mp *onnxpb.ModelProto) M {
	m.holder().proto = mp
	return m
}

// What package onnx computes on protobuf tensors, set by its init: any caller
// with a model to pass has imported onnx, so they are set before use.
var (
	readTensor    func(Model, *onnxpb.TensorProto) ([]float64, error)
	storedTensors func(Model) map[string]*onnxpb.TensorProto
)

// Register is called once, by package onnx, with its implementations of
// ReadTensor and StoredTensors.
func Register(read func(Model, *onnxpb.TensorProto) ([]float64, error), stored func(Model) map[string]*onnxpb.TensorProto) {
	readTensor, storedTensors = read, stored
}

// ReadTensor decodes t, a tensor of m, into float64 values, wherever the
// exporter stored them: raw_data, a typed field, or an external data file
// resolved against m.Dir. Integer types are converted exactly up to 2^53.
func ReadTensor(m Model, t *onnxpb.TensorProto) ([]float64, error) { return readTensor(m, t) }

// StoredTensors returns every tensor stored in m's main graph by value name:
// the initializers and the values of Constant nodes (attribute value).
func StoredTensors(m Model) map[string]*onnxpb.TensorProto { return storedTensors(m) }
