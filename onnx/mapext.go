package onnx

import (
	"errors"
	"os"
	"unsafe"

	"github.com/lsweep/lsweep/internal/mmapfile"
	"github.com/lsweep/lsweep/internal/onnxpb"
)

// External holds float32 tensors of a model in place in its external-data
// files, mapped into memory (copy-on-write: a write to a view changes
// neither the file nor other processes' view): for a large model's base
// weights the page cache then holds them, not the process. Tensors that
// are not in an external file, not float32, or not at an offset a float32
// can be read from have no view; their values are read as Value reads
// them.
type External struct {
	maps  map[string][]byte // by file
	views map[string][]float32
}

// MapExternal maps the external-data files of the named tensors (see
// External). Where files cannot be mapped, or the machine is not
// little-endian as the files are, it returns an External without views.
// The caller must Close it, and not use the views after that.
func (m *Model) MapExternal(names []string) (*External, error) {
	x := &External{maps: map[string][]byte{}, views: map[string][]float32{}}
	if !mmapfile.LittleEndian() {
		return x, nil
	}
	ix := newGraphIndex(m)
	for _, name := range names {
		t := ix.stored(name)
		if t == nil || t.GetDataLocation() != onnxpb.TensorProto_EXTERNAL || DataType(t.GetDataType()) != Float {
			continue
		}
		ref, want, err := m.externalSpan(t)
		if err != nil {
			x.Close()
			return nil, err
		}
		if ref.offset%4 != 0 || want == 0 {
			continue
		}
		data, ok := x.maps[ref.path]
		if !ok {
			f, err := os.Open(ref.path)
			if err != nil {
				x.Close()
				return nil, m.tensorErr(t, "external data: %v", err)
			}
			data, err = mmapfile.Map(f, ref.size, false)
			f.Close()
			if errors.Is(err, errors.ErrUnsupported) {
				return x, nil
			}
			if err != nil {
				x.Close()
				return nil, m.tensorErr(t, "external data: %v", err)
			}
			x.maps[ref.path] = data
		}
		x.views[name] = unsafe.Slice((*float32)(unsafe.Pointer(&data[ref.offset])), want/4)
	}
	return x, nil
}

// Float32 returns the named tensor's values in place, if it has a view (a
// nil External has none).
func (x *External) Float32(name string) ([]float32, bool) {
	if x == nil {
		return nil, false
	}
	v, ok := x.views[name]
	return v, ok
}

// Release lets the system drop the pages that hold the named tensor's
// view from the process's memory; they are read again from the file when
// next used.
func (x *External) Release(name string) {
	if x == nil {
		return
	}
	v, ok := x.views[name]
	if !ok || len(v) == 0 {
		return
	}
	lo := uintptr(unsafe.Pointer(&v[0]))
	for _, data := range x.maps {
		base := uintptr(unsafe.Pointer(&data[0]))
		if lo >= base && lo < base+uintptr(len(data)) {
			start, end := mmapfile.PageRange(int(lo-base), int(lo-base)+4*len(v), len(data))
			mmapfile.Release(data[start:end])
			return
		}
	}
}

// Close unmaps the files.
func (x *External) Close() error {
	if x == nil {
		return nil
	}
	var err error
	for path, data := range x.maps {
		if uerr := mmapfile.Unmap(data); err == nil {
			err = uerr
		}
		delete(x.maps, path)
	}
	x.views = map[string][]float32{}
	return err
}
