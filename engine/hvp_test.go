package engine

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/lsweep/lsweep/autodiff"
	"github.com/lsweep/lsweep/onnx"
)

// hvpRunner runs a Hessian-vector-product model in ONNX Runtime on the data
// and labels of a gradRunner.
type hvpRunner struct {
	sess *ort.DynamicAdvancedSession
	g    *gradRunner
}

func newHVPRunner(t *testing.T, hm *onnx.Model, g *gradRunner) *hvpRunner {
	t.Helper()
	c, err := withScalarOutputs(hm, []string{autodiff.GradLoss, autodiff.Slope})
	if err != nil {
		t.Fatal(err)
	}
	data, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	in := append([]string{"x", autodiff.GradLabels}, g.wrt...)
	out := []string{scalarOutput(autodiff.GradLoss), scalarOutput(autodiff.Slope)}
	for _, w := range g.wrt {
		in = append(in, autodiff.DirPrefix+w)
		out = append(out, autodiff.HVPPrefix+w)
	}
	sess, err := ort.NewDynamicAdvancedSessionWithONNXData(data, in, out, nil)
	if err != nil {
		t.Fatalf("ONNX Runtime rejects the HVP model: %v", err)
	}
	t.Cleanup(func() { sess.Destroy() })
	return &hvpRunner{sess: sess, g: g}
}

// run returns the loss, the slope and the product at values along dir.
func (r *hvpRunner) run(t *testing.T, values, dir map[string][]float64) (float64, float64, map[string][]float64) {
	t.Helper()
	g := r.g
	ins := slices.Clone(g.fixed)
	for _, src := range []map[string][]float64{values, dir} {
		for _, w := range g.wrt {
			v := testTensor(t, g.dt[w], g.shapes[w], src[w])
			defer v.Destroy()
			ins = append(ins, v)
		}
	}
	outs := make([]ort.Value, 2+len(g.wrt))
	if err := r.sess.Run(ins, outs); err != nil {
		t.Fatalf("run: %v", err)
	}
	defer func() {
		for _, o := range outs {
			o.Destroy()
		}
	}()
	var sc [2]float64
	for k := range sc {
		v, _, err := appendFloats(nil, outs[k], -1)
		if err != nil || len(v) != 1 {
			t.Fatalf("scalar output %d: %v (%d values)", k, err, len(v))
		}
		sc[k] = v[0]
	}
	hv := map[string][]float64{}
	for i, w := range g.wrt {
		v, _, err := appendFloats(nil, outs[2+i], -1)
		if err != nil {
			t.Fatal(err)
		}
		hv[w] = v
	}
	return sc[0], sc[1], hv
}

// check compares, at values and along a random direction, the product with
// the central difference of the gradient model's gradients,
// (g(w + h v) - g(w - h v)) / 2h, every entry of every tensor, and the slope
// with g . v. It returns the relative errors ||Hv - fd|| / ||fd|| and
// |slope - g.v| / ||g|| ||v||.
func (r *hvpRunner) check(t *testing.T, values map[string][]float64, eps float64, rng *rand.Rand) (relHv, relSlope float64) {
	t.Helper()
	g := r.g
	dir := map[string][]float64{}
	for _, w := range g.wrt {
		v := make([]float64, len(values[w]))
		for i := range v {
			v[i] = rng.NormFloat64() * max(0.1, math.Abs(values[w][i]))
		}
		dir[w] = v
	}
	_, grad := g.run(t, values)
	_, slope, hv := r.run(t, values, dir)
	var gv, gn, vn float64
	for _, w := range g.wrt {
		for i, x := range grad[w] {
			gv += x * dir[w][i]
			gn += x * x
			vn += dir[w][i] * dir[w][i]
		}
	}
	at := func(s float64) map[string][]float64 {
		p := map[string][]float64{}
		for _, w := range g.wrt {
			x := slices.Clone(values[w])
			for i := range x {
				x[i] += s * dir[w][i]
			}
			p[w] = x
		}
		return p
	}
	h := eps / math.Sqrt(vn/float64(max(1, len(dir))))
	_, gp := g.run(t, at(h))
	_, gm := g.run(t, at(-h))
	var num, den float64
	for _, w := range g.wrt {
		if len(hv[w]) != len(values[w]) || len(gp[w]) != len(values[w]) {
			t.Fatalf("%s: product of %d values, gradient of %d, tensor of %d", w, len(hv[w]), len(gp[w]), len(values[w]))
		}
		for i := range hv[w] {
			fd := (gp[w][i] - gm[w][i]) / (2 * h)
			num += (hv[w][i] - fd) * (hv[w][i] - fd)
			den += fd * fd
		}
	}
	relHv = math.Sqrt(num / max(den, 1e-300))
	if den == 0 {
		relHv = math.Sqrt(num)
	}
	relSlope = math.Abs(slope-gv) / max(math.Sqrt(gn*vn), 1e-300)
	return relHv, relSlope
}
