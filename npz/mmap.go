package npz

import (
	"archive/zip"
	"bytes"
	"unsafe"

	"github.com/lsweep/lsweep/internal/mmapfile"
)

// Mapped is an .npz archive opened for reading large float32 arrays in
// place: the file is mapped into memory (copy-on-write, so a write to a
// returned slice changes neither the file nor other processes' view), and
// Float32 returns each array stored uncompressed, little-endian, in C order
// at an aligned offset (as WriteFile writes them) as a slice of that
// mapping. The pages belong to the file, not to the process's own memory:
// the kernel reads them as they are touched and may drop them when memory
// is short, and processes that map one file share them. Other arrays are
// read and converted as File.Read does.
type Mapped struct {
	*File
	data []byte // the whole file, mapped; nil where mapping is not available
}

// Map opens the .npz archive at path as Open does and maps it into memory.
// Where the system cannot map files, every array is read instead. The
// caller must Close the Mapped archive, and must not use the slices
// Float32 returned after that.
func Map(path string) (*Mapped, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	m := &Mapped{File: f}
	st, err := f.f.Stat()
	if err != nil {
		f.Close()
		return nil, &Error{Path: path, Err: pathErr(err)}
	}
	if st.Size() > 0 && mmapfile.LittleEndian() {
		// A failure to map is not an error: the arrays are read instead.
		m.data, _ = mmapfile.Map(f.f, st.Size(), false)
	}
	return m, nil
}

// Float32 returns the values of the array in the entry key (key+".npy" or
// key) as float32, in C order, with its shape; in place in the mapping when
// the entry allows it (stored, float32, little-endian, C order, aligned),
// otherwise converted from what File.Read returns, values beyond float32's
// range becoming ±Inf. In place, the entry's checksum is not verified.
// Errors are those of File.Read.
func (m *Mapped) Float32(key string) ([]float32, []int, error) {
	if v, shape, ok := m.view(key); ok {
		return v, shape, nil
	}
	a, err := m.Read(key)
	if err != nil {
		return nil, nil, err
	}
	v := make([]float32, len(a.Data))
	for i, x := range a.Data {
		v[i] = float32(x)
	}
	return v, a.Shape, nil
}

// InPlace reports whether Float32 returns the entry key as a view of the
// mapping.
func (m *Mapped) InPlace(key string) bool {
	_, _, ok := m.view(key)
	return ok
}

// view returns the entry's values in place, if it can.
func (m *Mapped) view(key string) ([]float32, []int, bool) {
	if m.data == nil {
		return nil, nil, false
	}
	zf, err := m.entry(key)
	if err != nil || zf.Method != zip.Store || zf.CompressedSize64 != zf.UncompressedSize64 {
		return nil, nil, false
	}
	off, err := zf.DataOffset()
	size := int64(zf.UncompressedSize64)
	if err != nil || off < 0 || off > int64(len(m.data)) || size > int64(len(m.data))-off {
		return nil, nil, false
	}
	r := bytes.NewReader(m.data[off : off+size])
	h, need, err := readHeader(r, size)
	if err != nil || h.dt.name != "float32" || h.big || h.fortran && !isVector(h.shape) {
		return nil, nil, false
	}
	start := off + size - int64(r.Len())
	if start%4 != 0 || need > int64(r.Len()) {
		return nil, nil, false
	}
	n := int(need / 4)
	if n == 0 {
		return []float32{}, h.shape, true
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&m.data[start])), n), h.shape, true
}

// Release lets the system drop the pages of the mapping that have been
// read, which then no longer count as the process's memory; they are read
// again from the file (normally still in the page cache) when next used.
// Slices Float32 returned stay valid. A write to one of them since it was
// returned is lost.
func (m *Mapped) Release() {
	if m.data != nil {
		mmapfile.Release(m.data)
	}
}

// ReleaseValues is Release for the pages that hold v, a slice Float32
// returned (or part of one); nothing for a slice that does not lie in the
// mapping.
func (m *Mapped) ReleaseValues(v []float32) {
	if m.data == nil || len(v) == 0 {
		return
	}
	base := uintptr(unsafe.Pointer(&m.data[0]))
	lo := uintptr(unsafe.Pointer(&v[0]))
	hi := lo + uintptr(len(v))*4
	if lo < base || hi > base+uintptr(len(m.data)) {
		return
	}
	// Whole pages around v: a neighbour's values on a shared page are read
	// again from the file when next used, which is all a release costs.
	start, end := mmapfile.PageRange(int(lo-base), int(hi-base), len(m.data))
	mmapfile.Release(m.data[start:end])
}

// Close unmaps and closes the archive.
func (m *Mapped) Close() error {
	var err error
	if m.data != nil {
		err = mmapfile.Unmap(m.data)
		m.data = nil
	}
	if cerr := m.File.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return &Error{Path: m.path, Err: err}
	}
	return nil
}
