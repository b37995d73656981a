package errkind_test

import (
	"errors"
	"io/fs"
	"testing"

	"github.com/lsweep/lsweep/internal/errkind"
)

var errKind = errors.New("pkg: kind")

func TestError(t *testing.T) {
	err := errkind.Errorf(errKind, "entry %q: bad", "x")
	if err.Error() != `entry "x": bad` {
		t.Errorf("message %q", err)
	}
	if !errors.Is(err, errKind) || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%v matches errKind: %v, fs.ErrNotExist: %v", err, errors.Is(err, errKind), errors.Is(err, fs.ErrNotExist))
	}

	cause := &fs.PathError{Op: "open", Path: "p", Err: fs.ErrNotExist}
	err = &errkind.Error{Msg: "corrupt", Kind: errKind, Cause: cause}
	var pe *fs.PathError
	if err.Error() != "corrupt" || !errors.Is(err, errKind) || !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &pe) || pe != cause {
		t.Errorf("%v does not match its kind and its cause", err)
	}
}
