package normalize

import (
	"fmt"
	"strconv"
	"strings"
)

// maxListed is how many tensors an error names in each list before it
// gives a count of the rest.
const maxListed = 3

// MismatchError reports that two sets of tensors that should match do
// not: those of two models (Difference) or those of a model and of a
// direction file (Load).
type MismatchError struct {
	Op     string          // what was being done: "difference", or "load" and the file's path
	A, B   string          // what the two sides are: "from" and "to", or "the model" and "the file"
	OnlyA  []string        // tensors that A has and B lacks
	OnlyB  []string        // tensors that B has and A lacks
	Shapes []ShapeMismatch // tensors whose shapes differ
}

// ShapeMismatch is a tensor whose shape differs between the two sides of a
// MismatchError.
type ShapeMismatch struct {
	Name string
	A, B []int64 // the shape in A and in B
}

func (e *MismatchError) any() bool {
	return len(e.OnlyA) > 0 || len(e.OnlyB) > 0 || len(e.Shapes) > 0
}

// Error returns a message that names the first few tensors of each kind
// of mismatch and counts the rest, e.g.
//
//	normalize: difference: from and to differ: in from only: "a", "b"; shapes differ: "c" [2 3] in from, [3 2] in to
func (e *MismatchError) Error() string {
	var parts []string
	if len(e.OnlyA) > 0 {
		parts = append(parts, "in "+e.A+" only: "+list(e.OnlyA, strconv.Quote))
	}
	if len(e.OnlyB) > 0 {
		parts = append(parts, "in "+e.B+" only: "+list(e.OnlyB, strconv.Quote))
	}
	if len(e.Shapes) > 0 {
		parts = append(parts, "shapes differ: "+list(e.Shapes, func(s ShapeMismatch) string {
			return fmt.Sprintf("%q %v in %s, %v in %s", s.Name, s.A, e.A, s.B, e.B)
		}))
	}
	return "normalize: " + e.Op + ": " + e.A + " and " + e.B + " differ: " + strings.Join(parts, "; ")
}

// list formats the first maxListed items and counts the rest.
func list[T any](items []T, format func(T) string) string {
	n := min(len(items), maxListed)
	s := make([]string, n)
	for i := range n {
		s[i] = format(items[i])
	}
	out := strings.Join(s, ", ")
	if len(items) > n {
		out += fmt.Sprintf(" and %d more", len(items)-n)
	}
	return out
}
