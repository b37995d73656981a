package npz_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/x448/float16"

	"github.com/lsweep/lsweep/npz"
)

// readNPY reads data with ReadNPY, once with its size given and once with
// it unknown, and checks that both give the same.
func readNPY(t *testing.T, data []byte) (*npz.Array, error) {
	t.Helper()
	a, err := npz.ReadNPY(bytes.NewReader(data), int64(len(data)))
	b, errb := npz.ReadNPY(bytes.NewReader(data), -1)
	if (err == nil) != (errb == nil) {
		t.Fatalf("ReadNPY with size %d: %v; with size -1: %v", len(data), err, errb)
	}
	if err == nil && (!slices.Equal(a.Shape, b.Shape) || a.DType != b.DType || !sameFloats(a.Data, b.Data)) {
		t.Fatalf("ReadNPY with size %d: %v; with size -1: %v", len(data), a, b)
	}
	return a, err
}

// TestReadNPYDTypes checks every supported dtype in both byte orders and in
// C and Fortran order.
func TestReadNPYDTypes(t *testing.T) {
	shape := []int{3, 2, 2}
	types := []struct {
		typ, name string
		vals      []float64 // C order, 12 values
	}{
		{"f2", "float16", []float64{0, -1, 2.5, 65504, -0.125, 1024, 3, 4, 5, 6, 7, 8}},
		{"f4", "float32", []float64{0, -1.5, 2.25, math.MaxFloat32, -math.SmallestNonzeroFloat32, 0x1p-10, 6, 7, 8, 9, 10, 11}},
		{"f8", "float64", []float64{0, -1.5, 2.25, math.MaxFloat64, -math.SmallestNonzeroFloat64, math.Pi, 6, 7, 8, 9, 10, 11}},
		{"i1", "int8", []float64{0, -128, 127, 3, -4, 5, 6, 7, 8, 9, 10, 11}},
		{"u1", "uint8", []float64{0, 255, 127, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
		{"i2", "int16", []float64{0, -32768, 32767, 3, -4, 5, 6, 7, 8, 9, 10, 11}},
		{"u2", "uint16", []float64{0, 65535, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
		{"i4", "int32", []float64{0, -1 << 31, 1<<31 - 1, 3, -4, 5, 6, 7, 8, 9, 10, 11}},
		{"u4", "uint32", []float64{0, 1<<32 - 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
		{"i8", "int64", []float64{0, -1 << 62, 1 << 53, 3, -4, 5, 6, 7, 8, 9, 10, 11}},
		{"u8", "uint64", []float64{0, 1 << 63, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
		{"b1", "bool", []float64{0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0, 0}},
	}
	for _, ty := range types {
		for _, order := range []struct {
			name string
			bo   binary.AppendByteOrder
			ch   string
		}{{"little", le, "<"}, {"big", be, ">"}} {
			for _, fortran := range []bool{false, true} {
				name := ty.name + "/" + order.name
				if fortran {
					name += "/fortran"
				}
				t.Run(name, func(t *testing.T) {
					stored := ty.vals
					if fortran {
						stored = toFortran(shape, ty.vals)
					}
					descr := order.ch + ty.typ
					if ty.typ[1] == '1' {
						descr = "|" + ty.typ
					}
					a, err := readNPY(t, npyBytes(descr, fortran, shape, encode(order.bo, ty.typ, stored)))
					if err != nil {
						t.Fatal(err)
					}
					if !sameFloats(a.Data, ty.vals) || !slices.Equal(a.Shape, shape) || a.DType != ty.name {
						t.Errorf("got %v %v %s, want %v %v %s", a.Shape, a.Data, a.DType, shape, ty.vals, ty.name)
					}
				})
			}
		}
	}
}

// TestReadNPYShapes checks 0-d, empty and Fortran-ordered arrays of
// several ranks, where C and Fortran order coincide or do not.
func TestReadNPYShapes(t *testing.T) {
	for _, shape := range [][]int{{}, {0}, {5}, {0, 3}, {3, 0}, {1, 4}, {4, 1}, {2, 3}, {1, 3, 1, 2}, {2, 3, 4}, {2, 1, 3, 2}} {
		n := 1
		for _, d := range shape {
			n *= d
		}
		vals := seq(n, 1.5)
		for _, fortran := range []bool{false, true} {
			stored := vals
			if fortran {
				stored = toFortran(shape, vals)
			}
			a, err := readNPY(t, npyBytes("<f8", fortran, shape, encode(le, "f8", stored)))
			if err != nil {
				t.Fatalf("shape %v fortran=%v: %v", shape, fortran, err)
			}
			if !slices.Equal(a.Shape, shape) || !sameFloats(a.Data, vals) || a.Len() != n {
				t.Errorf("shape %v fortran=%v: got %v %v, Len %d", shape, fortran, a.Shape, a.Data, a.Len())
			}
		}
	}
}

// TestReadNPYStops checks that ReadNPY reads no further than the array.
func TestReadNPYStops(t *testing.T) {
	data := npyBytes("<i2", false, []int{3}, encode(le, "i2", []float64{1, 2, 3}))
	r := bytes.NewReader(append(data, "next"...))
	if _, err := npz.ReadNPY(r, -1); err != nil {
		t.Fatal(err)
	}
	if r.Len() != 4 {
		t.Errorf("%d bytes left, want 4", r.Len())
	}
}

// TestHalf reads every float16 bit pattern, compares the values with
// github.com/x448/float16, and writes them back as float16.
func TestHalf(t *testing.T) {
	raw := make([]byte, 2<<16)
	for h := range 1 << 16 {
		le.PutUint16(raw[2*h:], uint16(h))
	}
	a, err := readNPY(t, npyBytes("<f2", false, []int{1 << 16}, raw))
	if err != nil {
		t.Fatal(err)
	}
	for h, v := range a.Data {
		want := float64(float16.Frombits(uint16(h)).Float32())
		if !sameFloats([]float64{v}, []float64{want}) {
			t.Errorf("float16 %#04x = %v, want %v", h, v, want)
		}
	}
	var b bytes.Buffer
	if err := npz.WriteNPY(&b, a); err != nil {
		t.Fatal(err)
	}
	out := b.Bytes()[b.Len()-len(raw):]
	for h := range 1 << 16 {
		got := le.Uint16(out[2*h:])
		// A NaN comes back quiet, with its sign and payload.
		if want := uint16(h); got != want && !(math.IsNaN(a.Data[h]) && got == want|0x0200) {
			t.Errorf("float16 %#04x written as %#04x", want, got)
		}
	}
}

// TestHalfRounding writes values between neighbouring float16 values and
// checks that they round to the nearer, or to the even one when halfway.
func TestHalfRounding(t *testing.T) {
	var vals, want []float64
	for h := range uint16(0x7c00) { // zero to the largest finite value
		lo := float64(float16.Frombits(h).Float32())
		hi := 65536.0 // what the largest value rounds away to
		if h+1 < 0x7c00 {
			hi = float64(float16.Frombits(h + 1).Float32())
		}
		even := lo
		if h&1 == 1 {
			even = hi
		}
		mid := (lo + hi) / 2
		for _, sign := range []float64{1, -1} {
			vals = append(vals, sign*mid, sign*math.Nextafter(mid, 0), sign*math.Nextafter(mid, math.Inf(1)))
			want = append(want, sign*even, sign*lo, sign*hi)
		}
	}
	for i, w := range want {
		if math.Abs(w) == 65536 {
			want[i] = math.Inf(int(w))
		}
	}
	vals = append(vals, 1e300, -1e300, math.Inf(1), 1e-300, -1e-300, 0x1p-25, 0x1p-25+0x1p-40)
	want = append(want, math.Inf(1), math.Inf(-1), math.Inf(1), 0, math.Copysign(0, -1), 0, 0x1p-24)
	var b bytes.Buffer
	if err := npz.WriteNPY(&b, &npz.Array{Shape: []int{len(vals)}, DType: "float16", Data: vals}); err != nil {
		t.Fatal(err)
	}
	a, err := readNPY(t, b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	bad := 0
	for i, v := range a.Data {
		if !sameFloats([]float64{v}, []float64{want[i]}) && bad < 10 {
			t.Errorf("float16(%v) = %v, want %v", vals[i], v, want[i])
			bad++
		}
	}
}

func TestReadNPYErrors(t *testing.T) {
	header := func(dict string) []byte { return npyRaw(dict, nil) }
	tests := []struct {
		name string
		data []byte
		is   error    // sentinel the error must match
		want []string // substrings of the message
	}{
		{"empty", nil, npz.ErrFormat, []string{"truncated", "preamble"}},
		{"complex64", npyBytes("<c8", false, []int{3}, make([]byte, 24)), npz.ErrDType, []string{"complex64", "real part"}},
		{"complex128", npyBytes("<c16", false, []int{3}, make([]byte, 48)), npz.ErrDType, []string{"complex128"}},
		{"object", npyBytes("|O", false, []int{3}, make([]byte, 24)), npz.ErrDType, []string{"object"}},
		{"unicode", npyBytes("<U3", false, []int{3}, make([]byte, 36)), npz.ErrDType, []string{"string"}},
		{"bytes", npyBytes("|S3", false, []int{3}, make([]byte, 9)), npz.ErrDType, []string{"string"}},
		{"float128", npyBytes("<f16", false, []int{3}, make([]byte, 48)), npz.ErrDType, []string{"float128"}},
		{"int24", npyBytes("<i3", false, []int{3}, make([]byte, 9)), npz.ErrDType, []string{"unknown"}},
		{"bool2", npyBytes("|b2", false, []int{3}, make([]byte, 6)), npz.ErrDType, []string{"unknown"}},
		{"datetime", npyBytes("<M8[ns]", false, []int{3}, make([]byte, 24)), npz.ErrDType, []string{"datetime64"}},
		{"timedelta", npyBytes("<m8", false, []int{3}, make([]byte, 24)), npz.ErrDType, []string{"timedelta64"}},
		{"void", npyBytes("|V4", false, []int{3}, make([]byte, 12)), npz.ErrDType, []string{"void"}},
		{"structured", header("{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (3,), }"),
			npz.ErrDType, []string{"structured"}},
		{"truncated data", npyBytes("<f4", false, []int{1000, 1000}, make([]byte, 8)), npz.ErrFormat, []string{"truncated", "4000000 bytes"}},
		{"truncated fortran data", npyBytes("<f4", true, []int{10, 10}, make([]byte, 8)), npz.ErrFormat, []string{"truncated", "400 bytes"}},
		{"huge shape", npyBytes("<f8", false, []int{1 << 40, 1 << 40}, nil), npz.ErrFormat, []string{"too large"}},
		{"huge shape fits int", npyBytes("<f8", false, []int{1 << 20, 1 << 20}, nil), npz.ErrFormat, []string{"truncated"}},
		{"negative dim", header("{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 2), }"), npz.ErrFormat, []string{"bad dimension -1"}},
		{"no shape", header("{'descr': '<f4', 'fortran_order': False, }"), npz.ErrFormat, []string{"no 'shape'"}},
		{"no descr", header("{'fortran_order': False, 'shape': (3,), }"), npz.ErrFormat, []string{"no 'descr'"}},
		{"bad fortran_order", header("{'descr': '<f4', 'fortran_order': 1, 'shape': (3,), }"), npz.ErrFormat, []string{"fortran_order"}},
		{"bad descr", header("{'descr': '', 'fortran_order': False, 'shape': (3,), }"), npz.ErrFormat, []string{"malformed dtype"}},
		{"header not a dict", header("[1, 2]"), npz.ErrFormat, []string{"not a dictionary"}},
		{"header garbage", header("{'descr': '<f4', 'fortran_order': Flase, 'shape': (3,)}"), npz.ErrFormat, []string{"malformed .npy header"}},
		{"header trailing", header("{'descr': '<f4', 'fortran_order': False, 'shape': (3,)} x"), npz.ErrFormat, []string{"after the dictionary"}},
		{"header key not a string", header("{1: 2}"), npz.ErrFormat, []string{"not a string"}},
		{"header unterminated", []byte("\x93NUMPY\x01\x00\x10\x00{'descr': '<f4',"), npz.ErrFormat, []string{"malformed .npy header"}},
		{"header beyond data", []byte("\x93NUMPY\x01\x00\xff\xff{}"), npz.ErrFormat, []string{"header claims 65535 bytes"}},
		{"header huge v2", []byte("\x93NUMPY\x02\x00\xff\xff\xff\x7f{}"), npz.ErrFormat, []string{"header claims"}},
		{"bad magic", []byte("\x93NUMPZ\x01\x00\x10\x00{}              "), npz.ErrFormat, []string{"not a .npy array"}},
		{"bad version", []byte("\x93NUMPY\x09\x00\x10\x00{}              "), npz.ErrFormat, []string{"version 9.0"}},
		{"short", []byte("\x93NUM"), npz.ErrFormat, []string{"truncated"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, size := range []int64{int64(len(tt.data)), -1} {
				a, err := npz.ReadNPY(bytes.NewReader(tt.data), size)
				if err == nil {
					t.Fatalf("size %d: ReadNPY = %v, want an error", size, a)
				}
				msg := err.Error()
				t.Log(msg)
				if !strings.HasPrefix(msg, "npz: ") {
					t.Errorf("error %q does not start with %q", msg, "npz: ")
				}
				if !errors.Is(err, tt.is) {
					t.Errorf("error %q does not match %v", msg, tt.is)
				}
				var e *npz.Error
				if !errors.As(err, &e) || e.Path != "" || e.Entry != "" {
					t.Errorf("error %q is not an *npz.Error without path and entry", msg)
				}
				for _, w := range tt.want {
					if !strings.Contains(msg, w) && (size >= 0 || !strings.Contains(w, "bytes")) {
						t.Errorf("size %d: error %q does not contain %q", size, msg, w)
					}
				}
			}
		})
	}
}

// TestReadNPYTruncations cuts valid arrays at every length: ReadNPY must
// fail cleanly, never panic.
func TestReadNPYTruncations(t *testing.T) {
	for _, data := range [][]byte{
		npyBytes("<f4", true, []int{3, 2}, encode(le, "f4", seq(6, 1))),
		npyBytes(">i8", false, []int{3}, encode(be, "i8", seq(3, 1))),
	} {
		for n := range len(data) {
			for _, size := range []int64{int64(n), -1, int64(len(data))} {
				if _, err := npz.ReadNPY(bytes.NewReader(data[:n]), size); !errors.Is(err, npz.ErrFormat) {
					t.Errorf("cut at %d of %d bytes, size %d: error %v, want ErrFormat", n, len(data), size, err)
				}
			}
		}
		if _, err := readNPY(t, data); err != nil {
			t.Errorf("whole array: %v", err)
		}
	}
}

// errReader fails after its data.
type errReader struct {
	r   *bytes.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, _ := e.r.Read(p)
	if n == 0 {
		return 0, e.err
	}
	return n, nil
}

// TestReadNPYReadError checks that a read error is reported as ErrFormat
// with its cause.
func TestReadNPYReadError(t *testing.T) {
	cause := errors.New("disk on fire")
	data := npyBytes("<f4", false, []int{100}, make([]byte, 40))
	_, err := npz.ReadNPY(&errReader{bytes.NewReader(data), cause}, -1)
	if !errors.Is(err, npz.ErrFormat) || !errors.Is(err, cause) || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("error %v, want ErrFormat and the cause", err)
	}
}

func TestScalar(t *testing.T) {
	for _, tt := range []struct {
		a    npz.Array
		want float64
		ok   bool
	}{
		{npz.Array{Data: []float64{2.5}}, 2.5, true},
		{npz.Array{Shape: []int{1}, Data: []float64{-1}}, -1, true},
		{npz.Array{Shape: []int{1, 1, 1}, Data: []float64{3}}, 3, true},
		{npz.Array{Shape: []int{2}, Data: []float64{1, 2}}, 0, false},
		{npz.Array{Shape: []int{0}, Data: []float64{}}, 0, false},
		{npz.Array{Data: nil}, 0, false},
	} {
		v, err := tt.a.Scalar()
		if (err == nil) != tt.ok || v != tt.want || (err != nil && !errors.Is(err, npz.ErrValue)) {
			t.Errorf("%v.Scalar() = %v, %v", tt.a, v, err)
		}
	}
	if n := (&npz.Array{Shape: []int{2, 3, 4}}).Len(); n != 24 {
		t.Errorf("Len() = %d, want 24", n)
	}
	if n := (&npz.Array{}).Len(); n != 1 {
		t.Errorf("Len() of a 0-d array = %d, want 1", n)
	}
}
