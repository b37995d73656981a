package engine

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/lsweep/lsweep/autodiff"
	"github.com/lsweep/lsweep/dataset"
	"github.com/lsweep/lsweep/loss"
	"github.com/lsweep/lsweep/npz"
	"github.com/lsweep/lsweep/onnx"
)

// TestTransformerEveryParameter differentiates the tiny ViT exports with
// respect to every parameter, not only the weights an Evaluator perturbs
// (the ten rank-2 matrices; the class token, the position table, the biases
// and the LayerNorm parameters are not weights to the onnx package), through
// GradientModel and HVPModel run by ONNX Runtime on the first 64 digits, and
// compares with PyTorch's float64 numbers (vit_params.npz, written by
// make_transformer_fixtures.py; initializer names are the state_dict keys):
// every parameter's gradient to 1e-4 relative, none all zero; H v along a
// unit direction over the rank >= 2 tensors (the weights, cls, pos) and
// along one over all parameters, every tensor to 1e-3 relative; and the
// slopes g.v.
func TestTransformerEveryParameter(t *testing.T) {
	requireRuntime(t)
	const dir = "../fixtures/testdata/transformer"
	ref, err := npz.ReadFile(dir + "/vit_params.npz")
	if err != nil {
		t.Fatal(err)
	}
	d, err := dataset.Load("../fixtures/testdata/digits/data.npz", dataset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ns, _ := ref["samples"].Scalar()
	n := int(ns)
	per := d.SampleLen()
	x, labels := d.X[:n*per], d.Y[:n]
	xShape := []int64{int64(n)}
	for _, s := range d.XShape[1:] {
		xShape = append(xShape, int64(s))
	}
	keys := func(prefix string) []string {
		var out []string
		for k := range ref {
			if name, ok := strings.CutPrefix(k, prefix); ok {
				out = append(out, name)
			}
		}
		slices.Sort(out)
		return out
	}
	params := keys("grad/")
	if len(params) != 32 {
		t.Fatalf("%d parameters in the references, want 32", len(params))
	}
	for _, opset := range []string{"14", "17"} {
		t.Run("opset"+opset, func(t *testing.T) {
			m, err := onnx.Load(dir + "/vit_opset" + opset + ".onnx")
			if err != nil {
				t.Fatal(err)
			}
			values := map[string][]float64{}
			for _, p := range params {
				if values[p], err = m.Value(p); err != nil {
					t.Fatal(err)
				}
			}
			gm, err := autodiff.GradientModel(m, "", loss.Logits, params)
			if err != nil {
				t.Fatal(err)
			}
			r := newGradRunner(t, gm, x, xShape, onnx.Float, labels, loss.Logits, onnx.Float, params)
			l, grads := r.run(t, values)
			wantLoss, _ := ref["loss"].Scalar()
			if math.Abs(l-wantLoss) > 1e-5*wantLoss {
				t.Errorf("loss %.9g, PyTorch %.9g", l, wantLoss)
			}
			worst, worstName := paramErrors(t, "gradient", ref, "grad/", grads)
			t.Logf("gradient of all %d parameters: worst relative error %.2g (%s)", len(params), worst, worstName)
			if worst > 1e-4 {
				t.Errorf("gradient of %s: relative error %.3g > 1e-4", worstName, worst)
			}

			for _, tag := range []string{"2", "all"} {
				wrt := keys("v" + tag + "/")
				dir := map[string][]float64{}
				for _, w := range wrt {
					dir[w] = ref["v"+tag+"/"+w].Data
				}
				hm, err := autodiff.HVPModel(m, "", loss.Logits, wrt)
				if err != nil {
					t.Fatal(err)
				}
				hr := newHVPRunner(t, hm, newGradRunner(t, gm, x, xShape, onnx.Float, labels, loss.Logits, onnx.Float, wrt))
				_, slope, hv := hr.run(t, values, dir)
				worst, worstName := paramErrors(t, "H v", ref, "hv"+tag+"/", hv)
				gv, _ := ref["gv"+tag].Scalar()
				t.Logf("H v over %d tensors: worst relative error %.2g (%s); g.v %.7g (PyTorch %.7g)", len(wrt), worst, worstName, slope, gv)
				if worst > 1e-3 {
					t.Errorf("H v over %d tensors, of %s: relative error %.3g > 1e-3", len(wrt), worstName, worst)
				}
				if math.Abs(slope-gv) > 1e-4*math.Abs(gv) {
					t.Errorf("g.v over %d tensors %.9g, PyTorch %.9g", len(wrt), slope, gv)
				}
			}
		})
	}
}

// paramErrors compares got with the reference tensors under prefix, tensor
// by tensor, failing for one missing, of another size, or all zero where
// PyTorch's is not, and returns the largest relative error
// ||got - want|| / ||want||.
func paramErrors(t *testing.T, what string, ref map[string]*npz.Array, prefix string, got map[string][]float64) (worst float64, worstName string) {
	t.Helper()
	for key, a := range ref {
		name, ok := strings.CutPrefix(key, prefix)
		if !ok {
			continue
		}
		g := got[name]
		if len(g) != len(a.Data) {
			t.Errorf("%s of %s: %d values, PyTorch %d", what, name, len(g), len(a.Data))
			continue
		}
		var diff, norm, gn float64
		for i := range g {
			diff += (g[i] - a.Data[i]) * (g[i] - a.Data[i])
			norm += a.Data[i] * a.Data[i]
			gn += g[i] * g[i]
		}
		if gn == 0 && norm != 0 {
			t.Errorf("%s of %s is all zero; PyTorch's has norm %.3g", what, name, math.Sqrt(norm))
		}
		if rel := math.Sqrt(diff / max(norm, 1e-300)); rel > worst {
			worst, worstName = rel, name
		}
	}
	return worst, worstName
}
