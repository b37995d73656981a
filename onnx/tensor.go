package onnx

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/lsweep/lsweep/internal/half"

	"github.com/lsweep/lsweep/internal/onnxpb"
)

// DataType is an ONNX tensor element type (TensorProto.DataType).
type DataType int32

// The element types lsweep handles by name, numbered as in ONNX's
// TensorProto.DataType (the numbers are part of the file format).
const (
	Undefined DataType = 0
	Float     DataType = 1
	Uint8     DataType = 2
	Int8      DataType = 3
	Uint16    DataType = 4
	Int16     DataType = 5
	Int32     DataType = 6
	Int64     DataType = 7
	Bool      DataType = 9
	Float16   DataType = 10
	Double    DataType = 11
	Uint32    DataType = 12
	Uint64    DataType = 13
	BFloat16  DataType = 16
)

// String returns the lower-case ONNX name of the type ("float", "int64", ...).
func (t DataType) String() string {
	switch t {
	case Float:
		return "float"
	case Double:
		return "double"
	case Float16:
		return "float16"
	case BFloat16:
		return "bfloat16"
	}
	if name, ok := onnxpb.TensorProto_DataType_name[int32(t)]; ok {
		return lower(name)
	}
	return "type(" + strconv.Itoa(int(t)) + ")"
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// IsFloat reports whether t is a floating-point type lsweep can perturb.
func (t DataType) IsFloat() bool {
	return t == Float || t == Double || t == Float16 || t == BFloat16
}

// Size returns the size in bytes of one element, or 0 for types without a
// fixed size.
func (t DataType) Size() int {
	switch t {
	case Uint8, Int8, Bool:
		return 1
	case Uint16, Int16, Float16, BFloat16:
		return 2
	case Float, Int32, Uint32:
		return 4
	case Double, Int64, Uint64:
		return 8
	}
	return 0
}

// NumElements returns the element count of a shape, or -1 if a dimension is
// negative or the count overflows.
func NumElements(dims []int64) int64 {
	n := int64(1)
	for _, d := range dims {
		if d < 0 || (d > 0 && n > math.MaxInt64/d) {
			return -1
		}
		n *= d
	}
	return n
}

// readTensor decodes t into float64 values, wherever the exporter stored
// them: raw_data, a typed field, or an external data file resolved against
// m.Dir. Integer types are converted exactly up to 2^53.
func (m *Model) readTensor(t *onnxpb.TensorProto) ([]float64, error) {
	dt := DataType(t.GetDataType())
	n := NumElements(t.GetDims())
	if n < 0 {
		return nil, m.tensorErr(t, "invalid dims %v", t.GetDims())
	}
	if dt.Size() == 0 {
		return nil, m.tensorErr(t, "element type %v cannot be read as numbers", dt)
	}
	raw := t.GetRawData()
	if t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL {
		var err error
		if raw, err = m.readExternal(t); err != nil {
			return nil, err
		}
	}
	if raw != nil || n == 0 {
		if want, ok := byteSize(t); !ok || int64(len(raw)) != want {
			return nil, m.tensorErr(t, "holds %d bytes, its shape %v of %v needs %d", len(raw), t.GetDims(), dt, want)
		}
		return decodeRaw(dt, raw), nil
	}
	// Typed fields: the shape is compared with the values there before
	// anything is allocated.
	if have := typedLen(t, dt); have != n {
		return nil, m.tensorErr(t, "holds %d values, its shape %v needs %d", have, t.GetDims(), n)
	}
	out := make([]float64, 0, n)
	switch dt {
	case Float:
		for _, v := range t.GetFloatData() {
			out = append(out, float64(v))
		}
	case Double:
		out = append(out, t.GetDoubleData()...)
	case Float16:
		for _, v := range t.GetInt32Data() {
			out = append(out, half.Float16frombits(uint16(v)))
		}
	case BFloat16:
		for _, v := range t.GetInt32Data() {
			out = append(out, half.BFloat16frombits(uint16(v)))
		}
	case Int8, Uint8, Int16, Uint16, Int32, Bool:
		for _, v := range t.GetInt32Data() {
			out = append(out, float64(v))
		}
	case Int64:
		for _, v := range t.GetInt64Data() {
			out = append(out, float64(v))
		}
	case Uint32, Uint64:
		for _, v := range t.GetUint64Data() {
			out = append(out, float64(v))
		}
	}
	if int64(len(out)) != n {
		return nil, m.tensorErr(t, "holds %d values, its shape %v needs %d", len(out), t.GetDims(), n)
	}
	return out, nil
}

// byteSize returns the bytes t's shape and type need; ok is false when that
// overflows.
func byteSize(t *onnxpb.TensorProto) (int64, bool) {
	n := NumElements(t.GetDims())
	size := int64(DataType(t.GetDataType()).Size())
	if n < 0 || size == 0 || n > math.MaxInt64/size {
		return 0, false
	}
	return n * size, true
}

// typedLen returns the number of values in the typed field that holds
// elements of type dt.
func typedLen(t *onnxpb.TensorProto, dt DataType) int64 {
	switch dt {
	case Float:
		return int64(len(t.GetFloatData()))
	case Double:
		return int64(len(t.GetDoubleData()))
	case Float16, BFloat16, Int8, Uint8, Int16, Uint16, Int32, Bool:
		return int64(len(t.GetInt32Data()))
	case Int64:
		return int64(len(t.GetInt64Data()))
	case Uint32, Uint64:
		return int64(len(t.GetUint64Data()))
	}
	return 0
}

func (m *Model) tensorErr(t *onnxpb.TensorProto, format string, args ...any) error {
	return fmt.Errorf("onnx: %s: tensor %q: %s", m.Path, t.GetName(), fmt.Sprintf(format, args...))
}

// externalRef is a parsed external_data entry.
type externalRef struct {
	path           string
	offset, length int64
	size           int64 // of the file
}

func (m *Model) externalRef(t *onnxpb.TensorProto) (externalRef, error) {
	ref := externalRef{length: -1}
	var location string
	for _, kv := range t.GetExternalData() {
		switch kv.GetKey() {
		case "location":
			location = kv.GetValue()
		case "offset", "length":
			v, err := strconv.ParseInt(kv.GetValue(), 10, 64)
			if err != nil || v < 0 {
				return ref, m.tensorErr(t, "external data %s %q is not a non-negative integer", kv.GetKey(), kv.GetValue())
			}
			if kv.GetKey() == "offset" {
				ref.offset = v
			} else {
				ref.length = v
			}
		}
	}
	if location == "" {
		return ref, m.tensorErr(t, "external data has no location")
	}
	// A location must stay inside the model's folder: a model file must not be
	// able to make lsweep read arbitrary files.
	if !filepath.IsLocal(filepath.FromSlash(location)) {
		return ref, m.tensorErr(t, "external data location %q is outside the model's folder", location)
	}
	if m.Dir == "" {
		return ref, m.tensorErr(t, "external data %q cannot be resolved: the model was not read from a file", location)
	}
	ref.path = filepath.Join(m.Dir, filepath.FromSlash(location))
	// Symbolic links are followed, and where they lead must be inside the
	// model's folder too, and a regular file (not a FIFO that blocks, nor a
	// device).
	real, err := filepath.EvalSymlinks(ref.path)
	if err != nil {
		return ref, m.tensorErr(t, "external data: %v", err)
	}
	dir, err := filepath.EvalSymlinks(m.Dir)
	if err != nil {
		return ref, m.tensorErr(t, "external data: model folder: %v", err)
	}
	if rel, err := filepath.Rel(dir, real); err != nil || !filepath.IsLocal(rel) {
		return ref, m.tensorErr(t, "external data location %q leads to %s, outside the model's folder", location, real)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return ref, m.tensorErr(t, "external data: %v", err)
	}
	if !fi.Mode().IsRegular() {
		return ref, m.tensorErr(t, "external data %s is not a regular file", real)
	}
	ref.path, ref.size = real, fi.Size()
	return ref, nil
}

// externalSpan returns where an external tensor's bytes lie and how many
// there are, checked against its shape and the file's size before anything
// is read or mapped: a declared shape must not make lsweep allocate or
// view more than the file holds.
func (m *Model) externalSpan(t *onnxpb.TensorProto) (externalRef, int64, error) {
	ref, err := m.externalRef(t)
	if err != nil {
		return ref, 0, err
	}
	want, ok := byteSize(t)
	if !ok {
		return ref, 0, m.tensorErr(t, "shape %v of %v is too large", t.GetDims(), DataType(t.GetDataType()))
	}
	if ref.length >= 0 && ref.length != want {
		return ref, 0, m.tensorErr(t, "external data length %d, its shape %v needs %d bytes", ref.length, t.GetDims(), want)
	}
	if ref.offset > ref.size || want > ref.size-ref.offset {
		return ref, 0, m.tensorErr(t, "external data file %s (%d bytes) is too short for %d bytes at offset %d", ref.path, ref.size, want, ref.offset)
	}
	return ref, want, nil
}

func (m *Model) readExternal(t *onnxpb.TensorProto) ([]byte, error) {
	ref, want, err := m.externalSpan(t)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(ref.path)
	if err != nil {
		return nil, m.tensorErr(t, "external data: %v", err)
	}
	defer f.Close()
	buf := make([]byte, want)
	if _, err := f.ReadAt(buf, ref.offset); err != nil {
		if err == io.EOF {
			return nil, m.tensorErr(t, "external data file %s is too short for %d bytes at offset %d", ref.path, want, ref.offset)
		}
		return nil, m.tensorErr(t, "external data: %v", err)
	}
	return buf, nil
}

func decodeRaw(dt DataType, raw []byte) []float64 {
	size := dt.Size()
	out := make([]float64, len(raw)/size)
	le := binary.LittleEndian
	for i := range out {
		b := raw[i*size:]
		switch dt {
		case Float:
			out[i] = float64(math.Float32frombits(le.Uint32(b)))
		case Double:
			out[i] = math.Float64frombits(le.Uint64(b))
		case Float16:
			out[i] = half.Float16frombits(le.Uint16(b))
		case BFloat16:
			out[i] = half.BFloat16frombits(le.Uint16(b))
		case Int8:
			out[i] = float64(int8(b[0]))
		case Uint8, Bool:
			out[i] = float64(b[0])
		case Int16:
			out[i] = float64(int16(le.Uint16(b)))
		case Uint16:
			out[i] = float64(le.Uint16(b))
		case Int32:
			out[i] = float64(int32(le.Uint32(b)))
		case Uint32:
			out[i] = float64(le.Uint32(b))
		case Int64:
			out[i] = float64(int64(le.Uint64(b)))
		case Uint64:
			out[i] = float64(le.Uint64(b))
		}
	}
	return out
}

// EncodeFloat writes values into dst as little-endian elements of type dt,
// which must be a float type; dst must hold len(values)*dt.Size() bytes.
func EncodeFloat(dst []byte, dt DataType, values []float64) {
	le := binary.LittleEndian
	switch dt {
	case Float:
		for i, v := range values {
			le.PutUint32(dst[4*i:], math.Float32bits(float32(v)))
		}
	case Double:
		for i, v := range values {
			le.PutUint64(dst[8*i:], math.Float64bits(v))
		}
	case Float16:
		for i, v := range values {
			le.PutUint16(dst[2*i:], half.Float16bits(v))
		}
	case BFloat16:
		for i, v := range values {
			le.PutUint16(dst[2*i:], half.BFloat16bits(v))
		}
	default:
		panic("onnx: EncodeFloat of non-float type " + dt.String())
	}
}

// CheckStorage checks, without reading them, that the external data of every
// stored tensor can be read: locations inside the model's folder, files that
// exist and hold the bytes the tensors need. It returns the first problem.
func (m *Model) CheckStorage() error {
	ix := newGraphIndex(m)
	check := func(t *onnxpb.TensorProto) error {
		if t.GetDataLocation() != onnxpb.TensorProto_EXTERNAL {
			return nil
		}
		ref, err := m.externalRef(t)
		if err != nil {
			return err
		}
		want, ok := byteSize(t)
		if !ok {
			return m.tensorErr(t, "shape %v of %v is too large", t.GetDims(), DataType(t.GetDataType()))
		}
		if ref.offset > ref.size || want > ref.size-ref.offset {
			return m.tensorErr(t, "external data file %s has %d bytes, the tensor needs %d at offset %d", ref.path, ref.size, want, ref.offset)
		}
		return nil
	}
	for _, t := range m.graph().GetInitializer() {
		if err := check(t); err != nil {
			return err
		}
	}
	for _, t := range ix.constants {
		if err := check(t); err != nil {
			return err
		}
	}
	return nil
}
