package onnx_test

import (
	"testing"

	"github.com/lsweep/lsweep/internal/onnxpb"
	"github.com/lsweep/lsweep/onnx"
)

// The DataType numbers are written out in package onnx, which keeps the
// generated types out of its API: they must be the schema's.
func TestDataTypeNumbers(t *testing.T) {
	for dt, pb := range map[onnx.DataType]onnxpb.TensorProto_DataType{
		onnx.Undefined: onnxpb.TensorProto_UNDEFINED, onnx.Float: onnxpb.TensorProto_FLOAT,
		onnx.Uint8: onnxpb.TensorProto_UINT8, onnx.Int8: onnxpb.TensorProto_INT8,
		onnx.Uint16: onnxpb.TensorProto_UINT16, onnx.Int16: onnxpb.TensorProto_INT16,
		onnx.Int32: onnxpb.TensorProto_INT32, onnx.Int64: onnxpb.TensorProto_INT64,
		onnx.Bool: onnxpb.TensorProto_BOOL, onnx.Float16: onnxpb.TensorProto_FLOAT16,
		onnx.Double: onnxpb.TensorProto_DOUBLE, onnx.Uint32: onnxpb.TensorProto_UINT32,
		onnx.Uint64: onnxpb.TensorProto_UINT64, onnx.BFloat16: onnxpb.TensorProto_BFLOAT16,
	} {
		if int32(dt) != int32(pb) {
			t.Errorf("%v is %d, the schema's %v is %d", dt, dt, pb, pb)
		}
	}
}
