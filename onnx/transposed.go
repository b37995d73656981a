package onnx

import (
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/lsweep/lsweep/internal/onnxpb"
)

// transposedSuffix names the transposed copy of a tensor that is also read
// untransposed.
const transposedSuffix = "::lsweep_transposed"

// foldTransposes rewrites work so that the 2-D initializers among names
// that Transpose nodes reverse (a PyTorch Linear's weight [out, in] before
// its MatMul, a tied output layer's embedding table) are stored transposed
// and those nodes become Identity: ONNX Runtime otherwise folds each such
// Transpose into a new constant every time it makes a session, which for a
// GPT-2-sized model took 3.8 of the 4.2 seconds a session cost. A tensor
// every consumer of which is such a Transpose is stored transposed under
// its own name; one that other nodes read as it is gets a transposed copy
// beside it (added to work's initializers, named by the returned map).
// Tensors read by a subgraph, listed as graph inputs or outputs, and every
// tensor of a model of IR version 3 or older (whose initializers are
// inputs too) are left alone. The
// returned map gives, for each folded name, the name of the initializer
// that holds its transposed values (the name itself when stored in place).
func foldTransposes(work *Model, ix *graphIndex, names []string) map[string]string {
	folded := make(map[string]string)
	g := work.graph()
	if work.IRVersion() < 4 {
		return folded
	}
	skip := subgraphInputs(g)
	for _, vi := range slices.Concat(g.GetInput(), g.GetOutput()) {
		skip[vi.GetName()] = true
	}
	for _, name := range names {
		t := ix.inits[name]
		if t == nil || len(t.GetDims()) != 2 || skip[name] {
			continue
		}
		var reversed []*onnxpb.NodeProto
		uses := ix.consumers[name]
		for _, u := range uses {
			if reverses2D(u.node) && u.input == 0 {
				reversed = append(reversed, u.node)
			}
		}
		if len(reversed) == 0 {
			continue
		}
		dims := []int64{t.GetDims()[1], t.GetDims()[0]}
		target := name
		if len(reversed) == len(uses) {
			t.Dims = dims
		} else {
			target = name + transposedSuffix
			for ix.inits[target] != nil || ix.producers[target] != nil {
				target += "_"
			}
			c := &onnxpb.TensorProto{Name: proto.String(target), DataType: t.DataType, Dims: dims}
			g.Initializer = append(g.Initializer, c)
			ix.inits[target] = c
		}
		for _, n := range reversed {
			n.OpType = proto.String("Identity")
			n.Attribute = nil
			n.Input = []string{target}
		}
		folded[name] = target
	}
	return folded
}

// reverses2D reports whether n is a Transpose that swaps the two axes of a
// 2-D input (perm [1, 0], or no perm: the axes reversed).
func reverses2D(n *onnxpb.NodeProto) bool {
	if n.GetOpType() != "Transpose" || n.GetDomain() != "" || len(n.GetInput()) != 1 {
		return false
	}
	a := n.Attr("perm")
	return a == nil || slices.Equal(a.GetInts(), []int64{1, 0})
}

// subgraphInputs returns every value name that a node of a subgraph of g
// (the body of an If, Loop or Scan, at any depth) reads.
func subgraphInputs(g *onnxpb.GraphProto) map[string]bool {
	seen := make(map[string]bool)
	var walk func(g *onnxpb.GraphProto, inner bool)
	walk = func(g *onnxpb.GraphProto, inner bool) {
		for _, n := range g.GetNode() {
			if inner {
				for _, in := range n.GetInput() {
					seen[in] = true
				}
			}
			for _, a := range n.GetAttribute() {
				if a.GetG() != nil {
					walk(a.GetG(), true)
				}
				for _, sg := range a.GetGraphs() {
					walk(sg, true)
				}
			}
		}
	}
	walk(g, false)
	return seen
}
