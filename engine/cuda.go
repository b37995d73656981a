package engine

import (
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	ort "github.com/yalue/onnxruntime_go"
	"google.golang.org/protobuf/proto"

	"github.com/lsweep/lsweep/internal/onnxpb"
)

// CUDARuntimeVersion is the ONNX Runtime release that
// scripts/install-onnxruntime.sh --cuda installs: the newest whose CUDA
// provider a package registry serves. It accepts the C API 24 calls of the
// binding like RuntimeVersion does.
const CUDARuntimeVersion = "1.29.0"

// CUDA provider libraries, which ONNX Runtime loads from the folder of
// libonnxruntime.so when a session asks for the CUDA execution provider.
const (
	cudaProviderLib   = "libonnxruntime_providers_cuda.so"
	sharedProviderLib = "libonnxruntime_providers_shared.so"
)

// ErrNoCUDA is returned (wrapped) when Device is "cuda" and the CUDA
// execution provider or what it needs (its libraries, CUDA, cuDNN, a GPU)
// is missing.
var ErrNoCUDA = errors.New("engine: --device cuda")

// CUDAHint says where a CUDA build of ONNX Runtime comes from.
var CUDAHint = "install one with scripts/install-onnxruntime.sh --cuda (into " + CUDALibraryDir() + "), or put a CUDA build of ONNX Runtime " + RuntimeVersion + " or newer (libonnxruntime.so with " + cudaProviderLib + " and " + sharedProviderLib + " beside it) in a folder and pass its libonnxruntime.so with --onnxruntime or " + LibraryEnv

// CUDALibraryDir is the folder scripts/install-onnxruntime.sh --cuda
// installs into: $XDG_DATA_HOME/lsweep/onnxruntime-<version>-cuda.
func CUDALibraryDir() string {
	dir := DefaultLibraryDir()
	if dir == "" {
		return ""
	}
	return filepath.Join(filepath.Dir(dir), "onnxruntime-"+CUDARuntimeVersion+"-cuda")
}

// libraryFor returns the library Init should load for opts: with Device
// "cuda" and no library named, the --cuda install when it is there.
func libraryFor(opts Options) string {
	if opts.Library != "" || opts.Device != "cuda" || os.Getenv(LibraryEnv) != "" {
		return opts.Library
	}
	if dir := CUDALibraryDir(); dir != "" {
		p := filepath.Join(dir, "libonnxruntime.so")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return opts.Library
}

// checkCUDAFiles tells, before any session is made, whether the provider
// libraries sit beside the loaded library. A bare library name (resolved
// by the system loader) leaves the folder unknown: ONNX Runtime's own
// error then tells.
func checkCUDAFiles(library string) error {
	if !strings.Contains(library, "/") {
		return nil
	}
	dir := filepath.Dir(library)
	var missing []string
	for _, name := range []string{cudaProviderLib, sharedProviderLib} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s is not a CUDA build of ONNX Runtime (no %s beside it); %s", ErrNoCUDA, library, strings.Join(missing, " or "), CUDAHint)
}

// loadFailure picks the loader's reason out of ONNX Runtime's "Failed to
// load library X with error: Y".
var loadFailure = regexp.MustCompile(`Failed to load library (\S+) with error: (.*)`)

// cudaFailure matches the start of ONNX Runtime's CUDA call errors.
var cudaFailure = regexp.MustCompile(`\b(CUDA|CUDNN|CUBLAS|CURAND|CUFFT) failure \d+:`)

// cudaError turns ONNX Runtime's error on appending the CUDA provider into
// one line that names what is missing: a library the provider needs (with
// the CUDA and cuDNN libraries it links), or the GPU itself.
func cudaError(err error, library string) error {
	msg := strings.Join(strings.Fields(cleanORT(err).Error()), " ")
	if m := loadFailure.FindStringSubmatch(msg); m != nil {
		reason := strings.TrimPrefix(m[2], m[1]+": ")
		needs := "CUDA and cuDNN"
		if libs := cudaNeeds(m[1]); len(libs) > 0 {
			needs = "CUDA's " + strings.Join(libs, ", ") + " and cuDNN 9"
		}
		return fmt.Errorf("%w: cannot load %s: %s; it needs %s on LD_LIBRARY_PATH (or pass another CUDA build of ONNX Runtime with --onnxruntime)", ErrNoCUDA, filepath.Base(m[1]), reason, needs)
	}
	// "CUDA failure 100: no CUDA-capable device is detected ; GPU=-1 ;
	// hostname=... ; file=... ; line=... ; expr=cudaSetDevice(...);"
	if i := strings.Index(msg, " ; GPU="); i >= 0 {
		msg = msg[:i]
	}
	// The C++ template arguments before it say nothing to a user.
	if loc := cudaFailure.FindStringIndex(msg); loc != nil {
		msg = msg[loc[0]:]
	}
	return fmt.Errorf("%w: %s (library %s)", ErrNoCUDA, msg, library)
}

// cudaNeeds lists the CUDA libraries the provider library links, from its
// dynamic section: they name the CUDA major version it was built for.
func cudaNeeds(path string) []string {
	f, err := elf.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	libs, err := f.ImportedLibraries()
	if err != nil {
		return nil
	}
	var cuda []string
	for _, l := range libs {
		if strings.HasPrefix(l, "libcu") || strings.HasPrefix(l, "libnv") {
			cuda = append(cuda, l)
		}
	}
	return cuda
}

// probeCUDA makes one session of a one-node model with the CUDA options:
// ONNX Runtime starts the provider on the device there, so a missing GPU,
// driver or CUDA library shows before the first point instead of in it.
func probeCUDA(so *ort.SessionOptions, library string) error {
	f32 := int32(onnxpb.TensorProto_FLOAT)
	vi := func(name string) *onnxpb.ValueInfoProto {
		return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
			TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(f32), Shape: &onnxpb.TensorShapeProto{
				Dim: []*onnxpb.TensorShapeProto_Dimension{{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: 1}}}}}}}}
	}
	m := &onnxpb.ModelProto{
		IrVersion:   proto.Int64(8),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(17)}},
		Graph: &onnxpb.GraphProto{
			Name:   proto.String("probe"),
			Node:   []*onnxpb.NodeProto{{OpType: proto.String("Relu"), Input: []string{"x"}, Output: []string{"y"}}},
			Input:  []*onnxpb.ValueInfoProto{vi("x")},
			Output: []*onnxpb.ValueInfoProto{vi("y")},
		},
	}
	b, err := proto.Marshal(m)
	if err != nil {
		return err
	}
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(b, []string{"x"}, []string{"y"}, so)
	if err != nil {
		return cudaError(err, library)
	}
	return s.Destroy()
}
