package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// RuntimeVersion is the ONNX Runtime release whose C API the Go binding
// (onnxruntime_go v1.27.0, API version 24) is built against; newer releases
// accept the same API.
const RuntimeVersion = "1.24.1"

// LibraryEnv is the environment variable that names the ONNX Runtime shared
// library when no path is given explicitly.
const LibraryEnv = "LSWEEP_ONNXRUNTIME"

// InstallHint says how to install the library; errors about a missing or
// unusable library end with it.
const InstallHint = "install it with scripts/install-onnxruntime.sh (from the lsweep repository), or pass the path of libonnxruntime.so " + RuntimeVersion + " or newer with --onnxruntime or " + LibraryEnv

// ErrNoRuntime is returned (wrapped) when the ONNX Runtime library cannot be
// found or loaded.
var ErrNoRuntime = errors.New("engine: ONNX Runtime library not available")

// DefaultLibraryDir is the folder scripts/install-onnxruntime.sh installs
// into: $XDG_DATA_HOME/lsweep/onnxruntime-<version>, with XDG_DATA_HOME
// defaulting to ~/.local/share.
func DefaultLibraryDir() string {
	base := os.Getenv("XDG_DATA_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		base = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(base, "lsweep", "onnxruntime-"+RuntimeVersion)
}

// FindLibrary returns the ONNX Runtime library to load: explicit if not
// empty, then $LSWEEP_ONNXRUNTIME, then the install script's folder, then
// the bare name libonnxruntime.so, which the system loader resolves through
// LD_LIBRARY_PATH and its cache. A path that names a file that does not
// exist is an error; the bare name is returned without a check.
func FindLibrary(explicit string) (string, error) {
	check := func(path, from string) (string, error) {
		if _, err := os.Stat(path); err != nil {
			return "", fmt.Errorf("%w: %s names %s: %v; %s", ErrNoRuntime, from, path, err, InstallHint)
		}
		return path, nil
	}
	if explicit != "" {
		return check(explicit, "--onnxruntime")
	}
	if env := os.Getenv(LibraryEnv); env != "" {
		return check(env, LibraryEnv)
	}
	if dir := DefaultLibraryDir(); dir != "" {
		p := filepath.Join(dir, "libonnxruntime.so")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "libonnxruntime.so", nil
}

// Runtime describes the loaded library.
type Runtime struct {
	Path    string // as given to the loader
	Version string // ONNX Runtime's own version string
}

var (
	initMu sync.Mutex
	loaded *Runtime
)

// Init loads the ONNX Runtime library (see FindLibrary for the search order)
// and creates the process-wide environment. ONNX Runtime allows one
// environment per process: after the first success, later calls return the
// same Runtime whatever path they name.
func Init(library string) (*Runtime, error) {
	initMu.Lock()
	defer initMu.Unlock()
	if loaded != nil {
		return loaded, nil
	}
	path, err := FindLibrary(library)
	if err != nil {
		return nil, err
	}
	tuneAllocator()
	ort.SetSharedLibraryPath(path)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		msg := err.Error()
		switch {
		case strings.Contains(msg, "setting ORT API base"):
			return nil, fmt.Errorf("%w: %s is an ONNX Runtime older than %s (C API 24 needed); %s", ErrNoRuntime, path, RuntimeVersion, InstallHint)
		case strings.Contains(msg, "OrtGetApiBase"):
			return nil, fmt.Errorf("%w: %s is not an ONNX Runtime library (no OrtGetApiBase); %s", ErrNoRuntime, path, InstallHint)
		case strings.Contains(msg, "loading ONNX shared library"):
			return nil, fmt.Errorf("%w: cannot load %s (%s); %s", ErrNoRuntime, path, loaderReason(msg), InstallHint)
		}
		return nil, fmt.Errorf("%w: %s: %v", ErrNoRuntime, path, err)
	}
	// One arena for every session: lsweep makes a session per weight vector,
	// and a per-session arena would be grown afresh by each one's first runs.
	if err := registerSharedArena(); err != nil {
		ort.DestroyEnvironment()
		return nil, fmt.Errorf("%w: %s: shared allocator: %v", ErrNoRuntime, path, err)
	}
	loaded = &Runtime{Path: path, Version: ort.GetVersion()}
	return loaded, nil
}

// loadedPath returns the path of the loaded library ("" before Init).
func loadedPath() string {
	initMu.Lock()
	defer initMu.Unlock()
	if loaded == nil {
		return ""
	}
	return loaded.Path
}

// loaderReason keeps the loader's own words from an onnxruntime_go error.
func loaderReason(msg string) string {
	if i := strings.LastIndex(msg, "\": "); i >= 0 {
		return msg[i+3:]
	}
	return msg
}

func registerSharedArena() error {
	info, err := ort.GetMemoryInfo()
	if err != nil {
		return err
	}
	cfg, err := ort.NewArenaCfg(0, -1, -1, -1)
	if err != nil {
		return err
	}
	defer cfg.Destroy()
	return ort.CreateAndRegisterAllocator(info, cfg)
}
