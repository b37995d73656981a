package npz

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/lsweep/lsweep/internal/errkind"
	"github.com/lsweep/lsweep/internal/half"
)

// writeBuf is the size of the buffer through which WriteNPY writes.
const writeBuf = 64 << 10

// WriteNPY writes a to w as a .npy array, as numpy.save writes it:
// little-endian, C order, format version 1.0 (2.0 if the header needs it),
// the data starting at a multiple of 64 bytes. The values of a.Data are
// converted to a.DType ("" writes float64): rounded to nearest even for
// float32 and float16, values beyond their range becoming ±Inf as in
// NumPy; integer dtypes and bool take only integers in their range (0 and
// 1 for bool).
//
// WriteNPY checks a before it writes anything: a DType it cannot write
// gives an error matching ErrDType, and Data that do not fill Shape, or a
// value the dtype cannot hold, an error matching ErrValue that names the
// first bad value's index.
func WriteNPY(w io.Writer, a *Array) error {
	dt, err := check(a)
	if err != nil {
		return &Error{Err: err}
	}
	bw := bufio.NewWriterSize(w, writeBuf)
	if err := writeNPY(bw, a, dt); err != nil {
		return &Error{Err: err}
	}
	if err := bw.Flush(); err != nil {
		return &Error{Err: err}
	}
	return nil
}

// check checks that a can be written and returns its dtype.
func check(a *Array) (dtype, error) {
	if a == nil {
		return dtype{}, errkind.Errorf(ErrValue, "no array (nil *Array)")
	}
	name := a.DType
	if name == "" {
		name = "float64"
	}
	dt, ok := dtypes[name]
	if !ok {
		return dt, errkind.Errorf(ErrDType, "cannot write dtype %q: want float16, float32, float64, int8, int16, int32, int64, uint8, uint16, uint32, uint64 or bool", a.DType)
	}
	count := 1
	for _, d := range a.Shape {
		if d < 0 {
			return dt, errkind.Errorf(ErrValue, "shape %v has a negative dimension", a.Shape)
		}
		if d != 0 && count > math.MaxInt/d {
			return dt, errkind.Errorf(ErrValue, "shape %v is too large", a.Shape)
		}
		count *= d
	}
	if a.Float32 != nil {
		switch {
		case a.Data != nil:
			return dt, errkind.Errorf(ErrValue, "both Data and Float32 hold values")
		case dt.name != "float32":
			return dt, errkind.Errorf(ErrDType, "Float32 values need dtype float32, not %s", dt.name)
		case len(a.Float32) != count:
			return dt, errkind.Errorf(ErrValue, "shape %v holds %d values, Float32 has %d", a.Shape, count, len(a.Float32))
		}
		return dt, nil
	}
	if len(a.Data) != count {
		return dt, errkind.Errorf(ErrValue, "shape %v holds %d values, Data has %d", a.Shape, count, len(a.Data))
	}
	if dt.integer {
		for i, v := range a.Data {
			if v >= dt.lo && v < dt.hi && v == math.Trunc(v) {
				continue
			}
			vs := strconv.FormatFloat(v, 'g', -1, 64)
			switch {
			case v != math.Trunc(v) || math.IsInf(v, 0):
				return dt, errkind.Errorf(ErrValue, "Data[%d] = %s is not an integer, as %s needs", i, vs, dt.name)
			case dt.kind == 'b':
				return dt, errkind.Errorf(ErrValue, "Data[%d] = %s is not a bool (0 or 1)", i, vs)
			default:
				return dt, errkind.Errorf(ErrValue, "Data[%d] = %s is outside the range of %s [%.0f, %.0f]", i, vs, dt.name, dt.lo, dt.hi-1)
			}
		}
	}
	return dt, nil
}

// writeNPY writes a, already checked to be of type dt, to bw.
func writeNPY(bw *bufio.Writer, a *Array, dt dtype) error {
	if _, err := bw.Write(npyHeader(dt, a.Shape)); err != nil {
		return err
	}
	sz := dt.size
	if a.Float32 != nil {
		return writeFloat32(bw, a.Float32)
	}
	for data := a.Data; len(data) > 0; {
		if bw.Available() < sz {
			if err := bw.Flush(); err != nil {
				return err
			}
		}
		buf := bw.AvailableBuffer()
		n := min(len(data), cap(buf)/sz)
		buf = buf[:n*sz]
		encode(buf, data[:n], dt)
		if _, err := bw.Write(buf); err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

// writeFloat32 writes v as little-endian float32 values.
func writeFloat32(bw *bufio.Writer, v []float32) error {
	for len(v) > 0 {
		if bw.Available() < 4 {
			if err := bw.Flush(); err != nil {
				return err
			}
		}
		buf := bw.AvailableBuffer()
		n := min(len(v), cap(buf)/4)
		buf = buf[:4*n]
		for i, x := range v[:n] {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(x))
		}
		if _, err := bw.Write(buf); err != nil {
			return err
		}
		v = v[n:]
	}
	return nil
}

// npyHeader returns the preamble and header of a .npy array of type dt
// and the given shape, padded so that the data start at a multiple of 64.
func npyHeader(dt dtype, shape []int) []byte {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = strconv.Itoa(d)
	}
	tuple := "(" + strings.Join(dims, ", ") + ")"
	if len(shape) == 1 {
		tuple = "(" + dims[0] + ",)"
	}
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", dt.descr(), tuple)
	// Version 1.0 has a 2-byte header length after magic and version,
	// version 2.0 a 4-byte one; hlen counts them, the dict and its padding.
	pre := 10
	hlen := (pre + len(dict) + 1 + 63) / 64 * 64
	if hlen-pre > math.MaxUint16 {
		pre = 12
		hlen = (pre + len(dict) + 1 + 63) / 64 * 64
	}
	b := make([]byte, pre, hlen)
	copy(b, npyMagic)
	if pre == 10 {
		b[6] = 1
		binary.LittleEndian.PutUint16(b[8:], uint16(hlen-pre))
	} else {
		b[6] = 2
		binary.LittleEndian.PutUint32(b[8:], uint32(hlen-pre))
	}
	b = append(b, dict...)
	for len(b) < hlen-1 {
		b = append(b, ' ')
	}
	return append(b, '\n')
}

// encode converts src to little-endian elements of type dt in dst, which
// holds len(src) of them. The values have been checked to fit.
func encode(dst []byte, src []float64, dt dtype) {
	le := binary.LittleEndian
	switch int(dt.kind)<<8 | dt.size {
	case 'f'<<8 | 2:
		for i, v := range src {
			le.PutUint16(dst[2*i:], half.Float16bits(v))
		}
	case 'f'<<8 | 4:
		dst = dst[:4*len(src)]
		for i, v := range src {
			le.PutUint32(dst[4*i:], math.Float32bits(float32(v)))
		}
	case 'f'<<8 | 8:
		dst = dst[:8*len(src)]
		for i, v := range src {
			le.PutUint64(dst[8*i:], math.Float64bits(v))
		}
	case 'i'<<8 | 1:
		dst = dst[:len(src)]
		for i, v := range src {
			dst[i] = byte(int8(v))
		}
	case 'i'<<8 | 2:
		for i, v := range src {
			le.PutUint16(dst[2*i:], uint16(int16(v)))
		}
	case 'i'<<8 | 4:
		for i, v := range src {
			le.PutUint32(dst[4*i:], uint32(int32(v)))
		}
	case 'i'<<8 | 8:
		for i, v := range src {
			le.PutUint64(dst[8*i:], uint64(int64(v)))
		}
	case 'u'<<8 | 1:
		dst = dst[:len(src)]
		for i, v := range src {
			dst[i] = uint8(v)
		}
	case 'u'<<8 | 2:
		for i, v := range src {
			le.PutUint16(dst[2*i:], uint16(v))
		}
	case 'u'<<8 | 4:
		for i, v := range src {
			le.PutUint32(dst[4*i:], uint32(v))
		}
	case 'u'<<8 | 8:
		for i, v := range src {
			le.PutUint64(dst[8*i:], uint64(v))
		}
	case 'b'<<8 | 1:
		dst = dst[:len(src)]
		for i, v := range src {
			dst[i] = 0
			if v != 0 {
				dst[i] = 1
			}
		}
	default:
		panic("npz: internal error: no conversion to dtype " + dt.name)
	}
}
