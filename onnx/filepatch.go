package onnx

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/lsweep/lsweep/internal/mmapfile"
	"github.com/lsweep/lsweep/internal/onnxpb"
)

// dataAlign is where each tensor starts in a file patcher's data file: a
// multiple of 64 bytes, as ONNX's own external-data writers can be asked
// to do, so that every element is aligned whatever its type.
const dataAlign = 64

// NewFilePatcher is NewPatcher with the named tensors' bytes kept in a file
// of their own, dataPath, instead of in the model bytes: the model refers to
// them as external data (their location is the file's name), and Set and
// SetFunc write them into the file through a shared memory map. The
// system's page cache then holds the weights rather than the process, and
// ONNX Runtime, loading Bytes with Dir as its external-data folder, reads
// them when it makes a session: for a model of hundreds of megabytes, one
// copy of the weights fewer in memory. Tensors that were in other external
// files are put into the model bytes, so that Dir is the one folder the
// model refers to. The file is created (it must not exist) and Close
// removes it. Where files cannot be mapped, the error matches
// errors.ErrUnsupported: use NewPatcher.
func (m *Model) NewFilePatcher(names []string, dataPath string) (p *Patcher, err error) {
	return m.newFilePatcher(names, PatcherOptions{File: dataPath})
}

func (m *Model) newFilePatcher(names []string, opts PatcherOptions) (p *Patcher, err error) {
	dataPath := opts.File
	pw, err := m.newPatchWork(names, opts)
	if err != nil {
		return nil, err
	}
	work, ix := pw.work, pw.ix
	// Each tensor's place in the data file (and its transposed copy's,
	// under the copy's name), as slots of the Patcher.
	slots := make(map[string]slot, len(names))
	moved := make(map[*onnxpb.TensorProto]bool, len(names))
	location := filepath.Base(dataPath)
	size := 0
	place := func(t *onnxpb.TensorProto, n int) int {
		size = (size + dataAlign - 1) / dataAlign * dataAlign
		off := size
		t.FloatData, t.DoubleData, t.Int32Data, t.RawData = nil, nil, nil, nil
		t.DataLocation = onnxpb.TensorProto_EXTERNAL.Enum()
		t.ExternalData = []*onnxpb.StringStringEntryProto{
			{Key: ptr("location"), Value: ptr(location)},
			{Key: ptr("offset"), Value: ptr(strconv.Itoa(off))},
			{Key: ptr("length"), Value: ptr(strconv.Itoa(n))},
		}
		size += n
		moved[t] = true
		return off
	}
	for _, name := range names {
		t := pw.tensors[name]
		dt := DataType(t.GetDataType())
		slots[name] = slot{off: place(t, pw.sizes[name]), n: pw.sizes[name] / dt.Size(), dtype: dt}
		if c := pw.folded[name]; c != "" && c != name {
			slots[c] = slot{off: place(ix.inits[c], pw.sizes[name]), n: pw.sizes[name] / dt.Size(), dtype: dt}
		}
	}
	// Every other external tensor goes into the model bytes.
	inline := func(t *onnxpb.TensorProto) error {
		if moved[t] || t.GetDataLocation() != onnxpb.TensorProto_EXTERNAL {
			return nil
		}
		raw, err := work.readExternal(t)
		if err != nil {
			return err
		}
		t.ExternalData, t.DataLocation, t.RawData = nil, nil, raw
		return nil
	}
	for _, t := range work.graph().GetInitializer() {
		if err := inline(t); err != nil {
			return nil, err
		}
	}
	for _, t := range ix.constants {
		if err := inline(t); err != nil {
			return nil, err
		}
	}
	buf, err := work.Marshal()
	if err != nil {
		return nil, err
	}

	f, err := os.OpenFile(dataPath, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("onnx: %s: weights file: %w", m.Path, err)
	}
	defer f.Close()
	defer func() {
		if err != nil {
			os.Remove(dataPath)
		}
	}()
	if err := f.Truncate(int64(max(size, 1))); err != nil {
		return nil, fmt.Errorf("onnx: %s: weights file: %w", m.Path, err)
	}
	data, err := mmapfile.Map(f, int64(max(size, 1)), true)
	if err != nil {
		if errors.Is(err, errors.ErrUnsupported) {
			return nil, err
		}
		return nil, fmt.Errorf("onnx: %s: weights file %s: %w", m.Path, dataPath, err)
	}
	p = &Patcher{buf: buf, target: data, data: data, dataPath: dataPath, slots: slots, copies: make(map[string]slot), names: append([]string(nil), names...)}
	if err := p.setUp(m, pw.folded); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

func ptr(s string) *string { return &s }

// Dir returns the folder of the file that holds the tensors of a file
// patcher (NewFilePatcher), which ONNX Runtime must be given as the
// model's external-data folder; "" for a Patcher that holds them in the
// model bytes.
func (p *Patcher) Dir() string {
	if p.dataPath == "" {
		return ""
	}
	return filepath.Dir(p.dataPath)
}

// Release lets the system drop from the process's memory the pages of a
// file patcher's file that hold the named tensor, once it is written: the
// values stay in the file. Nothing for a Patcher that holds them in the
// model bytes.
func (p *Patcher) Release(name string) {
	s, ok := p.slots[name]
	if !ok || p.data == nil {
		return
	}
	for _, s := range []slot{s, p.copies[name]} {
		if s.n > 0 {
			lo, hi := mmapfile.PageRange(s.off, s.off+s.n*s.dtype.Size(), len(p.data))
			mmapfile.Release(p.data[lo:hi])
		}
	}
}

// populate faults in the pages of a file patcher's slot before they are
// written (see mmapfile.Populate).
func (p *Patcher) populate(s slot) {
	lo, hi := mmapfile.PageRange(s.off, s.off+s.n*s.dtype.Size(), len(p.data))
	mmapfile.Populate(p.data[lo:hi], true)
}

// Close unmaps and removes a file patcher's file; nothing for a Patcher
// that holds the tensors in the model bytes.
func (p *Patcher) Close() error {
	if p.data == nil {
		return nil
	}
	err := mmapfile.Unmap(p.data)
	p.data, p.target = nil, nil
	if rerr := os.Remove(p.dataPath); err == nil {
		err = rerr
	}
	return err
}
