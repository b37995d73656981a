// Package onnx reads, inspects and rewrites ONNX models in pure Go.
//
// It parses a model file with protobuf types generated from the ONNX schema,
// which stay internal: the API speaks in its own types (Model, Node,
// ValueInfo, Param, DataType), and lsweep's own packages that build graphs
// reach the protobuf through an internal package. It reads tensors however an exporter stored them (raw_data,
// typed fields such as float_data, or external data files next to the model),
// finds the weights the loss-landscape method perturbs together with the axis
// that holds one output unit per slice (the filter axis), classifies the
// remaining float tensors (biases, normalisation parameters, running
// statistics), detects the kind of output head, and writes perturbed weights
// back by patching the bytes of one marshalled copy of the model in place, so
// that a new weight vector costs a copy of its bytes and no re-marshalling.
//
// Nothing here needs ONNX Runtime; package autodiff builds gradient and
// Hessian-vector-product graphs from its models and package engine runs them.
package onnx
