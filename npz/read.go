package npz

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/bits"
	"strconv"
	"strings"

	"github.com/lsweep/lsweep/internal/errkind"
	"github.com/lsweep/lsweep/internal/half"
)

// npyMagic starts every .npy file.
const npyMagic = "\x93NUMPY"

// maxHeaderLen bounds the header dictionary; NumPy itself refuses headers
// over 10000 bytes by default.
const maxHeaderLen = 1 << 20

// header is the parsed header of a .npy array.
type header struct {
	dt      dtype
	big     bool  // big-endian
	fortran bool  // data are stored in column-major (Fortran) order
	shape   []int // as declared, outermost first
}

// ReadNPY reads one .npy array from r and converts it to float64 in C
// order. size is the number of bytes r holds, or -1 if that is unknown;
// the sizes the header declares are checked against it before anything is
// allocated for them, and whatever size is given, memory is allocated as
// data arrive, so a stream that ends early costs no more than it holds.
// ReadNPY reads no further than the end of the array.
//
// Arrays may hold bool, signed or unsigned integers of 1, 2, 4 or 8 bytes,
// or float16, float32 or float64 values, in either byte order and in C or
// Fortran order; other dtypes give an error matching ErrDType, and a
// malformed or truncated stream one matching ErrFormat.
func ReadNPY(r io.Reader, size int64) (*Array, error) {
	a, err := readNPY(r, size)
	if err != nil {
		return nil, &Error{Err: err}
	}
	return a, nil
}

// ReadNPYInfo reads the header of one .npy array from r, of size bytes (-1:
// unknown), and returns the shape and dtype it declares, without reading
// the data. Errors are those of ReadNPY.
func ReadNPYInfo(r io.Reader, size int64) (shape []int, dtype string, err error) {
	h, _, err := readHeader(r, size)
	if err != nil {
		return nil, "", &Error{Err: err}
	}
	return h.shape, h.dt.name, nil
}

// readNPY is ReadNPY with errors that do not say where.
func readNPY(r io.Reader, avail int64) (*Array, error) {
	h, need, err := readHeader(r, avail)
	if err != nil {
		return nil, err
	}
	return readArray(r, h, need, avail >= 0)
}

// readHeader reads the preamble and header of a .npy stream of avail bytes
// (-1: unknown) and returns them with the bytes of data they declare, checked
// against what is there.
func readHeader(r io.Reader, avail int64) (*header, int64, error) {
	var pre [12]byte
	if _, err := io.ReadFull(r, pre[:8]); err != nil {
		return nil, 0, truncated(err, "reading the .npy preamble")
	}
	if string(pre[:6]) != npyMagic {
		return nil, 0, errkind.Errorf(ErrFormat, "not a .npy array (no %q magic)", npyMagic)
	}
	major := pre[6]
	var hlen, off int64
	switch major {
	case 1:
		if _, err := io.ReadFull(r, pre[8:10]); err != nil {
			return nil, 0, truncated(err, "reading the .npy header length")
		}
		hlen, off = int64(binary.LittleEndian.Uint16(pre[8:10])), 10
	case 2, 3:
		if _, err := io.ReadFull(r, pre[8:12]); err != nil {
			return nil, 0, truncated(err, "reading the .npy header length")
		}
		hlen, off = int64(binary.LittleEndian.Uint32(pre[8:12])), 12
	default:
		return nil, 0, errkind.Errorf(ErrFormat, "unsupported .npy format version %d.%d", major, pre[7])
	}
	if avail >= 0 && off+hlen > avail {
		return nil, 0, errkind.Errorf(ErrFormat, "the .npy header claims %d bytes, only %d are present in all", hlen, avail)
	}
	if hlen > maxHeaderLen {
		return nil, 0, errkind.Errorf(ErrFormat, "the .npy header claims %d bytes, more than the %d allowed", hlen, maxHeaderLen)
	}
	hdr := make([]byte, hlen)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, 0, truncated(err, "reading the .npy header")
	}
	h, err := parseHeader(string(hdr))
	if err != nil {
		return nil, 0, err
	}

	count := 1
	for _, d := range h.shape {
		if d != 0 && count > math.MaxInt/d {
			return nil, 0, errkind.Errorf(ErrFormat, "shape %v is too large", h.shape)
		}
		count *= d
	}
	if count > math.MaxInt/8 {
		return nil, 0, errkind.Errorf(ErrFormat, "shape %v is too large", h.shape)
	}
	need := int64(count * h.dt.size)
	if have := avail - off - hlen; avail >= 0 && need > have {
		return nil, 0, errkind.Errorf(ErrFormat, "truncated: shape %v of %s needs %d bytes of data, only %d are present", h.shape, h.dt.name, need, have)
	}
	return h, need, nil
}

// readArray reads the need bytes of data of the array h declares. known
// says need was checked against the stream's size; if not, the first
// allocation is one read's worth, so that a short stream declaring a huge
// array costs no more than about twice what it holds.
func readArray(r io.Reader, h *header, need int64, known bool) (*Array, error) {
	count := int(need) / h.dt.size
	a := &Array{Shape: h.shape, DType: h.dt.name}
	firstBytes := readChunk
	if known {
		firstBytes = allocChunk * 8
	}
	if h.fortran && !isVector(h.shape) {
		raw, err := readN(r, int(need), firstBytes)
		if err != nil {
			return nil, truncated(err, fmt.Sprintf("reading %d bytes of data", need))
		}
		if h.big {
			swap(raw, h.dt.size)
		}
		a.Data = make([]float64, count)
		fromFortran(a.Data, raw, h.dt, h.shape)
		return a, nil
	}
	var err error
	if a.Data, err = readData(r, count, h, firstBytes/8); err != nil {
		return nil, truncated(err, fmt.Sprintf("reading %d bytes of data", need))
	}
	return a, nil
}

// isVector reports whether at most one dimension of shape exceeds 1, so
// that C and Fortran order coincide.
func isVector(shape []int) bool {
	n := 0
	for _, d := range shape {
		if d > 1 {
			n++
		}
	}
	return n <= 1
}

// Sizes of the chunks in which data are read and allocated.
const (
	readChunk  = 256 << 10 // bytes read and converted at a time
	allocChunk = 8 << 20   // float64 values allocated before any data arrive, when the size is known
)

// readData reads and converts count elements stored in C order, allocating
// at first room for first values and more as they arrive.
func readData(r io.Reader, count int, h *header, first int) ([]float64, error) {
	sz := h.dt.size
	data := make([]float64, 0, min(count, first))
	buf := make([]byte, min(count, readChunk/sz)*sz)
	for len(data) < count {
		n := min(count-len(data), len(buf)/sz)
		b := buf[:n*sz]
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		if h.big {
			swap(b, sz)
		}
		if cap(data)-len(data) < n {
			nd := make([]float64, len(data), min(count, max(2*cap(data), len(data)+n)))
			copy(nd, data)
			data = nd
		}
		data = data[:len(data)+n]
		decode(data[len(data)-n:], b, h.dt)
	}
	return data, nil
}

// readN reads exactly n bytes from r. It allocates first bytes, then more
// as data arrive rather than all at once, so a stream that lies about its
// length costs no more memory than it holds.
func readN(r io.Reader, n, first int) ([]byte, error) {
	buf := make([]byte, 0, min(n, first))
	for len(buf) < n {
		if len(buf) == cap(buf) {
			nb := make([]byte, len(buf), min(n, 2*cap(buf)))
			copy(nb, buf)
			buf = nb
		}
		m, err := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err != nil {
			return nil, err
		}
	}
	return buf, nil
}

// truncated reports a read error, an early end of data included, as
// ErrFormat.
func truncated(err error, doing string) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errkind.Errorf(ErrFormat, "truncated: end of data while %s", doing)
	}
	return &errkind.Error{Msg: doing + ": " + err.Error(), Kind: ErrFormat, Cause: err}
}

// parseDescr parses a dtype string such as "<f4" or "|u1".
func parseDescr(descr string) (dt dtype, big bool, err error) {
	s := descr
	if s != "" {
		switch s[0] {
		case '<', '|', '=':
			s = s[1:]
		case '>':
			big = true
			s = s[1:]
		}
	}
	if s == "" {
		return dt, big, errkind.Errorf(ErrFormat, "malformed dtype %q", descr)
	}
	kind := s[0]
	rest := strings.TrimLeft(s[1:], "0123456789")
	size, _ := strconv.Atoi(s[1 : len(s)-len(rest)])
	if rest != "" { // e.g. "<M8[ns]"
		if kind != 'M' && kind != 'm' {
			kind = 0
		}
	}
	var name, why string
	switch kind {
	case 'f':
		name = "float" + strconv.Itoa(8*size)
	case 'i', 'u', 'b':
		name = "unknown"
		for _, dt := range dtypes {
			if dt.kind == kind && dt.size == size {
				name = dt.name
			}
		}
	case 'c':
		name, why = "complex"+strconv.Itoa(8*size), "; keep the real part or the magnitude"
	case 'O':
		name, why = "object", "; object arrays hold pickled Python objects, save a numeric array instead"
	case 'U', 'S', 'a':
		name, why = "string", "; map string labels to integer class indices"
	case 'V':
		name = "void (raw bytes)"
	case 'M':
		name = "datetime64"
	case 'm':
		name = "timedelta64"
	default:
		name = "unknown"
	}
	if dt, ok := dtypes[name]; ok && rest == "" {
		return dt, big, nil
	}
	return dt, big, errkind.Errorf(ErrDType, "unsupported dtype %s (%q): want bool, integer or float values%s", name, descr, why)
}

// parseHeader parses the Python dict literal of a .npy header.
func parseHeader(h string) (*header, error) {
	p := &pyParser{s: h}
	v, err := p.value()
	if err == nil {
		p.skipSpace()
		if p.i != len(p.s) {
			err = fmt.Errorf("unexpected %q after the dictionary", p.rest())
		}
	}
	if err != nil {
		return nil, errkind.Errorf(ErrFormat, "malformed .npy header %q: %v", shorten(h), err)
	}
	d, ok := v.(map[string]any)
	if !ok {
		return nil, errkind.Errorf(ErrFormat, "malformed .npy header %q: not a dictionary", shorten(h))
	}
	a := &header{}
	switch descr := d["descr"].(type) {
	case string:
		if a.dt, a.big, err = parseDescr(descr); err != nil {
			return nil, err
		}
	case []any:
		return nil, errkind.Errorf(ErrDType, "unsupported structured (record) dtype: want bool, integer or float values")
	default:
		return nil, errkind.Errorf(ErrFormat, "malformed .npy header %q: no 'descr' string", shorten(h))
	}
	if a.fortran, ok = d["fortran_order"].(bool); !ok {
		return nil, errkind.Errorf(ErrFormat, "malformed .npy header %q: no 'fortran_order' True or False", shorten(h))
	}
	shape, ok := d["shape"].([]any)
	if !ok {
		return nil, errkind.Errorf(ErrFormat, "malformed .npy header %q: no 'shape' tuple", shorten(h))
	}
	a.shape = make([]int, len(shape))
	for i, s := range shape {
		n, ok := s.(int)
		if !ok || n < 0 {
			return nil, errkind.Errorf(ErrFormat, "malformed .npy header %q: bad dimension %v in 'shape'", shorten(h), s)
		}
		a.shape[i] = n
	}
	return a, nil
}

func shorten(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

// pyParser parses the subset of Python literals that .npy headers use:
// dicts, tuples, lists, strings, integers, True, False and None.
type pyParser struct {
	s string
	i int
}

func (p *pyParser) skipSpace() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *pyParser) rest() string {
	r := p.s[p.i:]
	if len(r) > 20 {
		r = r[:20]
	}
	return r
}

func (p *pyParser) value() (any, error) {
	p.skipSpace()
	if p.i >= len(p.s) {
		return nil, fmt.Errorf("unexpected end")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		p.i++
		m := map[string]any{}
		for {
			p.skipSpace()
			if p.i < len(p.s) && p.s[p.i] == '}' {
				p.i++
				return m, nil
			}
			k, err := p.value()
			if err != nil {
				return nil, err
			}
			ks, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("dictionary key %v is not a string", k)
			}
			p.skipSpace()
			if p.i >= len(p.s) || p.s[p.i] != ':' {
				return nil, fmt.Errorf("want ':' after key %q", ks)
			}
			p.i++
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			m[ks] = v
			if err := p.separator('}'); err != nil {
				return nil, err
			}
		}
	case c == '(' || c == '[':
		end := byte(')')
		if c == '[' {
			end = ']'
		}
		p.i++
		l := []any{}
		for {
			p.skipSpace()
			if p.i < len(p.s) && p.s[p.i] == end {
				p.i++
				return l, nil
			}
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			l = append(l, v)
			if err := p.separator(end); err != nil {
				return nil, err
			}
		}
	case c == '\'' || c == '"':
		j := strings.IndexByte(p.s[p.i+1:], c)
		if j < 0 {
			return nil, fmt.Errorf("unterminated string")
		}
		v := p.s[p.i+1 : p.i+1+j]
		p.i += j + 2
		return v, nil
	case c == '-' || c == '+' || ('0' <= c && c <= '9'):
		j := p.i + 1
		for j < len(p.s) && '0' <= p.s[j] && p.s[j] <= '9' {
			j++
		}
		n, err := strconv.Atoi(p.s[p.i:j])
		if err != nil {
			return nil, fmt.Errorf("bad integer %q", p.s[p.i:j])
		}
		if j < len(p.s) && (p.s[j] == 'L' || p.s[j] == 'l') { // Python 2 long
			j++
		}
		p.i = j
		return n, nil
	default:
		for _, w := range []struct {
			word string
			v    any
		}{{"True", true}, {"False", false}, {"None", nil}} {
			if strings.HasPrefix(p.s[p.i:], w.word) {
				p.i += len(w.word)
				return w.v, nil
			}
		}
		return nil, fmt.Errorf("unexpected %q", p.rest())
	}
}

// separator consumes a ',' or stops before end.
func (p *pyParser) separator(end byte) error {
	p.skipSpace()
	if p.i < len(p.s) {
		switch p.s[p.i] {
		case ',':
			p.i++
			return nil
		case end:
			return nil
		}
	}
	return fmt.Errorf("want ',' or %q, got %q", end, p.rest())
}

// swap reverses the bytes of each size-byte element of b in place.
func swap(b []byte, size int) {
	switch size {
	case 2:
		for i := 0; i+2 <= len(b); i += 2 {
			binary.LittleEndian.PutUint16(b[i:], bits.ReverseBytes16(binary.LittleEndian.Uint16(b[i:])))
		}
	case 4:
		for i := 0; i+4 <= len(b); i += 4 {
			binary.LittleEndian.PutUint32(b[i:], bits.ReverseBytes32(binary.LittleEndian.Uint32(b[i:])))
		}
	case 8:
		for i := 0; i+8 <= len(b); i += 8 {
			binary.LittleEndian.PutUint64(b[i:], bits.ReverseBytes64(binary.LittleEndian.Uint64(b[i:])))
		}
	}
}

// decode converts len(dst) little-endian elements of type dt from src.
func decode(dst []float64, src []byte, dt dtype) {
	le := binary.LittleEndian
	switch int(dt.kind)<<8 | dt.size {
	case 'f'<<8 | 2:
		for i := range dst {
			dst[i] = half.Float16frombits(le.Uint16(src[2*i:]))
		}
	case 'f'<<8 | 4:
		src = src[:4*len(dst)]
		for i := range dst {
			dst[i] = float64(math.Float32frombits(le.Uint32(src[4*i:])))
		}
	case 'f'<<8 | 8:
		src = src[:8*len(dst)]
		for i := range dst {
			dst[i] = math.Float64frombits(le.Uint64(src[8*i:]))
		}
	case 'i'<<8 | 1:
		src = src[:len(dst)]
		for i, b := range src {
			dst[i] = float64(int8(b))
		}
	case 'i'<<8 | 2:
		for i := range dst {
			dst[i] = float64(int16(le.Uint16(src[2*i:])))
		}
	case 'i'<<8 | 4:
		for i := range dst {
			dst[i] = float64(int32(le.Uint32(src[4*i:])))
		}
	case 'i'<<8 | 8:
		for i := range dst {
			dst[i] = float64(int64(le.Uint64(src[8*i:])))
		}
	case 'u'<<8 | 1:
		src = src[:len(dst)]
		for i, b := range src {
			dst[i] = float64(b)
		}
	case 'u'<<8 | 2:
		for i := range dst {
			dst[i] = float64(le.Uint16(src[2*i:]))
		}
	case 'u'<<8 | 4:
		for i := range dst {
			dst[i] = float64(le.Uint32(src[4*i:]))
		}
	case 'u'<<8 | 8:
		for i := range dst {
			dst[i] = float64(le.Uint64(src[8*i:]))
		}
	case 'b'<<8 | 1:
		src = src[:len(dst)]
		for i, b := range src {
			dst[i] = 0
			if b != 0 {
				dst[i] = 1
			}
		}
	default:
		panic("npz: internal error: no conversion for dtype " + dt.name)
	}
}

// fromFortran converts the little-endian elements of type dt in raw,
// stored in Fortran order for the given shape, to dst in C order.
func fromFortran(dst []float64, raw []byte, dt dtype, shape []int) {
	k := len(shape)
	if len(dst) == 0 {
		return
	}
	// stride[q] is the distance in elements between neighbours along axis q
	// in Fortran order.
	stride := make([]int, k)
	s := 1
	for q := range shape {
		stride[q] = s
		s *= shape[q]
	}
	inner, step := shape[k-1], stride[k-1]
	idx := make([]int, k-1) // C-order odometer over all axes but the last
	one := make([]float64, 1)
	sz := dt.size
	for i := 0; i < len(dst); i += inner {
		o := 0
		for q, v := range idx {
			o += v * stride[q]
		}
		for j := range inner {
			e := (o + j*step) * sz
			decode(one, raw[e:e+sz], dt)
			dst[i+j] = one[0]
		}
		for q := len(idx) - 1; q >= 0; q-- {
			idx[q]++
			if idx[q] < shape[q] {
				break
			}
			idx[q] = 0
		}
	}
}
