package mmapfile

import "syscall"

// Release lets the system drop the pages of b, part of a mapping, from the
// process's memory: a private mapping's are read again from the file when
// next used (and what was written to them is lost), a shared one's stay in
// the file.
func Release(b []byte) {
	if len(b) > 0 {
		_ = syscall.Madvise(b, syscall.MADV_DONTNEED)
	}
}
