//go:build !unix

package npz

import (
	"errors"
	"os"
)

// mapFile is not available here: Map reads the arrays instead.
func mapFile(*os.File, int64) ([]byte, error) { return nil, errors.ErrUnsupported }

func unmapFile([]byte) error { return nil }

func releaseMapping([]byte) {}
