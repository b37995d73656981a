package engine

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/lsweep/lsweep/autodiff"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/lsweep/lsweep/dataset"
	"github.com/lsweep/lsweep/internal/scratch"
	"github.com/lsweep/lsweep/loss"
	"github.com/lsweep/lsweep/onnx"
)

// Options configures an Evaluator. The zero value means: library found by
// FindLibrary, CPU, one thread per core, batches of DefaultBatchSize, output
// and head detected from the graph.
type Options struct {
	Library   string    // path of libonnxruntime.so; "" searches (FindLibrary)
	Device    string    // "cpu" (default) or "cuda"
	DeviceID  int       // CUDA device ordinal
	Threads   int       // CPU threads in all; 0 means one per core
	Sessions  int       // sessions that share the batches of a point; 0 means Threads on CPU, 1 on CUDA
	BatchSize int       // samples per run for models with a dynamic batch; 0 means DefaultBatchSize
	Output    string    // graph output to compute the loss on; "" detects
	Head      loss.Head // "" detects from the graph (onnx.Model.DetectHead, loss.Refine)
	// Sequence configures the Tokens head (nil: loss.DefaultSequence).
	// Logits [N, T, V] with labels [N, T] take that head unless Head says
	// otherwise.
	Sequence *loss.Sequence
	// Scratch, if not "", is a folder where the Evaluator of a large model
	// keeps the weights it patches, in a file that ONNX Runtime reads when
	// it makes a point's session, rather than in memory: one copy of the
	// weights fewer in the process. "" keeps them in memory.
	Scratch string
}

// DefaultBatchSize is the batch size used for dynamic-batch models when
// Options.BatchSize is 0 (fewer for outputs of more than
// MaxBatchOutput values).
const DefaultBatchSize = 256

// largeModelBytes is the weight size from which a CPU Evaluator runs one
// session with every thread by default instead of one session per thread:
// each session holds its own copy of the weights (a 124M-parameter language
// model's 500 MB), and the large matrix products of such models keep the
// threads of one session busy.
var largeModelBytes int64 = 128 << 20

// gcPercentLarge is the garbage collector's GOGC while an Evaluator of a
// large model lives.
const gcPercentLarge = 20

// MaxBatchOutput bounds the output values of one default-sized batch: a
// language model's logits are [T, V] per sample (6.4 million values for
// GPT-2's vocabulary and 128 tokens), which in batches of 256 would take
// gigabytes, twice over with the token scorer's log-softmax of them.
const MaxBatchOutput = 1 << 24

// scoresInGraphOpset is the opset from which the Tokens head's scores are
// computed in the model's own graph rather than by a second session (a
// variable so that tests can take either path).
var scoresInGraphOpset int64 = onnx.MinScoreOpset

// weightBytes returns the bytes of m's stored float tensors.
func weightBytes(m *onnx.Model) int64 {
	var n int64
	for _, p := range m.Params() {
		if p.DType.IsFloat() {
			n += p.Size() * int64(p.DType.Size())
		}
	}
	return n
}

// Result is the loss and accuracy of a model at one weight vector.
type Result struct {
	N        int     // samples evaluated
	Loss     float64 // mean per-sample loss; for the Tokens head, per labelled token
	Accuracy float64 // fraction correct in [0, 1]; NaN for regression; for Tokens, of labelled tokens
	Seconds  float64 // wall time of the evaluation, every per-point cost included
	// SE is the standard error of Loss as an estimate of the loss over
	// every sample when N is a prefix (EvaluateSequential); 0 otherwise.
	SE float64

	// Tokens head only (zero otherwise): the labelled tokens; the mean
	// over sequences with a labelled token of their mean token loss; the
	// fraction of those sequences whose labelled tokens are all right.
	Tokens           int
	SequenceLoss     float64
	SequenceAccuracy float64
}

// Evaluator evaluates one model on one dataset at any values of its stored
// float tensors. Its methods must not be called concurrently.
type Evaluator struct {
	model          *onnx.Model // as run: possibly rewritten to a dynamic batch
	data           *dataset.Dataset
	params         []onnx.Param
	head           loss.Head
	output         onnx.ValueInfo
	input          onnx.ValueInfo   // the first input, whose first dimension is the batch
	inputs         []onnx.ValueInfo // every input, fed from the entry of its name
	cols           int
	seq            loss.Sequence // the Tokens head's configuration
	steps          int           // Tokens head: positions per sequence
	vocab          int           // Tokens head: logits per position
	batch          int
	sessions       int
	patcher        *onnx.Patcher
	base           map[string]baseValues // untouched values of every settable tensor
	dirty          map[string]bool       // tensors whose bytes differ from base
	opts           *ort.SessionOptions
	diffOpts       *ort.SessionOptions // for gradient and HVP models: one thread
	diffWorkers    int                 // sessions that share a gradient's batches
	batches        []batch             // the dataset as input tensors, made once
	notes          []string
	grad           *gradState                  // made by the first Gradient or HessianVector call
	subsets        map[int]*subset             // evenly spaced subsets by size, the last few
	scratch        [][]float64                 // each worker's output buffer, kept between points
	large          bool                        // weights of largeModelBytes or more
	sessionThreads int                         // intra-op threads of each evaluation session
	threads        int                         // CPU threads in all (Options.Threads, or one per core)
	gcPercent      int                         // the garbage collector's setting before a large model's, to restore
	external       *onnx.External              // a large model's weights mapped from its external-data files, or nil
	order          *ordered                    // the data in a seed's order (EvaluateSequential)
	scorer         *ort.DynamicAdvancedSession // the Tokens head's scorer of logits where the graph has no scores (newScorer)
	scores         *onnx.ScoreNames            // the Tokens head's scores in the patched graph (onnx.Model.WithTokenScores)
}

// New prepares an Evaluator: it loads ONNX Runtime (Init), checks the dataset
// against the model's input and head, converts the inputs once into tensors
// of the model's input type, and marshals the model once for patching.
func New(m *onnx.Model, d *dataset.Dataset, opts Options) (*Evaluator, error) {
	rt, err := Init(libraryFor(opts))
	if err != nil {
		return nil, err
	}
	if opts.Device == "cuda" {
		if err := checkCUDAFiles(rt.Path); err != nil {
			return nil, err
		}
	}
	e := &Evaluator{data: d, dirty: make(map[string]bool)}
	if err := e.prepare(m, opts); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

func (e *Evaluator) prepare(m *onnx.Model, opts Options) error {
	if err := e.checkInputs(m); err != nil {
		return err
	}
	h, err := m.DetectHead(opts.Output)
	if err != nil {
		return err
	}
	e.output, e.head = h.Output, h.Kind
	if opts.Head != "" {
		e.head = opts.Head
	}
	if err := e.tokenHead(opts); err != nil {
		return err
	}
	e.cols = 1
	for _, dim := range h.Output.Shape[min(1, len(h.Output.Shape)):] {
		if dim.Value < 0 {
			e.cols = -1 // learned from a first run
			break
		}
		e.cols *= int(dim.Value)
	}

	threads := opts.Threads
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	e.threads = threads
	e.large = weightBytes(m) >= largeModelBytes
	if e.large {
		// Reading the weights decodes each tensor in float64 and drops
		// it, and each batch's outputs (a language model's logits) are
		// tens of megabytes: at the collector's default pace that garbage
		// would grow to the size of the weights kept. Collect sooner for
		// as long as the Evaluator lives; with the weights pointer-free, a
		// collection costs about a millisecond.
		e.gcPercent = debug.SetGCPercent(gcPercentLarge)
	}
	e.sessions = opts.Sessions
	if e.sessions <= 0 {
		e.sessions = threads
		if opts.Device == "cuda" {
			e.sessions = 1
		}
		if w := weightBytes(m); e.large && e.sessions > 1 {
			e.sessions = 1
			e.notes = append(e.notes, fmt.Sprintf("the model holds %d MB of weights: one session with %d threads rather than %d sessions, each of which would hold a copy (--sessions to override)", w>>20, threads, threads))
		}
	}
	e.sessionThreads = max(1, threads/e.sessions)
	if e.opts, err = sessionOptions(m, opts, e.sessionThreads); err != nil {
		return err
	}
	if opts.Device == "cuda" {
		if err := probeCUDA(e.opts, loadedPath()); err != nil {
			return err
		}
	}
	// Differentiated models sum over the batch inside their kernels, where
	// ONNX Runtime's intra-op threads would change the order of the sums:
	// they run in single-threaded sessions, one per thread, so that their
	// bits do not depend on Threads or Sessions.
	e.diffWorkers = threads
	if opts.Device == "cuda" {
		e.diffWorkers = 1
	}
	if e.diffOpts, err = sessionOptions(m, opts, 1); err != nil {
		return err
	}
	if err := e.chooseBatching(m, opts); err != nil {
		return err
	}

	// Every float tensor can be set: weights for the method's directions,
	// and biases, normalisation parameters and running statistics for the
	// variants that move them too.
	e.params = e.model.Params()
	var names []string
	e.base = make(map[string]baseValues)
	for _, p := range e.params {
		if p.DType.IsFloat() && p.Size() > 0 {
			names = append(names, p.Name)
		}
	}
	// A large model's float32 weights in external-data files are read in
	// place, mapped, rather than copied: the page cache holds them.
	if e.large {
		if e.external, err = e.model.MapExternal(names); err != nil {
			return err
		}
	}
	for _, p := range e.params {
		if !p.DType.IsFloat() || p.Size() == 0 {
			continue
		}
		if v, ok := e.external.Float32(p.Name); ok {
			e.base[p.Name] = baseValues{f32: v}
			continue
		}
		v, err := e.model.Value(p.Name)
		if err != nil {
			return err
		}
		e.base[p.Name] = newBaseValues(v, p.DType)
	}
	// The Tokens head's loss is computed in the graph the sessions run,
	// where the opset allows: only the scores of the positions come back.
	src := e.model
	if e.head == loss.Tokens && e.model.Opset() >= scoresInGraphOpset {
		scored, sn, err := e.model.WithTokenScores(e.output.Name)
		if err != nil {
			return err
		}
		src, e.scores = scored, &sn
	}
	if e.patcher, err = e.newPatcher(src, names, opts, threads); err != nil {
		return err
	}
	if err := e.makeBatches(); err != nil {
		return err
	}
	if e.cols < 0 {
		if e.cols, err = e.learnWidth(); err != nil {
			return err
		}
	}
	if e.head == loss.Tokens && e.vocab == 0 {
		e.vocab = e.cols / max(1, e.steps)
	}
	if e.large {
		// Marshalling and decoding the weights left about their size in
		// garbage.
		debug.FreeOSMemory()
	}
	if opts.Head == "" && e.head != loss.Tokens {
		e.head = loss.Refine(e.head, e.cols, e.data.YIsInteger)
		if err := e.refineFromValues(); err != nil {
			return err
		}
	}
	if err := e.checkTargets(); err != nil {
		return err
	}
	return e.newScorer()
}

// newPatcher returns the Patcher of the tensors names of src (the model
// as run, or it with the token scores): for a large model
// with a Scratch folder, one that keeps them in a file there, whose folder
// the sessions are then told; otherwise one that keeps them in the model
// bytes. Either stores the weights that Transpose nodes reverse (a PyTorch
// Linear's) transposed, so that sessions do not transpose them again.
func (e *Evaluator) newPatcher(src *onnx.Model, names []string, opts Options, threads int) (*onnx.Patcher, error) {
	po := onnx.PatcherOptions{FoldTransposes: true}
	if !e.large || opts.Scratch == "" {
		return src.NewPatcherWith(names, po)
	}
	path, err := scratch.Create(opts.Scratch, "weights", "data")
	if err == nil {
		os.Remove(path) // NewPatcherWith makes it afresh
		var p *onnx.Patcher
		po.File = path
		if p, err = src.NewPatcherWith(names, po); err == nil {
			so, err := sessionOptionsIn(p.Dir(), opts, e.sessionThreads)
			if err != nil {
				p.Close()
				return nil, err
			}
			e.opts.Destroy()
			e.opts = so
			return p, nil
		}
	}
	e.notes = append(e.notes, fmt.Sprintf("the weights are held in memory: no file for them in %s (%v)", opts.Scratch, err))
	po.File = ""
	return src.NewPatcherWith(names, po)
}

// refineFromValues settles, from the output values of the first batch, the
// head of a graph detected as logits only because no normalising op ends it
// (a converter's Div by the row sums, say): rows of non-negative values that
// sum to 1 are probabilities, rows whose exponentials do are
// log-probabilities. The decision is recorded as a note.
func (e *Evaluator) refineFromValues() error {
	if e.head != loss.Logits || e.cols < 2 {
		return nil
	}
	sess, err := e.newSession(e.patcher.Bytes(), true)
	if err != nil {
		return err
	}
	defer sess.Destroy()
	out, err := e.runBatch(sess, e.batches[0], nil, true)
	if err != nil {
		return err
	}
	if h := loss.FromValues(out, e.cols); h != loss.Logits {
		e.head = h
		e.notes = append(e.notes, fmt.Sprintf("output %q is not produced by a softmax, but its rows %s: read as %s (--loss logits to override)", e.output.Name, loss.ValuesReason(h), h))
	}
	return nil
}

// checkTargets checks the dataset's targets against the head.
func (e *Evaluator) checkTargets() error {
	if e.head == loss.Tokens {
		return e.data.CheckTokenLabels(e.steps, e.vocab, e.seq.IgnoreIndex)
	}
	if err := loss.CheckShape(e.head, e.cols); err != nil {
		return fmt.Errorf("engine: %s: output %q: %w (use --loss to choose another, or --output)", e.model.Path, e.output.Name, err)
	}
	if e.head == loss.MSE {
		if len(e.data.Y) != e.data.N()*e.cols {
			return fmt.Errorf("engine: %s: entry %q holds %d targets, a regression output of %d per sample needs %d", e.data.Path, e.data.YKey, len(e.data.Y), e.cols, e.data.N()*e.cols)
		}
		return nil
	}
	return e.data.CheckLabels(e.head.Classes(e.cols))
}

// Params returns every stored tensor of the model as run, with its role.
// Evaluate can set those of a float type.
func (e *Evaluator) Params() []onnx.Param { return e.params }

// Base returns the untouched values of a settable tensor, in a slice of its
// own; nil for a name that is not one.
func (e *Evaluator) Base(name string) []float64 {
	b, ok := e.base[name]
	if !ok {
		return nil
	}
	return b.float64s()
}

// ReleaseBase lets the system drop from the process's memory the pages of
// the base weights that a large model reads in place from its external-data
// files (see Base32): a caller that has read them all, to make directions
// say, calls it after. Nothing for weights held in memory.
func (e *Evaluator) ReleaseBase() {
	for name := range e.base {
		e.external.Release(name)
	}
}

// Base32 returns the untouched values of a settable tensor in float32,
// exact for float32, float16 and bfloat16 tensors and rounded for double
// ones; nil for a name that is not one. The slice may be the Evaluator's
// own: it must not be changed.
func (e *Evaluator) Base32(name string) []float32 {
	b, ok := e.base[name]
	if !ok {
		return nil
	}
	if b.f32 != nil {
		return b.f32
	}
	out := make([]float32, len(b.f64))
	for i, x := range b.f64 {
		out[i] = float32(x)
	}
	return out
}

// Head returns the loss head in use.
func (e *Evaluator) Head() loss.Head { return e.head }

// Output returns the graph output the loss is computed on.
func (e *Evaluator) Output() onnx.ValueInfo { return e.output }

// OutputWidth returns the number of output values per sample.
func (e *Evaluator) OutputWidth() int { return e.cols }

// BatchSize returns the number of samples per run.
func (e *Evaluator) BatchSize() int { return e.batch }

// Sessions returns the number of sessions that share a point's batches.
func (e *Evaluator) Sessions() int { return e.sessions }

// Notes returns what the Evaluator decided on the caller's behalf (a batch
// rewrite, a fallback), one sentence each.
func (e *Evaluator) Notes() []string { return e.notes }

// Evaluate returns the loss and accuracy over the whole dataset with the
// tensors named in values set to those values and every other tensor at its
// untouched value. A nil map evaluates the untouched model. It stops between
// batches when ctx is cancelled and returns ctx.Err().
func (e *Evaluator) Evaluate(ctx context.Context, values map[string][]float64) (Result, error) {
	if err := e.set(values); err != nil {
		return Result{}, err
	}
	return e.evaluate(ctx, e.data, e.batches)
}

// EvaluateSubset is Evaluate over the evenly spaced subset of samples
// samples that Gradient and HessianVector use (every sample when samples is
// 0 or at least the dataset's size).
func (e *Evaluator) EvaluateSubset(ctx context.Context, values map[string][]float64, samples int) (Result, error) {
	if samples <= 0 || samples >= e.data.N() {
		return e.Evaluate(ctx, values)
	}
	sub, err := e.subset(samples)
	if err != nil {
		return Result{}, err
	}
	if err := e.set(values); err != nil {
		return Result{}, err
	}
	return e.evaluate(ctx, sub.data, sub.batches)
}

// evaluate is Evaluate over batches of data d, with the weights as they are
// set.
func (e *Evaluator) evaluate(ctx context.Context, d *dataset.Dataset, batches []batch) (Result, error) {
	start := time.Now()
	sums := make([]*loss.Sum, len(batches))
	err := e.run(ctx, batches, false, func(i int, out []float64) error {
		sums[i] = e.newSum()
		return e.addBatch(sums[i], d, batches[i], out)
	})
	if err != nil {
		return Result{}, err
	}
	// Batches finish in any order; summing them in dataset order keeps the
	// result independent of scheduling. Token losses are summed with their
	// counts, so that the mean is over the dataset's tokens, not of the
	// batches' means.
	total := e.newSum()
	for _, s := range sums {
		total.Merge(s)
	}
	if e.large {
		// A point of a large model takes seconds and leaves its outputs
		// (hundreds of megabytes of logits for a language model) as
		// garbage; left to the collector's pace, memory would grow to
		// twice the weights before it ran. Returning it now costs
		// milliseconds.
		debug.FreeOSMemory()
	}
	r := Result{N: total.N(), Loss: total.Loss(), Accuracy: total.Accuracy(), Seconds: time.Since(start).Seconds()}
	if e.head == loss.Tokens {
		r.Tokens, r.SequenceLoss, r.SequenceAccuracy = total.Tokens(), total.SequenceLoss(), total.SequenceAccuracy()
	}
	return r, nil
}

// addBatch adds to s the loss of batch b of data d from its outputs as run
// hands them over.
func (e *Evaluator) addBatch(s *loss.Sum, d *dataset.Dataset, b batch, out []float64) error {
	switch e.head {
	case loss.Tokens:
		n := (b.hi - b.lo) * e.steps
		return loss.AddTokenScores(s, out[:n], out[n:], d.Y[b.lo*e.steps:b.hi*e.steps])
	case loss.MSE:
		return loss.Add(s, out, d.Y[b.lo*e.cols:b.hi*e.cols])
	}
	return loss.Add(s, out, d.Y[b.lo:b.hi])
}

// Predict returns the model's output on every sample, row-major with
// OutputWidth values per sample, with the tensors in values set as for
// Evaluate.
func (e *Evaluator) Predict(ctx context.Context, values map[string][]float64) ([]float64, error) {
	if err := e.set(values); err != nil {
		return nil, err
	}
	out := make([]float64, e.data.N()*e.cols)
	err := e.run(ctx, e.batches, true, func(i int, batch []float64) error {
		copy(out[e.batches[i].lo*e.cols:], batch)
		return nil
	})
	return out, err
}

// set patches the model bytes so that the tensors in values have those
// values and every other tensor its untouched value.
func (e *Evaluator) set(values map[string][]float64) error {
	if err := e.restore(func(name string) bool { _, ok := values[name]; return ok }); err != nil {
		return err
	}
	for name, v := range values {
		if _, ok := e.base[name]; !ok {
			return fmt.Errorf("engine: %s has no float tensor %q to set", e.model.Path, name)
		}
		if err := e.patcher.Set(name, v); err != nil {
			return err
		}
		e.dirty[name] = true
	}
	return nil
}

// restore patches every tensor that differs from its untouched value back
// to it, except those keep names.
func (e *Evaluator) restore(keep func(name string) bool) error {
	for name := range e.dirty {
		if keep(name) {
			continue
		}
		b := e.base[name]
		if err := e.patcher.SetFunc(name, b.fill); err != nil {
			return err
		}
		e.patcher.Release(name)
		e.external.Release(name)
		delete(e.dirty, name)
	}
	return nil
}

// Close releases the ONNX Runtime objects the Evaluator holds.
func (e *Evaluator) Close() error {
	if e.grad != nil {
		e.grad.close()
		e.grad = nil
	}
	for _, s := range e.subsets {
		s.close()
	}
	e.subsets = nil
	if e.order != nil {
		e.order.close()
		e.order = nil
	}
	for _, b := range e.batches {
		b.destroy()
	}
	e.batches = nil
	if e.opts != nil {
		e.opts.Destroy()
		e.opts = nil
	}
	if e.patcher != nil {
		e.patcher.Close()
		e.patcher = nil
	}
	if e.large {
		debug.SetGCPercent(e.gcPercent)
		e.large = false
	}
	if e.external != nil {
		e.external.Close()
		e.external = nil
	}
	if e.diffOpts != nil {
		e.diffOpts.Destroy()
		e.diffOpts = nil
	}
	if e.scorer != nil {
		e.scorer.Destroy()
		e.scorer = nil
	}
	return nil
}

// Kinks returns the op types of the model whose derivatives jump
// (autodiff.Kinks): where there are none, its loss is smooth in the weights.
func (e *Evaluator) Kinks() []string { return autodiff.Kinks(e.model) }

// Samples returns the number of samples each evaluation covers.
func (e *Evaluator) Samples() int { return e.data.N() }
