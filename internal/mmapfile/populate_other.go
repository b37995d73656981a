//go:build !linux

package mmapfile

// Populate does nothing where pages cannot be faulted in ahead: they fault
// in as used.
func Populate([]byte, bool) {}

// PopulateValues does nothing here (see Populate).
func PopulateValues([]float32) {}
