// Package onnxpb holds the Go types generated from the ONNX protobuf schema.
//
// The schema (onnx.proto) is written from the field numbers of the ONNX
// specification; the generated code is committed so that building lsweep needs
// no protoc. Regenerate with `go generate ./internal/onnxpb`, which needs protoc
// (Debian's protobuf-compiler) and builds the protoc-gen-go that go.mod pins;
// scripts/lint.sh checks that the committed code is what that makes.
package onnxpb

//go:generate sh generate.sh
