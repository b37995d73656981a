package mmapfile

import (
	"syscall"
	"unsafe"
)

// Linux 5.14's madvise advice values that fault pages in ahead of use.
const (
	madvPopulateRead  = 22
	madvPopulateWrite = 23
)

// Populate faults the pages of b, part of a mapping, in at once, for
// reading or (write) for writing: one system call instead of one page fault
// per page, which for a tensor of hundreds of megabytes is most of the cost
// of touching it. Older kernels ignore it; the pages then fault in as used.
func Populate(b []byte, write bool) {
	if len(b) == 0 {
		return
	}
	advice := madvPopulateRead
	if write {
		advice = madvPopulateWrite
	}
	_ = syscall.Madvise(b, advice)
}

// PopulateValues is Populate for reading of the pages that hold v, which
// may lie in a mapping (directions, a model's external data) or anywhere
// else (where the pages are there already and nothing happens).
func PopulateValues(v []float32) {
	if len(v) == 0 {
		return
	}
	lo := uintptr(unsafe.Pointer(&v[0]))
	hi := lo + uintptr(len(v))*4
	page := uintptr(pageSize)
	lo = lo / page * page
	_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, lo, hi-lo, madvPopulateRead)
}
