package onnx

import (
	"fmt"
	"strings"

	"github.com/lsweep/lsweep/internal/onnxpb"
	"github.com/lsweep/lsweep/loss"
)

// Head is the output a loss is computed on and the kind of head the graph
// ends in there.
type Head struct {
	Output ValueInfo
	Kind   loss.Head
	// Producer is the op that decided the kind ("Softmax", "LogSoftmax",
	// "Sigmoid"), or the op producing the output when it ends in raw scores.
	Producer string
}

// DetectHead chooses the output to compute the loss on and the kind of head
// it is. If name is not empty, that output is used; otherwise the first float
// tensor output (an exporter's integer "label" output and non-tensor outputs
// such as ZipMap's are skipped). The kind is read from the ops that produce
// the output, looking through shape-only ops: Softmax gives probabilities,
// LogSoftmax (or Log after Softmax) log-probabilities, Sigmoid on one column
// a sigmoid probability; anything else gives Logits, which loss.Refine
// settles for single-column outputs once the targets are known.
func (m *Model) DetectHead(name string) (Head, error) {
	outs := m.Outputs()
	var chosen *ValueInfo
	for i := range outs {
		o := &outs[i]
		if name != "" {
			if o.Name == name {
				chosen = o
				break
			}
			continue
		}
		if o.ElemType.IsFloat() {
			chosen = o
			break
		}
	}
	if chosen == nil {
		var names []string
		for _, o := range outs {
			names = append(names, fmt.Sprintf("%s (%v)", o.Name, o.ElemType))
		}
		if name != "" {
			return Head{}, fmt.Errorf("onnx: %s has no output %q; its outputs are %s", m.Path, name, strings.Join(names, ", "))
		}
		return Head{}, fmt.Errorf("onnx: %s has no float tensor output to compute a loss on; its outputs are %s", m.Path, strings.Join(names, ", "))
	}
	if !chosen.ElemType.IsFloat() {
		return Head{}, fmt.Errorf("onnx: %s: output %q is %v, a loss needs a float output", m.Path, chosen.Name, chosen.ElemType)
	}
	h := Head{Output: *chosen, Kind: loss.Logits}
	producers := make(map[string]*onnxpb.NodeProto)
	for _, n := range m.graph().GetNode() {
		for _, o := range n.GetOutput() {
			producers[o] = n
		}
	}
	shapeOnly := map[string]bool{"Identity": true, "Reshape": true, "Flatten": true, "Squeeze": true, "Unsqueeze": true, "Cast": true, "Dropout": true}
	n := producers[chosen.Name]
	for n != nil && shapeOnly[n.GetOpType()] && len(n.GetInput()) > 0 {
		n = producers[n.GetInput()[0]]
	}
	if n == nil {
		return h, nil
	}
	h.Producer = n.GetOpType()
	switch n.GetOpType() {
	case "Softmax":
		h.Kind = loss.Probs
	case "LogSoftmax":
		h.Kind = loss.LogProbs
	case "Log":
		if p := producers[n.GetInput()[0]]; p != nil && p.GetOpType() == "Softmax" {
			h.Kind, h.Producer = loss.LogProbs, "Log(Softmax)"
		}
	case "Sigmoid":
		if s := chosen.Shape; len(s) == 1 || len(s) >= 2 && s[len(s)-1].Value == 1 {
			h.Kind = loss.Sigmoid
		}
	}
	return h, nil
}
