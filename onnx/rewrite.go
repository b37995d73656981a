package onnx

import (
	"fmt"

	"github.com/lsweep/lsweep/internal/onnxpb"
)

// Value returns the values of the stored tensor (initializer or Constant
// value) the graph calls name, as float64.
func (m *Model) Value(name string) ([]float64, error) {
	t := newGraphIndex(m).stored(name)
	if t == nil {
		return nil, fmt.Errorf("onnx: %s: no initializer or Constant value named %q", m.Path, name)
	}
	return m.readTensor(t)
}

// BatchParam is the symbolic name WithDynamicBatch gives the batch dimension.
const BatchParam = "batch"

// WithDynamicBatch returns a copy of m in which the first dimension of every
// fed input and every output is symbolic, for a model exported with a fixed
// batch of 1. Intermediate shape annotations (value_info) are dropped so that
// ONNX Runtime infers them again. ok is false, and m is returned unchanged,
// when some input or output does not start with a fixed dimension of 1.
// Whether the graph really computes per-sample with a larger batch (a Reshape
// to a constant shape would break it) is for the caller to check.
func (m *Model) WithDynamicBatch() (out *Model, ok bool) {
	inits := make(map[string]bool)
	for _, t := range m.graph().GetInitializer() {
		inits[t.GetName()] = true
	}
	var vis []*onnxpb.ValueInfoProto
	c := m.Clone()
	for _, vi := range c.graph().GetInput() {
		if !inits[vi.GetName()] {
			vis = append(vis, vi)
		}
	}
	vis = append(vis, c.graph().GetOutput()...)
	for _, vi := range vis {
		dims := vi.GetType().GetTensorType().GetShape().GetDim()
		if len(dims) == 0 || dims[0].GetDimValue() != 1 {
			return m, false
		}
	}
	for _, vi := range vis {
		d := vi.GetType().GetTensorType().GetShape().GetDim()[0]
		d.Value = &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: BatchParam}
	}
	c.graph().ValueInfo = nil
	return c, true
}
