package main_test

import (
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lsweep/lsweep/internal/fixtures"
	"github.com/lsweep/lsweep/npz"
)

const (
	mlpModel    = "../../fixtures/testdata/digits/mlp_logsoftmax.onnx"
	batchFolder = "../../fixtures/testdata/batch"
)

// rescaledMLP writes a copy of the digits MLP with fc1 scaled by c and
// fc2's weight by 1/c (see fixtures.RescaledMLP).
func rescaledMLP(t *testing.T, c float64) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mlp_rescaled.onnx")
	if err := fixtures.RescaledMLP(mlpModel, path, "fc1", "fc2", c); err != nil {
		t.Fatal(err)
	}
	return path
}

// flatInputMLP writes a copy of the digits MLP that declares its input
// [N, 64]: a model on other inputs.
func flatInputMLP(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mlp_flat.onnx")
	if err := fixtures.FlatInputMLP(mlpModel, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// compareJSON is what a CI script reads from lsweep compare --json.
type compareJSON struct {
	Version          int    `json:"version"`
	Verdict          string `json:"verdict"`
	Finding          string `json:"finding"`
	Summary          string `json:"summary"`
	SameArchitecture bool   `json:"same_architecture"`
	Base             struct {
		Path       string   `json:"path"`
		CentreLoss *float64 `json:"centre_loss"`
	} `json:"base"`
	Settings struct {
		Directions int                `json:"directions"`
		Points     int                `json:"points"`
		Norm       string             `json:"norm"`
		Thresholds map[string]float64 `json:"thresholds"`
	} `json:"settings"`
	Metrics []struct {
		Name      string `json:"name"`
		Available bool   `json:"available"`
		Base      *struct {
			Value        float64   `json:"value"`
			Spread       float64   `json:"spread"`
			PerDirection []float64 `json:"per_direction"`
		} `json:"base"`
		Difference   *float64 `json:"difference"`
		ChangePct    *float64 `json:"change_pct"`
		Noise        *float64 `json:"noise"`
		ThresholdPct *float64 `json:"threshold_pct"`
		Status       string   `json:"status"`
		Pass         bool     `json:"pass"`
	} `json:"metrics"`
	Slices struct {
		X    []float64 `json:"x"`
		Base struct {
			Loss [][]float64 `json:"loss"`
		} `json:"base"`
	} `json:"slices"`
}

func parseCompare(t *testing.T, r result) compareJSON {
	t.Helper()
	var got compareJSON
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("%v: %s (stderr %s)", err, r.stdout, r.stderr)
	}
	return got
}

// TestCompareVerdicts: the exit status is the verdict: 0 for a model
// against itself, 0 for a rescaled copy under filter normalisation, 1 for
// the same copy under unnormalised directions.
func TestCompareVerdicts(t *testing.T) {
	requireRuntime(t)
	rescaled := rescaledMLP(t, 10)
	cases := []struct {
		name      string
		args      []string
		code      int
		verdict   string
		finding   string
		zeroDiffs bool
	}{
		{"self", []string{mlpModel, mlpModel}, 0, "pass", "same", true},
		{"rescaled, filter", []string{mlpModel, rescaled}, 0, "pass", "same", false},
		{"rescaled, none", []string{mlpModel, rescaled, "--norm", "none"}, 1, "fail", "sharper", false},
		{"rescaled, none, lenient", []string{mlpModel, rescaled, "--norm", "none", "--max-increase", "1e6"}, 0, "pass", "sharper", false},
		{"rescaled, none, only centre loss", []string{mlpModel, rescaled, "--norm", "none", "--threshold", "mean_increase=off",
			"--threshold", "worst_increase=off", "--threshold", "rise_radius=off", "--threshold", "curvature=off", "--threshold", "centre_loss=0"}, 0, "pass", "sharper", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"compare", "--json"}, c.args[:2]...)
			args = append(append(args, digitsData), c.args[2:]...)
			r := run(t, args...)
			if r.code != c.code {
				t.Fatalf("exit status %d, want %d: %s", r.code, c.code, r.stderr)
			}
			got := parseCompare(t, r)
			if got.Verdict != c.verdict || got.Finding != c.finding {
				t.Errorf("verdict %s finding %s, want %s %s", got.Verdict, got.Finding, c.verdict, c.finding)
			}
			if c.code == 1 && !strings.Contains(r.stderr, "lsweep: check failed: mlp_rescaled.onnx is sharper than mlp_logsoftmax.onnx") {
				t.Errorf("stderr %q does not say why", r.stderr)
			}
			if c.zeroDiffs {
				for _, m := range got.Metrics {
					if m.Available && (m.Difference == nil || *m.Difference != 0 || m.Status != "same") {
						t.Errorf("%s: difference %v, status %s", m.Name, m.Difference, m.Status)
					}
				}
			}
		})
	}
}

// TestCompareJSON checks the fields and shapes CI scripts read.
func TestCompareJSON(t *testing.T) {
	requireRuntime(t)
	r := run(t, "compare", "--json", "--directions", "3", "--points", "7", "--samples", "300",
		batchFolder+"/small.onnx", batchFolder+"/large.onnx", batchFolder+"/train.npz")
	if r.code != 1 {
		t.Fatalf("exit status %d, want 1 (large batch is sharper): %s", r.code, r.stderr)
	}
	got := parseCompare(t, r)
	if got.Version != 1 || got.Verdict != "fail" || !got.SameArchitecture || got.Base.CentreLoss == nil {
		t.Errorf("header: %+v", got)
	}
	if got.Settings.Directions != 3 || got.Settings.Points != 7 || got.Settings.Norm != "filter" || got.Settings.Thresholds["mean_increase"] != 10 {
		t.Errorf("settings: %+v", got.Settings)
	}
	if len(got.Slices.X) != 7 || len(got.Slices.Base.Loss) != 3 || len(got.Slices.Base.Loss[0]) != 7 {
		t.Errorf("slices: x %v, %d base rows", got.Slices.X, len(got.Slices.Base.Loss))
	}
	names := []string{"centre_loss", "mean_increase", "worst_increase", "rise_radius", "curvature", "lambda_max"}
	if len(got.Metrics) != len(names) {
		t.Fatalf("%d metrics, want %d", len(got.Metrics), len(names))
	}
	for i, m := range got.Metrics {
		if m.Name != names[i] {
			t.Errorf("metric %d is %q, want %q", i, m.Name, names[i])
		}
		switch m.Name {
		case "lambda_max":
			if m.Available || m.Base != nil || m.Status != "unavailable" {
				t.Errorf("lambda_max: %+v", m)
			}
		case "centre_loss":
			if m.ThresholdPct != nil || m.Base == nil {
				t.Errorf("centre_loss: %+v", m)
			}
		default:
			if m.Base == nil || len(m.Base.PerDirection) != 3 || m.Noise == nil || m.ChangePct == nil || m.ThresholdPct == nil || *m.ThresholdPct != 10 {
				t.Errorf("%s: %+v", m.Name, m)
			}
		}
	}
	// --hessian: lambda_max from the gradient graph; a model against itself
	// has the same value and passes.
	r = run(t, "compare", "--json", "--directions", "2", "--points", "3", "--samples", "100", "--hessian", mlpModel, mlpModel, digitsData)
	if r.code != 0 {
		t.Fatalf("--hessian: exit status %d: %s", r.code, r.stderr)
	}
	var h struct {
		Metrics []struct {
			Name      string `json:"name"`
			Available bool   `json:"available"`
			Base      *struct {
				Value float64 `json:"value"`
			} `json:"base"`
			Candidate *struct {
				Value float64 `json:"value"`
			} `json:"candidate"`
		} `json:"metrics"`
	}
	json.Unmarshal([]byte(r.stdout), &h)
	if len(h.Metrics) != 6 || h.Metrics[5].Name != "lambda_max" || !h.Metrics[5].Available || h.Metrics[5].Base == nil ||
		!(h.Metrics[5].Base.Value > 0) || h.Metrics[5].Candidate.Value != h.Metrics[5].Base.Value {
		t.Errorf("--hessian: lambda_max %+v", h.Metrics)
	}
}

// TestCompareMarkdown: --markdown writes the report, --plot a PNG next to
// it that the report links relatively; the table goes to standard output.
func TestCompareMarkdown(t *testing.T) {
	requireRuntime(t)
	dir := t.TempDir()
	md := filepath.Join(dir, "flatness.md")
	r := run(t, "compare", "--markdown", md, "--plot", "--directions", "3", "--points", "9", "--base-label", "main", "--candidate-label", "PR",
		batchFolder+"/small_wd.onnx", batchFolder+"/large_wd.onnx", batchFolder+"/train.npz")
	if r.code != 1 {
		t.Fatalf("exit status %d, want 1: %s", r.code, r.stderr)
	}
	for _, w := range []string{"FAIL", "main", "PR", "mean_increase", "rise_radius"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("table does not contain %q:\n%s", w, r.stdout)
		}
	}
	b, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"### ❌ Flatness: fail (sharper)", "`main`", "`PR`", "| mean increase at r |", "![loss along 3 random directions, main and PR](flatness.curves.png)"} {
		if !strings.Contains(string(b), w) {
			t.Errorf("markdown does not contain %q:\n%s", w, b)
		}
	}
	f, err := os.Open(filepath.Join(dir, "flatness.curves.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Width < 1000 || cfg.Height < 700 {
		t.Errorf("picture %dx%d", cfg.Width, cfg.Height)
	}
	// A pass writes the report too; without --plot, no picture and no link.
	md2 := filepath.Join(dir, "self.md")
	if r := run(t, "compare", "--quiet", "--markdown", md2, "--directions", "2", "--points", "3", mlpModel, mlpModel, digitsData); r.code != 0 {
		t.Fatalf("exit status %d: %s", r.code, r.stderr)
	}
	b, _ = os.ReadFile(md2)
	if !strings.Contains(string(b), "### ✅ Flatness: pass (same)") || strings.Contains(string(b), "![") {
		t.Errorf("pass report:\n%s", b)
	}
	if _, err := os.Stat(filepath.Join(dir, "self.curves.png")); err == nil {
		t.Error("a picture without --plot")
	}
}

// TestCompareBadInput: each kind of bad input exits with status 2 and one
// line that says what is wrong.
func TestCompareBadInput(t *testing.T) {
	dir := t.TempDir()
	classes := "../../fixtures/testdata/digits/mlp_sigmoid.onnx"
	ok := func(i int) float64 { return float64(i % 10) }
	small := writeNPZ(t, filepath.Join(dir, "small.npz"), npz.Entry{Name: "x", Array: digitsLike(20, 1, 8, 8)}, npz.Entry{Name: "y", Array: labels(20, ok)})
	cases := []struct {
		name    string
		runtime bool
		args    []string
		want    []string
	}{
		{"missing base", false, []string{filepath.Join(dir, "absent.onnx"), mlpModel, small}, []string{"absent.onnx", "no such file"}},
		{"missing candidate", false, []string{mlpModel, filepath.Join(dir, "absent.onnx"), small}, []string{"absent.onnx", "no such file"}},
		{"missing data", true, []string{mlpModel, mlpModel, filepath.Join(dir, "absent.npz")}, []string{"absent.npz"}},
		{"other inputs", false, []string{mlpModel, flatInputMLP(t), small}, []string{"different inputs", "[N 1 8 8]", "[N 64]"}},
		{"other classes", false, []string{mlpModel, classes, small}, []string{"10 classes", "2 classes", "label set"}},
		{"negative max-increase", false, []string{mlpModel, mlpModel, small, "--max-increase", "-5"}, []string{"--max-increase"}},
		{"NaN max-increase", false, []string{mlpModel, mlpModel, small, "--max-increase", "NaN"}, []string{"--max-increase"}},
		{"threshold unknown metric", false, []string{mlpModel, mlpModel, small, "--threshold", "sharpness=5"}, []string{`"sharpness"`, "mean_increase"}},
		{"threshold not a number", false, []string{mlpModel, mlpModel, small, "--threshold", "curvature=lots"}, []string{`"lots"`}},
		{"threshold negative", false, []string{mlpModel, mlpModel, small, "--threshold", "curvature=-1"}, []string{"curvature=-1"}},
		{"threshold without value", false, []string{mlpModel, mlpModel, small, "--threshold", "curvature"}, []string{"NAME=PCT"}},
		{"one direction", false, []string{mlpModel, mlpModel, small, "--directions", "1"}, []string{"--directions"}},
		{"even points", false, []string{mlpModel, mlpModel, small, "--points", "10"}, []string{"--points", "odd"}},
		{"zero radius", false, []string{mlpModel, mlpModel, small, "--radius", "0"}, []string{"--radius"}},
		{"unknown norm", false, []string{mlpModel, mlpModel, small, "--norm", "batch"}, []string{`"batch"`}},
		{"plot without markdown", false, []string{mlpModel, mlpModel, small, "--plot"}, []string{"--markdown"}},
		{"markdown folder missing", false, []string{mlpModel, mlpModel, small, "--markdown", filepath.Join(dir, "no", "r.md")}, []string{"does not exist"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.runtime {
				requireRuntime(t)
			}
			r := run(t, append([]string{"compare", "--quiet"}, c.args...)...)
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
