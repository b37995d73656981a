package engine

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/lsweep/lsweep/dataset"
	"github.com/lsweep/lsweep/onnx"
)

// plainInference runs the untouched model over the Evaluator's batches with
// one session made beforehand: what ONNX Runtime alone costs per pass, the
// baseline a perturbed point is compared with.
type plainInference struct {
	sess *ort.DynamicAdvancedSession
	e    *Evaluator
}

func newPlainInference(tb testing.TB, e *Evaluator, m *onnx.Model) *plainInference {
	data, err := m.Marshal()
	if err != nil {
		tb.Fatal(err)
	}
	// The evaluation sessions' options, but for m's own folder: a large
	// model's evaluation sessions read their weights from a file elsewhere.
	so, err := sessionOptions(m, Options{}, e.sessionThreads)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { so.Destroy() })
	sess, err := ort.NewDynamicAdvancedSessionWithONNXData(data, e.inputNames(), []string{e.output.Name}, so)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { sess.Destroy() })
	return &plainInference{sess: sess, e: e}
}

func (p *plainInference) run(tb testing.TB) {
	outs := []ort.Value{nil}
	for _, b := range p.e.batches {
		outs[0] = nil
		if err := p.sess.Run(b.values(), outs); err != nil {
			tb.Fatal(err)
		}
		outs[0].Destroy()
	}
}

// parallelInference is plainInference with lsweep's layout: e.Sessions()
// sessions, made once, sharing the batches. Against it, a point's ratio is
// its per-point overhead alone.
type parallelInference struct {
	sess []*ort.DynamicAdvancedSession
	e    *Evaluator
}

func newParallelInference(tb testing.TB, e *Evaluator) *parallelInference {
	p := &parallelInference{e: e}
	for i := 0; i < min(e.Sessions(), len(e.batches)); i++ {
		s, err := e.newSession(e.patcher.Bytes(), true)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { s.Destroy() })
		p.sess = append(p.sess, s)
	}
	return p
}

func (p *parallelInference) run(tb testing.TB) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for _, s := range p.sess {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(p.e.batches) {
					return
				}
				if _, err := p.e.runBatch(s, p.e.batches[i], nil, true); err != nil {
					tb.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// perturbed returns weights th + 0.1 d for a fixed Gaussian d.
func perturbed(e *Evaluator) map[string][]float64 {
	r := rand.New(rand.NewPCG(1, 2))
	w := make(map[string][]float64)
	for _, p := range e.Params() {
		if p.Role != onnx.RoleWeight {
			continue
		}
		base := e.Base(p.Name)
		v := make([]float64, len(base))
		for i := range v {
			v[i] = base[i] + 0.1*r.NormFloat64()*abs(base[i])
		}
		w[p.Name] = v
	}
	return w
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// randomImages is a deterministic CIFAR-shaped dataset.
func randomImages(n int) *dataset.Dataset {
	r := rand.New(rand.NewPCG(3, 4))
	d := &dataset.Dataset{Path: "random", XKey: "x", YKey: "y", XShape: []int{n, 3, 32, 32}, XDType: "float32", YShape: []int{n}, YDType: "int64", YIsInteger: true}
	d.X = make([]float64, n*3*32*32)
	for i := range d.X {
		d.X[i] = r.NormFloat64()
	}
	d.Y = make([]float64, n)
	for i := range d.Y {
		d.Y[i] = float64(r.IntN(10))
	}
	return d
}

// benchCase is a model and dataset that the benchmarks time.
type benchCase struct {
	name  string
	model string
	data  func(tb testing.TB) *dataset.Dataset
	batch int
}

// benchCases are the digits ResNet on the digits data and ResNet-20 on
// cifar random CIFAR-shaped images.
func benchCases(cifar int) []benchCase {
	return []benchCase{
		{"digits-resnet", "../fixtures/testdata/digits/resnet_skip.onnx", func(tb testing.TB) *dataset.Dataset {
			d, err := dataset.Load("../fixtures/testdata/digits/data.npz", dataset.Options{})
			if err != nil {
				tb.Fatal(err)
			}
			return d
		}, 256},
		{"cifar-resnet20", "../fixtures/testdata/cifar/resnet20.onnx", func(testing.TB) *dataset.Dataset { return randomImages(cifar) }, 128},
	}
}

// open skips b without ONNX Runtime, else loads c's model and dataset and
// makes an Evaluator over them; the caller closes it.
func (c benchCase) open(b *testing.B) (*Evaluator, *onnx.Model, *dataset.Dataset) {
	requireRuntime(b)
	m, err := onnx.Load(filepath.FromSlash(c.model))
	if err != nil {
		b.Fatal(err)
	}
	d := c.data(b)
	e, err := New(m, d, Options{BatchSize: c.batch})
	if err != nil {
		b.Fatal(err)
	}
	return e, m, d
}

// BenchmarkPoint compares, in one run, plain ONNX Runtime inference of the
// untouched model over the dataset (a: one session made beforehand, ONNX
// Runtime's default threading) with lsweep's evaluation of one perturbed
// point, every per-point cost included (b). It reports b/a as
// "point/inference"; the target is <= 1.10. It also reports b against plain
// inference in lsweep's own layout (sessions made beforehand, sharing the
// batches) as "point/same-layout": the per-point overhead alone. Iterations
// alternate the three so that drift of a shared machine hits all alike.
func BenchmarkPoint(b *testing.B) {
	for _, c := range benchCases(1024) {
		b.Run(c.name, func(b *testing.B) {
			e, m, d := c.open(b)
			defer e.Close()
			plain := newPlainInference(b, e, m)
			parallel := newParallelInference(b, e)
			w := perturbed(e)
			plain.run(b) // warm-up
			parallel.run(b)
			if _, err := e.Evaluate(context.Background(), w); err != nil {
				b.Fatal(err)
			}
			var ta, tp, tb time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				plain.run(b)
				t1 := time.Now()
				parallel.run(b)
				t2 := time.Now()
				if _, err := e.Evaluate(context.Background(), w); err != nil {
					b.Fatal(err)
				}
				ta += t1.Sub(t0)
				tp += t2.Sub(t1)
				tb += time.Since(t2)
			}
			b.ReportMetric(float64(tb)/float64(ta), "point/inference")
			b.ReportMetric(float64(tb)/float64(tp), "point/same-layout")
			b.ReportMetric(float64(d.N()*b.N)/tb.Seconds(), "samples/s")
			b.ReportMetric(ta.Seconds()/float64(b.N)*1e3, "ms-inference")
			b.ReportMetric(tb.Seconds()/float64(b.N)*1e3, "ms-point")
		})
	}
}
