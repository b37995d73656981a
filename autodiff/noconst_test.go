package autodiff

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/lsweep/lsweep/internal/onnxmodel"
	"github.com/lsweep/lsweep/internal/onnxpb"
	"github.com/lsweep/lsweep/loss"
)

// TestNoSilentConstants builds graphs where a weight's path to the loss
// passes through values the builder cannot fully type or shape, or through
// ops it has no rule for: each weight either gets a gradient made by the
// backward pass (not the zeros of a tensor the loss does not depend on), or
// the build fails with ErrNoGradient naming the node.
func TestNoSilentConstants(t *testing.T) {
	for _, c := range []struct {
		name  string
		build func(g *tgraph) string
		node  string // "": the build succeeds and every weight gets a gradient
	}{
		{
			// The ViT export's pattern that lost every weight but the head's:
			// a reshape to a shape computed at run time (the rank is known,
			// the sizes not), a Transpose, then a MatMul.
			name: "runtime reshape, transpose, matmul",
			build: func(g *tgraph) string {
				h := g.n("MatMul", g.in(4), g.w(4, 6))
				n := g.na("Gather", []string{g.n("Shape", h), g.scalar(0)}, attrI("axis", 0))[0]
				shape := g.na("Concat", []string{g.n("Unsqueeze", n, g.i(0)), g.i(2, 3)}, attrI("axis", 0))[0]
				r := g.n("Reshape", h, shape)
				tr := g.na("Transpose", []string{r}, attrIs("perm", 0, 2, 1))[0]
				return g.n("MatMul", tr, g.w(2, 5))
			},
		},
		{
			name: "reshape of unknown rank",
			build: func(g *tgraph) string {
				h := g.n("MatMul", g.in(4), g.w(4, 6))
				r := g.n("Reshape", h, g.n("Shape", h)) // a shape tensor of unknown length
				return g.n("Relu", r)
			},
		},
		{
			name: "value through another domain",
			build: func(g *tgraph) string {
				h := g.n("MatMul", g.in(4), g.w(4, 6))
				g.g.Node = append(g.g.Node, &onnxpb.NodeProto{Name: proto.String("custom"), OpType: proto.String("FusedThing"),
					Domain: proto.String("com.example"), Input: []string{h}, Output: []string{"u"}})
				return g.n("Relu", "u")
			},
			node: "custom",
		},
		{
			// OneHot's output has the type of its values input, not of its
			// indices (its first input): the weight-dependent values make it
			// dependent, and OneHot has no rule.
			name: "type from another input than the first",
			build: func(g *tgraph) string {
				h := g.n("MatMul", g.in(4), g.w(4, 3))
				idx := g.na("Cast", []string{g.in2()}, attrI("to", 7))[0]
				vals := g.n("Mul", g.w(2), g.c([]int64{2}, 1, 2))
				g.g.Node = append(g.g.Node, &onnxpb.NodeProto{Name: proto.String("onehot"), OpType: proto.String("OneHot"),
					Input: []string{idx, g.i(3), vals}, Output: []string{"oh"}})
				return g.n("Add", h, g.n("ReduceSum", "oh", g.i(1)))
			},
			node: "onehot",
		},
		{
			name: "op without a rule",
			build: func(g *tgraph) string {
				h := g.n("MatMul", g.in(4), g.w(4, 6))
				g.g.Node = append(g.g.Node, &onnxpb.NodeProto{Name: proto.String("atan"), OpType: proto.String("Atan"), Input: []string{h}, Output: []string{"a"}})
				return "a"
			},
			node: "atan",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := &tgraph{g: &onnxpb.GraphProto{Name: proto.String("g")}}
			m := g.model(c.build(g), 14)
			b := newGradBuilder(m.Clone(), m.Opset())
			out := onnxmodel.Graph(m).GetOutput()[0].GetName()
			err := b.safeBuild(out, loss.MSE, g.wrt)
			if c.node != "" {
				if !errors.Is(err, ErrNoGradient) || !strings.Contains(err.Error(), `"`+c.node+`"`) {
					t.Fatalf("error %v, want ErrNoGradient naming node %q", err, c.node)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !b.dep[out] {
				t.Error("the output does not depend on the weights")
			}
			for _, w := range g.wrt {
				if len(b.grads[w]) == 0 {
					t.Errorf("weight %s gets no gradient", w)
				}
			}
			if _, err := HVPModel(m, out, loss.MSE, g.wrt); err != nil {
				t.Errorf("HVP model: %v", err)
			}
		})
	}
}
