package main_test

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lsweep/lsweep/npz"
)

const rmsEncoder = "../../fixtures/testdata/transformer/rms_encoder.onnx"

// TestInspectLabels checks that inspect names anonymous initializers by the
// node that consumes them, in the table and in the JSON, and says how the
// embedding tables are treated.
func TestInspectLabels(t *testing.T) {
	r := run(t, "inspect", rmsEncoder)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"/fc1 [onnx::MatMul_106]", "/q [onnx::MatMul_102]", "head.weight ", "--include embeddings"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("inspect does not say %q:\n%s", want, r.stdout)
		}
	}
	r = run(t, "inspect", "--json", rmsEncoder)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	type param struct {
		Name       string `json:"name"`
		Label      string `json:"label"`
		Role       string `json:"role"`
		FilterAxis *int   `json:"filter_axis"`
	}
	var got struct{ Weights, Others []param }
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatal(err)
	}
	byName := map[string]param{}
	for _, p := range append(got.Weights, got.Others...) {
		byName[p.Name] = p
	}
	for name, want := range map[string]string{"onnx::MatMul_106": "/fc1", "onnx::MatMul_107": "/fc2", "head.weight": ""} {
		if p := byName[name]; p.Label != want {
			t.Errorf("%s: label %q, want %q", name, p.Label, want)
		}
	}
	if p := byName["tok.weight"]; p.Role != "embedding" || p.FilterAxis == nil || *p.FilterAxis != 0 {
		t.Errorf("tok.weight: %+v, want an embedding with filter axis 0", p)
	}
}

// TestIncludeEmbeddings checks --include embeddings: the saved directions
// hold the token and position tables only with it, and an unknown group is
// refused.
func TestIncludeEmbeddings(t *testing.T) {
	requireRuntime(t)
	model, data := filepath.Join(seqDir, "encoder.onnx"), filepath.Join(seqDir, "encoder_data.npz")
	for _, include := range []bool{false, true} {
		out := filepath.Join(t.TempDir(), "out")
		args := []string{"run", model, data, "--x", "-1:1:3", "--out", out, "--quiet", "--no-plot"}
		if include {
			args = append(args, "--include", "embeddings")
		}
		r := run(t, args...)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		f, err := npz.Open(filepath.Join(out, "directions.npz"))
		if err != nil {
			t.Fatal(err)
		}
		keys := f.Keys()
		f.Close()
		for _, k := range []string{"x/emb.weight", "x/pos"} {
			if slices.Contains(keys, k) != include {
				t.Errorf("--include embeddings %v: directions hold %v", include, keys)
			}
		}
	}
	r := run(t, "run", model, data, "--x", "-1:1:3", "--out", t.TempDir(), "--include", "biases")
	if r.code == 0 || !strings.Contains(r.stderr, `unknown group "biases"`) {
		t.Errorf("--include biases: exit %d, %s", r.code, r.stderr)
	}
}

// TestCompareRecordsInclude: a comparison that moved the embedding tables
// says so in its JSON settings, and one that did not says none.
func TestCompareRecordsInclude(t *testing.T) {
	requireRuntime(t)
	model, data := filepath.Join(seqDir, "encoder.onnx"), filepath.Join(seqDir, "encoder_data.npz")
	for _, include := range []bool{false, true} {
		args := []string{"compare", model, model, data, "--json", "--directions", "2", "--points", "5"}
		if include {
			args = append(args, "--include", "embeddings")
		}
		r := run(t, args...)
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		var got struct {
			Settings struct {
				Include []string `json:"include"`
			} `json:"settings"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
			t.Fatalf("%v: %s", err, r.stdout)
		}
		if want := include; slices.Contains(got.Settings.Include, "embeddings") != want || len(got.Settings.Include) > 1 {
			t.Errorf("--include embeddings %v: settings include %v", include, got.Settings.Include)
		}
	}
}
