// Package onnxpb holds the Go types generated from the ONNX protobuf schema.
//
// The schema (onnx.proto) is written from the field numbers of the ONNX
// specification; the generated code is committed so that building lsweep needs
// no protoc. Regenerate with `go generate ./internal/onnxpb` (needs protoc and
// protoc-gen-go on PATH).
package onnxpb

//go:generate protoc --go_out=. --go_opt=paths=source_relative onnx.proto
