package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lsweep/lsweep/dataset"
	"github.com/lsweep/lsweep/estimate"
	"github.com/lsweep/lsweep/internal/onnxmodel"
	"github.com/lsweep/lsweep/internal/onnxpb"
	"github.com/lsweep/lsweep/loss"
	"github.com/lsweep/lsweep/npz"
	"github.com/lsweep/lsweep/onnx"
	"google.golang.org/protobuf/proto"
)

const seqDir = "../fixtures/testdata/sequence"

// seqCase is one model and data file of fixtures/testdata/sequence with its
// PyTorch references (make_sequence_fixtures.py).
type seqCase struct {
	name, model, data, ref string
	shift, full            bool // --shift-labels; the references hold products
}

var seqCases = []seqCase{
	{"encoder", "encoder.onnx", "encoder_data.npz", "encoder.ref.npz", false, true},
	// The same model with its weights in an external-data file.
	{"encoder_external", "encoder_external.onnx", "encoder_data.npz", "encoder.ref.npz", false, true},
	{"causal_lm", "causal_lm.onnx", "lm_data.npz", "lm.ref.npz", false, true},
	{"causal_lm_shift", "causal_lm.onnx", "lm_shift.npz", "lm_shift.ref.npz", true, false},
}

// openSeq loads a case's model and data the way the command line does, and
// prepares an Evaluator.
func openSeq(t *testing.T, c seqCase, opts Options) (*Evaluator, map[string]*npz.Array) {
	t.Helper()
	m, err := onnx.Load(filepath.Join(seqDir, c.model))
	if err != nil {
		t.Fatal(err)
	}
	d, err := dataset.Load(filepath.Join(seqDir, c.data), dataset.Options{Inputs: InputNames(m)})
	if err != nil {
		t.Fatal(err)
	}
	opts.Sequence = &loss.Sequence{IgnoreIndex: loss.DefaultIgnoreIndex, Shift: c.shift}
	e, err := New(m, d, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	ref, err := npz.ReadFile(filepath.Join(seqDir, c.ref))
	if err != nil {
		t.Fatal(err)
	}
	return e, ref
}

func scalar(t *testing.T, ref map[string]*npz.Array, key string) float64 {
	t.Helper()
	a, ok := ref[key]
	if !ok {
		t.Fatalf("no %q in the references", key)
	}
	v, err := a.Scalar()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestSequenceEval compares the loss, accuracy and (for the tokens head)
// the token count and sequence-level numbers of the two-input encoder and
// of the causal language model, with labels aligned and shifted, with
// PyTorch's float64 values: 1e-5 relative.
func TestSequenceEval(t *testing.T) {
	requireRuntime(t)
	for _, c := range seqCases {
		t.Run(c.name, func(t *testing.T) {
			e, ref := openSeq(t, c, Options{})
			r, err := e.Evaluate(context.Background(), nil)
			if err != nil {
				t.Fatal(err)
			}
			check := func(what string, got, want float64) {
				rel := math.Abs(got-want) / math.Abs(want)
				t.Logf("%s %.9g, PyTorch %.9g (relative error %.2g)", what, got, want, rel)
				if rel > 1e-5 {
					t.Errorf("%s %.9g, PyTorch %.9g", what, got, want)
				}
			}
			check("loss", r.Loss, scalar(t, ref, "loss"))
			check("accuracy", r.Accuracy, scalar(t, ref, "accuracy"))
			if strings.HasPrefix(c.name, "encoder") {
				if e.Head() != loss.Logits || r.Tokens != 0 {
					t.Errorf("head %s, %d tokens; want logits, 0", e.Head(), r.Tokens)
				}
				return
			}
			if e.Head() != loss.Tokens {
				t.Fatalf("head %s, want tokens", e.Head())
			}
			if want := int(scalar(t, ref, "tokens")); r.Tokens != want {
				t.Errorf("%d labelled tokens, PyTorch %d", r.Tokens, want)
			}
			check("sequence loss", r.SequenceLoss, scalar(t, ref, "seq_loss"))
			check("sequence accuracy", r.SequenceAccuracy, scalar(t, ref, "seq_accuracy"))
		})
	}
}

// TestSequenceDerivatives differentiates the sequence models with respect to
// every parameter (the embedding and position tables, biases and LayerNorm
// parameters too, not only the weights an Evaluator perturbs) through the
// Evaluator, with every input and the token labels fed in batches, and
// compares with PyTorch's float64 numbers: each gradient to 1e-4 relative
// (none all zero), H v along a unit direction over all parameters and,
// with the Evaluator's own weights, along one over the weights, each tensor
// to 1e-4 relative.
func TestSequenceDerivatives(t *testing.T) {
	requireRuntime(t)
	ctx := context.Background()
	for _, c := range seqCases {
		t.Run(c.name, func(t *testing.T) {
			e, ref := openSeq(t, c, Options{})
			wrt := refNames(ref, "wv/")
			var weights []string
			for _, p := range e.Params() {
				if p.Role == onnx.RoleWeight {
					weights = append(weights, p.Name)
				}
			}
			slices.Sort(weights)
			if c.full && !slices.Equal(weights, wrt) {
				t.Fatalf("weights %v, PyTorch's reference over %v", weights, wrt)
			}
			if c.full {
				dir := refMap(ref, "wv/")
				h, err := e.HessianVector(ctx, nil, dir, 0)
				if err != nil {
					t.Fatal(err)
				}
				worst, name := seqErrors(t, "H v over the weights", ref, "whv/", h.Product)
				t.Logf("H v over the %d weights: worst relative error %.2g (%s)", len(weights), worst, name)
				if worst > 1e-4 {
					t.Errorf("H v over the weights, of %s: relative error %.3g > 1e-4", name, worst)
				}
			}

			params := refNames(ref, "grad/")
			useAll(t, e, params)
			l, g, err := e.Gradient(ctx, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			if want := scalar(t, ref, "loss"); math.Abs(l-want) > 1e-5*want {
				t.Errorf("gradient model's loss %.9g, PyTorch %.9g", l, want)
			}
			worst, name := seqErrors(t, "gradient", ref, "grad/", g)
			t.Logf("gradient of all %d parameters: worst relative error %.2g (%s)", len(params), worst, name)
			if worst > 1e-4 {
				t.Errorf("gradient of %s: relative error %.3g > 1e-4", name, worst)
			}
			if !c.full {
				return
			}
			h, err := e.HessianVector(ctx, nil, refMap(ref, "v/"), 0)
			if err != nil {
				t.Fatal(err)
			}
			worst, name = seqErrors(t, "H v", ref, "hv/", h.Product)
			gv := scalar(t, ref, "gv")
			t.Logf("H v over all %d parameters: worst relative error %.2g (%s); g.v %.9g (PyTorch %.9g)", len(params), worst, name, h.Slope, gv)
			if worst > 1e-4 {
				t.Errorf("H v of %s: relative error %.3g > 1e-4", name, worst)
			}
			if math.Abs(h.Slope-gv) > 1e-4*math.Abs(gv) {
				t.Errorf("g.v %.9g, PyTorch %.9g", h.Slope, gv)
			}
		})
	}
}

// TestSequenceBits checks that the loss, gradient and product of the
// two-input encoder and the language model have the same bits whatever the
// threads and sessions, and that a fixed-batch-1 export of both gives the
// same numbers (rewritten to a dynamic batch, every input with it).
func TestSequenceBits(t *testing.T) {
	requireRuntime(t)
	ctx := context.Background()
	for _, c := range seqCases[:3] {
		t.Run(c.name, func(t *testing.T) {
			type out struct {
				loss, gl float64
				g, hv    map[string][]float64
			}
			run := func(e *Evaluator, ref map[string]*npz.Array) out {
				r, err := e.Evaluate(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				gl, g, err := e.Gradient(ctx, nil, 0)
				if err != nil {
					t.Fatal(err)
				}
				h, err := e.HessianVector(ctx, nil, refMap(ref, "wv/"), 0)
				if err != nil {
					t.Fatal(err)
				}
				return out{r.Loss, gl, g, h.Product}
			}
			e1, ref := openSeq(t, c, Options{Threads: 1, Sessions: 1})
			e2, _ := openSeq(t, c, Options{Threads: 2, Sessions: 2})
			a, b := run(e1, ref), run(e2, ref)
			if a.loss != b.loss || a.gl != b.gl {
				t.Errorf("loss %v and %v, gradient model's loss %v and %v with 1 and 2 threads", a.loss, b.loss, a.gl, b.gl)
			}
			for name, g := range a.g {
				if !slices.Equal(g, b.g[name]) || !slices.Equal(a.hv[name], b.hv[name]) {
					t.Errorf("%s: gradient or product differs between 1 and 2 threads", name)
				}
			}

			m, err := onnx.Load(filepath.Join(seqDir, c.model))
			if err != nil {
				t.Fatal(err)
			}
			g := onnxmodel.Graph(m)
			for _, vi := range slices.Concat(g.GetInput(), g.GetOutput()) {
				vi.GetType().GetTensorType().GetShape().GetDim()[0].Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: 1}
			}
			d, err := dataset.Load(filepath.Join(seqDir, c.data), dataset.Options{Inputs: InputNames(m)})
			if err != nil {
				t.Fatal(err)
			}
			e3, err := New(m, d, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer e3.Close()
			if !slices.ContainsFunc(e3.Notes(), func(s string) bool { return strings.Contains(s, "rewritten to a dynamic batch") }) {
				t.Errorf("fixed batch of 1 not rewritten: notes %q", e3.Notes())
			}
			f := run(e3, ref)
			if math.Abs(f.loss-a.loss) > 1e-6*a.loss || math.Abs(f.gl-a.gl) > 1e-6*a.gl {
				t.Errorf("fixed batch 1: loss %.9g, gradient model's %.9g; dynamic %.9g, %.9g", f.loss, f.gl, a.loss, a.gl)
			}
		})
	}
}

// TestSequenceBadData checks that each mismatch between the data and a
// token model is refused, before anything runs, with an error that names
// the entry, the input and the value.
func TestSequenceBadData(t *testing.T) {
	requireRuntime(t)
	read := func(name string) map[string]*npz.Array {
		a, err := npz.ReadFile(filepath.Join(seqDir, name))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	enc, lm := read("encoder_data.npz"), read("lm_data.npz")
	clone := func(a map[string]*npz.Array) map[string]*npz.Array {
		c := map[string]*npz.Array{}
		for k, v := range a {
			c[k] = &npz.Array{Shape: slices.Clone(v.Shape), DType: v.DType, Data: slices.Clone(v.Data)}
		}
		return c
	}
	tests := []struct {
		name, model string
		data        func() map[string]*npz.Array
		keys        map[string]string
		want        []string
		is          error
	}{
		{"id beyond the vocabulary", "encoder.onnx", func() map[string]*npz.Array {
			c := clone(enc)
			c["input_ids"].Data[8*5+2] = 12
			return c
		}, nil, []string{`entry "input_ids"`, `"emb.weight"`, "sample 5 holds id 12", "[0, 12)"}, nil},
		{"negative id", "causal_lm.onnx", func() map[string]*npz.Array {
			c := clone(lm)
			c["input_ids"].Data[3] = -1
			return c
		}, nil, []string{`entry "input_ids"`, "id -1"}, nil},
		{"label beyond the vocabulary", "causal_lm.onnx", func() map[string]*npz.Array {
			c := clone(lm)
			c["labels"].Data[8*7+3] = 16
			return c
		}, nil, []string{`entry "labels"`, "labels[7, 3] = 16", "[0, 16)", "ignore index -100"}, dataset.ErrLabels},
		{"missing mask", "encoder.onnx", func() map[string]*npz.Array {
			c := clone(enc)
			delete(c, "attention_mask")
			return c
		}, nil, []string{`no entry "attention_mask"`, `model input "attention_mask"`, "--input NAME=ENTRY"}, dataset.ErrMissingKey},
		{"mask of the wrong shape", "encoder.onnx", func() map[string]*npz.Array {
			c := clone(enc)
			m := c["attention_mask"]
			m.Shape, m.Data = []int{48, 7}, m.Data[:48*7]
			return c
		}, nil, []string{`entry "attention_mask" has samples of shape [7]`, `model input "attention_mask" expects [8]`}, dataset.ErrShape},
		{"float ids", "encoder.onnx", func() map[string]*npz.Array {
			c := clone(enc)
			c["input_ids"].DType = "float32"
			c["input_ids"].Data[9] = 1.5
			return c
		}, nil, []string{`entry "input_ids" (float32)`, `model input "input_ids" (int64)`, "sample 1 holds 1.5"}, nil},
		{"mapped entry", "encoder.onnx", func() map[string]*npz.Array {
			c := clone(enc)
			c["mask"] = c["attention_mask"]
			delete(c, "attention_mask")
			return c
		}, map[string]string{"attention_mask": "mask"}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "d.npz")
			var entries []npz.Entry
			for k, a := range tt.data() {
				entries = append(entries, npz.Entry{Name: k, Array: a})
			}
			slices.SortFunc(entries, func(a, b npz.Entry) int { return strings.Compare(a.Name, b.Name) })
			if err := npz.WriteFile(path, entries); err != nil {
				t.Fatal(err)
			}
			m, err := onnx.Load(filepath.Join(seqDir, tt.model))
			if err != nil {
				t.Fatal(err)
			}
			d, err := dataset.Load(path, dataset.Options{Inputs: InputNames(m), InputKeys: tt.keys})
			if err == nil {
				var e *Evaluator
				if e, err = New(m, d, Options{}); err == nil {
					e.Close()
				}
			}
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want one with %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q does not match %v", err, tt.is)
			}
		})
	}
}

// seqErrors is paramErrors, except that a tensor whose PyTorch value is
// zero in exact arithmetic (the key bias: softmax ignores a score added to
// every key of a query, so its gradient is rounding noise, 1e-18 in float64
// against 1e-9 in float32) is compared with the norm over all tensors.
func seqErrors(t *testing.T, what string, ref map[string]*npz.Array, prefix string, got map[string][]float64) (worst float64, worstName string) {
	t.Helper()
	var total float64
	for _, name := range refNames(ref, prefix) {
		for _, v := range ref[prefix+name].Data {
			total += v * v
		}
	}
	total = math.Sqrt(total)
	for _, name := range refNames(ref, prefix) {
		want, g := ref[prefix+name].Data, got[name]
		if len(g) != len(want) {
			t.Errorf("%s of %s: %d values, PyTorch %d", what, name, len(g), len(want))
			continue
		}
		var diff, norm, gn float64
		for i := range g {
			diff += (g[i] - want[i]) * (g[i] - want[i])
			norm += want[i] * want[i]
			gn += g[i] * g[i]
		}
		diff, norm, gn = math.Sqrt(diff), math.Sqrt(norm), math.Sqrt(gn)
		scale := norm
		if norm < 1e-12*total {
			scale = total
			t.Logf("%s of %s: zero in exact arithmetic (PyTorch's norm %.2g, ours %.2g)", what, name, norm, gn)
		} else if gn == 0 {
			t.Errorf("%s of %s is all zero; PyTorch's has norm %.3g", what, name, norm)
		}
		if rel := diff / scale; rel > worst {
			worst, worstName = rel, name
		}
	}
	return worst, worstName
}

// TestSequenceSharedDimension: inputs whose sequence axis is dynamic but
// shares one name must get entries of one length.
func TestSequenceSharedDimension(t *testing.T) {
	requireRuntime(t)
	m, err := onnx.Load(filepath.Join(seqDir, "encoder.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	for _, vi := range onnxmodel.Graph(m).GetInput() {
		vi.GetType().GetTensorType().GetShape().GetDim()[1].Value = &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "T"}
	}
	a, err := npz.ReadFile(filepath.Join(seqDir, "encoder_data.npz"))
	if err != nil {
		t.Fatal(err)
	}
	mask := &npz.Array{Shape: []int{48, 7}, DType: "int64", Data: a["attention_mask"].Data[:48*7]}
	path := filepath.Join(t.TempDir(), "d.npz")
	if err := npz.WriteFile(path, []npz.Entry{{Name: "input_ids", Array: a["input_ids"]}, {Name: "attention_mask", Array: mask}, {Name: "y", Array: a["y"]}}); err != nil {
		t.Fatal(err)
	}
	d, err := dataset.Load(path, dataset.Options{Inputs: InputNames(m)})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(m, d, Options{})
	if err == nil {
		e.Close()
	}
	want := `model inputs "input_ids" and "attention_mask" share dimension "T", but entry "input_ids" has 8 there and entry "attention_mask" has 7`
	if err == nil || !strings.Contains(err.Error(), want) || !errors.Is(err, dataset.ErrShape) {
		t.Errorf("error %v, want %q", err, want)
	}
}

// TestSequenceRuntimeIDError: where the embedding table is not a stored
// tensor that a Gather reads directly (here, behind an Identity), the ids
// cannot be checked beforehand, and ONNX Runtime's Gather error gets the
// entry, the input and its largest id added.
func TestSequenceRuntimeIDError(t *testing.T) {
	requireRuntime(t)
	m, err := onnx.Load(filepath.Join(seqDir, "encoder.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	g := onnxmodel.Graph(m)
	for _, n := range g.GetNode() {
		if n.GetOpType() == "Gather" && n.GetInput()[0] == "emb.weight" {
			n.Input[0] = "emb.weight.copy"
		}
	}
	id := &onnxpb.NodeProto{OpType: proto.String("Identity"), Name: proto.String("copy"), Input: []string{"emb.weight"}, Output: []string{"emb.weight.copy"}}
	g.Node = append([]*onnxpb.NodeProto{id}, g.Node...)
	a, err := npz.ReadFile(filepath.Join(seqDir, "encoder_data.npz"))
	if err != nil {
		t.Fatal(err)
	}
	a["input_ids"].Data[17] = 40
	path := filepath.Join(t.TempDir(), "d.npz")
	if err := npz.WriteFile(path, []npz.Entry{{Name: "input_ids", Array: a["input_ids"]}, {Name: "attention_mask", Array: a["attention_mask"]}, {Name: "y", Array: a["y"]}}); err != nil {
		t.Fatal(err)
	}
	d, err := dataset.Load(path, dataset.Options{Inputs: InputNames(m)})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(m, d, Options{})
	if err == nil {
		_, err = e.Evaluate(context.Background(), nil)
		e.Close()
	}
	if err == nil || !strings.Contains(err.Error(), `entry "input_ids" (input "input_ids") holds ids up to 40`) {
		t.Errorf("error %v, want one naming the entry and its largest id", err)
	}
}

// useAll makes e differentiate with respect to the named tensors rather
// than its weights.
func useAll(t *testing.T, e *Evaluator, names []string) {
	t.Helper()
	gs, err := e.prepareGradient()
	if err != nil {
		t.Fatal(err)
	}
	gs.weights, gs.names = nil, nil
	for _, p := range e.Params() {
		if slices.Contains(names, p.Name) {
			gs.weights = append(gs.weights, p)
			gs.names = append(gs.names, p.Name)
		}
	}
	if len(gs.names) != len(names) {
		t.Fatalf("%d of the %d parameters found in the model", len(gs.names), len(names))
	}
	if e.grad != nil {
		e.grad.close()
	}
	e.grad = gs
}

func refNames(ref map[string]*npz.Array, prefix string) []string {
	var out []string
	for k := range ref {
		if name, ok := strings.CutPrefix(k, prefix); ok {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

func refMap(ref map[string]*npz.Array, prefix string) map[string][]float64 {
	out := map[string][]float64{}
	for _, k := range refNames(ref, prefix) {
		out[k] = ref[prefix+k].Data
	}
	return out
}

// TestSequencePaddingMask checks that with --shift-labels the labels at the
// positions the model's attention_mask marks as padding are not scored: the
// causal language model, given an attention_mask input, evaluates and
// differentiates data whose mask zeros the last positions of every other
// sequence exactly as it does the same data with those labels set to the
// ignore index; without Shift the mask changes nothing.
func TestSequencePaddingMask(t *testing.T) {
	requireRuntime(t)
	ctx := context.Background()
	m, err := onnx.Load(filepath.Join(seqDir, "causal_lm.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	g := onnxmodel.Graph(m)
	ids := g.GetInput()[0]
	mask := proto.Clone(ids).(*onnxpb.ValueInfoProto)
	mask.Name = proto.String("attention_mask")
	g.Input = append(g.Input, mask) // read by no node: the rule is the engine's
	data, err := npz.ReadFile(filepath.Join(seqDir, "lm_shift.npz"))
	if err != nil {
		t.Fatal(err)
	}
	x, y := data["input_ids"], data["labels"]
	n, steps := x.Shape[0], x.Shape[1]
	masks := &npz.Array{Shape: x.Shape, DType: "int64", Data: make([]float64, len(x.Data))}
	ignored := &npz.Array{Shape: y.Shape, DType: y.DType, Data: slices.Clone(y.Data)}
	padded := 0
	for r := 0; r < n; r++ {
		for t := 0; t < steps; t++ {
			masks.Data[r*steps+t] = 1
			if r%2 == 0 && t >= steps-3 {
				masks.Data[r*steps+t] = 0
				if ignored.Data[r*steps+t] != float64(loss.DefaultIgnoreIndex) {
					ignored.Data[r*steps+t] = float64(loss.DefaultIgnoreIndex)
					padded++
				}
			}
		}
	}
	dir := t.TempDir()
	ones := &npz.Array{Shape: x.Shape, DType: "int64", Data: make([]float64, len(x.Data))}
	for i := range ones.Data {
		ones.Data[i] = 1
	}
	write := func(name string, masks, labels *npz.Array) string {
		path := filepath.Join(dir, name)
		if err := npz.WriteFile(path, []npz.Entry{{Name: "input_ids", Array: x}, {Name: "attention_mask", Array: masks}, {Name: "labels", Array: labels}}); err != nil {
			t.Fatal(err)
		}
		return path
	}
	withMask, withIgnore, noPadding := write("mask.npz", masks, y), write("ignore.npz", ones, ignored), write("ones.npz", ones, y)
	eval := func(path string, shift bool) (Result, float64, *Evaluator) {
		d, err := dataset.Load(path, dataset.Options{Inputs: InputNames(m)})
		if err != nil {
			t.Fatal(err)
		}
		e, err := New(m, d, Options{Sequence: &loss.Sequence{IgnoreIndex: loss.DefaultIgnoreIndex, Shift: shift}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		r, err := e.Evaluate(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		gl, _, err := e.Gradient(ctx, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		return r, gl, e
	}
	a, ga, ea := eval(withMask, true)
	b, gb, _ := eval(withIgnore, true)
	if a.Loss != b.Loss || a.Tokens != b.Tokens || a.Accuracy != b.Accuracy || a.SequenceLoss != b.SequenceLoss || ga != gb {
		t.Errorf("masked: loss %v, %d tokens, accuracy %v, gradient model's loss %v; labels ignored: %v, %d, %v, %v", a.Loss, a.Tokens, a.Accuracy, ga, b.Loss, b.Tokens, b.Accuracy, gb)
	}
	if !slices.ContainsFunc(ea.Notes(), func(s string) bool { return strings.Contains(s, fmt.Sprintf("%d labels", padded)) }) {
		t.Errorf("no note of the %d padded labels: %q", padded, ea.Notes())
	}
	full, _, _ := eval(withMask, false)
	plain, _, _ := eval(noPadding, false)
	if full.Tokens != plain.Tokens || full.Loss != plain.Loss {
		t.Errorf("without --shift-labels the mask changed the loss: %v over %d tokens, %v over %d", full.Loss, full.Tokens, plain.Loss, plain.Tokens)
	}
	unmasked, _, _ := eval(noPadding, true)
	if a.Tokens != unmasked.Tokens-padded || padded == 0 {
		t.Errorf("%d tokens scored with the mask, %d without it, %d padded", a.Tokens, unmasked.Tokens, padded)
	}
}

// TestSequenceSequential checks the tolerance on the tokens head, whose
// loss per labelled token is a ratio of totals over sequences: on 600
// random sequences for the causal language model, with labels that are the
// ids (--shift-labels) and a tenth of them -100, every one of 40 sample
// orders stops within the tolerance of Evaluate's loss, most of them
// early; the tokens counted are the prefix's; a rule too strict to stop
// early gives Evaluate's numbers.
func TestSequenceSequential(t *testing.T) {
	requireRuntime(t)
	ctx := context.Background()
	m, err := onnx.Load(filepath.Join(seqDir, "causal_lm.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	vocab := m.Outputs()[0].Shape[2].Value
	const n, steps = 600, 8
	r := rand.New(rand.NewPCG(3, 4))
	ids := &npz.Array{Shape: []int{n, steps}, DType: "int64"}
	labels := &npz.Array{Shape: []int{n, steps}, DType: "int64"}
	for i := 0; i < n*steps; i++ {
		id := float64(r.IntN(int(vocab)))
		ids.Data = append(ids.Data, id)
		if r.IntN(10) == 0 {
			id = float64(loss.DefaultIgnoreIndex)
		}
		labels.Data = append(labels.Data, id)
	}
	path := filepath.Join(t.TempDir(), "lm.npz")
	if err := npz.WriteFile(path, []npz.Entry{{Name: "input_ids", Array: ids}, {Name: "labels", Array: labels}}); err != nil {
		t.Fatal(err)
	}
	d, err := dataset.Load(path, dataset.Options{Inputs: InputNames(m)})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(m, d, Options{Sequence: &loss.Sequence{IgnoreIndex: loss.DefaultIgnoreIndex, Shift: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	full, err := e.Evaluate(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	plan := estimate.NewPlan(n, estimate.Rule{Rel: 0.05, Abs: 1e-3})
	used := 0
	for seed := range uint64(40) {
		got, err := e.EvaluateSequential(ctx, nil, plan, seed)
		if err != nil {
			t.Fatal(err)
		}
		if miss := math.Abs(got.Loss - full.Loss); miss > plan.Tolerance(full.Loss) {
			t.Errorf("order %d: loss %.6g on %d sequences, full %.6g: off by %.3g, tolerance %.3g", seed, got.Loss, got.N, full.Loss, miss, plan.Tolerance(full.Loss))
		}
		if got.N < n && (got.SE <= 0 || got.Tokens >= full.Tokens || got.Tokens == 0) {
			t.Errorf("order %d stopped at %d sequences with se %g and %d of %d tokens", seed, got.N, got.SE, got.Tokens, full.Tokens)
		}
		used += got.N
	}
	t.Logf("full loss %.6g over %d tokens; mean sequences used %.0f of %d", full.Loss, full.Tokens, float64(used)/40, n)
	if used > 40*n*6/10 {
		t.Errorf("%.0f of %d sequences used on average: the rule never stops early here", float64(used)/40, n)
	}
	strict := estimate.NewPlan(n, estimate.Rule{Rel: 1e-9, Abs: 1e-12})
	all, err := e.EvaluateSequential(ctx, nil, strict, 1)
	if err != nil {
		t.Fatal(err)
	}
	if all.N != n || all.SE != 0 || all.Tokens != full.Tokens || math.Abs(all.Loss-full.Loss) > 1e-12*full.Loss || all.Accuracy != full.Accuracy {
		t.Errorf("strict rule: %+v, want Evaluate's %+v", all, full)
	}
}
