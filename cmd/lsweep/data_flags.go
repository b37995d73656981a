package main

// The flags that choose the data entries, the labels and the loss head,
// shared by every command that evaluates a model.

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lsweep/lsweep/dataset"
	"github.com/lsweep/lsweep/engine"
	"github.com/lsweep/lsweep/loss"
)

// dataOptions are the flags that choose what of a data file is evaluated.
type dataOptions struct {
	xKey, yKey  string
	inputs      inputMap
	samples     int
	maxBytes    int64
	batchSize   int
	lossName    string
	output      string
	ignoreIndex int64
	shiftLabels bool
}

// datasetOptions are the flags' dataset.Options.
func (o *dataOptions) datasetOptions() dataset.Options {
	return dataset.Options{XKey: o.xKey, YKey: o.yKey, InputKeys: o.inputs, Samples: o.samples, MaxBytes: o.maxBytes}
}

// sequence is the flags' configuration of the tokens head.
func (o *dataOptions) sequence() *loss.Sequence {
	return &loss.Sequence{IgnoreIndex: o.ignoreIndex, Shift: o.shiftLabels}
}

// inputMap is --input NAME=ENTRY, repeatable.
type inputMap map[string]string

func (m *inputMap) String() string {
	var parts []string
	for k, v := range *m {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ",")
}

func (m *inputMap) Set(s string) error {
	name, entry, ok := strings.Cut(s, "=")
	if !ok || name == "" || entry == "" {
		return fmt.Errorf("%q: want NAME=ENTRY (a model input and the npz entry that feeds it)", s)
	}
	if *m == nil {
		*m = make(inputMap)
	}
	if _, dup := (*m)[name]; dup {
		return fmt.Errorf("input %q named twice", name)
	}
	(*m)[name] = entry
	return nil
}

func (m *inputMap) Type() string { return "NAME=ENTRY" }

func (o *dataOptions) AddFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.xKey, "x-key", "", `npz entry (or .npy file in a folder) holding the inputs of a one-input model (default: the entry named like the input, else "x")`)
	f.StringVar(&o.yKey, "y-key", "", `npz entry holding the labels or regression targets (default: "y", else "labels")`)
	f.Var(&o.inputs, "input", "feed model input NAME from npz entry ENTRY (repeatable; default: the entry named like the input)")
	f.Int64Var(&o.ignoreIndex, "ignore-index", loss.DefaultIgnoreIndex, "token labels equal to this are not scored (tokens head)")
	f.BoolVar(&o.shiftLabels, "shift-labels", false, "token labels are the input ids: the logits at position t are scored against label t+1 (not where an attention_mask input is 0)")
	f.IntVar(&o.samples, "samples", 0, "evaluate a deterministic subset of this many samples (evenly spaced; 0: all)")
	f.Int64Var(&o.maxBytes, "max-data-bytes", dataset.DefaultMaxBytes, "refuse data that would take more memory than this once read (8 bytes a value; -1: no cap)")
	f.IntVar(&o.batchSize, "batch-size", 0, fmt.Sprintf("samples per run for models with a dynamic batch (0: %d, fewer for outputs of more than %d values per batch)", engine.DefaultBatchSize, engine.MaxBatchOutput))
	f.StringVar(&o.lossName, "loss", "", "loss head: logits, logprobs, probs, sigmoid, binary_logit, mse or tokens (default: detected from the graph and the labels)")
	f.StringVar(&o.output, "output", "", "graph output to compute the loss on (default: the first float output)")
}
