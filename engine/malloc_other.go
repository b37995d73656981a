//go:build !(linux && cgo)

package engine

// tuneAllocator has nothing to tune where the C allocator is not glibc's.
func tuneAllocator() {}
