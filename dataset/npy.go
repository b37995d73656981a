package dataset

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// npyMagic starts every .npy file.
const npyMagic = "\x93NUMPY"

// maxHeaderLen bounds the header dictionary; NumPy itself refuses headers
// over 10000 bytes by default.
const maxHeaderLen = 1 << 20

// dtype is a NumPy element type this package can convert to float64.
type dtype struct {
	descr   string // as written in the header, e.g. "<f4"
	name    string // NumPy's name, e.g. "float32"
	kind    byte   // 'f', 'i', 'u' or 'b'
	size    int    // bytes per element
	big     bool   // big-endian
	integer bool   // kind is 'i', 'u' or 'b'
}

// array is a .npy array whose data have been read but not yet converted.
type array struct {
	dt      dtype
	shape   []int // as declared, outermost first
	fortran bool  // data are stored in column-major (Fortran) order
	raw     []byte
}

// parseDescr parses a dtype string such as "<f4" or "|u1".
func parseDescr(descr string) (dtype, error) {
	dt := dtype{descr: descr}
	s := descr
	if s != "" {
		switch s[0] {
		case '<', '|', '=':
			s = s[1:]
		case '>':
			dt.big = true
			s = s[1:]
		}
	}
	if s == "" {
		return dt, errorf(ErrFormat, "malformed dtype %q", descr)
	}
	dt.kind = s[0]
	rest := strings.TrimLeft(s[1:], "0123456789")
	size, _ := strconv.Atoi(s[1 : len(s)-len(rest)])
	dt.size = size
	if rest != "" { // e.g. "<M8[ns]"
		dt.kind = 0
		if s[0] == 'M' || s[0] == 'm' {
			dt.kind = s[0]
		}
	}
	switch {
	case dt.kind == 'f' && (size == 2 || size == 4 || size == 8):
		dt.name = "float" + strconv.Itoa(8*size)
		return dt, nil
	case dt.kind == 'i' && (size == 1 || size == 2 || size == 4 || size == 8):
		dt.name = "int" + strconv.Itoa(8*size)
		dt.integer = true
		return dt, nil
	case dt.kind == 'u' && (size == 1 || size == 2 || size == 4 || size == 8):
		dt.name = "uint" + strconv.Itoa(8*size)
		dt.integer = true
		return dt, nil
	case dt.kind == 'b' && size == 1:
		dt.name = "bool"
		dt.integer = true
		return dt, nil
	}
	var name, why string
	switch dt.kind {
	case 'f':
		name = "float" + strconv.Itoa(8*size)
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
	return dt, errorf(ErrDType, "unsupported dtype %s (%q): want bool, integer or float values%s", name, descr, why)
}

// readNPY reads a .npy stream that holds at most avail bytes. It checks the
// size the header declares against avail before it allocates the data.
func readNPY(r io.Reader, avail int64) (*array, error) {
	var pre [10]byte
	if _, err := io.ReadFull(r, pre[:8]); err != nil {
		return nil, truncated(err, "reading the .npy preamble")
	}
	if string(pre[:6]) != npyMagic {
		return nil, errorf(ErrFormat, "not a .npy array (no %q magic)", npyMagic)
	}
	major := pre[6]
	var hlen, off int64
	switch major {
	case 1:
		if _, err := io.ReadFull(r, pre[8:10]); err != nil {
			return nil, truncated(err, "reading the .npy header length")
		}
		hlen, off = int64(binary.LittleEndian.Uint16(pre[8:10])), 10
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, truncated(err, "reading the .npy header length")
		}
		hlen, off = int64(binary.LittleEndian.Uint32(b[:])), 12
	default:
		return nil, errorf(ErrFormat, "unsupported .npy format version %d.%d", major, pre[7])
	}
	if hlen > maxHeaderLen || off+hlen > avail {
		return nil, errorf(ErrFormat, "the .npy header claims %d bytes, only %d are present in all", hlen, avail)
	}
	hdr := make([]byte, hlen)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, truncated(err, "reading the .npy header")
	}
	a, err := parseHeader(string(hdr))
	if err != nil {
		return nil, err
	}

	count := 1
	for _, d := range a.shape {
		if d != 0 && count > math.MaxInt/d {
			return nil, errorf(ErrFormat, "shape %v is too large", a.shape)
		}
		count *= d
	}
	if count > math.MaxInt/a.dt.size {
		return nil, errorf(ErrFormat, "shape %v is too large", a.shape)
	}
	need := int64(count * a.dt.size)
	if have := avail - off - hlen; need > have {
		return nil, errorf(ErrFormat, "truncated: shape %v of %s needs %d bytes of data, only %d are present", a.shape, a.dt.name, need, have)
	}
	a.raw, err = readN(r, int(need))
	if err != nil {
		return nil, truncated(err, fmt.Sprintf("reading %d bytes of data", need))
	}
	return a, nil
}

// readN reads exactly n bytes from r. It allocates as data arrive rather
// than all at once, so a stream that lies about its length costs no more
// memory than it holds.
func readN(r io.Reader, n int) ([]byte, error) {
	const chunk = 64 << 20
	buf := make([]byte, 0, min(n, chunk))
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
		return errorf(ErrFormat, "truncated: end of data while %s", doing)
	}
	return &kindError{msg: doing + ": " + err.Error(), kind: ErrFormat, cause: err}
}

// parseHeader parses the Python dict literal of a .npy header.
func parseHeader(h string) (*array, error) {
	p := &pyParser{s: h}
	v, err := p.value()
	if err == nil {
		p.skipSpace()
		if p.i != len(p.s) {
			err = fmt.Errorf("unexpected %q after the dictionary", p.rest())
		}
	}
	if err != nil {
		return nil, errorf(ErrFormat, "malformed .npy header %q: %v", shorten(h), err)
	}
	d, ok := v.(map[string]any)
	if !ok {
		return nil, errorf(ErrFormat, "malformed .npy header %q: not a dictionary", shorten(h))
	}
	a := &array{}
	switch descr := d["descr"].(type) {
	case string:
		if a.dt, err = parseDescr(descr); err != nil {
			return nil, err
		}
	case []any:
		return nil, errorf(ErrDType, "unsupported structured (record) dtype: want bool, integer or float values")
	default:
		return nil, errorf(ErrFormat, "malformed .npy header %q: no 'descr' string", shorten(h))
	}
	if a.fortran, ok = d["fortran_order"].(bool); !ok {
		return nil, errorf(ErrFormat, "malformed .npy header %q: no 'fortran_order' True or False", shorten(h))
	}
	shape, ok := d["shape"].([]any)
	if !ok {
		return nil, errorf(ErrFormat, "malformed .npy header %q: no 'shape' tuple", shorten(h))
	}
	a.shape = make([]int, len(shape))
	for i, s := range shape {
		n, ok := s.(int)
		if !ok || n < 0 {
			return nil, errorf(ErrFormat, "malformed .npy header %q: bad dimension %v in 'shape'", shorten(h), s)
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

// rowLen is the number of elements in one sample (one index of the first axis).
func (a *array) rowLen() int {
	m := 1
	for _, d := range a.shape[1:] {
		m *= d
	}
	return m
}

// rows converts the samples at the given indices of the first axis to
// float64 in C (row-major) order; rows(nil) converts all of them.
func (a *array) rows(idx []int) []float64 {
	n, m := a.shape[0], a.rowLen()
	if idx == nil {
		idx = make([]int, n)
		for i := range idx {
			idx[i] = i
		}
	}
	out := make([]float64, len(idx)*m)
	if !a.fortran || len(a.shape) == 1 {
		if len(idx) == n && m > 0 { // all samples: one contiguous run
			decode(out, a.raw, a.dt)
			return out
		}
		rb := m * a.dt.size
		for k, r := range idx {
			decode(out[k*m:(k+1)*m], a.raw[r*rb:(r+1)*rb], a.dt)
		}
		return out
	}
	// Fortran order: element (i0, i1, ..., ik) lies at i0 + n*(i1 + d1*(i2 + ...)).
	// off[j] is the offset of the j-th element of a sample in C order.
	off := make([]int, m)
	idxs := make([]int, len(a.shape)-1)
	strides := make([]int, len(a.shape)-1)
	s := n
	for j := range strides {
		strides[j] = s
		s *= a.shape[j+1]
	}
	for j := range off {
		o := 0
		for q, v := range idxs {
			o += v * strides[q]
		}
		off[j] = o
		for q := len(idxs) - 1; q >= 0; q-- { // C-order odometer
			idxs[q]++
			if idxs[q] < a.shape[q+1] {
				break
			}
			idxs[q] = 0
		}
	}
	at := elemFunc(a.dt)
	sz := a.dt.size
	for k, r := range idx {
		dst := out[k*m : (k+1)*m]
		for j, o := range off {
			e := (r + o) * sz
			dst[j] = at(a.raw[e : e+sz])
		}
	}
	return out
}

// decode converts len(dst) elements of type dt from src.
func decode(dst []float64, src []byte, dt dtype) {
	var bo binary.ByteOrder = binary.LittleEndian
	if dt.big {
		bo = binary.BigEndian
	}
	switch int(dt.kind)<<8 | dt.size {
	case 'f'<<8 | 4:
		for i := range dst {
			dst[i] = float64(math.Float32frombits(bo.Uint32(src[4*i:])))
		}
	case 'f'<<8 | 8:
		for i := range dst {
			dst[i] = math.Float64frombits(bo.Uint64(src[8*i:]))
		}
	case 'u'<<8 | 1:
		for i := range dst {
			dst[i] = float64(src[i])
		}
	case 'i'<<8 | 8:
		for i := range dst {
			dst[i] = float64(int64(bo.Uint64(src[8*i:])))
		}
	default:
		at := elemFunc(dt)
		sz := dt.size
		for i := range dst {
			dst[i] = at(src[sz*i : sz*i+sz])
		}
	}
}

// elemFunc returns a function that converts one element of type dt.
func elemFunc(dt dtype) func([]byte) float64 {
	var bo binary.ByteOrder = binary.LittleEndian
	if dt.big {
		bo = binary.BigEndian
	}
	switch int(dt.kind)<<8 | dt.size {
	case 'f'<<8 | 2:
		return func(b []byte) float64 { return half(bo.Uint16(b)) }
	case 'f'<<8 | 4:
		return func(b []byte) float64 { return float64(math.Float32frombits(bo.Uint32(b))) }
	case 'f'<<8 | 8:
		return func(b []byte) float64 { return math.Float64frombits(bo.Uint64(b)) }
	case 'i'<<8 | 1:
		return func(b []byte) float64 { return float64(int8(b[0])) }
	case 'i'<<8 | 2:
		return func(b []byte) float64 { return float64(int16(bo.Uint16(b))) }
	case 'i'<<8 | 4:
		return func(b []byte) float64 { return float64(int32(bo.Uint32(b))) }
	case 'i'<<8 | 8:
		return func(b []byte) float64 { return float64(int64(bo.Uint64(b))) }
	case 'u'<<8 | 1:
		return func(b []byte) float64 { return float64(b[0]) }
	case 'u'<<8 | 2:
		return func(b []byte) float64 { return float64(bo.Uint16(b)) }
	case 'u'<<8 | 4:
		return func(b []byte) float64 { return float64(bo.Uint32(b)) }
	case 'u'<<8 | 8:
		return func(b []byte) float64 { return float64(bo.Uint64(b)) }
	case 'b'<<8 | 1:
		return func(b []byte) float64 {
			if b[0] != 0 {
				return 1
			}
			return 0
		}
	}
	panic("dataset: internal error: no conversion for dtype " + dt.descr)
}

// half converts IEEE 754 binary16 bits to float64.
func half(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	frac := float64(h & 0x3ff)
	switch exp {
	case 0: // zero or subnormal
		return sign * math.Ldexp(frac, -24)
	case 0x1f:
		if frac != 0 {
			return math.NaN()
		}
		return math.Inf(int(sign))
	}
	return sign * math.Ldexp(1024+frac, exp-25)
}
