package atomicfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
)

// tempSuffix ends the name of every temporary file; the name starts with
// "." and the target's base name, and a random number comes between.
const tempSuffix = ".tmp"

// tempPrefix returns the start of the names of path's temporary files.
func tempPrefix(path string) string { return "." + filepath.Base(path) + "." }

// WriteFile writes data to the file at path, replacing any file there as a
// whole, with permissions perm. Errors are those of the os package, which
// name the file at fault (the temporary file, where it was).
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	return Write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Write is WriteFile with the contents written by fill, to the temporary
// file itself (unbuffered). An error from fill is returned unchanged, and
// nothing is renamed.
func Write(path string, perm fs.FileMode, fill func(w io.Writer) error) error {
	return write(path, perm, fill, true)
}

// WriteNew writes data to a new file at path, with permissions perm, as
// WriteFile does, unless there is a file at path: then it writes nothing
// and its error matches fs.ErrExist. Of several processes that call
// WriteNew with the same path at once, one writes the file and the others
// get fs.ErrExist, wherever the file system supports hard links; where it
// does not, a file that appears between the check and the rename is
// replaced.
func WriteNew(path string, data []byte, perm fs.FileMode) error {
	return write(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}, false)
}

// KeepPerm returns the permission bits of the regular file at path, so
// that a write that replaces it keeps them, or perm if there is none.
func KeepPerm(path string, perm fs.FileMode) fs.FileMode {
	if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() {
		return st.Mode().Perm()
	}
	return perm
}

// RemoveTemps removes the temporary files that writes of path left in its
// folder when they were killed. It must not run while another write of
// path is under way, whose temporary file it would remove. It removes
// what it can and returns the first error, if any.
func RemoveTemps(path string) error {
	dir, prefix := filepath.Dir(path), tempPrefix(path)
	des, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var first error
	for _, de := range des {
		name := de.Name()
		if len(name) < len(prefix)+len(tempSuffix) || !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, tempSuffix) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) && first == nil {
			first = err
		}
	}
	return first
}

// write writes a temporary file with fill and renames it onto path, or,
// unless replace, links it to path.
func write(path string, perm fs.FileMode, fill func(w io.Writer) error, replace bool) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, tempPrefix(path)+"*"+tempSuffix)
	if err != nil {
		return err
	}
	closed := false
	defer func() {
		if !closed {
			tmp.Close()
		}
		// After a rename there is nothing left to remove; after a link the
		// temporary name goes, the file stays.
		if err != nil || !replace {
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(perm); err != nil && runtime.GOOS != "windows" {
		return err
	}
	if err := fill(tmp); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	closed = true
	if err := tmp.Close(); err != nil {
		return err
	}
	if replace {
		err = os.Rename(tmp.Name(), path)
	} else {
		err = link(tmp.Name(), path)
	}
	if err != nil {
		return err
	}
	return syncDir(dir)
}

// link links tmp to path, failing with an error that matches fs.ErrExist
// if there is a file at path; where hard links are not supported it
// renames tmp instead, if there is none.
func link(tmp, path string) error {
	err := os.Link(tmp, path)
	if err == nil {
		return nil
	}
	if errors.Is(err, fs.ErrExist) {
		return &fs.PathError{Op: "create", Path: path, Err: fs.ErrExist}
	}
	if _, serr := os.Lstat(path); serr == nil {
		return &fs.PathError{Op: "create", Path: path, Err: fs.ErrExist}
	}
	return os.Rename(tmp, path)
}

// syncDir flushes the folder dir, so that a rename in it is durable. It
// does nothing where folders cannot be synced.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, errors.ErrUnsupported) {
		err = nil
	}
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
