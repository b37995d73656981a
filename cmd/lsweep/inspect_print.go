package main

// The text form of inspect's report.

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/lsweep/lsweep/loss"
	"github.com/lsweep/lsweep/onnx"
)

// printInspect writes the report as aligned text: the model, its inputs and
// outputs with the entries that feed them, the head and the weight table.
func printInspect(w io.Writer, rep inspectJSON) {
	fmt.Fprintf(w, "model     %s\n", rep.Path)
	fmt.Fprintf(w, "producer  %s %s, IR %d, opset %d\n", rep.Producer, rep.ProducerVersion, rep.IRVersion, rep.Opset)
	for _, v := range rep.Inputs {
		fmt.Fprintf(w, "input     %s %s %v from npz entry %s\n", v.Name, v.Type, v.Shape, quoteOr(v.Entries))
	}
	for _, v := range rep.Outputs {
		fmt.Fprintf(w, "output    %s %s %v\n", v.Name, v.Type, v.Shape)
	}
	fmt.Fprintf(w, "batch     %s\n", rep.Batch)
	if rep.Head.Error != "" {
		fmt.Fprintf(w, "head      none: %s\n", rep.Head.Error)
	} else {
		fmt.Fprintf(w, "head      %s on output %q (after %s)\n", rep.Head.Kind, rep.Head.Output, orNone(rep.Head.Producer))
		for _, o := range rep.Outputs {
			if o.Name == rep.Head.Output && rep.Head.Kind == string(loss.Logits) && len(o.Shape) == 3 {
				fmt.Fprintln(w, "          with labels [N T]: tokens (cross-entropy over the labelled tokens)")
			}
		}
	}
	fmt.Fprintf(w, "\nperturbable weights: %d tensors, %d parameters\n", len(rep.Weights), rep.WeightParams)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tCONSUMER\tSHAPE\tFILTER AXIS\tPARAMS\tSTORAGE")
	for _, p := range rep.Weights {
		consumer := p.Consumer
		if len(p.Via) > 0 {
			consumer = strings.Join(p.Via, ">") + ">" + consumer
		}
		axis := "none (whole tensor)"
		if p.FilterAxis != nil && *p.FilterAxis >= 0 {
			axis = fmt.Sprint(*p.FilterAxis)
		}
		fmt.Fprintf(tw, "%s\t%s\t%v\t%s\t%d\t%s\n", displayName(p), consumer, p.Shape, axis, p.Params, p.Storage)
	}
	tw.Flush()
	if len(rep.Others) > 0 {
		fmt.Fprintf(w, "\nother stored tensors: %d\n", len(rep.Others))
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tCONSUMER\tSHAPE\tPARAMS\tTYPE")
		for _, p := range rep.Others {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%d\t%s\n", displayName(p), p.Role, orNone(p.Consumer), p.Shape, p.Params, p.DType)
		}
		tw.Flush()
		if n := embeddings(rep.Others); n > 0 {
			fmt.Fprintf(w, "\n%d embedding tables (token embeddings, position tables, class tokens) stay still unless --include embeddings; then each row is one filter\n", n)
		}
	}
}

// displayName is a tensor's label with its stored name, which directions
// files use, in brackets when they differ.
func displayName(p paramJSON) string {
	if p.Label == "" {
		return p.Name
	}
	return p.Label + " [" + p.Name + "]"
}

// embeddings counts the embedding tables among ps.
func embeddings(ps []paramJSON) int {
	n := 0
	for _, p := range ps {
		if p.Role == string(onnx.RoleEmbedding) {
			n++
		}
	}
	return n
}

// quoteOr writes names as "a" or "b".
func quoteOr(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, " or ")
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
