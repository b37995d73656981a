package engine

import (
	"regexp"
	"strings"
)

// ortSource matches the source location ONNX Runtime puts before its
// messages ("/onnxruntime_src/onnxruntime/core/graph/model_load_utils.h:46 ").
var ortSource = regexp.MustCompile(`/onnxruntime_src/\S+:\d+ `)

// ortError is an ONNX Runtime error with its C++ source location and
// function signature taken out, so that the reason comes first; the
// original stays reachable with errors.Unwrap.
type ortError struct {
	msg string
	err error
}

func (e *ortError) Error() string { return e.msg }
func (e *ortError) Unwrap() error { return e.err }

// cleanORT returns err with ONNX Runtime's source locations and C++
// signatures removed from its message.
func cleanORT(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	loc := ortSource.FindStringIndex(msg)
	if loc == nil {
		return err
	}
	rest := msg[loc[1]:]
	// A signature such as "void onnxruntime::f(const std::string&, int) "
	// follows: cut it at the parenthesis that closes its argument list.
	if i := strings.Index(rest, "("); i > 0 && strings.Contains(rest[:i], "::") {
		depth := 0
		for j := i; j < len(rest); j++ {
			switch rest[j] {
			case '(':
				depth++
			case ')':
				depth--
			}
			if depth == 0 {
				rest = strings.TrimLeft(rest[j+1:], " ")
				// "... const" qualifiers and the like.
				rest = strings.TrimPrefix(rest, "const ")
				break
			}
		}
	}
	prefix := strings.TrimSuffix(strings.TrimSpace(msg[:loc[0]]), ":")
	prefix = strings.TrimPrefix(prefix, "Error creating C session")
	clean := strings.TrimSpace(rest)
	if p := strings.TrimSpace(strings.TrimSuffix(prefix, ":")); p != "" {
		clean = p + ": " + clean
	}
	return &ortError{msg: clean, err: err}
}
