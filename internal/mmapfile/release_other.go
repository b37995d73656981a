//go:build !linux

package mmapfile

// Release does nothing here: the pages stay until the system needs them.
func Release([]byte) {}
