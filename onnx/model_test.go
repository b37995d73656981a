package onnx_test

import (
	"bytes"
	"errors"
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
