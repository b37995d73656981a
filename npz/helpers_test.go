package npz_test

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var le, be = binary.LittleEndian, binary.BigEndian

// npyBytes returns a .npy file (format 1.0) with the given header fields
// and raw data, laid out as numpy writes it: the header padded with spaces
// and ended by '\n' so that the data start at a multiple of 64.
func npyBytes(descr string, fortran bool, shape []int, data []byte) []byte {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = fmt.Sprint(d)
	}
	tuple := "(" + strings.Join(dims, ", ") + ")"
	if len(shape) == 1 {
		tuple = fmt.Sprintf("(%d,)", shape[0])
	}
	order := "False"
	if fortran {
		order = "True"
	}
	return npyRaw(fmt.Sprintf("{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr, order, tuple), data)
}

// npyRaw returns a .npy file with the given header dictionary text.
func npyRaw(dict string, data []byte) []byte {
	h := dict
	for (10+len(h)+1)%64 != 0 {
		h += " "
	}
	h += "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&b, binary.LittleEndian, uint16(len(h)))
	b.WriteString(h)
	b.Write(data)
	return b.Bytes()
}

// encode writes vals as elements of the NumPy type kind+size ("f4", "u2",
// "b1", ...) in byte order bo.
func encode(bo binary.AppendByteOrder, typ string, vals []float64) []byte {
	var b []byte
	for _, v := range vals {
		switch typ {
		case "f2":
			b = bo.AppendUint16(b, toHalf(v))
		case "f4":
			b = bo.AppendUint32(b, math.Float32bits(float32(v)))
		case "f8":
			b = bo.AppendUint64(b, math.Float64bits(v))
		case "i1", "u1", "b1":
			b = append(b, byte(int64(v)))
		case "i2":
			b = bo.AppendUint16(b, uint16(int16(v)))
		case "u2":
			b = bo.AppendUint16(b, uint16(v))
		case "i4":
			b = bo.AppendUint32(b, uint32(int32(v)))
		case "u4":
			b = bo.AppendUint32(b, uint32(v))
		case "i8":
			b = bo.AppendUint64(b, uint64(int64(v)))
		case "u8":
			b = bo.AppendUint64(b, uint64(v))
		default:
			panic("encode: unknown type " + typ)
		}
	}
	return b
}

// toHalf converts v, which must be exactly representable as a normal
// float16 or zero, to float16 bits.
func toHalf(v float64) uint16 {
	if v == 0 {
		return 0
	}
	var sign uint16
	if v < 0 {
		sign, v = 0x8000, -v
	}
	frac, exp := math.Frexp(v) // v = frac * 2^exp, frac in [0.5, 1)
	return sign | uint16(exp+14)<<10 | uint16((frac*2-1)*1024)
}

// entry is one member of a generated .npz archive.
type entry struct {
	name string
	data []byte
}

// zipBytes returns a zip archive of the entries, deflated if compress is
// set.
func zipBytes(t testing.TB, compress bool, entries ...entry) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	method := zip.Store
	if compress {
		method = zip.Deflate
	}
	for _, e := range entries {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// writeFile writes data to dir/name and returns the path.
func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// seq returns 0, 1, ..., n-1 scaled by k.
func seq(n int, k float64) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = float64(i) * k
	}
	return v
}

// toFortran reorders C-order values of the given shape into Fortran order.
func toFortran(shape []int, c []float64) []float64 {
	f := make([]float64, len(c))
	idx := make([]int, len(shape))
	for i := range c {
		// Fortran offset of the C index idx.
		o, s := 0, 1
		for q := range shape {
			o += idx[q] * s
			s *= shape[q]
		}
		f[o] = c[i]
		for q := len(idx) - 1; q >= 0; q-- {
			idx[q]++
			if idx[q] < shape[q] {
				break
			}
			idx[q] = 0
		}
	}
	return f
}

// sameFloats reports whether a and b are equal, NaN equal to NaN and the
// sign of zero significant.
func sameFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return false
		}
	}
	return true
}

var numpyOnce struct {
	sync.Once
	python string
}

// numpy runs a Python script with numpy imported as np and the given
// arguments in sys.argv[1:], and returns its standard output. It skips the
// test if no python3 with numpy is installed.
func numpy(t testing.TB, script string, args ...string) []byte {
	t.Helper()
	numpyOnce.Do(func() {
		for _, p := range []string{"python3", "/usr/bin/python3", "python"} {
			if path, err := exec.LookPath(p); err == nil && exec.Command(path, "-c", "import numpy").Run() == nil {
				numpyOnce.python = path
				return
			}
		}
	})
	if numpyOnce.python == "" {
		t.Skip("no python3 with numpy found (pip install numpy); skipping the check against numpy")
	}
	cmd := exec.Command(numpyOnce.python, append([]string{"-c", "import json, sys\nimport numpy as np\n" + script}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", numpyOnce.python, err, stderr.Bytes())
	}
	return out
}
