package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/lsweep/lsweep/autodiff"
	"github.com/lsweep/lsweep/internal/onnxmodel"
	"github.com/lsweep/lsweep/internal/onnxpb"
	"github.com/lsweep/lsweep/onnx"
)

// BenchmarkProfileOps runs the gradient and Hessian-vector-product models
// of the benchmark cases with ONNX Runtime's profiler on and logs the time
// spent per op type, the largest first, and per part of the graph and op
// type: where a derivative's time goes, with the CPU time ONNX Runtime took
// to make the session (which Gradient and HessianVector pay per call and per
// worker: 10 to 20% of the CPU time of the digits ResNet's derivatives, 5 to
// 10% of ResNet-20's). It runs only with LSWEEP_PROFILE set
// (a folder for the profiles, the models as built and as ONNX Runtime
// optimised them).
//
//	LSWEEP_PROFILE=/tmp/prof go test -v -run '^$' -bench ProfileOps -benchtime 1x ./engine
//
// The parts are told apart by what each node depends on: the forward pass
// (neither labels nor direction), the reverse pass (the labels), the
// tangents of the forward values (the direction) and those of the reverse
// pass (both).
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
			if err := os.WriteFile(prefix+".onnx", dm.patcher.Bytes(), 0o644); err != nil {
				b.Fatal(err)
			}
			so, err := sessionOptions(e.model, Options{}, 1)
			if err != nil {
				b.Fatal(err)
			}
			if err := so.EnableProfiling(prefix); err != nil {
				b.Fatal(err)
			}
			if err := so.SetOptimizedModelFilePath(prefix + ".opt.onnx"); err != nil {
				b.Fatal(err)
			}
			c0 := processCPU()
			sess, err := ort.NewDynamicAdvancedSessionWithONNXData(dm.patcher.Bytes(), dm.in, dm.out, so)
			if err != nil {
				b.Fatal(err)
			}
			created := processCPU() - c0
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
			logProfile(b, prefix, created)
		}
		e.Close()
	}
}

// Parts of a differentiated graph, for the profile.
const (
	partForward    = "forward"
	partReverse    = "reverse"
	partTanForward = "tangent of forward"
	partTanReverse = "tangent of reverse"
)

// graphParts returns the part of the graph each node of m belongs to, by
// node name and by output name. The nodes of the model itself are the
// forward pass; the nodes autodiff added before the first that depends on
// the direction are the reverse pass; the rest are the tangent pass, which
// made the tangents of the forward nodes first, in node order, and then
// those of the reverse pass, starting with the first node that reads a value
// of the reverse pass.
func graphParts(m *onnx.Model) (byNode, byValue map[string]string) {
	dir := map[string]bool{}
	for _, t := range onnxmodel.Graph(m).GetInitializer() {
		dir[t.GetName()] = strings.HasPrefix(t.GetName(), autodiff.DirPrefix)
	}
	for _, vi := range onnxmodel.Graph(m).GetInput() {
		dir[vi.GetName()] = strings.HasPrefix(vi.GetName(), autodiff.DirPrefix)
	}
	byNode, byValue = map[string]string{}, map[string]string{}
	tangents, reverseSeen := false, false
	for _, n := range onnxmodel.Graph(m).GetNode() {
		name := n.GetName()
		dep, fromReverse := false, false
		for _, in := range n.GetInput() {
			dep = dep || dir[in]
			fromReverse = fromReverse || byValue[in] == partReverse
		}
		var part string
		switch {
		case !strings.HasPrefix(name, "lsweep_grad/") || strings.HasPrefix(name, "lsweep_grad/folded"):
			part = partForward
		case !dep && !tangents:
			part = partReverse
		case reverseSeen || fromReverse:
			part, tangents, reverseSeen = partTanReverse, true, true
		default:
			part, tangents = partTanForward, true
		}
		byNode[name] = part
		for _, o := range n.GetOutput() {
			dir[o] = dep
			byValue[o] = part
		}
	}
	return byNode, byValue
}

// logProfile sums the kernel times of the newest profile with the prefix
// (created: the CPU time the session took to make) by op type, and by part of the graph (graphParts of prefix.onnx) and op type.
// Nodes ONNX Runtime made (layout reorders, blocked convolutions) are put in
// the part of the node they feed or are fed by, through prefix.opt.onnx.
func logProfile(b *testing.B, prefix string, created time.Duration) {
	files, _ := filepath.Glob(prefix + "_*.json")
	sort.Strings(files)
	if len(files) == 0 {
		b.Fatalf("no profile %s_*.json", prefix)
	}
	data, err := os.ReadFile(files[len(files)-1])
	if err != nil {
		b.Fatal(err)
	}
	var events []struct {
		Cat  string `json:"cat"`
		Name string `json:"name"`
		Dur  int64  `json:"dur"`
		Args struct {
			OpName string `json:"op_name"`
		} `json:"args"`
	}
	if err := json.Unmarshal(data, &events); err != nil {
		b.Fatal(err)
	}
	m, err := onnx.Load(prefix + ".onnx")
	if err != nil {
		b.Fatal(err)
	}
	byNode, byValue := graphParts(m)
	opt, err := onnx.Load(prefix + ".opt.onnx")
	if err != nil {
		b.Fatal(err)
	}
	optNodes := map[string]*onnxpb.NodeProto{}
	producer, consumer := map[string]*onnxpb.NodeProto{}, map[string]*onnxpb.NodeProto{}
	for _, n := range onnxmodel.Graph(opt).GetNode() {
		optNodes[n.GetName()] = n
		for _, o := range n.GetOutput() {
			producer[o] = n
		}
		for _, in := range n.GetInput() {
			if consumer[in] == nil {
				consumer[in] = n
			}
		}
	}
	var partOf func(name string, depth int) string
	partOf = func(name string, depth int) string {
		if p, ok := byNode[name]; ok {
			return p
		}
		if p, ok := byValue[strings.TrimSuffix(name, "_nchwc")]; ok {
			return p
		}
		n := optNodes[name]
		if n == nil || depth > 8 {
			return "?"
		}
		for _, o := range n.GetOutput() {
			if p, ok := byValue[o]; ok {
				return p
			}
		}
		if strings.HasPrefix(n.GetOpType(), "ReorderInput") {
			if c := consumer[n.GetOutput()[0]]; c != nil {
				return partOf(c.GetName(), depth+1)
			}
		}
		for _, in := range n.GetInput() {
			if p := producer[in]; p != nil {
				if part := partOf(p.GetName(), depth+1); part != "?" {
					return part
				}
			}
		}
		return "?"
	}
	// Each node counts its median time over the runs, times the runs: on a
	// shared machine a kernel that lost its core for a while is an outlier
	// that a plain sum lets dominate (one 50 ms Reshape in a 3 s profile).
	durs, opOf := map[string][]int64{}, map[string]string{}
	for _, ev := range events {
		if ev.Cat != "Node" || ev.Args.OpName == "" {
			continue
		}
		name := strings.TrimSuffix(ev.Name, "_kernel_time")
		durs[name] = append(durs[name], ev.Dur)
		opOf[name] = ev.Args.OpName
	}
	byOp, byPart, byPartOp := map[string]int64{}, map[string]int64{}, map[string]int64{}
	var total int64
	for name, ds := range durs {
		slices.Sort(ds)
		d := ds[len(ds)/2] * int64(len(ds))
		part := partOf(name, 0)
		byOp[opOf[name]] += d
		byPart[part] += d
		byPartOp[part+": "+opOf[name]] += d
		total += d
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s: %.1f ms in kernels (medians per node); session made in %.1f ms of CPU\n", filepath.Base(prefix), float64(total)/1e3, created.Seconds()*1e3)
	table := func(title string, by map[string]int64, n int) {
		type row struct {
			key string
			us  int64
		}
		var rows []row
		for k, us := range by {
			rows = append(rows, row{k, us})
		}
		sort.Slice(rows, func(i, j int) bool { return rows[i].us > rows[j].us })
		fmt.Fprintf(&sb, "  %s\n", title)
		for _, r := range rows[:min(n, len(rows))] {
			fmt.Fprintf(&sb, "    %-38s %8.1f ms  %5.1f%%\n", r.key, float64(r.us)/1e3, 100*float64(r.us)/float64(total))
		}
	}
	table("by op type", byOp, 12)
	table("by part", byPart, 5)
	table("by part and op type", byPartOp, 16)
	b.Log(sb.String())
}
