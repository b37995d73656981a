package sweep

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrLocked is returned (wrapped, in a *LockError) by Open when another
// process is computing the same shard into the same folder.
var ErrLocked = errors.New("sweep: output folder in use")

// LockError describes the process that holds a shard's lock.
type LockError struct {
	Path  string // the lock file
	PID   int
	Host  string
	Since time.Time
}

func (e *LockError) Error() string {
	return fmt.Sprintf("%v: %s is held by process %d on %s since %s; wait for that run, or remove the lock file if it is gone",
		ErrLocked, e.Path, e.PID, e.Host, e.Since.Format(time.RFC3339))
}

func (e *LockError) Unwrap() error { return ErrLocked }

// lockFile is the lock of the result file path: one per shard, so that the
// shards of one run, which share the folder, do not exclude each other.
func lockFile(path string) string { return path + ".lock" }

// acquire creates the lock file of path, holding this process's pid, host
// and start time. A lock left by a process that is gone (same host, no such
// pid) is stale and taken over, as restic does; a lock from another host
// is never presumed stale. The lock excludes other processes, not other
// Stores of this one.
func acquire(path string) (release func(), err error) {
	name := lockFile(path)
	host, _ := os.Hostname()
	body := fmt.Sprintf("%d\n%s\n%s\n", os.Getpid(), host, time.Now().UTC().Format(time.RFC3339))
	for try := 0; try < 3; try++ {
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			_, werr := f.WriteString(body)
			cerr := f.Close()
			if werr != nil || cerr != nil {
				os.Remove(name)
				return nil, fmt.Errorf("sweep: lock %s: %w", name, errors.Join(werr, cerr))
			}
			return func() { os.Remove(name) }, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("sweep: lock: %w", err)
		}
		held, err := readLock(name)
		if err != nil {
			// Unreadable or half-written (its writer died between create
			// and write): stale when old enough.
			if st, serr := os.Stat(name); serr == nil && time.Since(st.ModTime()) > time.Minute {
				os.Remove(name)
				continue
			}
			return nil, fmt.Errorf("sweep: lock %s: %w", name, err)
		}
		// A lock of this very process (a library caller that opens the
		// folder again without closing it) is taken over: the lock
		// excludes other processes.
		if held.Host == host && (held.PID == os.Getpid() || !alive(held.PID)) {
			os.Remove(name)
			continue
		}
		return nil, held
	}
	return nil, fmt.Errorf("sweep: lock %s: could not be taken", name)
}

func readLock(name string) (*LockError, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	f := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(f) != 3 {
		return nil, fmt.Errorf("malformed lock file")
	}
	pid, err := strconv.Atoi(f[0])
	if err != nil {
		return nil, fmt.Errorf("malformed lock file: %w", err)
	}
	since, _ := time.Parse(time.RFC3339, f[2])
	return &LockError{Path: name, PID: pid, Host: f[1], Since: since}, nil
}

// alive reports whether a process with that pid exists on this host.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
