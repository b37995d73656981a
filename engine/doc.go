// Package engine evaluates an ONNX model on a dataset at any values of its
// weights, with ONNX Runtime; it is lsweep's only cgo package.
//
// Init finds and loads the ONNX Runtime shared library (FindLibrary: a path
// given by the caller, $LSWEEP_ONNXRUNTIME, the folder
// scripts/install-onnxruntime.sh installs into, the system loader path).
// An Evaluator holds one model and one dataset: every model input is fed
// from its own entry, converted once into tensors of that input's type
// (integer ids and masks as integers) and cut into the same batches as the
// others; the model is marshalled once into a buffer whose weight bytes are
// patched in place (onnx.Patcher); and Evaluate returns the mean loss and accuracy over the whole dataset for any
// set of tensor values. EvaluateSequential evaluates growing prefixes of a
// seeded order of the samples instead and stops by package estimate's rule.
//
// # The per-point path, and why
//
// Each weight vector gets fresh ONNX Runtime sessions created from the
// patched model bytes. The alternative, one session with the weights fed as
// graph inputs, makes every run 1.5 to 12 times slower, because ONNX Runtime
// can then neither fold BatchNorm into the convolutions, nor pre-pack the
// weights, nor use its blocked (NCHWc) convolution layout; a session costs
// about 2-3 ms to create for the digits ResNet and about 10 ms for a
// ResNet-20 (measured on a 2-core machine).
//
// A point's batches are shared among several sessions of few intra-op
// threads each (by default one session per core, one thread each) rather
// than run by one session with one thread per core: on these models ONNX
// Runtime's intra-op parallelism leaves cores idle, and data parallelism
// across sessions made a point 0.85 times (digits ResNet, 1797 samples) and
// 0.6 times (ResNet-20, 1024 CIFAR-shaped samples) as long as plain
// inference of the untouched model with one session and ONNX Runtime's
// default threading, session creation included (BenchmarkPoint,
// scripts/bench.sh). Each session takes its own copy of the weights, so
// memory grows with the session count; Options.Sessions and Options.Threads
// set it. All sessions allocate from one arena registered with the
// environment, which stays warm from one point to the next.
//
// A model exported with a fixed batch of 1 is rewritten to a dynamic batch
// when a run on two samples at once agrees with two single runs; otherwise it
// runs one sample at a time. The per-sample losses are summed in float64 and
// in dataset order, so the result does not depend on batch size or
// scheduling beyond ONNX Runtime's own float32 arithmetic.
//
// # Large models
//
// A model whose weights take largeModelBytes (128 MiB) or more, such as a
// 124M-parameter language model's 500 MB, is run so that memory stays near
// the weights' size rather than a multiple of it:
//
//   - one session with every thread (each session holds a copy of the
//     weights, and such models' large matrix products keep its threads
//     busy), and batches whose output holds at most MaxBatchOutput values
//     (a language model's logits are [T, V] per sample);
//   - with Options.Scratch, the weights being patched live in a file there
//     (onnx.NewFilePatcher), written through a shared memory map whose pages
//     are released as each tensor is written, and read by ONNX Runtime when
//     it makes the point's session: the page cache holds them, not the
//     process, and a session is made faster from that file than from 500 MB
//     of model bytes. A run killed with SIGKILL leaves the file
//     (.lsweep-weights-HOST-PID-*.data) behind, and the next Evaluator
//     made there on that host removes it (package scratch);
//   - float32 weights in the model's external-data files are read in place
//     (onnx.MapExternal, copy-on-write), not copied: the base values of a
//     point come from the page cache too;
//   - a point is written tensor by tensor, one goroutine per thread, from
//     float32 directions into that file (EvaluateMove, Move.Done lets a
//     caller drop mapped directions' pages as it goes), garbage is returned to the system after each
//     point, and glibc's mmap threshold is fixed at 1 MiB (tuneAllocator),
//     without which each session's copy of the weights stayed in the C
//     heap and memory grew by the model's size every few points.
//
// Two costs of every point are cut for models of any size, and matter most
// for language models:
//
//   - the weights that Transpose nodes reverse (PyTorch's Linear layers, a
//     head tied to the token embedding) are stored transposed in the patched
//     model (onnx.PatcherOptions.FoldTransposes), so that a session does not
//     fold those Transposes into new constants again: that folding took 3.8
//     of the 4.2 seconds of a GPT-2-sized session;
//   - the Tokens head's logits are scored in the model's own graph
//     (onnx.Model.WithTokenScores appends the log-softmax at each
//     position's label and whether the label is the arg-max; the labels
//     are one more input), so that T numbers per sequence come back
//     instead of T x V: copying a batch's logits into Go and taking their
//     log-softmax there cost half as long again as the batch's forward
//     pass. A model of an opset before onnx.MinScoreOpset has its logits
//     scored by a second, weightless session instead (onnx.TokenScorer),
//     which costs about twice as much as the nodes in the graph.
//
// BenchmarkLargeModel (scripts/bench-gpt2.sh) measures a GPT-2-small-shaped
// model on 256 sequences of 128 tokens.
//
// # Gradients
//
// ONNX Runtime computes no gradients for an inference model, so Gradient runs
// the gradient model autodiff.GradientModel builds: the forward graph, the
// loss of the batch, and the reverse pass written as ordinary ONNX ops. That
// model takes the weights as graph inputs; Gradient writes them back as
// stored tensors, patches their bytes for each weight vector and makes fresh
// sessions, exactly as Evaluate does, rather than keeping one session per
// worker and feeding the weights. Measured with BenchmarkGradient on a
// 2-core machine shared with other work (so with some spread), one gradient
// over the whole dataset cost, relative to one Evaluate of the untouched
// model: digits ResNet (1797 samples, batches of 256) 5.2, 5.5 and 5.3 with
// stored weights against 6.2, 6.8 and 6.5 with weights as inputs (6.0 to 8.5
// against 6.4 to 11.9 in busier runs); ResNet-20 on 256 CIFAR-shaped samples
// 7.0 and 6.7 against 7.2 and 6.7. Stored weights let ONNX Runtime fold the
// weight products (the BatchNorm scale GradientModel folds into each Conv,
// the flipped kernel of each input gradient) and run the forward and
// input-gradient convolutions with prepacked blocked kernels; the gradient
// session costs about 10 ms to make for the digits ResNet, five times an
// inference session. The target of 4 inference passes is not reached: what
// remains is the weight gradients, a matrix product of the patches of each
// Conv's input (one Gather) with its output gradient, whose operands both
// change with every batch and cannot use those kernels; they cost two to
// three forward Convs (the Conv form of the same product, with input and
// gradient as batch and kernel, costs about twice as much again; one
// batched MatMul per sample, [N, M, P] x [N, P, K*C] summed over N, costs
// the same as the one Gemm over N*P). ONNX Runtime's profiler
// (BenchmarkProfileOps), ResNet-20 gradient on 256 samples in one session:
// Conv 33%, the weight-gradient Gemm 31% and its Gather 13%, layout reorders
// 10%, the ReLU masks 4%. BenchmarkHVP measured in one run: gradient over
// inference 4.7 (digits ResNet) and 6.0 (ResNet-20), where PyTorch's autograd
// on the same models and data takes 3.2 and 3.0 (scripts/bench_pytorch.py).
//
// # Hessian-vector products
//
// HessianVector runs the model autodiff.HVPModel builds: the gradient model
// and its forward-mode derivative along a direction, which is the exact
// product of the Hessian with the direction (the Hessian PyTorch's double
// backward gives). The direction is stored and patched like the weights,
// so that ONNX Runtime folds its transforms and prepacks the convolutions
// with it: one product costs 2.3 (digits ResNet) and 2.4 (ResNet-20)
// gradients, against 2.7 and 2.6 with the direction fed as graph inputs
// (BenchmarkHVP, one run); PyTorch's double backward costs 6.5 and 7.0 of
// its own gradients there, so a product here takes 0.57 and 0.51 of
// PyTorch's time (136 ms against 239 ms, 1.02 s against 2.0 s). The
// tangents of the convolutions are 40 to 50% of a product's kernel time.
//
// Gradient and HVP sessions are single-threaded, one per thread (Threads),
// whatever Sessions says: their kernels sum over the batch, and ONNX
// Runtime's intra-op threads would change the order of those sums, so the
// bits of a gradient would depend on the threading.
//
// The loss and gradient of each batch come out of ONNX Runtime in the model's
// type and are summed, weighted by batch size, in float64 in a fixed order
// (for the tokens head the differentiated models give sums over the batch's
// labelled tokens, and the total is divided by the dataset's count);
// a padded last batch of a fixed-batch model is corrected with one more run
// on copies of its last sample. The sums run in dataset order as the batches
// arrive, whichever session computed them.
package engine
