package main_test

import (
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lsweep/lsweep/npz"
)

const seqDir = "../../fixtures/testdata/sequence"

// TestSequenceEvalJSON: eval of the causal language model with labels that
// are the input ids (--shift-labels) prints the token and sequence numbers
// PyTorch computes.
func TestSequenceEvalJSON(t *testing.T) {
	requireRuntime(t)
	r := run(t, "eval", filepath.Join(seqDir, "causal_lm.onnx"), filepath.Join(seqDir, "lm_shift.npz"), "--shift-labels", "--json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var got struct {
		Head             string  `json:"head"`
		N                int     `json:"n"`
		Loss             float64 `json:"loss"`
		Accuracy         float64 `json:"accuracy"`
		Tokens           int     `json:"tokens"`
		SequenceLoss     float64 `json:"sequence_loss"`
		SequenceAccuracy float64 `json:"sequence_accuracy"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatal(err)
	}
	ref, err := npz.ReadFile(filepath.Join(seqDir, "lm_shift.ref.npz"))
	if err != nil {
		t.Fatal(err)
	}
	want := func(k string) float64 { v, _ := ref[k].Scalar(); return v }
	for _, c := range []struct {
		what      string
		got, want float64
	}{
		{"loss", got.Loss, want("loss")}, {"accuracy", got.Accuracy, want("accuracy")},
		{"tokens", float64(got.Tokens), want("tokens")},
		{"sequence_loss", got.SequenceLoss, want("seq_loss")}, {"sequence_accuracy", got.SequenceAccuracy, want("seq_accuracy")},
	} {
		if math.Abs(c.got-c.want) > 1e-5*math.Abs(c.want) {
			t.Errorf("%s %v, PyTorch %v", c.what, c.got, c.want)
		}
	}
	if got.Head != "tokens" || got.N != 40 {
		t.Errorf("head %q, n %d; want tokens, 40", got.Head, got.N)
	}
}

// TestSequenceInputs: the encoder's two inputs come from entries of their
// names, or from others with --input; mistakes are exit status 2 with the
// entry and the input named.
func TestSequenceInputs(t *testing.T) {
	requireRuntime(t)
	model := filepath.Join(seqDir, "encoder.onnx")
	d, err := npz.ReadFile(filepath.Join(seqDir, "encoder_data.npz"))
	if err != nil {
		t.Fatal(err)
	}
	renamed := writeNPZ(t, filepath.Join(t.TempDir(), "renamed.npz"),
		npz.Entry{Name: "ids", Array: d["input_ids"]}, npz.Entry{Name: "mask", Array: d["attention_mask"]}, npz.Entry{Name: "labels", Array: d["y"]})
	ref, err := npz.ReadFile(filepath.Join(seqDir, "encoder.ref.npz"))
	if err != nil {
		t.Fatal(err)
	}
	wantLoss, _ := ref["loss"].Scalar()

	r := run(t, "eval", model, renamed, "--input", "input_ids=ids", "--input", "attention_mask=mask", "--json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var got struct {
		Loss float64 `json:"loss"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatal(err)
	}
	if math.Abs(got.Loss-wantLoss) > 1e-5*wantLoss {
		t.Errorf("loss %v with --input, PyTorch %v", got.Loss, wantLoss)
	}

	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"--input", "input_ids=ids"}, []string{`no entry "attention_mask"`, `model input "attention_mask"`, `"ids", "mask", "labels"`}},
		{[]string{"--x-key", "ids"}, []string{"2 inputs", "--input NAME=ENTRY"}},
		{[]string{"--input", "input_ids"}, []string{"want NAME=ENTRY"}},
		{[]string{"--input", "tokens=ids"}, []string{`no input "tokens"`}},
	} {
		r := run(t, append([]string{"eval", model, renamed}, c.args...)...)
		if r.code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", c.args, r.code, r.stderr)
		}
		for _, w := range c.want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("%v: stderr %q lacks %q", c.args, r.stderr, w)
			}
		}
	}

	r = run(t, "inspect", model, "--json")
	var ins struct {
		Inputs []struct {
			Name    string   `json:"name"`
			Entries []string `json:"entries"`
		} `json:"inputs"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &ins); err != nil {
		t.Fatal(err)
	}
	if len(ins.Inputs) != 2 || ins.Inputs[0].Entries[0] != "input_ids" || ins.Inputs[1].Entries[0] != "attention_mask" {
		t.Errorf("inspect inputs %+v", ins.Inputs)
	}
}

// TestSequenceRun: a 1-D landscape of the causal language model passes
// through the centre at the loss eval reports; the shift (and the ignore
// index) are part of what the run folder holds.
func TestSequenceRun(t *testing.T) {
	requireRuntime(t)
	out := filepath.Join(t.TempDir(), "out")
	r := run(t, "run", filepath.Join(seqDir, "causal_lm.onnx"), filepath.Join(seqDir, "lm_shift.npz"), "--shift-labels", "--x", "-1:1:3", "--out", out, "--quiet", "--no-plot")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	s, err := npz.ReadFile(filepath.Join(out, "surface.npz"))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := npz.ReadFile(filepath.Join(seqDir, "lm_shift.ref.npz"))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := ref["loss"].Scalar()
	if l := s["loss"].Data; len(l) != 3 || math.Abs(l[1]-want) > 1e-5*want || !(l[0] > l[1] && l[2] > l[1]) {
		t.Errorf("losses %v; PyTorch's at the centre %v", l, want)
	}
	r = run(t, "run", filepath.Join(seqDir, "causal_lm.onnx"), filepath.Join(seqDir, "lm_shift.npz"), "--x", "-1:1:3", "--out", out, "--quiet", "--no-plot")
	if r.code != 2 || !strings.Contains(r.stderr, "shift_labels true, this one has shift_labels false") {
		t.Errorf("unshifted labels in the same folder: exit %d, %s", r.code, r.stderr)
	}
}
