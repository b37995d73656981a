package scratch

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Create makes an empty file in dir named .lsweep-KIND-HOST-PID-RANDOM.EXT
// and returns its path, after removing the files of that kind left there
// by processes of this host that have ended (Stale). The file is made
// with os.CreateTemp's private permissions.
func Create(dir, kind, ext string) (string, error) {
	for _, path := range Stale(dir, kind) {
		os.Remove(path)
	}
	f, err := os.CreateTemp(dir, prefix(kind)+strconv.Itoa(os.Getpid())+"-*."+ext)
	if err != nil {
		return "", err
	}
	path := f.Name()
	if err := f.Close(); err != nil {
		os.Remove(path)
		return "", err
	}
	return path, nil
}

// Stale returns the files of kind in dir that a process of this host made
// and that has ended: what a run killed with SIGKILL leaves behind.
func Stale(dir, kind string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var stale []string
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix(kind))
		if !ok || e.IsDir() {
			continue
		}
		pid, _, ok := strings.Cut(rest, "-")
		if n, err := strconv.Atoi(pid); ok && err == nil && n > 0 && !running(n) {
			stale = append(stale, filepath.Join(dir, e.Name()))
		}
	}
	return stale
}

// prefix is the start of the names of kind's files made on this host.
func prefix(kind string) string {
	return fmt.Sprintf(".lsweep-%s-%s-", kind, host())
}

// host returns this machine's name, made safe for a file name.
func host() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		h = "localhost"
	}
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '/' || r == os.PathSeparator || r < ' ' {
			return '_'
		}
		return r
	}, h)
}
