package dataset

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/lsweep/lsweep/internal/regularfile"

	"github.com/lsweep/lsweep/internal/errkind"
	"github.com/lsweep/lsweep/npz"
)

// npyMagic starts every .npy file.
const npyMagic = "\x93NUMPY"

// source is an .npz archive or a folder of .npy files.
type source interface {
	// name names the entry for key in messages that start with the path.
	name(key string) string
	has(key string) bool
	// missing describes the absence of key.
	missing(key string) error
	// read reads the entry for key; errors say where.
	read(key string) (*npz.Array, error)
	// info returns the shape the entry for key declares, reading its
	// header only.
	info(key string) ([]int, error)
	Close() error
}

// openSource opens path as a folder or an .npz archive, telling them apart
// by content rather than by name.
func openSource(path string) (source, error) {
	st, err := regularfile.Check(path, true)
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
		zf, err := npz.Open(path)
		if err != nil {
			return nil, within(path, err)
		}
		return &zipSource{path: path, zf: zf}, nil
	case string(magic[:n]) == npyMagic:
		return nil, errkind.Errorf(ErrFormat, "dataset: %s: a single .npy file holds one array; give an .npz archive or a folder holding both arrays (x.npy and y.npy)", path)
	}
	return nil, errkind.Errorf(ErrFormat, "dataset: %s: not an .npz archive (zip) or a folder of .npy files", path)
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
	return errkind.Errorf(ErrMissingKey, "dataset: %s: no %s (%s; name the inputs and labels with --x-key and --y-key, or --input NAME=ENTRY)", path, what, there)
}

type zipSource struct {
	path string
	zf   *npz.File
}

func (z *zipSource) name(key string) string { return fmt.Sprintf("entry %q", key) }

func (z *zipSource) has(key string) bool { return z.zf.Has(key) }

func (z *zipSource) missing(key string) error {
	return missingError(z.path, fmt.Sprintf("entry %q", key), z.zf.Keys())
}

func (z *zipSource) read(key string) (*npz.Array, error) {
	if !z.zf.Has(key) {
		return nil, z.missing(key)
	}
	a, err := z.zf.Read(key)
	if err != nil {
		return nil, within(fmt.Sprintf("%s: entry %q", z.path, key), err)
	}
	return a, nil
}

func (z *zipSource) info(key string) ([]int, error) {
	if !z.zf.Has(key) {
		return nil, z.missing(key)
	}
	shape, _, err := z.zf.Info(key)
	if err != nil {
		return nil, within(fmt.Sprintf("%s: entry %q", z.path, key), err)
	}
	return shape, nil
}

func (z *zipSource) Close() error { return z.zf.Close() }

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

func (d *dirSource) read(key string) (*npz.Array, error) {
	var a *npz.Array
	err := d.open(key, func(f *os.File, size int64) (err error) {
		a, err = npz.ReadNPY(f, size)
		return err
	})
	return a, err
}

func (d *dirSource) info(key string) ([]int, error) {
	var shape []int
	err := d.open(key, func(f *os.File, size int64) (err error) {
		shape, _, err = npz.ReadNPYInfo(f, size)
		return err
	})
	return shape, err
}

// open opens the .npy file of key and hands it, with its size, to read;
// errors say where.
func (d *dirSource) open(key string, read func(f *os.File, size int64) error) error {
	path := filepath.Join(d.path, d.file(key))
	f, err := regularfile.Open(path)
	if err != nil {
		return osError(path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return osError(path, err)
	}
	if err := read(f, st.Size()); err != nil {
		return within(path, err)
	}
	return nil
}

func (d *dirSource) Close() error { return nil }
