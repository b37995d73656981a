//go:build !unix

package mmapfile

import (
	"errors"
	"os"
)

// Map is not available here.
func Map(*os.File, int64, bool) ([]byte, error) { return nil, errors.ErrUnsupported }

// Unmap has nothing to unmap.
func Unmap([]byte) error { return nil }
