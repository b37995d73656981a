package engine

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckCUDAFiles(t *testing.T) {
	dir := t.TempDir()
	lib := filepath.Join(dir, "libonnxruntime.so")
	for _, name := range []string{"libonnxruntime.so", cudaProviderLib} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	err := checkCUDAFiles(lib)
	if !errors.Is(err, ErrNoCUDA) || !strings.Contains(err.Error(), "(no "+sharedProviderLib+" beside it)") {
		t.Errorf("without the shared provider library: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, sharedProviderLib), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := checkCUDAFiles(lib); err != nil {
		t.Errorf("with both provider libraries: %v", err)
	}
	if err := checkCUDAFiles("libonnxruntime.so"); err != nil {
		t.Errorf("a bare name, left to the loader: %v", err)
	}
}

// TestCUDAError checks the one-line forms of ONNX Runtime's errors when a
// CUDA library or the GPU is missing (messages as ONNX Runtime 1.29 words
// them).
func TestCUDAError(t *testing.T) {
	for _, c := range []struct{ raw, want string }{
		{
			"/onnxruntime_src/onnxruntime/core/session/provider_bridge_ort.cc:1988 onnxruntime::Provider& onnxruntime::ProviderLibrary::Get() [ONNXRuntimeError] : 1 : FAIL : Failed to load library /x/libonnxruntime_providers_cuda.so with error: libcublasLt.so.13: cannot open shared object file: No such file or directory",
			"engine: --device cuda: cannot load libonnxruntime_providers_cuda.so: libcublasLt.so.13: cannot open shared object file: No such file or directory; it needs CUDA and cuDNN on LD_LIBRARY_PATH (or pass another CUDA build of ONNX Runtime with --onnxruntime)",
		},
		{
			"Error creating C session: /onnxruntime_src/onnxruntime/core/providers/cuda/cuda_call.cc:129 std::conditional_t<THRW, void, onnxruntime::common::Status> onnxruntime::CudaCall(ERRTYPE, const char*, const char*, SUCCTYPE, const char*, const char*, int) [with ERRTYPE = cudaError; bool THRW = true; SUCCTYPE = cudaError; std::conditional_t<THRW, void, onnxruntime::common::Status> = void] CUDA failure 100: no CUDA-capable device is detected ; GPU=-1 ; hostname=h ; file=/onnxruntime_src/onnxruntime/core/providers/cuda/cuda_execution_provider.cc ; line=282 ; expr=cudaSetDevice(info_.device_id); \n\n",
			"engine: --device cuda: CUDA failure 100: no CUDA-capable device is detected (library /x/libonnxruntime.so)",
		},
	} {
		err := cudaError(errors.New(c.raw), "/x/libonnxruntime.so")
		msg := err.Error()
		if !errors.Is(err, ErrNoCUDA) || msg != c.want || strings.Contains(msg, "\n") || strings.Contains(msg, "hostname") {
			t.Errorf("%q\ngives %q", c.raw, msg)
		}
	}
}
