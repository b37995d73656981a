// Package autodiff builds ONNX models that differentiate other ONNX models:
// gradient models (the mean loss of a batch and its gradient with respect to
// chosen stored tensors, in reverse mode) and Hessian-vector-product models
// (the exact product of the loss's Hessian with a direction, by forward-mode
// differentiation of the gradient model).
//
// Both are written with ordinary ONNX ops, so that ONNX Runtime (package
// engine) runs them with the same kernels, threads and graph optimisations as
// the model itself. Each op has a reverse-mode rule (rules.go) that emits ops,
// and a forward-mode rule (tangent.go) for every op a gradient model can
// contain: the Hessian-vector product of a model is the forward derivative of
// its gradient model along the direction, so the second-order rules are the
// first-order rules applied to the gradient graph. Shape and type inference
// for the values the rules make lives in shape.go.
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
