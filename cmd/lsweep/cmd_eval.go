package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lsweep/lsweep/dataset"
	"github.com/lsweep/lsweep/engine"
	"github.com/lsweep/lsweep/landscape"
	"github.com/lsweep/lsweep/loss"
	"github.com/lsweep/lsweep/onnx"
)

type evalOptions struct {
	runtime runtimeOptions
	data    dataOptions
	dirs    directionOptions
	at      string
	json    bool
}

func newEvalCommand() *cobra.Command {
	var opts evalOptions
	cmd := &cobra.Command{
		Use:   "eval MODEL DATA",
		Short: "Evaluate a model's mean loss and accuracy on a dataset",
		Long: `Evaluate the mean loss and the accuracy of MODEL over every sample of DATA (an
.npz file, or a folder holding x.npy and y.npy), in inference mode.

The loss follows the model's head, detected from the graph: softmax
cross-entropy on logits, negative log-likelihood on log-probabilities, -log p
on probabilities, binary cross-entropy on a single sigmoid output or logit,
and mean squared error for regression targets. --loss forces one.

--at A[,B] evaluates one point th + A*x + B*y of a landscape instead, with the
directions of --directions (the directions.npz of a run), --model2/--model3 or
the random directions of --seed and --norm, exactly as "lsweep run" makes them.

Models with several inputs take each from the entry of the same name
(--input NAME=ENTRY maps others). Logits [N, T, V] with labels [N, T] take the
tokens head: the mean cross-entropy over the labelled tokens (labels equal to
--ignore-index, -100 by default, are not scored; --shift-labels for labels
that are the input ids themselves).

JSON fields (--json): model, data, n, loss, accuracy (a fraction in 0..1, null
for regression), head, output, batch_size, seconds, runtime, notes, and at
(the coordinates) with --at; for the tokens head also tokens (labelled),
sequence_loss (the mean over sequences with a labelled token of their mean
token loss) and sequence_accuracy (the fraction of those sequences whose
labelled tokens are all right).` + "\n" + exitStatusHelp,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runEval(cmd, opts, args[0], args[1])
		},
	}
	opts.runtime.AddFlags(cmd)
	opts.data.AddFlags(cmd)
	opts.dirs.AddFlags(cmd)
	cmd.Flags().StringVar(&opts.at, "at", "", "evaluate the landscape point A or A,B instead of the untouched model")
	cmd.Flags().BoolVar(&opts.json, "json", false, "print one JSON object")
	return cmd
}

// openEvaluator loads a model and a dataset and prepares an Evaluator.
func openEvaluator(stderr io.Writer, modelPath, dataPath string, ro runtimeOptions, do dataOptions) (*engine.Evaluator, *dataset.Dataset, error) {
	m, err := onnx.Load(modelPath)
	if err != nil {
		return nil, nil, err
	}
	if _, err := m.Perturbable(); err != nil {
		return nil, nil, err
	}
	if err := m.CheckStorage(); err != nil {
		return nil, nil, err
	}
	dopts := do.datasetOptions()
	dopts.Inputs = engine.InputNames(m)
	d, err := dataset.Load(dataPath, dopts)
	if err != nil {
		return nil, nil, err
	}
	if bad := d.CountNaN(); bad > 0 {
		fmt.Fprintf(stderr, "lsweep: warning: %s: entry %q has %d NaN or infinite values; losses may be NaN\n", dataPath, d.XKey, bad)
	}
	var head loss.Head
	if do.lossName != "" {
		if head, err = loss.ParseHead(do.lossName); err != nil {
			return nil, nil, err
		}
	}
	if do.batchSize < 0 {
		return nil, nil, fmt.Errorf("--batch-size must be positive (or 0 for the default), got %d", do.batchSize)
	}
	eo := ro.engineOptions()
	eo.BatchSize, eo.Output, eo.Head, eo.Sequence = do.batchSize, do.output, head, do.sequence()
	ev, err := engine.New(m, d, eo)
	if err != nil {
		return nil, nil, err
	}
	return ev, d, nil
}

type evalJSON struct {
	Model     string       `json:"model"`
	Data      string       `json:"data"`
	N         int          `json:"n"`
	Loss      *float64     `json:"loss"` // null when NaN or infinite
	Accuracy  *float64     `json:"accuracy"`
	Head      string       `json:"head"`
	Output    string       `json:"output"`
	BatchSize int          `json:"batch_size"`
	Seconds   float64      `json:"seconds"`
	Runtime   *runtimeJSON `json:"runtime"`
	Notes     []string     `json:"notes"`
	At        []float64    `json:"at,omitempty"`
	// Tokens head: labelled tokens, and the sequence-level numbers.
	Tokens           int      `json:"tokens,omitempty"`
	SequenceLoss     *float64 `json:"sequence_loss,omitempty"`
	SequenceAccuracy *float64 `json:"sequence_accuracy,omitempty"`
}

type runtimeJSON struct {
	Version string `json:"version"`
	Library string `json:"library"`
}

// parseAt parses "A" or "A,B".
func parseAt(s string) ([]float64, error) {
	parts := strings.Split(s, ",")
	if len(parts) > 2 {
		return nil, fmt.Errorf("--at %q: want A or A,B", s)
	}
	var at []float64
	for _, p := range parts {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("--at %q: %q is not a finite number", s, p)
		}
		at = append(at, v)
	}
	return at, nil
}

// openAt parses --at and opens the landscape its point lies on: with one
// direction for "A", two for "A,B".
func openAt(cmd *cobra.Command, atFlag string, dirs *directionOptions, modelPath, dataPath string, ro runtimeOptions, do dataOptions) (*landscape.Landscape, []float64, error) {
	at, err := parseAt(atFlag)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := dirs.config(modelPath, dataPath, ro, do, len(at) == 2)
	if err != nil {
		return nil, nil, err
	}
	l, err := landscape.Open(cfg)
	if err != nil {
		return nil, nil, err
	}
	return l, at, nil
}

func runEval(cmd *cobra.Command, opts evalOptions, modelPath, dataPath string) error {
	var (
		ev  *engine.Evaluator
		res engine.Result
		at  []float64
		err error
	)
	if opts.at == "" {
		if ev, _, err = openEvaluator(cmd.ErrOrStderr(), modelPath, dataPath, opts.runtime, opts.data); err != nil {
			return err
		}
		defer ev.Close()
		if res, err = ev.Evaluate(cmd.Context(), nil); err != nil {
			return err
		}
	} else {
		l, point, err := openAt(cmd, opts.at, &opts.dirs, modelPath, dataPath, opts.runtime, opts.data)
		if err != nil {
			return err
		}
		defer l.Close()
		ev, at = l.Engine(), point
		if res, err = l.At(cmd.Context(), at[0], append(at, 0)[1]); err != nil {
			return err
		}
	}
	rt, _ := engine.Init("")
	out := evalJSON{
		Model: modelPath, Data: dataPath, N: res.N,
		Head: string(ev.Head()), Output: ev.Output().Name, BatchSize: ev.BatchSize(),
		Seconds: res.Seconds, Runtime: &runtimeJSON{Version: rt.Version, Library: rt.Path},
		Notes: ev.Notes(), At: at,
	}
	if out.Notes == nil {
		out.Notes = []string{}
	}
	if !math.IsNaN(res.Accuracy) {
		out.Accuracy = &res.Accuracy
	}
	if res.Tokens > 0 {
		out.Tokens, out.SequenceLoss, out.SequenceAccuracy = res.Tokens, &res.SequenceLoss, &res.SequenceAccuracy
	}
	if !math.IsNaN(res.Loss) && !math.IsInf(res.Loss, 0) {
		out.Loss = &res.Loss
	}
	w := cmd.OutOrStdout()
	if opts.json {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	for _, n := range out.Notes {
		fmt.Fprintln(cmd.ErrOrStderr(), "lsweep: note:", n)
	}
	fmt.Fprintf(w, "n         %d\n", out.N)
	fmt.Fprintf(w, "loss      %.6g (%s on output %q)\n", res.Loss, out.Head, out.Output)
	if out.Accuracy != nil {
		fmt.Fprintf(w, "accuracy  %.4f\n", *out.Accuracy)
	}
	if out.Tokens > 0 {
		fmt.Fprintf(w, "tokens    %d labelled; per sequence: loss %.6g, all right %.4f\n", out.Tokens, res.SequenceLoss, res.SequenceAccuracy)
	}
	fmt.Fprintf(w, "seconds   %.3f\n", out.Seconds)
	return nil
}
