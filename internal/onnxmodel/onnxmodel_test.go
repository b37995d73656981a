package onnxmodel_test

import (
	"testing"

	"github.com/lsweep/lsweep/internal/onnxmodel"
	"github.com/lsweep/lsweep/onnx"
)

// The bridge reaches the very protobuf package onnx uses, and package onnx's
// hooks work on it.
func TestBridge(t *testing.T) {
	m, err := onnx.Load("../../fixtures/testdata/digits/mlp_sigmoid.onnx")
	if err != nil {
		t.Fatal(err)
	}
	mp := onnxmodel.Proto(m)
	if mp.GetIrVersion() != m.IRVersion() || len(onnxmodel.Graph(m).GetNode()) != len(m.Nodes()) {
		t.Fatal("Proto and Graph are not the model's")
	}
	stored := onnxmodel.StoredTensors(m)
	w := stored["fc2.weight"]
	if w == nil {
		t.Fatalf("no fc2.weight among %d stored tensors", len(stored))
	}
	got, err := onnxmodel.ReadTensor(m, w)
	if err != nil {
		t.Fatal(err)
	}
	want, err := m.Value("fc2.weight")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 32 || len(got) != len(want) || got[0] != want[0] || got[31] != want[31] {
		t.Errorf("ReadTensor: %d values, Value: %d", len(got), len(want))
	}

	// With shares the protobuf: a change through the bridge shows in the model.
	c := onnxmodel.With(&onnx.Model{Path: "copy.onnx"}, mp)
	onnxmodel.Graph(c).GetNode()[0].OpType = new("Identity")
	if m.Nodes()[0].OpType != "Identity" {
		t.Error("With copied the protobuf")
	}
}
