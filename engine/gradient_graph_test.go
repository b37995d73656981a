package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/lsweep/lsweep/autodiff"

	ort "github.com/yalue/onnxruntime_go"
	"google.golang.org/protobuf/proto"

	"github.com/lsweep/lsweep/internal/fixtures"
	"github.com/lsweep/lsweep/internal/onnxmodel"
	"github.com/lsweep/lsweep/internal/onnxpb"
	"github.com/lsweep/lsweep/loss"
	"github.com/lsweep/lsweep/onnx"
)

// graphBuilder makes the small test graphs of the gradient tests, in the
// style of package fixtures: one data input "x" with a symbolic batch, float
// initializers drawn from a fixed seed (the tensors to differentiate), int64
// initializers for shapes and axes, and nodes named after their op.
type graphBuilder struct {
	g     *onnxpb.GraphProto
	rng   *rand.Rand
	dt    onnx.DataType
	nodes int
	wrt   []string
	x     []int64 // shape of x, -1 for the batch
}

func newGraph(dt onnx.DataType, seed uint64) *graphBuilder {
	return &graphBuilder{g: &onnxpb.GraphProto{Name: proto.String("test")}, rng: rand.New(rand.NewPCG(seed, 99)), dt: dt}
}

// input declares x with the given sample shape (the batch comes first).
func (b *graphBuilder) input(sample ...int64) string {
	b.x = append([]int64{-1}, sample...)
	b.g.Input = append(b.g.Input, fixtures.ValueInfo("x", int32(b.dt), b.x...))
	return "x"
}

// floatTensor encodes values in the builder's type.
func (b *graphBuilder) floatTensor(name string, dt onnx.DataType, dims []int64, v []float64) *onnxpb.TensorProto {
	t := &onnxpb.TensorProto{Name: proto.String(name), Dims: slices.Clone(dims), DataType: proto.Int32(int32(dt))}
	switch dt {
	case onnx.Double:
		t.DoubleData = v
	case onnx.Float:
		for _, x := range v {
			t.FloatData = append(t.FloatData, float32(x))
		}
	default:
		panic("test graphs hold float or double tensors")
	}
	return t
}

// param adds a random initializer to differentiate with respect to, with
// entries of the given scale plus offset (offset > 0 keeps them positive).
func (b *graphBuilder) param(name string, dims []int64, scale, offset float64) string {
	n := 1
	for _, d := range dims {
		n *= int(d)
	}
	v := make([]float64, n)
	for i := range v {
		v[i] = b.rng.NormFloat64() * scale
		if offset > 0 {
			v[i] = math.Abs(v[i]) + offset
		}
	}
	b.g.Initializer = append(b.g.Initializer, b.floatTensor(name, b.dt, dims, v))
	b.wrt = append(b.wrt, name)
	return name
}

// constant adds a float initializer that is not differentiated.
func (b *graphBuilder) constant(name string, dims []int64, v ...float64) string {
	b.g.Initializer = append(b.g.Initializer, b.floatTensor(name, b.dt, dims, v))
	return name
}

func (b *graphBuilder) ints(name string, v ...int64) string {
	if name == "" {
		b.nodes++
		name = fmt.Sprintf("i%d", b.nodes)
	}
	b.g.Initializer = append(b.g.Initializer, &onnxpb.TensorProto{Name: proto.String(name), Dims: []int64{int64(len(v))},
		DataType: proto.Int32(int32(onnx.Int64)), Int64Data: v})
	return name
}

// node appends a node with one output named after it and returns that name.
func (b *graphBuilder) node(op string, in []string, attrs ...*onnxpb.AttributeProto) string {
	out := fmt.Sprintf("%s_%d", op, b.nodes)
	b.g.Node = append(b.g.Node, &onnxpb.NodeProto{Name: proto.String(out), OpType: proto.String(op), Input: in, Output: []string{out}, Attribute: attrs})
	b.nodes++
	return out
}

// scaled multiplies x by a differentiated tensor shaped like one sample, so
// that the gradient flows into the op under test through its data input too.
func (b *graphBuilder) scaled(x string) string {
	s := b.param("xscale", b.x[1:], 0.5, 0.5)
	return b.node("Mul", []string{x, s})
}

// model finishes the graph with output y of the given rank.
func (b *graphBuilder) model(y string, rank int, opset int64) *onnx.Model {
	dims := make([]int64, rank)
	for i := range dims {
		dims[i] = -1
	}
	out := &onnxpb.ValueInfoProto{Name: proto.String(y), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
		TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(b.dt)), Shape: &onnxpb.TensorShapeProto{}}}}}
	for i := 0; i < rank; i++ {
		d := &onnxpb.TensorShapeProto_Dimension{}
		if i == 0 {
			d.Value = &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "N"}
		}
		out.Type.GetTensorType().Shape.Dim = append(out.Type.GetTensorType().Shape.Dim, d)
	}
	b.g.Output = []*onnxpb.ValueInfoProto{out}
	mp := &onnxpb.ModelProto{IrVersion: proto.Int64(8), OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(opset)}},
		ProducerName: proto.String("lsweep-test"), Graph: b.g}
	return onnxmodel.With(&onnx.Model{Path: "test.onnx"}, mp)
}

func aInt(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

func aInts(name string, v ...int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: v}
}

func aFloat(name string, v float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_FLOAT.Enum(), F: proto.Float32(v)}
}

func aString(name, v string) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_STRING.Enum(), S: []byte(v)}
}

func aTensor(name string, t *onnxpb.TensorProto) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_TENSOR.Enum(), T: t}
}

// gradRunner runs a gradient model in ONNX Runtime: the loss and the
// gradients at any values of the differentiated tensors, on fixed data.
type gradRunner struct {
	sess   *ort.DynamicAdvancedSession
	fixed  []ort.Value // x and labels
	wrt    []string
	shapes map[string][]int64
	dt     map[string]onnx.DataType
}

func newGradRunner(t *testing.T, gm *onnx.Model, x []float64, xShape []int64, xdt onnx.DataType, labels []float64, head loss.Head, lossType onnx.DataType, wrt []string) *gradRunner {
	t.Helper()
	data, err := gradientBytes(gm)
	if err != nil {
		t.Fatal(err)
	}
	outs := []string{scalarOutput(autodiff.GradLoss)}
	for _, w := range wrt {
		outs = append(outs, autodiff.GradPrefix+w)
	}
	sess, err := ort.NewDynamicAdvancedSessionWithONNXData(data, append([]string{"x", autodiff.GradLabels}, wrt...), outs, nil)
	if err != nil {
		t.Fatalf("ONNX Runtime rejects the gradient model: %v", err)
	}
	t.Cleanup(func() { sess.Destroy() })
	r := &gradRunner{sess: sess, wrt: wrt, shapes: map[string][]int64{}, dt: map[string]onnx.DataType{}}
	for _, p := range gm.Inputs() {
		r.shapes[p.Name] = p.Dims()
		r.dt[p.Name] = p.ElemType
	}
	xt := testTensor(t, xdt, xShape, x)
	var lt ort.Value
	n := xShape[0]
	if head == loss.MSE {
		lt = testTensor(t, lossType, []int64{n, int64(len(labels)) / n}, labels)
	} else {
		ints := make([]int64, len(labels))
		for i, l := range labels {
			ints[i] = int64(l)
		}
		v, err := ort.NewTensor(ort.NewShape(n), ints)
		if err != nil {
			t.Fatal(err)
		}
		lt = v
	}
	r.fixed = []ort.Value{xt, lt}
	t.Cleanup(func() { xt.Destroy(); lt.Destroy() })
	return r
}

func testTensor(t *testing.T, dt onnx.DataType, shape []int64, v []float64) ort.Value {
	t.Helper()
	switch dt {
	case onnx.Double:
		x, err := ort.NewTensor(ort.NewShape(shape...), slices.Clone(v))
		if err != nil {
			t.Fatal(err)
		}
		return x
	case onnx.Float:
		f := make([]float32, len(v))
		for i, x := range v {
			f[i] = float32(x)
		}
		x, err := ort.NewTensor(ort.NewShape(shape...), f)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	t.Fatalf("tensor of type %v", dt)
	return nil
}

// run returns the loss and the gradients at the given values.
func (r *gradRunner) run(t *testing.T, values map[string][]float64) (float64, map[string][]float64) {
	t.Helper()
	ins := slices.Clone(r.fixed)
	for _, w := range r.wrt {
		v := testTensor(t, r.dt[w], r.shapes[w], values[w])
		defer v.Destroy()
		ins = append(ins, v)
	}
	outs := make([]ort.Value, 1+len(r.wrt))
	if err := r.sess.Run(ins, outs); err != nil {
		t.Fatalf("run: %v", err)
	}
	defer func() {
		for _, o := range outs {
			o.Destroy()
		}
	}()
	l, _, err := appendFloats(nil, outs[0], -1)
	if err != nil || len(l) != 1 {
		t.Fatalf("loss output: %v (%d values)", err, len(l))
	}
	grads := map[string][]float64{}
	for i, w := range r.wrt {
		g, _, err := appendFloats(nil, outs[1+i], -1)
		if err != nil {
			t.Fatal(err)
		}
		grads[w] = g
	}
	return l[0], grads
}

// fdCheck compares the gradient at values with central finite differences of
// the loss, entry by entry (at most maxEntries per tensor, chosen at random),
// and returns the relative error ||g - fd|| / ||fd|| over all entries checked.
func (r *gradRunner) fdCheck(t *testing.T, values map[string][]float64, eps float64, maxEntries int, rng *rand.Rand) float64 {
	t.Helper()
	_, grads := r.run(t, values)
	var num, den float64
	for _, w := range r.wrt {
		v := values[w]
		if len(grads[w]) != len(v) {
			t.Fatalf("gradient of %s has %d values, the tensor %d", w, len(grads[w]), len(v))
		}
		idx := rng.Perm(len(v))
		if len(idx) > maxEntries {
			idx = idx[:maxEntries]
		}
		for _, i := range idx {
			orig := v[i]
			h := eps * max(1, math.Abs(orig))
			v[i] = orig + h
			lp, _ := r.run(t, values)
			v[i] = orig - h
			lm, _ := r.run(t, values)
			v[i] = orig
			fd := (lp - lm) / (2 * h)
			d := grads[w][i] - fd
			num += d * d
			den += fd * fd
		}
	}
	if den == 0 {
		return math.Sqrt(num)
	}
	return math.Sqrt(num / den)
}
