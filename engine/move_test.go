package engine_test

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/lsweep/lsweep/engine"
	"github.com/lsweep/lsweep/internal/fixtures"
	"github.com/lsweep/lsweep/internal/testenv"
	"github.com/lsweep/lsweep/onnx"
)

// TestEvaluateMove checks EvaluateMove on every tiny fixture (float32,
// float16 and double weights, typed fields, Constant nodes): at th + a*x +
// b*y it gives the bits Evaluate gives for those values computed in float64
// here, the same for one direction, MoveValues returns those values, and
// after a move Evaluate(nil) is the untouched model again.
func TestEvaluateMove(t *testing.T) {
	testenv.RequireRuntime(t)
	ctx := context.Background()
	for _, tiny := range fixtures.All() {
		if tiny.Head == "" {
			continue
		}
		t.Run(tiny.Name, func(t *testing.T) {
			e, err := engine.New(writeModel(t, tiny), tinyData(tiny, 7), engine.Options{BatchSize: 3, Threads: 1})
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			centre, err := e.Evaluate(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(7, 1))
			x, y := map[string][]float32{}, map[string][]float32{}
			n := 0
			for _, p := range e.Params() {
				if !p.DType.IsFloat() || p.Size() == 0 || p.Role == onnx.RoleConstant {
					continue
				}
				base := e.Base(p.Name)
				d := make([]float32, len(base))
				for i, b := range base {
					d[i] = float32(r.NormFloat64() * (math.Abs(b) + 0.01))
				}
				// x moves the weights, y every float tensor but the last.
				if p.Role == onnx.RoleWeight {
					x[p.Name] = d
				}
				if n%3 != 2 {
					y[p.Name] = d
				}
				n++
			}
			const a, b = 0.3, -0.45
			want := map[string][]float64{}
			for name := range x {
				want[name] = nil
			}
			for name := range y {
				want[name] = nil
			}
			for name := range want {
				v := e.Base(name)
				for i := range v {
					if d, ok := x[name]; ok {
						v[i] += a * float64(d[i])
					}
					if d, ok := y[name]; ok {
						v[i] += b * float64(d[i])
					}
				}
				want[name] = v
			}
			m := engine.Move{Coefs: []float64{a, b}, Dirs: []map[string][]float32{x, y}}
			got, err := e.MoveValues(m)
			if err != nil {
				t.Fatal(err)
			}
			for name, v := range want {
				g := got[name]
				for i := range v {
					if g[i] != v[i] {
						t.Fatalf("MoveValues %s[%d] = %v, want %v", name, i, g[i], v[i])
					}
				}
			}
			moved, err := e.EvaluateMove(ctx, m)
			if err != nil {
				t.Fatal(err)
			}
			byValues, err := e.Evaluate(ctx, want)
			if err != nil {
				t.Fatal(err)
			}
			if moved.Loss != byValues.Loss || moved.Loss == centre.Loss {
				t.Errorf("EvaluateMove loss %v, Evaluate of the same values %v, centre %v", moved.Loss, byValues.Loss, centre.Loss)
			}
			one, err := e.EvaluateMove(ctx, engine.Move{Coefs: []float64{a}, Dirs: []map[string][]float32{x}})
			if err != nil {
				t.Fatal(err)
			}
			oneValues := map[string][]float64{}
			for name, d := range x {
				v := e.Base(name)
				for i := range v {
					v[i] += a * float64(d[i])
				}
				oneValues[name] = v
			}
			if byValues, err = e.Evaluate(ctx, oneValues); err != nil || one.Loss != byValues.Loss {
				t.Errorf("one direction: EvaluateMove loss %v, Evaluate %v (%v)", one.Loss, byValues.Loss, err)
			}
			if _, err := e.EvaluateMove(ctx, m); err != nil {
				t.Fatal(err)
			}
			if back, err := e.Evaluate(ctx, nil); err != nil || back.Loss != centre.Loss {
				t.Errorf("after a move, the untouched model's loss is %v, was %v (%v)", back.Loss, centre.Loss, err)
			}
			if _, err := e.EvaluateMove(ctx, engine.Move{Coefs: []float64{1}, Dirs: []map[string][]float32{{"no such tensor": {1}}}}); err == nil {
				t.Error("no error for a direction on a tensor the model lacks")
			}
		})
	}
}

// TestLargeModelPath checks the path of large models on every tiny fixture
// (the size from which a model counts as large set to 0): weights in a file
// of the scratch folder, one session, memory returned after each point. The
// losses at the centre and at a moved point are the bits of the ordinary
// path with one session and the same threads, and Close removes the file.
func TestLargeModelPath(t *testing.T) {
	testenv.RequireRuntime(t)
	ctx := context.Background()
	// Weights in an external-data file are read in place, mapped.
	extDir := t.TempDir()
	ext, err := fixtures.ExternalData(extDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tiny := range append(fixtures.All(), ext) {
		if tiny.Head == "" {
			continue
		}
		model := func(t *testing.T) *onnx.Model {
			if tiny != ext {
				return writeModel(t, tiny)
			}
			m, err := onnx.Load(filepath.Join(extDir, "model.onnx"))
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		t.Run(tiny.Name, func(t *testing.T) {
			eval := func(large bool) (centre, moved engine.Result) {
				opts := engine.Options{BatchSize: 3, Threads: 2, Sessions: 1}
				scratch := t.TempDir()
				if large {
					engine.SetLargeModelBytes(t, 0)
					opts.Scratch = scratch
				}
				e, err := engine.New(model(t), tinyData(tiny, 7), opts)
				if err != nil {
					t.Fatal(err)
				}
				files, _ := filepath.Glob(filepath.Join(scratch, ".lsweep-weights-*.data"))
				if large && len(files) != 1 {
					t.Errorf("%d weights files in the scratch folder, want 1 (notes %q)", len(files), e.Notes())
				}
				x := map[string][]float32{}
				for _, p := range e.Params() {
					if p.Role == onnx.RoleWeight && p.DType.IsFloat() {
						v := make([]float32, p.Size())
						for i := range v {
							v[i] = float32(i%7) * 0.05
						}
						x[p.Name] = v
					}
				}
				if centre, err = e.Evaluate(ctx, nil); err != nil {
					t.Fatal(err)
				}
				if moved, err = e.EvaluateMove(ctx, engine.Move{Coefs: []float64{0.7}, Dirs: []map[string][]float32{x}}); err != nil {
					t.Fatal(err)
				}
				if back, err := e.Evaluate(ctx, nil); err != nil || back.Loss != centre.Loss {
					t.Errorf("after a move the centre's loss is %v, was %v (%v)", back.Loss, centre.Loss, err)
				}
				e.Close()
				if files, _ := filepath.Glob(filepath.Join(scratch, ".lsweep-weights-*")); len(files) != 0 {
					t.Errorf("Close left %q", files)
				}
				return centre, moved
			}
			c0, m0 := eval(false)
			c1, m1 := eval(true)
			if c0.Loss != c1.Loss || m0.Loss != m1.Loss || m0.Loss == c0.Loss {
				t.Errorf("losses at the centre and moved: %v %v in memory, %v %v through the file", c0.Loss, m0.Loss, c1.Loss, m1.Loss)
			}
		})
	}
}
