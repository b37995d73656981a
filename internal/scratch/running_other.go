//go:build !unix

package scratch

// running reports every process as running where it cannot be asked: no
// file is then taken for stale.
func running(int) bool { return true }
