// Package autodiff builds ONNX models that differentiate other ONNX models:
// gradient models (the mean loss of a batch and its gradient with respect to
// chosen stored tensors, in reverse mode) and Hessian-vector-product models
// (the exact product of the loss's Hessian with a direction, by forward-mode
// differentiation of the gradient model).
//
// Both are written with ordinary ONNX ops, so that ONNX Runtime (package
// engine) runs them with the same kernels, threads and graph optimisations as
// the model itself. Each op has a reverse-mode rule that emits ops, and a
// forward-mode rule for every op a gradient model can contain: the
// Hessian-vector product of a model is the forward derivative of its
// gradient model along the direction, so the second-order rules are the
// first-order rules applied to the gradient graph. The rules of the ops of
// CNNs and MLPs are in rules.go (reverse) and tangent.go (forward); those of
// transformer exports in transformer.go, of the other activations in
// activations.go, of the other reductions and normalisations in
// reductions.go, each reverse rule beside its forward one. Shape and type
// inference for the values the rules make lives in shape.go.
//
// No part of a model is silently constant: every value computed from a
// differentiated tensor whose type is float, or cannot be inferred, is
// differentiated, and a node between such a tensor and the loss without a
// rule (another domain, an op not covered) makes GradientModel and HVPModel
// fail with ErrNoGradient naming it.
//
// Where an op is not differentiable, the rules take one side, the same in
// the reverse and the forward rule so that products are derivatives of the
// gradient as built: at the kinks of Relu, LeakyRelu, PRelu, Elu, Selu,
// HardSigmoid, HardSwish and Clip, PyTorch's side; an elementwise Max or Min
// routes a tie to the first operand equal to the result (PyTorch splits a
// tie of two in half); ReduceMax and ReduceMin share a tie evenly among the
// tied elements (as PyTorch's amax and amin); MaxPool follows the index
// ONNX Runtime reports.
//
// Why not ONNX Runtime's own training API: it ships only in the separate
// onnxruntime-training builds (not in the inference library that lsweep
// loads, nor in its Go binding), it builds gradients for training graphs
// (weights as trainable inputs, an optimizer, a training-mode BatchNorm)
// rather than for an exported inference graph, and it has no second-order
// (Hessian-vector) products. Writing the graphs here keeps one library, one
// kind of session and exactly the inference semantics of the exported model
// (BatchNorm with its running statistics, Dropout as identity).
//
// Nothing here needs ONNX Runtime.
package autodiff
