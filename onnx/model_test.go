package onnx_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/lsweep/lsweep/onnx"
)

// TestRoundTrip: a model PyTorch wrote comes back byte for byte from Parse
// and Marshal, so that rewriting a model changes only what was changed.
func TestRoundTrip(t *testing.T) {
	files, _ := filepath.Glob("../fixtures/testdata/*/*.onnx")
	if len(files) == 0 {
		t.Fatal("no fixture models")
	}
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		m, err := onnx.Parse(data, path, filepath.Dir(path))
		if err != nil {
			t.Fatal(err)
		}
		out, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, data) {
			t.Errorf("%s: %d bytes in, %d bytes out, or different bytes", path, len(data), len(out))
		}
	}
}

func TestParseErrors(t *testing.T) {
	whole, err := os.ReadFile("../fixtures/testdata/digits/resnet_skip.onnx")
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"empty":     nil,
		"text":      []byte("hello, this is not protobuf"),
		"truncated": whole[:len(whole)/2],
		"no graph":  {0x08, 0x07}, // ir_version 7 and nothing else
	} {
		if _, err := onnx.Parse(data, name, ""); !errors.Is(err, onnx.ErrNotONNX) {
			t.Errorf("%s: got %v, want ErrNotONNX", name, err)
		}
	}
}

// TestModelInfo reads what inspect prints from a model PyTorch 1.13 wrote
// (values checked with Python's onnx package).
func TestModelInfo(t *testing.T) {
	m, err := onnx.Load("../fixtures/testdata/digits/mlp_sigmoid.onnx")
	if err != nil {
		t.Fatal(err)
	}
	if m.IRVersion() != 7 || m.ProducerName() != "pytorch" || m.ProducerVersion() != "1.13.0" {
		t.Errorf("IR %d, producer %q %q; want 7, pytorch 1.13.0", m.IRVersion(), m.ProducerName(), m.ProducerVersion())
	}
	nodes := m.Nodes()
	var ops []string
	for _, n := range nodes {
		ops = append(ops, n.OpType)
	}
	if got, want := fmt.Sprint(ops), "[Flatten Gemm Relu Gemm Sigmoid]"; got != want {
		t.Fatalf("ops %s, want %s", got, want)
	}
	gemm := nodes[1]
	if gemm.Name != "/fc1/Gemm" || gemm.Domain != "" || fmt.Sprint(gemm.Inputs) != "[/Flatten_output_0 fc1.weight fc1.bias]" ||
		fmt.Sprint(gemm.Outputs) != "[/fc1/Gemm_output_0]" {
		t.Errorf("node 1: %+v", gemm)
	}
	// The views are copies: changing one leaves the model alone.
	gemm.Inputs[1] = "changed"
	if m.Nodes()[1].Inputs[1] != "fc1.weight" {
		t.Error("Nodes shares its slices with the model")
	}
}
