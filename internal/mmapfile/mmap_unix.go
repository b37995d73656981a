//go:build unix

package mmapfile

import (
	"os"
	"syscall"
)

// Map maps size bytes of f. A private mapping is copy-on-write: writes go
// to copies of the pages, never to the file. A shared one writes to the
// file, and what it writes is what read(2) of the file gives at once.
func Map(f *os.File, size int64, shared bool) ([]byte, error) {
	if size <= 0 || int64(int(size)) != size {
		return nil, syscall.EINVAL
	}
	flags := syscall.MAP_PRIVATE
	if shared {
		flags = syscall.MAP_SHARED
	}
	return syscall.Mmap(int(f.Fd()), 0, int(size), syscall.PROT_READ|syscall.PROT_WRITE, flags)
}

// Unmap unmaps what Map mapped.
func Unmap(b []byte) error { return syscall.Munmap(b) }
