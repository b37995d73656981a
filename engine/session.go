package engine

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/lsweep/lsweep/internal/half"
	ort "github.com/yalue/onnxruntime_go"

	"github.com/lsweep/lsweep/loss"
	"github.com/lsweep/lsweep/onnx"
)

// sessionOptions returns the options of the sessions of m, whose external
// data lie in m.Dir.
func sessionOptions(m *onnx.Model, opts Options, threads int) (*ort.SessionOptions, error) {
	return sessionOptionsIn(m.Dir, opts, threads)
}

// sessionOptionsIn is sessionOptions for a model whose external data lie in
// folder.
func sessionOptionsIn(folder string, opts Options, threads int) (*ort.SessionOptions, error) {
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("engine: session options: %w", err)
	}
	fail := func(err error) (*ort.SessionOptions, error) {
		so.Destroy()
		return nil, err
	}
	if err := so.SetIntraOpNumThreads(threads); err != nil {
		return fail(fmt.Errorf("engine: threads: %w", err))
	}
	if err := so.SetInterOpNumThreads(1); err != nil {
		return fail(fmt.Errorf("engine: threads: %w", err))
	}
	// The model runs from bytes, so ONNX Runtime needs to be told where the
	// external data files of tensors that stay external are.
	if folder != "" {
		if err := so.AddSessionConfigEntry("session.model_external_initializers_file_folder_path", folder); err != nil {
			return fail(fmt.Errorf("engine: session config: %w", err))
		}
	}
	switch opts.Device {
	case "", "cpu":
		// The arena registered by Init stays warm from one session to the next.
		if err := so.AddSessionConfigEntry("session.use_env_allocators", "1"); err != nil {
			return fail(fmt.Errorf("engine: session config: %w", err))
		}
	case "cuda":
		cuda, err := ort.NewCUDAProviderOptions()
		if err == nil {
			err = cuda.Update(map[string]string{
				"device_id": fmt.Sprint(opts.DeviceID),
				// Full float32 products, as on the CPU: TF32 keeps 10
				// mantissa bits and would blur a landscape's fine detail.
				"use_tf32": "0",
				// Every point makes fresh sessions: an exhaustive search of
				// convolution algorithms would be paid at each point.
				"cudnn_conv_algo_search": "HEURISTIC",
			})
			if err == nil {
				err = so.AppendExecutionProviderCUDA(cuda)
			}
			cuda.Destroy()
		}
		if err != nil {
			return fail(cudaError(err, loadedPath()))
		}
	default:
		return fail(fmt.Errorf("engine: unknown device %q (want cpu or cuda)", opts.Device))
	}
	return so, nil
}

func supportedInput(t onnx.DataType) bool {
	switch t {
	case onnx.Float, onnx.Double, onnx.Float16, onnx.Int64, onnx.Int32, onnx.Uint8, onnx.Int8, onnx.Bool:
		return true
	}
	return false
}

// inputNames returns the names of the model's inputs, in order.
func (e *Evaluator) inputNames() []string {
	names := make([]string, len(e.inputs))
	for i, in := range e.inputs {
		names[i] = in.Name
	}
	return names
}

// newSession makes a session of model bytes: the patcher's, which for the
// Tokens head carry the token scores (onnx.Model.WithTokenScores) and
// then also take the labels, or before there is a patcher a model's own.
// Unless raw, a session of scored bytes hands back the scores, not the
// logits.
func (e *Evaluator) newSession(model []byte, raw bool) (*ort.DynamicAdvancedSession, error) {
	inputs, outputs := e.inputNames(), []string{e.output.Name}
	if e.scores != nil {
		inputs = append(inputs, e.scores.Labels)
		if !raw {
			outputs = []string{e.scores.LogProb, e.scores.Hit}
		}
	}
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(model, inputs, outputs, e.opts)
	if err != nil {
		return nil, fmt.Errorf("engine: %s: ONNX Runtime cannot load the model: %w", e.model.Path, cleanORT(err))
	}
	return s, nil
}

// run runs every batch with the weights as set (set, setMove), handing each
// batch's outputs (padding dropped) to fn, one call at a time, in any order.
//
// Each point gets fresh sessions made from the patched model bytes: ONNX
// Runtime then folds, pre-packs and lays out the weights as constants, which
// feeding them as graph inputs prevents. The batches are shared out among
// e.sessions sessions of few threads each, which keeps both cores busier
// than one session's intra-op threads do (see the package doc).
//
// For the Tokens head, unless raw, fn gets each batch's scores rather than
// its logits: the log-probability of each position's label, then 1 for each
// position whose label is the arg-max, else 0 (see score).
func (e *Evaluator) run(ctx context.Context, batches []batch, raw bool, fn func(i int, out []float64) error) error {
	return e.runStaged(ctx, batches, []int{len(batches)}, raw, fn, nil)
}

// runStaged is run in stages: stage k runs batches [ends[k-1], ends[k]),
// and once all of them are handed to fn, more(k) says whether to go on
// (more nil: always). The sessions made for one stage serve the next.
func (e *Evaluator) runStaged(ctx context.Context, batches []batch, ends []int, raw bool, fn func(i int, out []float64) error, more func(stage int) (bool, error)) error {
	model := e.patcher.Bytes()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex // serialises fn
		errOnce  sync.Once
		first    error
		sessions = make([]*ort.DynamicAdvancedSession, min(e.sessions, len(batches)))
	)
	defer func() {
		for _, s := range sessions {
			if s != nil {
				s.Destroy()
			}
		}
	}()
	fail := func(err error) {
		errOnce.Do(func() { first = err })
		cancel()
	}
	// Each worker's output buffer is kept from one point to the next: for a
	// language model it is a hundred megabytes, which made afresh at every
	// point left the garbage collector as much to let pile up.
	for len(e.scratch) < len(sessions) {
		e.scratch = append(e.scratch, nil)
	}
	lo := 0
	for k, hi := range ends {
		var (
			next atomic.Int64
			wg   sync.WaitGroup
		)
		next.Store(int64(lo))
		for w := 0; w < min(len(sessions), hi-lo); w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if sessions[w] == nil {
					sess, err := e.newSession(model, raw)
					if err != nil {
						fail(err)
						return
					}
					sessions[w] = sess
				}
				sess := sessions[w]
				scratch := e.scratch[w]
				defer func() { e.scratch[w] = scratch[:0] }()
				var err error
				for {
					i := int(next.Add(1) - 1)
					if i >= hi || ctx.Err() != nil {
						return
					}
					if scratch, err = e.runBatch(sess, batches[i], scratch[:0], raw); err != nil {
						fail(err)
						return
					}
					mu.Lock()
					err = fn(i, scratch)
					mu.Unlock()
					if err != nil {
						fail(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		if first != nil {
			return first
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if more != nil && k < len(ends)-1 {
			ok, err := more(k)
			if err != nil || !ok {
				return err
			}
		}
		lo = hi
	}
	return ctx.Err()
}

// runBatch runs batch b and appends its outputs, as float64, to dst; for
// the Tokens head, unless raw, its scores (see score).
func (e *Evaluator) runBatch(sess *ort.DynamicAdvancedSession, b batch, dst []float64, raw bool) ([]float64, error) {
	inputs, outs := b.values(), []ort.Value{nil}
	if e.scores != nil {
		inputs = append(inputs, b.targets)
		if !raw {
			outs = append(outs, nil)
		}
	}
	if err := sess.Run(inputs, outs); err != nil {
		return dst, fmt.Errorf("engine: %s: run: %w%s", e.model.Path, cleanORT(err), e.largestIDs(err))
	}
	for _, o := range outs {
		defer o.Destroy()
	}
	rows := b.hi - b.lo
	if len(outs) == 2 {
		return e.appendScores(dst, outs, rows*e.steps)
	}
	if !raw && e.scorer != nil {
		return e.score(outs[0], b, dst)
	}
	dst, ok, err := appendFloats(dst, outs[0], rows*e.cols)
	if err != nil {
		return dst, fmt.Errorf("engine: %s: output %q: %w", e.model.Path, e.output.Name, err)
	}
	if !ok {
		return dst, e.shapeErr(outs[0], rows)
	}
	return dst, nil
}

// appendFloats appends the first n values (every value when n < 0) of a
// float output tensor to dst, as float64. ok is false when the tensor holds
// fewer than n values.
func appendFloats(dst []float64, out ort.Value, n int) (_ []float64, ok bool, err error) {
	switch t := out.(type) {
	case *ort.Tensor[float32]:
		data := t.GetData()
		if n > len(data) {
			return dst, false, nil
		}
		if n >= 0 {
			data = data[:n]
		}
		for _, v := range data {
			dst = append(dst, float64(v))
		}
	case *ort.Tensor[float64]:
		data := t.GetData()
		if n > len(data) {
			return dst, false, nil
		}
		if n >= 0 {
			data = data[:n]
		}
		dst = append(dst, data...)
	case *ort.CustomDataTensor:
		if int64(t.DataType()) != int64(onnx.Float16) {
			return dst, false, errNotFloat
		}
		raw := t.GetData()
		if n > len(raw)/2 {
			return dst, false, nil
		}
		if n < 0 {
			n = len(raw) / 2
		}
		for i := 0; i < n; i++ {
			dst = append(dst, half.Float16frombits(binary.LittleEndian.Uint16(raw[2*i:])))
		}
	default:
		return dst, false, errNotFloat
	}
	return dst, true, nil
}

var errNotFloat = errors.New("not a float tensor")

func (e *Evaluator) shapeErr(out ort.Value, rows int) error {
	return fmt.Errorf("engine: %s: output %q has shape %v for a batch of %d, expected %d values per sample", e.model.Path, e.output.Name, out.GetShape(), rows, e.cols)
}

// learnWidth runs the first batch once to learn the number of output values
// per sample when the graph does not declare it.
func (e *Evaluator) learnWidth() (int, error) {
	sess, err := e.newSession(e.patcher.Bytes(), true)
	if err != nil {
		return 0, err
	}
	defer sess.Destroy()
	out, err := e.runBatch(sess, e.batches[0], nil, true)
	if err != nil {
		return 0, err
	}
	rows := e.batches[0].rows
	if len(out) == 0 || len(out)%rows != 0 {
		return 0, fmt.Errorf("engine: %s: output %q has %d values for a batch of %d", e.model.Path, e.output.Name, len(out), rows)
	}
	return len(out) / rows, nil
}

// newScorer makes the session of the token scorer (onnx.TokenScorer) for
// the Tokens head of a model whose graph cannot carry the scores itself
// (an opset before onnx.MinScoreOpset): a language model's logits are then
// scored where ONNX Runtime left them, by a second session, and only two
// numbers per position come back. Copying [T, V] logits per sequence into
// Go and taking their log-softmax there cost a GPT-2-sized model half as
// long again as its forward pass.
func (e *Evaluator) newScorer() error {
	if e.head != loss.Tokens || e.scores != nil {
		return nil
	}
	model, err := onnx.TokenScorer(e.output.ElemType)
	if err != nil {
		return fmt.Errorf("engine: %s: output %q: %w", e.model.Path, e.output.Name, err)
	}
	// On the CPU whatever the device: the logits come back there.
	so, err := sessionOptionsIn("", Options{}, e.sessionThreads)
	if err != nil {
		return err
	}
	defer so.Destroy()
	// Its threads would otherwise spin, waiting for work, while the
	// model's session computes the next batch on the same cores.
	if err := so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0"); err != nil {
		return fmt.Errorf("engine: session config: %w", err)
	}
	e.scorer, err = ort.NewDynamicAdvancedSessionWithONNXData(model,
		[]string{onnx.ScorerLogits, onnx.ScorerLabels}, []string{onnx.ScorerLogProb, onnx.ScorerHit}, so)
	if err != nil {
		return fmt.Errorf("engine: token scorer: %w", cleanORT(err))
	}
	return nil
}

// score runs the token scorer on a batch's logits and appends to dst the
// log-probability of each real position's label, then 1 for each whose
// label is the arg-max and 0 for the others, in position order.
func (e *Evaluator) score(logits ort.Value, b batch, dst []float64) ([]float64, error) {
	if s := logits.GetShape(); len(s) != 3 || s[0] != int64(b.rows) || s[1] != int64(e.steps) || e.vocab > 0 && s[2] != int64(e.vocab) {
		return dst, fmt.Errorf("engine: %s: output %q has shape %v for a batch of %d, expected [%d %d %d]", e.model.Path, e.output.Name, s, b.rows, b.rows, e.steps, e.vocab)
	}
	outs := []ort.Value{nil, nil}
	if err := e.scorer.Run([]ort.Value{logits, b.targets}, outs); err != nil {
		return dst, fmt.Errorf("engine: %s: scoring output %q: %w", e.model.Path, e.output.Name, cleanORT(err))
	}
	defer outs[0].Destroy()
	defer outs[1].Destroy()
	return e.appendScores(dst, outs, (b.hi-b.lo)*e.steps)
}

// appendScores appends the first n values of each of the two score
// outputs (log-probabilities, then hits) to dst.
func (e *Evaluator) appendScores(dst []float64, outs []ort.Value, n int) ([]float64, error) {
	for _, out := range outs {
		var ok bool
		var err error
		if dst, ok, err = appendFloats(dst, out, n); err != nil || !ok {
			return dst, fmt.Errorf("engine: %s: token scores %v for %d positions (%v)", e.model.Path, out.GetShape(), n, err)
		}
	}
	return dst, nil
}
