package autodiff

import (
	"math"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/lsweep/lsweep/internal/onnxpb"
	"github.com/lsweep/lsweep/onnx"
)

// foldBatchNorms rewrites each Conv followed only by an inference
// BatchNormalization, when the Conv's weight W is differentiated and the
// normalisation's four tensors (and the Conv's bias) are stored constants,
// as one Conv with weight W * k and bias (bias - mean) k + beta, where
// k = scale / sqrt(var + epsilon) per output channel: what ONNX Runtime does
// to the inference model. The gradient with respect to W then flows through
// the Mul, and ONNX Runtime can fold W * k when W is stored, so that the
// forward Conv and the one computing its input gradient run with a constant
// weight and the normalisation and its gradient cost nothing.
func (b *gradBuilder) foldBatchNorms(output string) {
	consumers := make(map[string]int)
	producer := make(map[string]int)
	for k, n := range b.fwd {
		for _, in := range n.GetInput() {
			consumers[in]++
		}
		for _, o := range n.GetOutput() {
			producer[o] = k
		}
	}
	consumers[output]++
	replace := make(map[int][]*onnxpb.NodeProto)
	drop := make(map[int]bool)
	for k, bn := range b.fwd {
		if bn.GetOpType() != "BatchNormalization" || bn.GetDomain() != "" && bn.GetDomain() != "ai.onnx" || bn.AttrInt("training_mode", 0) != 0 {
			continue
		}
		if slices.ContainsFunc(bn.GetOutput()[1:], func(o string) bool { return o != "" }) {
			continue
		}
		x := input(bn, 0)
		ci, ok := producer[x]
		if !ok || consumers[x] != 1 || replace[ci] != nil {
			continue
		}
		conv := b.fwd[ci]
		if conv.GetOpType() != "Conv" || conv.GetDomain() != "" && conv.GetDomain() != "ai.onnx" || len(conv.GetOutput()) != 1 {
			continue
		}
		w := input(conv, 1)
		wi := b.info[w]
		if !b.wrt[w] || wi == nil || !wi.static() || len(wi.dims) < 3 || (wi.dt != onnx.Float && wi.dt != onnx.Double) {
			continue
		}
		m := wi.dims[0]
		var p [4][]float64
		for i := range p {
			v, ok := b.floats(input(bn, i+1))
			if !ok || int64(len(v)) != m {
				p[0] = nil
				break
			}
			p[i] = v
		}
		if p[0] == nil {
			continue
		}
		bias := make([]float64, m)
		if bname := input(conv, 2); bname != "" {
			v, ok := b.floats(bname)
			if !ok || int64(len(v)) != m {
				continue
			}
			bias = v
		}
		eps := float64(float32(attrFloat(bn, "epsilon", 1e-5)))
		scale, nb := make([]float64, m), make([]float64, m)
		for c := range scale {
			scale[c] = p[0][c] / math.Sqrt(p[3][c]+eps)
			nb[c] = (bias[c]-p[2][c])*scale[c] + p[1][c]
		}
		shape := make([]int64, len(wi.dims))
		for i := range shape {
			shape[i] = 1
		}
		shape[0] = m
		wk := b.fresh("folded")
		b.like(wk, w)
		mul := &onnxpb.NodeProto{Name: proto.String(wk), OpType: proto.String("Mul"), Input: []string{w, b.cfs(wi.dt, shape, scale)}, Output: []string{wk}}
		c := proto.Clone(conv).(*onnxpb.NodeProto)
		c.Input = []string{input(conv, 0), wk, b.cfs(wi.dt, []int64{m}, nb)}
		c.Output = []string{bn.GetOutput()[0]}
		replace[ci] = []*onnxpb.NodeProto{mul, c}
		drop[k] = true
	}
	if len(drop) == 0 {
		return
	}
	var out []*onnxpb.NodeProto
	for k, n := range b.fwd {
		switch {
		case drop[k]:
		case replace[k] != nil:
			out = append(out, replace[k]...)
		default:
			out = append(out, n)
		}
	}
	b.fwd = out
}
