package engine

import (
	"context"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	ort "github.com/yalue/onnxruntime_go"
)

// inputsGradient is the alternative to Gradient's layout, kept for the
// benchmark: the gradient model as GradientModel makes it, the weights fed
// as graph inputs to sessions made once.
type inputsGradient struct {
	e    *Evaluator
	sess []*ort.DynamicAdvancedSession
}

func newInputsGradient(tb testing.TB, e *Evaluator) *inputsGradient {
	gs := e.grad
	data, err := gradientBytes(gs.grad.model)
	if err != nil {
		tb.Fatal(err)
	}
	p := &inputsGradient{e: e}
	for i := 0; i < min(e.sessions, len(e.batches)); i++ {
		s, err := ort.NewDynamicAdvancedSessionWithONNXData(data, append(slices.Clone(gs.grad.in), gs.names...), gs.grad.out, e.opts)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { s.Destroy() })
		p.sess = append(p.sess, s)
	}
	return p
}

func (p *inputsGradient) run(tb testing.TB, values map[string][]float64) {
	e, gs := p.e, p.e.grad
	var wts []ort.Value
	for _, w := range gs.weights {
		t, err := floatTensor(w.DType, w.Shape, values[w.Name])
		if err != nil {
			tb.Fatal(err)
		}
		defer t.Destroy()
		wts = append(wts, t)
	}
	var wg sync.WaitGroup
	for k, s := range p.sess {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := k; i < len(e.batches); i += len(p.sess) {
				outs := make([]ort.Value, len(gs.grad.out))
				if err := s.Run(slices.Concat(e.batches[i].values(), []ort.Value{gs.labels[i]}, wts), outs); err != nil {
					tb.Error(err)
					return
				}
				for _, o := range outs {
					o.Destroy()
				}
			}
		}()
	}
	wg.Wait()
}

// processCPU returns the CPU time the process has used. On a machine shared
// with other work, ratios of CPU times vary less than ratios of wall times.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkGradient compares, in one run, one gradient over the whole
// dataset (Gradient at a new weight vector each time, its sessions made by
// an earlier call) with one plain inference, Evaluate of the untouched model
// (session creation included, as a sweep point costs). It reports their
// ratio as "gradient/inference" (target <= 4). It also times the alternative
// layout, the weights fed as graph inputs to sessions made once, as
// "inputs/inference". Iterations alternate the three.
func BenchmarkGradient(b *testing.B) {
	for _, c := range benchCases(256) {
		b.Run(c.name, func(b *testing.B) {
			e, _, _ := c.open(b)
			defer e.Close()
			ctx := context.Background()
			w := perturbed(e)
			alt := map[string][]float64{}
			for name, v := range w {
				u := make([]float64, len(v))
				for i, x := range v {
					u[i] = 0.99 * x
				}
				alt[name] = u
			}
			if _, err := e.Evaluate(ctx, nil); err != nil {
				b.Fatal(err)
			}
			if _, _, err := e.Gradient(ctx, w, 0); err != nil {
				b.Fatal(err)
			}
			inputs := newInputsGradient(b, e)
			inputs.run(b, w)
			var tInf, tGrad, tConst time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				v := w
				if i%2 == 1 {
					v = alt
				}
				t0 := time.Now()
				if _, err := e.Evaluate(ctx, nil); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				if _, _, err := e.Gradient(ctx, v, 0); err != nil {
					b.Fatal(err)
				}
				t2 := time.Now()
				inputs.run(b, v)
				tInf += t1.Sub(t0)
				tGrad += t2.Sub(t1)
				tConst += time.Since(t2)
			}
			b.ReportMetric(float64(tGrad)/float64(tInf), "gradient/inference")
			b.ReportMetric(float64(tConst)/float64(tInf), "inputs/inference")
			b.ReportMetric(tInf.Seconds()/float64(b.N)*1e3, "ms-inference")
			b.ReportMetric(tGrad.Seconds()/float64(b.N)*1e3, "ms-gradient")
			b.ReportMetric(tConst.Seconds()/float64(b.N)*1e3, "ms-inputs")
		})
	}
}

// BenchmarkHVP compares, in one run, one exact Hessian-vector product over
// the whole dataset (HessianVector at a new weight vector and direction each
// time) with one gradient (Gradient) and one plain inference (Evaluate of the
// untouched model), iterations alternating them. It reports "hvp/gradient"
// (target <= 2), "gradient/inference" (target <= 3) and "hvp/inference", and
// "hvp-inputs/gradient": the product with the direction fed as graph inputs
// instead of stored in the model. The "cpu-" ratios are those of the
// process's CPU time, which vary less on a shared machine.
func BenchmarkHVP(b *testing.B) {
	for _, c := range benchCases(256) {
		b.Run(c.name, func(b *testing.B) {
			e, _, _ := c.open(b)
			defer e.Close()
			ctx := context.Background()
			w := perturbed(e)
			dir := map[string][]float64{}
			for name, v := range w {
				u := make([]float64, len(v))
				for i, x := range v {
					u[i] = 0.01 * x * float64(1-2*(i%2))
				}
				dir[name] = u
			}
			if _, err := e.Evaluate(ctx, nil); err != nil {
				b.Fatal(err)
			}
			if _, _, err := e.Gradient(ctx, w, 0); err != nil {
				b.Fatal(err)
			}
			if _, err := e.HessianVector(ctx, w, dir, 0); err != nil {
				b.Fatal(err)
			}
			e2, _, _ := c.open(b)
			defer e2.Close()
			if _, _, err := e2.Gradient(ctx, w, 0); err != nil {
				b.Fatal(err)
			}
			e2.grad.hvp.dirInputs = true
			if _, err := e2.HessianVector(ctx, w, dir, 0); err != nil {
				b.Fatal(err)
			}
			var tInf, tGrad, tHVP, tInputs, cInf, cGrad, cHVP time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0, c0 := time.Now(), processCPU()
				if _, err := e.Evaluate(ctx, nil); err != nil {
					b.Fatal(err)
				}
				t1, c1 := time.Now(), processCPU()
				if _, _, err := e.Gradient(ctx, w, 0); err != nil {
					b.Fatal(err)
				}
				t2, c2 := time.Now(), processCPU()
				if _, err := e.HessianVector(ctx, w, dir, 0); err != nil {
					b.Fatal(err)
				}
				t3, c3 := time.Now(), processCPU()
				if _, err := e2.HessianVector(ctx, w, dir, 0); err != nil {
					b.Fatal(err)
				}
				tInf += t1.Sub(t0)
				tGrad += t2.Sub(t1)
				tHVP += t3.Sub(t2)
				tInputs += time.Since(t3)
				cInf += c1 - c0
				cGrad += c2 - c1
				cHVP += c3 - c2
			}
			b.ReportMetric(float64(tHVP)/float64(tGrad), "hvp/gradient")
			b.ReportMetric(float64(tInputs)/float64(tGrad), "hvp-inputs/gradient")
			b.ReportMetric(float64(tGrad)/float64(tInf), "gradient/inference")
			b.ReportMetric(float64(tHVP)/float64(tInf), "hvp/inference")
			b.ReportMetric(float64(cHVP)/float64(cGrad), "cpu-hvp/gradient")
			b.ReportMetric(float64(cGrad)/float64(cInf), "cpu-gradient/inference")
			b.ReportMetric(tInf.Seconds()/float64(b.N)*1e3, "ms-inference")
			b.ReportMetric(tGrad.Seconds()/float64(b.N)*1e3, "ms-gradient")
			b.ReportMetric(tHVP.Seconds()/float64(b.N)*1e3, "ms-hvp")
		})
	}
}
