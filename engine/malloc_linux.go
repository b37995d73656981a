//go:build linux && cgo

package engine

/*
#include <malloc.h>

// fixMmapThreshold makes the C allocator serve every block of 1 MiB or more
// with its own mapping, returned to the system when freed. glibc otherwise
// raises that threshold each time such a block is freed, and the hundreds of
// megabytes of weights each ONNX Runtime session copies in then come from
// its heap, which it keeps: a sweep of a large model, one session per
// point, grew by a model's size every few points. Where the C library has
// no such setting (musl), nothing changes.
static void fixMmapThreshold(void) {
#ifdef M_MMAP_THRESHOLD
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
#endif
}
*/
import "C"

func tuneAllocator() { C.fixMmapThreshold() }
