// Package mmapfile maps files into memory, for the arrays of hundreds of
// megabytes that a large model's directions and weights are: mapped, they
// are held by the page cache rather than by the process, shared between
// processes that map the same file, and dropped by the system when memory
// is short. Where the system cannot map files, Map returns
// errors.ErrUnsupported and callers read the file instead.
package mmapfile

// PageRange returns the bounds of the whole pages of a mapping of length n
// that hold bytes lo to hi.
func PageRange(lo, hi, n int) (int, int) {
	page := pageSize
	return lo / page * page, min(n, (hi+page-1)/page*page)
}
