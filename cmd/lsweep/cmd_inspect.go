package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/lsweep/lsweep/onnx"
)

type inspectOptions struct {
	json   bool
	output string
}

func (o *inspectOptions) AddFlags(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&o.json, "json", false, "print one JSON object")
	cmd.Flags().StringVar(&o.output, "output", "", "graph output the loss would use (default: detected)")
}

func newInspectCommand() *cobra.Command {
	var opts inspectOptions
	cmd := &cobra.Command{
		Use:   "inspect MODEL",
		Short: "Show a model's inputs, outputs, head and the weights lsweep perturbs",
		Long: `Show what lsweep sees in a model: its inputs and outputs, the loss head it
detects, the batch dimension, and a table of the weights the method perturbs
(name, consumer op, shape, filter axis, parameter count), followed by the other
stored tensors and their roles (bias, BatchNorm parameters and statistics,
LayerNorm/RMSNorm scale and shift, embedding tables, an exporter's constants,
...). An anonymous tensor
(onnx::MatMul_367) is shown as the node that consumes it
(/encoder/layers.0/mlp/fc1) with its stored name in brackets.

The filter axis is the axis of the stored tensor whose slices each produce one
output unit: 0 for Conv and PyTorch's Gemm (transB=1), 1 for ConvTranspose,
Gemm with transB=0 and MatMul weights [in, out]. Embedding tables have one
filter per row (a token's or a position's); they are perturbed only with
--include embeddings.

Each input is fed from the npz entry of its name (a one-input model also from
"x"; --input NAME=ENTRY and --x-key choose others in the other commands).

JSON fields: path, producer, producer_version, ir_version, opset, inputs
(name, type, shape, entries), outputs (name, type, shape), batch, head (output, kind, producer, error),
weights and others (name, label, role, consumer, shape, filter_axis, params,
via, storage), weight_params.` + "\n" + exitStatusHelp,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runInspect(cmd.OutOrStdout(), opts, args[0])
		},
	}
	opts.AddFlags(cmd)
	return cmd
}

type valueJSON struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Shape []any  `json:"shape"`
	// Entries are the npz entries that feed an input, in the order tried.
	Entries []string `json:"entries,omitempty"`
}

type headJSON struct {
	Output   string `json:"output,omitempty"`
	Kind     string `json:"kind,omitempty"`
	Producer string `json:"producer,omitempty"`
	Error    string `json:"error,omitempty"`
}

type paramJSON struct {
	Name string `json:"name"`
	// Label is the path of the consuming node, for an anonymous name.
	Label      string   `json:"label,omitempty"`
	Role       string   `json:"role"`
	Consumer   string   `json:"consumer,omitempty"`
	Shape      []int64  `json:"shape"`
	FilterAxis *int     `json:"filter_axis,omitempty"`
	Params     int64    `json:"params"`
	Via        []string `json:"via,omitempty"`
	Storage    string   `json:"storage"`
	DType      string   `json:"dtype"`
}

type inspectJSON struct {
	Path            string      `json:"path"`
	Producer        string      `json:"producer"`
	ProducerVersion string      `json:"producer_version"`
	IRVersion       int64       `json:"ir_version"`
	Opset           int64       `json:"opset"`
	Inputs          []valueJSON `json:"inputs"`
	Outputs         []valueJSON `json:"outputs"`
	Batch           string      `json:"batch"`
	Head            headJSON    `json:"head"`
	Weights         []paramJSON `json:"weights"`
	Others          []paramJSON `json:"others"`
	WeightParams    int64       `json:"weight_params"`
}

func valuesJSON(vs []onnx.ValueInfo) []valueJSON {
	out := make([]valueJSON, 0, len(vs))
	for _, v := range vs {
		shape := make([]any, 0, len(v.Shape))
		for _, d := range v.Shape {
			if d.Value >= 0 {
				shape = append(shape, d.Value)
			} else {
				shape = append(shape, d.String())
			}
		}
		out = append(out, valueJSON{Name: v.Name, Type: v.ElemType.String(), Shape: shape})
	}
	return out
}

// inputsJSON describes the inputs with the entries that feed them: the
// entry of the same name, and for a one-input model "x" too.
func inputsJSON(vs []onnx.ValueInfo) []valueJSON {
	out := valuesJSON(vs)
	for i := range out {
		out[i].Entries = []string{out[i].Name}
		if len(out) == 1 && out[i].Name != "x" {
			out[i].Entries = append(out[i].Entries, "x")
		}
	}
	return out
}

func batchDescription(inputs []onnx.ValueInfo) string {
	if len(inputs) == 0 || len(inputs[0].Shape) == 0 {
		return "unknown"
	}
	if d := inputs[0].Shape[0]; d.Value >= 0 {
		return fmt.Sprintf("fixed %d", d.Value)
	}
	return "dynamic"
}

func storage(p onnx.Param) string {
	switch {
	case p.Constant:
		return "constant-node"
	case p.External:
		return "external"
	}
	return "initializer"
}

func runInspect(w io.Writer, opts inspectOptions, path string) error {
	m, err := onnx.Load(path)
	if err != nil {
		return err
	}
	rep := inspectJSON{
		Path:            path,
		Producer:        m.ProducerName(),
		ProducerVersion: m.ProducerVersion(),
		IRVersion:       m.IRVersion(),
		Opset:           m.Opset(),
		Inputs:          inputsJSON(m.Inputs()),
		Outputs:         valuesJSON(m.Outputs()),
		Batch:           batchDescription(m.Inputs()),
		Weights:         []paramJSON{},
		Others:          []paramJSON{},
	}
	if h, err := m.DetectHead(opts.output); err != nil {
		rep.Head.Error = err.Error()
	} else {
		rep.Head = headJSON{Output: h.Output.Name, Kind: string(h.Kind), Producer: h.Producer}
	}
	for _, p := range m.Params() {
		pj := paramJSON{Name: p.Name, Label: p.Label(), Role: string(p.Role), Consumer: p.Consumer, Shape: p.Shape, Params: p.Size(), Via: p.Via, Storage: storage(p), DType: p.DType.String()}
		if pj.Shape == nil {
			pj.Shape = []int64{}
		}
		if pj.Label == p.Name {
			pj.Label = ""
		}
		if p.Role == onnx.RoleWeight {
			axis := p.FilterAxis
			pj.FilterAxis = &axis
			rep.Weights = append(rep.Weights, pj)
			rep.WeightParams += p.Size()
			continue
		}
		if p.Role == onnx.RoleEmbedding {
			axis := p.FilterAxis
			pj.FilterAxis = &axis
		}
		rep.Others = append(rep.Others, pj)
	}
	if opts.json {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printInspect(w, rep)
	if len(rep.Weights) == 0 {
		_, err := m.Perturbable()
		return err
	}
	return nil
}
