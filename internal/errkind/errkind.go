package errkind

import "fmt"

// Error is an error whose message is Msg and that matches Kind and, if it
// is not nil, Cause with errors.Is and errors.As.
type Error struct {
	Msg   string
	Kind  error
	Cause error
}

// Error returns e.Msg.
func (e *Error) Error() string { return e.Msg }

// Unwrap returns Kind, and Cause if it is not nil.
func (e *Error) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Kind, e.Cause}
	}
	return []error{e.Kind}
}

// Errorf returns an *Error whose message is formatted as fmt.Sprintf does
// and that matches kind. The message does not include kind's.
func Errorf(kind error, format string, args ...any) error {
	return &Error{Msg: fmt.Sprintf(format, args...), Kind: kind}
}
