// Package regularfile opens input files only when they are regular files
// (symbolic links followed): opening a FIFO blocks until a writer comes,
// which no signal interrupts, and a device or socket is no model or
// dataset.
package regularfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ErrNotRegular is returned (wrapped) for a path that exists but is not a
// regular file.
var ErrNotRegular = errors.New("not a regular file")

// Check returns the file information of path, following symbolic links, or
// an error wrapping ErrNotRegular when it is not a regular file. A folder is
// an error too unless dirOK.
func Check(path string, dirOK bool) (fs.FileInfo, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Mode().IsRegular() || dirOK && st.IsDir() {
		return st, nil
	}
	return nil, &fs.PathError{Op: "open", Path: path, Err: fmt.Errorf("%w (%v)", ErrNotRegular, kind(st.Mode()))}
}

// Open opens path for reading after Check.
func Open(path string) (*os.File, error) {
	if _, err := Check(path, false); err != nil {
		return nil, err
	}
	return os.Open(path)
}

// ReadFile reads the whole of path after Check.
func ReadFile(path string) ([]byte, error) {
	if _, err := Check(path, false); err != nil {
		return nil, err
	}
	return os.ReadFile(path)
}

func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return m.Type().String()
}
