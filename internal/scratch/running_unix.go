//go:build unix

package scratch

import (
	"errors"
	"syscall"
)

// running reports whether process pid exists (signal 0 delivers nothing;
// a process of another user answers EPERM, which still means it runs).
func running(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
