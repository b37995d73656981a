package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	ort "github.com/yalue/onnxruntime_go"
)

// BenchmarkProfileOps runs the gradient and Hessian-vector-product models
// of the benchmark cases with ONNX Runtime's profiler on and logs the time
// spent per op type, the largest first: where a derivative's time goes. It
// runs only with LSWEEP_PROFILE set (a folder for the profiles).
//
//	LSWEEP_PROFILE=/tmp/prof go test -run '^$' -bench ProfileOps -benchtime 1x ./engine
func BenchmarkProfileOps(b *testing.B) {
	dir := os.Getenv("LSWEEP_PROFILE")
	if dir == "" {
		b.Skip("LSWEEP_PROFILE is not set")
	}
	for _, c := range benchCases(256) {
		e, _, _ := c.open(b)
		w := perturbed(e)
		dir2 := map[string][]float64{}
		for name, v := range w {
			dir2[name] = v
		}
		ctx := context.Background()
		if _, _, err := e.Gradient(ctx, w, 0); err != nil {
			b.Fatal(err)
		}
		if _, err := e.HessianVector(ctx, w, dir2, 0); err != nil {
			b.Fatal(err)
		}
		for _, dm := range []*diffModel{&e.grad.grad, &e.grad.hvp} {
			prefix := filepath.Join(dir, c.name+"-"+strings.ReplaceAll(dm.kind(), " ", "_"))
			so, err := sessionOptions(e.model, Options{}, 1)
			if err != nil {
				b.Fatal(err)
			}
			if err := so.EnableProfiling(prefix); err != nil {
				b.Fatal(err)
			}
			sess, err := ort.NewDynamicAdvancedSessionWithONNXData(dm.patcher.Bytes(), dm.in, dm.out, so)
			if err != nil {
				b.Fatal(err)
			}
			var extra []ort.Value
			if dm.scalars > 1 && dm.dirInputs {
				for _, p := range e.grad.weights {
					t, _ := floatTensor(gradType(p.DType), p.Shape, dir2[p.Name])
					extra = append(extra, t)
				}
			}
			for i, bt := range e.batches {
				out := batchOut{scalars: make([]float64, dm.scalars), vectors: make([][]float64, len(e.grad.weights))}
				for k, p := range e.grad.weights {
					out.vectors[k] = make([]float64, p.Size())
				}
				if err := e.diffBatch(sess, dm, e.data, bt, e.grad.labels[i], extra, &out); err != nil {
					b.Fatal(err)
				}
			}
			sess.Destroy()
			so.Destroy()
			logProfile(b, prefix)
		}
		e.Close()
	}
}

// logProfile sums the kernel times of the newest profile with the prefix by
// op type.
func logProfile(b *testing.B, prefix string) {
	files, _ := filepath.Glob(prefix + "*.json")
	sort.Strings(files)
	if len(files) == 0 {
		b.Fatalf("no profile %s*.json", prefix)
	}
	data, err := os.ReadFile(files[len(files)-1])
	if err != nil {
		b.Fatal(err)
	}
	var events []struct {
		Cat  string `json:"cat"`
		Dur  int64  `json:"dur"`
		Args struct {
			OpName string `json:"op_name"`
		} `json:"args"`
	}
	if err := json.Unmarshal(data, &events); err != nil {
		b.Fatal(err)
	}
	by := map[string]int64{}
	var total int64
	for _, ev := range events {
		if ev.Cat == "Node" && ev.Args.OpName != "" {
			by[ev.Args.OpName] += ev.Dur
			total += ev.Dur
		}
	}
	type row struct {
		op string
		us int64
	}
	var rows []row
	for op, us := range by {
		rows = append(rows, row{op, us})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].us > rows[j].us })
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s: %.1f ms in kernels\n", filepath.Base(prefix), float64(total)/1e3)
	for _, r := range rows[:min(12, len(rows))] {
		fmt.Fprintf(&sb, "  %-22s %8.1f ms  %5.1f%%\n", r.op, float64(r.us)/1e3, 100*float64(r.us)/float64(total))
	}
	b.Log(sb.String())
}
