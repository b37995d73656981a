package onnx

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/lsweep/lsweep/internal/onnxpb"
	"google.golang.org/protobuf/encoding/protowire"
)

// Patcher holds one marshalled copy of a model in which chosen tensors can be
// overwritten in place. Patching costs a write of the new values' bytes; the
// model is marshalled once, when the Patcher is made.
//
// A Patcher is not safe for concurrent use.
type Patcher struct {
	buf   []byte
	slots map[string]slot
	// copies holds the transposed copy of a tensor that FoldTransposes
	// added beside it, written with it.
	copies map[string]slot
	names  []string
	// target holds the tensors' bytes that slots point into: buf, or for a
	// file patcher (NewFilePatcher) data, the shared map of dataPath.
	target   []byte
	data     []byte
	dataPath string
}

type slot struct {
	off, n int // element offset in buf and element count
	dtype  DataType
	// rows, cols > 0: a [rows, cols] tensor stored transposed, as
	// [cols, rows] (PatcherOptions.FoldTransposes).
	rows, cols int
}

// PatcherOptions chooses how a Patcher stores the tensors it sets.
type PatcherOptions struct {
	// File, if not "", keeps the tensors in a file of that path rather than
	// in the model bytes (see NewFilePatcher).
	File string
	// FoldTransposes stores each 2-D tensor that Transpose nodes reverse
	// transposed, those nodes becoming Identity, so that ONNX Runtime does
	// not transpose it again at every session (see foldTransposes). Values
	// are set in the tensor's own layout all the same. For model bytes
	// that sessions are made from, not for bytes read back as a model.
	FoldTransposes bool
}

// NewPatcherWith is NewPatcher, or NewFilePatcher with opts.File, with the
// storage opts chooses.
func (m *Model) NewPatcherWith(names []string, opts PatcherOptions) (*Patcher, error) {
	if opts.File != "" {
		return m.newFilePatcher(names, opts)
	}
	return m.newPatcher(names, opts)
}

// NewPatcher returns a Patcher for the named stored tensors (initializers or
// Constant-node values, all of a float type). It rewrites them, in a copy of
// the model, as raw_data (whatever their storage was: typed fields or
// external data), marshals the copy once and records where each tensor's
// bytes lie. m itself is not changed. Tensors left in external files stay
// there: the bytes refer to them relative to m.Dir.
func (m *Model) NewPatcher(names []string) (*Patcher, error) {
	return m.newPatcher(names, PatcherOptions{})
}

func (m *Model) newPatcher(names []string, opts PatcherOptions) (*Patcher, error) {
	pw, err := m.newPatchWork(names, opts)
	if err != nil {
		return nil, err
	}
	want := make(map[string]bool, len(names))
	// The copy is marshalled with zeros for the tensors' bytes, all slices
	// of one buffer, and each tensor's values are then written into its
	// slot: a model of hundreds of megabytes is held once, in the Patcher,
	// not also in the copy while it is marshalled.
	largest := 0
	for _, name := range names {
		largest = max(largest, pw.sizes[name])
		want[name] = true
	}
	zeros := make([]byte, largest)
	for _, name := range names {
		t := pw.tensors[name]
		t.FloatData, t.DoubleData, t.Int32Data = nil, nil, nil
		t.ExternalData, t.DataLocation = nil, nil
		t.RawData = zeros[:pw.sizes[name]]
		if c := pw.folded[name]; c != "" && c != name {
			pw.ix.inits[c].RawData = t.RawData
			want[c] = true
		}
	}
	buf, err := pw.work.Marshal()
	if err != nil {
		return nil, err
	}
	p := &Patcher{buf: buf, target: buf, slots: make(map[string]slot, len(names)), copies: make(map[string]slot), names: append([]string(nil), names...)}
	if err := p.locate(want); err != nil {
		return nil, fmt.Errorf("onnx: %s: %w", m.Path, err)
	}
	if err := p.setUp(m, pw.folded); err != nil {
		return nil, err
	}
	return p, nil
}

// patchWork is what both patchers start from: a copy of the model to
// rewrite, its index, the tensors to patch in it and their sizes in bytes,
// and with PatcherOptions.FoldTransposes the tensors stored transposed
// (foldTransposes' map).
type patchWork struct {
	work    *Model
	ix      *graphIndex
	tensors map[string]*onnxpb.TensorProto
	sizes   map[string]int
	folded  map[string]string
}

func (m *Model) newPatchWork(names []string, opts PatcherOptions) (*patchWork, error) {
	pw := &patchWork{work: m.Clone()}
	pw.ix = newGraphIndex(pw.work)
	var err error
	if pw.tensors, pw.sizes, err = pw.work.patchable(pw.ix, names); err != nil {
		return nil, err
	}
	if opts.FoldTransposes {
		pw.folded = foldTransposes(pw.work, pw.ix, names)
	}
	return pw, nil
}

// setUp finishes a Patcher whose slots hold the place of every tensor it
// patches and of every transposed copy (under the copy's name): it marks
// the tensors stored transposed, moves the copies' slots to p.copies and
// writes m's values into them all, releasing each tensor's pages as it
// goes.
func (p *Patcher) setUp(m *Model, folded map[string]string) error {
	orig := newGraphIndex(m)
	for name, c := range folded {
		s, ok := p.slots[c]
		if !ok {
			return fmt.Errorf("onnx: %s: tensor %q not found in the marshalled model", m.Path, c)
		}
		d := orig.stored(name).GetDims()
		s.rows, s.cols = int(d[0]), int(d[1])
		if c == name {
			p.slots[name] = s
		} else {
			p.copies[name] = s
			delete(p.slots, c)
		}
	}
	for _, name := range p.names {
		if _, ok := p.slots[name]; !ok {
			return fmt.Errorf("onnx: %s: tensor %q not found in the marshalled model", m.Path, name)
		}
		values, err := m.readTensor(orig.stored(name))
		if err != nil {
			return err
		}
		if err := p.Set(name, values); err != nil {
			return fmt.Errorf("onnx: %s: %w", m.Path, err)
		}
		p.Release(name)
	}
	return nil
}

// patchable returns the stored tensors of m named names, in the graph that
// ix indexes, and their sizes in bytes, or an error naming one that is
// missing, not of a float type or unreadable. Each is read and dropped: the
// size comes from data that are there, not from a declared shape alone.
func (m *Model) patchable(ix *graphIndex, names []string) (map[string]*onnxpb.TensorProto, map[string]int, error) {
	tensors := make(map[string]*onnxpb.TensorProto, len(names))
	sizes := make(map[string]int, len(names))
	for _, name := range names {
		t := ix.stored(name)
		if t == nil {
			return nil, nil, fmt.Errorf("onnx: %s: no initializer or Constant value named %q", m.Path, name)
		}
		dt := DataType(t.GetDataType())
		if !dt.IsFloat() {
			return nil, nil, fmt.Errorf("onnx: %s: tensor %q is %v, not a float type", m.Path, name, dt)
		}
		values, err := m.readTensor(t)
		if err != nil {
			return nil, nil, err
		}
		tensors[name], sizes[name] = t, len(values)*dt.Size()
	}
	return tensors, sizes, nil
}

// Names returns the tensors the Patcher can set, in the order given.
func (p *Patcher) Names() []string { return p.names }

// Set overwrites the named tensor's values. len(values) must equal its
// element count. Values are rounded to the tensor's element type.
func (p *Patcher) Set(name string, values []float64) error {
	s, ok := p.slots[name]
	if !ok {
		return fmt.Errorf("onnx: patch: no tensor %q", name)
	}
	if len(values) != s.n {
		return fmt.Errorf("onnx: patch: tensor %q has %d elements, got %d values", name, s.n, len(values))
	}
	return p.SetFunc(name, func(lo int, dst []float64) { copy(dst, values[lo:]) })
}

// patchChunk is how many values SetFunc computes at a time: small enough
// that a tensor of tens of millions of values is written without a copy of
// its own, large enough that the calls cost nothing.
const patchChunk = 1 << 14

// transposedChunk is about how many values SetFunc computes at a time for
// a tensor stored transposed: whole rows, enough of them that each column
// of the chunk is a run of bytes long enough to write at memory speed.
const transposedChunk = 1 << 18

// SetFunc overwrites the named tensor's values with those fill computes:
// fill(lo, dst) sets dst[i] to the value of element lo+i, for consecutive
// chunks of the tensor. Values are rounded to the tensor's element type, as
// Set rounds them; SetFunc needs no slice of the whole tensor.
func (p *Patcher) SetFunc(name string, fill func(lo int, dst []float64)) error {
	s, ok := p.slots[name]
	if !ok {
		return fmt.Errorf("onnx: patch: no tensor %q", name)
	}
	c, copied := p.copies[name]
	step := patchChunk
	if cols := max(s.cols, c.cols); cols > 0 {
		step = max(1, transposedChunk/cols) * cols
	}
	if p.data != nil {
		p.populate(s)
		if copied {
			p.populate(c)
		}
	}
	chunk := make([]float64, min(step, s.n))
	for lo := 0; lo < s.n; lo += step {
		dst := chunk[:min(step, s.n-lo)]
		fill(lo, dst)
		p.write(s, lo, dst)
		if copied {
			p.write(c, lo, dst)
		}
	}
	return nil
}

// write encodes values lo, lo+1, ... of slot s (whole rows when it is
// stored transposed).
func (p *Patcher) write(s slot, lo int, values []float64) {
	size := s.dtype.Size()
	if s.cols == 0 {
		off := s.off + lo*size
		EncodeFloat(p.target[off:off+len(values)*size], s.dtype, values)
		return
	}
	// Column c of the chunk's rows is one run of the stored [cols, rows];
	// tiles of tile x tile values keep both the reads and the writes
	// within a few cache lines at a time.
	const tile = 32
	r0, rows := lo/s.cols, len(values)/s.cols
	for c0 := 0; c0 < s.cols; c0 += tile {
		for t0 := 0; t0 < rows; t0 += tile {
			t1 := min(t0+tile, rows)
			for c := c0; c < min(c0+tile, s.cols); c++ {
				off := s.off + (c*s.rows+r0+t0)*size
				run := p.target[off : off+(t1-t0)*size]
				if s.dtype == Float {
					for r := t0; r < t1; r++ {
						binary.LittleEndian.PutUint32(run[4*(r-t0):], math.Float32bits(float32(values[r*s.cols+c])))
					}
					continue
				}
				for r := t0; r < t1; r++ {
					EncodeFloat(run[(r-t0)*size:(r-t0+1)*size], s.dtype, values[r*s.cols+c:][:1])
				}
			}
		}
	}
}

// Len returns the element count of a tensor the Patcher can set, and false
// for a name it cannot.
func (p *Patcher) Len(name string) (int, bool) {
	s, ok := p.slots[name]
	return s.n, ok
}

// Bytes returns the model bytes with every Set so far applied. The slice is
// shared: it changes with the next Set.
func (p *Patcher) Bytes() []byte { return p.buf }

// Field numbers of the messages the walk below passes through.
const (
	fieldModelGraph       = 7
	fieldGraphNode        = 1
	fieldGraphInitializer = 5
	fieldNodeOutput       = 2
	fieldNodeOpType       = 4
	fieldNodeAttribute    = 5
	fieldAttrName         = 1
	fieldAttrTensor       = 5
	fieldTensorDataType   = 2
	fieldTensorName       = 8
	fieldTensorRawData    = 9
)

// fieldVisitor is called for every field of a message with the field's
// number, wire type, its value bytes (for length-delimited fields) and the
// offset of those bytes in the whole buffer.
type fieldVisitor func(num protowire.Number, typ protowire.Type, val []byte, off int) error

// walkMessage calls visit for each field of the message msg, which starts at
// offset base of the whole buffer.
func walkMessage(msg []byte, base int, visit fieldVisitor) error {
	pos := 0
	for pos < len(msg) {
		num, typ, n := protowire.ConsumeTag(msg[pos:])
		if n < 0 {
			return fmt.Errorf("malformed protobuf at byte %d", base+pos)
		}
		pos += n
		if typ == protowire.BytesType {
			val, m := protowire.ConsumeBytes(msg[pos:])
			if m < 0 {
				return fmt.Errorf("malformed protobuf at byte %d", base+pos)
			}
			valOff := base + pos + m - len(val)
			if err := visit(num, typ, val, valOff); err != nil {
				return err
			}
			pos += m
			continue
		}
		m := protowire.ConsumeFieldValue(num, typ, msg[pos:])
		if m < 0 {
			return fmt.Errorf("malformed protobuf at byte %d", base+pos)
		}
		pos += m
	}
	return nil
}

// tensorSlot finds the raw_data of a marshalled TensorProto.
func tensorSlot(msg []byte, base int) (name string, s slot, err error) {
	s.off = -1
	s.dtype = Undefined
	var rawLen int
	err = walkMessage(msg, base, func(num protowire.Number, typ protowire.Type, val []byte, off int) error {
		switch num {
		case fieldTensorName:
			name = string(val)
		case fieldTensorRawData:
			s.off, rawLen = off, len(val)
		}
		return nil
	})
	if err != nil {
		return
	}
	// data_type is a varint, which walkMessage skips; read it directly.
	for pos := 0; pos < len(msg); {
		num, typ, n := protowire.ConsumeTag(msg[pos:])
		pos += n
		if num == fieldTensorDataType && typ == protowire.VarintType {
			v, m := protowire.ConsumeVarint(msg[pos:])
			s.dtype = DataType(v)
			pos += m
			continue
		}
		pos += protowire.ConsumeFieldValue(num, typ, msg[pos:])
	}
	if size := s.dtype.Size(); size > 0 {
		s.n = rawLen / size
	}
	return
}

// locate walks the marshalled model and records the raw_data slot of each
// wanted tensor.
func (p *Patcher) locate(want map[string]bool) error {
	return walkMessage(p.buf, 0, func(num protowire.Number, _ protowire.Type, graph []byte, goff int) error {
		if num != fieldModelGraph {
			return nil
		}
		return walkMessage(graph, goff, func(num protowire.Number, _ protowire.Type, val []byte, off int) error {
			switch num {
			case fieldGraphInitializer:
				name, s, err := tensorSlot(val, off)
				if err != nil {
					return err
				}
				if want[name] && s.off >= 0 {
					p.slots[name] = s
				}
			case fieldGraphNode:
				return p.locateConstant(val, off, want)
			}
			return nil
		})
	})
}

// locateConstant records the slot of a Constant node's value tensor when its
// output is wanted.
func (p *Patcher) locateConstant(node []byte, base int, want map[string]bool) error {
	var opType, output string
	var valueTensor []byte
	valueOff := -1
	err := walkMessage(node, base, func(num protowire.Number, _ protowire.Type, val []byte, off int) error {
		switch num {
		case fieldNodeOpType:
			opType = string(val)
		case fieldNodeOutput:
			if output == "" {
				output = string(val)
			}
		case fieldNodeAttribute:
			var name string
			var t []byte
			tOff := -1
			if err := walkMessage(val, off, func(num protowire.Number, _ protowire.Type, v []byte, o int) error {
				switch num {
				case fieldAttrName:
					name = string(v)
				case fieldAttrTensor:
					t, tOff = v, o
				}
				return nil
			}); err != nil {
				return err
			}
			if name == "value" && tOff >= 0 {
				valueTensor, valueOff = t, tOff
			}
		}
		return nil
	})
	if err != nil || opType != "Constant" || !want[output] || valueOff < 0 {
		return err
	}
	_, s, err := tensorSlot(valueTensor, valueOff)
	if err != nil {
		return err
	}
	if s.off >= 0 {
		p.slots[output] = s
	}
	return nil
}
