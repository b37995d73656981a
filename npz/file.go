package npz

import (
	"archive/zip"
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"strings"
	"time"

	"github.com/lsweep/lsweep/internal/regularfile"

	"github.com/lsweep/lsweep/internal/atomicfile"
	"github.com/lsweep/lsweep/internal/errkind"
)

// maxDeflateRatio bounds how much deflate can expand data (about 1032:1);
// an entry that declares more cannot be genuine.
const maxDeflateRatio = 1032

// File is an open .npz archive: a zip file of .npy arrays, stored or
// deflated, as numpy.savez and numpy.savez_compressed write.
type File struct {
	path string
	f    *os.File
	zr   *zip.Reader
}

// Open opens the .npz archive at path. The error, a *Error, matches
// ErrFormat if the file is not a zip archive, or a file-system error such
// as fs.ErrNotExist. The caller must Close the File.
func Open(path string) (*File, error) {
	if _, err := regularfile.Check(path, true); err != nil {
		return nil, &Error{Path: path, Err: pathErr(err)}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{Path: path, Err: pathErr(err)}
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, &Error{Path: path, Err: pathErr(err)}
	}
	if st.IsDir() {
		f.Close()
		return nil, &Error{Path: path, Err: errkind.Errorf(ErrFormat, "a folder, not an .npz archive")}
	}
	zr, err := zip.NewReader(f, st.Size())
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		f.Close()
		return nil, &Error{Path: path, Err: &errkind.Error{
			Msg:  fmt.Sprintf("not a readable .npz (zip) archive: %v", err),
			Kind: ErrFormat, Cause: err,
		}}
	}
	return &File{path: path, f: f, zr: zr}, nil
}

// pathErr returns the error inside an *fs.PathError, whose path the
// caller states itself.
func pathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Keys returns the names of the entries, without the ".npy" suffix that
// numpy.savez adds, in archive order; these are the keys numpy.load gives.
// Folders (names ending in "/") are left out.
func (f *File) Keys() []string {
	var keys []string
	for _, zf := range f.zr.File {
		if !strings.HasSuffix(zf.Name, "/") {
			keys = append(keys, strings.TrimSuffix(zf.Name, ".npy"))
		}
	}
	return keys
}

// find returns the entry named key+".npy", or else key, or nil.
func (f *File) find(key string) *zip.File {
	for _, name := range []string{key + ".npy", key} {
		for _, zf := range f.zr.File {
			if zf.Name == name {
				return zf
			}
		}
	}
	return nil
}

// Has reports whether the archive has an entry named key+".npy" or key.
func (f *File) Has(key string) bool { return f.find(key) != nil }

// Read reads the array in the entry named key+".npy" or, if there is none,
// key, as ReadNPY does, and checks the entry's checksum. The error, a
// *Error naming the file and the entry, matches fs.ErrNotExist if there is
// no such entry, ErrFormat if the entry or the archive is malformed or
// corrupt, and ErrDType if the array holds values other than bool, integer
// or float.
func (f *File) Read(key string) (*Array, error) {
	a, err := f.read(key)
	if err != nil {
		return nil, &Error{Path: f.path, Entry: key, Err: err}
	}
	return a, nil
}

// Info returns the shape and dtype the entry named key+".npy" (or key)
// declares, reading its header only: nothing of the data is inflated or
// allocated. Errors are those of Read.
func (f *File) Info(key string) (shape []int, dtype string, err error) {
	zf, err := f.entry(key)
	if err == nil {
		var rc io.ReadCloser
		if rc, err = zf.Open(); err == nil {
			defer rc.Close()
			var h *header
			if h, _, err = readHeader(rc, int64(zf.UncompressedSize64)); err == nil {
				return h.shape, h.dt.name, nil
			}
		} else {
			err = &errkind.Error{Msg: err.Error(), Kind: ErrFormat, Cause: err}
		}
	}
	return nil, "", &Error{Path: f.path, Entry: key, Err: err}
}

// entry returns the zip entry of key, checked for a plausible size.
func (f *File) entry(key string) (*zip.File, error) {
	zf := f.find(key)
	if zf == nil {
		there := "it holds none"
		if keys := f.Keys(); len(keys) > 0 {
			q := make([]string, len(keys))
			for i, k := range keys {
				q[i] = fmt.Sprintf("%q", k)
			}
			there = "it holds " + strings.Join(q, ", ")
		}
		return nil, &errkind.Error{Msg: "no such entry (" + there + ")", Kind: fs.ErrNotExist}
	}
	size := zf.UncompressedSize64
	if size > math.MaxInt64 ||
		(zf.Method == zip.Store && size > zf.CompressedSize64) ||
		(zf.Method == zip.Deflate && size/maxDeflateRatio > zf.CompressedSize64+64) {
		return nil, errkind.Errorf(ErrFormat, "corrupt archive: %d compressed bytes cannot hold %d bytes", zf.CompressedSize64, size)
	}
	return zf, nil
}

func (f *File) read(key string) (*Array, error) {
	zf, err := f.entry(key)
	if err != nil {
		return nil, err
	}
	size := zf.UncompressedSize64
	rc, err := zf.Open()
	if err != nil {
		return nil, &errkind.Error{Msg: err.Error(), Kind: ErrFormat, Cause: err}
	}
	defer rc.Close()
	a, err := readNPY(rc, int64(size))
	if err != nil {
		return nil, err
	}
	// Read what is left (normally nothing) so that the archive checks the CRC.
	if _, err := io.Copy(io.Discard, io.LimitReader(rc, 1<<20)); err != nil {
		return nil, &errkind.Error{Msg: "corrupt data: " + err.Error(), Kind: ErrFormat, Cause: err}
	}
	return a, nil
}

// Close closes the archive.
func (f *File) Close() error {
	if err := f.f.Close(); err != nil {
		return &Error{Path: f.path, Err: pathErr(err)}
	}
	return nil
}

// ReadFile reads every entry of the .npz archive at path, by key (see
// File.Keys). Every entry must hold a .npy array. Errors are those of Open
// and File.Read.
func ReadFile(path string) (map[string]*Array, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := make(map[string]*Array)
	for _, k := range f.Keys() {
		if _, ok := m[k]; ok {
			continue
		}
		if m[k], err = f.Read(k); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Entry is one named array to write.
//
// Name is the key numpy.load gives the array; WriteFile stores it as
// Name+".npy", as numpy.savez does. It may contain '/', as in
// "x/conv1.weight".
type Entry struct {
	Name  string
	Array *Array
}

// modified is the time stamp of the entries WriteFile writes, so that the
// same arrays always give the same bytes.
var modified = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// WriteFile writes an uncompressed .npz (what np.savez writes) atomically:
// a temp file in the same folder, fsync, rename, fsync of the folder; so a
// reader never sees a half-written file and a crash leaves the old file
// intact.
//
// Each array is written as WriteNPY writes it. WriteFile checks every
// entry before it creates the temporary file: an entry without a name or
// whose name repeats another's, or an array WriteNPY would refuse, gives a
// *Error that names the entry and matches ErrValue or ErrDType, and leaves
// any file at path untouched. A file that replaces another keeps its
// permissions; a new one gets permissions 0644. On any failure the
// temporary file is removed.
func WriteFile(path string, entries []Entry) error {
	seen := make(map[string]bool, len(entries))
	for i, e := range entries {
		if e.Name == "" {
			return &Error{Path: path, Err: errkind.Errorf(ErrValue, "entry %d has no name", i)}
		}
		if seen[e.Name] {
			return &Error{Path: path, Entry: e.Name, Err: errkind.Errorf(ErrValue, "name given twice")}
		}
		seen[e.Name] = true
		if _, err := check(e.Array); err != nil {
			return &Error{Path: path, Entry: e.Name, Err: err}
		}
	}
	return WriteStream(path, func(add func(Entry) error) error {
		for _, e := range entries {
			if err := add(e); err != nil {
				return err
			}
		}
		return nil
	})
}

// WriteStream writes an .npz file as WriteFile does, with the entries
// handed to add one at a time by fill, so that arrays too large to hold
// together can be made, written and dropped one after the other. Each
// entry is checked when added; an error from add or fill leaves any file at
// path untouched and is returned (a *Error naming the entry for add's).
func WriteStream(path string, fill func(add func(Entry) error) error) error {
	var entry string
	err := atomicfile.Write(path, atomicfile.KeepPerm(path, 0o644), func(w io.Writer) error {
		cw := &countingWriter{w: w}
		zw := zip.NewWriter(cw)
		bw := bufio.NewWriterSize(nil, writeBuf)
		seen := map[string]bool{}
		add := func(e Entry) error {
			entry = e.Name
			switch {
			case e.Name == "":
				return errkind.Errorf(ErrValue, "entry %d has no name", len(seen))
			case seen[e.Name]:
				return errkind.Errorf(ErrValue, "name given twice")
			}
			seen[e.Name] = true
			dt, err := check(e.Array)
			if err != nil {
				return err
			}
			if err := writeEntry(zw, cw, bw, e, dt); err != nil {
				return err
			}
			entry = ""
			return nil
		}
		if err := fill(add); err != nil {
			return err
		}
		entry = ""
		return zw.Close()
	})
	if err != nil {
		var ne *Error
		if errors.As(err, &ne) {
			return err
		}
		return &Error{Path: path, Entry: entry, Err: err}
	}
	return nil
}

// alignment is where each entry's .npy data start in a file WriteFile
// writes: its .npy header is padded to a multiple of 64 bytes, as numpy's
// format asks, and a padding field in the zip entry's extra data puts the
// .npy itself at a multiple of 64, so that Map can hand out the values of
// a stored float32 array in place.
const alignment = 64

// Extra fields of a zip local header: the one CreateHeader appends for the
// modification time (ID, size, flags, time) and the padding field this
// package writes (ID 0xd935, the ID Android's zipalign uses, size, zeros).
const (
	timeExtraLen   = 9
	paddingExtraID = 0xd935
)

// alignExtra returns the extra data that put the data of an entry named
// name, whose local header starts at offset off, at a multiple of
// alignment.
func alignExtra(off int64, name string) []byte {
	const fixed = 30 // a local file header without name and extra data
	end := off + fixed + int64(len(name)) + 4 + timeExtraLen
	pad := (alignment - end%alignment) % alignment
	b := make([]byte, 4+pad)
	binary.LittleEndian.PutUint16(b, paddingExtraID)
	binary.LittleEndian.PutUint16(b[2:], uint16(pad))
	return b
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// writeEntry writes one checked entry of type dt to the zip writer zw,
// which writes to cw, through bw.
func writeEntry(zw *zip.Writer, cw *countingWriter, bw *bufio.Writer, e Entry, dt dtype) error {
	// Flushed, the count is where the entry's local header starts.
	if err := zw.Flush(); err != nil {
		return err
	}
	name := e.Name + ".npy"
	w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store, Modified: modified, Extra: alignExtra(cw.n, name)})
	if err != nil {
		return err
	}
	bw.Reset(w)
	if err := writeNPY(bw, e.Array, dt); err != nil {
		return err
	}
	return bw.Flush()
}
