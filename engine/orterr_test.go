package engine

import (
	"errors"
	"testing"
)

func TestCleanORT(t *testing.T) {
	raw := errors.New("Error creating C session: /onnxruntime_src/onnxruntime/core/graph/model_load_utils.h:46 void onnxruntime::model_load_utils::ValidateOpsetForDomain(const std::unordered_map<std::__cxx11::basic_string<char>, int>&, const onnxruntime::logging::Logger&, bool, const std::string&, int) ONNX Runtime only *guarantees* support for models stamped with official released onnx opset versions. Opset 99 is under development.")
	got := cleanORT(raw)
	want := "ONNX Runtime only *guarantees* support for models stamped with official released onnx opset versions. Opset 99 is under development."
	if got.Error() != want {
		t.Errorf("got %q", got)
	}
	if !errors.Is(got, raw) {
		t.Error("the original error is lost")
	}
	plain := errors.New("Error running model: bad input")
	if cleanORT(plain) != plain {
		t.Error("a message without a source location changed")
	}
}
