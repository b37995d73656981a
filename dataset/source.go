package dataset

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// maxDeflateRatio bounds how much deflate can expand data (about 1032:1);
// an entry that declares more cannot be genuine.
const maxDeflateRatio = 1032

// source is an .npz archive or a folder of .npy files.
type source interface {
	// name names the entry for key in messages that start with the path.
	name(key string) string
	has(key string) bool
	// missing describes the absence of key.
	missing(key string) error
	// read reads the entry for key; errors say where.
	read(key string) (*array, error)
	Close() error
}

// openSource opens path as a folder or an .npz archive, telling them apart
// by content rather than by name.
func openSource(path string) (source, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, osError(path, err)
	}
	if st.IsDir() {
		return &dirSource{path: path}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, osError(path, err)
	}
	var magic [6]byte
	n, err := io.ReadFull(f, magic[:])
	f.Close()
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, osError(path, err)
	}
	switch {
	case strings.HasPrefix(string(magic[:n]), "PK"):
		zr, err := zip.OpenReader(path)
		if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
			return nil, &kindError{
				msg:  fmt.Sprintf("dataset: %s: not a readable .npz (zip) archive: %v", path, err),
				kind: ErrFormat, cause: err,
			}
		}
		return &zipSource{path: path, zr: zr}, nil
	case string(magic[:n]) == npyMagic:
		return nil, errorf(ErrFormat, "dataset: %s: a single .npy file holds one array; give an .npz archive or a folder holding both arrays (x.npy and y.npy)", path)
	}
	return nil, errorf(ErrFormat, "dataset: %s: not an .npz archive (zip) or a folder of .npy files", path)
}

// osError reports a file-system error as "dataset: path: reason", keeping
// what it matches (fs.ErrNotExist, ...).
func osError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("dataset: %s: %w", path, pe.Err)
	}
	return fmt.Errorf("dataset: %s: %w", path, err)
}

// missingError describes a missing entry with the entries that are there.
func missingError(path, what string, keys []string) error {
	var there string
	if len(keys) == 0 {
		there = "it holds none"
	} else {
		q := make([]string, len(keys))
		for i, k := range keys {
			q[i] = fmt.Sprintf("%q", k)
		}
		there = "it holds " + strings.Join(q, ", ")
	}
	return errorf(ErrMissingKey, "dataset: %s: no %s (%s; name the inputs and labels with --x and --y)", path, what, there)
}

type zipSource struct {
	path string
	zr   *zip.ReadCloser
}

func (z *zipSource) find(key string) *zip.File {
	for _, name := range []string{key + ".npy", key} {
		for _, f := range z.zr.File {
			if f.Name == name {
				return f
			}
		}
	}
	return nil
}

func (z *zipSource) name(key string) string { return fmt.Sprintf("entry %q", key) }

func (z *zipSource) has(key string) bool { return z.find(key) != nil }

func (z *zipSource) missing(key string) error {
	var keys []string
	for _, f := range z.zr.File {
		if !strings.HasSuffix(f.Name, "/") {
			keys = append(keys, strings.TrimSuffix(f.Name, ".npy"))
		}
	}
	return missingError(z.path, fmt.Sprintf("entry %q", key), keys)
}

func (z *zipSource) read(key string) (*array, error) {
	where := fmt.Sprintf("%s: entry %q", z.path, key)
	f := z.find(key)
	if f == nil {
		return nil, z.missing(key)
	}
	size := f.UncompressedSize64
	if size > math.MaxInt64 ||
		(f.Method == zip.Store && size > f.CompressedSize64) ||
		(f.Method == zip.Deflate && size/maxDeflateRatio > f.CompressedSize64+64) {
		return nil, within(where, errorf(ErrFormat,
			"corrupt archive: %d compressed bytes cannot hold %d bytes", f.CompressedSize64, size))
	}
	rc, err := f.Open()
	if err != nil {
		return nil, within(where, &kindError{msg: err.Error(), kind: ErrFormat, cause: err})
	}
	defer rc.Close()
	a, err := readNPY(rc, int64(size))
	if err != nil {
		return nil, within(where, err)
	}
	// Read what is left (normally nothing) so that the archive checks the CRC.
	if _, err := io.Copy(io.Discard, io.LimitReader(rc, 1<<20)); err != nil {
		return nil, within(where, &kindError{msg: "corrupt data: " + err.Error(), kind: ErrFormat, cause: err})
	}
	return a, nil
}

func (z *zipSource) Close() error { return z.zr.Close() }

type dirSource struct {
	path string
}

func (d *dirSource) file(key string) string {
	if strings.HasSuffix(key, ".npy") {
		return key
	}
	return key + ".npy"
}

func (d *dirSource) name(key string) string { return d.file(key) }

func (d *dirSource) has(key string) bool {
	st, err := os.Stat(filepath.Join(d.path, d.file(key)))
	return err == nil && !st.IsDir()
}

func (d *dirSource) missing(key string) error {
	var keys []string
	if des, err := os.ReadDir(d.path); err == nil {
		for _, de := range des {
			if k, ok := strings.CutSuffix(de.Name(), ".npy"); ok && !de.IsDir() {
				keys = append(keys, k)
			}
		}
	}
	slices.Sort(keys)
	return missingError(d.path, fmt.Sprintf("file %q", d.file(key)), keys)
}

func (d *dirSource) read(key string) (*array, error) {
	path := filepath.Join(d.path, d.file(key))
	f, err := os.Open(path)
	if err != nil {
		return nil, osError(path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, osError(path, err)
	}
	a, err := readNPY(f, st.Size())
	if err != nil {
		return nil, within(path, err)
	}
	return a, nil
}

func (d *dirSource) Close() error { return nil }
