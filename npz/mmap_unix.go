//go:build unix

package npz

import (
	"os"
	"syscall"
)

// mapFile maps size bytes of f, private and writable: writes go to copies
// of the pages, never to the file.
func mapFile(f *os.File, size int64) ([]byte, error) {
	if int64(int(size)) != size {
		return nil, syscall.EFBIG
	}
	return syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE)
}

func unmapFile(b []byte) error { return syscall.Munmap(b) }

func releaseMapping(b []byte) { _ = syscall.Madvise(b, syscall.MADV_DONTNEED) }
