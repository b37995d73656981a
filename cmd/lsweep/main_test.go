package main_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/lsweep/lsweep/engine"
	"github.com/lsweep/lsweep/internal/fixtures"
	"github.com/lsweep/lsweep/npz"
)

var lsweep string // the binary under test

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "lsweep-cli")
	if err != nil {
		panic(err)
	}
	lsweep = filepath.Join(dir, "lsweep")
	if out, err := exec.Command("go", "build", "-o", lsweep, ".").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const (
	digitsModel = "../../fixtures/testdata/digits/resnet_skip.onnx"
	digitsData  = "../../fixtures/testdata/digits/data.npz"
)

type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, args ...string) result {
	t.Helper()
	cmd := exec.Command(lsweep, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	default:
		t.Fatal(err)
	}
	return r
}

func requireRuntime(t *testing.T) {
	t.Helper()
	if _, err := engine.FindLibrary(""); err != nil || !libraryInstalled() {
		if os.Getenv("CI") == "" {
			t.Skip("ONNX Runtime not installed (scripts/install-onnxruntime.sh)")
		}
	}
}

func libraryInstalled() bool {
	if p := os.Getenv(engine.LibraryEnv); p != "" {
		_, err := os.Stat(p)
		return err == nil
	}
	_, err := os.Stat(filepath.Join(engine.DefaultLibraryDir(), "libonnxruntime.so"))
	return err == nil
}

func writeTiny(t *testing.T, dir string, tiny *fixtures.Tiny) string {
	t.Helper()
	data, err := proto.Marshal(tiny.Model)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, tiny.Name+".onnx")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func writeNPZ(t *testing.T, path string, entries ...npz.Entry) string {
	t.Helper()
	if err := npz.WriteFile(path, entries); err != nil {
		t.Fatal(err)
	}
	return path
}

// digitsLike returns n digits-shaped samples (zeros but for a ramp) and
// labels in 0..9, for data files with one thing wrong.
func digitsLike(n int, sample ...int) *npz.Array {
	a := &npz.Array{Shape: append([]int{n}, sample...), DType: "float32"}
	size := n
	for _, s := range sample {
		size *= s
	}
	a.Data = make([]float64, size)
	for i := range a.Data {
		a.Data[i] = float64(i%17) / 16
	}
	return a
}

func labels(n int, f func(i int) float64) *npz.Array {
	a := &npz.Array{Shape: []int{n}, DType: "int64", Data: make([]float64, n)}
	for i := range a.Data {
		a.Data[i] = f(i)
	}
	return a
}

// TestBadInput runs lsweep on each kind of bad input: each must exit with
// status 2 and a one-line error that says what is wrong, never a panic.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	notONNX := filepath.Join(dir, "notes.onnx")
	os.WriteFile(notONNX, []byte("these are not the weights you are looking for\n"), 0o644)
	whole, err := os.ReadFile(digitsModel)
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "truncated.onnx")
	os.WriteFile(truncated, whole[:len(whole)/3], 0o644)
	noWeights := writeTiny(t, dir, fixtures.NoWeights())

	extDir := filepath.Join(dir, "ext")
	os.Mkdir(extDir, 0o755)
	if _, err := fixtures.ExternalData(extDir); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(extDir, "weights.bin"))
	escaping := writeTiny(t, dir, fixtures.ExternalDataEscaping())

	ok := func(i int) float64 { return float64(i % 10) }
	noKeys := writeNPZ(t, filepath.Join(dir, "nokeys.npz"), npz.Entry{Name: "images", Array: digitsLike(4, 1, 8, 8)}, npz.Entry{Name: "targets", Array: labels(4, ok)})
	wrongShape := writeNPZ(t, filepath.Join(dir, "shape.npz"), npz.Entry{Name: "x", Array: digitsLike(4, 8, 8)}, npz.Entry{Name: "y", Array: labels(4, ok)})
	nhwc := writeNPZ(t, filepath.Join(dir, "nhwc.npz"), npz.Entry{Name: "x", Array: digitsLike(4, 8, 8, 1)}, npz.Entry{Name: "y", Array: labels(4, ok)})
	outOfRange := writeNPZ(t, filepath.Join(dir, "range.npz"), npz.Entry{Name: "x", Array: digitsLike(4, 1, 8, 8)}, npz.Entry{Name: "y", Array: labels(4, func(i int) float64 { return float64(7 + i) })})
	floatLabels := writeNPZ(t, filepath.Join(dir, "floaty.npz"), npz.Entry{Name: "x", Array: digitsLike(4, 1, 8, 8)}, npz.Entry{Name: "y", Array: &npz.Array{Shape: []int{4}, DType: "float32", Data: []float64{0, 1.5, 2, 3}}})
	empty := writeNPZ(t, filepath.Join(dir, "empty.npz"), npz.Entry{Name: "x", Array: digitsLike(0, 1, 8, 8)}, npz.Entry{Name: "y", Array: labels(0, ok)})
	boolX := writeNPZ(t, filepath.Join(dir, "mismatch.npz"), npz.Entry{Name: "x", Array: digitsLike(5, 1, 8, 8)}, npz.Entry{Name: "y", Array: labels(4, ok)})

	cases := []struct {
		name    string
		runtime bool // needs the ONNX Runtime library
		args    []string
		want    []string // substrings of the error
	}{
		{"missing model", false, []string{"eval", filepath.Join(dir, "absent.onnx"), digitsData}, []string{"absent.onnx", "no such file"}},
		{"missing model inspect", false, []string{"inspect", filepath.Join(dir, "absent.onnx")}, []string{"absent.onnx"}},
		{"not ONNX", false, []string{"eval", notONNX, digitsData}, []string{"notes.onnx", "not an ONNX model"}},
		{"truncated", false, []string{"inspect", truncated}, []string{"truncated.onnx", "not an ONNX model"}},
		{"no weights", false, []string{"eval", noWeights, digitsData}, []string{"NoWeights.onnx", "no perturbable weights"}},
		{"no weights inspect", false, []string{"inspect", noWeights}, []string{"no perturbable weights"}},
		{"external data missing", true, []string{"eval", filepath.Join(extDir, "model.onnx"), digitsData}, []string{"weights.bin"}},
		{"external data outside", true, []string{"eval", escaping, digitsData}, []string{"outside the model's folder"}},
		{"missing data", false, []string{"eval", digitsModel, filepath.Join(dir, "absent.npz")}, []string{"absent.npz"}},
		{"npz keys", false, []string{"eval", digitsModel, noKeys}, []string{"nokeys.npz", `"x"`, "--x-key"}},
		{"wrong shape", true, []string{"eval", digitsModel, wrongShape}, []string{"shape.npz", "[8 8]", "[1 8 8]"}},
		{"NHWC data", true, []string{"eval", digitsModel, nhwc}, []string{"NHWC", "transpose"}},
		{"label out of range", true, []string{"eval", digitsModel, outOfRange}, []string{"range.npz", "10"}},
		{"float labels", true, []string{"eval", digitsModel, floatLabels}, []string{"floaty.npz", "1.5"}},
		{"empty", false, []string{"eval", digitsModel, empty}, []string{"empty.npz"}},
		{"count mismatch", false, []string{"eval", digitsModel, boolX}, []string{"mismatch.npz"}},
		{"library missing", false, []string{"eval", "--onnxruntime", filepath.Join(dir, "libonnxruntime.so"), digitsModel, digitsData}, []string{"libonnxruntime.so", "install-onnxruntime.sh"}},
		{"library wrong", false, []string{"eval", "--onnxruntime", notONNX, digitsModel, digitsData}, []string{"notes.onnx", "install-onnxruntime.sh"}},
		{"unknown loss", false, []string{"eval", "--loss", "hinge", digitsModel, digitsData}, []string{"hinge"}},
		{"unknown output", true, []string{"eval", "--output", "nope", digitsModel, digitsData}, []string{`"nope"`, "logits"}},
		{"cuda without CUDA", true, []string{"eval", "--device", "cuda", digitsModel, digitsData}, []string{"CUDA", "--onnxruntime"}},
		{"bad batch size", false, []string{"eval", "--batch-size", "-3", digitsModel, digitsData}, []string{"--batch-size"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.runtime {
				requireRuntime(t)
			}
			r := run(t, c.args...)
			if r.code != 2 {
				t.Errorf("exit status %d, want 2 (stderr %q)", r.code, r.stderr)
			}
			if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine") {
				t.Fatalf("panicked: %s", r.stderr)
			}
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "lsweep: ") {
				t.Errorf("want one error line, got %q", r.stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("error %q does not mention %q", strings.TrimSpace(r.stderr), w)
				}
			}
		})
	}
}

// TestNaNInputsWarn: NaN inputs are not an error for eval, but lsweep says
// so; run refuses them.
func TestNaNInputsWarn(t *testing.T) {
	requireRuntime(t)
	x := digitsLike(4, 1, 8, 8)
	x.Data[5] = math.NaN()
	path := writeNPZ(t, filepath.Join(t.TempDir(), "nan.npz"), npz.Entry{Name: "x", Array: x}, npz.Entry{Name: "y", Array: labels(4, func(i int) float64 { return 1 })})
	r := run(t, "eval", digitsModel, path)
	if r.code != 0 {
		t.Fatalf("exit status %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "warning") || !strings.Contains(r.stderr, "NaN") {
		t.Errorf("no NaN warning: %q", r.stderr)
	}
	// JSON has no NaN: the loss is null.
	r = run(t, "eval", "--json", digitsModel, path)
	var out struct {
		Loss *float64 `json:"loss"`
		N    int      `json:"n"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); r.code != 0 || err != nil || out.Loss != nil || out.N != 4 {
		t.Errorf("eval --json with NaN inputs: exit %d, %v, %q", r.code, err, r.stdout)
	}
	// A surface would be all NaN: run refuses, naming the file and entry.
	r = run(t, "run", digitsModel, path, "--x", "-1:1:3", "--out", filepath.Join(t.TempDir(), "out"))
	if r.code != 2 || !strings.Contains(r.stderr, "nan.npz") || !strings.Contains(r.stderr, `"x"`) || !strings.Contains(r.stderr, "NaN") {
		t.Errorf("run with NaN inputs: exit %d, %q", r.code, r.stderr)
	}
}

// TestEvalJSON checks the fields other tools parse, and the loss against
// PyTorch's saved value for the same model and data.
func TestEvalJSON(t *testing.T) {
	requireRuntime(t)
	r := run(t, "eval", "--json", digitsModel, digitsData)
	if r.code != 0 {
		t.Fatalf("exit status %d: %s", r.code, r.stderr)
	}
	var got struct {
		N        int      `json:"n"`
		Loss     float64  `json:"loss"`
		Accuracy *float64 `json:"accuracy"`
		Head     string   `json:"head"`
		Seconds  float64  `json:"seconds"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	ref, err := npz.ReadFile("../../fixtures/testdata/digits/resnet_skip.ref.npz")
	if err != nil {
		t.Fatal(err)
	}
	wantLoss, _ := ref["loss"].Scalar()
	if got.N != 1797 || got.Head != "logits" || got.Accuracy == nil || *got.Accuracy < 0 || *got.Accuracy > 1 || got.Seconds <= 0 {
		t.Errorf("unexpected fields: %s", r.stdout)
	}
	if math.Abs(got.Loss-wantLoss) > 1e-4*wantLoss {
		t.Errorf("loss %g, PyTorch %g", got.Loss, wantLoss)
	}

	// --samples evaluates a deterministic subset: the same twice.
	a := run(t, "eval", "--json", "--samples", "100", digitsModel, digitsData)
	b := run(t, "eval", "--json", "--samples", "100", digitsModel, digitsData)
	var ra, rb struct {
		N    int     `json:"n"`
		Loss float64 `json:"loss"`
	}
	json.Unmarshal([]byte(a.stdout), &ra)
	json.Unmarshal([]byte(b.stdout), &rb)
	if ra.N != 100 || ra.Loss != rb.Loss {
		t.Errorf("--samples 100: n %d, losses %g and %g", ra.N, ra.Loss, rb.Loss)
	}
}

// TestInspectJSON checks the filter axes inspect reports for a PyTorch and a
// TensorFlow-style model.
func TestInspectJSON(t *testing.T) {
	dir := t.TempDir()
	for _, tiny := range []*fixtures.Tiny{fixtures.GemmTransB0(), fixtures.MatMulAdd(), fixtures.ConvTransposeNet()} {
		r := run(t, "inspect", "--json", writeTiny(t, dir, tiny))
		if r.code != 0 {
			t.Fatalf("%s: exit status %d: %s", tiny.Name, r.code, r.stderr)
		}
		var got struct {
			Weights []struct {
				Name       string `json:"name"`
				FilterAxis int    `json:"filter_axis"`
				Consumer   string `json:"consumer"`
			} `json:"weights"`
			Head struct {
				Kind string `json:"kind"`
			} `json:"head"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
			t.Fatal(err)
		}
		axes := map[string]int{}
		for _, w := range got.Weights {
			axes[w.Name] = w.FilterAxis
		}
		for _, w := range tiny.Perturbable {
			if a, ok := axes[w.Name]; !ok || a != w.FilterAxis {
				t.Errorf("%s: %s filter axis %d (found %v), want %d", tiny.Name, w.Name, a, ok, w.FilterAxis)
			}
		}
	}
}
